package main

import (
	"errors"
	"flag"
	"io"
	"path/filepath"
	"reflect"
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

// TestFlagsAfterFiles runs the command line: flags after the
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
