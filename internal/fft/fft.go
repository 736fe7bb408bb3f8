package fft

import "fmt"

// Len returns the plan's transform size n.
func (p *Real) Len() int { return p.n }

// Bins returns the number of coefficients, n/2+1.
func (p *Real) Bins() int { return p.n/2 + 1 }

// checkForward and checkInverse panic on a wrong length of src or dst and
// return dst, allocated when nil.
func checkForward(p *Real, dst []complex128, src []float64) []complex128 {
	if len(src) != p.n {
		panic(fmt.Sprintf("fft: Forward src has length %d, want %d", len(src), p.n))
	}
	if dst == nil {
		return make([]complex128, p.n/2+1)
	}
	if len(dst) != p.n/2+1 {
		panic(fmt.Sprintf("fft: Forward dst has length %d, want %d", len(dst), p.n/2+1))
	}
	return dst
}

func checkInverse(p *Real, dst []float64, src []complex128) []float64 {
	if len(src) != p.n/2+1 {
		panic(fmt.Sprintf("fft: Inverse src has length %d, want %d", len(src), p.n/2+1))
	}
	if dst == nil {
		return make([]float64, p.n)
	}
	if len(dst) != p.n {
		panic(fmt.Sprintf("fft: Inverse dst has length %d, want %d", len(dst), p.n))
	}
	return dst
}

func checkN(n int) {
	if n < 1 {
		panic(fmt.Sprintf("fft: size %d, want at least 1", n))
	}
}
