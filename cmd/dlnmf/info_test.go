package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/wav"
)

func runInfoForTest(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	env := &environment{stdout: &o, stderr: &e}
	code = runMain(context.Background(), env, append([]string{"info"}, args...))
	return o.String(), e.String(), code
}

func TestInfo(t *testing.T) {
	dir := t.TempDir()
	loud := filepath.Join(dir, "loud.wav")
	x := make([]float64, 16000)
	for i := range x {
		x[i] = 0.5
		if i%2 == 1 {
			x[i] = -0.5
		}
	}
	if _, err := wav.WriteFile(loud, x, 16000, wav.PCM16); err != nil {
		t.Fatal(err)
	}
	silent := filepath.Join(dir, "silent.wav")
	if _, err := wav.WriteFile(silent, make([]float64, 800), 8000, wav.Float32); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "notes.wav")
	os.WriteFile(text, []byte("not audio\n"), 0o644)

	flac := filepath.Join(dir, "loud.flac")
	writeAudio(t, flac, x, 16000, wav.FLAC, wav.PCM16)

	out, errOut, code := runInfoForTest(t, loud, text, silent, flac)
	if code != exitFailure {
		t.Errorf("exit code %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("stdout:\n%s", out)
	}
	want := loud + ": WAV, 16000 Hz, 1 channel, 16-bit PCM, 1.000 s (16000 samples), peak -6.02 dBFS, RMS -6.02 dBFS"
	if lines[0] != want {
		t.Errorf("got  %s\nwant %s", lines[0], want)
	}
	if !strings.Contains(lines[1], "8000 Hz, 1 channel, 32-bit float, 0.100 s") || !strings.Contains(lines[1], "silent") {
		t.Errorf("silent file: %s", lines[1])
	}
	// A FLAC file is named as one.
	if want := flac + ": FLAC, 16000 Hz, 1 channel, 16-bit PCM, 1.000 s"; !strings.HasPrefix(lines[2], want) {
		t.Errorf("got  %s\nwant %s...", lines[2], want)
	}
	errLines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(errLines) != 2 || !strings.Contains(errLines[0], text+": not a WAV file") || !strings.Contains(errLines[1], "1 of 4 files could not be read") {
		t.Errorf("stderr:\n%s", errOut)
	}

	out, _, code = runInfoForTest(t, loud, "--json", silent, flac)
	if code != exitOK {
		t.Errorf("--json: exit code %d", code)
	}
	var infos []fileInfo
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if len(infos) != 3 || infos[0].Rate != 16000 || *infos[0].PeakDB != -6.02 || infos[1].PeakDB != nil || infos[0].Format != "WAV" || infos[2].Format != "FLAC" {
		t.Errorf("--json: %s", out)
	}

	if _, _, code := runInfoForTest(t); code != exitUsage {
		t.Errorf("no files: exit code %d, want 2", code)
	}
}

// A live output cut by SIGKILL keeps the placeholder sizes of its header:
// info reads it as the stream it was, to the end of the file.
func TestInfoReadsCutLiveOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.low.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := wav.NewStreamWriter(f, 16000, wav.PCM16)
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Write(make([]float64, 1600)); err != nil {
		t.Fatal(err)
	}
	f.Close() // no sw.Close: the sizes stay 0xFFFFFFFF
	stdout, stderr, code := runInfoForTest(t, path)
	if code != exitOK || !strings.Contains(stdout, "0.100 s (1600 samples)") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
