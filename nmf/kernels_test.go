package nmf

import (
	"math"
	"math/rand/v2"
	"testing"
)

// kernelData returns rows x cols values in a slice with row stride
// cols+pad, spectrogram-like (exponential, some exact zeros), the padding
// set to a guard value.
func kernelData[T Float](rng *rand.Rand, rows, cols, pad int) []T {
	s := make([]T, rows*(cols+pad))
	for i := range s {
		if i%(cols+pad) >= cols {
			s[i] = -7 // guard: the kernels must not touch it
			continue
		}
		s[i] = T(rng.ExpFloat64())
		if rng.IntN(9) == 0 {
			s[i] = 0
		}
	}
	return s
}

// spoil sets some reconstruction values to what the floor must catch:
// zero, negative, NaN.
func spoil[T Float](rng *rand.Rand, v []T, cols, stride int) {
	for i := range v {
		if i%stride >= cols {
			continue
		}
		switch rng.IntN(12) {
		case 0:
			v[i] = 0
		case 1:
			v[i] = -1
		case 2:
			v[i] = T(math.NaN())
		}
	}
}

// sameBits reports whether a and b hold the same values, NaN equal to NaN.
func sameBits[T Float](a, b []T) bool {
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}

// TestKernelsMatchGoTwins runs every C kernel of the cgo build and its Go
// twin (kernels.go) on the same data, at every length modulo the vector
// widths, with strides wider than the rows: the contract of doc.go. The
// division ratio, the multiply without an L1 term (plain and to the power 1.5,
// each instruction set's form of its float32 rows), the
// add and the check are bit-identical; the AVX-512 float32 ratio within an
// ulp, the multiply with an L1 term within two (four to the power 1.5); the float32
// cost within 1e-5 relative.
func TestKernelsMatchGoTwins(t *testing.T) {
	if !cKernels {
		t.Skip("pure-Go build: the kernels are their Go twins")
	}
	rng := rand.New(rand.NewPCG(12, 3))
	const rows, eps = 5, 1e-7
	for cols := 1; cols <= 70; cols++ {
		xs, vs := cols+2, cols+5

		x32, v32 := kernelData[float32](rng, rows, cols, 2), kernelData[float32](rng, rows, cols, 5)
		spoil(rng, v32, cols, vs)
		c32, g32 := append([]float32(nil), v32...), append([]float32(nil), v32...)
		klRatio32(x32, xs, c32, vs, rows, cols, eps)
		klRatioGo(x32, xs, g32, vs, rows, cols, float32(eps))
		for i, g := range g32 {
			c := c32[i]
			ulp := math.Nextafter32(g, float32(math.Inf(1))) - g
			if c != g && (klRatio32Exact || math.Abs(float64(c-g)) > float64(ulp) || (c == 0) != (g == 0)) {
				t.Fatalf("cols %d: float32 ratio %d: C %v, Go %v (exact: %v)", cols, i, c, g, klRatio32Exact)
			}
		}

		x64, v64 := kernelData[float64](rng, rows, cols, 2), kernelData[float64](rng, rows, cols, 5)
		spoil(rng, v64, cols, vs)
		c64, g64 := append([]float64(nil), v64...), append([]float64(nil), v64...)
		klRatio64(x64, xs, c64, vs, rows, cols, eps)
		klRatioGo(x64, xs, g64, vs, rows, cols, eps)
		if !sameBits(c64, g64) {
			t.Fatalf("cols %d: float64 ratio differs from its twin", cols)
		}

		// The multiply, with zero sums (the floor) and an L1 term.
		ls32, rs32 := kernelData[float32](rng, rows, 0, 1), kernelData[float32](rng, cols, 0, 1)
		for _, s := range [][]float32{ls32, rs32} {
			for i := range s {
				s[i] = rng.Float32()
				if rng.IntN(6) == 0 {
					s[i] = 0
				}
			}
		}
		// Without an L1 term the multiply is bit-identical; with one, the
		// AVX-512 clones fuse ls*rs + l1 into one FMA: the denominator is
		// within an ulp, the result within two.
		f32 := kernelData[float32](rng, rows, cols, 3)
		n32 := kernelData[float32](rng, rows, cols, 1)
		ls64, rs64 := make([]float64, rows), make([]float64, cols)
		for i := range ls64 {
			ls64[i] = float64(ls32[i])
		}
		for i := range rs64 {
			rs64[i] = float64(rs32[i])
		}
		f64 := kernelData[float64](rng, rows, cols, 3)
		n64 := kernelData[float64](rng, rows, cols, 1)
		for _, c := range []struct {
			add         float64
			threeHalves bool
		}{{0, false}, {0.25, false}, {0, true}, {0.25, true}} {
			add, threeHalves, e, tol := c.add, c.threeHalves, 1.0, 2.0
			if threeHalves { // q^1.5: 1.5 times q's error, and the root's
				e, tol = 1.5, 4
			}
			gf := append([]float32(nil), f32...)
			klMultiplyGo(gf, cols+3, n32, cols+1, ls32, rs32, rows, cols, float32(add), float32(eps), e)
			cd, gd := append([]float64(nil), f64...), append([]float64(nil), f64...)
			klMultiply64(cd, cols+3, n64, cols+1, ls64, rs64, rows, cols, add, eps, threeHalves)
			klMultiplyGo(gd, cols+3, n64, cols+1, ls64, rs64, rows, cols, add, eps, e)
			// Each instruction set's form of the float32 step row.
			for isa := 2; isa >= 0; isa-- {
				capStepISA(isa)
				cf := append([]float32(nil), f32...)
				klMultiply32(cf, cols+3, n32, cols+1, ls32, rs32, rows, cols, float32(add), eps, threeHalves)
				capStepISA(2)
				if add == 0 {
					if !sameBits(cf, gf) || !sameBits(cd, gd) {
						t.Fatalf("cols %d, step rows at most %d: the multiply without L1 differs from its twin", cols, isa)
					}
					continue
				}
				for i := range cf {
					if d := math.Abs(float64(cf[i] - gf[i])); d > tol*0x1p-23*math.Abs(float64(gf[i])) {
						t.Fatalf("cols %d, step rows at most %d: float32 multiply %d: C %v, Go %v", cols, isa, i, cf[i], gf[i])
					}
					if d := math.Abs(cd[i] - gd[i]); d > tol*0x1p-52*math.Abs(gd[i]) {
						t.Fatalf("cols %d: float64 multiply %d: C %v, Go %v", cols, i, cd[i], gd[i])
					}
				}
			}
		}

		// The cost on a reconstruction near the data (the case that
		// matters for a Tol stop), floored where it is zero.
		vc := append([]float32(nil), x32...)
		for i := range vc {
			if i%xs < cols {
				vc[i] *= float32(0.5 + rng.Float64())
			}
		}
		vc[0] = 0
		cc, gc := klCost32(x32, xs, vc, xs, rows, cols, eps), klCostGo(x32, xs, vc, xs, rows, cols, eps)
		if d := math.Abs(cc-gc) / gc; !(d <= 1e-5) {
			t.Fatalf("cols %d: float32 cost %v, twin %v: relative difference %g", cols, cc, gc, d)
		}

		// The add and the check (a NaN, an Inf, a negative value or none).
		n := rows * cols
		dc := kernelData[float32](rng, 1, n, 0)
		dg := append([]float32(nil), dc...)
		src := kernelData[float32](rng, 1, n, 0)
		add32(dc, src)
		addGo(dg, src)
		if !sameBits(dc, dg) {
			t.Fatalf("cols %d: add differs from its twin", cols)
		}
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), -1e-30, 0} {
			r := kernelData[float32](rng, 1, n, 0)
			r[rng.IntN(n)] = bad
			if c, g := valid32(r), validGo(r); c != g {
				t.Fatalf("cols %d: check of %v: C %v, Go %v", cols, bad, c, g)
			}
		}
	}
}
