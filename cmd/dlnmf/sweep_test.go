package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSpec writes a sweep spec over the synthetic speakers low and high
// ("NAME=DIR") with the tiny protocol and the given grid.
func writeSpec(t *testing.T, dir, low, high, grid, baseline string) string {
	t.Helper()
	spec := fmt.Sprintf(`{"pairs": [{"speakers": [%q, %q]}],
 "protocol": {"repeats": 2, "k": [4], "iters": 10, "infer_iters": 10, "rounds": 1, "disc_iters": 5, "examples": 1},
 "grid": %s, "baseline": %s}`, low, high, grid, baseline)
	p := filepath.Join(dir, fmt.Sprintf("spec%d.json", len(grid)))
	if err := os.WriteFile(p, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func unitFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "units", "u*[0-9].json"))
	out := map[string]string{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(n)] = string(b)
	}
	return out
}

// TestSweepOfOneIsTheExperiment: a sweep of one pair and one configuration
// computes the same unit files, byte for byte, as dlnmf experiment.
func TestSweepOfOneIsTheExperiment(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 10, 0.3)
	spec := writeSpec(t, root, low, high, `[{"method": ["dlnmf"], "layers": [[8, 3]]}]`, `{"method": "dlnmf"}`)
	sweep, exp := filepath.Join(root, "sweep"), filepath.Join(root, "exp")
	if _, stderr, code := runCmd(t, "sweep", spec, "-o", sweep, "--quiet"); code != exitOK {
		t.Fatalf("sweep: exit %d: %s", code, stderr)
	}
	args := append([]string{"experiment", "--speaker", low, "--speaker", high, "-o", exp, "--quiet", "--methods", "dlnmf"}, tinyProtocol...)
	if _, stderr, code := runCmd(t, args...); code != exitOK {
		t.Fatalf("experiment: exit %d: %s", code, stderr)
	}
	a, b := unitFiles(t, sweep), unitFiles(t, exp)
	if len(a) != 2 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("the sweep's %d units differ from the experiment's %d", len(a), len(b))
	}
}

