package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/wav"
)

// liveStream encodes x as a live WAV stream: its header's sizes are the
// placeholders a recorder writes when it does not know the length.
func liveStream(t *testing.T, x []float64, rate int) []byte {
	t.Helper()
	var b bytes.Buffer
	sw, err := wav.NewStreamWriter(&b, rate, wav.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Write(x); err != nil {
		t.Fatal(err)
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// belowDB returns how far below want the difference got - want lies, in dB.
func belowDB(got, want []float64) float64 {
	var e, p float64
	for i := range want {
		d := got[i] - want[i]
		e += d * d
		p += want[i] * want[i]
	}
	if e == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(p/e)
}

func readSamples(t *testing.T, path string) []float64 {
	t.Helper()
	a, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return a.Mono()
}

// TestSeparateLiveEqualsOffline: a live stream on standard input gives the
// estimates of dlnmf separate on the same file (a fixed number of
// iterations: the same frames, inferred in the batches that arrive
// together rather than 63 at a time, so to float32 rounding, which 15
// iterations of a two-layer model bring to about 85 dB), in files whose
// headers are complete, and --stdout gives the same samples as a WAV
// stream; at 16 kHz (the model's rate) and at 48 kHz (full band, as
// separate does with the file).
func TestSeparateLiveEqualsOffline(t *testing.T) {
	model := testModel(t)
	for _, rate := range []int{16000, 48000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) { liveEqualsOffline(t, model, rate) })
	}
}

func liveEqualsOffline(t *testing.T, model string, rate int) {
	in, off, live := t.TempDir(), t.TempDir(), t.TempDir()
	mix := filepath.Join(in, "mix.wav")
	x := synthMixture(t, mix, 1, rate, 300)
	common := []string{"-m", model, "--iters", "15", "--tol", "-1", "--float", "--quiet"}
	if _, stderr, code := runCmd(t, append([]string{"separate", "-o", off, mix}, common...)...); code != exitOK {
		t.Fatalf("offline: exit %d: %s", code, stderr)
	}
	var o, e bytes.Buffer
	env := &environment{stdin: bytes.NewReader(liveStream(t, x, rate)), stdout: &o, stderr: &e}
	if code := runMain(context.Background(), env, append([]string{"separate", "--live", "-o", live, "-"}, common...)); code != exitOK {
		t.Fatalf("live: exit %d: %s", code, e.String())
	}
	for _, s := range []string{"low", "high"} {
		want := readSamples(t, filepath.Join(off, "mix."+s+".wav"))
		got := readSamples(t, filepath.Join(live, "live."+s+".wav"))
		if len(got) != len(want) || len(got) != len(x) {
			t.Fatalf("%s: %d samples live, %d offline, %d in the mixture", s, len(got), len(want), len(x))
		}
		d := belowDB(got, want)
		t.Logf("%d Hz, %s: live - offline is %.1f dB below offline", rate, s, d)
		if d < 70 {
			t.Errorf("%s: live differs from offline %.1f dB below it, want at least 70", s, d)
		}
	}
	o.Reset()
	env = &environment{stdin: bytes.NewReader(liveStream(t, x, rate)), stdout: &o, stderr: &e}
	if code := runMain(context.Background(), env, append([]string{"separate", "--live", "--stdout", "high", "-"}, common...)); code != exitOK {
		t.Fatalf("live --stdout: exit %d: %s", code, e.String())
	}
	sr, err := wav.NewStreamReader(&o)
	if err != nil {
		t.Fatal(err)
	}
	if sr.Rate() != rate {
		t.Errorf("--stdout at %d Hz, want %d", sr.Rate(), rate)
	}
	got, err := readAllStream(sr)
	if err != nil {
		t.Fatal(err)
	}
	if want := readSamples(t, filepath.Join(live, "live.high.wav")); len(got) != len(want) || belowDB(got, want) < 300 {
		t.Errorf("--stdout gave %d samples, not the %d of live.high.wav", len(got), len(want))
	}
}

func readAllStream(sr *wav.StreamReader) ([]float64, error) {
	var out []float64
	buf := make([]float64, 4096)
	for {
		n, err := sr.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// TestSeparateLiveBadStreams: a stream cut inside a sample, a header with an
// unsupported format, raw PCM without its rate: one line each; what was
// separated before the error stays in valid files.
func TestSeparateLiveBadStreams(t *testing.T) {
	model := testModel(t)
	x := synthVoice([]float64{150, 200}, 1, 16000, 9)
	stream := liveStream(t, x, 16000)
	out := t.TempDir()
	var o, e bytes.Buffer
	env := &environment{stdin: bytes.NewReader(stream[:len(stream)-2]), stdout: &o, stderr: &e}
	code := runMain(context.Background(), env, []string{"separate", "--live", "-m", model, "-o", out, "--iters", "5", "--quiet", "-"})
	wantFailure(t, e.String(), code, exitFailure, "middle of a sample")
	for _, s := range []string{"low", "high"} {
		if got := readSamples(t, filepath.Join(out, "live."+s+".wav")); len(got) < len(x)/2 {
			t.Errorf("%s: %d samples kept of the %d before the cut", s, len(got), len(x)-1)
		}
	}
	alaw := append([]byte(nil), stream...)
	alaw[20] = 6 // format tag: A-law
	for _, tc := range []struct {
		stdin []byte
		args  []string
		code  int
		want  string
	}{
		{alaw, nil, exitFailure, "standard input"},
		{stream[:20], nil, exitFailure, "standard input"},
		{stream, []string{"--raw", "s16le"}, exitUsage, "--rate"},
		{stream, []string{"--raw", "u8"}, exitUsage, "s16le or f32le"},
		{stream, []string{"--free", "-3"}, exitUsage, "--free must be 0 or more"},
		{stream, []string{"--free", "4", "--free-every", "0"}, exitUsage, "--free-every"},
		{stream, []string{"--free", "4", "--free-buffer", "-1"}, exitUsage, "--free-buffer"},
		{stream, []string{"--free", "4", "--free-updates", "0"}, exitUsage, "--free-updates"},
		// A buffer of 1e9 s would be sized before the first frame.
		{stream, []string{"--free", "4", "--free-buffer", "1e9"}, exitUsage, "above the 60 s allowed"},
		{stream, []string{"--raw", "s16le", "--rate", "1000000000"}, exitUsage, "a rate of 1 to 768000 Hz"},
		{stream, []string{"--raw", "s16le", "--rate", "16000", "--channels", "65"}, exitUsage, "1 to 64 channels"},
	} {
		e.Reset()
		env := &environment{stdin: bytes.NewReader(tc.stdin), stdout: &o, stderr: &e}
		args := append([]string{"separate", "--live", "-m", model, "-o", t.TempDir(), "--iters", "5", "--quiet", "-"}, tc.args...)
		code := runMain(context.Background(), env, args)
		wantFailure(t, e.String(), code, tc.code, tc.want)
	}
	// Raw 16-bit PCM at 8 kHz, two channels: resampled to the model's rate.
	raw := make([]byte, 0, 4*8000)
	for i := range 8000 {
		v := int16(8000 * math.Sin(float64(i)/5))
		raw = append(raw, byte(v), byte(v>>8), byte(v), byte(v>>8))
	}
	e.Reset()
	rawOut := t.TempDir()
	env = &environment{stdin: bytes.NewReader(raw), stdout: &o, stderr: &e}
	if code := runMain(context.Background(), env, []string{"separate", "--live", "-m", model, "-o", rawOut, "--raw", "s16le", "--rate", "8000", "--channels", "2", "--iters", "5", "-"}); code != exitOK {
		t.Fatalf("raw: exit %d: %s", code, e.String())
	}
	if got := readSamples(t, filepath.Join(rawOut, "live.low.wav")); len(got) != 16000 {
		t.Errorf("raw 1 s at 8 kHz gave %d samples at 16 kHz, want 16000", len(got))
	}
}

// TestSeparateLivePipes runs dlnmf as a real process behind Debian's sox
// (sox writes a WAV stream of unknown length to the pipe), checks the
// outputs against the offline separation, then interrupts a live run fed
// by hand (exit 130, the outputs valid WAV files), and closes the reader of
// --stdout (one line, not a death by SIGPIPE).
func TestSeparateLivePipes(t *testing.T) {
	soxBin, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox is not installed (make test installs it through scripts/setup.sh)")
	}
	bin := buildDlnmf(t)
	model := testModel(t)
	in, off, live := t.TempDir(), t.TempDir(), t.TempDir()
	mix := filepath.Join(in, "mix.wav")
	synthMixture(t, mix, 1, 16000, 301)
	common := []string{"-m", model, "--iters", "15", "--tol", "-1", "--float", "--quiet"}
	if _, stderr, code := runCmd(t, append([]string{"separate", "-o", off, mix}, common...)...); code != exitOK {
		t.Fatalf("offline: exit %d: %s", code, stderr)
	}
	pipe := exec.Command("sh", "-c", `"$1" "$2" -t wav - | "$3" separate --live -o "$4" "$5" "$6" "$7" "$8" "$9" "${10}" "${11}" "${12}" -`,
		"sh", soxBin, mix, bin, live, common[0], common[1], common[2], common[3], common[4], common[5], common[6], common[7])
	if out, err := pipe.CombinedOutput(); err != nil {
		t.Fatalf("sox | dlnmf separate --live: %v\n%s", err, out)
	}
	for _, s := range []string{"low", "high"} {
		want := readSamples(t, filepath.Join(off, "mix."+s+".wav"))
		got := readSamples(t, filepath.Join(live, "live."+s+".wav"))
		if len(got) != len(want) || belowDB(got, want) < 70 {
			t.Errorf("%s through sox: %d samples, %.1f dB from offline", s, len(got), belowDB(got, want))
		}
	}

	// Ctrl-C in the middle of a stream that stalls: exit 130, outputs
	// completed with what arrived.
	x := synthVoice([]float64{150, 200}, 1, 16000, 10)
	stream := liveStream(t, x, 16000)
	cut := t.TempDir()
	cmd := exec.Command(bin, "separate", "--live", "-m", model, "-o", cut, "--iters", "5", "-")
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Write(stream)
	// Wait until the outputs hold samples, then interrupt while the input
	// stays open (a stall: dlnmf waits in read).
	for range 300 {
		if fi, err := os.Stat(filepath.Join(cut, "live.high.wav")); err == nil && fi.Size() > 8000 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("dlnmf separate --live did not end within 10 s of SIGINT")
	}
	w.Close()
	if code := cmd.ProcessState.ExitCode(); code != exitCanceled {
		t.Errorf("interrupted: exit %d, want 130; stderr:\n%s", code, stderr.String())
	}
	for _, s := range []string{"low", "high"} {
		if got := readSamples(t, filepath.Join(cut, "live."+s+".wav")); len(got) < len(x)/2 {
			t.Errorf("interrupted: %s holds %d samples of the %d sent", s, len(got), len(x))
		}
	}

	// The reader of standard output goes away: one line, exit 1.
	cmd = exec.Command(bin, "separate", "--live", "-m", model, "--stdout", "low", "--iters", "5", "-")
	w, _ = cmd.StdinPipe()
	r, _ := cmd.StdoutPipe()
	stderr.Reset()
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Write(stream[:len(stream)/2])
	head := make([]byte, 100)
	io.ReadFull(r, head)
	r.Close()
	go func() {
		for range 40 {
			if _, err := w.Write(stream[len(stream)/2:]); err != nil {
				return
			}
		}
		w.Close()
	}()
	err = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitFailure || !strings.Contains(stderr.String(), "closed by its reader") {
		t.Errorf("closed stdout: exit %d (%v), stderr:\n%s", code, err, stderr.String())
	}
	checkNoPanic(t, stderr.String())
}

// TestSeparateLiveFree: a one-speaker model and a noise it does not know,
// separated live with free bases learned online (--free): the known
// voice's SDR rises well above the mixture's, the estimates add up to the
// mixture, two runs give the same bytes, --stdout other gives the other
// source, and the latency line is that of a run without free bases.
func TestSeparateLiveFree(t *testing.T) {
	root := t.TempDir()
	low, _ := synthSpeakers(t, root, 3, 1)
	one := filepath.Join(root, "one.npz")
	if _, stderr, code := runCmd(t, append(trainArgs("nmf", one, low), "--k", "6", "--quiet")...); code != exitOK {
		t.Fatalf("training one speaker: %s", stderr)
	}
	// The noise: a harmonic drone the model does not know (random free
	// bases, flat on average, would pass for white noise without learning
	// anything) and a little white noise.
	voice := synthVoice(lowNotes, 2, synthRate, 500)
	noise := synthVoice(highNotes, 2, synthRate, 501)
	rng := rand.New(rand.NewPCG(7, 8))
	mix := make([]float64, len(voice))
	for i := range noise {
		noise[i] += 0.01 * rng.NormFloat64()
		mix[i] = voice[i] + noise[i]
	}
	stream := liveStream(t, mix, synthRate)
	run := func(args ...string) (string, string) {
		t.Helper()
		var o, e bytes.Buffer
		env := &environment{stdin: bytes.NewReader(stream), stdout: &o, stderr: &e}
		args = append([]string{"separate", "--live", "-m", one, "--iters", "30", "--float"}, append(args, "-")...)
		if code := runMain(context.Background(), env, args); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, e.String())
		}
		return o.String(), e.String()
	}
	outs := []string{t.TempDir(), t.TempDir()}
	var latency []string
	for _, out := range outs {
		_, stderr := run("--free", "8", "-o", out)
		latency = append(latency, strings.SplitN(stderr, "\n", 2)[0])
	}
	if got := dirFiles(t, outs[0]); !slices.Equal(got, []string{"live.low.wav", "live.other.wav"}) {
		t.Fatalf("outputs %v", got)
	}
	for _, s := range []string{"low", "other"} {
		a, err := os.ReadFile(filepath.Join(outs[0], "live."+s+".wav"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(outs[1], "live."+s+".wav"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two runs on the same stream gave different bytes", s)
		}
	}
	est := [][]float64{readSamples(t, filepath.Join(outs[0], "live.low.wav")), readSamples(t, filepath.Join(outs[0], "live.other.wav"))}
	for i := range mix {
		if d := est[0][i] + est[1][i] - mix[i]; math.Abs(d) > 1e-5 {
			t.Fatalf("the estimates do not add up to the mixture at sample %d: off by %g", i, d)
		}
	}
	refs := [][]float64{voice, noise}
	r, err := bsseval.Sources(refs, est, bsseval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// No separation: the mixture's SDR is the voice's energy over the
	// noise's (BSS Eval gives NaN for an estimate that is exactly the sum
	// of the references).
	var ev, en float64
	for i := range voice {
		ev += voice[i] * voice[i]
		en += noise[i] * noise[i]
	}
	base := 10 * math.Log10(ev/en)
	t.Logf("live --free 8: the voice's SDR %.1f dB, the mixture's %.1f dB", r.SDR[0], base)
	// 11.8 dB better when written; free bases that learn nothing give 6.6.
	if !(r.SDR[0] >= base+9) {
		t.Errorf("the voice's SDR is %.1f dB, the mixture's %.1f dB: want at least 9 dB better", r.SDR[0], base)
	}
	// The latency line does not change with free bases.
	_, stderr := run("--free", "2", "-o", t.TempDir(), "--free-every", "1", "--free-buffer", "0.5")
	latency = append(latency, strings.SplitN(stderr, "\n", 2)[0])
	m2 := testModel(t)
	var o, e bytes.Buffer
	env := &environment{stdin: bytes.NewReader(stream), stdout: &o, stderr: &e}
	if code := runMain(context.Background(), env, []string{"separate", "--live", "-m", m2, "--iters", "5", "-o", t.TempDir(), "-"}); code != exitOK {
		t.Fatalf("without --free: exit %d: %s", code, e.String())
	}
	plain := strings.SplitN(e.String(), "\n", 2)[0]
	if !strings.Contains(plain, "latency 63.9 ms") {
		t.Errorf("latency line %q", plain)
	}
	for _, l := range latency {
		if l != plain {
			t.Errorf("latency line with --free %q, without %q", l, plain)
		}
	}
	// --stdout other: the other source's samples as a WAV stream.
	stdout, _ := run("--free", "8", "--stdout", "other", "--quiet")
	sr, err := wav.NewStreamReader(strings.NewReader(stdout))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAllStream(sr)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, est[1]) {
		t.Errorf("--stdout other gave %d samples, not those of live.other.wav (%d)", len(got), len(est[1]))
	}
	// A one-speaker model given no --free: --free 20, learned online.
	out := t.TempDir()
	_, stderr = run("-o", out)
	if !strings.Contains(stderr, "20 free bases learned online, written as live.other.wav") {
		t.Errorf("one speaker without --free in live mode says:\n%s", stderr)
	}
	if got := dirFiles(t, out); !slices.Equal(got, []string{"live.low.wav", "live.other.wav"}) {
		t.Errorf("outputs %v", got)
	}
	// Without --live the online settings mean nothing.
	_, stderr, code := runCmd(t, "separate", "-m", one, "-o", out, "--free", "4", "--free-every", "2", filepath.Join(root, "low", "low00.wav"))
	wantFailure(t, stderr, code, exitUsage, "--free-every", "--live")
}
