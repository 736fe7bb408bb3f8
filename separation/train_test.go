package separation

import (
	"context"
	"slices"
	"testing"

	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/stft"
)

// Training and Discriminate resolve their counts by one rule: the same
// inference iterations (NMF.MaxIter when not given), rounds and basis
// iterations.
func TestDefaultsAgree(t *testing.T) {
	for _, maxIter := range []int{0, 30} {
		ts, err := TrainSettings{Method: DLNMF, NMF: nmf.Settings{MaxIter: maxIter}}.withDefaults(2)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := DiscSettings{NMF: nmf.Settings{MaxIter: maxIter}}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		want := maxIter
		if want == 0 {
			want = nmf.DefaultMaxIter
		}
		if ts.NMF.MaxIter != want || ts.InferIter != want || ds.InferIter != want {
			t.Errorf("MaxIter %d: training %d/%d, Discriminate %d inference iterations, want %d", maxIter, ts.NMF.MaxIter, ts.InferIter, ds.InferIter, want)
		}
		if ts.Rounds != DefaultRounds || ds.Rounds != DefaultRounds || ts.DiscIter != DefaultDiscIter || ds.DiscIter != DefaultDiscIter {
			t.Errorf("rounds %d/%d, basis iterations %d/%d", ts.Rounds, ds.Rounds, ts.DiscIter, ds.DiscIter)
		}
	}
	if _, err := (DiscSettings{Rounds: -1}).withDefaults(); err == nil {
		t.Error("negative rounds: no error")
	}
}

// A training set that shares layers gives, row after row, the very models
// that Train builds from scratch: NMF, then L-NMF with the first layer of
// an earlier size list, then DL-NMF from the kept L-NMF layers.
func TestSharedLayersEqualTrainingFromScratch(t *testing.T) {
	speakers := []SpeakerData{
		{Name: "low", Utterances: [][]float64{synthVoice(lowNotes, 6, 1), synthVoice(lowNotes, 5, 2)}},
		{Name: "high", Utterances: [][]float64{synthVoice(highNotes, 6, 3), synthVoice(highNotes, 5, 4)}},
	}
	var disc []MixtureData
	for j := range 2 {
		a, b := synthVoice(lowNotes, 1, uint64(10+j)), synthVoice(highNotes, 1, uint64(20+j))
		disc = append(disc, MixtureData{Mixture: mixOf(a, b), Sources: [][]float64{a, b}})
	}
	set, err := NewTrainingSet(speakers, disc, 0, stft.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	set.ShareLayers = true
	ctx := context.Background()
	base := TrainSettings{NMF: nmf.Settings{MaxIter: 25, Seed: 9}, Rounds: 2, DiscIter: 10, InferIter: 20}
	rows := []struct {
		method Method
		sizes  []int
	}{{NMF, []int{8}}, {LNMF, []int{12, 4}}, {LNMF, []int{12, 6}}, {DLNMF, []int{12, 6}}, {DLNMF, []int{12, 4}}}
	for _, row := range rows {
		s := base
		s.Method, s.Sizes = row.method, row.sizes
		got, grep, err := set.Train(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		// A different worker count must not change a bit either.
		s.NMF.Workers = 3
		want, wrep, err := Train(ctx, speakers, disc, s)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want.Speakers {
			for l, w := range want.Speakers[i].Layers {
				if !slices.Equal(got.Speakers[i].Layers[l].Data, w.Data) {
					t.Errorf("%s %v: speaker %d layer %d differs from training from scratch", row.method, row.sizes, i, l+1)
				}
			}
		}
		if !slices.Equal(grep.DiscCost, wrep.DiscCost) || got.Training.RoundsAccepted != want.Training.RoundsAccepted {
			t.Errorf("%s %v: discriminative cost %v, from scratch %v", row.method, row.sizes, grep.DiscCost, wrep.DiscCost)
		}
	}
	if n := len(set.first); n != 1 {
		t.Errorf("%d first layers kept, want 1 (K1 = 12)", n)
	}
	if n := len(set.layered); n != 3 {
		t.Errorf("%d layered models kept, want 3", n)
	}
}

// A set of the same training speech with other discriminative mixtures
// takes another set's kept layers (Keep) and trains from them the very
// model it would train itself; a set of other speech does not take them.
func TestKeepLayersOfSameSpeech(t *testing.T) {
	speakers := []SpeakerData{
		{Name: "low", Utterances: [][]float64{synthVoice(lowNotes, 4, 1)}},
		{Name: "high", Utterances: [][]float64{synthVoice(highNotes, 4, 3)}},
	}
	mixture := func(seed uint64) []MixtureData {
		a, b := synthVoice(lowNotes, 1, seed), synthVoice(highNotes, 1, seed+1)
		return []MixtureData{{Mixture: mixOf(a, b), Sources: [][]float64{a, b}}}
	}
	s := TrainSettings{Method: NMF, Sizes: []int{6}, NMF: nmf.Settings{MaxIter: 20, Seed: 4}}
	first, err := NewTrainingSet(speakers, mixture(10), 0, stft.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	first.ShareLayers = true
	want, _, err := first.Train(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	second, err := NewTrainingSet(speakers, mixture(20), 0, stft.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	second.ShareLayers = true
	if !second.Keep(first.Kept()) {
		t.Fatal("the same speech did not take the kept layers")
	}
	got, rep, err := second.Train(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Speakers[1].Layers[0].Data, want.Speakers[1].Layers[0].Data) || rep.Seconds[0] != 0 {
		t.Errorf("the second set trained again (%v s) or trained other layers", rep.Seconds)
	}
	other, err := NewTrainingSet([]SpeakerData{speakers[0], {Name: "high", Utterances: [][]float64{synthVoice(highNotes, 4, 5)}}}, nil, 0, stft.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if other.Keep(first.Kept()) || other.Keep(KeptLayers{}) {
		t.Error("other speech, or nothing kept, was taken")
	}
}
