package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/scoring"
	"github.com/dlnmf/dlnmf/wav"
)

// evalTree lays out two sets in the "dlnmf separate" naming (mix1, mix2),
// one in museval's folder layout (sub/mix3), a reference without its
// estimate (mix4) and an estimate without its reference (extra): the
// estimates of every set are in swapped order.
func evalTree(t *testing.T) (refDir, estDir string, refs, ests []string) {
	t.Helper()
	root := t.TempDir()
	refs, ests = evalFiles(t, root, 8000, 16000)
	refDir, estDir = filepath.Join(root, "ref"), filepath.Join(root, "est")
	cp := func(src, dst string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, set := range [][2]string{{"mix1.high", "mix1.low"}, {"mix2.high", "mix2.low"}, {"sub/mix3/a", "sub/mix3/b"}} {
		for i, name := range set {
			cp(refs[i], filepath.Join(refDir, name+".wav"))
			cp(ests[i], filepath.Join(estDir, name+".wav"))
		}
	}
	cp(refs[0], filepath.Join(refDir, "mix4.low.wav"))
	cp(ests[0], filepath.Join(estDir, "extra.x.wav"))
	return refDir, estDir, refs, ests
}

func TestEvalDirs(t *testing.T) {
	refDir, estDir, refs, ests := evalTree(t)
	want, err := bsseval.Sources(readMono(t, refs), readMono(t, ests), bsseval.Options{Permute: true})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "new", "scores")
	stdout, stderr, code := runEvalForTest(t, "--ref-dir", refDir, "--est-dir", estDir, "-o", out, "--perm", "--jobs", "2")
	if code != exitFailure {
		t.Errorf("exit %d, want 1 (two sets incomplete)", code)
	}
	if !strings.Contains(stderr, "mix4: no estimate for "+filepath.Join(refDir, "mix4.low.wav")) || !strings.Contains(stderr, "extra: no reference for "+filepath.Join(estDir, "extra.x.wav")) ||
		!strings.Contains(stderr, "2 of 5 sets could not be scored") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if lines := strings.Split(strings.TrimSpace(stdout), "\n"); len(lines) != 1+6+1 || !strings.HasPrefix(strings.TrimSpace(lines[7]), "mean") {
		t.Errorf("table:\n%s", stdout)
	}

	var b scoring.Batch
	js, err := os.ReadFile(filepath.Join(out, "scores.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Sets) != 3 || len(b.Failed) != 2 || !b.Permute {
		t.Fatalf("scores.json: %d sets, %d failed", len(b.Sets), len(b.Failed))
	}
	for i, item := range []string{"mix1", "mix2", "sub/mix3"} {
		s := b.Sets[i]
		if s.Item != item || len(s.Sources) != 2 || s.Scores == nil || s.Scores.Perm[0] != 1 || s.Scores.Perm[1] != 0 {
			t.Errorf("set %d: %+v", i, s)
			continue
		}
		for j := range 2 {
			if float64(s.Scores.SDR[j]) != want.SDR[j] || float64(s.Scores.SIR[j]) != want.SIR[j] || float64(s.Scores.SAR[j]) != want.SAR[j] {
				t.Errorf("%s source %d: scores differ from bsseval.Sources", item, j)
			}
		}
	}
	if s := b.Sets[2]; s.Sources[0] != "a" || s.References[0] != filepath.Join(refDir, "sub", "mix3", "a.wav") || s.Estimates[1] != filepath.Join(estDir, "sub", "mix3", "b.wav") {
		t.Errorf("museval layout: %+v", s)
	}
	if b.Mean == nil || math.Abs(float64(b.Mean.SDR)-(want.SDR[0]+want.SDR[1])/2) > 1e-9 {
		t.Errorf("mean %+v", b.Mean)
	}

	rows := readCSV(t, filepath.Join(out, "scores.csv"))
	if len(rows) != 7 || strings.Join(rows[0], ",") != "item,source,reference,estimate,perm,sdr,sir,sar,si_sdr" {
		t.Fatalf("scores.csv: %v", rows)
	}
	// Source "high" of mix1 is scored against the estimate file mix1.low.wav.
	if r := rows[1]; r[0] != "mix1" || r[1] != "high" || r[2] != filepath.Join(refDir, "mix1.high.wav") || r[3] != filepath.Join(estDir, "mix1.low.wav") || r[4] != "1" {
		t.Errorf("first row %v", r)
	}
	if v, err := strconv.ParseFloat(rows[1][5], 64); err != nil || v-want.SDR[0] > 1e-4 || want.SDR[0]-v > 1e-4 {
		t.Errorf("first row's SDR %q, want %.4f", rows[1][5], want.SDR[0])
	}

	// Framewise: one CSV row per frame.
	os.Remove(filepath.Join(refDir, "mix4.low.wav"))
	os.Remove(filepath.Join(estDir, "extra.x.wav"))
	_, stderr, code = runEvalForTest(t, "--ref-dir", refDir, "--est-dir", estDir, "-o", out, "--window", "4000", "--json")
	if code != exitOK {
		t.Fatalf("framewise: exit %d, %s", code, stderr)
	}
	b2, _ := os.ReadFile(filepath.Join(out, "scores.csv"))
	if n := strings.Count(string(b2), "\n"); n != 1+3*2*3 || !strings.HasPrefix(string(b2), "item,source,reference,frame,start_s,") {
		t.Errorf("framewise scores.csv has %d lines:\n%s", n, b2)
	}
}

func TestEvalDirsErrors(t *testing.T) {
	refDir, estDir, _, _ := evalTree(t)
	out := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--ref-dir", refDir, "-o", out}, exitUsage, "go together"},
		{[]string{"--ref-dir", refDir, "--est-dir", estDir}, exitUsage, "-o"},
		{[]string{"--ref-dir", refDir, "--est-dir", estDir, "-o", out, "--ref", "a.wav"}, exitUsage, "not both"},
		{[]string{"--ref", "a.wav", "--est", "b.wav", "-o", out}, exitUsage, "-o is for --ref-dir"},
		{[]string{"--ref-dir", filepath.Join(out, "none"), "--est-dir", estDir, "-o", out}, exitFailure, "none"},
	} {
		_, stderr, code := runEvalForTest(t, c.args...)
		wantFailure(t, stderr, code, c.code, c.want)
	}
}

