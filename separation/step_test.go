package separation

import (
	"math"
	"slices"
	"testing"

	"github.com/dlnmf/dlnmf/nmf"
)

// TestStepExponent: a step exponent (SeparateSettings.NMF.StepExponent)
// brings a few iterations nearer to the converged estimates than as many
// of the usual update, on bands and every bin; a Live with it equals
// Separate; out-of-range exponents, free bases and deep-unfolded models
// refuse it before any work.
func TestStepExponent(t *testing.T) {
	m := trainSyntheticWith(t, TrainSettings{Method: NMF, Sizes: []int{6}, Context: 5, Sparsity: 0.5, MaskPower: 2})
	mix := mixOf(synthVoice(lowNotes, 3, 100), synthVoice(highNotes, 3, 200))
	for _, bands := range []int{0, 64} {
		converged := separateWith(t, m, SeparateSettings{Bands: bands, NMF: nmf.Settings{MaxIter: 1000, Tol: -1}}, mix)
		few := func(e float64) [][]float64 {
			return separateWith(t, m, SeparateSettings{Bands: bands, NMF: nmf.Settings{MaxIter: 20, Tol: -1, StepExponent: e}}, mix)
		}
		plain, stepped := few(1), few(1.5)
		checkSum(t, stepped, mix)
		p, s := distanceDB(plain, converged), distanceDB(stepped, converged)
		t.Logf("bands %d: 20 iterations %.1f dB from convergence with the step exponent 1.5, %.1f with the usual update", bands, s, p)
		if s < p+2 {
			t.Errorf("bands %d: 20 iterations with the step exponent 1.5 are %.1f dB from convergence, with the usual update %.1f; want 2 dB nearer", bands, s, p)
		}
		if z := few(0); !slices.Equal(z[0], plain[0]) || !slices.Equal(z[1], plain[1]) {
			t.Errorf("bands %d: the step exponent 0 is not the usual update", bands)
		}
	}
	liveEqualsSeparate(t, m, mix, SeparateSettings{Bands: 64, LiveBatch: 4, NMF: nmf.Settings{MaxIter: 5, Tol: -1, Workers: 1, StepExponent: 1.5}})
	liveEqualsSeparate(t, m, mix, SeparateSettings{CoarseBands: 16, CoarseIters: 20, NMF: nmf.Settings{MaxIter: 5, Tol: -1, Workers: 1, StepExponent: 1.8}})

	for _, bad := range []SeparateSettings{
		{NMF: nmf.Settings{StepExponent: 0.5}}, {NMF: nmf.Settings{StepExponent: 2}}, {NMF: nmf.Settings{StepExponent: math.NaN()}},
		{Free: 4, NMF: nmf.Settings{StepExponent: 1.5}},
	} {
		if _, err := NewSeparator(m, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := NewSeparator(randomPatchModel(4, 3, 1), SeparateSettings{NMF: nmf.Settings{StepExponent: 1.5}}); err == nil {
		t.Error("a step exponent with a deep-unfolded model accepted")
	}
}
