//go:build cgo && !noopenblas

package stft

// The framing loops in C, without Go's bounds checks (they were a third
// of a short separation's STFT time); same arithmetic as the pure-Go twins
// in frames_nocgo.go, product by product, so the two builds agree bit for
// bit.

/*
#cgo CFLAGS: -O3

// As Go: a*b + c is two roundings, never one FMA.
#pragma GCC optimize("fp-contract=off")

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define STFT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define STFT_CLONES
#endif

STFT_CLONES void stft_window(double *restrict fr, const double *restrict w, const double *restrict seg, long n) {
	for (long k = 0; k < n; k++)
		fr[k] = w[k] * seg[k];
}

// Complex values are (re, im) pairs of doubles.
void stft_transpose(double *restrict dst, long T, const double *restrict coef, long bins, long nb) {
	for (long b = 0; b < bins; b++) {
		double *restrict row = dst + 2 * b * T;
		for (long j = 0; j < nb; j++) {
			row[2 * j] = coef[2 * (j * bins + b)];
			row[2 * j + 1] = coef[2 * (j * bins + b) + 1];
		}
	}
}

// mask points at this block's first column, ms is its row stride; NULL for
// none.
void stft_gather(double *restrict coef, long bins, const double *restrict src, long T, const float *restrict mask, long ms, long nb) {
	for (long b = 0; b < bins; b++) {
		const double *restrict row = src + 2 * b * T;
		for (long j = 0; j < nb; j++) {
			double x = mask ? (double)mask[b * ms + j] : 1;
			double re = row[2 * j], im = row[2 * j + 1];
			coef[2 * (j * bins + b)] = mask ? re * x : re;
			coef[2 * (j * bins + b) + 1] = mask ? im * x : im;
		}
	}
}

STFT_CLONES void stft_overlap_add(double *restrict dst, const double *restrict w, double scale, const double *restrict fr, long n) {
	for (long k = 0; k < n; k++)
		dst[k] += w[k] * scale * fr[k];
}
*/
import "C"

import "unsafe"

// windowFrame sets fr = window * seg, all of one length.
func windowFrame(fr, window, seg []float64) {
	if len(fr) > 0 {
		C.stft_window((*C.double)(&fr[0]), (*C.double)(&window[:len(fr)][0]), (*C.double)(&seg[:len(fr)][0]), C.long(len(fr)))
	}
}

// transposeFrames writes nb frames of bins coefficients each, frame-major
// in coef, into the first nb columns of the bin-major rows (stride T) of
// dst.
func transposeFrames(dst []complex128, T int, coef []complex128, bins, nb int) {
	_ = dst[(bins-1)*T+nb-1]
	_ = coef[(nb-1)*bins+bins-1]
	C.stft_transpose((*C.double)(unsafe.Pointer(&dst[0])), C.long(T), (*C.double)(unsafe.Pointer(&coef[0])), C.long(bins), C.long(nb))
}

// gatherFrames is transposeFrames' inverse: nb columns of the bin-major
// rows of src (stride T), each multiplied by its real mask value (columns
// tb, tb+1, ... of m) when m is not nil, into nb frame-major frames in coef.
func gatherFrames(coef []complex128, bins int, src []complex128, T int, m *Mask, tb, nb int) {
	_ = src[(bins-1)*T+nb-1]
	_ = coef[(nb-1)*bins+bins-1]
	var mask *C.float
	var ms int
	if m != nil {
		_ = m.Data[(bins-1)*m.Stride+tb+nb-1]
		mask, ms = (*C.float)(unsafe.Pointer(&m.Data[tb])), m.Stride
	}
	C.stft_gather((*C.double)(unsafe.Pointer(&coef[0])), C.long(bins), (*C.double)(unsafe.Pointer(&src[0])), C.long(T), mask, C.long(ms), C.long(nb))
}

// overlapAdd adds window * scale * fr to dst, all of one length.
func overlapAdd(dst, window []float64, scale float64, fr []float64) {
	if len(dst) > 0 {
		C.stft_overlap_add((*C.double)(&dst[0]), (*C.double)(&window[:len(dst)][0]), C.double(scale), (*C.double)(&fr[:len(dst)][0]), C.long(len(dst)))
	}
}
