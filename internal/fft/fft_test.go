package fft

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"
)

// naive returns the first n/2+1 DFT coefficients of x, summed in long
// double-free but exact-angle form (the angle reduced mod n first).
func naive(x []float64) []complex128 {
	n := len(x)
	out := make([]complex128, n/2+1)
	for k := range out {
		var s complex128
		for t, v := range x {
			a := -2 * math.Pi * float64((k*t)%n) / float64(n)
			s += complex(v*math.Cos(a), v*math.Sin(a))
		}
		out[k] = s
	}
	return out
}

func randSignal(seed uint64, n int) []float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

func norm(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s)
}

var sizes = []int{1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 30, 64, 97, 100, 128, 255, 256, 360, 1000, 1024, 1025}

func TestForwardMatchesNaiveDFT(t *testing.T) {
	for _, n := range sizes {
		x := randSignal(uint64(n), n)
		want := naive(x)
		got := NewReal(n).Forward(nil, x)
		tol := 1e-12 * norm(x) * math.Sqrt(float64(n))
		for k := range want {
			if d := cmplx.Abs(got[k] - want[k]); d > tol {
				t.Fatalf("n=%d bin %d: got %v, want %v (|diff| %g > %g)", n, k, got[k], want[k], d, tol)
			}
		}
	}
}

func TestInverseOfForwardIsNTimes(t *testing.T) {
	for _, n := range append(sizes, 4096, 49152, 48511) {
		x := randSignal(uint64(n)+1, n)
		keep := append([]float64(nil), x...)
		p := NewReal(n)
		c := p.Forward(nil, x)
		ck := append([]complex128(nil), c...)
		y := p.Inverse(nil, c)
		for i := range x {
			if x[i] != keep[i] {
				t.Fatalf("n=%d: Forward changed its input", n)
			}
		}
		for i := range c {
			if c[i] != ck[i] {
				t.Fatalf("n=%d: Inverse changed its input", n)
			}
		}
		tol := 1e-13 * norm(x) * math.Log2(float64(n)+2)
		for i := range x {
			if d := math.Abs(y[i]/float64(n) - x[i]); d > tol {
				t.Fatalf("n=%d sample %d: inverse(forward(x))/n = %g, want %g", n, i, y[i]/float64(n), x[i])
			}
		}
	}
}

// TestMatchesGonum checks both directions against gonum's fourier.FFT, the
// implementation the packages used before (and the pure-Go build's).
func TestMatchesGonum(t *testing.T) {
	for _, n := range append(sizes, 1024, 49152, 48600) {
		x := randSignal(uint64(n)+2, n)
		g := fourier.NewFFT(n)
		want := g.Coefficients(nil, x)
		p := NewReal(n)
		got := p.Forward(nil, x)
		tol := 1e-13 * norm(x) * math.Sqrt(float64(n))
		for k := range want {
			if d := cmplx.Abs(got[k] - want[k]); d > tol {
				t.Fatalf("n=%d bin %d: Forward %v, gonum %v", n, k, got[k], want[k])
			}
		}
		// A spectrum with non-zero imaginary parts at DC and Nyquist:
		// both ignore them.
		spec := append([]complex128(nil), want...)
		spec[0] += 3i
		spec[len(spec)-1] += 2i
		wantSeq := g.Sequence(nil, spec)
		gotSeq := p.Inverse(nil, spec)
		for i := range wantSeq {
			if d := math.Abs(gotSeq[i] - wantSeq[i]); d > tol*math.Sqrt(float64(n)) {
				t.Fatalf("n=%d sample %d: Inverse %g, gonum %g", n, i, gotSeq[i], wantSeq[i])
			}
		}
	}
}

// TestUnalignedBuffers runs transforms on slices offset by one element,
// which FFTW's aligned plans must not be given.
func TestUnalignedBuffers(t *testing.T) {
	for _, n := range []int{16, 1024, 1000} {
		p := NewReal(n)
		x := randSignal(9, n+1)
		want := p.Forward(nil, append([]float64(nil), x[1:]...))
		c := make([]complex128, n/2+2)
		got := p.Forward(c[1:], x[1:])
		for k := range want {
			if got[k] != want[k] {
				t.Fatalf("n=%d: unaligned Forward differs at bin %d: %v vs %v", n, k, got[k], want[k])
			}
		}
		y := make([]float64, n+1)
		back := p.Inverse(y[1:], got)
		ref := p.Inverse(nil, want)
		for i := range ref {
			if math.Abs(back[i]-ref[i]) > 1e-12*float64(n) {
				t.Fatalf("n=%d: unaligned Inverse differs at %d", n, i)
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	const n = 1536
	p := NewReal(n)
	x := randSignal(3, n)
	want := p.Forward(nil, x)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := make([]complex128, n/2+1)
			y := make([]float64, n)
			for it := 0; it < 50; it++ {
				p.Forward(c, x)
				for k := range c {
					if c[k] != want[k] {
						errs <- fmt.Sprintf("bin %d differs under concurrency", k)
						return
					}
				}
				p.Inverse(y, c)
			}
		}()
	}
	// Plans made while others execute.
	for m := 2; m < 40; m++ {
		NewReal(m)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestPanics(t *testing.T) {
	p := NewReal(8)
	for name, f := range map[string]func(){
		"size 0":      func() { NewReal(0) },
		"short src":   func() { p.Forward(nil, make([]float64, 7)) },
		"wrong dst":   func() { p.Forward(make([]complex128, 4), make([]float64, 8)) },
		"inverse src": func() { p.Inverse(nil, make([]complex128, 4)) },
		"inverse dst": func() { p.Inverse(make([]float64, 9), make([]complex128, 5)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func BenchmarkForward(b *testing.B) {
	for _, n := range []int{1024, 49152, 48600} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			p := NewReal(n)
			x := randSignal(1, n)
			c := make([]complex128, n/2+1)
			for b.Loop() {
				p.Forward(c, x)
			}
		})
	}
}

func BenchmarkInverse(b *testing.B) {
	for _, n := range []int{1024, 49152, 48600} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			p := NewReal(n)
			c := p.Forward(nil, randSignal(1, n))
			y := make([]float64, n)
			for b.Loop() {
				p.Inverse(y, c)
			}
		})
	}
}

// BenchmarkGonumForward is the pure-Go baseline at the same sizes.
func BenchmarkGonumForward(b *testing.B) {
	for _, n := range []int{1024, 49152, 48600} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			f := fourier.NewFFT(n)
			x := randSignal(1, n)
			c := make([]complex128, n/2+1)
			for b.Loop() {
				f.Coefficients(c, x)
			}
		})
	}
}
