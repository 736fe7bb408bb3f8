package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Sizes that come from input (headers, models, specs, flags) are checked
// before anything is sized from them: one line, exit 1 for a bad file, 2
// for a bad command line, never a runtime dump.

func TestSeparateRefusesAbsurdRate(t *testing.T) {
	model := testModel(t)
	dir := t.TempDir()
	for _, rate := range []uint32{1e9, 1<<31 - 1} {
		mix := filepath.Join(dir, "mix.wav")
		writeWAV(t, mix, make([]float64, 1600), 16000)
		b := mustRead(t, mix)
		binary.LittleEndian.PutUint32(b[24:], rate)
		binary.LittleEndian.PutUint32(b[28:], rate*2)
		if err := os.WriteFile(mix, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := runCmd(t, "separate", "-m", model, "-o", t.TempDir(), mix)
		if code != exitFailure || !strings.HasPrefix(stderr, "dlnmf separate: "+mix+": sample rate") || !strings.Contains(stderr, "above the 768000 Hz read") {
			t.Errorf("rate %d: exit %d, stderr %q", rate, code, stderr)
		}
		checkNoPanic(t, stderr)
	}
	_, stderr, code := runWithStdin(t, make([]byte, 3200), "separate", "--live", "-m", model, "-o", t.TempDir(), "--raw", "s16le", "--rate", "1000000000", "-")
	wantFailure(t, stderr, code, exitFailure, "a rate of 1 to 768000 Hz")
}

// info on a file of 65,535 8-bit channels allocates about what one read of
// it holds, not a buffer sized by the channel count (it took 1.1 GB for a
// 131 MB file).
func TestInfoManyChannels(t *testing.T) {
	const nc, frames = 65535, 20
	path := filepath.Join(t.TempDir(), "wide.wav")
	hdr := make([]byte, 44)
	le := binary.LittleEndian
	copy(hdr, "RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00")
	le.PutUint16(hdr[20:], 1) // PCM
	le.PutUint16(hdr[22:], nc)
	le.PutUint32(hdr[24:], 8000)
	le.PutUint32(hdr[28:], 8000*nc)
	le.PutUint16(hdr[32:], nc)
	le.PutUint16(hdr[34:], 8)
	copy(hdr[36:], "data")
	le.PutUint32(hdr[40:], nc*frames)
	le.PutUint32(hdr[4:], 36+nc*frames)
	data := make([]byte, nc*frames)
	for i := range data {
		data[i] = 128 + byte(i%3)
	}
	if err := os.WriteFile(path, append(hdr, data...), 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	stdout, stderr, code := runInfoForTest(t, path)
	runtime.ReadMemStats(&after)
	if code != exitOK || !strings.Contains(stdout, "65535 channels") || !strings.Contains(stdout, "(20 samples)") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("info allocated %d MB for a file of %d MB", got>>20, len(data)>>20)
	}
}