// TestSweepShardsAndSummary runs a two-configuration sweep as two shards
// (the second from a Kubernetes-style JOB_COMPLETION_INDEX) and summarises
// it: the tables equal the one-process sweep's. A second spec into the same
// folder is refused.
func TestSweepShardsAndSummary(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 10, 0.3)
	spec := writeSpec(t, root, low, high, `[{"method": ["lnmf", "dlnmf"], "layers": [[8, 3]]}]`, `{"method": "lnmf"}`)
	whole, sharded := filepath.Join(root, "whole"), filepath.Join(root, "sharded")
	stdout, stderr, code := runCmd(t, "sweep", spec, "-o", whole, "--quiet", "--json")
	if code != exitOK {
		t.Fatalf("sweep: exit %d: %s", code, stderr)
	}
	var want struct {
		Tables [][]map[string]any `json:"tables"`
	}
	if err := json.Unmarshal([]byte(stdout), &want); err != nil {
		t.Fatal(err)
	}
	if len(want.Tables) != 2 || len(want.Tables[0]) != 2 || want.Tables[0][1]["row"] != "DL-NMF 8,3" || want.Tables[0][1]["p"] == nil {
		t.Fatalf("tables %v", want.Tables)
	}
	// A shard needs its folder to exist (on a cluster, the shared one).
	_, stderr, code = runCmd(t, "sweep", spec, "-o", sharded, "--shard", "0/2")
	wantFailure(t, stderr, code, exitFailure, "output folder", "create it before submitting")
	if err := os.Mkdir(sharded, 0o755); err != nil {
		t.Fatal(err)
	}
	// The summary before the shards ran names the missing units.
	_, stderr, code = runCmd(t, "sweep", spec, "-o", sharded, "--summarize", "--quiet")
	wantFailure(t, stderr, code, exitFailure, "4 of 4 units are missing", "unit 0 (low+high, layers=8,3 method=lnmf, repeat 1)")
	if _, stderr, code := runCmd(t, "sweep", spec, "-o", sharded, "--shard", "0/2", "--quiet"); code != exitOK {
		t.Fatalf("shard 0/2: exit %d: %s", code, stderr)
	}
	t.Setenv("JOB_COMPLETION_INDEX", "1")
	_, stderr, code = runCmd(t, "sweep", spec, "-o", sharded, "--shard", "auto")
	wantFailure(t, stderr, code, exitUsage, "--shards N gives the count")
	if _, stderr, code := runCmd(t, "sweep", spec, "-o", sharded, "--shard", "auto", "--shards", "2"); code != exitOK || !strings.Contains(stderr, "shard 1/2: 2 of 4 units") {
		t.Fatalf("shard auto (JOB_COMPLETION_INDEX=1 of 2): exit %d: %s", code, stderr)
	}
	stdout, stderr, code = runCmd(t, "sweep", spec, "-o", sharded, "--summarize", "--quiet", "--json")
	if code != exitOK {
		t.Fatalf("summary: exit %d: %s", code, stderr)
	}
	var got struct {
		Tables [][]map[string]any `json:"tables"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.Tables) != fmt.Sprint(want.Tables) {
		t.Errorf("sharded tables\n%v\nwant\n%v", got.Tables, want.Tables)
	}
	if fmt.Sprint(unitFiles(t, sharded)) != fmt.Sprint(unitFiles(t, whole)) {
		t.Error("the shards' units differ from the one-process sweep's")
	}

	// Another spec into the same folder: refused, nothing changed.
	other := writeSpec(t, root, low, high, `[{"method": ["lnmf"], "layers": [[8, 3]]}, {"method": ["nmf"], "k": [4]}]`, `{"method": "lnmf"}`)
	_, stderr, code = runCmd(t, "sweep", other, "-o", sharded, "--shard", "0/2", "--quiet")
	wantFailure(t, stderr, code, exitFailure, "holds another sweep")
	if fmt.Sprint(unitFiles(t, sharded)) != fmt.Sprint(unitFiles(t, whole)) {
		t.Error("a refused sweep changed the units")
	}
}

func TestSweepBadSpec(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 10, 0.3)
	for _, c := range []struct{ grid, baseline, want string }{
		{`[{"method": ["dlnmf"], "layers": [[8, 3]]}]`, `{"method": "nmf"}`, "baseline is none"},
		{`[{"method": ["dlnmf"], "layers": [[8, 3], [8, 4]]}]`, `{"method": "dlnmf"}`, "the baseline matches"},
		{`[{"method": ["dlnmf"], "layers": [[8, 3]], "colour": [1]}]`, `{"method": "dlnmf"}`, `unknown setting "colour"`},
		{`[{"method": ["nmf", "dlnmf"]}]`, `{"method": "nmf"}`, "makes 3 rows"},
		{`[{"method": ["dnmf"], "k": [4]}]`, `{"method": "dnmf"}`, "dnmf"},
		{`[{"method": "dlnmf"}]`, `{"method": "dlnmf"}`, "must list its values"},
	} {
		spec := writeSpec(t, root, low, high, c.grid, c.baseline)
		_, stderr, code := runCmd(t, "sweep", spec, "-o", filepath.Join(root, "out"), "--quiet")
		wantFailure(t, stderr, code, exitFailure, c.want)
	}
}

// TestSweepSpeakersAndTradeOff: a sweep over the sparsity of one NMF size
// writes a per-speaker table (each speaker's SDR, SIR, SAR and paired
// differences from the baseline, the baseline's own differences empty) and
// one SIR/SAR figure per speaker, a PNG, linked from sweep.md.
func TestSweepSpeakersAndTradeOff(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 10, 0.3)
	spec := writeSpec(t, root, low, high, `[{"method": ["nmf"], "k": [4], "sparsity": [0, 0.5, 2]}]`, `{"sparsity": 0}`)
	out := filepath.Join(root, "out")
	stdout, stderr, code := runCmd(t, "sweep", spec, "-o", out, "--quiet", "--json")
	if code != exitOK {
		t.Fatalf("sweep: exit %d: %s", code, stderr)
	}
	var got struct {
		Speakers []struct {
			Speaker  string     `json:"speaker"`
			Config   string     `json:"config"`
			Baseline bool       `json:"baseline"`
			N        int        `json:"n"`
			Mean     [3]float64 `json:"mean"`
			Diff     [3]any     `json:"diff"`
		} `json:"speakers"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Speakers) != 6 {
		t.Fatalf("%d speaker rows, want 2 speakers x 3 configurations", len(got.Speakers))
	}
	for i, r := range got.Speakers {
		wantSpeaker := []string{"low", "high"}[i/3]
		if r.Speaker != wantSpeaker || r.N != 2 || r.Baseline != (i%3 == 0) {
			t.Errorf("row %d: %+v", i, r)
		}
		if _, isNum := r.Diff[0].(float64); isNum == r.Baseline {
			t.Errorf("row %d (%s): diff %v, baseline %v", i, r.Config, r.Diff, r.Baseline)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "sweep.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range []string{"low", "high"} {
		rel := "figures/low-high-" + sp + "-sparsity-1.png"
		if !strings.Contains(string(md), "("+rel+")") {
			t.Errorf("sweep.md does not link %s:\n%s", rel, md)
		}
		b, err := os.ReadFile(filepath.Join(out, rel))
		if err != nil || len(b) < 8 || string(b[1:4]) != "PNG" {
			t.Errorf("%s is not a PNG: %v", rel, err)
		}
	}
	if !strings.Contains(string(md), "### low+high, speaker low") || strings.Index(string(md), "## Per speaker") > strings.Index(string(md), "## Notes") {
		t.Errorf("sweep.md lacks the per-speaker tables before its notes:\n%s", md)
	}
}

// TestSweepIterationsFigure: a sweep over the inference iterations draws
// SDR, SIR and SAR against them, one figure per speaker.
func TestSweepIterationsFigure(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 10, 0.3)
	spec := writeSpec(t, root, low, high, `[{"method": ["nmf"], "k": [4], "infer_iters": [5, 20, 60]}]`, `{"infer_iters": 60}`)
	out := filepath.Join(root, "out")
	if _, stderr, code := runCmd(t, "sweep", spec, "-o", out, "--quiet"); code != exitOK {
		t.Fatalf("sweep: exit %d: %s", code, stderr)
	}
	md, err := os.ReadFile(filepath.Join(out, "sweep.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range []string{"low", "high"} {
		rel := "figures/low-high-" + sp + "-infer-iters-1.png"
		if !strings.Contains(string(md), "("+rel+")") {
			t.Errorf("sweep.md does not link %s:\n%s", rel, md)
		}
		if b, err := os.ReadFile(filepath.Join(out, rel)); err != nil || len(b) < 8 || string(b[1:4]) != "PNG" {
			t.Errorf("%s is not a PNG: %v", rel, err)
		}
	}
	if !strings.Contains(string(md), "against inference iterations") {
		t.Errorf("sweep.md has no section for the iterations:\n%s", md)
	}
}
