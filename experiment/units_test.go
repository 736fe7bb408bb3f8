package experiment

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/separation"
)

// unitSpeakers makes two small synthetic voices (harmonic tones with noise,
// each with its own pitch range), n utterances of 0.3 s at 16 kHz.
func unitSpeakers(n int) []*corpus.Speaker {
	var out []*corpus.Speaker
	for s, f0 := range []float64{140, 520} {
		sp := &corpus.Speaker{Name: fmt.Sprintf("s%d", s)}
		rng := rand.New(rand.NewPCG(uint64(s), 7))
		for i := range n {
			x := make([]float64, 4800)
			f := f0 * (1 + 0.2*rng.Float64())
			for t := range x {
				for h := 1.0; h <= 4; h++ {
					x[t] += math.Sin(2*math.Pi*f*h*float64(t)/16000) / h
				}
				x[t] = 0.2*x[t] + 0.01*rng.NormFloat64()
			}
			sp.Utterances = append(sp.Utterances, corpus.Utterance{Name: fmt.Sprintf("u%02d", i), Samples: x})
		}
		out = append(out, sp)
	}
	return out
}

var unitConfig = Config{Repeats: 2, K: []int{4}, Layers: [][]int{{8, 3}}, Iters: 8, InferIters: 8, Rounds: 1, DiscIters: 4, Examples: 1}

func TestFamiliesCoverEveryRowOnce(t *testing.T) {
	cfg, err := Config{Layers: [][]int{{180, 10}, {100, 20}, {180, 30}}, Methods: []separation.Method{separation.DLNMF, separation.NMF}}.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range cfg.Families() {
		for _, r := range f.Rows() {
			got = append(got, r.Label())
		}
	}
	want := []string{"NMF K=10", "NMF K=20", "NMF K=30", "DL-NMF 180,10", "DL-NMF 180,30", "DL-NMF 100,20"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("families hold rows %v, want %v", got, want)
	}
	if n := len(cfg.Families()); n != 5 {
		t.Errorf("%d families, want 3 NMF sizes + 2 first-layer sizes", n)
	}
}

