package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlnmf/dlnmf/internal/testpipe"
	"github.com/dlnmf/dlnmf/wav"
)

// runWithStdin runs one dlnmf command line in-process with b arriving on
// standard input through a real pipe (an *os.File that cannot seek).
func runWithStdin(t *testing.T, b []byte, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	env := &environment{stdin: testpipe.Reader(t, b), stdout: &o, stderr: &e}
	code = runMain(context.Background(), env, args)
	return o.String(), e.String(), code
}

// flacCopy writes the samples of the WAV file path as a 16-bit FLAC file.
func flacCopy(t *testing.T, path string) string {
	t.Helper()
	a, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := path[:len(path)-len(filepath.Ext(path))] + ".flac"
	w, err := wav.CreateFormat(out, wav.FLAC, a.Rate, wav.PCM16, a.Len())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(a.Channels[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// `separate -` reads a WAV whose header gives its length, or a FLAC, through
// a pipe exactly as it reads the same file: the same output bytes.
func TestSeparateStandardInputPipe(t *testing.T) {
	model := testModel(t)
	in := t.TempDir()
	mix := filepath.Join(in, "mix.wav")
	synthMixture(t, mix, 0.5, 16000, 41)
	common := []string{"-m", model, "--iters", "10", "--jobs", "1", "--quiet", "--format", "wav"}
	for _, path := range []string{mix, flacCopy(t, mix)} {
		fileOut, pipeOut := t.TempDir(), t.TempDir()
		if _, stderr, code := runCmd(t, append([]string{"separate", "-o", fileOut, path}, common...)...); code != exitOK {
			t.Fatalf("%s: exit %d: %s", path, code, stderr)
		}
		_, stderr, code := runWithStdin(t, mustRead(t, path), append([]string{"separate", "-o", pipeOut, "-"}, common...)...)
		if code != exitOK {
			t.Fatalf("%s through a pipe: exit %d: %s", filepath.Base(path), code, stderr)
		}
		for _, s := range []string{"low", "high"} {
			want := mustRead(t, filepath.Join(fileOut, "mix."+s+".wav"))
			got := mustRead(t, filepath.Join(pipeOut, "stdin."+s+".wav"))
			if !bytes.Equal(got, want) {
				t.Errorf("%s through a pipe: %s differs from the file's (%d and %d bytes)", filepath.Base(path), s, len(got), len(want))
			}
		}
	}
}

// The same through a child process: `cat mix | dlnmf separate --stdout low -`.
func TestSeparateStandardInputFromCat(t *testing.T) {
	if _, err := exec.LookPath("cat"); err != nil {
		t.Skip("no cat command")
	}
	bin := buildDlnmf(t)
	model := testModel(t)
	mix := filepath.Join(t.TempDir(), "mix.wav")
	synthMixture(t, mix, 0.5, 16000, 43)
	args := []string{"separate", "-m", model, "--iters", "10", "--quiet", "--stdout", "low"}
	want, stderr, code := runCmd(t, append(args, mix)...)
	if code != exitOK {
		t.Fatalf("from the file: exit %d: %s", code, stderr)
	}
	sh := exec.Command("sh", "-c", `f=$1 b=$2; shift 2; cat "$f" | "$b" "$@"`, "sh", mix, bin)
	sh.Args = append(sh.Args, append(args, "-")...)
	var errBuf bytes.Buffer
	sh.Stderr = &errBuf
	got, err := sh.Output()
	if err != nil {
		t.Fatalf("cat | dlnmf separate: %v: %s", err, errBuf.String())
	}
	if !bytes.Equal(got, []byte(want)) {
		t.Errorf("cat | dlnmf separate --stdout low: %d bytes, the file gives %d, not the same", len(got), len(want))
	}
}

// A WAV stream of unknown length (the sizes a writer to a pipe leaves: 0 or
// 0xFFFFFFFF) separates as the file with its true sizes does.
func TestSeparateStreamOfUnknownLength(t *testing.T) {
	model := testModel(t)
	mix := filepath.Join(t.TempDir(), "mix.wav")
	synthMixture(t, mix, 0.5, 16000, 47)
	common := []string{"-m", model, "--iters", "10", "--jobs", "1", "--quiet", "--format", "wav"}
	fileOut := t.TempDir()
	if _, stderr, code := runCmd(t, append([]string{"separate", "-o", fileOut, mix}, common...)...); code != exitOK {
		t.Fatalf("from the file: exit %d: %s", code, stderr)
	}
	for _, size := range []uint32{0, math.MaxUint32} {
		b := mustRead(t, mix)
		binary.LittleEndian.PutUint32(b[4:], size)
		binary.LittleEndian.PutUint32(b[40:], size)
		pipeOut := t.TempDir()
		_, stderr, code := runWithStdin(t, b, append([]string{"separate", "-o", pipeOut, "-"}, common...)...)
		if code != exitOK {
			t.Fatalf("sizes %#x through a pipe: exit %d: %s", size, code, stderr)
		}
		for _, s := range []string{"low", "high"} {
			want := mustRead(t, filepath.Join(fileOut, "mix."+s+".wav"))
			got := mustRead(t, filepath.Join(pipeOut, "stdin."+s+".wav"))
			if !bytes.Equal(got, want) {
				t.Errorf("sizes %#x through a pipe: %s differs from the file's (%d and %d bytes)", size, s, len(got), len(want))
			}
		}
	}
}

// A pipe that stalls after part of its data: SIGINT or SIGTERM ends
// separate within about a second with exit 130, and no output is left,
// neither in -o nor a temporary file.
func TestSeparateStalledPipeInterrupted(t *testing.T) {
	bin := buildDlnmf(t)
	model := testModel(t)
	mix := filepath.Join(t.TempDir(), "mix.wav")
	synthMixture(t, mix, 2, 16000, 71)
	data := mustRead(t, mix)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		out := t.TempDir()
		cmd, w, _, stderr := startChild(t, bin, "separate", "-m", model, "-o", out, "--iters", "5", "--quiet", "-")
		w.Write(data[:len(data)/2]) // then the pipe stalls, open
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(sig)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: separate did not end within 10 s", sig)
		}
		w.Close()
		if code := cmd.ProcessState.ExitCode(); code != exitCanceled {
			t.Errorf("%v: exit %d, want 130; stderr:\n%s", sig, code, stderr.String())
		}
		checkNoPanic(t, stderr.String())
		if got := dirFiles(t, out); len(got) != 0 {
			t.Errorf("%v: left %v", sig, got)
		}
	}
}

// Offline --stdout into a reader that closes (| head -c 100): one line and
// exit 1, as --live does, not a death by SIGPIPE (exit 141).
func TestSeparateStdoutClosedByReader(t *testing.T) {
	bin := buildDlnmf(t)
	model := testModel(t)
	mix := filepath.Join(t.TempDir(), "mix.wav")
	synthMixture(t, mix, 20, 16000, 73)
	cmd, _, r, stderr := startChild(t, bin, "separate", "-m", model, "--stdout", "low", "--iters", "5", mix)
	head := make([]byte, 100)
	io.ReadFull(r, head)
	r.Close()
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitFailure || !strings.Contains(stderr.String(), "closed by its reader") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
	checkNoPanic(t, stderr.String())
}

// startChild starts the built dlnmf with args, its standard input and
// output pipes, its standard error collected.
func startChild(t *testing.T, bin string, args ...string) (*exec.Cmd, io.WriteCloser, io.ReadCloser, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, w, r, stderr
}

// separate --live -o DIR replaces a symbolic link at an output's path (to
// a file outside DIR) instead of writing through it, and the output still
// grows as a regular file.
func TestSeparateLiveReplacesLink(t *testing.T) {
	model := testModel(t)
	out := t.TempDir()
	outside := filepath.Join(t.TempDir(), "precious.wav")
	if err := os.WriteFile(outside, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(out, "live.low.wav")); err != nil {
		t.Fatal(err)
	}
	stream := liveStream(t, synthVoice([]float64{150, 220}, 0.5, 16000, 5), 16000)
	if _, stderr, code := runWithStdin(t, stream, "separate", "--live", "-m", model, "-o", out, "--iters", "5", "--quiet", "-"); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep me" {
		t.Errorf("the link's target was written through: %d bytes", len(b))
	}
	fi, err := os.Lstat(filepath.Join(out, "live.low.wav"))
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("live.low.wav is not a regular file: %v", err)
	}
	if got := readSamples(t, filepath.Join(out, "live.low.wav")); len(got) != 8000 {
		t.Errorf("live.low.wav holds %d samples, want 8000", len(got))
	}
}
