package corpus

import (
	"math"
	"slices"
	"testing"

	"github.com/dlnmf/dlnmf/internal/sharedcorpus"
)

func TestSplitSpeaker(t *testing.T) {
	s, err := SplitSpeaker(60, 7, 3, 0, TrainFraction, DiscFraction)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Train) != 42 || len(s.Disc) != 12 || len(s.Test) != 6 {
		t.Fatalf("split sizes %d/%d/%d, want 42/12/6", len(s.Train), len(s.Disc), len(s.Test))
	}
	all := slices.Concat(s.Train, s.Disc, s.Test)
	slices.Sort(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("split is not a partition of 0..59: %v", all)
		}
	}
	again, _ := SplitSpeaker(60, 7, 3, 0, TrainFraction, DiscFraction)
	if !slices.Equal(s.Train, again.Train) {
		t.Error("same seed gave a different split")
	}
	other, _ := SplitSpeaker(60, 7, 3, 1, TrainFraction, DiscFraction)
	if slices.Equal(s.Test, other.Test) {
		t.Error("two speakers got the same shuffle")
	}
	if _, err := SplitSpeaker(4, 1, 0, 0, TrainFraction, DiscFraction); err == nil {
		t.Error("4 utterances: no error")
	}
}

func TestMixEqualEnergy(t *testing.T) {
	a := []float64{1, -1, 1, -1, 1}
	b := []float64{0.1, 0.2, -0.1, 0.3, 0.2, 9, 9}
	mix, src, err := Mix([][]float64{a, b}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(mix) != 5 || len(src[1]) != 5 {
		t.Fatalf("lengths %d, %d: want the shorter, 5", len(mix), len(src[1]))
	}
	if d := 10 * math.Log10(energy(src[0])/energy(src[1])); math.Abs(d) > 1e-12 {
		t.Errorf("SNR %v dB, want 0", d)
	}
	for i := range mix {
		if mix[i] != src[0][i]+src[1][i] {
			t.Fatal("mixture is not the sum of the scaled sources")
		}
	}
	if _, _, err := Mix([][]float64{a, make([]float64, 5)}, 0); err == nil {
		t.Error("silent source: no error")
	}
}

func TestLoadTSPResamplesTo16k(t *testing.T) {
	dir := sharedcorpus.Require(t, "tsp", "FA")
	sp, err := LoadDir("FA", dir, 16000)
	if err != nil {
		t.Fatal(err)
	}
	if len(sp.Utterances) != 60 {
		t.Fatalf("%d utterances, want 60", len(sp.Utterances))
	}
	// SOURCE.md: FA is 145.1 s in all.
	if s := sp.Seconds(16000); math.Abs(s-145.1) > 0.2 {
		t.Errorf("FA lasts %.2f s, want about 145.1", s)
	}
}

func TestPairAvoidsSamePrompt(t *testing.T) {
	utt := func(names ...string) []Utterance {
		var u []Utterance
		for _, n := range names {
			u = append(u, Utterance{Name: n, Samples: []float64{1, -1, 0.5, 0.25}})
		}
		return u
	}
	sets := [][]Utterance{utt("a1", "a2", "a3"), utt("a1", "a5", "a3", "a9")}
	ms, err := Pair(sets, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 {
		t.Fatalf("%d mixtures from sets of 3 and 4, want 3", len(ms))
	}
	for _, m := range ms {
		if m.Files[0] == m.Files[1] {
			t.Errorf("mixture %s pairs a prompt with itself", m.Name())
		}
	}
	if sets[1][0].Name != "a1" {
		t.Error("Pair reordered its input")
	}
}

// DiscMixtures gives the mixtures of Pair, each the exact sum of its
// sources.
func TestDiscMixturesArePairsMixtures(t *testing.T) {
	sets := [][]Utterance{
		{{Name: "x1", Samples: []float64{1, 2, 3}}, {Name: "x2", Samples: []float64{-1, 0.5, 2, 7}}},
		{{Name: "y1", Samples: []float64{0.5, -0.25, 1, 9}}, {Name: "y2", Samples: []float64{3, 1, -2}}},
	}
	ms, err := Pair(sets, 3)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := DiscMixtures(sets, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	for j, d := range ds {
		if !slices.Equal(d.Mixture, ms[j].Mixture) || len(d.Sources) != 2 {
			t.Fatalf("mixture %d differs from Pair's", j)
		}
		for k, v := range d.Mixture {
			if v != d.Sources[0][k]+d.Sources[1][k] {
				t.Fatalf("mixture %d sample %d is not the sum of its sources", j, k)
			}
		}
	}
	if _, err := Pair(sets[:1], 0); err == nil {
		t.Error("one speaker: no error")
	}
}

// DiscMixtures' pairing p mixes the first speaker's j-th utterance with
// the others' (j+p)-th, cyclically; pairings beyond the sets' size repeat
// nothing.
func TestDiscMixturesPairings(t *testing.T) {
	// Utterance k of each speaker is a pulse at sample k, so a scaled
	// source still says which utterance it is.
	u := func(name string, k int) Utterance {
		x := make([]float64, 3)
		x[k] = 1
		return Utterance{Name: name, Samples: x}
	}
	sets := [][]Utterance{{u("x1", 0), u("x2", 1), u("x3", 2)}, {u("y1", 0), u("y2", 1), u("y3", 2)}}
	for _, c := range []struct{ pairings, want int }{{0, 3}, {1, 3}, {2, 6}, {3, 9}, {10, 9}} {
		ds, err := DiscMixtures(sets, 0, c.pairings)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != c.want {
			t.Fatalf("%d pairings: %d mixtures, want %d", c.pairings, len(ds), c.want)
		}
	}
	ds, err := DiscMixtures(sets, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	pulse := func(x []float64) int { return slices.IndexFunc(x, func(v float64) bool { return v != 0 }) }
	for j, want := range [][2]int{{0, 0}, {1, 1}, {2, 2}, {0, 1}, {1, 2}, {2, 0}} {
		if got := [2]int{pulse(ds[j].Sources[0]), pulse(ds[j].Sources[1])}; got != want {
			t.Errorf("mixture %d mixes utterances %v, want %v", j+1, got, want)
		}
	}
	if _, err := DiscMixtures(sets, 0, -1); err == nil {
		t.Error("-1 pairings: no error")
	}
	if _, err := DiscMixtures(sets[:1], 0, 1); err == nil {
		t.Error("one speaker: no error")
	}
}