// A file name a spreadsheet would read as a formula is written to
// scores.csv as text: after a single quote (OWASP's advice against CSV
// injection).
func TestEvalDirsCSVQuotesFormulas(t *testing.T) {
	root := t.TempDir()
	refs, ests := evalFiles(t, root, 8000, 16000)
	refDir, estDir := filepath.Join(root, "ref"), filepath.Join(root, "est")
	for _, d := range []string{refDir, estDir} {
		os.MkdirAll(d, 0o755)
	}
	for i, source := range []string{"a", "b"} {
		os.Link(refs[i], filepath.Join(refDir, "=cmd|calc."+source+".wav"))
		os.Link(ests[i], filepath.Join(estDir, "=cmd|calc."+source+".wav"))
	}
	out := t.TempDir()
	if _, stderr, code := runEvalForTest(t, "--ref-dir", refDir, "--est-dir", estDir, "-o", out); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows := readCSV(t, filepath.Join(out, "scores.csv"))
	if len(rows) != 3 || rows[1][0] != "'=cmd|calc" || rows[1][1] != "a" || rows[2][1] != "b" || !strings.HasSuffix(rows[1][3], "=cmd|calc.a.wav") {
		t.Errorf("scores.csv: %q", rows)
	}
}

// readCSV reads the records of a CSV file.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// A set's mixture beside its estimates (mix1.wav beside mix1.*.wav), or
// beside its references (sub/mix3/mixture.wav, museval's layout), is the
// set's mixture, not a source without its pair: its set gets SDRi and
// SI-SDRi, a set without one (mix2) empty cells.
func TestEvalDirsMixtures(t *testing.T) {
	refDir, estDir, refs, _ := evalTree(t)
	os.Remove(filepath.Join(refDir, "mix4.low.wav"))
	os.Remove(filepath.Join(estDir, "extra.x.wav"))
	sources := readMono(t, refs)
	mix := make([]float64, len(sources[0]))
	for i := range mix {
		mix[i] = sources[0][i] + sources[1][i]
	}
	writeAudio(t, filepath.Join(estDir, "mix1.wav"), mix, 16000, wav.WAV, wav.Float32)
	writeAudio(t, filepath.Join(refDir, "sub", "mix3", "mixture.flac"), mix, 16000, wav.FLAC, wav.PCM24)
	out := t.TempDir()
	stdout, stderr, code := runEvalForTest(t, "--ref-dir", refDir, "--est-dir", estDir, "-o", out, "--perm")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "SDRi dB") {
		t.Errorf("stdout:\n%s", stdout)
	}
	rows := readCSV(t, filepath.Join(out, "scores.csv"))
	if len(rows) != 7 || strings.Join(rows[0], ",") != "item,source,reference,estimate,perm,sdr,sir,sar,si_sdr,sdri,si_sdri" {
		t.Fatalf("scores.csv: %q", rows)
	}
	for _, r := range rows[1:] {
		withMixture := r[0] != "mix2"
		if (r[9] != "") != withMixture || (r[10] != "") != withMixture {
			t.Errorf("row %q", r)
		}
		if withMixture {
			if v, err := strconv.ParseFloat(r[9], 64); err != nil || v < 3 {
				t.Errorf("row %q: SDRi %v", r, v)
			}
		}
	}
	var batch scoring.Batch
	b, _ := os.ReadFile(filepath.Join(out, "scores.json"))
	if err := json.Unmarshal(b, &batch); err != nil {
		t.Fatal(err)
	}
	if len(batch.Sets) != 3 || batch.Sets[0].Mixture != filepath.Join(estDir, "mix1.wav") || batch.Sets[1].Mixture != "" ||
		batch.Sets[2].Mixture != filepath.Join(refDir, "sub", "mix3", "mixture.flac") || batch.Mean.SDRi == nil {
		t.Errorf("scores.json: %s", b)
	}
}
