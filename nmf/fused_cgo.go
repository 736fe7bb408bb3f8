//go:build cgo && !noopenblas

package nmf

// The KL update of H in one pass, for AVX-512 machines: num = A^T (X /
// max(A H, eps)) on a block of columns, then H *= num / den, without the
// reconstruction or the ratio leaving the core's L1 cache. OpenBLAS is slow
// on these shapes (an inner or outer size of a few dozen: the stacked bases
// of separation are 513 x 40), and it packs both operands on every call;
// this kernel reads A and H in place.
//
// Per 32 frames (two 512-bit vectors; masked at the right edge):
//   - 12 rows of A at a time, the 12 x 32 reconstruction is formed in 24
//     accumulators (one FMA per element of A H, A's element broadcast) and
//     turned into the ratio X / max(V, eps) (reciprocal estimate and one
//     correction: within an ulp of the division, at a fraction of its
//     cost), stored to an M x 32 scratch;
//   - then num = A^T R for each 16-frame half, 20 rows of num at a time in
//     registers over all M rows of the scratch (whose half, 32 kB for M =
//     513, stays in L1);
//   - then, given the reciprocals of the denominators, H's 32 columns are
//     updated.
// Every column's arithmetic is the same in whatever block or position it
// is, so a column block gives the same bits as the whole. Single-threaded
// on 513 x 40 x 188 this runs at about 83% of the core's FMA peak, 1.3-1.9x
// OpenBLAS's two products and ratio pass.

