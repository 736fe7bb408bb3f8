package separation

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestElementwiseKernels checks the magnitude, sum and gain passes against
// their formulas written out in Go, bit for bit, at every length modulo
// the vector widths.
func TestElementwiseKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	for n := 0; n <= 40; n++ {
		src := make([]complex128, n)
		for i := range src {
			src[i] = complex(rng.NormFloat64()*1e3, rng.NormFloat64())
		}
		got := make([]float32, n+1)
		magnitude(got, src)
		for i, c := range src {
			if want := float32(math.Sqrt(real(c)*real(c) + imag(c)*imag(c))); got[i] != want {
				t.Fatalf("n=%d: |%v| = %v, want %v", n, c, got[i], want)
			}
		}
		if got[n] != 0 {
			t.Fatalf("n=%d: magnitude wrote past its length", n)
		}

		p, total := make([]float32, n), make([]float32, n)
		for i := range p {
			p[i] = rng.Float32()
			if i%5 != 1 {
				total[i] = rng.Float32()
			}
		}
		sum := append([]float32(nil), total...)
		addInto(sum, p)
		g := append([]float32(nil), p...)
		gain(g, sum, 0.5)
		for i := range p {
			if s := total[i] + p[i]; sum[i] != s {
				t.Fatalf("n=%d: sum %d = %v, want %v", n, i, sum[i], s)
			}
			want := float32(0.5)
			if sum[i] > 0 {
				want = p[i] / sum[i]
			}
			if g[i] != want {
				t.Fatalf("n=%d: gain %d = %v, want %v", n, i, g[i], want)
			}
		}
	}
}
