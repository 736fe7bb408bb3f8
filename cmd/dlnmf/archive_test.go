package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSeparateArchiveShards separates a list of recordings as two shards
// (one from JOB_COMPLETION_INDEX), with a bad file in the list, then reruns
// a shard with --skip-existing.
func TestSeparateArchiveShards(t *testing.T) {
	model := testModel(t)
	in, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	var list []string
	for i := range 5 {
		synthMixture(t, filepath.Join(in, fmt.Sprintf("m%d.wav", i)), 0.5, 16000, uint64(10+i))
		list = append(list, fmt.Sprintf("m%d.wav", i))
	}
	if err := os.WriteFile(filepath.Join(in, "bad.wav"), []byte("not a wav file"), 0o644); err != nil {
		t.Fatal(err)
	}
	list = append(list[:2], append([]string{"bad.wav"}, list[2:]...)...) // index 2: shard 0 of 2
	listFile := filepath.Join(in, "archive.txt")
	if err := os.WriteFile(listFile, []byte("# the archive\n"+strings.Join(list, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"separate", "-m", model, "-o", out, "--list", listFile, "--quiet"}

	_, stderr, code := runCmd(t, append(args, "--shard", "0/2")...)
	wantFailure(t, stderr, code, exitFailure, "output folder", "does not exist")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runCmd(t, append(args, "--shard", "0/2")...)
	if code != exitFailure || !strings.Contains(stderr, "bad.wav") || !strings.Contains(stderr, "1 of 3 files failed") {
		t.Fatalf("shard 0/2 with a bad file: exit %d, stderr:\n%s", code, stderr)
	}
	t.Setenv("JOB_COMPLETION_INDEX", "1")
	if _, stderr, code := runCmd(t, append(args, "--shard", "auto", "--shards", "2")...); code != exitOK {
		t.Fatalf("shard 1/2 (JOB_COMPLETION_INDEX): exit %d: %s", code, stderr)
	}
	for i := range 5 {
		for _, sp := range []string{"low", "high"} {
			if _, err := os.Stat(filepath.Join(out, fmt.Sprintf("m%d.%s.wav", i, sp))); err != nil {
				t.Errorf("m%d: %v", i, err)
			}
		}
	}
	// Shard 1 again: every output is there, nothing is rewritten.
	keep := filepath.Join(out, "m1.low.wav")
	old, _ := os.Stat(keep)
	_, stderr, code = runCmd(t, "separate", "-m", model, "-o", out, "--list", listFile, "--shard", "1/2", "--skip-existing")
	if code != exitOK || !strings.Contains(stderr, "3 of 3 recordings already separated") {
		t.Fatalf("rerun with --skip-existing: exit %d, stderr:\n%s", code, stderr)
	}
	if now, _ := os.Stat(keep); !now.ModTime().Equal(old.ModTime()) {
		t.Error("--skip-existing rewrote an output")
	}
	// Shard 0 again: only the bad file is left, and still reported.
	_, stderr, code = runCmd(t, append(args, "--shard", "0/2", "--skip-existing")...)
	if code != exitFailure || !strings.Contains(stderr, "1 of 1 files failed") {
		t.Errorf("rerun of shard 0/2: exit %d, stderr:\n%s", code, stderr)
	}
	_, stderr, code = runCmd(t, append(args, "--shard", "2/2")...)
	wantFailure(t, stderr, code, exitUsage, "out of range")
}