/*
#cgo CFLAGS: -O2
#include <math.h>
#include <stddef.h>

// The tiles; HN_RB and HN_NB are hnumGroup and hnumChunk in Go, which the
// Go side checks at compile time (below the import "C").
#define HN_RB 12 // rows of the reconstruction per tile
#define HN_NB 32 // frames per chunk: two 16-float vectors
#define HN_KB 20 // rows of num per tile

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include "kl_avx512.h"

// The ratio for rb rows of A (from a) and 32 frames: r[i*32 + 16c].
// a is the rows' group of the packed basis: a[k*12 + i] is row i, column k
// (hnumPack), so the 12 broadcasts of a column come from one pointer.
__attribute__((target("avx512f"), always_inline)) static inline void nmf_hnum_ratio(
	const float *restrict a, long K, const float *restrict h, long hs,
	const float *restrict x, long xs, float *restrict r,
	__mmask16 m0, __mmask16 m1, __m512 epsv, const int rb, const int full)
{
	__m512 v[HN_RB][2];
	#pragma GCC unroll 12
	for (int i = 0; i < rb; i++) {
		v[i][0] = _mm512_setzero_ps();
		v[i][1] = _mm512_setzero_ps();
	}
	for (long k = 0; k < K; k++) {
		// Plain loads when the chunk is whole (full is a constant in
		// each inlined copy): the masked ones cost 6% of the kernel.
		__m512 h0 = full ? _mm512_loadu_ps(h + k * hs) : _mm512_maskz_loadu_ps(m0, h + k * hs);
		__m512 h1 = full ? _mm512_loadu_ps(h + k * hs + 16) : _mm512_maskz_loadu_ps(m1, h + k * hs + 16);
		#pragma GCC unroll 12
		for (int i = 0; i < rb; i++) {
			__m512 b = _mm512_set1_ps(a[k * HN_RB + i]);
			v[i][0] = _mm512_fmadd_ps(b, h0, v[i][0]);
			v[i][1] = _mm512_fmadd_ps(b, h1, v[i][1]);
		}
	}
	#pragma GCC unroll 12
	for (int i = 0; i < rb; i++) {
		#pragma GCC unroll 2
		for (int c = 0; c < 2; c++) {
			__m512 xv = full ? _mm512_loadu_ps(x + i * xs + 16 * c) : _mm512_maskz_loadu_ps(c ? m1 : m0, x + i * xs + 16 * c);
			_mm512_storeu_ps(r + HN_NB * i + 16 * c, nmf_kl_ratio16(xv, v[i][c], epsv));
		}
	}
}

// num[0..kb) for one 16-frame half: sum over m of a[m, i] r[m*32].
__attribute__((target("avx512f"), always_inline)) static inline void nmf_hnum_num(
	const float *restrict a, long as, long M, const float *restrict r,
	float *restrict num, long ns, __mmask16 mk, const int kb)
{
	__m512 s[HN_KB];
	#pragma GCC unroll 20
	for (int i = 0; i < kb; i++) s[i] = _mm512_setzero_ps();
	for (long m = 0; m < M; m++) {
		__m512 rv = _mm512_loadu_ps(r + HN_NB * m);
		#pragma GCC unroll 20
		for (int i = 0; i < kb; i++) s[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[m * as + i]), rv, s[i]);
	}
	#pragma GCC unroll 20
	for (int i = 0; i < kb; i++) _mm512_mask_storeu_ps(num + i * ns, mk, s[i]);
}

// The free columns' numerator for rb rows of the ratio (r, 32 frames per
// row) and up to 32 free bases: g[i, f] += sum_{jj < w} r[i, jj] ht[jj, f],
// ht being the chunk's free rows of h transposed (fp floats per frame,
// zeros past F). The first 16 bases are one vector (mask k0); the next
// (mask k1) are a second 16-float vector when wide is 2, an 8-float one
// when it is 1 (half the cost on cores that split 512-bit operations in
// two, the case of 20 free bases), none when it is 0.
__attribute__((target("avx512f,avx512vl,fma"), always_inline)) static inline void nmf_hfree_tile(
	const float *restrict r, const float *restrict ht, long fp, long w,
	float *restrict g, long gs, __mmask16 k0, __mmask16 k1, const int rb, const int wide)
{
	__m512 s[HN_RB], t[HN_RB];
	__m256 u[HN_RB];
	#pragma GCC unroll 12
	for (int i = 0; i < rb; i++) {
		s[i] = _mm512_maskz_loadu_ps(k0, g + i * gs);
		if (wide == 2)
			t[i] = _mm512_maskz_loadu_ps(k1, g + i * gs + 16);
		if (wide == 1)
			u[i] = _mm256_maskz_loadu_ps((__mmask8)k1, g + i * gs + 16);
	}
	for (long jj = 0; jj < w; jj++) {
		__m512 h0 = _mm512_loadu_ps(ht + jj * fp), h1 = _mm512_setzero_ps();
		__m256 h2 = _mm256_setzero_ps();
		if (wide == 2)
			h1 = _mm512_loadu_ps(ht + jj * fp + 16);
		if (wide == 1)
			h2 = _mm256_loadu_ps(ht + jj * fp + 16);
		#pragma GCC unroll 12
		for (int i = 0; i < rb; i++) {
			__m512 b = _mm512_set1_ps(r[HN_NB * i + jj]);
			s[i] = _mm512_fmadd_ps(b, h0, s[i]);
			if (wide == 2)
				t[i] = _mm512_fmadd_ps(b, h1, t[i]);
			if (wide == 1)
				u[i] = _mm256_fmadd_ps(_mm512_castps512_ps256(b), h2, u[i]);
		}
	}
	#pragma GCC unroll 12
	for (int i = 0; i < rb; i++) {
		_mm512_mask_storeu_ps(g + i * gs, k0, s[i]);
		if (wide == 2)
			_mm512_mask_storeu_ps(g + i * gs + 16, k1, t[i]);
		if (wide == 1)
			_mm256_mask_storeu_ps(g + i * gs + 16, (__mmask8)k1, u[i]);
	}
}

// nmf_hfree_rows runs nmf_hfree_tile over all M rows, 12 at a time.
__attribute__((target("avx512f,avx512vl,fma"), always_inline)) static inline void nmf_hfree_rows(
	const float *r, long M, const float *ht, long fp, long w,
	float *g, long gs, __mmask16 k0, __mmask16 k1, const int wide)
{
	long m = 0;
	for (; m + HN_RB <= M; m += HN_RB)
		nmf_hfree_tile(r + HN_NB * m, ht, fp, w, g + m * gs, gs, k0, k1, HN_RB, wide);
	const float *rm = r + HN_NB * m;
	float *gm = g + m * gs;
	switch (M - m) {
#define HN_TAIL(R) case R: nmf_hfree_tile(rm, ht, fp, w, gm, gs, k0, k1, R, wide); break;
	HN_TAIL(1) HN_TAIL(2) HN_TAIL(3) HN_TAIL(4) HN_TAIL(5) HN_TAIL(6)
	HN_TAIL(7) HN_TAIL(8) HN_TAIL(9) HN_TAIL(10) HN_TAIL(11)
#undef HN_TAIL
	}
}

// g (M x F, stride gs) += r h_f^T for one chunk of w frames: r the chunk's
// ratio (M x 32), hf the chunk's F free rows of h (stride hs), ht scratch
// of 32 fp floats (fp = F rounded up to 16).
__attribute__((target("avx512f,avx512vl,fma"))) static void nmf_hfree(
	const float *r, long M, const float *hf, long hs, long F, long w,
	float *g, long gs, float *ht, long fp)
{
	for (long jj = 0; jj < w; jj++) {
		for (long f = 0; f < F; f++) ht[jj * fp + f] = hf[f * hs + jj];
		for (long f = F; f < fp; f++) ht[jj * fp + f] = 0;
	}
	for (long f0 = 0; f0 < F; f0 += 32) {
		long fw = F - f0;
		__mmask16 k0 = fw >= 16 ? 0xffff : (__mmask16)((1u << fw) - 1);
		__mmask16 k1 = fw >= 32 ? 0xffff : fw > 16 ? (__mmask16)((1u << (fw - 16)) - 1) : 0;
		if (fw <= 16)
			nmf_hfree_rows(r, M, ht + f0, fp, w, g + f0, gs, k0, k1, 0);
		else if (fw <= 24)
			nmf_hfree_rows(r, M, ht + f0, fp, w, g + f0, gs, k0, k1, 1);
		else
			nmf_hfree_rows(r, M, ht + f0, fp, w, g + f0, gs, k0, k1, 2);
	}
}

// num (K x cols) = a^T (x / max(a h, eps)) with a M x K, h K x cols and
// x M x cols, all row-major with the given strides; r is M x 32 scratch.
// With rden, each 32-column chunk of h is then updated in place, h *= num
// rden[k] (the KL update of H, whose denominator is the same for every
// column: rden holds its reciprocals), as soon as its numerator is
// complete. With F > 0, g (M x F, stride gs) also gains r hf^T, hf being
// the last F rows of h before their update (the numerator of F free
// columns of a, nmf_hfree), ht its scratch.
__attribute__((target("avx512f,avx512vl,fma"))) static void nmf_kl_hnum_avx512(
	const float *a, long as, const float *ap, long M, long K, float *h, long hs,
	const float *x, long xs, float *num, long ns, long cols, float eps, const float *rden, float *r,
	long F, float *g, long gs, float *ht)
{
	const long fp = (F + 15) / 16 * 16;
	const __m512 epsv = _mm512_set1_ps(eps);
	for (long j = 0; j < cols; j += HN_NB) {
		long w = cols - j;
		__mmask16 m0 = w >= 16 ? 0xffff : (__mmask16)((1u << w) - 1);
		__mmask16 m1 = w >= HN_NB ? 0xffff : w > 16 ? (__mmask16)((1u << (w - 16)) - 1) : 0;
		long m = 0;
		if (w >= HN_NB)
			for (; m + HN_RB <= M; m += HN_RB)
				nmf_hnum_ratio(ap + m * K, K, h + j, hs, x + m * xs + j, xs, r + HN_NB * m, m0, m1, epsv, HN_RB, 1);
		else
			for (; m + HN_RB <= M; m += HN_RB)
				nmf_hnum_ratio(ap + m * K, K, h + j, hs, x + m * xs + j, xs, r + HN_NB * m, m0, m1, epsv, HN_RB, 0);
		const float *am = ap + m * K, *xm = x + m * xs + j;
		float *rm = r + HN_NB * m;
		switch (M - m) {
#define HN_TAIL(R) case R: nmf_hnum_ratio(am, K, h + j, hs, xm, xs, rm, m0, m1, epsv, R, 0); break;
		HN_TAIL(1) HN_TAIL(2) HN_TAIL(3) HN_TAIL(4) HN_TAIL(5) HN_TAIL(6)
		HN_TAIL(7) HN_TAIL(8) HN_TAIL(9) HN_TAIL(10) HN_TAIL(11)
#undef HN_TAIL
		}
		for (int c = 0; c < 2; c++) {
			__mmask16 mk = c ? m1 : m0;
			if (!mk)
				break;
			float *nc = num + j + 16 * c;
			const float *rc = r + 16 * c;
			long k = 0;
			for (; k + HN_KB <= K; k += HN_KB)
				nmf_hnum_num(a + k, as, M, rc, nc + k * ns, ns, mk, HN_KB);
			switch (K - k) {
#define HN_TAIL(R) case R: nmf_hnum_num(a + k, as, M, rc, nc + k * ns, ns, mk, R); break;
			HN_TAIL(1) HN_TAIL(2) HN_TAIL(3) HN_TAIL(4) HN_TAIL(5) HN_TAIL(6) HN_TAIL(7)
			HN_TAIL(8) HN_TAIL(9) HN_TAIL(10) HN_TAIL(11) HN_TAIL(12) HN_TAIL(13)
			HN_TAIL(14) HN_TAIL(15) HN_TAIL(16) HN_TAIL(17) HN_TAIL(18) HN_TAIL(19)
#undef HN_TAIL
			}
		}
		if (F > 0)
			nmf_hfree(r, M, h + (K - F) * hs + j, hs, F, w < HN_NB ? w : HN_NB, g, gs, ht, fp);
		if (rden)
			for (long k = 0; k < K; k++) {
				__m512 d = _mm512_set1_ps(rden[k]);
				float *hk = h + k * hs + j;
				const float *nk = num + k * ns + j;
				_mm512_mask_storeu_ps(hk, m0, _mm512_mul_ps(_mm512_maskz_loadu_ps(m0, hk), _mm512_mul_ps(_mm512_maskz_loadu_ps(m0, nk), d)));
				_mm512_mask_storeu_ps(hk + 16, m1, _mm512_mul_ps(_mm512_maskz_loadu_ps(m1, hk + 16), _mm512_mul_ps(_mm512_maskz_loadu_ps(m1, nk + 16), d)));
			}
	}
}

// One column (live separation infers each frame as it arrives), where the
// 32-frame chunks above would waste 31 lanes in 32: the rows are the
// vector lanes instead. at is a transposed, K x mp (mp = M rounded up to
// 16, the padding zero), x the column zero-padded to mp, r mp floats of
// scratch. The reconstruction is formed 8 vectors (128 rows) at a time,
// h's element broadcast, then turned into the ratio; num[k] is the dot
// product of row k of at with the ratio, in four accumulators. Padded rows
// reconstruct to 0 and give a ratio of 0 / eps = 0.
__attribute__((target("avx512f"), always_inline)) static inline void nmf_h1_ratio(
	const float *restrict at, long mp, long K, const float *restrict h,
	const float *restrict x, float *restrict r, __m512 epsv, const int nv)
{
	__m512 v[8];
	#pragma GCC unroll 8
	for (int i = 0; i < nv; i++) v[i] = _mm512_setzero_ps();
	for (long k = 0; k < K; k++) {
		__m512 hk = _mm512_set1_ps(h[k]);
		const float *p = at + k * mp;
		#pragma GCC unroll 8
		for (int i = 0; i < nv; i++) v[i] = _mm512_fmadd_ps(_mm512_loadu_ps(p + 16 * i), hk, v[i]);
	}
	#pragma GCC unroll 8
	for (int i = 0; i < nv; i++)
		_mm512_storeu_ps(r + 16 * i, nmf_kl_ratio16(_mm512_loadu_ps(x + 16 * i), v[i], epsv));
}

__attribute__((target("avx512f"))) static void nmf_kl_h1_f32(const float *at, long mp, long K,
	const float *h, const float *x, float *r, float *num, float eps)
{
	const __m512 epsv = _mm512_set1_ps(eps);
	long m = 0;
	for (; m + 128 <= mp; m += 128)
		nmf_h1_ratio(at + m, mp, K, h, x + m, r + m, epsv, 8);
	switch ((mp - m) / 16) {
#define H1_TAIL(R) case R: nmf_h1_ratio(at + m, mp, K, h, x + m, r + m, epsv, R); break;
	H1_TAIL(1) H1_TAIL(2) H1_TAIL(3) H1_TAIL(4) H1_TAIL(5) H1_TAIL(6) H1_TAIL(7)
#undef H1_TAIL
	}
	for (long k = 0; k < K; k++) {
		const float *p = at + k * mp;
		__m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
		long i = 0;
		for (; i + 64 <= mp; i += 64) {
			s0 = _mm512_fmadd_ps(_mm512_loadu_ps(r + i), _mm512_loadu_ps(p + i), s0);
			s1 = _mm512_fmadd_ps(_mm512_loadu_ps(r + i + 16), _mm512_loadu_ps(p + i + 16), s1);
			s2 = _mm512_fmadd_ps(_mm512_loadu_ps(r + i + 32), _mm512_loadu_ps(p + i + 32), s2);
			s3 = _mm512_fmadd_ps(_mm512_loadu_ps(r + i + 48), _mm512_loadu_ps(p + i + 48), s3);
		}
		for (; i < mp; i += 16)
			s0 = _mm512_fmadd_ps(_mm512_loadu_ps(r + i), _mm512_loadu_ps(p + i), s0);
		num[k] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
	}
}

// iters KL updates of h with nmf_kl_h1_f32: h *= q after each, q = num
// rden, or q^1.5 = q sqrt(q) with three_halves (the step exponent 1.5).
static void nmf_kl_h1_run(const float *at, long mp, long K, float *h, const float *x, float *r,
	float *num, float eps, const float *rden, long iters, int three_halves)
{
	for (long it = 0; it < iters; it++) {
		nmf_kl_h1_f32(at, mp, K, h, x, r, num, eps);
		if (rden && three_halves)
			for (long k = 0; k < K; k++) {
				float q = num[k] * rden[k];
				h[k] = h[k] * (q * sqrtf(q));
			}
		else if (rden)
			for (long k = 0; k < K; k++) h[k] = h[k] * (num[k] * rden[k]);
	}
}

static int nmf_hnum_ok(void) { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"); }

static void nmf_kl_hnum_f32(const float *a, long as, const float *ap, long M, long K, float *h, long hs,
	const float *x, long xs, float *num, long ns, long cols, float eps, const float *rden, float *r,
	long F, float *g, long gs, float *ht)
{
	nmf_kl_hnum_avx512(a, as, ap, M, K, h, hs, x, xs, num, ns, cols, eps, rden, r, F, g, gs, ht);
}
#else
static int nmf_hnum_ok(void) { return 0; }
static void nmf_kl_h1_run(const float *at, long mp, long K, float *h, const float *x, float *r,
	float *num, float eps, const float *rden, long iters, int three_halves) {}
static void nmf_kl_hnum_f32(const float *a, long as, const float *ap, long M, long K, float *h, long hs,
	const float *x, long xs, float *num, long ns, long cols, float eps, const float *rden, float *r,
	long F, float *g, long gs, float *ht) {}
#endif
*/
import "C"

