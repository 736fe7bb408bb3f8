package nmf

import (
	"math"
	"testing"
)

// naiveSemiKL runs iters KL iterations of semi-supervised NMF the plain way
// on float64 copies: the free columns of W (from fixed on) and H, with a
// group-sparsity tangent, both from the ratio of the factors the iteration
// starts with (iterateJoint), and returns W H. l1 weighs every activation;
// unit keeps the free columns at unit Euclidean norm (Settings.UnitNorm)
// rather than unit sum.
func naiveSemiKL(X, W0, H0 *Dense[float64], fixed, iters int, g GroupSparsity, freeL1, l1 float64, unit bool) *Dense[float64] {
	W, H := W0.Clone(), H0.Clone()
	M, N, K := X.Rows, X.Cols, W.Cols
	ratio := func() *Dense[float64] {
		V := Mul(nil, W, H)
		for i := range V.Data {
			V.Data[i] = X.Data[i] / max(V.Data[i], DefaultEpsilon)
		}
		return V
	}
	for range iters {
		R := ratio()
		W0 := W.Clone()
		for k := fixed; k < K; k++ {
			var den float64
			for n := 0; n < N; n++ {
				den += H.At(k, n)
			}
			for m := 0; m < M; m++ {
				var num float64
				for n := 0; n < N; n++ {
					num += R.At(m, n) * H.At(k, n)
				}
				W.Set(m, k, W.At(m, k)*num/max(den, DefaultEpsilon))
			}
		}
		add := make([]float64, K)
		for k := range add {
			add[k] = l1
			if k >= fixed {
				add[k] += freeL1
			}
		}
		row := g.Start
		for _, size := range g.Sizes {
			var n float64
			for i := row; i < row+size; i++ {
				for j := 0; j < N; j++ {
					n += H.At(i, j)
				}
			}
			for i := row; i < row+size; i++ {
				add[i] += g.Lambda / (g.Epsilon + n)
			}
			row += size
		}
		for k := 0; k < K; k++ {
			var den float64
			for m := 0; m < M; m++ {
				den += W0.At(m, k)
			}
			for n := 0; n < N; n++ {
				var num float64
				for m := 0; m < M; m++ {
					num += W0.At(m, k) * R.At(m, n)
				}
				H.Set(k, n, H.At(k, n)*num/max(den+add[k], DefaultEpsilon))
			}
		}
		for k := fixed; k < K; k++ { // free columns to unit sum or norm, as the solver
			var sum float64
			for m := 0; m < M; m++ {
				if unit {
					sum += W.At(m, k) * W.At(m, k)
				} else {
					sum += W.At(m, k)
				}
			}
			if unit {
				sum = math.Sqrt(sum)
			}
			for m := 0; m < M; m++ {
				W.Set(m, k, W.At(m, k)/sum)
			}
			for n := 0; n < N; n++ {
				H.Set(k, n, H.At(k, n)*sum)
			}
		}
	}
	return Mul(nil, W, H)
}

func TestInferFreeMatchesNaive(t *testing.T) {
	basis := randDense[float64](20, 4, 0.1, 11)
	X := Mul(nil, HConcat(nil, basis, randDense[float64](20, 3, 0, 12)), randDense[float64](7, 30, 0, 13))
	for _, g := range []GroupSparsity{{}, {Start: 0, Sizes: []int{2, 2}, Lambda: 5, Epsilon: 1e-3}} {
		for _, workers := range []int{1, 2} {
			s := Settings{MaxIter: 25, Tol: -1, Seed: 3, Workers: workers, Groups: g, FreeStart: FreeRandom}
			f, _, err := InferFree(X, basis, 3, s)
			if err != nil {
				t.Fatal(err)
			}
			f0 := freeStart(X, basis, 3, 3)
			want := naiveSemiKL(X, f0.Layers[0], f0.H, basis.Cols, 25, g, 0, 0, false)
			got := f.Reconstruct(nil)
			for i := range want.Data {
				if d := math.Abs(got.Data[i] - want.Data[i]); d > 1e-9*max(1, math.Abs(want.Data[i])) {
					t.Fatalf("groups %v, %d workers: WH[%d] = %g, naive %g", g.Sizes, workers, i, got.Data[i], want.Data[i])
				}
			}
			for i := 0; i < basis.Rows; i++ {
				for k := 0; k < basis.Cols; k++ {
					if f.Layers[0].At(i, k) != basis.At(i, k) {
						t.Fatalf("fixed column %d changed at row %d", k, i)
					}
				}
			}
		}
	}
}

