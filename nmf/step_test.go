package nmf

import (
	"math"
	"testing"
)

// The step exponent (Settings.StepExponent) keeps inference's fixed point
// and reaches it sooner: on a planted KL problem with its true basis, H
// inferred with the exponents 1, 1.5 and 1.9 ends at the same cost (to 1e-6
// of it after 3000 iterations), and after 20 iterations a larger exponent
// has the lower cost. (At 2 this problem oscillates: its cost stays 16
// times the fixed point's.)
func TestStepExponentSameFixedPointSooner(t *testing.T) {
	X := planted[float64](40, 4, 60, 1)
	W := randDense[float64](40, 4, 0, 1) // planted's own basis
	costAfter := func(iters int, e float64) float64 {
		t.Helper()
		s := Settings{MaxIter: iters, Tol: -1, L1: 0.01, StepExponent: e, Seed: 5}
		H, _, err := Infer(nil, X, W, s)
		if err != nil {
			t.Fatal(err)
		}
		f := &Factorization[float64]{Layers: []*Dense[float64]{W}, H: H}
		var sum float64
		for _, v := range H.Data {
			sum += v
		}
		return Cost(X, f.Reconstruct(nil), Settings{}) + s.L1*sum
	}
	final := costAfter(3000, 1.5)
	prev := math.Inf(1)
	for _, e := range []float64{1, 1.5, 1.9} {
		if c := costAfter(3000, e); math.Abs(c-final) > 1e-6*final {
			t.Errorf("exponent %g: cost %v after 3000 iterations, exponent 1: %v", e, c, final)
		}
		c := costAfter(20, e)
		if !(c < prev) {
			t.Errorf("exponent %g: cost %v after 20 iterations, not below the smaller exponent's %v", e, c, prev)
		}
		prev = c
	}
}

// Exponents out of range, and the solvers that update bases, refuse a
// step exponent other than 1.
func TestStepExponentRefused(t *testing.T) {
	X := randDense[float64](10, 12, 0, 1)
	W := randDense[float64](10, 3, 0, 2)
	for _, e := range []float64{0.5, -1, StepExponentLimit, 3, math.NaN(), math.Inf(1)} {
		if _, _, err := Infer(nil, X, W, Settings{StepExponent: e}); err == nil {
			t.Errorf("step exponent %v accepted", e)
		}
	}
	s := Settings{MaxIter: 5, StepExponent: 1.5}
	if _, _, err := Factorize(X, 3, s); err == nil {
		t.Error("training took a step exponent of 1.5")
	}
	if _, _, err := InferFree(X, W, 2, s); err == nil {
		t.Error("free bases took a step exponent of 1.5")
	}
	if _, _, err := Infer(nil, X, W, Settings{Divergence: Euclidean, StepExponent: 2}); err == nil {
		t.Error("the Euclidean distance took a step exponent of 1.5")
	}
	if _, _, err := InferFree(X, W, 0, s); err != nil {
		t.Errorf("InferFree without free bases: %v", err)
	}
	for _, e := range []float64{0, 1} { // the usual update, everywhere
		if _, _, err := Factorize(X, 3, Settings{MaxIter: 5, StepExponent: e}); err != nil {
			t.Errorf("training with step exponent %v: %v", e, err)
		}
	}
}
