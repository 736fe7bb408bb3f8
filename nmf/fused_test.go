//lint:file-ignore SA4006 values are read after klHNum32 calls, which never return in the pure-Go build (its tests skip)

package nmf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestKLHNumMatchesNaive checks the one-pass numerator of the KL update of
// H, num = A^T (X / max(A H, eps)), and the free columns' numerator it adds
// to g (the ratio times the last F rows of H), against its Go twin
// klHNumGo (float64 sums) on every remainder of its 12-row and 32-column
// tiles and of the 16-base halves of g, with strides wider than the
// matrices, zero columns of X and a zero row of A.
func TestKLHNumMatchesNaive(t *testing.T) {
	if !fusedHNum {
		t.Skip("no AVX-512 kernel in this build or on this machine")
	}
	view := stridedViews(3, 4, 3)
	const eps = 1e-7
	close := func(what string, got, want *Dense[float32]) {
		t.Helper()
		for i := 0; i < want.Rows; i++ {
			for j := 0; j < want.Cols; j++ {
				g, w := float64(got.At(i, j)), float64(want.At(i, j))
				if math.Abs(g-w) > 1e-5*math.Abs(w)+1e-30 {
					t.Fatalf("%s[%d,%d] = %g, twin %g", what, i, j, g, w)
				}
			}
		}
	}
	for _, M := range []int{1, 5, 11, 12, 13, 24, 35, 513} {
		for _, K := range []int{1, 3, 25, 40} {
			for _, N := range []int{1, 15, 16, 17, 31, 32, 33, 64, 75} {
				for _, F := range []int{0, 1, 16, 17, 33, 40} {
					if F > K || (F > 1 && M > 35 && N > 33) {
						continue // keep the test fast: the wide cases with F <= 1
					}
					t.Run(fmt.Sprintf("%dx%dx%d-free%d", M, K, N, F), func(t *testing.T) {
						a, h, x, num := view(M, K), view(K, N), view(M, N), view(K, N)
						for i := 0; i < M; i++ {
							x.Data[i*x.Stride] = 0 // a silent frame
						}
						for k := 0; k < K; k++ {
							a.Data[(M-1)*a.Stride+k] = 0 // a row the model cannot explain
						}
						var g, gw *Dense[float32]
						if F > 0 {
							g = view(M, F) // the kernel adds to it
							gw = g.Clone()
						}
						guard := num.Data[num.Stride-1]
						var gguard float32
						if g != nil {
							gguard = g.Data[g.Stride-1]
						}
						scratch := make([]float32, hnumScratch(M, F))
						ap := make([]float32, hnumPacked(M, K))
						hnumPack(ap, a, 0)
						klHNum32(a, ap, h, x, num, eps, nil, g, scratch)
						if num.Data[num.Stride-1] != guard || (g != nil && g.Data[g.Stride-1] != gguard) {
							t.Fatal("wrote past the columns of num or g")
						}
						numw := view(K, N)
						klHNumGo(a, h.Clone(), x, numw, eps, nil, gw)
						close("num", num, numw)
						if g != nil {
							close("g", g, gw)
						}
						// With reciprocal denominators the kernel also updates h
						// in place: h * (num * rden), and g still gains the
						// product with h before the update.
						rden := make([]float32, K)
						for k := range rden {
							rden[k] = 1 / (0.5 + float32(k))
						}
						h2 := h.Clone()
						num2 := view(K, N)
						var g2 *Dense[float32]
						if F > 0 {
							g2 = NewDense[float32](M, F, nil)
						}
						klHNum32(a, ap, h2, x, num2, eps, rden, g2, scratch)
						for k := 0; k < K; k++ {
							for j := 0; j < N; j++ {
								if want := h.At(k, j) * (num.At(k, j) * rden[k]); h2.At(k, j) != want {
									t.Fatalf("h[%d,%d] updated to %v, want %v", k, j, h2.At(k, j), want)
								}
							}
						}
						if g2 != nil {
							gw2 := NewDense[float32](M, F, nil)
							klHNumGo(a, h.Clone(), x, view(K, N), eps, nil, gw2)
							close("g after the update", g2, gw2)
						}
					})
				}
			}
		}
	}
}

// TestKLHNumGoMatchesFormula checks the twin itself against the formula on
// a small case written out: one basis column, so that the ratio is x / (a h).
func TestKLHNumGoMatchesFormula(t *testing.T) {
	a := NewDense(2, 1, []float64{1, 2})
	h := NewDense(1, 2, []float64{2, 4})
	x := NewDense(2, 2, []float64{4, 8, 8, 0})
	num, g := NewDense[float64](1, 2, nil), NewDense(2, 1, []float64{1, 0})
	klHNumGo(a, h, x, num, 1e-9, []float64{0.5}, g)
	// V = [2 4; 4 8], R = [2 2; 2 0]: num = a^T R = [6 2]; g += R h^T = [12; 4].
	want := map[string][]float64{"num": {6, 2}, "g": {13, 4}, "h": {6, 4}}
	for name, m := range map[string]*Dense[float64]{"num": num, "g": g, "h": h} {
		for i, v := range want[name] {
			if m.Data[i] != v {
				t.Fatalf("%s = %v, want %v", name, m.Data, want[name])
			}
		}
	}
}

