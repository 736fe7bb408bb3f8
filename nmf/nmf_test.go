package nmf

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randDense returns an r x c matrix with entries uniform in [lo, lo+1).
func randDense[T Float](r, c int, lo float64, seed uint64) *Dense[T] {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := NewDense[T](r, c, nil)
	for i := range m.Data {
		m.Data[i] = T(lo + rng.Float64())
	}
	return m
}

func planted[T Float](m, k, n int, seed uint64) *Dense[T] {
	W := randDense[T](m, k, 0, seed)
	H := randDense[T](k, n, 0, seed+1)
	return Mul(nil, W, H)
}

func TestPlantedKL(t *testing.T) {
	X := planted[float64](40, 4, 60, 1)
	f, res, err := Train(X, []int{4}, Settings{MaxIter: 3000, Tol: -1, CostEvery: 100})
	if err != nil {
		t.Fatal(err)
	}
	var sx float64
	for _, v := range X.Data {
		sx += v
	}
	rel := Cost(X, f.Reconstruct(nil), Settings{}) / sx
	if rel > 1e-4 {
		t.Errorf("relative KL after %d iterations = %g, want < 1e-4", res.Iterations, rel)
	}
}

func TestCostNeverRises(t *testing.T) {
	for _, beta := range []float64{0, 0.5, 1, 1.5, 2, 3} {
		for L := 1; L <= 3; L++ {
			sizes := []int{6, 4, 3}[:L]
			X := randDense[float64](20, 30, 0.1, 7)
			s := Settings{Divergence: BetaDivergence, Beta: beta, MaxIter: 10, Tol: -1, Seed: 3}
			f, _, err := Train(X, sizes, s)
			if err != nil {
				t.Fatal(err)
			}
			s.MaxIter, s.CostEvery = 200, 1
			res, err := FineTune(X, f, s)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(res.Cost); i++ {
				if res.Cost[i] > res.Cost[i-1]*(1+1e-12)+1e-12 {
					t.Errorf("beta %g L %d: cost rose at iteration %d: %g -> %g", beta, L, res.CostIter[i], res.Cost[i-1], res.Cost[i])
					break
				}
			}
			if math.IsNaN(res.Cost[len(res.Cost)-1]) {
				t.Errorf("beta %g L %d: NaN cost", beta, L)
			}
		}
	}
}

// The float32 KL cost kernel agrees with the float64 definition.
func TestKLCostKernel(t *testing.T) {
	X := randDense[float32](37, 129, 0, 3)
	V := randDense[float32](37, 129, 0.01, 4)
	for j := 0; j < 129; j += 7 {
		X.Set(3, j, 0) // zeros take the x = 0 branch
	}
	V.Set(5, 5, 0)          // and a zero reconstruction the floor
	for i := range X.Data { // spectrogram-like dynamic range, 1e-6 to 1e3
		X.Data[i] *= float32(math.Pow(10, float64(i%10-6)))
		V.Data[i] *= float32(math.Pow(10, float64((i/7)%10-6)))
	}
	got := klCost(X, V, 1e-7)
	want := 0.0
	for i := 0; i < 37; i++ {
		want += costRow(X.row(i), V.row(i), 1, 1e-7)
	}
	if d := math.Abs(got-want) / want; d > 1e-5 {
		t.Fatalf("kernel cost %v, float64 cost %v: relative difference %g", got, want, d)
	}
}
