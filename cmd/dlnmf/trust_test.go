package main

// Tests of what dlnmf does with untrusted input: model files
// whose speaker names point elsewhere, named pipes and other non-files as
// input.

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlnmf/dlnmf/internal/sysmem"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// withSpeakerName writes a copy of the model file src to dst with speaker
// 1 renamed to name: a model file crafted by someone else (Encode does not
// validate; ReadFile does).
func withSpeakerName(t *testing.T, src, dst, name string) string {
	t.Helper()
	m, err := separation.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	m.Speakers[1].Name = name
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestSeparateRefusesModelNamesThatLeaveTheFolder checks that a model file
// whose speaker names hold path elements is refused at load, so that
// separate writes nothing anywhere, least of all outside -o.
func TestSeparateRefusesModelNamesThatLeaveTheFolder(t *testing.T) {
	model := testModel(t)
	root := t.TempDir()
	mix := filepath.Join(t.TempDir(), "mix.wav")
	synthMixture(t, mix, 0.5, 16000, 1)
	for _, evil := range []string{"x/../../../evil", "../evil", "/tmp/evil", "..", ".", ".hidden", "a\nb", "a\x00b", "-x", strings.Repeat("a", 65)} {
		bad := withSpeakerName(t, model, filepath.Join(root, "bad.npz"), evil)
		out := filepath.Join(root, "out", "sub")
		stdout, stderr, code := runCmd(t, "separate", "-m", bad, "-o", out, mix)
		wantFailure(t, stderr, code, exitFailure, "dlnmf separate:", bad, "speaker name")
		if stdout != "" {
			t.Errorf("%q: stdout %q", evil, stdout)
		}
		var written []string
		filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && p != bad {
				written = append(written, p)
			}
			return nil
		})
		if len(written) > 0 {
			t.Errorf("%q: wrote %v", evil, written)
		}
	}
}

// TestTrainRefusesUnsafeNames checks that train refuses, before loading
// anything, a speaker name that could not be a file name part.
func TestTrainRefusesUnsafeNames(t *testing.T) {
	low, _ := synthSpeakers(t, t.TempDir(), 2, 0.2)
	dir := strings.TrimPrefix(low, "low=")
	out := filepath.Join(t.TempDir(), "m.npz")
	for _, name := range []string{"x/../../../evil", "..", ".x", "a b", "a\nb", "tab\t", strings.Repeat("n", 65)} {
		stdout, stderr, code := runCmd(t, "train", "--method", "nmf", "-o", out, "--speaker", name+"="+dir, "--speaker", "ok="+dir)
		wantFailure(t, stderr, code, exitUsage, "speaker name")
		if stdout != "" {
			t.Errorf("%q: stdout %q", name, stdout)
		}
	}
	// Names one file on a case-insensitive file system: full case folding.
	for _, pair := range [][2]string{{"Ann", "ann"}, {"σοφία", "ςοφία"}, {"ſam", "Sam"}, {"µ", "μ"}} {
		_, stderr, code := runCmd(t, "train", "--method", "nmf", "-o", out, "--speaker", pair[0]+"="+dir, "--speaker", pair[1]+"="+dir)
		wantFailure(t, stderr, code, exitUsage, "given twice")
	}
	if files := dirFiles(t, filepath.Dir(out)); len(files) != 0 {
		t.Errorf("left %v", files)
	}
}

// runGuarded runs a command line in-process and fails the test, instead of
// hanging it, when the command does not return: code that opens a named
// pipe with no writer blocks forever.
func runGuarded(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	type result struct {
		stdout, stderr string
		code           int
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		var o, e bytes.Buffer
		code := runMain(ctx, &environment{stdout: &o, stderr: &e}, args)
		done <- result{o.String(), e.String(), code}
	}()
	select {
	case r := <-done:
		return r.stdout, r.stderr, r.code
	case <-time.After(60 * time.Second):
		t.Fatalf("%v did not return (blocked on a named pipe?)", args)
		return "", "", 0
	}
}

