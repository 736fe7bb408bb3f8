package nmf

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dlnmf/dlnmf/internal/openblas"
)

// The same seed gives the same bits whatever the parallelism: the worker
// count and the BLAS thread count change the speed of training and
// inference, not one bit of the factors or the recorded costs, for KL (the
// column-block path) and for another beta.
func TestResultsDoNotDependOnParallelism(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	X := NewDense[float32](65, 1100, nil) // three column blocks
	for i := range X.Data {
		X.Data[i] = float32(rng.ExpFloat64())
	}
	type outcome struct {
		factors []float32
		cost    []float64
	}
	run := func(div Divergence, beta float64, workers int, hold bool) outcome {
		if hold {
			defer openblas.HoldSingle()()
		}
		s := Settings{Divergence: div, Beta: beta, MaxIter: 6, CostEvery: 2, Seed: 7, Workers: workers}
		f, res, err := Train(X, []int{16, 5}, s)
		if err != nil {
			t.Fatal(err)
		}
		var o outcome
		for _, w := range f.Layers {
			o.factors = append(o.factors, w.Data...)
		}
		o.factors = append(o.factors, f.H.Data...)
		o.cost = res.Cost
		H, ires, err := Infer(nil, X, f.Basis(nil), s)
		if err != nil {
			t.Fatal(err)
		}
		o.factors = append(o.factors, H.Data...)
		o.cost = append(o.cost, ires.Cost...)
		return o
	}
	for _, d := range []struct {
		name string
		div  Divergence
		beta float64
	}{{"KL", KullbackLeibler, 1}, {"beta 0.5", BetaDivergence, 0.5}} {
		want := run(d.div, d.beta, 1, true)
		for _, c := range []struct {
			workers int
			hold    bool
		}{{1, false}, {2, false}, {3, true}, {4, false}} {
			got := run(d.div, d.beta, c.workers, c.hold)
			if !slices.Equal(got.factors, want.factors) || !slices.Equal(got.cost, want.cost) {
				t.Errorf("%s, %d workers, BLAS held at one thread %v: the result differs from one worker's", d.name, c.workers, c.hold)
			}
		}
	}
}
