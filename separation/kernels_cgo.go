//go:build cgo && !noopenblas

package separation

// The elementwise passes of separation, in C so that gcc vectorises them
// (one clone per instruction set, picked at load time), with the same
// results as the Go loops of kernels_nocgo.go: no contraction into FMAs,
// and sqrt and division correctly rounded in both.

/*
#cgo CFLAGS: -O3
#include <math.h>

// As Go: a*b + c is two roundings, never one FMA.
#pragma GCC optimize("fp-contract=off")

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SEP_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#include <immintrin.h>
// gcc keeps sqrt scalar (errno), so the AVX-512 magnitude is written out.
__attribute__((target("avx512f"))) static void sep_magnitude_avx512(float *restrict dst, const double *restrict src, long n) {
	for (long i = 0; i < n; i += 8) {
		long w = n - i;
		__mmask8 m = w >= 8 ? 0xff : (__mmask8)((1u << w) - 1);
		__mmask16 m2 = w >= 8 ? 0xffff : (__mmask16)((1u << (2 * w)) - 1);
		// 8 complex values: re and im interleaved in two vectors.
		__m512d a = _mm512_maskz_loadu_pd((__mmask8)m2, src + 2 * i);
		__m512d b = _mm512_maskz_loadu_pd((__mmask8)(m2 >> 8), src + 2 * i + 8);
		__m512d re = _mm512_permutex2var_pd(a, _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0), b);
		__m512d im = _mm512_permutex2var_pd(a, _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1), b);
		__m512d s = _mm512_add_pd(_mm512_mul_pd(re, re), _mm512_mul_pd(im, im));
		_mm512_mask_storeu_ps(dst + i, (__mmask16)m, _mm512_castps256_ps512(_mm512_cvtpd_ps(_mm512_sqrt_pd(s))));
	}
}
#else
#define SEP_CLONES
#endif

// dst[i] = |src[i]| for n complex values (re, im pairs), in float32.
static void sep_magnitude(float *restrict dst, const double *restrict src, long n) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
	if (__builtin_cpu_supports("avx512f")) {
		sep_magnitude_avx512(dst, src, n);
		return;
	}
#endif
	for (long i = 0; i < n; i++) {
		double re = src[2 * i], im = src[2 * i + 1];
		dst[i] = (float)sqrt(re * re + im * im);
	}
}

// total += p, n values.
SEP_CLONES void sep_add(float *restrict total, const float *restrict p, long n) {
	for (long i = 0; i < n; i++)
		total[i] += p[i];
}

// p = p / total where total > 0, even elsewhere, n values.
SEP_CLONES void sep_gain(float *restrict p, const float *restrict total, long n, float even) {
	for (long i = 0; i < n; i++) {
		float d = total[i];
		p[i] = d > 0 ? p[i] / (d > 0 ? d : 1) : even;
	}
}
*/
import "C"

import "unsafe"

// magnitude sets dst[i] = float32(|src[i]|).
func magnitude(dst []float32, src []complex128) {
	if len(src) > 0 {
		C.sep_magnitude((*C.float)(unsafe.Pointer(&dst[:len(src)][0])), (*C.double)(unsafe.Pointer(&src[0])), C.long(len(src)))
	}
}

// addInto sets total += p.
func addInto(total, p []float32) {
	if len(total) > 0 {
		C.sep_add((*C.float)(unsafe.Pointer(&total[0])), (*C.float)(unsafe.Pointer(&p[:len(total)][0])), C.long(len(total)))
	}
}

// gain sets p to p / total where total > 0 and to even elsewhere.
func gain(p, total []float32, even float32) {
	if len(p) > 0 {
		C.sep_gain((*C.float)(unsafe.Pointer(&p[0])), (*C.float)(unsafe.Pointer(&total[:len(p)][0])), C.long(len(p)), C.float(even))
	}
}
