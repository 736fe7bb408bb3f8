package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/wav"
)

func runSpectrogramForTest(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	env := &environment{stdout: &o, stderr: &e}
	code = runMain(context.Background(), env, args)
	return o.String(), e.String(), code
}

func TestSpectrogramCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "chirp.wav")
	x := make([]float64, 24000)
	for i := range x {
		t := float64(i) / 16000
		x[i] = 0.5 * math.Sin(2*math.Pi*(200+1500*t)*t)
	}
	if _, err := wav.WriteFile(in, x, 16000, wav.PCM16); err != nil {
		t.Fatal(err)
	}
	outPNG := filepath.Join(dir, "chirp.png")
	// Flags after the input, as people type them.
	stdout, stderr, code := runSpectrogramForTest("spectrogram", in, "-o", outPNG, "--title", "A chirp")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "1.50 s at 16000 Hz drawn to "+outPNG) {
		t.Errorf("stdout %q", stdout)
	}
	img := readPNG(t, outPNG)
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 200 {
		t.Errorf("picture is %v", b)
	}

	stdout, _, code = runSpectrogramForTest("spectrogram", "--quiet", "-o", filepath.Join(dir, "q.png"), in)
	if code != exitOK || stdout != "" {
		t.Errorf("--quiet: exit %d, stdout %q", code, stdout)
	}
}

func TestSpectrogramCommandErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.wav")
	os.WriteFile(text, []byte("not audio\n"), 0o644)
	empty := filepath.Join(dir, "empty.wav")
	if _, err := wav.WriteFile(empty, nil, 16000, wav.PCM16); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.wav")
	if _, err := wav.WriteFile(good, make([]float64, 4000), 16000, wav.PCM16); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.png")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-o", out}, exitUsage, "give the WAV or FLAC file"},
		{[]string{good}, exitUsage, "-o OUT.png"},
		{[]string{good, good, "-o", out}, exitUsage, "one WAV or FLAC file, not 2"},
		{[]string{"--bogus", good}, exitUsage, "bogus"},
		{[]string{good, "-o", out, "--range", "-20"}, exitUsage, "want LO,HI in dBFS"},
		{[]string{good, "-o", out, "--range", "-20,-100"}, exitUsage, "want LO below HI"},
		{[]string{good, "-o", out, "--range", "0,0"}, exitUsage, "want LO below HI"},
		{[]string{good, "-o", out, "--range", "-100,NaN"}, exitUsage, "want LO below HI"},
		{[]string{good, "-o", out, "--range", "-1000,0"}, exitUsage, "1 to 400 dB apart"},
		{[]string{filepath.Join(dir, "missing.wav"), "-o", out}, exitFailure, "missing.wav"},
		{[]string{text, "-o", out}, exitFailure, text},
		{[]string{empty, "-o", out}, exitFailure, empty},
		// A missing folder is created (TestOutputFolderCreated); a file
		// standing in the way of one is an error.
		{[]string{good, "-o", filepath.Join(good, "dir", "x.png")}, exitFailure, "x.png"},
	} {
		_, stderr, code := runSpectrogramForTest(append([]string{"spectrogram"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line with %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s behind", out)
	}
	stdout, _, code := runSpectrogramForTest("spectrogram", "-h")
	if code != exitOK || !strings.Contains(stdout, "Examples:") {
		t.Errorf("-h: exit %d, stdout %q", code, stdout)
	}
}

// Two pictures drawn with one --range share a colour scale: a signal 20 dB
// quieter is drawn darker on the same bar. With the automatic scale the
// bar follows each signal's loudest part: the two bars differ.
func TestSpectrogramRange(t *testing.T) {
	dir := t.TempDir()
	x := synthVoice([]float64{150, 220}, 1, 16000, 3)
	quiet := make([]float64, len(x))
	for i, v := range x {
		quiet[i] = v / 10
	}
	loud, soft := filepath.Join(dir, "loud.wav"), filepath.Join(dir, "soft.wav")
	writeAudio(t, loud, x, 16000, wav.WAV, wav.Float32)
	writeAudio(t, soft, quiet, 16000, wav.WAV, wav.Float32)
	draw := func(in string, args ...string) image.Image {
		out := filepath.Join(dir, fmt.Sprintf("%d.png", len(dirFiles(t, dir))))
		if _, stderr, code := runSpectrogramForTest(append([]string{"spectrogram", in, "-o", out, "--title", "x", "--quiet"}, args...)...); code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		return readPNG(t, out)
	}
	// The data area is the left 85% of the picture, the bar and its labels
	// the right 12%.
	same := func(a, b image.Image, x0, x1 float64) bool {
		r := a.Bounds()
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X + int(x0*float64(r.Dx())); x < r.Min.X+int(x1*float64(r.Dx())); x++ {
				if a.At(x, y) != b.At(x, y) {
					return false
				}
			}
		}
		return true
	}
	autoLoud, autoSoft := draw(loud), draw(soft)
	if same(autoLoud, autoSoft, 0.88, 1) {
		t.Error("automatic levels: the bars should differ")
	}
	fixedLoud, fixedSoft := draw(loud, "--range", "-100,-10"), draw(soft, "--range", "-100,-10")
	if same(fixedLoud, fixedSoft, 0.15, 0.8) || !same(fixedLoud, fixedSoft, 0.88, 1) {
		t.Error("--range: the cells should differ and the bars be the same")
	}
}

// readPNG decodes the PNG picture at path.
func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}