import "unsafe"

// The C kernel's tiles are the Go constants that size its packed basis and
// scratch: an array of negative length fails the build if they differ.
var (
	_ [C.HN_RB - hnumGroup]struct{}
	_ [hnumGroup - C.HN_RB]struct{}
	_ [C.HN_NB - hnumChunk]struct{}
	_ [hnumChunk - C.HN_NB]struct{}
)

// fusedHNum reports whether this machine runs klHNum32 (x86-64 with
// AVX-512F and VL).
var fusedHNum = C.nmf_hnum_ok() != 0

// klHNum32 sets num (K x cols) to a^T (x / max(a h, eps)) for a (M x K),
// h (K x cols) and x (M x cols); then, when rden is not nil, h[k, j] *=
// num[k, j] rden[k]. When g is not nil, it also adds to g (M x g.Cols)
// the product of the ratio with the last g.Cols rows of h (before their
// update) transposed: the numerator of free columns of a. ap is a packed
// by hnumPack; scratch holds at least hnumScratch(M, g.Cols) values. Only
// when fusedHNum. Its twin is klHNumGo.
func klHNum32(a *Dense[float32], ap []float32, h, x, num *Dense[float32], eps float32, rden []float32, g *Dense[float32], scratch []float32) {
	free := 0
	if g != nil {
		free = g.Cols
	}
	if len(scratch) < hnumScratch(a.Rows, free) || len(ap) < hnumPacked(a.Rows, a.Cols) || free > a.Cols || (g != nil && g.Rows != a.Rows) {
		panic("nmf: klHNum32 scratch, packed basis or free numerator of the wrong size")
	}
	var d *C.float
	if rden != nil {
		d = (*C.float)(unsafe.Pointer(&rden[0]))
	}
	var gp, ht *C.float
	var gs int
	if free > 0 {
		gp, gs = (*C.float)(unsafe.Pointer(&g.Data[0])), g.Stride
		ht = (*C.float)(unsafe.Pointer(&scratch[hnumChunk*a.Rows]))
	}
	C.nmf_kl_hnum_f32((*C.float)(unsafe.Pointer(&a.Data[0])), C.long(a.Stride), (*C.float)(unsafe.Pointer(&ap[0])), C.long(a.Rows), C.long(a.Cols),
		(*C.float)(unsafe.Pointer(&h.Data[0])), C.long(h.Stride),
		(*C.float)(unsafe.Pointer(&x.Data[0])), C.long(x.Stride),
		(*C.float)(unsafe.Pointer(&num.Data[0])), C.long(num.Stride), C.long(x.Cols), C.float(eps), d,
		(*C.float)(unsafe.Pointer(&scratch[0])), C.long(free), gp, C.long(gs), ht)
}

