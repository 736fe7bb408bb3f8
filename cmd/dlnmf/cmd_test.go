package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/wav"
)

// runCmd runs one dlnmf command line in-process, as main does, with
// buffers for stdout and stderr.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	env := &environment{stdout: &o, stderr: &e}
	code = runMain(context.Background(), env, args)
	return o.String(), e.String(), code
}

// wantFailure checks that a command failed with exit code want and exactly
// one line on stderr that contains every string of contains, with no trace
// of a panic. It returns the line.
func wantFailure(t *testing.T, stderr string, code, want int, contains ...string) string {
	t.Helper()
	if code != want {
		t.Errorf("exit code %d, want %d; stderr:\n%s", code, want, stderr)
	}
	checkNoPanic(t, stderr)
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if len(lines) != 1 || lines[0] == "" {
		t.Errorf("want one error line on stderr, got %d:\n%s", len(lines), stderr)
		return stderr
	}
	t.Log(lines[0])
	for _, c := range contains {
		if !strings.Contains(lines[0], c) {
			t.Errorf("error line %q does not contain %q", lines[0], c)
		}
	}
	return lines[0]
}

// checkNoPanic fails when out shows a Go panic, a stack trace or an
// internal error.
func checkNoPanic(t *testing.T, out string) {
	t.Helper()
	for _, bad := range []string{"goroutine ", "panic", "internal error", ".go:"} {
		if strings.Contains(out, bad) {
			t.Errorf("output shows %q:\n%s", bad, out)
		}
	}
}

// dirFiles returns the names of the entries of dir, sorted; hidden files
// (atomicfile's temporaries start with a dot) included.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

const synthRate = 16000

// synthVoice makes a signal of the given length from "notes": harmonic
// tones with fundamentals from f0s, switching every 125 ms, band-limited
// to 7 kHz (below the model's Nyquist frequency at any rate). Two voices with
// far-apart fundamentals have different spectral bases, so a tiny model
// separates them.
func synthVoice(f0s []float64, seconds float64, rate int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 99))
	n := int(seconds * float64(rate))
	x := make([]float64, n)
	seg := rate / 8
	for start := 0; start < n; start += seg {
		f0 := f0s[rng.IntN(len(f0s))]
		amp := 0.1 + 0.15*rng.Float64()
		for h := 1; float64(h)*f0 < 6*f0s[0]+1000 && float64(h)*f0 < 7000; h++ {
			a := amp / float64(h)
			ph := rng.Float64() * 2 * math.Pi
			for i := start; i < min(start+seg, n); i++ {
				env := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i-start)/float64(seg))
				x[i] += env * a * math.Sin(2*math.Pi*f0*float64(h)*float64(i)/float64(rate)+ph)
			}
		}
	}
	return x
}

var (
	lowNotes  = []float64{110, 123, 138, 155}
	highNotes = []float64{1210, 1370, 1530, 1690}
)

// writeWAV writes x to path as 16-bit PCM at rate Hz.
func writeWAV(t *testing.T, path string, x []float64, rate int) string {
	t.Helper()
	if _, err := wav.WriteFile(path, x, rate, wav.PCM16); err != nil {
		t.Fatal(err)
	}
	return path
}

// synthSpeakers writes n files of the given length for two synthetic
// speakers, "low" and "high", into root/low and root/high, and returns the
// two --speaker flags.
func synthSpeakers(t *testing.T, root string, n int, seconds float64) (low, high string) {
	t.Helper()
	return synthSpeakersNamed(t, root, n, seconds, "")
}

// synthSpeakersNamed is synthSpeakers with file names prefix00.wav, ...
// for both speakers, as speakers reading the same prompts; "" names them
// after the speaker.
func synthSpeakersNamed(t *testing.T, root string, n int, seconds float64, prefix string) (low, high string) {
	t.Helper()
	for _, sp := range []struct {
		name  string
		notes []float64
		seed  uint64
	}{{"low", lowNotes, 100}, {"high", highNotes, 200}} {
		dir := filepath.Join(root, sp.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			name := sp.name
			if prefix != "" {
				name = prefix
			}
			writeWAV(t, filepath.Join(dir, fmt.Sprintf("%s%02d.wav", name, i)), synthVoice(sp.notes, seconds, synthRate, sp.seed+uint64(i)), synthRate)
		}
	}
	return "low=" + filepath.Join(root, "low"), "high=" + filepath.Join(root, "high")
}

// synthMixture writes a mixture of the two voices at rate Hz to path and
// returns it.
func synthMixture(t *testing.T, path string, seconds float64, rate int, seed uint64) []float64 {
	t.Helper()
	a := synthVoice(lowNotes, seconds, rate, seed)
	b := synthVoice(highNotes, seconds, rate, seed+1)
	for i := range a {
		a[i] += b[i]
	}
	writeWAV(t, path, a, rate)
	return a
}

