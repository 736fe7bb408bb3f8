package nmf

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestInferColumnBlock(t *testing.T) {
	basis := randDense[float32](30, 6, 0.05, 4)
	X := Mul(nil, basis, randDense[float32](6, 50, 0, 5))
	s := Settings{MaxIter: 60, Tol: -1, Seed: 9}
	whole, _, err := Infer(nil, X, basis, s)
	if err != nil {
		t.Fatal(err)
	}
	j0, j1 := 17, 41
	block := NewDense[float32](X.Rows, j1-j0, nil)
	for i := 0; i < X.Rows; i++ {
		copy(block.row(i), X.row(i)[j0:j1])
	}
	part, _, err := Infer(nil, block, basis, s)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < part.Rows; k++ {
		for j := 0; j < part.Cols; j++ {
			a, b := float64(part.At(k, j)), float64(whole.At(k, j0+j))
			if math.Abs(a-b) > 1e-5*max(math.Abs(b), 1e-3) {
				t.Fatalf("H(%d, %d): block %g, whole %g", k, j0+j, a, b)
			}
		}
	}
	// The fit improved on the start.
	_, res, _ := Infer(nil, X, basis, s)
	if res.Cost[len(res.Cost)-1] >= res.Cost[0] {
		t.Errorf("Infer did not lower the cost: %v", res.Cost)
	}
}

func TestBadInput(t *testing.T) {
	good := randDense[float64](4, 5, 0, 1)
	for name, v := range map[string]float64{"negative": -1, "NaN": math.NaN(), "Inf": math.Inf(1)} {
		X := good.Clone()
		X.Set(1, 2, v)
		if _, _, err := Factorize(X, 2, Settings{}); err == nil || !strings.Contains(err.Error(), "X(1, 2)") {
			t.Errorf("%s entry: error %v", name, err)
		}
		if _, _, err := Infer(nil, X, randDense[float64](4, 2, 0, 2), Settings{}); err == nil {
			t.Errorf("%s entry: Infer accepted it", name)
		}
	}
	if _, _, err := Factorize(good, 0, Settings{}); err == nil {
		t.Error("k = 0 accepted")
	}
	if _, _, err := Factorize(NewDense[float64](0, 3, nil), 1, Settings{}); err == nil {
		t.Error("empty X accepted")
	}
	if _, _, err := Factorize(good, 2, Settings{Divergence: 9}); err == nil {
		t.Error("unknown divergence accepted")
	}
	if _, _, err := Train(good, nil, Settings{}); err == nil {
		t.Error("no sizes accepted")
	}
}

func TestSilentRowsAndColumns(t *testing.T) {
	for _, beta := range []float64{0, 0.5, 1, 2, 3} {
		X := randDense[float32](12, 20, 0, 3)
		for i := 0; i < X.Rows; i++ {
			X.Set(i, 4, 0) // a silent frame
			X.Set(i, 5, 0)
		}
		for j := 0; j < X.Cols; j++ {
			X.Set(7, j, 0) // a silent frequency
		}
		s := Settings{Divergence: BetaDivergence, Beta: beta, MaxIter: 100, Seed: 1}
		f, res, err := Train(X, []int{4, 2}, s)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range append(f.Layers, f.H, f.Reconstruct(nil)) {
			for _, v := range m.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v < 0 {
					t.Fatalf("beta %g: entry %v", beta, v)
				}
			}
		}
		for _, c := range res.Cost {
			if math.IsNaN(c) || math.IsInf(c, 0) {
				t.Fatalf("beta %g: cost %v", beta, c)
			}
		}
		H, _, err := Infer(nil, X, f.Basis(nil), s)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < H.Rows; k++ {
			if H.At(k, 4) != 0 {
				t.Errorf("beta %g: H of a silent frame = %g", beta, H.At(k, 4))
			}
		}
		if all := NewDense[float32](3, 4, nil); true {
			g, _, err := Factorize(all, 2, s)
			if err != nil || g.Reconstruct(nil).Data[0] != 0 {
				t.Errorf("beta %g: all-zero X: %v", beta, err)
			}
		}
	}
}

func TestSameSeedSameResult(t *testing.T) {
	X := randDense[float32](20, 30, 0, 1)
	s := Settings{MaxIter: 30, Seed: 42}
	a, _, _ := Train(X, []int{5, 3}, s)
	b, _, _ := Train(X, []int{5, 3}, s)
	for i := range a.H.Data {
		if a.H.Data[i] != b.H.Data[i] {
			t.Fatal("same seed, different H")
		}
	}
	s.Seed = 43
	c, _, _ := Train(X, []int{5, 3}, s)
	if c.H.Data[0] == a.H.Data[0] {
		t.Error("different seeds, same H")
	}
}

