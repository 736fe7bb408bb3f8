//go:build cgo && !noopenblas

package nmf

// The elementwise passes of the KL iteration, in C so that gcc vectorises
// them (-O3, one clone per instruction set picked at load time). The pure-Go
// build uses kernels_nocgo.go, with the same semantics.

/*
#cgo CFLAGS: -O3 -fopenmp-simd
#cgo LDFLAGS: -lm
#include <math.h>
#include <stddef.h>

// gcc contracts a*b + c into one FMA in the AVX-512 clones (the multiply's
// denominator, the cost's polynomial): see the numeric contract in doc.go.

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NMF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NMF_CLONES
#endif

// v <- x / max(v, eps), row by row.
#define KL_RATIO(NAME, T) \
NMF_CLONES void NAME(const T *restrict x, long xs, T *restrict v, long vs, long rows, long cols, T eps) { \
	for (long i = 0; i < rows; i++) { \
		const T *restrict xr = x + i * xs; \
		T *restrict vr = v + i * vs; \
		for (long j = 0; j < cols; j++) { \
			T d = vr[j] > eps ? vr[j] : eps; \
			vr[j] = xr[j] / d; \
		} \
	} \
}
KL_RATIO(nmf_kl_ratio_f32_any, float)
KL_RATIO(nmf_kl_ratio_f64, double)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include "kl_avx512.h"
// The float32 ratio on AVX-512 as in the one-pass kernel (fused_cgo.go);
// the division was 5% of a training iteration.
__attribute__((target("avx512f"))) static void nmf_kl_ratio_f32_avx512(const float *restrict x, long xs, float *restrict v, long vs, long rows, long cols, float eps) {
	const __m512 epsv = _mm512_set1_ps(eps);
	for (long i = 0; i < rows; i++) {
		const float *restrict xr = x + i * xs;
		float *restrict vr = v + i * vs;
		for (long j = 0; j < cols; j += 16) {
			long w = cols - j;
			__mmask16 m = w >= 16 ? 0xffff : (__mmask16)((1u << w) - 1);
			__m512 q = nmf_kl_ratio16(_mm512_maskz_loadu_ps(m, xr + j), _mm512_maskz_loadu_ps(m, vr + j), epsv);
			_mm512_mask_storeu_ps(vr + j, m, q);
		}
	}
}
static void nmf_kl_ratio_f32(const float *restrict x, long xs, float *restrict v, long vs, long rows, long cols, float eps) {
	if (__builtin_cpu_supports("avx512f"))
		nmf_kl_ratio_f32_avx512(x, xs, v, vs, rows, cols, eps);
	else
		nmf_kl_ratio_f32_any(x, xs, v, vs, rows, cols, eps);
}
// 1 when nmf_kl_ratio_f32 divides (bit-identical to Go), 0 when it runs the
// AVX-512 reciprocal (within an ulp).
static int nmf_kl_ratio_f32_exact(void) { return !__builtin_cpu_supports("avx512f"); }
#else
#define nmf_kl_ratio_f32 nmf_kl_ratio_f32_any
static int nmf_kl_ratio_f32_exact(void) { return 1; }
#endif

// 1 when every one of the n values is finite and non-negative (a branch-free
// scan that vectorises; NaN fails both comparisons).
NMF_CLONES int nmf_valid_f32(const float *restrict x, long n) {
	int ok = 1;
	for (long i = 0; i < n; i++)
		ok &= (x[i] >= 0) & (x[i] <= 3.40282347e+38f);
	return ok;
}

// dst += src, n values.
NMF_CLONES void nmf_add_f32(float *restrict dst, const float *restrict src, long n) {
	for (long i = 0; i < n; i++)
		dst[i] += src[i];
}

// One row of the update with the step exponent 1.5, f[j] *= q sqrt(q),
// q = num[j] / max(a rs[j] + add, eps). In plain C the square root keeps
// libm's errno and stays scalar (cgo refuses -fno-math-errno as a flag,
// and gcc's optimize pragma and attribute do not reach target clones), so
// the float32 row has AVX-512 and AVX2 forms that take the instruction
// set's square root, correctly rounded as Go's is.
#define KL_STEP_ROW(NAME, T, SQRT) \
static void NAME(T *restrict fr, const T *restrict nr, const T *restrict rs, long cols, T a, T add, T eps) { \
	for (long j = 0; j < cols; j++) { \
		T d = a * rs[j] + add; \
		d = d > eps ? d : eps; \
		T q = nr[j] / d; \
		fr[j] *= q * SQRT(q); \
	} \
}
KL_STEP_ROW(nmf_kl_step_row_f32_any, float, sqrtf)
KL_STEP_ROW(nmf_kl_step_row_f64, double, sqrt)
typedef void (*nmf_step_row_f32)(float *restrict, const float *restrict, const float *restrict, long, float, float, float);
typedef void (*nmf_step_row_f64)(double *restrict, const double *restrict, const double *restrict, long, double, double, double);

// nmf_step_isa caps the instruction set of the float32 step rows, so that
// the tests compare each form with the Go twin: 2 AVX-512, 1 AVX2, 0 C.
static int nmf_step_isa = 2;
static void nmf_set_step_isa(int isa) { nmf_step_isa = isa; }

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
// The denominator fused as the AVX-512 clones fuse it; max gives eps for a
// NaN, as the scalar rule.
__attribute__((target("avx512f"))) static void nmf_kl_step_row_f32_avx512(float *restrict fr, const float *restrict nr, const float *restrict rs, long cols, float a, float add, float eps) {
	const __m512 av = _mm512_set1_ps(a), addv = _mm512_set1_ps(add), epsv = _mm512_set1_ps(eps);
	for (long j = 0; j < cols; j += 16) {
		long w = cols - j;
		__mmask16 m = w >= 16 ? 0xffff : (__mmask16)((1u << w) - 1);
		__m512 d = _mm512_max_ps(_mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, rs + j), addv), epsv);
		__m512 q = _mm512_div_ps(_mm512_maskz_loadu_ps(m, nr + j), d);
		_mm512_mask_storeu_ps(fr + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, fr + j), _mm512_mul_ps(q, _mm512_sqrt_ps(q))));
	}
}
__attribute__((target("avx2"))) static void nmf_kl_step_row_f32_avx2(float *restrict fr, const float *restrict nr, const float *restrict rs, long cols, float a, float add, float eps) {
	const __m256 av = _mm256_set1_ps(a), addv = _mm256_set1_ps(add), epsv = _mm256_set1_ps(eps);
	long j = 0;
	for (; j + 8 <= cols; j += 8) {
		__m256 d = _mm256_max_ps(_mm256_add_ps(_mm256_mul_ps(av, _mm256_loadu_ps(rs + j)), addv), epsv);
		__m256 q = _mm256_div_ps(_mm256_loadu_ps(nr + j), d);
		_mm256_storeu_ps(fr + j, _mm256_mul_ps(_mm256_loadu_ps(fr + j), _mm256_mul_ps(q, _mm256_sqrt_ps(q))));
	}
	nmf_kl_step_row_f32_any(fr + j, nr + j, rs + j, cols - j, a, add, eps);
}
// The float32 step row of this machine, picked once per multiply.
static nmf_step_row_f32 nmf_pick_step_row_f32(void) {
	if (nmf_step_isa >= 2 && __builtin_cpu_supports("avx512f"))
		return nmf_kl_step_row_f32_avx512;
	if (nmf_step_isa >= 1 && __builtin_cpu_supports("avx2"))
		return nmf_kl_step_row_f32_avx2;
	return nmf_kl_step_row_f32_any;
}
#else
static nmf_step_row_f32 nmf_pick_step_row_f32(void) { return nmf_kl_step_row_f32_any; }
#endif
static nmf_step_row_f64 nmf_pick_step_row_f64(void) { return nmf_kl_step_row_f64; }

// f[i,j] *= q or q^1.5 (three_halves, a step row above), q = num[i,j] /
// max(ls[i] rs[j] + add, eps): the KL update, whose denominator is an
// outer product of sums, and the update with the step exponent 1.5.
#define KL_MULTIPLY(NAME, T, S) \
NMF_CLONES void NAME(T *restrict f, long fs, const T *restrict num, long ns, const T *restrict ls, const T *restrict rs, long rows, long cols, T add, T eps, int three_halves) { \
	nmf_step_row_##S step_row = three_halves ? nmf_pick_step_row_##S() : 0; \
	for (long i = 0; i < rows; i++) { \
		T *restrict fr = f + i * fs; \
		const T *restrict nr = num + i * ns; \
		T a = ls[i]; \
		if (step_row) { \
			step_row(fr, nr, rs, cols, a, add, eps); \
			continue; \
		} \
		for (long j = 0; j < cols; j++) { \
			T d = a * rs[j] + add; \
			d = d > eps ? d : eps; \
			fr[j] *= nr[j] / d; \
		} \
	} \
}
KL_MULTIPLY(nmf_kl_multiply_f32, float, f32)
KL_MULTIPLY(nmf_kl_multiply_f64, double, f64)

// logf for the KL cost, written so that gcc vectorises it (libm's logf is
// not): x = m 2^e with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(t) with
// t = (m-1)/(m+1), |t| < 0.172, whose series to t^9 is exact to float
// precision. Only finite x > 0 reach it; a subnormal x (which only a tiny
// spectrogram value divided by the floor can give) is off, but then x log x
// is below 1e-37.
static inline float nmf_logf(float x) {
	unsigned u;
	__builtin_memcpy(&u, &x, 4);
	int e = (int)((u >> 23) & 0xff) - 127;
	u = (u & 0x007fffffu) | 0x3f800000u;
	float m;
	__builtin_memcpy(&m, &u, 4);
	int big = m > 1.41421356f; // branch-free, so the loop vectorises
	m = big ? 0.5f * m : m;
	e += big;
	float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
	float p = t * (2.0f + t2 * (0.666666667f + t2 * (0.4f + t2 * (0.285714286f + t2 * 0.222222222f))));
	return p + (float)e * 0.693147181f;
}

// The KL divergence sum of x log(x/v) - x + v (v floored at eps) over a
// block, one float partial sum per row, added up in double. For x = 0 the
// logarithm is taken of a tiny positive ratio and multiplied by 0, which
// keeps the loop free of branches. -fopenmp-simd lets the row sum be
// reassociated across vector lanes.
NMF_CLONES double nmf_kl_cost_f32(const float *restrict x, long xs, const float *restrict v, long vs, long rows, long cols, float eps) {
	double sum = 0;
	for (long i = 0; i < rows; i++) {
		const float *restrict xr = x + i * xs;
		const float *restrict vr = v + i * vs;
		float acc = 0;
		#pragma omp simd reduction(+:acc)
		for (long j = 0; j < cols; j++) {
			float b = vr[j] > eps ? vr[j] : eps;
			float a = xr[j];
			float q = (a > 1.17549435e-38f ? a : 1.17549435e-38f) / b;
			acc += a * nmf_logf(q) - a + b;
		}
		sum += acc;
	}
	return sum;
}

// Flush-to-zero and denormals-are-zero for the calling thread (x86 MXCSR
// bits 15 and 6); returns the previous control word for nmf_fp_restore.
#if defined(__x86_64__)
#include <xmmintrin.h>
static unsigned nmf_fp_flush(void) { unsigned old = _mm_getcsr(); _mm_setcsr(old | 0x8040); return old; }
static void nmf_fp_restore(unsigned old) { _mm_setcsr(old); }
#else
static unsigned nmf_fp_flush(void) { return 0; }
static void nmf_fp_restore(unsigned old) { (void)old; }
#endif
*/
import "C"

