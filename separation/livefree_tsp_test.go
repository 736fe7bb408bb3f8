package separation_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/separation"
)

// On real speech: a one-speaker model of TSP FA (NMF K = 20, 10 sentences)
// and a red noise it does not know, at 0 dB, separated live with 20 free
// bases learned online. Learning them must pay: FA's SDR beats the same
// live separation whose free bases never leave their random start.
func TestLiveFreeTSP(t *testing.T) {
	sp := loadTSP(t, 16000, "FA")[0]
	var data [][]float64
	for _, u := range sp.Utterances[:10] {
		data = append(data, u.Samples)
	}
	m, _, err := separation.Train(context.Background(), []separation.SpeakerData{{Name: "FA", Utterances: data}}, nil,
		separation.TrainSettings{Method: separation.NMF, Sizes: []int{20}, NMF: nmf.Settings{MaxIter: 60, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	// Red noise (a leaky sum of white noise): far from the flat average
	// of the random free bases, so only learning captures it.
	speech := append(append([]float64(nil), sp.Utterances[57].Samples...), sp.Utterances[58].Samples...)
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]float64, len(speech))
	var y float64
	for i := range noise {
		y = 0.97*y + rng.NormFloat64()
		noise[i] = y
	}
	mix, refs, err := corpus.Mix([][]float64{speech, noise}, 0)
	if err != nil {
		t.Fatal(err)
	}
	score := func(online separation.OnlineFree) float64 {
		sep, err := separation.NewSeparator(m, separation.SeparateSettings{Free: 20, Online: online, NMF: nmf.Settings{MaxIter: 50, Workers: 1}})
		if err != nil {
			t.Fatal(err)
		}
		l, err := sep.NewLive()
		if err != nil {
			t.Fatal(err)
		}
		est := make([][]float64, 2)
		sink := func(s int, y []float64) error {
			est[s] = append(est[s], y...)
			return nil
		}
		for i := 0; i < len(mix); i += 256 {
			if err := l.Push(mix[i:min(i+256, len(mix))], sink); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Finish(sink); err != nil {
			t.Fatal(err)
		}
		r, err := bsseval.Sources(refs, est, bsseval.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return r.SDR[0]
	}
	learned := score(separation.OnlineFree{})
	fixed := score(separation.OnlineFree{Every: 1 << 30}) // never updated
	t.Logf("FA in red noise at 0 dB, live --free 20: SDR %.2f dB learned online, %.2f dB with the free bases left at their start", learned, fixed)
	if learned < fixed+1 {
		t.Errorf("learning the free bases online gives %.2f dB, not learning them %.2f: want at least 1 dB more", learned, fixed)
	}
	if learned < 3 {
		t.Errorf("FA's SDR %.2f dB in a 0 dB mixture, want at least 3", learned)
	}
}
