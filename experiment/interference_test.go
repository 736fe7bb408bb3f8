package experiment

import (
	"context"
	"math"
	"testing"

	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/separation"
)

func TestInterference(t *testing.T) {
	sps := unitSpeakers(20)
	u := &separation.Universal{Name: "speech"}
	m, _, err := separation.Train(context.Background(), []separation.SpeakerData{{Name: "u1", Utterances: [][]float64{sps[1].Utterances[0].Samples}}},
		nil, separation.TrainSettings{Method: separation.NMF, Sizes: []int{4}})
	if err != nil {
		t.Fatal(err)
	}
	// The universal model's second speaker has the known voice: pruning
	// (Prune 2) drops it.
	known, _, err := separation.Train(context.Background(), []separation.SpeakerData{{Name: "u0", Utterances: [][]float64{sps[0].Utterances[0].Samples}}},
		nil, separation.TrainSettings{Method: separation.NMF, Sizes: []int{4}})
	if err != nil {
		t.Fatal(err)
	}
	u.Speakers = append(m.Speakers, known.Speakers...)
	in := &Interference{Known: sps[0], Interferer: sps[1], Universal: u, Free: []int{2, 4}, UniversalWeights: []float64{0.01, 0}, Prune: []float64{0, 2},
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
	sp, err := NoiseSpeaker("n", [][]float64{x, x[:2000]}, 1000, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(sp.Utterances) != 3 || len(sp.Utterances[2].Samples) != 3000 || sp.Utterances[1].Name != "n_002" {
		t.Errorf("%d chunks", len(sp.Utterances))
	}
	if _, err := NoiseSpeaker("n", [][]float64{x[:10]}, 1000, 3); err == nil {
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
