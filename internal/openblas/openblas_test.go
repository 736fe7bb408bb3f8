package openblas

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// The registered implementation must agree with a naive product, in both
// precisions and with transposes, whichever kernels OpenBLAS selected.
func TestGemmAgreesWithNaiveProduct(t *testing.T) {
	t.Logf("BLAS kernels: %s", CoreName())
	rng := rand.New(rand.NewPCG(1, 2))
	const m, k, n = 67, 33, 129
	a := make([]float64, m*k)
	b := make([]float64, k*n)
	for i := range a {
		a[i] = rng.Float64()
	}
	for i := range b {
		b[i] = rng.Float64()
	}
	want := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[p*n+j]
			}
			want[i*n+j] = s
		}
	}
	got64 := make([]float64, m*n)
	blas64.Implementation().Dgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, got64, n)
	// a^T stored k x m, multiplied with Trans, must give the same.
	at := make([]float32, k*m)
	b32 := make([]float32, k*n)
	for i := 0; i < m; i++ {
		for p := 0; p < k; p++ {
			at[p*m+i] = float32(a[i*k+p])
		}
	}
	for i := range b {
		b32[i] = float32(b[i])
	}
	got32 := make([]float32, m*n)
	blas32.Implementation().Sgemm(blas.Trans, blas.NoTrans, m, n, k, 1, at, m, b32, n, 0, got32, n)
	for i := range want {
		if d := math.Abs(got64[i] - want[i]); d > 1e-12*float64(k) {
			t.Fatalf("dgemm element %d: got %v want %v", i, got64[i], want[i])
		}
		if d := math.Abs(float64(got32[i]) - want[i]); d > 1e-5*float64(k) {
			t.Fatalf("sgemm element %d: got %v want %v", i, got32[i], want[i])
		}
	}
}
