package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
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
