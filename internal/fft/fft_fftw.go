//go:build cgo && !noopenblas

package fft

/*
#cgo LDFLAGS: -lfftw3 -lm
#include <fftw3.h>
*/
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// Enabled reports whether FFTW is in use (false: gonum's pure-Go FFT).
const Enabled = true

// planner guards FFTW's planner, which is not thread-safe; executing a
// finished plan (the new-array execute functions) is.
var planner sync.Mutex

// Real is a plan for real-input transforms of one size.
type Real struct {
	n int
	// Plans for SIMD-aligned arrays only: FFTW_UNALIGNED plans are about
	// twice as slow and round differently, so a buffer that is not aligned
	// goes through aligned scratch instead, and results never depend on
	// where the caller's slices start.
	r2c, c2r C.fftw_plan
	scratch  sync.Pool // *scratch
}

// scratch holds aligned buffers of one call: c2r destroys its input, and
// unaligned caller buffers are staged through them.
type scratch struct {
	r []float64    // n
	c []complex128 // n/2+1
}

// NewReal returns a plan for size n; it panics when n < 1.
func NewReal(n int) *Real {
	checkN(n)
	nc := n/2 + 1
	p := &Real{n: n}
	planner.Lock()
	in := (*C.double)(C.fftw_malloc(C.size_t(8 * n)))
	out := (*C.fftw_complex)(C.fftw_malloc(C.size_t(16 * nc)))
	// FFTW_ESTIMATE plans without trial transforms (deterministic, fast)
	// and does not touch the arrays.
	p.r2c = C.fftw_plan_dft_r2c_1d(C.int(n), in, out, C.FFTW_ESTIMATE)
	p.c2r = C.fftw_plan_dft_c2r_1d(C.int(n), out, in, C.FFTW_ESTIMATE)
	C.fftw_free(unsafe.Pointer(in))
	C.fftw_free(unsafe.Pointer(out))
	planner.Unlock()
	if p.r2c == nil || p.c2r == nil {
		panic("fft: FFTW could not plan a transform")
	}
	p.scratch.New = func() any {
		return &scratch{r: aligned[float64](n), c: aligned[complex128](nc)}
	}
	runtime.AddCleanup(p, func(plans [2]C.fftw_plan) {
		planner.Lock()
		for _, q := range plans {
			C.fftw_destroy_plan(q)
		}
		planner.Unlock()
	}, [2]C.fftw_plan{p.r2c, p.c2r})
	return p
}

// maxAlign is more than any SIMD alignment FFTW asks for (16 to 64 bytes).
const maxAlign = 64

// aligned returns n zeros of T starting at an address isAligned accepts.
func aligned[T float64 | complex128](n int) []T {
	var zero T
	b := make([]T, n+maxAlign/int(unsafe.Sizeof(zero)))
	for i := range b {
		if isAligned(unsafe.Pointer(&b[i])) {
			return b[i : i+n : i+n]
		}
	}
	panic("fft: no aligned offset")
}

// isAligned reports whether p has the alignment of fftw_malloc, which the
// plans were made for.
func isAligned(p unsafe.Pointer) bool { return C.fftw_alignment_of((*C.double)(p)) == 0 }

// Forward writes the n/2+1 coefficients of src (n samples) into dst and
// returns it; dst is allocated when nil.
func (p *Real) Forward(dst []complex128, src []float64) []complex128 {
	dst = checkForward(p, dst, src)
	in, out := src, dst
	var sc *scratch
	if !isAligned(unsafe.Pointer(&src[0])) || !isAligned(unsafe.Pointer(&dst[0])) {
		sc = p.scratch.Get().(*scratch)
		in, out = sc.r, sc.c
		copy(in, src)
	}
	// complex128 and fftw_complex (double[2]) share their layout; an
	// out-of-place r2c transform leaves its input alone.
	C.fftw_execute_dft_r2c(p.r2c, (*C.double)(unsafe.Pointer(&in[0])), (*C.fftw_complex)(unsafe.Pointer(&out[0])))
	if sc != nil {
		copy(dst, out)
		p.scratch.Put(sc)
	}
	return dst
}

// Inverse writes the n samples whose coefficients are src into dst, scaled
// by n, and returns it; dst is allocated when nil.
func (p *Real) Inverse(dst []float64, src []complex128) []float64 {
	dst = checkInverse(p, dst, src)
	sc := p.scratch.Get().(*scratch)
	copy(sc.c, src) // c2r overwrites its input
	out := dst
	if !isAligned(unsafe.Pointer(&dst[0])) {
		out = sc.r
	}
	C.fftw_execute_dft_c2r(p.c2r, (*C.fftw_complex)(unsafe.Pointer(&sc.c[0])), (*C.double)(unsafe.Pointer(&out[0])))
	if &out[0] != &dst[0] {
		copy(dst, out)
	}
	p.scratch.Put(sc)
	return dst
}
