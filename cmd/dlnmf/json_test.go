package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrainJSON checks train --json: one object on stdout naming the model,
// each speaker's files and cost, and the training settings.
func TestTrainJSON(t *testing.T) {
	low, high := synthSpeakers(t, t.TempDir(), 5, 0.5)
	out := filepath.Join(t.TempDir(), "m.npz")
	stdout, stderr, code := runCmd(t, append(trainArgs("dlnmf", out, low, high), "--json")...)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var sum trainSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	if sum.Model != out || sum.Method != "dlnmf" || len(sum.Sizes) != 2 || sum.Sizes[0] != 8 || len(sum.Speakers) != 2 {
		t.Errorf("summary %+v", sum)
	}
	for i, name := range []string{"low", "high"} {
		s := sum.Speakers[i]
		// 5 files, one held back (20%) for the discriminative mixtures.
		if s.Name != name || s.Files != 5 || s.TrainFiles != 4 || s.Seconds < 2.4 || s.Iterations < 1 || !(s.FinalCost > 0) {
			t.Errorf("speaker %d: %+v", i, s)
		}
	}
	if sum.DiscMixtures != 1 || sum.Training.Rounds != 1 || sum.Training.Seed != 1 {
		t.Errorf("DL-NMF part of the summary: %d mixtures, training %+v", sum.DiscMixtures, sum.Training)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
}

// TestSeparateJSON checks separate --json: every input in command-line
// order with its outputs, or its error.
func TestSeparateJSON(t *testing.T) {
	model := testModel(t)
	in := t.TempDir()
	a, b := filepath.Join(in, "a.wav"), filepath.Join(in, "b.wav")
	synthMixture(t, a, 0.4, 16000, 1)
	synthMixture(t, b, 0.4, 22050, 2)
	bad := filepath.Join(in, "bad.wav")
	os.WriteFile(bad, []byte("not a wav"), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	stdout, _, code := runCmd(t, "separate", "--json", "--quiet", "-m", model, "-o", out, "--iters", "5", b, bad, a)
	if code != exitFailure {
		t.Errorf("exit %d, want 1 (one file failed)", code)
	}
	var sum separateSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	if sum.Model != model || sum.OutDir != out || sum.Separated != 2 || sum.Failed != 1 || len(sum.Files) != 3 {
		t.Fatalf("summary %+v", sum)
	}
	for i, want := range []string{b, bad, a} {
		f := sum.Files[i]
		if f.Input != want {
			t.Errorf("file %d is %s, want %s", i, f.Input, want)
		}
		if want == bad {
			if f.Error == "" || len(f.Outputs) != 0 {
				t.Errorf("the bad file: %+v", f)
			}
			continue
		}
		base := strings.TrimSuffix(filepath.Base(want), ".wav")
		if f.Error != "" || len(f.Outputs) != 2 || f.Outputs[0] != filepath.Join(out, base+".low.wav") || f.Outputs[1] != filepath.Join(out, base+".high.wav") {
			t.Errorf("file %d: %+v", i, f)
		}
		for _, o := range f.Outputs {
			if _, err := os.Stat(o); err != nil {
				t.Error(err)
			}
		}
	}
}
