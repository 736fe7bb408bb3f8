package experiment

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
)

// interferenceUniversal is a universal model's training data whose second
// speaker has the known voice (sps[0]'s): pruning (Prune 2) drops it.
func interferenceUniversal(sps []*corpus.Speaker) *recording.UniversalSettings {
	return &recording.UniversalSettings{Name: "speech", K: 4, Speakers: []separation.SpeakerData{
		{Name: "u1", Utterances: [][]float64{sps[1].Utterances[0].Samples}},
		{Name: "u0", Utterances: [][]float64{sps[0].Utterances[0].Samples}}}}
}

func TestInterference(t *testing.T) {
	sps := unitSpeakers(20)
	in := &Interference{Known: sps[0], Interferer: sps[1], Universal: interferenceUniversal(sps), Free: []int{2, 4}, UniversalWeights: []float64{0.01, 0}, Prune: []float64{0, 2},
		Config: Config{Repeats: 2, K: []int{4}, Iters: 30, InferIters: 30}}
	res, err := in.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Shares) != 2 {
		t.Fatalf("shares of %d repeats", len(res.Shares))
	}
	for _, sh := range res.Shares {
		if len(sh) != 2 || !(sh[1] > 2*sh[0]) {
			t.Errorf("shares %v: want the known voice's universal speaker to take more than twice the other's", sh)
		}
	}
	want := []string{"mixture", "supervised", "free K=2", "free K=4", "universal speech, weight 0.01", "universal speech, default weight",
		"universal speech, weight 0.01, pruned at 2x", "universal speech, default weight, pruned at 2x"}
	if len(res.Rows) != len(want) {
		t.Fatalf("%d rows", len(res.Rows))
	}
	for i, row := range res.Rows {
		if row.Label != want[i] || len(row.SDR) != res.Mixtures || res.Mixtures != 4 {
			t.Fatalf("row %d: %q with %d scores of %d mixtures", i, row.Label, len(row.SDR), res.Mixtures)
		}
		for j := range row.SDR {
			if math.Abs(row.SDR[j]-res.Rows[0].SDR[j]-row.SDRi[j]) > 1e-9 {
				t.Fatalf("%s: SDRi is not SDR minus the mixture's", row.Label)
			}
		}
	}
	if res.Rows[0].MeanSDRi != 0 {
		t.Errorf("the mixture improves on itself by %g", res.Rows[0].MeanSDRi)
	}
	// Two clearly different voices: every model improves on the mixture.
	for _, row := range res.Rows[1:] {
		if !(row.MeanSDRi > 3) {
			t.Errorf("%s: SDRi %.2f dB", row.Label, row.MeanSDRi)
		}
	}
	if len(res.Pairs) != 6+4*2 {
		t.Errorf("%d paired tests", len(res.Pairs))
	}
	t.Log("\n" + res.Markdown())
}

