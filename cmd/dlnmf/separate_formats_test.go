package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// writeAudio writes x to path in format f with encoding enc.
func writeAudio(t *testing.T, path string, x []float64, rate int, f wav.Format, enc wav.Encoding) {
	t.Helper()
	w, err := wav.CreateFormat(path, f, rate, enc, len(x))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(x); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSeparateKeepsFormatAndBand: a 48 kHz float WAV gives 48 kHz float
// estimates that add up to it (at least 100 dB below it); a 24-bit FLAC
// with --format flac gives 24-bit FLAC; a 16-bit WAV gives 16-bit WAV.
func TestSeparateKeepsFormatAndBand(t *testing.T) {
	model := testModel(t)
	in, out := t.TempDir(), t.TempDir()
	x := synthMixture(t, filepath.Join(in, "tmp.wav"), 0.8, 48000, 700)
	for i := range x {
		x[i] *= 0.9
	}
	writeAudio(t, filepath.Join(in, "float48.wav"), x, 48000, wav.WAV, wav.Float32)
	writeAudio(t, filepath.Join(in, "deep.flac"), x, 44100, wav.FLAC, wav.PCM24)
	_, stderr, code := runCmd(t, "separate", "-m", model, "-o", out, "--iters", "10", "--jobs", "1", "--quiet",
		filepath.Join(in, "float48.wav"), filepath.Join(in, "tmp.wav"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, stderr, code = runCmd(t, "separate", "-m", model, "-o", out, "--iters", "10", "--quiet", "--format", "flac", filepath.Join(in, "deep.flac"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := []string{"deep.high.flac", "deep.low.flac", "float48.high.wav", "float48.low.wav", "tmp.high.wav", "tmp.low.wav"}
	if got := dirFiles(t, out); !reflect.DeepEqual(got, want) {
		t.Fatalf("outputs %v, want %v", got, want)
	}
	for _, tc := range []struct {
		name, ext string
		rate      int
		enc       wav.Encoding
		minDB     float64
	}{{"float48", ".wav", 48000, wav.Float32, 100}, {"deep", ".flac", 44100, wav.PCM24, 90}, {"tmp", ".wav", 48000, wav.PCM16, 60}} {
		mix, err := wav.ReadFile(filepath.Join(in, tc.name+tc.ext))
		if err != nil {
			t.Fatal(err)
		}
		sum := make([]float64, mix.Len())
		for _, sp := range []string{"low", "high"} {
			a, err := wav.ReadFile(filepath.Join(out, tc.name+"."+sp+tc.ext))
			if err != nil {
				t.Fatal(err)
			}
			if a.Rate != tc.rate || a.Encoding != tc.enc || a.Len() != mix.Len() {
				t.Fatalf("%s.%s: %d Hz, %v, %d samples; want %d Hz, %v, %d", tc.name, sp, a.Rate, a.Encoding, a.Len(), tc.rate, tc.enc, mix.Len())
			}
			for i, v := range a.Channels[0] {
				sum[i] += v
			}
		}
		var e, d float64
		for i, v := range mix.Channels[0] {
			e += v * v
			d += (sum[i] - v) * (sum[i] - v)
		}
		// The residual is the outputs' rounding: float32, 24 and 16 bits.
		if r := 10 * math.Log10(e/d); r < tc.minDB {
			t.Errorf("%s: the estimates add up to the mixture %.1f dB below it, want %.0f", tc.name, r, tc.minDB)
		}
	}
}

// TestSeparateStdinStdout pipes a mixture through "-" and --stdout: the
// stream is the WAV file -o writes for that speaker.
func TestSeparateStdinStdout(t *testing.T) {
	model := testModel(t)
	in, out := t.TempDir(), t.TempDir()
	mixPath := filepath.Join(in, "mix.wav")
	synthMixture(t, mixPath, 0.6, 16000, 800)
	_, stderr, code := runCmd(t, "separate", "-m", model, "-o", out, "--iters", "10", "--quiet", mixPath)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var o, e bytes.Buffer
	env := &environment{stdin: bytes.NewReader(mustRead(t, mixPath)), stdout: &o, stderr: &e}
	if code := runMain(context.Background(), env, []string{"separate", "-m", model, "--stdout", "low", "--iters", "10", "--quiet", "-"}); code != exitOK {
		t.Fatalf("exit %d: %s", code, e.String())
	}
	if want := mustRead(t, filepath.Join(out, "mix.low.wav")); !bytes.Equal(o.Bytes(), want) {
		t.Errorf("standard output holds %d bytes, differing from mix.low.wav's %d", o.Len(), len(want))
	}

	_, stderr, code = runCmd(t, "separate", "-m", model, "--stdout", "nobody", mixPath)
	wantFailure(t, stderr, code, exitFailure, "no such source", "low", "high")
	_, stderr, code = runCmd(t, "separate", "-m", model, "--stdout", "low", mixPath, mixPath)
	wantFailure(t, stderr, code, exitUsage, "one input")
	_, stderr, code = runCmd(t, "separate", "-m", model, "-o", out, "--format", "flac", "--encoding", "float32", mixPath)
	wantFailure(t, stderr, code, exitUsage, "flac")
}

// TestSeparateBadAudio: a truncated or corrupt FLAC, an MP3, a mixture far
// below the model's rate: one line each, exit 1, nothing written.
func TestSeparateBadAudio(t *testing.T) {
	model := testModel(t)
	in, out := t.TempDir(), t.TempDir()
	x := synthMixture(t, filepath.Join(in, "src.wav"), 0.5, 16000, 900)
	writeAudio(t, filepath.Join(in, "good.flac"), x, 16000, wav.FLAC, wav.PCM16)
	good := mustRead(t, filepath.Join(in, "good.flac"))
	os.WriteFile(filepath.Join(in, "cut.flac"), good[:len(good)*2/3], 0o644)
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)/2] ^= 0x55
	os.WriteFile(filepath.Join(in, "corrupt.flac"), corrupt, 0o644)
	os.WriteFile(filepath.Join(in, "song.mp3"), append([]byte{0xFF, 0xFB, 0x90, 0x00}, make([]byte, 400)...), 0o644)
	writeWAV(t, filepath.Join(in, "low-rate.wav"), x[:4000], 4000)
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"cut.flac", []string{"truncated FLAC"}},
		{"corrupt.flac", []string{"corrupt FLAC"}},
		{"song.mp3", []string{"MP3", "ffmpeg -i"}},
		{"low-rate.wav", []string{"4000 Hz", "below half the model's 16000 Hz", "--rate 4000"}},
	} {
		_, stderr, code := runCmd(t, "separate", "-m", model, "-o", out, "--iters", "5", "--quiet", filepath.Join(in, tc.file))
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != exitFailure || len(lines) != 2 {
			t.Errorf("%s: exit %d, stderr:\n%s", tc.file, code, stderr)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(lines[0], w) {
				t.Errorf("%s: %q lacks %q", tc.file, lines[0], w)
			}
		}
		checkNoPanic(t, stderr)
	}
	if got := dirFiles(t, out); len(got) != 0 {
		t.Errorf("bad inputs left %v", got)
	}
}

// TestTrainRate trains at 48 kHz and 8 kHz (64 ms / 16 ms at each rate): a
// model separates at its own rate, full band above it, and refuses a
// mixture below half of it with one line.
func TestTrainRate(t *testing.T) {
	root, out := t.TempDir(), t.TempDir()
	low, high := synthSpeakers(t, root, 3, 1)
	for _, tc := range []struct {
		rate       int
		fft, hop   int
		mixRate    int
		refuseRate int
	}{{48000, 3072, 768, 48000, 8000}, {8000, 512, 128, 44100, 2000}} {
		model := filepath.Join(out, fmt.Sprintf("m%d.npz", tc.rate))
		args := append(trainArgs("nmf", model, low, high), "--rate", fmt.Sprint(tc.rate), "--k", "4", "--iters", "20")
		if _, stderr, code := runCmd(t, args...); code != exitOK {
			t.Fatalf("train --rate %d: exit %d: %s", tc.rate, code, stderr)
		}
		m, err := separation.ReadFile(model)
		if err != nil {
			t.Fatal(err)
		}
		if m.SampleRate != tc.rate || m.STFT.FFTSize != tc.fft || m.STFT.WindowSize != tc.fft || m.STFT.Hop != tc.hop {
			t.Errorf("--rate %d: model at %d Hz with %+v", tc.rate, m.SampleRate, m.STFT)
		}
		mix := filepath.Join(root, fmt.Sprintf("mix%d.wav", tc.mixRate))
		x := synthMixture(t, mix, 0.5, tc.mixRate, 5)
		sepOut := filepath.Join(out, fmt.Sprint(tc.rate))
		if _, stderr, code := runCmd(t, "separate", "-m", model, "-o", sepOut, "--iters", "10", "--quiet", mix); code != exitOK {
			t.Fatalf("separate with the %d Hz model: exit %d: %s", tc.rate, code, stderr)
		}
		a, err := wav.ReadFile(filepath.Join(sepOut, fmt.Sprintf("mix%d.low.wav", tc.mixRate)))
		if err != nil {
			t.Fatal(err)
		}
		if a.Rate != tc.mixRate || a.Len() != len(x) {
			t.Errorf("%d Hz model: estimate at %d Hz, %d samples; want %d, %d", tc.rate, a.Rate, a.Len(), tc.mixRate, len(x))
		}
		bad := filepath.Join(root, fmt.Sprintf("bad%d.wav", tc.refuseRate))
		synthMixture(t, bad, 0.5, tc.refuseRate, 6)
		_, stderr, code := runCmd(t, "separate", "-m", model, "-o", sepOut, "--quiet", bad)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != exitFailure || len(lines) != 2 || !strings.Contains(lines[0], fmt.Sprintf("train a model at its rate (dlnmf train --rate %d)", tc.refuseRate)) {
			t.Errorf("a %d Hz mixture, %d Hz model: exit %d, stderr:\n%s", tc.refuseRate, tc.rate, code, stderr)
		}
		if _, err := os.Stat(filepath.Join(sepOut, fmt.Sprintf("bad%d.low.wav", tc.refuseRate))); err == nil {
			t.Error("a refused mixture left an output")
		}
	}
}

// TestSeparateReportsClipping: a float mixture four times full scale,
// written as 16-bit PCM, clips: it is reported even with --quiet, and every
// sample is the float output's, clamped to full scale, never wrapped.
func TestSeparateReportsClipping(t *testing.T) {
	model := testModel(t)
	in, out, outF := t.TempDir(), t.TempDir(), t.TempDir()
	x := synthMixture(t, filepath.Join(in, "src.wav"), 0.5, 16000, 3)
	peak := 0.0
	for _, v := range x {
		peak = math.Max(peak, math.Abs(v))
	}
	for i := range x {
		x[i] *= 4 / peak
	}
	loud := filepath.Join(in, "loud.wav")
	writeAudio(t, loud, x, 16000, wav.WAV, wav.Float32)
	_, stderr, code := runCmd(t, "separate", "-m", model, "-o", out, "--iters", "20", "--jobs", "1", "--quiet", "--encoding", "pcm16", loud)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "beyond full scale clipped") {
		t.Errorf("clipping not reported: stderr %q", stderr)
	}
	if _, stderr, code := runCmd(t, "separate", "-m", model, "-o", outF, "--iters", "20", "--jobs", "1", "--quiet", loud); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	clipped := 0
	for _, sp := range []string{"low", "high"} {
		a, err := wav.ReadFile(filepath.Join(out, "loud."+sp+".wav"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := wav.ReadFile(filepath.Join(outF, "loud."+sp+".wav"))
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range a.Channels[0] {
			want := math.Max(-1, math.Min(1, f.Channels[0][i]))
			if math.Abs(v-want) > 1.0/(1<<15) {
				t.Fatalf("%s sample %d: %v in 16-bit, %v in float", sp, i, v, f.Channels[0][i])
			}
			if math.Abs(f.Channels[0][i]) > 1 {
				clipped++
			}
		}
	}
	if clipped == 0 {
		t.Error("no estimate went beyond full scale")
	}
}