// TestKLRatio32 checks the float32 ratio pass X / max(V, eps) against the
// division in float64: within 2 ulps, exact zeros where X is zero, and the
// floor for zero, negative and NaN V, at every length modulo the vector
// width.
func TestKLRatio32(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	const eps = 1e-7
	for cols := 1; cols <= 40; cols++ {
		X, V := NewDense[float32](3, cols, nil), NewDense[float32](3, cols, nil)
		for i := range X.Data {
			X.Data[i] = float32(rng.ExpFloat64() * 100)
			V.Data[i] = float32(rng.ExpFloat64())
			switch rng.IntN(8) {
			case 0:
				X.Data[i] = 0
			case 1:
				V.Data[i] = 0
			case 2:
				V.Data[i] = float32(math.NaN())
			case 3:
				V.Data[i] = -1
			}
		}
		want := make([]float64, len(V.Data))
		for i, v := range V.Data {
			d := float64(v)
			if !(v > eps) {
				d = float64(float32(eps))
			}
			want[i] = float64(X.Data[i]) / d
		}
		klRatio(X, V, 0, 3, float32(eps))
		for i, got := range V.Data {
			w := want[i]
			if math.Abs(float64(got)-w) > 2*math.Abs(w)*0x1p-24 || (w == 0) != (got == 0) {
				t.Fatalf("cols %d: ratio %d = %v, want %v", cols, i, got, w)
			}
		}
	}
}

// TestKLH1MatchesNaive checks the one-column kernel against the twin of
// the one-pass kernel, klHNumGo, on every remainder of its 16-row vectors
// and 128-row tiles, with strides wider than the columns, a silent row of
// X and a row of A the model cannot explain; and the update of h.
func TestKLH1MatchesNaive(t *testing.T) {
	if !fusedHNum {
		t.Skip("no AVX-512 kernel in this build or on this machine")
	}
	view := stridedViews(5, 6, 2)
	const eps = 1e-7
	for _, M := range []int{1, 5, 16, 17, 63, 64, 127, 128, 129, 255, 513} {
		for _, K := range []int{1, 3, 40, 180} {
			a, h, x, num := view(M, K), view(K, 1), view(M, 1), view(K, 1)
			x.Data[(M/2)*x.Stride] = 0
			for k := 0; k < K; k++ {
				a.Data[(M-1)*a.Stride+k] = 0
			}
			at := make([]float32, K*h1Rows(M))
			h1Pack(at, a)
			scratch := make([]float32, h1Scratch(M, K))
			for i := range scratch {
				scratch[i] = float32(math.NaN()) // the kernel must not read stale scratch
			}
			guard := num.Data[1]
			rden := make([]float32, K)
			for k := range rden {
				rden[k] = 1 / (0.5 + float32(k))
			}
			h2 := h.Clone()
			klH1_32(at, M, h2, x, num, eps, rden, scratch, 1, false)
			if num.Data[1] != guard {
				t.Fatal("wrote past the column of num")
			}
			want := view(K, 1)
			klHNumGo(a, h.Clone(), x, want, eps, nil, nil)
			for k := 0; k < K; k++ {
				g, w := float64(num.At(k, 0)), float64(want.At(k, 0))
				if math.Abs(g-w) > 1e-5*math.Abs(w)+1e-30 {
					t.Fatalf("%dx%d: num[%d] = %g, twin %g", M, K, k, g, w)
				}
				if u := h.At(k, 0) * (num.At(k, 0) * rden[k]); h2.At(k, 0) != u {
					t.Fatalf("%dx%d: h[%d] updated to %v, want %v", M, K, k, h2.At(k, 0), u)
				}
			}
			// The step exponent 1.5: h *= q sqrt(q), q = num rden.
			h5 := h.Clone()
			klH1_32(at, M, h5, x, num, eps, rden, scratch, 1, true)
			for k := 0; k < K; k++ {
				q := num.At(k, 0) * rden[k]
				if u := h.At(k, 0) * (q * float32(math.Sqrt(float64(q)))); h5.At(k, 0) != u {
					t.Fatalf("%dx%d: h[%d] stepped to %v, want %v", M, K, k, h5.At(k, 0), u)
				}
			}
			// Three iterations in one call are three calls, to the bit.
			h3, h4, num4 := h.Clone(), h.Clone(), view(K, 1)
			klH1_32(at, M, h3, x, num, eps, rden, scratch, 3, false)
			for range 3 {
				klH1_32(at, M, h4, x, num4, eps, rden, scratch, 1, false)
			}
			for k := 0; k < K; k++ {
				if h3.At(k, 0) != h4.At(k, 0) || num.At(k, 0) != num4.At(k, 0) {
					t.Fatalf("%dx%d: three iterations in one call differ from three calls at %d", M, K, k)
				}
			}
		}
	}
}

// stridedViews returns a maker of random matrices (entries in [0.1, 1.1))
// whose stride is wider than their columns by pad, from the seed.
func stridedViews(seed1, seed2 uint64, pad int) func(rows, cols int) *Dense[float32] {
	rng := rand.New(rand.NewPCG(seed1, seed2))
	return func(rows, cols int) *Dense[float32] {
		m := NewDense[float32](rows, cols+pad, nil)
		for i := range m.Data {
			m.Data[i] = 0.1 + rng.Float32()
		}
		m.Cols = cols
		return m
	}
}