// TestNamedPipeInputsAreRefused gives a named pipe wherever dlnmf reads a
// file: each command must refuse it with one clear line, not wait forever
// for a writer.
func TestNamedPipeInputsAreRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.wav")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a named pipe: %v", err)
	}
	model := testModel(t)
	mix := filepath.Join(dir, "mix.wav")
	synthMixture(t, mix, 0.3, 16000, 2)
	low, high := synthSpeakers(t, filepath.Join(dir, "sp"), 3, 0.3)
	if err := syscall.Mkfifo(filepath.Join(strings.TrimPrefix(high, "high="), "zz-pipe.wav"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	for _, args := range [][]string{
		{"info", fifo},
		{"info", "--json", fifo},
		{"spectrogram", fifo, "-o", filepath.Join(out, "s.png")},
		{"separate", "-m", model, "-o", out, fifo},
		{"separate", "-m", fifo, "-o", out, mix},
		{"eval", "--ref", mix + "," + fifo, "--est", mix + "," + mix},
		{"train", "--method", "nmf", "--k", "2", "--iters", "2", "-o", filepath.Join(out, "m.npz"), "--speaker", low, "--speaker", high},
		{"train", "--method", "nmf", "--k", "2", "--iters", "2", "-o", filepath.Join(out, "m.npz"), "--speaker", "a=@" + fifo, "--speaker", high},
		{"sweep", fifo, "-o", filepath.Join(out, "sweep")},
	} {
		_, stderr, code := runGuarded(t, args...)
		if code != exitFailure || !strings.Contains(stderr, "is a named pipe, not a file") {
			t.Errorf("%v: exit %d, stderr:\n%s", args, code, stderr)
		}
		checkNoPanic(t, stderr)
	}
	if files := dirFiles(t, out); len(files) != 0 {
		t.Errorf("left %v", files)
	}
}

// buildDlnmf builds the dlnmf binary into a temporary folder.
func buildDlnmf(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build dlnmf with")
	}
	bin := filepath.Join(t.TempDir(), "dlnmf")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// waitForTemporary waits until dir holds one of atomicfile's temporary
// files, the sign that a command is writing its outputs.
func waitForTemporary(t *testing.T, dir string) {
	t.Helper()
	for range 600 {
		for _, f := range dirFiles(t, dir) {
			if strings.Contains(f, ".tmp-") {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no temporary file appeared in %s", dir)
}

// TestInterruptEndsTheProcess runs dlnmf as a real process, interrupts it
// while it is deep in a separation that does not look at its context, and
// checks that it exits 130 soon (the guard allows one second), leaving no
// file behind; then kills one outright and checks that the rerun removes
// the temporary files the killed one left.
func TestInterruptEndsTheProcess(t *testing.T) {
	bin := buildDlnmf(t)
	model := testModel(t)
	// 20 minutes (a 10 s mixture repeated): far more work than the time
	// the test waits, however fast the machine.
	mix := filepath.Join(t.TempDir(), "long.wav")
	x := synthMixture(t, mix, 10, 16000, 5)
	long := make([]float64, 0, 120*len(x))
	for range 120 {
		long = append(long, x...)
	}
	writeWAV(t, mix, long, 16000)
	out := t.TempDir()
	slow := []string{"separate", "-m", model, "-o", out, "--jobs", "1", "--iters", "5000", "--quiet", mix}

	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		cmd := exec.Command(bin, slow...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitForTemporary(t, out)
		cmd.Process.Signal(sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("%v: still running 5 s after the signal", sig)
		}
		if code := cmd.ProcessState.ExitCode(); code != exitCanceled || !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("%v: exit code %d, stderr %q; want 130, interrupted", sig, code, stderr.String())
		}
		if files := dirFiles(t, out); len(files) != 0 {
			t.Errorf("%v: left %v", sig, files)
		}
	}

	// SIGKILL cannot be caught: the temporary files stay, and the next run
	// writing the same outputs removes them.
	cmd := exec.Command(bin, slow...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForTemporary(t, out)
	cmd.Process.Kill()
	cmd.Wait()
	if len(dirFiles(t, out)) == 0 {
		t.Fatal("no temporary file after SIGKILL")
	}
	// A short file of the same name writes the same outputs.
	short := filepath.Join(t.TempDir(), "long.wav")
	writeWAV(t, short, x, 16000)
	if _, stderr, code := runCmd(t, "separate", "-m", model, "-o", out, "--iters", "2", "--quiet", short); code != exitOK {
		t.Fatalf("rerun: exit %d: %s", code, stderr)
	}
	if files := dirFiles(t, out); len(files) != 2 || strings.HasPrefix(files[0], ".") || strings.HasPrefix(files[1], ".") {
		t.Errorf("after the rerun: %v, want the two outputs only", files)
	}
}

// TestTrainChecksOutputFirst checks that an -o that cannot be written
// fails before the training, not after it.
func TestTrainChecksOutputFirst(t *testing.T) {
	low, high := synthSpeakers(t, t.TempDir(), 3, 0.3)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "file.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ out, want string }{
		{dir, "is a folder"},
		{filepath.Join(dir, "file.txt", "m.npz"), "cannot write there"},
	} {
		stdout, stderr, code := runCmd(t, "train", "--method", "nmf", "-o", tc.out, "--speaker", low, "--speaker", high)
		line := wantFailure(t, stderr, code, exitFailure, tc.want)
		if stdout != "" || strings.Contains(line, "speaker") {
			t.Errorf("%s: stdout %q, stderr %q", tc.out, stdout, stderr)
		}
	}
	if files := dirFiles(t, dir); len(files) != 1 {
		t.Errorf("left %v", files)
	}
}

// TestInfoNonFiniteSamples checks that info reports NaN and infinite
// samples of float files as such (not as silence), and that with --json a
// file holding ±Inf or one that cannot be read keeps every other file's
// record, with an "error" record for the unreadable one.
func TestInfoNonFiniteSamples(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, x []float64) string {
		p := filepath.Join(dir, name)
		if _, err := wav.WriteFile(p, x, 16000, wav.Float32); err != nil {
			t.Fatal(err)
		}
		return p
	}
	nan := write("nan.wav", []float64{math.NaN(), math.NaN(), math.NaN()})
	inf := write("inf.wav", []float64{0.5, math.Inf(1), -0.25, math.Inf(-1), math.NaN()})
	good := write("good.wav", []float64{0.5, -0.5})
	bad := filepath.Join(dir, "bad.wav")
	os.WriteFile(bad, []byte("not audio"), 0o644)

	stdout, _, code := runCmd(t, "info", nan, inf, good)
	if code != exitOK {
		t.Errorf("exit code %d", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || strings.Contains(lines[0], "silent") || !strings.Contains(lines[0], "3 NaN and 0 infinite samples") ||
		!strings.Contains(lines[1], "peak -6.02 dBFS") || !strings.Contains(lines[1], "1 NaN and 2 infinite samples") {
		t.Errorf("stdout:\n%s", stdout)
	}

	stdout, stderr, code := runCmd(t, "info", "--json", nan, inf, bad, good)
	if code != exitFailure || !strings.Contains(stderr, "1 of 4 files could not be read") {
		t.Errorf("exit code %d, stderr %q", code, stderr)
	}
	var infos []fileInfo
	if err := json.Unmarshal([]byte(stdout), &infos); err != nil {
		t.Fatalf("--json output %q: %v", stdout, err)
	}
	if len(infos) != 4 {
		t.Fatalf("%d records: %s", len(infos), stdout)
	}
	if infos[0].NaN != 3 || infos[0].PeakDB != nil || infos[1].Inf != 2 || infos[1].NaN != 1 || *infos[1].PeakDB != -6.02 {
		t.Errorf("non-finite records: %s", stdout)
	}
	if infos[2].File != bad || infos[2].Error == "" || infos[2].AudioInfo != nil || strings.Contains(stdout, `"sample_rate": 0`) {
		t.Errorf("unreadable record: %s", stdout)
	}
	if infos[3].File != good || infos[3].Samples != 2 || infos[3].Error != "" {
		t.Errorf("good record: %s", stdout)
	}
}

// allocated returns the bytes the Go heap handed out while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestInfoAndSpectrogramStream checks that info and spectrogram read a long
// file piece by piece: what they allocate stays far below the file's
// decoded size (1 minute at 48 kHz: 23 MB of float64 samples, 92 MB of
// complex STFT), and does not grow from a 20-second file to a 1-minute one.
func TestInfoAndSpectrogramStream(t *testing.T) {
	dir := t.TempDir()
	one := synthMixture(t, filepath.Join(dir, "one.wav"), 20, 48000, 9)
	long := make([]float64, 0, 3*len(one))
	for range 3 {
		long = append(long, one...)
	}
	writeWAV(t, filepath.Join(dir, "three.wav"), long, 48000)
	for _, tc := range []struct {
		cmd   string
		limit uint64
	}{{"info", 4 << 20}, {"spectrogram", 48 << 20}} {
		var sizes []uint64
		for _, name := range []string{"one", "three"} {
			args := []string{tc.cmd, filepath.Join(dir, name+".wav")}
			if tc.cmd == "spectrogram" {
				args = append(args, "--quiet", "-o", filepath.Join(dir, name+".png"))
			}
			var code int
			var stderr string
			n := allocated(func() { _, stderr, code = runCmd(t, args...) })
			if code != exitOK {
				t.Fatalf("%v: exit %d: %s", args, code, stderr)
			}
			t.Logf("%s %s: %.1f MB allocated", tc.cmd, name, float64(n)/(1<<20))
			sizes = append(sizes, n)
		}
		if sizes[1] > tc.limit || sizes[1] > sizes[0]+sizes[0]/2 {
			t.Errorf("%s allocates %d bytes for 1 minute, %d for 3 minutes; want flat and under %d", tc.cmd, sizes[0], sizes[1], tc.limit)
		}
	}
}

// TestSizesBeyondMemoryAreRefused checks that train and experiment refuse,
// with one line naming the need and what the machine has, sizes that
// cannot fit in memory, instead of dying with Go's "fatal error: runtime:
// out of memory" and a goroutine dump (which no test could catch: it ends
// the process).
func TestSizesBeyondMemoryAreRefused(t *testing.T) {
	if _, _, ok := sysmem.Available(); !ok {
		t.Skip("this system does not tell its available memory")
	}
	low, high := synthSpeakers(t, t.TempDir(), 10, 0.3)
	out := t.TempDir()
	for _, args := range [][]string{
		{"train", "--method", "nmf", "--k", "65536", "--context", "255", "-o", filepath.Join(out, "m.npz"), "--speaker", low, "--speaker", high, "--quiet"},
		{"train", "--method", "lnmf", "--layers", "65536,20", "--context", "255", "-o", filepath.Join(out, "m.npz"), "--speaker", low, "--speaker", high, "--quiet"},
		{"experiment", "--k", "65536", "--context", "255", "--methods", "nmf", "--repeats", "1", "-o", filepath.Join(out, "exp"), "--speaker", low, "--speaker", high, "--quiet"},
	} {
		stdout, stderr, code := runGuarded(t, args...)
		wantFailure(t, stderr, code, exitFailure, "needs at least", "of memory; this machine has", "available")
		if stdout != "" {
			t.Errorf("%s: stdout %q", args[0], stdout)
		}
	}
	if files := dirFiles(t, out); len(files) != 0 {
		t.Errorf("left %v", files)
	}
}

// TestTrainMemoryEstimate checks the estimate against what the
// factorisation allocates: a small NMF must not be refused, and the
// estimate grows with the sizes.
func TestTrainMemoryEstimate(t *testing.T) {
	speakers := [][]int{{16000, 16000}, {16000}}
	small, err := separation.TrainMemory(speakers, nil, separation.TrainSettings{Method: separation.NMF, Sizes: []int{20}})
	if err != nil {
		t.Fatal(err)
	}
	big, _ := separation.TrainMemory(speakers, nil, separation.TrainSettings{Method: separation.NMF, Sizes: []int{65536}, Context: 255})
	// W alone is 513 x 255 x 65536 float32: 34 GB.
	if small > 8<<20 || big < 34e9 {
		t.Errorf("estimates %d (K 20) and %d (K 65536, context 255)", small, big)
	}
	if err := checkMemory("training", small); err != nil {
		t.Errorf("a small run refused: %v", err)
	}
}