// TestInferFreeUnitNorm checks free bases beside the fixed columns of a
// sparse model (Settings.L1 with UnitNorm, as a model trained with
// sparsity separates): the free columns are kept at unit Euclidean norm,
// the fixed ones untouched, against the plain loops.
func TestInferFreeUnitNorm(t *testing.T) {
	basis := randDense[float64](20, 4, 0.1, 31)
	unitColumnsRef(basis)
	X := Mul(nil, HConcat(nil, basis, randDense[float64](20, 3, 0, 32)), randDense[float64](7, 30, 0, 33))
	s := Settings{MaxIter: 20, Tol: -1, Seed: 4, L1: 0.3, UnitNorm: true, FreeStart: FreeRandom}
	f, _, err := InferFree(X, basis, 3, s)
	if err != nil {
		t.Fatal(err)
	}
	f0 := freeStart(X, basis, 3, 4)
	want := naiveSemiKL(X, f0.Layers[0], f0.H, basis.Cols, 20, GroupSparsity{}, 0, 0.3, true)
	got := f.Reconstruct(nil)
	for i := range want.Data {
		if d := math.Abs(got.Data[i] - want.Data[i]); d > 1e-9*max(1, math.Abs(want.Data[i])) {
			t.Fatalf("WH[%d] = %g, naive %g", i, got.Data[i], want.Data[i])
		}
	}
	W := f.Layers[0]
	for k := range W.Cols {
		var n float64
		for i := 0; i < W.Rows; i++ {
			if k < basis.Cols && W.At(i, k) != basis.At(i, k) {
				t.Fatalf("fixed column %d changed at row %d", k, i)
			}
			n += W.At(i, k) * W.At(i, k)
		}
		if math.Abs(math.Sqrt(n)-1) > 1e-12 {
			t.Fatalf("column %d has norm %g, want 1", k, math.Sqrt(n))
		}
	}
}

// unitColumnsRef scales m's columns to unit Euclidean norm.
func unitColumnsRef(m *Dense[float64]) {
	for k := range m.Cols {
		var n float64
		for i := 0; i < m.Rows; i++ {
			n += m.At(i, k) * m.At(i, k)
		}
		for i := 0; i < m.Rows; i++ {
			m.Set(i, k, m.At(i, k)/math.Sqrt(n))
		}
	}
}

// TestInferFreeFloat32 runs the float32 path (the one-pass H kernel where
// the CPU has it) against the float64 reference.
func TestInferFreeFloat32(t *testing.T) {
	basis := randDense[float64](40, 6, 0.1, 21)
	X := Mul(nil, HConcat(nil, basis, randDense[float64](40, 2, 0, 22)), randDense[float64](8, 70, 0, 23))
	g := GroupSparsity{Start: 0, Sizes: []int{3, 3}, Lambda: 20, Epsilon: 1e-2}
	f0 := freeStart(X, basis, 2, 5)
	want := naiveSemiKL(X, f0.Layers[0], f0.H, basis.Cols, 30, g, 0, 0, false)
	X32, b32 := Convert[float64, float32](nil, X), Convert[float64, float32](nil, basis)
	f, _, err := InferFree(X32, b32, 2, Settings{MaxIter: 30, Tol: -1, Seed: 5, Groups: g, NoCost: true, FreeStart: FreeRandom})
	if err != nil {
		t.Fatal(err)
	}
	got := f.Reconstruct(nil)
	for i := range want.Data {
		if d := math.Abs(float64(got.Data[i]) - want.Data[i]); d > 1e-3*max(0.1, math.Abs(want.Data[i])) {
			t.Fatalf("WH[%d] = %g, float64 reference %g", i, got.Data[i], want.Data[i])
		}
	}
}

