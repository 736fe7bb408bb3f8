package main

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tinyProtocol are experiment flags that keep a run to a few seconds.
var tinyProtocol = []string{"--repeats", "2", "--k", "4", "--layers", "8,3", "--iters", "10", "--infer-iters", "10", "--rounds", "1", "--disc-iters", "5", "--examples", "1"}

func TestExperiment(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 10, 0.5)
	out := filepath.Join(t.TempDir(), "run")
	args := append([]string{"experiment", "--speaker", low, "--speaker", high, "-o", out}, tinyProtocol...)

	stdout, stderr, code := runCmd(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	checkNoPanic(t, stdout+stderr)
	if strings.Contains(stderr, "\r") {
		t.Errorf("a progress bar on a stderr that is not a terminal:\n%q", stderr)
	}
	if !strings.Contains(stdout, "DL-NMF") || !strings.Contains(stdout, "|") {
		t.Errorf("stdout does not hold the results table:\n%s", stdout)
	}
	for _, f := range []string{"results.json", "scores.csv", "results.md", "report/index.html"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	first := readResults(t, filepath.Join(out, "results.json"))
	if first.Resumed != 0 {
		t.Errorf("first run: resumed %d", first.Resumed)
	}
	if first.Config["repeats"] != 2.0 || !reflect.DeepEqual(first.Config["k"], []any{4.0}) {
		t.Errorf("config %v", first.Config)
	}
	// 3 rows (NMF 4, L-NMF 8,3, DL-NMF 8,3) x 2 speakers; 2 repeats with
	// one test mixture each (10 files: 7 train, 2 disc, 1 test).
	if len(first.Rows) != 6 {
		t.Fatalf("%d rows, want 6: %+v", len(first.Rows), first.Rows)
	}
	methods := map[string]bool{}
	for _, r := range first.Rows {
		methods[r.Method] = true
		if r.Speaker != "low" && r.Speaker != "high" {
			t.Errorf("row speaker %q", r.Speaker)
		}
		if r.N != 2 {
			t.Errorf("%s %v %s: n = %d, want 2", r.Method, r.Layers, r.Speaker, r.N)
		}
		if r.SDR == nil || r.SIR == nil || r.SAR == nil || r.SDRCI95 == nil {
			t.Errorf("%s %v %s: missing scores", r.Method, r.Layers, r.Speaker)
		}
		want := []int{8, 3}
		if r.Method == "NMF" {
			want = []int{4}
		}
		if !reflect.DeepEqual(r.Layers, want) {
			t.Errorf("%s: layers %v, want %v", r.Method, r.Layers, want)
		}
	}
	if !methods["NMF"] || !methods["L-NMF"] || !methods["DL-NMF"] {
		t.Errorf("methods %v", methods)
	}
	recs := readCSV(t, filepath.Join(out, "scores.csv"))
	if len(recs) != 1+2*3*2 { // header + repeats x rows x speakers
		t.Errorf("scores.csv has %d records", len(recs))
	}
	// SI-SDR is the last column. BSS Eval's SDR lets a 512-tap filter
	// (a superset of SI-SDR's one gain) explain the target, so it is not
	// below SI-SDR but for the mean SI-SDR removes.
	if h := recs[0]; h[len(h)-1] != "si_sdr" || h[len(h)-4] != "sdr" {
		t.Errorf("scores.csv header %v", h)
	}
	for _, r := range recs[1:] {
		sdr, err1 := strconv.ParseFloat(r[len(r)-4], 64)
		si, err2 := strconv.ParseFloat(r[len(r)-1], 64)
		if err1 != nil || err2 != nil || math.IsNaN(si) || si > sdr+0.5 || si < sdr-20 {
			t.Errorf("scores.csv row %v: SI-SDR %q against SDR %q", r, r[len(r)-1], r[len(r)-4])
		}
	}

	// The same command again loads both repeats and gives the same table;
	// --json prints results.json on stdout.
	stdout, stderr, code = runCmd(t, append(args, "--json", "--quiet")...)
	if code != exitOK || stderr != "" {
		t.Fatalf("second run: exit %d, stderr:\n%s", code, stderr)
	}
	var printed results
	if err := json.Unmarshal([]byte(stdout), &printed); err != nil {
		t.Fatalf("--json stdout is not JSON: %v\n%s", err, stdout)
	}
	second := readResults(t, filepath.Join(out, "results.json"))
	if second.Resumed != 2 || printed.Resumed != 2 {
		t.Errorf("second run: resumed %d (printed %d), want 2", second.Resumed, printed.Resumed)
	}
	if !reflect.DeepEqual(first.Rows, second.Rows) || !reflect.DeepEqual(first.Rows, printed.Rows) {
		t.Errorf("resumed run gives other rows:\n%+v\n%+v", first.Rows, second.Rows)
	}

	// A different setting is never mixed with the saved units: it is an
	// error that names both settings, and the saved units stay as they were.
	before, err := os.ReadFile(filepath.Join(out, "units", "u00000.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runCmd(t, append(args, "--seed", "2", "--methods", "nmf", "--quiet", "--json")...)
	if code != exitFailure || !strings.Contains(stderr, "seed: 1 there, 2 here") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("--seed 2 into the same folder: exit %d, stderr:\n%s", code, stderr)
	}
	after, err := os.ReadFile(filepath.Join(out, "units", "u00000.json"))
	if err != nil || string(after) != string(before) {
		t.Errorf("the saved unit changed (%v)", err)
	}
}

// TestExperimentOneMixture runs a protocol with a single test mixture per
// speaker in all (one repeat, one test file).
func TestExperimentOneMixture(t *testing.T) {
	low, high := synthSpeakers(t, t.TempDir(), 10, 0.3)
	out := filepath.Join(t.TempDir(), "run")
	args := append([]string{"experiment", "--speaker", low, "--speaker", high, "-o", out, "--quiet", "--json"}, tinyProtocol...)
	stdout, stderr, code := runCmd(t, append(args, "--repeats", "1", "--methods", "nmf")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r results
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 2 || r.Rows[0].N != 1 || r.Rows[0].SDR == nil {
		t.Errorf("rows %+v", r.Rows)
	}
}

// results is the documented part of results.json.
type results struct {
	Config  map[string]any `json:"config"`
	Resumed int            `json:"resumed"`
	Rows    []struct {
		Method  string   `json:"method"`
		Layers  []int    `json:"layers"`
		Speaker string   `json:"speaker"`
		SDR     *float64 `json:"sdr"`
		SIR     *float64 `json:"sir"`
		SAR     *float64 `json:"sar"`
		SDRCI95 *float64 `json:"sdr_ci95"`
		N       int      `json:"n"`
	} `json:"rows"`
}

func readResults(t *testing.T, path string) results {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r results
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

// --select adds the row Selected beside the experiment's rows, in every
// output, and runs as two shards and a summary to the same files as one
// process.
func TestExperimentSelect(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 10, 0.5)
	grid := filepath.Join(root, "grid.json")
	os.WriteFile(grid, []byte(`{"iters": [1, 10]}`), 0o644)
	one, sharded := filepath.Join(t.TempDir(), "one"), t.TempDir()
	args := func(out string, more ...string) []string {
		a := append([]string{"experiment", "--quiet", "--speaker", low, "--speaker", high, "-o", out}, tinyProtocol...)
		return append(append(a, "--methods", "nmf", "--select", grid), more...)
	}
	stdout, stderr, code := runCmd(t, args(one)...)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "## Selected on validation data") || !strings.Contains(stdout, "| Selected | NMF K=4 |") {
		t.Errorf("the results lack the selection:\n%s", stdout)
	}
	var res struct {
		Rows      []struct{ Label string }
		Selection []struct {
			Repeat int
			Config string
			Points []struct {
				Config string
				SDR    *float64
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join(one, "results.json"))
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 4 || res.Rows[2].Label != "Selected" || len(res.Selection) != 2 || len(res.Selection[0].Points) != 2 || res.Selection[0].Points[1].SDR == nil {
		t.Errorf("results.json: %s", b)
	}
	csvText, _ := os.ReadFile(filepath.Join(one, "scores.csv"))
	if !strings.HasSuffix(strings.SplitN(string(csvText), "\n", 2)[0], ",config") || !strings.Contains(string(csvText), ",Selected,4,") {
		t.Errorf("scores.csv lacks the selected row:\n%s", csvText)
	}
	for i := range 2 {
		if _, stderr, code := runCmd(t, args(sharded, "--shard", fmt.Sprintf("%d/2", i))...); code != exitOK {
			t.Fatalf("shard %d/2: exit %d: %s", i, code, stderr)
		}
	}
	if _, stderr, code := runCmd(t, args(sharded, "--summarize")...); code != exitOK {
		t.Fatalf("summary: exit %d: %s", code, stderr)
	}
	for _, f := range []string{"scores.csv", "results.md"} {
		a, _ := os.ReadFile(filepath.Join(one, f))
		b, _ := os.ReadFile(filepath.Join(sharded, f))
		// results.md's notes differ (wall time, the summary's source).
		cut := func(x []byte) string { s, _, _ := strings.Cut(string(x), "## Settings"); return s }
		if cut(a) != cut(b) || len(a) == 0 {
			t.Errorf("%s of the shards and summary differs from one process's", f)
		}
	}
}

func TestExperimentErrors(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 10, 0.3)
	lowDir := strings.TrimPrefix(low, "low=")
	few := filepath.Join(root, "few")
	os.MkdirAll(few, 0o755)
	copyDir(t, lowDir, few)
	for _, n := range dirFiles(t, few)[3:] {
		os.Remove(filepath.Join(few, n))
	}
	spoiled := filepath.Join(root, "spoiled")
	copyDir(t, lowDir, spoiled)
	silent := writeWAV(t, filepath.Join(spoiled, "low04.wav"), make([]float64, 4000), synthRate)
	corrupt := filepath.Join(spoiled, "low05.wav")
	os.WriteFile(corrupt, []byte("RIFF"), 0o644)
	outParent := t.TempDir()
	out := filepath.Join(outParent, "run")

	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no -o", []string{"--speaker", low, "--speaker", high}, exitUsage, []string{"-o"}},
		{"one speaker", []string{"--speaker", low, "-o", out}, exitUsage, []string{"2 speakers"}},
		{"bad method", []string{"--speaker", low, "--speaker", high, "-o", out, "--methods", "nmf,ica"}, exitUsage, []string{"ica"}},
		{"bad k", []string{"--speaker", low, "--speaker", high, "-o", out, "--k", "4,-1"}, exitUsage, []string{"--k"}},
		{"bad layers", []string{"--speaker", low, "--speaker", high, "-o", out, "--layers", "8,three"}, exitUsage, []string{"layers"}},
		{"zero repeats", []string{"--speaker", low, "--speaker", high, "-o", out, "--repeats", "0"}, exitUsage, []string{"repeats"}},
		{"zero iters", []string{"--speaker", low, "--speaker", high, "-o", out, "--iters", "0"}, exitUsage, []string{"iters"}},
		{"zero jobs", []string{"--speaker", low, "--speaker", high, "-o", out, "--jobs", "0"}, exitUsage, []string{"jobs"}},
		{"even context", []string{"--speaker", low, "--speaker", high, "-o", out, "--context", "2"}, exitUsage, []string{"--context"}},
		{"negative sparsity", []string{"--speaker", low, "--speaker", high, "-o", out, "--sparsity-l1", "-1"}, exitUsage, []string{"--sparsity-l1"}},
		{"negative mask power", []string{"--speaker", low, "--speaker", high, "-o", out, "--mask-power", "-2"}, exitUsage, []string{"--mask-power"}},
		{"extra argument", []string{"--speaker", low, "--speaker", high, "-o", out, "x.wav"}, exitUsage, []string{"x.wav"}},
		{"select unknown setting", []string{"--speaker", low, "--speaker", high, "-o", out, "--methods", "nmf", "--select", `{"colour": [1, 2]}`}, exitUsage, []string{"--select", `unknown setting "colour"`}},
		{"select empty list", []string{"--speaker", low, "--speaker", high, "-o", out, "--methods", "nmf", "--select", `{"iters": []}`}, exitUsage, []string{"--select", `"iters" must list its values`}},
		{"select bad value", []string{"--speaker", low, "--speaker", high, "-o", out, "--methods", "nmf", "--select", `{"context": [1, 4]}`}, exitUsage, []string{"--select", "context 4"}},
		{"select protocol setting", []string{"--speaker", low, "--speaker", high, "-o", out, "--methods", "nmf", "--select", `{"seed": [1, 2]}`}, exitUsage, []string{"seed", "protocol"}},
		{"select two rows a point", []string{"--speaker", low, "--speaker", high, "-o", out, "--select", `{"iters": [5]}`}, exitUsage, []string{"--select", "rows"}},
		{"select not JSON", []string{"--speaker", low, "--speaker", high, "-o", out, "--methods", "nmf", "--select", `{iters: 5}`}, exitUsage, []string{"--select"}},
		{"select missing file", []string{"--speaker", low, "--speaker", high, "-o", out, "--methods", "nmf", "--select", filepath.Join(root, "nogrid.json")}, exitUsage, []string{"--select", "nogrid.json"}},
		{"select no validation data", []string{"--speaker", low, "--speaker", high, "-o", out, "--methods", "nmf", "--select", `{"iters": [5, 10]}`, "--validation", "0.05"}, exitUsage, []string{"speaker low", "7 training utterances", "leaves no training data for validation"}},
		{"validation without select", []string{"--speaker", low, "--speaker", high, "-o", out, "--validation", "0.3"}, exitUsage, []string{"--validation is for --select"}},
		{"select with unknown", []string{"--speaker", low, "--unknown", high, "-o", out, "--select", `{"iters": [5]}`}, exitUsage, []string{"--select"}},
		{"missing folder", []string{"--speaker", "low=" + filepath.Join(root, "nope"), "--speaker", high, "-o", out}, exitFailure, []string{"nope"}},
		{"too few files", []string{"--speaker", "low=" + few, "--speaker", high, "-o", out}, exitFailure, []string{"low", "3"}},
		{"silent file", []string{"--speaker", "low=" + spoiled, "--speaker", high, "-o", out}, exitFailure, []string{corrupt}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The case's flags come last, to override tinyProtocol's.
			args := append(append([]string{"experiment", "--quiet"}, tinyProtocol...), tc.args...)
			stdout, stderr, code := runCmd(t, args...)
			wantFailure(t, stderr, code, tc.code, append([]string{"dlnmf experiment:"}, tc.want...)...)
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if got := dirFiles(t, outParent); len(got) != 0 {
				t.Errorf("left behind: %v", got)
				os.RemoveAll(out)
			}
		})
	}
	// The silent file alone.
	os.Remove(corrupt)
	_, stderr, code := runCmd(t, append([]string{"experiment", "--quiet", "--speaker", "low=" + spoiled, "--speaker", high, "-o", out}, tinyProtocol...)...)
	wantFailure(t, stderr, code, exitFailure, silent, "silent")
}

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes 5-10 s; skipped in -short mode")
	}
	out := filepath.Join(t.TempDir(), "demo")
	start := time.Now()
	stdout, stderr, code := runCmd(t, "demo", "--out", out, "--repeats", "1", "--iters", "10", "--infer-iters", "10", "--rounds", "1", "--disc-iters", "5", "--examples", "1", "--layers", "40,10", "--k", "10", "--quiet")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	t.Logf("demo took %s", time.Since(start))
	for _, want := range []string{"NMF", "L-NMF", "DL-NMF", "FA", "MC", "Paired SDR differences", "The full run"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary does not mention %q:\n%s", want, stdout)
		}
	}
	index, err := os.ReadFile(filepath.Join(out, "report", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(index), "<audio") || !strings.Contains(string(index), "<img") {
		t.Errorf("report/index.html has no audio or image")
	}
	// The example's heading names the repeat and the files; each estimate
	// shows its own scores (3 rows x 2 speakers x SDR, SIR, SAR).
	page := strings.ReplaceAll(string(index), "&#43;", "+")
	if !regexp.MustCompile(`<h3>Repeat 1, test mixture 1: \S+ \(FA\) \+ \S+ \(MC\)</h3>`).MatchString(page) {
		t.Errorf("report/index.html lacks a readable example heading")
	}
	if n := strings.Count(page, `class="score"`); n != 3*2*3 {
		t.Errorf("report/index.html shows %d per-example scores, want 18", n)
	}
	// The verdict the terminal prints is on the page; the example says how
	// it was chosen and what its differences were; the paired differences
	// are drawn.
	verdict := strings.TrimSpace(stdout[strings.Index(stdout, "Paired SDR differences over"):])
	verdict, _, _ = strings.Cut(verdict, "\n")
	if !strings.Contains(page, `<p class="verdict" id="verdict">`+html.EscapeString(verdict)) {
		t.Errorf("report/index.html lacks the verdict %q", verdict)
	}
	for _, want := range []string{"not chosen for their results", "SDR differences in this mixture: ", "figures/paired-sdr.png"} {
		if !strings.Contains(page, want) {
			t.Errorf("report/index.html lacks %q", want)
		}
	}
	r := readResults(t, filepath.Join(out, "results.json"))
	if len(r.Rows) != 6 {
		t.Errorf("%d rows, want 6", len(r.Rows))
	}
}