import "unsafe"

// cKernels: this build runs the C kernels, not their Go twins.
const cKernels = true

// klRatio32Exact reports whether klRatio32 divides, as klRatioGo, rather
// than running the AVX-512 reciprocal with one correction.
var klRatio32Exact = C.nmf_kl_ratio_f32_exact() != 0

func klRatio32(x []float32, xs int, v []float32, vs, rows, cols int, eps float32) {
	C.nmf_kl_ratio_f32((*C.float)(unsafe.Pointer(&x[0])), C.long(xs), (*C.float)(unsafe.Pointer(&v[0])), C.long(vs), C.long(rows), C.long(cols), C.float(eps))
}

func klRatio64(x []float64, xs int, v []float64, vs, rows, cols int, eps float64) {
	C.nmf_kl_ratio_f64((*C.double)(unsafe.Pointer(&x[0])), C.long(xs), (*C.double)(unsafe.Pointer(&v[0])), C.long(vs), C.long(rows), C.long(cols), C.double(eps))
}

func valid32(r []float32) bool {
	return len(r) == 0 || C.nmf_valid_f32((*C.float)(unsafe.Pointer(&r[0])), C.long(len(r))) != 0
}

func add32(dst, src []float32) {
	if len(dst) > 0 {
		C.nmf_add_f32((*C.float)(unsafe.Pointer(&dst[0])), (*C.float)(unsafe.Pointer(&src[:len(dst)][0])), C.long(len(dst)))
	}
}