// TestInferFreeL1 checks the L1 penalty on the free rows against the
// plain loops, in float64 and in float32 (the one-pass kernel's path).
func TestInferFreeL1(t *testing.T) {
	basis := randDense[float64](40, 6, 0.1, 61)
	X := Mul(nil, HConcat(nil, basis, randDense[float64](40, 2, 0, 62)), randDense[float64](8, 70, 0, 63))
	f0 := freeStart(X, basis, 3, 7)
	want := naiveSemiKL(X, f0.Layers[0], f0.H, basis.Cols, 30, GroupSparsity{}, 0.5, 0, false)
	f, _, err := InferFree(X, basis, 3, Settings{MaxIter: 30, Tol: -1, Seed: 7, FreeL1: 0.5, FreeStart: FreeRandom})
	if err != nil {
		t.Fatal(err)
	}
	X32, b32 := Convert[float64, float32](nil, X), Convert[float64, float32](nil, basis)
	f32, _, err := InferFree(X32, b32, 3, Settings{MaxIter: 30, Tol: -1, Seed: 7, FreeL1: 0.5, NoCost: true, FreeStart: FreeRandom})
	if err != nil {
		t.Fatal(err)
	}
	got, got32 := f.Reconstruct(nil), f32.Reconstruct(nil)
	for i := range want.Data {
		if d := math.Abs(got.Data[i] - want.Data[i]); d > 1e-9*max(1, math.Abs(want.Data[i])) {
			t.Fatalf("WH[%d] = %g, naive %g", i, got.Data[i], want.Data[i])
		}
		if d := math.Abs(float64(got32.Data[i]) - want.Data[i]); d > 1e-3*max(0.1, math.Abs(want.Data[i])) {
			t.Fatalf("float32 WH[%d] = %g, naive %g", i, got32.Data[i], want.Data[i])
		}
	}
	if _, _, err := InferFree(X, basis, 3, Settings{FreeL1: -1}); err == nil {
		t.Error("negative FreeL1 accepted")
	}
	if _, _, err := InferFree(X, basis, 3, Settings{FreeL1: 1, Groups: GroupSparsity{Sizes: []int{4, 4}, Lambda: 1}}); err == nil {
		t.Error("groups over the free rows with FreeL1 accepted")
	}
}

// TestInferFreeQuietStart: the free columns start from the quietest
// frames, averaged, at unit sum.
func TestInferFreeQuietStart(t *testing.T) {
	const M, N = 5, 40
	X := NewDense[float64](M, N, nil)
	quiet := []float64{1, 2, 3, 4, 0}
	for j := 0; j < N; j++ {
		for i := 0; i < M; i++ {
			if j%10 == 3 { // 4 quiet frames of one spectrum
				X.Set(i, j, quiet[i])
			} else {
				X.Set(i, j, 100+float64(i*j%7))
			}
		}
	}
	basis := randDense[float64](M, 2, 0.1, 71)
	f := freeStart(X, basis, 2, 1)
	quietStart(f.Layers[0], X, 2)
	var mean float64
	for _, v := range X.Data {
		mean += v / (M * N)
	}
	for k := 2; k < 4; k++ {
		for i := 0; i < M; i++ {
			want := (quiet[i] + 1e-3*mean) / (10 + 5e-3*mean)
			if got := f.Layers[0].At(i, k); math.Abs(got-want) > 1e-12 {
				t.Fatalf("free column %d, row %d: %g, want %g", k-2, i, got, want)
			}
		}
	}
	// InferFree with FreeQuiet runs and keeps the basis.
	g, _, err := InferFree(X, basis, 2, Settings{MaxIter: 5, FreeStart: FreeQuiet})
	if err != nil || g.Layers[0].At(0, 0) != basis.At(0, 0) {
		t.Fatalf("FreeQuiet: %v", err)
	}
}

