package separation

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/nmf"
)

// trainOne trains a one-speaker NMF model of the low voice.
func trainOne(t *testing.T) *Model {
	t.Helper()
	m, _, err := Train(context.Background(), []SpeakerData{
		{Name: "low", Utterances: [][]float64{synthVoice(lowNotes, 4, 1), synthVoice(lowNotes, 3, 2)}},
	}, nil, TrainSettings{Method: NMF, Sizes: []int{8}, NMF: nmf.Settings{MaxIter: 60, Seed: 5}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkSum fails unless the estimates add up to the mixture.
func checkSum(t *testing.T, est [][]float64, mix []float64) {
	t.Helper()
	for i := range mix {
		var sum float64
		for _, e := range est {
			sum += e[i]
		}
		if d := sum - mix[i]; math.Abs(d) > 1e-4 {
			t.Fatalf("estimates do not add up to the mixture at %d: off by %g", i, d)
		}
	}
}

// sdrOf scores est of the first source of refs and the mixture itself.
func sdrOf(t *testing.T, refs [][]float64, est [][]float64) (got, mixture float64) {
	t.Helper()
	mix := mixOf(refs[0], refs[1])
	r, err := bsseval.Sources(refs, est, bsseval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r0, err := bsseval.Sources(refs, [][]float64{mix, mix}, bsseval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r.SDR[0], r0.SDR[0]
}

func TestSeparateFreeBases(t *testing.T) {
	m := trainOne(t)
	a, b := synthVoice(lowNotes, 3, 100), synthVoice(highNotes, 3, 200)
	mix := mixOf(a, b)
	// A model of one speaker without a universal model gets DefaultFree
	// free bases, starting quiet, as the zero settings say.
	if sep, err := NewSeparator(m, SeparateSettings{}); err != nil || sep.Free() != DefaultFree || len(sep.Sources()) != 2 {
		t.Errorf("one speaker, zero settings: %v", err)
	} else if def, err := NewSeparator(m, SeparateSettings{Free: DefaultFree, NMF: nmf.Settings{FreeStart: DefaultFreeStart, MaxIter: DefaultFreeIters}}); err != nil {
		t.Fatal(err)
	} else {
		x, err1 := sep.Separate(mix)
		y, err2 := def.Separate(mix)
		if err1 != nil || err2 != nil || !slices.Equal(x[1], y[1]) {
			t.Errorf("zero settings differ from the documented defaults (%v, %v)", err1, err2)
		}
	}
	if _, err := NewSeparator(m, SeparateSettings{Free: -1}); err == nil {
		t.Error("negative free bases accepted")
	}
	sep, err := NewSeparator(m, SeparateSettings{Free: 8, NMF: nmf.Settings{MaxIter: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sep.Sources(), ","); got != "low,other" {
		t.Errorf("sources %s", got)
	}
	est, err := sep.Separate(mix)
	if err != nil {
		t.Fatal(err)
	}
	if len(est) != 2 {
		t.Fatalf("%d estimates", len(est))
	}
	checkSum(t, est, mix)
	sdr, base := sdrOf(t, [][]float64{a, b}, est)
	t.Logf("free bases: SDR %.1f dB, mixture %.1f dB", sdr, base)
	if sdr < base+10 {
		t.Errorf("SDR %.1f dB, mixture %.1f dB: want at least 10 dB better", sdr, base)
	}
	// Long signals go block by block, each learning its own free bases.
	long := mixOf(synthVoice(lowNotes, 5, 7), synthVoice(highNotes, 5, 8))
	blocked, err := NewSeparator(m, SeparateSettings{Free: 8, BlockSeconds: 1, NMF: nmf.Settings{MaxIter: 50}})
	if err != nil {
		t.Fatal(err)
	}
	est, err = blocked.Separate(long)
	if err != nil {
		t.Fatal(err)
	}
	checkSum(t, est, long)
	// More free bases than frames.
	many, err := NewSeparator(m, SeparateSettings{Free: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := many.Separate(mix); err == nil || !strings.Contains(err.Error(), "frames") {
		t.Errorf("1000 free bases for 3 s: %v", err)
	}
}

// TestFreeDefaultIterations checks that free bases infer DefaultFreeIters
// iterations unless told: the same bits as asking for them, not those of
// the supervised default.
func TestFreeDefaultIterations(t *testing.T) {
	m := trainOne(t)
	mix := mixOf(synthVoice(lowNotes, 2, 11), synthVoice(highNotes, 2, 12))
	run := func(iters int) [][]float64 {
		return separateWith(t, m, SeparateSettings{Free: 6, NMF: nmf.Settings{MaxIter: iters, Tol: -1, Workers: 1, FreeStart: DefaultFreeStart}}, mix)
	}
	def, explicit, long := run(0), run(DefaultFreeIters), run(nmf.DefaultMaxIter)
	same := func(a, b [][]float64) bool {
		for i := range a {
			for j := range a[i] {
				if a[i][j] != b[i][j] {
					return false
				}
			}
		}
		return true
	}
	if !same(def, explicit) {
		t.Errorf("MaxIter 0 with free bases is not %d iterations", DefaultFreeIters)
	}
	if same(def, long) {
		t.Errorf("MaxIter 0 with free bases gives the %d iterations of the supervised default", nmf.DefaultMaxIter)
	}
}

func TestUniversalModel(t *testing.T) {
	m := trainOne(t)
	// The universal model knows two other voices; the interferer is a
	// third, between them.
	mid := []float64{520, 580, 650}
	u, _, err := TrainUniversal(context.Background(), "speech", []SpeakerData{
		{Name: "high", Utterances: [][]float64{synthVoice(highNotes, 4, 3)}},
		{Name: "mid", Utterances: [][]float64{synthVoice(mid, 4, 4)}},
	}, TrainSettings{Method: NMF, Sizes: []int{8}, NMF: nmf.Settings{MaxIter: 60, Seed: 5}})
	if err != nil {
		t.Fatal(err)
	}
	m.Universal = u
	back := roundTrip(t, m)
	if back.Universal == nil || back.Universal.Name != "speech" || len(back.Universal.Speakers) != 2 || back.Universal.Speakers[1].Layers[0].At(3, 2) != u.Speakers[1].Layers[0].At(3, 2) {
		t.Fatalf("universal model did not survive the file: %+v", back.Universal)
	}
	if _, err := NewSeparator(back, SeparateSettings{Free: 4}); err == nil {
		t.Error("free bases beside a universal model accepted")
	}
	sep, err := NewSeparator(back, SeparateSettings{NMF: nmf.Settings{MaxIter: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sep.Sources(), ","); got != "low,speech" {
		t.Errorf("sources %s", got)
	}
	a, b := synthVoice(lowNotes, 3, 100), synthVoice(mid, 3, 300)
	mix := mixOf(a, b)
	est, err := sep.Separate(mix)
	if err != nil {
		t.Fatal(err)
	}
	checkSum(t, est, mix)
	sdr, base := sdrOf(t, [][]float64{a, b}, est)
	t.Logf("universal model: SDR %.1f dB, mixture %.1f dB", sdr, base)
	if sdr < base+10 {
		t.Errorf("SDR %.1f dB, mixture %.1f dB: want at least 10 dB better", sdr, base)
	}
}

// TestUniversalPrune checks UniversalShares and PruneUniversal: a universal
// speaker with the known voice itself takes much of the known speaker's
// clean audio, one with another voice little, and pruning drops the first.
func TestUniversalPrune(t *testing.T) {
	m := trainOne(t)
	u, _, err := TrainUniversal(context.Background(), "speech", []SpeakerData{
		{Name: "same", Utterances: [][]float64{synthVoice(lowNotes, 4, 21)}},
		{Name: "high", Utterances: [][]float64{synthVoice(highNotes, 4, 22)}},
	}, TrainSettings{Method: NMF, Sizes: []int{5}, NMF: nmf.Settings{MaxIter: 60, Seed: 5}})
	if err != nil {
		t.Fatal(err)
	}
	// The universal model's size (5) is not the model's (8): the file
	// keeps both.
	withU := *m
	withU.Universal = u
	back := roundTrip(t, &withU)
	if got := fmt.Sprint(back.Sizes(), back.Universal.Speakers[1].Sizes()); got != "[8] [5]" {
		t.Errorf("sizes after a round trip: %s, want [8] [5]", got)
	}
	clean := [][]float64{synthVoice(lowNotes, 2, 23), synthVoice(lowNotes, 2, 24)}
	if _, err := UniversalShares(m, clean, SeparateSettings{}); err == nil {
		t.Error("shares of a model without a universal model")
	}
	m.Universal = u
	shares, err := UniversalShares(m, clean, SeparateSettings{NMF: nmf.Settings{MaxIter: 50}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("shares: same %.3f, high %.3f", shares[0], shares[1])
	if len(shares) != 2 || !(shares[0] > 2*shares[1]) || shares[1] < 0 || shares[0] > 1 {
		t.Fatalf("shares %v: want the known voice's double to take more than twice the other's", shares)
	}
	if _, err := UniversalShares(m, [][]float64{make([]float64, 1000)}, SeparateSettings{}); err == nil {
		t.Error("silent utterances accepted")
	}
	p := PruneUniversal(u, shares, 2)
	if len(p.Speakers) != 1 || p.Speakers[0].Name != "high" || p.Name != "speech" {
		t.Fatalf("pruned at 2x: %+v", p)
	}
	// A universal model of one speaker separates at DefaultUniversalWeightOne
	// unless told.
	pruned := *m
	pruned.Universal = p
	mix := mixOf(synthVoice(lowNotes, 2, 25), synthVoice(highNotes, 2, 26))
	sepAt := func(rho float64) []float64 {
		return separateWith(t, &pruned, SeparateSettings{UniversalWeight: rho, NMF: nmf.Settings{MaxIter: 30, Workers: 1}}, mix)[1]
	}
	if a, b := sepAt(0), sepAt(DefaultUniversalWeightOne); !slices.Equal(a, b) {
		t.Errorf("a one-speaker universal model does not default to DefaultUniversalWeightOne")
	}
	for _, r := range []float64{0, 1, 1.5} {
		if err := CheckPrune(r); err != nil {
			t.Errorf("CheckPrune(%v): %v", r, err)
		}
	}
	for _, r := range []float64{-1, 0.5, math.Inf(1), math.NaN()} {
		if CheckPrune(r) == nil {
			t.Errorf("CheckPrune(%v) accepted", r)
		}
	}
	if p := PruneUniversal(u, shares, 0); len(p.Speakers) != 2 {
		t.Errorf("ratio 0 dropped speakers")
	}
	if p := PruneUniversal(u, []float64{0.3, 0.2}, 2); len(p.Speakers) != 2 {
		t.Errorf("shares 0.3 and 0.2 at 2x: dropped a speaker")
	}
	if p := PruneUniversal(u, []float64{0.1, 0.3}, 2); len(p.Speakers) != 1 || p.Speakers[0].Name != "same" {
		t.Errorf("shares 0.1 and 0.3 at 2x: %+v", p)
	}
}

// TestFreeBasesBesideSparsePatches separates with the free bases a
// one-speaker model of the default preset's kind gets (sparsity, unit-norm
// bases, patches of frames), offline and live: the free bases used to be
// refused beside unit-norm bases.
func TestFreeBasesBesideSparsePatches(t *testing.T) {
	m, _, err := Train(context.Background(), []SpeakerData{
		{Name: "low", Utterances: [][]float64{synthVoice(lowNotes, 4, 1), synthVoice(lowNotes, 3, 2)}},
	}, nil, TrainSettings{Method: NMF, Sizes: []int{8}, Sparsity: 1, Context: 3, NMF: nmf.Settings{MaxIter: 60, Seed: 5}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := synthVoice(lowNotes, 3, 100), synthVoice(highNotes, 3, 200)
	mix := mixOf(a, b)
	sep, err := NewSeparator(m, SeparateSettings{})
	if err != nil {
		t.Fatal(err)
	}
	est, err := sep.Separate(mix)
	if err != nil {
		t.Fatal(err)
	}
	checkSum(t, est, mix)
	sdr, base := sdrOf(t, [][]float64{a, b}, est)
	t.Logf("free bases beside sparse patches: SDR %.1f dB, mixture %.1f dB", sdr, base)
	if sdr < base+3 {
		t.Errorf("SDR %.1f dB, mixture %.1f dB: want at least 3 dB better", sdr, base)
	}
	l, err := sep.NewLive()
	if err != nil {
		t.Fatal(err)
	}
	live := make([][]float64, 2)
	sink := func(s int, y []float64) error { live[s] = append(live[s], y...); return nil }
	if err := l.Push(mix, sink); err != nil {
		t.Fatal(err)
	}
	if err := l.Finish(sink); err != nil {
		t.Fatal(err)
	}
	if len(live[0]) != len(mix) || len(live[1]) != len(mix) {
		t.Fatalf("live estimates of %d and %d samples for %d", len(live[0]), len(live[1]), len(mix))
	}
	sdr, _ = sdrOf(t, [][]float64{a, b}, live)
	t.Logf("live: SDR %.1f dB", sdr)
	if sdr < base+3 {
		t.Errorf("live SDR %.1f dB, mixture %.1f dB: want at least 3 dB better", sdr, base)
	}
}