func TestNoiseSpeaker(t *testing.T) {
	x := make([]float64, 10500)
	noise := &corpus.Speaker{Name: "n", Utterances: []corpus.Utterance{{Samples: x}, {Samples: x[:2000]}}}
	sp, err := NoiseSpeaker(noise, 1000, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(sp.Utterances) != 3 || len(sp.Utterances[2].Samples) != 3000 || sp.Utterances[1].Name != "n_002" {
		t.Errorf("%d chunks", len(sp.Utterances))
	}
	if _, err := NoiseSpeaker(&corpus.Speaker{Name: "n", Utterances: []corpus.Utterance{{Samples: x[:10]}}}, 1000, 3); err == nil {
		t.Error("noise shorter than a chunk accepted")
	}
}

// TestInterferenceValidation scores the held-back share: rows per setting
// and iteration count, the validation mixtures' count, and Picked naming
// the best rows.
func TestInterferenceValidation(t *testing.T) {
	sps := unitSpeakers(20)
	cfg := Config{Repeats: 1, K: []int{4}, Iters: 30, InferIters: 30}
	in := &Interference{Known: sps[0], Interferer: sps[1], Free: []int{2}, SemiIters: []int{5, 20}, FreeStarts: []nmf.FreeStart{nmf.FreeRandom, nmf.FreeQuiet},
		ScoreOn: ScoreValidation, Config: cfg}
	res, err := in.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"mixture", "supervised", "free K=2, 5 iters, random start", "free K=2, 20 iters, random start", "free K=2, 5 iters", "free K=2, 20 iters"}
	if len(res.Rows) != len(want) || res.ScoredOn != ScoreValidation {
		t.Fatalf("%d rows scored on %s", len(res.Rows), res.ScoredOn)
	}
	for i, row := range res.Rows {
		if row.Label != want[i] {
			t.Fatalf("row %d: %q, want %q", i, row.Label, want[i])
		}
	}
	// 20 files: 4 held back per speaker, so 4 validation mixtures (2 test).
	if res.Mixtures != 4 {
		t.Errorf("%d validation mixtures, want 4", res.Mixtures)
	}
	best := res.Rows[2]
	for _, row := range res.Rows[3:] {
		if row.MeanSDRi > best.MeanSDRi {
			best = row
		}
	}
	if p := res.Picked(); p.Free != 2 || p.FreeIters != best.Iters || p.FreeStart != best.FreeStart || p.FreeSDRi != best.MeanSDRi || p.UniversalIters != 0 {
		t.Errorf("picked %+v, best row %s", p, best.Label)
	}
	test := *in
	test.ScoreOn = ""
	tres, err := test.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tres.Mixtures != 2 || tres.ScoredOn != ScoreTest || tres.Rows[2].SDR[0] == res.Rows[2].SDR[0] {
		t.Errorf("test run: %d mixtures scored on %s", tres.Mixtures, tres.ScoredOn)
	}
	in.ScoreOn = "train"
	if _, err := in.Run(context.Background()); err == nil {
		t.Error("scoring on the training share accepted")
	}
}

func TestPickedText(t *testing.T) {
	p := Picked{Free: 20, FreeIters: 50, FreeStart: nmf.FreeQuiet, FreeSDRi: 6.123, UniversalWeight: 0.01, UniversalIters: 200, UniversalSDRi: -0.5}
	if got, want := p.Text(), "free 20\nfree_iters 50\nfree_init quiet\nfree_sdri 6.12\nuniversal_weight 0.01\nprune 0\nuniversal_iters 200\nuniversal_sdri -0.50\n"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if got := (Picked{}).Text(); got != "" {
		t.Errorf("no rows: %q", got)
	}
}