func TestHelp(t *testing.T) {
	out, errOut, code := runCmd(t, "help")
	if code != exitOK || errOut != "" {
		t.Fatalf("help: exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"Usage: dlnmf COMMAND", "Exit codes:", "130 interrupted"} {
		if !strings.Contains(out, want) {
			t.Errorf("help does not say %q:\n%s", want, out)
		}
	}
	for name, c := range commands {
		if !strings.Contains(out, "  "+name+" ") {
			t.Errorf("help does not list %s", name)
		}
		for _, args := range [][]string{{name, "-h"}, {name, "--help"}, {"help", name}} {
			out, errOut, code := runCmd(t, args...)
			if code != exitOK || errOut != "" {
				t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
			}
			if !strings.Contains(out, "Usage: dlnmf "+name) || !strings.Contains(out, "Example") || !strings.Contains(out, "dlnmf "+name+" ") {
				t.Errorf("%v: usage without synopsis or example:\n%s", args, out)
			}
			if n := strings.Count(out, "Usage: dlnmf "+name); n != 1 {
				t.Errorf("%v: usage printed %d times", args, n)
			}
		}
		if c.summary == "" || strings.Contains(c.summary, "\n") {
			t.Errorf("%s: summary %q is not one line", name, c.summary)
		}
	}
	for _, args := range [][]string{{"frobnicate"}, {"--frobnicate"}} {
		out, errOut, code := runCmd(t, args...)
		wantFailure(t, errOut, code, exitUsage, "unknown command")
		if out != "" {
			t.Errorf("%v: stdout %q", args, out)
		}
	}
	if _, errOut, code := runCmd(t); code != exitUsage || !strings.Contains(errOut, "Usage: dlnmf COMMAND") {
		t.Errorf("no command: exit %d, stderr:\n%s", code, errOut)
	}
	// A wrong flag is a usage error on one line, for every command.
	for name := range commands {
		out, errOut, code := runCmd(t, name, "--no-such-flag")
		wantFailure(t, errOut, code, exitUsage, "dlnmf "+name+":", "no-such-flag", "-h")
		if out != "" {
			t.Errorf("%s --no-such-flag: stdout %q", name, out)
		}
	}
}

// TestProgress checks that progress bars go to stderr only when it is a
// terminal, and that --quiet silences everything but errors.
func TestProgress(t *testing.T) {
	low, high := synthSpeakers(t, t.TempDir(), 3, 0.5)
	out := filepath.Join(t.TempDir(), "m.npz")
	args := []string{"train", "--method", "lnmf", "--layers", "8,3", "--iters", "5", "-o", out, "--speaker", low, "--speaker", high}
	run := func(terminal bool, args ...string) (string, string) {
		var o, e bytes.Buffer
		if code := runMain(context.Background(), &environment{stdout: &o, stderr: &e, stderrIsTerminal: terminal}, args); code != exitOK {
			t.Fatalf("exit %d: %s", code, e.String())
		}
		return o.String(), e.String()
	}
	stdout, stderr := run(true, args...)
	if stdout != "" || !strings.Contains(stderr, "\r") || !strings.Contains(stderr, "pretrain layer 1 iteration") || !strings.Contains(stderr, "wrote ") {
		t.Errorf("terminal: stdout %q, stderr %q", stdout, stderr)
	}
	stdout, stderr = run(false, args...)
	if stdout != "" || strings.Contains(stderr, "\r") || strings.Contains(stderr, "pretrain") || !strings.Contains(stderr, "wrote ") {
		t.Errorf("not a terminal: stdout %q, stderr %q", stdout, stderr)
	}
	stdout, stderr = run(true, append(args, "--quiet")...)
	if stdout != "" || stderr != "" {
		t.Errorf("--quiet on a terminal: stdout %q, stderr %q", stdout, stderr)
	}
	// One of a thing is not "1 things".
	_, stderr = run(false, "train", "--method", "nmf", "--k", "4", "--iters", "5", "-o", out, "--speaker", low)
	if !strings.Contains(stderr, ", 1 speaker) in ") || !strings.Contains(stderr, "speaker low: 3 files") {
		t.Errorf("one speaker: stderr %q", stderr)
	}
}

// TestInterrupted checks that a canceled run (Ctrl-C) exits with 130, says
// so in one line and leaves no output file behind.
func TestInterrupted(t *testing.T) {
	low, high := synthSpeakers(t, t.TempDir(), 10, 0.3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	outDir := t.TempDir()
	mix := filepath.Join(t.TempDir(), "mix.wav")
	synthMixture(t, mix, 0.5, 16000, 3)
	for _, args := range [][]string{
		trainArgs("dlnmf", filepath.Join(outDir, "m.npz"), low, high),
		{"separate", "-m", testModel(t), "-o", filepath.Join(outDir, "sep"), mix},
		append([]string{"experiment", "--speaker", low, "--speaker", high, "-o", filepath.Join(outDir, "exp"), "--repeats", "1"}, tinyTrain...),
	} {
		var o, e bytes.Buffer
		code := runMain(ctx, &environment{stdout: &o, stderr: &e}, args)
		wantFailure(t, e.String(), code, exitCanceled, "dlnmf "+args[0]+": interrupted")
		if o.Len() != 0 {
			t.Errorf("%s: stdout %q", args[0], o.String())
		}
		if files := dirFiles(t, filepath.Join(outDir, "sep")); len(files) != 0 {
			t.Errorf("%s: left %v", args[0], files)
		}
	}
	if files := dirFiles(t, outDir); len(files) > 2 { // separate may make its folder, experiment OUTDIR
		t.Errorf("left behind: %v", files)
	}
	for _, f := range dirFiles(t, outDir) {
		if f == "m.npz" || strings.HasPrefix(f, ".") {
			t.Errorf("left behind: %s", f)
		}
	}
}