// klH1_32 is klHNum32 for one column of h, x and num, without free
// columns, iters times: num = a^T (x / max(a h, eps)), then with rden h *=
// q, q = num rden, or q^1.5 with threeHalves (without rden, iters must be
// 1). at is a packed by h1Pack;
// scratch holds h1Scratch(M, K) values. Only when fusedHNum. Its twin is
// klHNumGo, once per iteration.
func klH1_32(at []float32, M int, h, x, num *Dense[float32], eps float32, rden []float32, scratch []float32, iters int, threeHalves bool) {
	K, mp := h.Rows, h1Rows(M)
	if x.Rows != M || x.Cols != 1 || h.Cols != 1 || num.Rows != K || num.Cols != 1 || len(at) < K*mp || len(scratch) < h1Scratch(M, K) ||
		iters < 1 || rden == nil && iters != 1 {
		panic("nmf: klH1_32 operands, scratch or iterations of the wrong size")
	}
	xs, r, hv, nv := scratch[:mp], scratch[mp:2*mp], scratch[2*mp:2*mp+K], scratch[2*mp+K:2*mp+2*K]
	for m := range M {
		xs[m] = x.Data[m*x.Stride]
	}
	clear(xs[M:])
	for k := range K {
		hv[k] = h.Data[k*h.Stride]
	}
	var d *C.float
	if rden != nil {
		d = (*C.float)(unsafe.Pointer(&rden[0]))
	}
	C.nmf_kl_h1_run((*C.float)(unsafe.Pointer(&at[0])), C.long(mp), C.long(K), (*C.float)(unsafe.Pointer(&hv[0])),
		(*C.float)(unsafe.Pointer(&xs[0])), (*C.float)(unsafe.Pointer(&r[0])), (*C.float)(unsafe.Pointer(&nv[0])), C.float(eps), d, C.long(iters), cBool(threeHalves))
	for k, n := range nv {
		num.Data[k*num.Stride] = n
		h.Data[k*h.Stride] = hv[k]
	}
}
