// The KL ratio on AVX-512, shared by the cgo kernels of this package
// (kernels_cgo.go and fused_cgo.go); included inside their x86-64 GCC
// sections.
#ifndef NMF_KL_AVX512_H
#define NMF_KL_AVX512_H
#include <immintrin.h>

// x / max(v, eps) for 16 floats: q0 = x r with r = rcp14(d) (relative error
// e < 2^-14), corrected once by the residual, q0 + (x - d q0) r, which
// leaves e^2 < 2^-28: within an ulp of the division at a fraction of its
// cost. max gives eps for a NaN v, as the scalar rule.
__attribute__((target("avx512f"), always_inline)) static inline __m512 nmf_kl_ratio16(__m512 x, __m512 v, __m512 epsv) {
	__m512 d = _mm512_max_ps(v, epsv);
	__m512 r = _mm512_rcp14_ps(d);
	__m512 q = _mm512_mul_ps(x, r);
	return _mm512_fmadd_ps(_mm512_fnmadd_ps(d, q, x), r, q);
}
#endif
