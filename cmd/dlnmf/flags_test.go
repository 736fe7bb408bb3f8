package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		pos       []string
		o         string
		q         bool
		wantUsage bool
	}{
		{args: []string{"-o", "out", "a.wav"}, pos: []string{"a.wav"}, o: "out"},
		{args: []string{"a.wav", "-o", "out"}, pos: []string{"a.wav"}, o: "out"},
		{args: []string{"a.wav", "-o", "out", "b.wav", "--q", "c.wav"}, pos: []string{"a.wav", "b.wav", "c.wav"}, o: "out", q: true},
		{args: []string{"a.wav", "--", "-x.wav", "-o"}, pos: []string{"a.wav", "-x.wav", "-o"}},
		{args: []string{"-q", "--", "-o", "x"}, pos: []string{"-o", "x"}, q: true},
		{args: []string{"./-x.wav", "-o", "o"}, pos: []string{"./-x.wav"}, o: "o"},
		{args: []string{"a.wav", "-x.wav"}, wantUsage: true},
		{args: []string{"a.wav", "-o"}, wantUsage: true},
		{args: nil, pos: nil},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o := fs.String("o", "", "")
		q := fs.Bool("q", false, "")
		pos, err := parseArgs(fs, tc.args)
		var ue usageError
		if tc.wantUsage {
			if !errors.As(err, &ue) {
				t.Errorf("%q: error %v, want a usage error", tc.args, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(pos, tc.pos) || *o != tc.o || *q != tc.q {
			t.Errorf("%q: positional %q, -o %q, -q %v, error %v; want %q, %q, %v", tc.args, pos, *o, *q, err, tc.pos, tc.o, tc.q)
		}
	}
}

// TestFlagsAfterFiles runs the audit's command line: flags after the
// mixture used to be ignored ("-m model.npz and -o OUTDIR are required").
func TestFlagsAfterFiles(t *testing.T) {
	model := testModel(t)
	mix := filepath.Join(t.TempDir(), "mix.wav")
	synthMixture(t, mix, 0.5, 16000, 7)
	out := filepath.Join(t.TempDir(), "out")
	stdout, stderr, code := runCmd(t, "separate", mix, "-m", model, "-o", out, "--iters", "5", "--quiet")
	if code != exitOK || stdout != "" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if got, want := dirFiles(t, out), []string{"mix.high.wav", "mix.low.wav"}; !reflect.DeepEqual(got, want) {
		t.Errorf("output folder holds %v, want %v", got, want)
	}
	// A command without file arguments still rejects a stray one, wherever
	// it stands.
	_, stderr, code = runCmd(t, "eval", "stray.wav", "--ref", "a.wav", "--est", "b.wav")
	wantFailure(t, stderr, code, exitUsage, `unexpected argument "stray.wav"`)
}

// TestHelpFlagPlacement checks that every command's -h states where flags
// may stand and how to name a file that starts with "-".
func TestHelpFlagPlacement(t *testing.T) {
	for name := range commands {
		out, _, code := runCmd(t, name, "-h")
		if code != exitOK || !strings.Contains(out, "after the file arguments") || !strings.Contains(out, "./-name.wav") {
			t.Errorf("%s -h: exit %d, does not state the flag placement rule:\n%s", name, code, out)
		}
	}
}

// TestHelpShowsDefaults checks that every flag of every command states its
// default in -h, also a zero one (flag.PrintDefaults hides those), or that
// it is required.
func TestHelpShowsDefaults(t *testing.T) {
	for name := range commands {
		out, _, _ := runCmd(t, name, "-h")
		_, list, ok := strings.Cut(out, "\nFlags:\n")
		if !ok {
			t.Errorf("%s -h lists no flags:\n%s", name, out)
			continue
		}
		entries := strings.Split(list, "\n  -")
		for _, e := range entries {
			if !strings.Contains(e, "(default") && !strings.Contains(e, "(required)") {
				t.Errorf("%s -h: flag without its default: %q", name, e)
			}
		}
		if !strings.HasPrefix(list, "  -") {
			t.Errorf("%s -h: flag list %q", name, list)
		}
	}
	out, _, _ := runCmd(t, "train", "-h")
	if !strings.Contains(out, "--snr float\n") || !strings.Contains(out, "(default 0)") {
		t.Errorf("train -h does not show --snr's default 0:\n%s", out)
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "-version", "version"} {
		out, errOut, code := runCmd(t, arg)
		if code != exitOK || errOut != "" {
			t.Errorf("%s: exit %d, stderr %q", arg, code, errOut)
		}
		for _, want := range []string{"dlnmf ", "commit ", runtime.Version(), "BLAS: " + blasName()} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: %q does not say %q", arg, out, want)
			}
		}
	}
}

// TestOutputFolderCreated checks that spectrogram makes the folder of its
// output (train's and separate's are checked in their own tests).
func TestOutputFolderCreated(t *testing.T) {
	in := filepath.Join(t.TempDir(), "mix.wav")
	synthMixture(t, in, 0.3, 16000, 3)
	out := filepath.Join(t.TempDir(), "new", "sub", "s.png")
	if _, stderr, code := runCmd(t, "spectrogram", in, "-o", out, "--quiet"); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
}
