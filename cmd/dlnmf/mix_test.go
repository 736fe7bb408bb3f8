package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMixSeparateEval makes the test case of a paper with dlnmf mix,
// separates it and scores it: eval's folder mode finds the mixture beside
// the references and reports the SDR improvement over it.
func TestMixSeparateEval(t *testing.T) {
	model := testModel(t)
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 1, 1)
	ref, est, scores := filepath.Join(root, "ref"), filepath.Join(root, "est"), filepath.Join(root, "scores")
	mixFile := filepath.Join(ref, "mix1.wav")
	stdout, stderr, code := runCmd(t, "mix", "-o", mixFile, "--snr", "0", "--names", "low,high",
		filepath.Join(strings.TrimPrefix(low, "low="), "low00.wav"), filepath.Join(strings.TrimPrefix(high, "high="), "high00.wav"))
	if code != exitOK || !strings.Contains(stdout, mixFile+": 1.00 s at 16000 Hz, low at 0 dB over high") {
		t.Fatalf("mix: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, name := range []string{"mix1.wav", "mix1.low.wav", "mix1.high.wav"} {
		if _, err := os.Stat(filepath.Join(ref, name)); err != nil {
			t.Error(err)
		}
	}
	if _, stderr, code := runCmd(t, "separate", "-m", model, "-o", est, "--quiet", mixFile); code != exitOK {
		t.Fatalf("separate: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCmd(t, "eval", "--ref-dir", ref, "--est-dir", est, "-o", scores); code != exitOK {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	rows := readCSV(t, filepath.Join(scores, "scores.csv"))
	if len(rows) != 3 || rows[0][9] != "sdri" {
		t.Fatalf("scores.csv: %q", rows)
	}
	for _, r := range rows[1:] {
		if v, err := strconv.ParseFloat(r[9], 64); err != nil || v < 1 {
			t.Errorf("%s: SDRi %q", r[1], r[9])
		}
	}
}

func TestMixUsageErrors(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.wav"), filepath.Join(dir, "b.wav")
	writeWAV(t, a, synthVoice([]float64{150}, 0.2, 16000, 1), 16000)
	writeWAV(t, b, synthVoice([]float64{250}, 0.2, 16000, 2), 16000)
	out := filepath.Join(dir, "m.wav")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{a, b}, exitUsage, "-o OUT.wav"},
		{[]string{"-o", out, a}, exitUsage, "at least two"},
		{[]string{"-o", out, "--snr", "NaN", a, b}, exitUsage, "--snr"},
		{[]string{"-o", out, "--names", "x", a, b}, exitUsage, "1 name for 2"},
		{[]string{"-o", out, "--names", "x,X", a, b}, exitUsage, "would have one name"},
		{[]string{"-o", out, a, filepath.Join(dir, "missing.wav")}, exitFailure, "missing.wav"},
	} {
		_, stderr, code := runCmd(t, append([]string{"mix"}, c.args...)...)
		wantFailure(t, stderr, code, c.code, c.want)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed mix left its mixture")
	}
}
