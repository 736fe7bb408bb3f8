package experiment

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/separation"
)

func grid(t *testing.T, js string) []map[string]json.RawMessage {
	t.Helper()
	g, err := ParseGrid([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// selectConfig is a small NMF experiment (12 utterances a speaker: 8
// training, of which 2 validate, 2 discriminative, 2 test) whose selection
// tries 1 and 30 training iterations.
func selectConfig(t *testing.T, js string) Config {
	return Config{Repeats: 2, Methods: []separation.Method{separation.NMF}, K: []int{4}, Iters: 30, InferIters: 20, Tol: -1,
		Select: &Selection{Grid: grid(t, js)}}
}

func TestSelectGridErrors(t *testing.T) {
	for _, js := range []string{"", "3", "[]", `{"k": [4`, `[{"k": 4}, 5]`} {
		if _, err := ParseGrid([]byte(js)); err == nil {
			t.Errorf("ParseGrid(%q): no error", js)
		}
	}
	for js, want := range map[string]string{
		`{"colour": [1]}`:     `unknown setting "colour"`,
		`{"iters": []}`:       `"iters" must list its values`,
		`{"context": [1, 2]}`: "context 2",
		`{"sparsity": [-1]}`:  "sparsity",
		`{"seed": [1, 2]}`:    `"seed" is a setting of the protocol`,
		`{"iters": ["many"]}`: "iters",
		`[{"iters": [5]}, {"method": ["dlnmf"], "layers": [[8, 3]]}]`: "", // one row each: fine
		`{"live_iters": [-1]}`:                                "live_iters -1",
		`{"live_step_exponent": [1.5]}`:                       "without live_iters",
		`{"live_iters": [5], "live_step_exponent": [3]}`:      "step exponent 3",
		`{"live_iters": [5], "unfold": [4]}`:                  "a stream runs those models' own inference",
		`{"live_iters": [5], "live_step_exponent": [0, 1.5]}`: "",
	} {
		_, err := selectConfig(t, js).Defaults()
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v", js, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", js, err, want)
		}
	}
	// Every grid point must be one row: the experiment's NMF and DL-NMF
	// rows with a grid that names no method make two.
	c := selectConfig(t, `{"iters": [5]}`)
	c.Methods = append(c.Methods, separation.DLNMF)
	if _, err := c.Defaults(); err == nil || !strings.Contains(err.Error(), "makes 4 rows") {
		t.Errorf("a grid point of several rows: %v", err)
	}
	c = selectConfig(t, `{"iters": [5]}`)
	c.Select.Validation = 1
	if _, err := c.Defaults(); err == nil {
		t.Error("validation share 1: no error")
	}
}

// The validation share comes out of the training share only, the same in
// every run of a repeat, and another repeat holds back other utterances.
func TestValidationSplit(t *testing.T) {
	sps := unitSpeakers(12)
	cfg, err := selectConfig(t, `{"iters": [1]}`).Defaults()
	if err != nil {
		t.Fatal(err)
	}
	names := func(rep int) (rest, val, other []string) {
		train, disc, test, err := splitSpeakers(sps, cfg, rep)
		if err != nil {
			t.Fatal(err)
		}
		for i := range sps {
			r, v, err := validationSplit(sps[i].Name, train[i], cfg.Select.Validation)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range r {
				rest = append(rest, sps[i].Name+u.Name)
			}
			for _, u := range v {
				val = append(val, sps[i].Name+u.Name)
			}
			for _, u := range append(disc[i], test[i]...) {
				other = append(other, sps[i].Name+u.Name)
			}
		}
		return rest, val, other
	}
	rest, val, other := names(0)
	if len(val) != 4 || len(rest) != 12 {
		t.Fatalf("%d validation and %d training utterances, want 2+2 and 6+6", len(val), len(rest))
	}
	seen := map[string]bool{}
	for _, n := range append(append(append([]string(nil), rest...), val...), other...) {
		if seen[n] {
			t.Errorf("%s is in two shares", n)
		}
		seen[n] = true
	}
	if len(seen) != 24 {
		t.Errorf("the shares hold %d utterances, want all 24", len(seen))
	}
	rest2, val2, _ := names(0)
	if !reflect.DeepEqual(rest, rest2) || !reflect.DeepEqual(val, val2) {
		t.Error("the validation split of a repeat changed between two calls")
	}
	if _, val1, _ := names(1); reflect.DeepEqual(val, val1) {
		t.Error("repeats 1 and 2 validate on the same utterances")
	}

	c := selectConfig(t, `{"iters": [1]}`)
	c.Select.Validation = 0.05 // 0.4 of 8 training utterances: none
	err = CheckValidation(sps, c)
	if err == nil || !strings.Contains(err.Error(), "speaker s0") || !strings.Contains(err.Error(), "leaves no training data for validation") || !strings.Contains(err.Error(), "8 training utterances") {
		t.Errorf("too small a validation share: %v", err)
	}
}

// The selection picks the grid point with the best validation SDR, here
// the 30-iteration model over the 1-iteration one, and its test scores are
// then those of the experiment's own row with the same settings, bit for
// bit: one pipeline.
func TestSelectChoosesBestOnValidation(t *testing.T) {
	sps := unitSpeakers(12)
	u := &Units{Jobs: []Job{{Speakers: sps, Config: selectConfig(t, `{"iters": [1, 30]}`)}}, Workers: 1}
	if _, err := u.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := u.Collect()
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if len(r.Selection) != 2 {
		t.Fatalf("%d selections, want one per repeat", len(r.Selection))
	}
	for _, s := range r.Selection {
		if len(s.Points) != 2 || s.Points[0].Config != "iters=1" || s.Points[1].Config != "iters=30" || s.Mixtures != 2 || s.Points[0].N != 4 {
			t.Fatalf("repeat %d: %+v", s.Repeat, s)
		}
		if !(s.Points[1].SDR > s.Points[0].SDR) || s.Chosen != 1 || s.Config != "iters=30" {
			t.Errorf("repeat %d: validation SDR %v (1 iteration) and %v (30), chose %d %q; want the 30 iterations", s.Repeat, s.Points[0].SDR, s.Points[1].SDR, s.Chosen, s.Config)
		}
	}
	var own, sel []Score
	for _, s := range r.Scores {
		if s.Method == SelectedLabel {
			if s.Config != "iters=30" {
				t.Errorf("selected score with config %q", s.Config)
			}
			s.Method, s.Config = "NMF", ""
			sel = append(sel, s)
		} else {
			own = append(own, s)
		}
	}
	if len(own) != 8 || !reflect.DeepEqual(own, sel) {
		t.Errorf("the selected row's test scores differ from the same configuration's own row:\n%+v\n%+v", own, sel)
	}
	if len(r.Rows) != 4 || r.Rows[2].Label != SelectedLabel {
		t.Errorf("summary rows %+v, want NMF K=4 and Selected for 2 speakers", r.Rows)
	}
	var pairs int
	for _, p := range r.Paired {
		if p.A == SelectedLabel && p.B == "NMF K=4" {
			pairs++
		}
	}
	if pairs != 6 {
		t.Errorf("%d paired tests of Selected - NMF K=4, want 3 metrics x 2 speakers", pairs)
	}
	md := Markdown(r, nil)
	for _, want := range []string{"## Selected on validation data", "| 2 | iters=30 | NMF K=4 |", "| Selected | NMF K=4 | s0 |", "| Selected | chosen per repeat |"} {
		if !strings.Contains(md, want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
	points := 0
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "| iters=") {
			points++
		}
		if strings.HasPrefix(l, "| iters=1 | NMF K=4 |") && !strings.HasSuffix(l, " | 0 |") || strings.HasPrefix(l, "| iters=30 | NMF K=4 |") && !strings.HasSuffix(l, " | 2 |") {
			t.Errorf("times chosen: %s", l)
		}
	}
	if points != 2 {
		t.Errorf("%d lines of grid points in results.md, want 2", points)
	}
}

// A selection's units resume and shard like the rows': two shards and a
// summary give the bytes and results of one process, a lost unit is
// computed again to the same bytes, and another grid in the same folder is
// an error.
func TestSelectUnitsShardAndResume(t *testing.T) {
	ctx := context.Background()
	sps := unitSpeakers(12)
	cfg := selectConfig(t, `{"iters": [1, 30]}`)
	cfg.InferIters, cfg.Iters, cfg.Examples = 5, 5, 1
	cfg.Select = &Selection{Grid: grid(t, `{"iters": [1, 5]}`)}
	jobs := []Job{{Speakers: sps, Config: cfg}}
	whole, sharded := t.TempDir(), t.TempDir()
	if _, err := (&Units{Dir: whole, Jobs: jobs, Workers: 2}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	want, err := (&Units{Dir: whole, Jobs: jobs}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := (&Units{Dir: sharded, Jobs: jobs, Shard: Shard{i, 2}, Workers: 1}).Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sameUnitFiles(t, whole, sharded, "sharded", 4, "2 repeats x (1 family + 1 selection)")
	got, err := (&Units{Dir: sharded, Jobs: jobs}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(want[0].Examples) != 1 || len(want[0].Examples[0].Estimates) != 2 || want[0].Examples[0].Estimates[SelectedLabel] == nil {
		t.Errorf("examples: %d, want 1 with the estimates of NMF K=4 and Selected", len(want[0].Examples))
	}
	if !reflect.DeepEqual(got[0].Scores, want[0].Scores) || !reflect.DeepEqual(got[0].Selection, want[0].Selection) || Markdown(got[0], nil) != Markdown(want[0], nil) {
		t.Error("the summary of the shards differs from the whole run")
	}

	// A run stopped inside the last selection (at its second grid point)
	// resumes to the same bytes.
	stopped := t.TempDir()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	u := &Units{Dir: stopped, Jobs: jobs, Workers: 1, Progress: func(done, total int, what string) {
		if strings.Contains(what, "repeat 2: validation iters=5") {
			cancel()
		}
	}}
	if _, err := u.Run(cctx); err == nil {
		t.Fatal("the interrupted run did not stop")
	}
	if _, err := os.Stat(filepath.Join(stopped, "units", "u00003.json")); err == nil {
		t.Fatal("the interrupted selection was saved")
	}
	st, err := (&Units{Dir: stopped, Jobs: jobs, Workers: 1}).Run(ctx)
	if err != nil || st.Computed != 1 || st.Loaded != 3 {
		t.Fatalf("resume after the interruption: %+v, %v", st, err)
	}
	sameUnitFiles(t, whole, stopped, "resumed", 4, "2 repeats x (1 family + 1 selection)")

	p := filepath.Join(sharded, "units", "u00003.json") // the selection of repeat 2
	orig, _ := os.ReadFile(p)
	if !strings.Contains(string(orig), `"family":"select"`) {
		t.Fatalf("unit 3 is not a selection: %.200s", orig)
	}
	os.Remove(p)
	st, err = (&Units{Dir: sharded, Jobs: jobs, Workers: 1}).Run(ctx)
	if err != nil || st.Computed != 1 || st.Loaded != 3 {
		t.Errorf("resume: %+v, %v", st, err)
	}
	if b, _ := os.ReadFile(p); string(b) != string(orig) {
		t.Error("the recomputed selection unit differs from the first")
	}

	other := cfg
	other.Select = &Selection{Grid: grid(t, `{"iters": [1, 6]}`)}
	_, err = (&Units{Dir: sharded, Jobs: []Job{{Speakers: sps, Config: other}}}).Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "select.grid") {
		t.Errorf("another grid in the same folder: %v", err)
	}
}

// Grid points that differ only in how they separate train their models
// once in a repeat (sameTraining groups them, whatever the grid's order),
// and each scores as it does alone.
func TestSelectSharesTrainingAcrossInferencePoints(t *testing.T) {
	cfg := selectConfig(t, `{"bands": [0, 16], "k": [4, 6]}`)
	points, err := cfg.SelectPoints()
	if err != nil {
		t.Fatal(err)
	}
	configs := make([]Config, len(points))
	for i, p := range points {
		if configs[i], err = p.Config.Defaults(); err != nil {
			t.Fatal(err)
		}
	}
	if g := sameTraining(configs); !reflect.DeepEqual(g, [][]int{{0, 2}, {1, 3}}) {
		t.Fatalf("groups %v of %d points, want [[0 2] [1 3]] (bands=0 k=4, bands=0 k=6, bands=16 k=4, bands=16 k=6)", g, len(points))
	}
	// The inference iterations train nothing in NMF; in DL-NMF they are
	// its H step's.
	for js, want := range map[string][][]int{
		`{"infer_iters": [10, 20]}`: {{0, 1}},
		`{"method": ["dlnmf"], "layers": [[8, 3]], "infer_iters": [10, 20]}`: {{0}, {1}},
		// Pairings of the discriminative mixtures train only in
		// discriminative rows; reconstruction bases are trained for the
		// inference the points separate with.
		`{"disc_pairings": [0, 1, 2]}`:                                                    {{0, 1, 2}},
		`{"reconstruction_bases": [true], "disc_pairings": [0, 1, 2]}`:                    {{0, 1}, {2}},
		`{"reconstruction_bases": [true], "bands": [0, 16]}`:                              {{0}, {1}},
		`{"reconstruction_bases": [false, true], "deep_epochs": [3], "infer_iters": [9]}`: {{0}, {1}},
		// A stream's inference trains nothing: the bases are trained for
		// the offline inference.
		`[{"reconstruction_bases": [true]}, {"reconstruction_bases": [true], "live_iters": [5, 10], "live_step_exponent": [0, 1.5]}]`: {{0, 1, 2, 3, 4}},
	} {
		var cs []Config
		ps, err := selectConfig(t, js).SelectPoints()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			c, err := p.Config.Defaults()
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
		}
		if g := sameTraining(cs); !reflect.DeepEqual(g, want) {
			t.Errorf("%s: groups %v, want %v", js, g, want)
		}
	}
	run := func(js string) []ValidationScore {
		c := selectConfig(t, js)
		c.Repeats = 1
		_, sel, err := runSelection(context.Background(), unitSpeakers(12), mustDefaults(t, c), 0, 0, 1, func(string) {})
		if err != nil {
			t.Fatal(err)
		}
		return sel.Points
	}
	both := run(`{"bands": [0, 16], "k": [4]}`)
	alone := run(`{"bands": [16], "k": [4]}`)
	if len(both) != 2 || both[0].SDR == both[1].SDR || both[1] != alone[0] {
		t.Errorf("bands 0 and 16 on one training: %+v; bands 16 alone: %+v", both, alone)
	}
	both = run(`{"infer_iters": [5, 20], "k": [4]}`)
	alone = run(`{"infer_iters": [20], "k": [4]}`)
	if len(both) != 2 || both[0].SDR == both[1].SDR || both[1] != alone[0] {
		t.Errorf("5 and 20 inference iterations on one training: %+v; 20 alone: %+v", both, alone)
	}
	// A stream's inference: every iteration, the step exponent it is
	// given (exponent 0 the usual update, not the model's 1.5), on the
	// model the offline point trained.
	offline := run(`{"k": [4], "reconstruction_bases": [true], "deep_epochs": [2], "step_exponent": [1.5]}`)
	live := run(`[{"k": [4], "reconstruction_bases": [true], "deep_epochs": [2], "step_exponent": [1.5]},
		{"k": [4], "reconstruction_bases": [true], "deep_epochs": [2], "step_exponent": [1.5], "live_iters": [7], "live_step_exponent": [0, 1.5]}]`)
	if len(live) != 3 || live[0].SDR != offline[0].SDR || live[0].SDR == live[1].SDR || live[1].SDR == live[2].SDR {
		t.Errorf("offline and live 7 with exponents 0 and 1.5 on one training: %+v; offline alone: %+v", live, offline)
	}
	// Reconstruction bases in two pairings, in groups of their own that
	// take the plain point's layers: each scores as it does alone.
	three := run(`[{"k": [4]}, {"k": [4], "reconstruction_bases": [true], "deep_epochs": [2], "disc_pairings": [1, 2]}]`)
	alone = run(`{"k": [4], "reconstruction_bases": [true], "deep_epochs": [2], "disc_pairings": [2]}`)
	if len(three) != 3 || three[0].SDR == three[1].SDR || three[1].SDR == three[2].SDR || three[2] != alone[0] {
		t.Errorf("plain and reconstruction bases in 1 and 2 pairings: %+v; 2 pairings alone: %+v", three, alone)
	}
}

func mustDefaults(t *testing.T, c Config) Config {
	t.Helper()
	d, err := c.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A stream's inference runs every iteration, with the usual update unless
// it is given a step exponent (0 would take the model's own).
func TestLiveSeparateSettings(t *testing.T) {
	c := mustDefaults(t, Config{InferIters: 100, StepExponent: 1.5, Bands: 16})
	if s := c.separateSettings(1); s.NMF.MaxIter != 100 || s.NMF.Tol != c.Tol || s.NMF.StepExponent != 1.5 || s.Bands != 16 {
		t.Errorf("offline: %+v", s)
	}
	for e, want := range map[float64]float64{0: 1, 1.5: 1.5} {
		c.LiveIters, c.LiveStepExponent = 50, e
		if s := c.separateSettings(2); s.NMF.MaxIter != 50 || s.NMF.Tol >= 0 || s.NMF.StepExponent != want || s.NMF.Workers != 2 || s.Bands != 16 {
			t.Errorf("live, exponent %g: %+v", e, s)
		}
	}
}
