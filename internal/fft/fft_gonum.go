//go:build !cgo || noopenblas

package fft

import (
	"sync"

	"gonum.org/v1/gonum/dsp/fourier"
)

// Enabled reports whether FFTW is in use (false: gonum's pure-Go FFT).
const Enabled = false

// Real is a plan for real-input transforms of one size.
type Real struct {
	n    int
	pool sync.Pool // *fourier.FFT: gonum's plans keep scratch, one per goroutine
}

// NewReal returns a plan for size n; it panics when n < 1.
func NewReal(n int) *Real {
	checkN(n)
	p := &Real{n: n}
	p.pool.New = func() any { return fourier.NewFFT(n) }
	p.pool.Put(fourier.NewFFT(n))
	return p
}

// Forward writes the n/2+1 coefficients of src (n samples) into dst and
// returns it; dst is allocated when nil.
func (p *Real) Forward(dst []complex128, src []float64) []complex128 {
	dst = checkForward(p, dst, src)
	f := p.pool.Get().(*fourier.FFT)
	f.Coefficients(dst, src)
	p.pool.Put(f)
	return dst
}

// Inverse writes the n samples whose coefficients are src into dst, scaled
// by n, and returns it; dst is allocated when nil.
func (p *Real) Inverse(dst []float64, src []complex128) []float64 {
	dst = checkInverse(p, dst, src)
	f := p.pool.Get().(*fourier.FFT)
	f.Sequence(dst, src)
	p.pool.Put(f)
	return dst
}