// TestInterferenceUnitsShardAndResume runs a small interference experiment
// in one process and as two shards and a summary: the unit files hold the
// same bytes and the results are identical. A run stopped after its first
// repeat resumes to the same results, a damaged unit is computed again to
// the same bytes, and units of other settings are refused.
func TestInterferenceUnitsShardAndResume(t *testing.T) {
	sps := unitSpeakers(20)
	ctx := context.Background()
	newExperiment := func(dir string) *Interference {
		return &Interference{Known: sps[0], Interferer: sps[1], Universal: interferenceUniversal(sps), Free: []int{2}, Prune: []float64{0, 2},
			Config: Config{Repeats: 3, K: []int{4}, Iters: 20, InferIters: 20}, Dir: dir, Workers: 2}
	}
	whole, sharded := t.TempDir(), t.TempDir()
	want, err := newExperiment(whole).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want.Seconds = 0
	if want.Mixtures != 6 || len(want.Shares) != 3 || len(want.Rows) != 5 {
		t.Fatalf("%d mixtures, shares of %d repeats, %d rows: want 6, 3 and 5", want.Mixtures, len(want.Shares), len(want.Rows))
	}
	// The rows are the repeats' scores in order: the second repeat's
	// supervised and free rows, computed here directly, are its mixtures'
	// scores bit for bit.
	job, err := newExperiment(sharded).Job()
	if err != nil {
		t.Fatal(err)
	}
	rp, err := PrepareRepeat(job.Speakers, job.Config, 1)
	if err != nil {
		t.Fatal(err)
	}
	both, _, err := rp.set.Train(ctx, rp.TrainSettings(Row{separation.NMF, []int{4}}, 1))
	if err != nil {
		t.Fatal(err)
	}
	one := *both
	one.Speakers = both.Speakers[:1]
	for row, m := range map[int]*separation.Model{1: both, 2: &one} {
		s := separation.SeparateSettings{Free: want.Rows[row].Free}
		s.NMF.MaxIter, s.NMF.Tol, s.NMF.Seed = 20, job.Config.Tol, rp.Seed
		sep, err := separation.NewSeparator(m, s)
		if err != nil {
			t.Fatal(err)
		}
		for j, tm := range rp.Tests {
			est, err := sep.Separate(tm.Mixture)
			if err != nil {
				t.Fatal(err)
			}
			sdr, err := knownSDR(tm.Sources, est)
			if got := want.Rows[row].SDR[len(rp.Tests)+j]; err != nil || got != sdr {
				t.Errorf("%s, repeat 2, mixture %d: SDR %v, computed directly %v (%v)", want.Rows[row].Label, j+1, got, sdr, err)
			}
		}
	}
	jobs := []Job{job}
	for i := range 2 {
		st, err := (&Units{Dir: sharded, Jobs: jobs, Shard: Shard{i, 2}, Workers: 1}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Units != 3 || st.Owned != 2-i || st.Computed != 2-i {
			t.Errorf("shard %d/2: %+v, want %d of 3 units computed", i, st, 2-i)
		}
	}
	sameUnitFiles(t, whole, sharded, "sharded", 3, "one unit a repeat")
	all, err := (&Units{Dir: sharded, Jobs: jobs}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if got := all[0].Interference; !reflect.DeepEqual(got, want) {
		t.Errorf("the summary of the shards differs from the whole run:\n%+v\n%+v", got, want)
	}
	if got := all[0].Interference.Markdown(); got != want.Markdown() {
		t.Errorf("the summary's table differs:\n%s\nwant\n%s", got, want.Markdown())
	}

	// Stopped after its first repeat (a killed run), the run resumes: the
	// rerun computes only the other two, to the same results.
	stopped := t.TempDir()
	sctx, cancel := context.WithCancel(ctx)
	in := newExperiment(stopped)
	in.Workers = 1
	in.Progress = func(done, total int, what string) { cancel() }
	if _, err := in.Run(sctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped run: %v", err)
	}
	var st UnitStats
	if st, err = (&Units{Dir: stopped, Jobs: jobs, Workers: 1}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if st.Loaded != 1 || st.Computed != 2 || st.Resumed != 1 {
		t.Errorf("resumed run: %+v, want 1 repeat loaded and 2 computed", st)
	}
	got, err := newExperiment(stopped).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got.Seconds = 0
	if !reflect.DeepEqual(got, want) {
		t.Error("the resumed run differs from the whole run")
	}
	sameUnitFiles(t, whole, stopped, "resumed", 3, "one unit a repeat")

	// A truncated unit is named by the summary and computed again.
	p := filepath.Join(sharded, "units", "u00001.json")
	orig, _ := os.ReadFile(p)
	if err := os.WriteFile(p, orig[:len(orig)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	var me *MissingError
	if _, err := (&Units{Dir: sharded, Jobs: jobs}).Collect(); !errors.As(err, &me) || !strings.Contains(err.Error(), "unit 1 (s0+s1, interference, repeat 2) damaged") {
		t.Errorf("summary with a truncated unit: %v", err)
	}
	if st, err := (&Units{Dir: sharded, Jobs: jobs, Shard: Shard{1, 2}}).Run(ctx); err != nil || st.Computed != 1 {
		t.Errorf("rerun of shard 1/2 after damage: %+v, %v", st, err)
	}
	if b, _ := os.ReadFile(p); string(b) != string(orig) {
		t.Error("the recomputed unit differs from the first")
	}

	// Other rows or another universal model: refused, naming the setting.
	other := newExperiment(sharded)
	other.Free = []int{3}
	if _, err := other.Run(ctx); err == nil || !strings.Contains(err.Error(), "interference.free: [2] there, [3] here") {
		t.Errorf("other free bases: %v", err)
	}
	other = newExperiment(sharded)
	other.Universal.K = 3
	if _, err := other.Run(ctx); err == nil || !strings.Contains(err.Error(), "interference.universal.k: 4 there, 3 here") {
		t.Errorf("another universal model: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != string(orig) {
		t.Error("a unit changed after a refused run")
	}
}