// TestUnitsShardedEqualsWhole computes an experiment as two shards and in
// one process: the unit files hold the same bytes and the summaries agree.
// Then it damages, removes and mixes units.
func TestUnitsShardedEqualsWhole(t *testing.T) {
	sps := unitSpeakers(10)
	jobs := []Job{{Speakers: sps, Config: unitConfig}}
	ctx := context.Background()
	whole, sharded := t.TempDir(), t.TempDir()
	u := &Units{Dir: whole, Jobs: jobs, Workers: 2}
	if _, err := u.Run(ctx); err != nil {
		t.Fatal(err)
	}
	want, err := u.Collect()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		st, err := (&Units{Dir: sharded, Jobs: jobs, Shard: Shard{i, 2}, Workers: 1}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Units != 4 || st.Owned != 2 || st.Computed != 2 {
			t.Errorf("shard %d/2: %+v, want 2 of 4 units computed", i, st)
		}
	}
	sameUnitFiles(t, whole, sharded, "sharded", 4, "2 repeats x 2 families")
	summary := &Units{Dir: sharded, Jobs: jobs}
	got, err := summary.Collect()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got[0].Scores, want[0].Scores) || !reflect.DeepEqual(got[0].Rows, want[0].Rows) {
		t.Error("the summary of the shards differs from the whole run")
	}
	if len(got[0].Examples) != 1 || len(got[0].Examples[0].Estimates) != 3 {
		t.Errorf("examples %d, want 1 with the estimates of 3 rows", len(got[0].Examples))
	}

	// A unit cut short (a killed task) is reported by the summary and
	// computed again by its shard, to the same bytes.
	p := filepath.Join(sharded, "units", "u00001.json")
	orig, _ := os.ReadFile(p)
	if err := os.WriteFile(p, orig[:len(orig)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	var me *MissingError
	if _, err := (&Units{Dir: sharded, Jobs: jobs}).Collect(); !errors.As(err, &me) || len(me.Units) != 1 || !strings.Contains(err.Error(), "unit 1 (s0+s1, NMF K=4, repeat 2) damaged") {
		t.Errorf("summary with a truncated unit: %v", err)
	}
	// An altered number is caught by the checksum.
	if err := os.WriteFile(p, []byte(strings.Replace(string(orig), `"sdr":`, `"sdr":1`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Units{Dir: sharded, Jobs: jobs}).Collect(); !errors.As(err, &me) {
		t.Errorf("summary with an altered unit: %v", err)
	}
	st, err := (&Units{Dir: sharded, Jobs: jobs, Shard: Shard{1, 2}}).Run(ctx)
	if err != nil || st.Computed != 1 || st.Loaded != 1 {
		t.Errorf("rerun of shard 1/2 after damage: %+v, %v", st, err)
	}
	if b, _ := os.ReadFile(p); string(b) != string(orig) {
		t.Error("the recomputed unit differs from the first")
	}

	// A missing unit is named.
	os.Remove(filepath.Join(sharded, "units", "u00002.json"))
	if _, err := (&Units{Dir: sharded, Jobs: jobs}).Collect(); err == nil || !strings.Contains(err.Error(), "1 of 4 units are missing") || !strings.Contains(err.Error(), "unit 2 (s0+s1, L-NMF 8,3, DL-NMF 8,3, repeat 1)") {
		t.Errorf("summary with a missing unit: %v", err)
	}

	// Units of another configuration are an error naming both settings,
	// before anything is computed; nothing saved is touched.
	other := unitConfig
	other.Iters = 9
	_, err = (&Units{Dir: sharded, Jobs: []Job{{Speakers: sps, Config: other}}}).Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "iters: 8 there, 9 here") {
		t.Errorf("another configuration: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != string(orig) {
		t.Error("a unit changed after the refused run")
	}
}

// BenchmarkCollect1000Units times the summary of 1,000 saved units (100
// repeats of 10 NMF sizes; 6 test mixtures of 2 speakers and a 200-point
// cost curve per speaker in each, as in the default protocol), from
// reading and checking the files to the summary rows.
func BenchmarkCollect1000Units(b *testing.B) {
	sps := unitSpeakers(10)
	cfg := Config{Repeats: 100, K: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, Methods: []separation.Method{separation.NMF}}
	dir := b.TempDir()
	u := &Units{Dir: dir, Jobs: []Job{{Speakers: sps, Config: cfg}}}
	if err := u.prepare(); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "units"), 0o755); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, ref := range u.plan {
		f := &unitFile{Unit: ref.index, Experiment: u.Jobs[0].name(), Family: ref.label, Repeat: ref.repeat + 1, Fingerprint: u.fps[0]}
		row := ref.config.Rows()[0]
		for m := range 6 {
			for _, sp := range sps {
				f.Scores = append(f.Scores, Score{Repeat: ref.repeat + 1, Mixture: fmt.Sprintf("r%02d-m%d", ref.repeat+1, m+1), Method: row.Method.Label(),
					Layers: row.Sizes, Speaker: sp.Name, SDR: Number(rng.NormFloat64()), SIR: Number(rng.NormFloat64()), SAR: Number(rng.NormFloat64())})
			}
		}
		for _, sp := range sps {
			c := Curve{Row: row.Label(), Name: sp.Name, Stage: "training"}
			for i := range 200 {
				c.Iter = append(c.Iter, i)
				c.Cost = append(c.Cost, rng.Float64())
			}
			f.Curves = append(f.Curves, c)
		}
		if err := u.save(ref, f); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		res, err := (&Units{Dir: dir, Jobs: u.Jobs}).Collect()
		if err != nil || len(res[0].Scores) != 1000*12 {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnitBookkeeping times what a unit costs beyond its computation:
// checksum, atomic write (synced) and the checked read of one unit of the
// default protocol's layered family (6 test mixtures x 2 speakers x 6 rows,
// 200-point curves for 6 trainings).
func BenchmarkUnitBookkeeping(b *testing.B) {
	sps := unitSpeakers(10)
	u := &Units{Dir: b.TempDir(), Jobs: []Job{{Speakers: sps, Config: Config{}}}}
	if err := u.prepare(); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(u.Dir, "units"), 0o755); err != nil {
		b.Fatal(err)
	}
	ref := u.plan[len(u.plan)-1] // the layered family of the last repeat
	rng := rand.New(rand.NewPCG(1, 2))
	f := &unitFile{Unit: ref.index, Experiment: u.Jobs[0].name(), Family: ref.label, Repeat: ref.repeat + 1, Fingerprint: u.fps[0]}
	for _, row := range ref.config.Rows() {
		for m := range 6 {
			for _, sp := range sps {
				f.Scores = append(f.Scores, Score{Repeat: ref.repeat + 1, Mixture: fmt.Sprintf("m%d", m), Method: row.Method.Label(), Layers: row.Sizes,
					Speaker: sp.Name, SDR: Number(rng.NormFloat64()), SIR: Number(rng.NormFloat64()), SAR: Number(rng.NormFloat64())})
			}
		}
		for _, sp := range sps {
			c := Curve{Row: row.Label(), Name: sp.Name, Stage: "training"}
			for i := range 200 {
				c.Iter, c.Cost = append(c.Iter, i), append(c.Cost, rng.Float64())
			}
			f.Curves = append(f.Curves, c)
		}
	}
	b.ResetTimer()
	for range b.N {
		if err := u.save(ref, f); err != nil {
			b.Fatal(err)
		}
		delete(u.mem, ref.index)
		if g, err := u.load(ref); err != nil || g == nil {
			b.Fatal(err)
		}
	}
}

// sameUnitFiles checks that the whole run in whole wrote want unit files
// (what they are, for the message) and the other run in dir (how it ran,
// for the message) wrote each of them byte for byte.
func sameUnitFiles(t *testing.T, whole, dir, how string, want int, what string) {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(whole, "units", "u*[0-9].json"))
	if len(names) != want {
		t.Fatalf("%d unit files, want %d (%s)", len(names), want, what)
	}
	for _, n := range names {
		a, _ := os.ReadFile(n)
		b, err := os.ReadFile(filepath.Join(dir, "units", filepath.Base(n)))
		if err != nil || string(a) != string(b) {
			t.Errorf("%s differs between the %s and the whole run (%v)", filepath.Base(n), how, err)
		}
	}
}
