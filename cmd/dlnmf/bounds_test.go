package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/internal/sysmem"
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
	// A raw stream's rate is a flag: a usage error.
	_, stderr, code := runWithStdin(t, make([]byte, 3200), "separate", "--live", "-m", model, "-o", t.TempDir(), "--raw", "s16le", "--rate", "1000000000", "-")
	wantFailure(t, stderr, code, exitUsage, "a rate of 1 to 768000 Hz")
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

// Sizes from specs and flags that would train or allocate without bound are
// refused before any work: a patch width, layer sizes, repeats and grids.
func TestProtocolSizesBounded(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 2, 0.2)
	hundred := make([]string, 100)
	for i := range hundred {
		hundred[i] = fmt.Sprint(i + 1)
	}
	list := "[" + strings.Join(hundred, ",") + "]"
	million := fmt.Sprintf(`{"iters": %s, "infer_iters": %s, "disc_iters": %s}`, list, list, list)
	gridFile := filepath.Join(root, "grid.json")
	if err := os.WriteFile(gridFile, []byte(million), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "out")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train", "--speaker", low, "--speaker", high, "-o", filepath.Join(root, "m.npz"), "--context", "1000001"}, exitUsage, "context 1000001: want an odd number of frames from 1 to 255"},
		{[]string{"train", "--speaker", low, "--speaker", high, "-o", filepath.Join(root, "m.npz"), "--method", "nmf", "--k", "1000000000"}, exitUsage, "layer size 1000000000: want 1 to 65536 bases"},
		{[]string{"sweep", writeSpec(t, root, low, high, `[{"k": [1000000000]}]`, `{"k": 1000000000}`), "-o", out}, exitFailure, "layer size 1000000000"},
		{[]string{"sweep", writeSpec(t, root, low, high, `[{"repeats": [1000000000]}]`, `{"repeats": 1000000000}`), "-o", out}, exitFailure, "repeats 1000000000: want 1 to 1000"},
		{[]string{"sweep", writeSpec(t, root, low, high, "["+million+"]", `{"iters": 1}`), "-o", out}, exitFailure, "a grid of more than 1000 points"},
		{[]string{"experiment", "--speaker", low, "--speaker", high, "-o", out, "--select", gridFile}, exitUsage, "a grid of more than 1000 points"},
		{[]string{"experiment", "--speaker", low, "--speaker", high, "-o", out, "--select", million}, exitUsage, "a grid of more than 1000 points"},
		{[]string{"experiment", "--speaker", low, "--speaker", high, "-o", out, "--select", "/dev/zero"}, exitUsage, "/dev/zero is a character device, not a file"},
	} {
		_, stderr, code := runCmd(t, tc.args...)
		wantFailure(t, stderr, code, tc.code, tc.want)
	}
}

// eval's memory grows with the square of the sources (the dense fallback
// of BSS Eval's solver holds (sources x 512)^2 values three times): 100
// sources need 63 GB, which no test machine has to spare. eval refuses
// them from the files' headers, before reading them, with the figure
// (before, 32 sources ended in a runtime dump).
func TestEvalRefusesSetsBeyondMemory(t *testing.T) {
	if _, _, ok := sysmem.Available(); !ok {
		t.Skip("this system does not tell its available memory")
	}
	dir := t.TempDir()
	var refs, ests []string
	for i := range bsseval.MaxSources {
		x := synthVoice([]float64{100 + float64(i)}, 0.05, 8000, uint64(i))
		for _, kind := range []string{"ref", "est"} {
			p := filepath.Join(dir, fmt.Sprintf("%s%d.wav", kind, i))
			writeWAV(t, p, x, 8000)
			if kind == "ref" {
				refs = append(refs, p)
			} else {
				ests = append(ests, p)
			}
		}
	}
	_, stderr, code := runGuarded(t, "eval", "--ref", strings.Join(refs, ","), "--est", strings.Join(ests, ","))
	wantFailure(t, stderr, code, exitFailure, "scoring 100 sources of 400 samples needs at least ", "GiB of memory; this machine has")
}
