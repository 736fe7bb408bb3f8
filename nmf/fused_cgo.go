//go:build cgo && !noopenblas

package nmf

// The numerator of the KL update of H in one pass, for AVX-512 machines:
// num = A^T (X / max(A H, eps)) on a block of columns, without the
// reconstruction ever leaving the registers. OpenBLAS is slow on these
// shapes (an inner or outer size of a few dozen: the stacked bases of
// separation are 513 x 40), and it packs both operands on every call; this
// kernel reads A and H in place.
//
// Layout: 32 frames at a time (two 512-bit vectors; masked at the right
// edge) and 12 rows of A at a time. For those rows it forms the 12 x 32
// reconstruction in 24 accumulators (one FMA per element of A H, A's
// element broadcast), turns it into the ratio X / max(V, eps) in place
// (reciprocal estimate and one correction: within an ulp of the division,
// at a fraction of its cost), and adds the rows' share A[rows]^T R to the 32
// columns of num. Every column's arithmetic is the same in whatever block
// or position it is, so a column block gives the same bits as the whole.

/*
#cgo CFLAGS: -O3
#include <stddef.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>

#define HN_RB 12

__attribute__((target("avx512f"), always_inline)) static inline void nmf_hnum_rows(
	const float *restrict a, long as, long K, const float *restrict h, long hs,
	const float *restrict x, long xs, float *restrict num, long ns,
	__mmask16 m0, __mmask16 m1, __m512 epsv, const int rb)
{
	__m512 v[HN_RB][2];
	#pragma GCC unroll 12
	for (int i = 0; i < rb; i++) {
		v[i][0] = _mm512_setzero_ps();
		v[i][1] = _mm512_setzero_ps();
	}
	for (long k = 0; k < K; k++) {
		__m512 h0 = _mm512_maskz_loadu_ps(m0, h + k * hs);
		__m512 h1 = _mm512_maskz_loadu_ps(m1, h + k * hs + 16);
		#pragma GCC unroll 12
		for (int i = 0; i < rb; i++) {
			__m512 b = _mm512_set1_ps(a[i * as + k]);
			v[i][0] = _mm512_fmadd_ps(b, h0, v[i][0]);
			v[i][1] = _mm512_fmadd_ps(b, h1, v[i][1]);
		}
	}
	#pragma GCC unroll 12
	for (int i = 0; i < rb; i++) {
		#pragma GCC unroll 2
		for (int c = 0; c < 2; c++) {
			// q = x / d: q0 = x r with r = rcp14(d) (relative error e <
			// 2^-14), corrected once by the residual, q0 + (x - d q0) r,
			// which leaves e^2 < 2^-28.
			__m512 d = _mm512_max_ps(v[i][c], epsv); // NaN -> eps, as the scalar rule
			__m512 r = _mm512_rcp14_ps(d);
			__m512 xv = _mm512_maskz_loadu_ps(c ? m1 : m0, x + i * xs + 16 * c);
			__m512 q = _mm512_mul_ps(xv, r);
			v[i][c] = _mm512_fmadd_ps(_mm512_fnmadd_ps(d, q, xv), r, q);
		}
	}
	// Two partial sums per vector halve the chains of dependent FMAs.
	for (long k = 0; k < K; k++) {
		__m512 s0 = _mm512_maskz_loadu_ps(m0, num + k * ns);
		__m512 s1 = _mm512_maskz_loadu_ps(m1, num + k * ns + 16);
		__m512 t0 = _mm512_setzero_ps(), t1 = _mm512_setzero_ps();
		#pragma GCC unroll 12
		for (int i = 0; i < rb; i++) {
			__m512 b = _mm512_set1_ps(a[i * as + k]);
			if (i & 1) {
				t0 = _mm512_fmadd_ps(b, v[i][0], t0);
				t1 = _mm512_fmadd_ps(b, v[i][1], t1);
			} else {
				s0 = _mm512_fmadd_ps(b, v[i][0], s0);
				s1 = _mm512_fmadd_ps(b, v[i][1], s1);
			}
		}
		_mm512_mask_storeu_ps(num + k * ns, m0, _mm512_add_ps(s0, t0));
		_mm512_mask_storeu_ps(num + k * ns + 16, m1, _mm512_add_ps(s1, t1));
	}
}

// num (K x cols) = a^T (x / max(a h, eps)) with a M x K, h K x cols and
// x M x cols, all row-major with the given strides. With den, each 32-column
// chunk of h is then updated in place, h *= num / den[k] (the KL update of
// H, whose denominator is the same for every column), as soon as its
// numerator is complete.
__attribute__((target("avx512f"))) static void nmf_kl_hnum_avx512(
	const float *a, long as, long M, long K, float *h, long hs,
	const float *x, long xs, float *num, long ns, long cols, float eps, const float *den)
{
	const __m512 epsv = _mm512_set1_ps(eps);
	for (long j = 0; j < cols; j += 32) {
		long w = cols - j;
		__mmask16 m0 = w >= 16 ? 0xffff : (__mmask16)((1u << w) - 1);
		__mmask16 m1 = w >= 32 ? 0xffff : w > 16 ? (__mmask16)((1u << (w - 16)) - 1) : 0;
		for (long k = 0; k < K; k++) {
			_mm512_mask_storeu_ps(num + k * ns + j, m0, _mm512_setzero_ps());
			_mm512_mask_storeu_ps(num + k * ns + j + 16, m1, _mm512_setzero_ps());
		}
		long m = 0;
		for (; m + HN_RB <= M; m += HN_RB)
			nmf_hnum_rows(a + m * as, as, K, h + j, hs, x + m * xs + j, xs, num + j, ns, m0, m1, epsv, HN_RB);
		const float *ar = a + m * as, *xr = x + m * xs + j;
		switch (M - m) {
#define HN_TAIL(R) case R: nmf_hnum_rows(ar, as, K, h + j, hs, xr, xs, num + j, ns, m0, m1, epsv, R); break;
		HN_TAIL(1) HN_TAIL(2) HN_TAIL(3) HN_TAIL(4) HN_TAIL(5) HN_TAIL(6)
		HN_TAIL(7) HN_TAIL(8) HN_TAIL(9) HN_TAIL(10) HN_TAIL(11)
#undef HN_TAIL
		}
		if (den)
			for (long k = 0; k < K; k++) {
				__m512 d = _mm512_set1_ps(den[k]);
				float *hk = h + k * hs + j;
				const float *nk = num + k * ns + j;
				_mm512_mask_storeu_ps(hk, m0, _mm512_mul_ps(_mm512_maskz_loadu_ps(m0, hk), _mm512_div_ps(_mm512_maskz_loadu_ps(m0, nk), d)));
				_mm512_mask_storeu_ps(hk + 16, m1, _mm512_mul_ps(_mm512_maskz_loadu_ps(m1, hk + 16), _mm512_div_ps(_mm512_maskz_loadu_ps(m1, nk + 16), d)));
			}
	}
}

static int nmf_hnum_ok(void) { return __builtin_cpu_supports("avx512f"); }

static void nmf_kl_hnum_f32(const float *a, long as, long M, long K, float *h, long hs,
	const float *x, long xs, float *num, long ns, long cols, float eps, const float *den)
{
	nmf_kl_hnum_avx512(a, as, M, K, h, hs, x, xs, num, ns, cols, eps, den);
}
#else
static int nmf_hnum_ok(void) { return 0; }
static void nmf_kl_hnum_f32(const float *a, long as, long M, long K, float *h, long hs,
	const float *x, long xs, float *num, long ns, long cols, float eps, const float *den) {}
#endif
*/
import "C"

import "unsafe"

// fusedHNum reports whether this machine runs klHNum32 (x86-64 with
// AVX-512F).
var fusedHNum = C.nmf_hnum_ok() != 0

// klHNum32 sets num (K x cols) to a^T (x / max(a h, eps)) for a (M x K),
// h (K x cols) and x (M x cols); then, when den is not nil, h[k, j] *=
// num[k, j] / den[k]. Only when fusedHNum.
func klHNum32(a *Dense[float32], h, x, num *Dense[float32], eps float32, den []float32) {
	var d *C.float
	if den != nil {
		d = (*C.float)(unsafe.Pointer(&den[0]))
	}
	C.nmf_kl_hnum_f32((*C.float)(unsafe.Pointer(&a.Data[0])), C.long(a.Stride), C.long(a.Rows), C.long(a.Cols),
		(*C.float)(unsafe.Pointer(&h.Data[0])), C.long(h.Stride),
		(*C.float)(unsafe.Pointer(&x.Data[0])), C.long(x.Stride),
		(*C.float)(unsafe.Pointer(&num.Data[0])), C.long(num.Stride), C.long(x.Cols), C.float(eps), d)
}