func TestInferFreeCostNeverRises(t *testing.T) {
	basis := randDense[float32](30, 6, 0.05, 31)
	X := Mul(nil, HConcat(nil, basis, randDense[float32](30, 3, 0, 32)), randDense[float32](9, 60, 0, 33))
	for _, beta := range []float64{0.5, 1, 2} {
		var costs []float64
		s := Settings{Divergence: BetaDivergence, Beta: beta, MaxIter: 60, Tol: -1, CostEvery: 1, Seed: 2,
			Groups:   GroupSparsity{Start: 0, Sizes: []int{2, 2, 2}, Lambda: 3},
			Recorder: recorderFunc(func(e Event) { costs = append(costs, e.Cost) })}
		if _, _, err := InferFree(X, basis, 4, s); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(costs); i++ {
			if costs[i] > costs[i-1]+1e-5*math.Abs(costs[i-1]) {
				t.Fatalf("beta %g: cost rose at iteration %d: %g -> %g", beta, i, costs[i-1], costs[i])
			}
		}
		if !(costs[len(costs)-1] < costs[0]) {
			t.Errorf("beta %g: cost did not fall: %g -> %g", beta, costs[0], costs[len(costs)-1])
		}
	}
}

// TestGroupSparsitySilencesUnusedGroups: data made by one group of the basis
// only; the penalty leaves the other group nearly silent.
func TestGroupSparsitySilencesUnusedGroups(t *testing.T) {
	basis := randDense[float64](30, 8, 0, 41)
	H := randDense[float64](8, 50, 0, 42)
	for k := 4; k < 8; k++ {
		for j := 0; j < 50; j++ {
			H.Set(k, j, 0)
		}
	}
	X := Mul(nil, basis, H)
	share := func(lambda float64) float64 {
		s := Settings{MaxIter: 200, Tol: -1, Groups: GroupSparsity{Sizes: []int{4, 4}, Lambda: lambda, Epsilon: 1e-6}}
		f, _, err := InferFree(X, basis, 0, s)
		if err != nil {
			t.Fatal(err)
		}
		var on, off float64
		for k := 0; k < 8; k++ {
			for j := 0; j < 50; j++ {
				if k < 4 {
					on += f.H.At(k, j)
				} else {
					off += f.H.At(k, j)
				}
			}
		}
		return off / (on + off)
	}
	plain, sparse := share(0), share(50)
	if !(sparse < plain/10) {
		t.Errorf("share of the unused group: %.3g with the penalty, %.3g without", sparse, plain)
	}
}

func TestInferFreeBadInput(t *testing.T) {
	X := randDense[float64](10, 12, 0, 51)
	basis := randDense[float64](10, 3, 0, 52)
	if _, _, err := InferFree(X, basis, -1, Settings{}); err == nil {
		t.Error("negative free accepted")
	}
	if _, _, err := InferFree(X, randDense[float64](9, 3, 0, 1), 2, Settings{}); err == nil {
		t.Error("basis of the wrong height accepted")
	}
	if _, _, err := InferFree(X, basis, 2, Settings{Groups: GroupSparsity{Sizes: []int{4, 4}, Lambda: 1}}); err == nil {
		t.Error("groups beyond H accepted")
	}
	if _, _, err := InferFree(X, basis, 2, Settings{Groups: GroupSparsity{Sizes: []int{0}, Lambda: 1}}); err == nil {
		t.Error("an empty group accepted")
	}
	f := &Factorization[float64]{Layers: []*Dense[float64]{randDense[float64](10, 4, 0, 1), randDense[float64](4, 3, 0, 2)}, H: randDense[float64](3, 12, 0, 3)}
	if _, err := Update(X, f, Freeze{Cols: 2}, Settings{}); err == nil {
		t.Error("fixed columns of a layered model accepted")
	}
}
