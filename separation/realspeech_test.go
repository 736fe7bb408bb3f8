package separation_test

import (
	"context"
	"testing"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/stft"
)

// On real speech (TSP FA and MC): L-NMF trained on 20 sentences per speaker
// separates 3 unseen 0 dB mixtures with a mean SDR of at least 5 dB, and
// DL-NMF, adapted on 12 other mixtures, does no worse on the same split.
func TestRealSpeechTSP(t *testing.T) {
	sps := loadTSP(t, 16000, "FA", "MC")
	// Fixed, disjoint sentence sets: 0-19 train, 20-31 discriminative, 57-59 test.
	speakers := firstUtterances(sps, 20)
	var discSets [][]corpus.Utterance
	for _, sp := range sps {
		discSets = append(discSets, sp.Utterances[20:32])
	}
	mix := func(j int) ([]float64, [][]float64) {
		m, src, err := corpus.Mix([][]float64{sps[0].Utterances[j].Samples, sps[1].Utterances[j].Samples}, 0)
		if err != nil {
			t.Fatal(err)
		}
		return m, src
	}
	disc, err := corpus.DiscMixtures(discSets, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	set, err := separation.NewTrainingSet(speakers, disc, 0, stft.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	// DL-NMF starts from these very L-NMF models (kept in the set), as in
	// the experiment.
	set.ShareLayers = true
	settings := separation.TrainSettings{Method: separation.LNMF, Sizes: []int{180, 20}, NMF: nmf.Settings{MaxIter: 60, Seed: 1},
		Rounds: 2, InferIter: 60, DiscIter: 30}
	l, _, err := set.Train(context.Background(), settings)
	if err != nil {
		t.Fatal(err)
	}
	settings.Method = separation.DLNMF
	dl, rep, err := set.Train(context.Background(), settings)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("DL-NMF discriminative cost per round: %v (%d rounds kept)", rep.DiscCost, dl.Training.RoundsAccepted)
	mean := func(m *separation.Model) float64 {
		sep, err := separation.NewSeparator(m, separation.SeparateSettings{NMF: nmf.Settings{MaxIter: 60}})
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		var n int
		for j := 57; j < 60; j++ {
			x, src := mix(j)
			est, err := sep.Separate(x)
			if err != nil {
				t.Fatal(err)
			}
			r, err := bsseval.Sources(src, est, bsseval.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range r.SDR {
				sum += v
				n++
			}
		}
		return sum / float64(n)
	}
	lSDR, dlSDR := mean(l), mean(dl)
	t.Logf("mean SDR over 3 test mixtures: L-NMF %.2f dB, DL-NMF %.2f dB", lSDR, dlSDR)
	if lSDR < 5 {
		t.Errorf("L-NMF mean SDR %.2f dB, want at least 5", lSDR)
	}
	// "No worse": the same split and seed; 0.1 dB allows for float32
	// rounding in inference, not for a real loss.
	if dlSDR < lSDR-0.1 {
		t.Errorf("DL-NMF mean SDR %.2f dB is below L-NMF's %.2f dB", dlSDR, lSDR)
	}
}