// capStepISA caps the instruction set of the float32 step exponent's
// rows (2 AVX-512, 1 AVX2, 0 plain C), for the tests; 2 is the default.
func capStepISA(isa int) { C.nmf_set_step_isa(C.int(isa)) }

func klMultiply32(f []float32, fs int, num []float32, ns int, ls, rs []float32, rows, cols int, add, eps float32, threeHalves bool) {
	C.nmf_kl_multiply_f32((*C.float)(unsafe.Pointer(&f[0])), C.long(fs), (*C.float)(unsafe.Pointer(&num[0])), C.long(ns),
		(*C.float)(unsafe.Pointer(&ls[0])), (*C.float)(unsafe.Pointer(&rs[0])), C.long(rows), C.long(cols), C.float(add), C.float(eps), cBool(threeHalves))
}

func klMultiply64(f []float64, fs int, num []float64, ns int, ls, rs []float64, rows, cols int, add, eps float64, threeHalves bool) {
	C.nmf_kl_multiply_f64((*C.double)(unsafe.Pointer(&f[0])), C.long(fs), (*C.double)(unsafe.Pointer(&num[0])), C.long(ns),
		(*C.double)(unsafe.Pointer(&ls[0])), (*C.double)(unsafe.Pointer(&rs[0])), C.long(rows), C.long(cols), C.double(add), C.double(eps), cBool(threeHalves))
}

func klCost32(x []float32, xs int, v []float32, vs, rows, cols int, eps float32) float64 {
	return float64(C.nmf_kl_cost_f32((*C.float)(unsafe.Pointer(&x[0])), C.long(xs), (*C.float)(unsafe.Pointer(&v[0])), C.long(vs), C.long(rows), C.long(cols), C.float(eps)))
}

// flushDenormals makes the calling OS thread treat subnormal floats as zero
// and returns what restoreFP needs to undo it. Multiplicative updates drive
// entries of W and H towards zero, through the subnormal range, where every
// arithmetic instruction takes a slow microcode path: on real speech this
// made float32 training twice as slow. The caller must hold its OS thread
// (runtime.LockOSThread) until restoreFP.
func flushDenormals() uint32 { return uint32(C.nmf_fp_flush()) }

func restoreFP(old uint32) { C.nmf_fp_restore(C.uint(old)) }

// cBool is b as a C int.
func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