func TestL1ReducesSumH(t *testing.T) {
	X := randDense[float64](20, 30, 0, 1)
	sum := func(l1 float64) float64 {
		f, _, err := Factorize(X, 6, Settings{MaxIter: 200, Tol: -1, L1: l1, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, v := range f.H.Data {
			s += v
		}
		return s
	}
	if a, b := sum(0), sum(2); b >= a {
		t.Errorf("sum(H) with L1 = 2: %g, without: %g", b, a)
	}
}

func TestLayersAndBasis(t *testing.T) {
	X := randDense[float64](15, 25, 0, 1)
	var events []Event
	f, res, err := Train(X, []int{6, 3}, Settings{MaxIter: 20, Recorder: recorderFunc(func(e Event) { events = append(events, e) })})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Layers) != 2 || f.Layers[1].Rows != 6 || f.Layers[1].Cols != 3 || f.H.Rows != 3 {
		t.Fatalf("shapes: %dx%d, %dx%d", f.Layers[1].Rows, f.Layers[1].Cols, f.H.Rows, f.H.Cols)
	}
	// Columns of the basis sum to one (normalisation).
	B := f.Basis(nil)
	for j := 0; j < B.Cols; j++ {
		var s float64
		for i := 0; i < B.Rows; i++ {
			s += B.At(i, j)
		}
		if math.Abs(s-1) > 1e-9 {
			t.Errorf("basis column %d sums to %g", j, s)
		}
	}
	if len(res.Cost) == 0 || res.CostIter[0] != 0 {
		t.Errorf("cost history %v at %v", res.Cost, res.CostIter)
	}
	stages := map[Stage]bool{}
	for _, e := range events {
		stages[e.Stage] = true
	}
	if !stages[StagePretrain] || !stages[StageFineTune] {
		t.Errorf("stages recorded: %v", stages)
	}
	H := HConcat(nil, f.Layers[0], f.Layers[0])
	if H.Cols != 12 || H.At(3, 7) != f.Layers[0].At(3, 1) {
		t.Error("HConcat")
	}
}

type recorderFunc func(Event)

func (r recorderFunc) Record(e Event) { r(e) }

// TestNoCost checks that skipping the cost evaluations changes nothing but
// the cost history, and that it is refused where the cost is needed.
func TestNoCost(t *testing.T) {
	X := randDense[float32](60, 50, 0, 7)
	basis := randDense[float32](60, 8, 0.01, 8)
	s := Settings{MaxIter: 30, Tol: -1, Workers: 1}
	want, res, err := Infer(nil, X, basis, s)
	if err != nil || len(res.Cost) != 2 {
		t.Fatalf("Infer: %v, %d costs", err, len(res.Cost))
	}
	s.NoCost = true
	got, res, err := Infer(nil, X, basis, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cost) != 0 || res.Iterations != 30 {
		t.Fatalf("NoCost: %d costs, %d iterations", len(res.Cost), res.Iterations)
	}
	for i := range want.Data {
		if got.Data[i] != want.Data[i] {
			t.Fatalf("H[%d] = %v with NoCost, %v without", i, got.Data[i], want.Data[i])
		}
	}
	for _, bad := range []Settings{{NoCost: true}, {NoCost: true, Tol: -1, Recorder: recorderFunc(func(Event) {})}} {
		if _, _, err := Infer(nil, X, basis, bad); err == nil {
			t.Errorf("NoCost with %+v accepted", bad)
		}
	}
}

// TestSchedulingDoesNotChangeResults trains on many column blocks with two
// workers claiming them in whatever order the scheduler gives, several
// times: W, H and the cost history must be the same bits every time.
func TestSchedulingDoesNotChangeResults(t *testing.T) {
	defer func(c int) { BlockCols = c }(BlockCols)
	BlockCols = 16
	X := randDense[float32](40, 300, 0, 11)
	s := Settings{MaxIter: 40, Seed: 3, Workers: 2}
	first, res0, err := Train(X, []int{6}, s)
	if err != nil {
		t.Fatal(err)
	}
	for run := 0; run < 5; run++ {
		f, res, err := Train(X, []int{6}, s)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range f.Layers[0].Data {
			if v != first.Layers[0].Data[i] {
				t.Fatalf("run %d: W[%d] = %v, first run %v", run, i, v, first.Layers[0].Data[i])
			}
		}
		for i, v := range f.H.Data {
			if v != first.H.Data[i] {
				t.Fatalf("run %d: H[%d] = %v, first run %v", run, i, v, first.H.Data[i])
			}
		}
		for i, c := range res.Cost {
			if c != res0.Cost[i] {
				t.Fatalf("run %d: cost %d = %v, first run %v", run, i, c, res0.Cost[i])
			}
		}
	}
}

// TestBlockBounds checks the column blocks: they tile [0, N) in order, none
// wider than maxW, equal to within a column, as few as maxW allows.
func TestBlockBounds(t *testing.T) {
	for _, N := range []int{1, 2, 7, 188, 513, 1000, 6500} {
		for _, maxW := range []int{1, 16, 512} {
			b := blockBounds(N, maxW)
			if b[0] != 0 || b[len(b)-1] != N {
				t.Fatalf("N=%d maxW=%d: bounds %v do not span [0, N)", N, maxW, b)
			}
			if want := (N + maxW - 1) / maxW; len(b)-1 != want {
				t.Fatalf("N=%d maxW=%d: %d blocks, want %d", N, maxW, len(b)-1, want)
			}
			lo, hi := N, 0
			for i := 1; i < len(b); i++ {
				w := b[i] - b[i-1]
				if w < 1 || w > maxW {
					t.Fatalf("N=%d maxW=%d: block %d is %d wide", N, maxW, i-1, w)
				}
				lo, hi = min(lo, w), max(hi, w)
			}
			if hi-lo > 1 {
				t.Fatalf("N=%d maxW=%d: blocks %v are not equal", N, maxW, b)
			}
		}
	}
}

// TestInfererMatchesInfer: an Inferer gives Infer's bits call after call,
// for column counts that change and come back (the solver rebuilt and
// kept), on the KL path with and without the one-pass kernel and on the
// general beta path, in float32 and float64.
func TestInfererMatchesInfer(t *testing.T) {
	for _, c := range []struct {
		name string
		s    Settings
	}{
		{"kl", Settings{MaxIter: 15, Tol: -1, Seed: 3}},
		{"kl-tol", Settings{MaxIter: 40, Seed: 4}},
		{"kl-l1-2workers", Settings{MaxIter: 15, Tol: -1, L1: 0.1, Workers: 2}},
		{"euclidean", Settings{Divergence: Euclidean, MaxIter: 15, Tol: -1}},
		{"kl-step1.5", Settings{MaxIter: 15, Tol: -1, L1: 0.1, StepExponent: 1.5}},
		{"kl-step1.8-tol", Settings{MaxIter: 40, L1: 0.1, StepExponent: 1.8}},
	} {
		t.Run(c.name, func(t *testing.T) {
			inferEqual[float32](t, c.s)
			inferEqual[float64](t, c.s)
		})
	}
}

func inferEqual[T Float](t *testing.T, s Settings) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	const M, K = 37, 9
	basis := NewDense[T](M, K, nil)
	for i := range basis.Data {
		basis.Data[i] = T(rng.Float64())
	}
	in, err := NewInferer(basis, s)
	if err != nil {
		t.Fatal(err)
	}
	// Two matrices, resized in place as live separation does, so that
	// calls of one size see both a new and the same X.
	var xs [2]Dense[T]
	var H Dense[T]
	for c, n := range []int{1, 1, 3, 20, 20, 1, 700} {
		X := &xs[c%2]
		X.Rows, X.Cols, X.Stride, X.Data = M, n, n, make([]T, M*n)
		for i := range X.Data {
			X.Data[i] = T(rng.Float64() * 3)
		}
		H.Rows, H.Cols, H.Stride, H.Data = K, n, n, make([]T, K*n)
		want, wres, err := Infer(nil, X, basis, s)
		if err != nil {
			t.Fatal(err)
		}
		got, gres, err := in.Infer(&H, X)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Data, want.Data) || gres.Iterations != wres.Iterations || !slices.Equal(gres.Cost, wres.Cost) {
			t.Fatalf("%d columns: the Inferer's H differs from Infer's (iterations %d, %d)", n, gres.Iterations, wres.Iterations)
		}
	}
	xs[0].Data[0] = -1
	if _, _, err := in.Infer(&H, &xs[0]); err == nil {
		t.Fatal("a negative entry was accepted")
	}
}

// An Inferer's Resume continues from H as given: 3 iterations of Infer
// then 2 resumed equal 5 of Infer, bit for bit (the same solver steps).
func TestInfererResume(t *testing.T) {
	X, B := randDense[float32](30, 12, 0.1, 1), randDense[float32](30, 4, 0.1, 2)
	s := Settings{Tol: -1, NoCost: true, L1: 0.5, Workers: 1}
	s.MaxIter = 5
	want, _, err := Infer(nil, X, B, s)
	if err != nil {
		t.Fatal(err)
	}
	s.MaxIter = 3
	H, _, err := Infer(nil, X, B, s)
	if err != nil {
		t.Fatal(err)
	}
	s.MaxIter = 2
	in, err := NewInferer(B, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Resume(H, X); err != nil {
		t.Fatal(err)
	}
	for i := range want.Data {
		if H.Data[i] != want.Data[i] {
			t.Fatalf("entry %d: resumed %v, straight %v", i, H.Data[i], want.Data[i])
		}
	}
}
