//lint:file-ignore SA4006 values are read after klHNum32 calls, which never return in the pure-Go build (its tests skip)

package nmf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestKLHNumMatchesNaive checks the one-pass numerator of the KL update of
// H, num = A^T (X / max(A H, eps)), against the formula in float64 on every
// remainder of its 12-row and 32-column tiles, with strides wider than the
// matrices, zero columns of X and a zero row of A.
func TestKLHNumMatchesNaive(t *testing.T) {
	if !fusedHNum {
		t.Skip("no AVX-512 kernel in this build or on this machine")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	view := func(rows, cols int) *Dense[float32] { // stride wider than cols
		m := NewDense[float32](rows, cols+3, nil)
		for i := range m.Data {
			m.Data[i] = 0.1 + rng.Float32()
		}
		m.Cols = cols
		return m
	}
	const eps = 1e-7
	for _, M := range []int{1, 5, 11, 12, 13, 24, 35, 513} {
		for _, K := range []int{1, 3, 25, 40} {
			for _, N := range []int{1, 15, 16, 17, 31, 32, 33, 64, 75} {
				t.Run(fmt.Sprintf("%dx%dx%d", M, K, N), func(t *testing.T) {
					a, h, x, num := view(M, K), view(K, N), view(M, N), view(K, N)
					for i := 0; i < M; i++ {
						x.Data[i*x.Stride] = 0 // a silent frame
					}
					for k := 0; k < K; k++ {
						a.Data[(M-1)*a.Stride+k] = 0 // a row the model cannot explain
					}
					guard := num.Data[num.Stride-1]
					scratch := make([]float32, hnumScratch(M))
					ap := make([]float32, hnumPacked(M, K))
					hnumPack(ap, a)
					klHNum32(a, ap, h, x, num, eps, nil, scratch)
					if num.Data[num.Stride-1] != guard {
						t.Fatal("wrote past the columns of num")
					}
					// With reciprocal denominators the kernel also updates h
					// in place: h * (num * rden).
					rden := make([]float32, K)
					for k := range rden {
						rden[k] = 1 / (0.5 + float32(k))
					}
					h2 := h.Clone()
					num2 := view(K, N)
					klHNum32(a, ap, h2, x, num2, eps, rden, scratch)
					for k := 0; k < K; k++ {
						for j := 0; j < N; j++ {
							if want := h.At(k, j) * (num.At(k, j) * rden[k]); h2.At(k, j) != want {
								t.Fatalf("h[%d,%d] updated to %v, want %v", k, j, h2.At(k, j), want)
							}
						}
					}
					for k := 0; k < K; k++ {
						for j := 0; j < N; j++ {
							var want float64
							for m := 0; m < M; m++ {
								var v float64
								for q := 0; q < K; q++ {
									v += float64(a.At(m, q)) * float64(h.At(q, j))
								}
								want += float64(a.At(m, k)) * float64(x.At(m, j)) / math.Max(v, eps)
							}
							if got := float64(num.At(k, j)); math.Abs(got-want) > 1e-5*math.Abs(want)+1e-30 {
								t.Fatalf("num[%d,%d] = %g, want %g", k, j, got, want)
							}
						}
					}
				})
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
