//go:build cgo && !noopenblas

package bsseval

// The 2-source block Levinson recursion in C, so that gcc vectorises its
// passes over the predictors (-O3, one clone per instruction set picked at
// load time, as nmf's kernels). The recurrences are solve2Go's, on a planar
// layout: every entry of the 2 x 2 blocks has its own sequence over the
// delays, so that each pass is a set of unit-stride loops.

/*
#cgo CFLAGS: -O3 -fopenmp-simd
#include <math.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BSS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BSS_CLONES
#endif

// Solves e z = b in place for the symmetric 2 x 2 matrix e (by Cholesky) and
// the 2 x n matrix b held as rows b0 and b1 with element stride s; 0 when e
// is not numerically positive definite.
static int bss_chol2(const double *e, double *b0, double *b1, long n, long s) {
	double l00 = e[0];
	if (!(l00 > 0) || isinf(l00)) return 0;
	l00 = sqrt(l00);
	double l10 = e[2] / l00;
	double p = e[3] - l10 * l10;
	if (!(p > 0) || isinf(p)) return 0;
	double l11 = sqrt(p);
	for (long c = 0; c < n; c++) {
		double y0 = b0[c * s] / l00;
		double y1 = (b1[c * s] - l10 * y0) / l11;
		double z1 = y1 / l11;
		b0[c * s] = (y0 - l10 * z1) / l00;
		b1[c * s] = z1;
	}
	return 1;
}

// coef holds 8 sequences of L: fr_il (il = 2i+l) with fr_il[p] =
// R(L-1-p)[i][l], then bt_il with bt_il[p] = R(p)[l][i]. work holds 16
// sequences of L (the predictors X_lj, Y_lj, current and next). x and d
// are planar: the sequence of row i, column c at (i*nrhs+c)*L. gam holds
// 2*nrhs. Returns 0 on breakdown.
BSS_CLONES int bss_levinson2(long L, long nrhs, const double *restrict coef, double *restrict work,
	double *restrict x, const double *restrict d, double *restrict gam)
{
	const double *fr00 = coef, *fr01 = coef + L, *fr10 = coef + 2 * L, *fr11 = coef + 3 * L;
	const double *bt00 = coef + 4 * L, *bt01 = coef + 5 * L, *bt10 = coef + 6 * L, *bt11 = coef + 7 * L;
	double *P = work, *Q = work + 8 * L;
	P[0] = 1; P[L] = 0; P[2 * L] = 0; P[3 * L] = 1;
	P[4 * L] = 1; P[5 * L] = 0; P[6 * L] = 0; P[7 * L] = 1;
	double ef[4] = {fr00[L - 1], fr01[L - 1], fr10[L - 1], fr11[L - 1]}; // R(0)
	double eb[4] = {ef[0], ef[1], ef[2], ef[3]};
	for (long r = 0; r < 2 * nrhs; r++) {
		for (long k = 0; k < L; k++) x[r * L + k] = 0;
		x[r * L] = d[r * L];
	}
	if (!bss_chol2(eb, x, x + nrhs * L, nrhs, L)) return 0;
	for (long n = 0; n < L - 1; n++) {
		const long K = n + 1, off = L - 2 - n;
		const double *X00 = P, *X01 = P + L, *X10 = P + 2 * L, *X11 = P + 3 * L;
		const double *Y00 = P + 4 * L, *Y01 = P + 5 * L, *Y10 = P + 6 * L, *Y11 = P + 7 * L;
		const double *a00 = fr00 + off, *a01 = fr01 + off, *a10 = fr10 + off, *a11 = fr11 + off;
		const double *c00 = bt00 + 1, *c01 = bt01 + 1, *c10 = bt10 + 1, *c11 = bt11 + 1;
		// Delta_f = sum_k R(n+1-k) X_k, Delta_b = sum_k R(k+1)^T Y_k.
		double f00 = 0, f01 = 0, f10 = 0, f11 = 0, b00 = 0, b01 = 0, b10 = 0, b11 = 0;
		#pragma omp simd reduction(+:f00,f01,f10,f11,b00,b01,b10,b11)
		for (long k = 0; k < K; k++) {
			f00 += a00[k] * X00[k] + a01[k] * X10[k];
			f01 += a00[k] * X01[k] + a01[k] * X11[k];
			f10 += a10[k] * X00[k] + a11[k] * X10[k];
			f11 += a10[k] * X01[k] + a11[k] * X11[k];
			b00 += c00[k] * Y00[k] + c01[k] * Y10[k];
			b01 += c00[k] * Y01[k] + c01[k] * Y11[k];
			b10 += c10[k] * Y00[k] + c11[k] * Y10[k];
			b11 += c10[k] * Y01[k] + c11[k] * Y11[k];
		}
		// gamma = d_{n+1} - sum_k R(n+1-k) x_k, before the Eb'^{-1}.
		for (long c = 0; c < nrhs; c++) {
			const double *x0 = x + c * L, *x1 = x + (nrhs + c) * L;
			double s0 = 0, s1 = 0;
			#pragma omp simd reduction(+:s0,s1)
			for (long k = 0; k < K; k++) {
				s0 += a00[k] * x0[k] + a01[k] * x1[k];
				s1 += a10[k] * x0[k] + a11[k] * x1[k];
			}
			gam[c] = d[c * L + K] - s0;
			gam[nrhs + c] = d[(nrhs + c) * L + K] - s1;
		}
		// alpha = -Eb^{-1} Delta_f, beta = -Ef^{-1} Delta_b, then
		// Ef' = Ef + Delta_b alpha, Eb' = Eb + Delta_f beta.
		double al[4] = {-f00, -f01, -f10, -f11}, be[4] = {-b00, -b01, -b10, -b11};
		if (!bss_chol2(eb, al, al + 2, 2, 1) || !bss_chol2(ef, be, be + 2, 2, 1)) return 0;
		ef[0] += b00 * al[0] + b01 * al[2];
		ef[1] += b00 * al[1] + b01 * al[3];
		ef[2] += b10 * al[0] + b11 * al[2];
		ef[3] += b10 * al[1] + b11 * al[3];
		eb[0] += f00 * be[0] + f01 * be[2];
		eb[1] += f00 * be[1] + f01 * be[3];
		eb[2] += f10 * be[0] + f11 * be[2];
		eb[3] += f10 * be[1] + f11 * be[3];
		ef[1] = ef[2] = (ef[1] + ef[2]) / 2;
		eb[1] = eb[2] = (eb[1] + eb[2]) / 2;
		if (!bss_chol2(eb, gam, gam + nrhs, nrhs, 1)) return 0;

		// X'_k = X_k + Y_{k-1} alpha, Y'_k = Y_{k-1} + X_k beta (X_{n+1} = 0,
		// Y_{-1} = 0), into Q.
		double *N00 = Q, *N01 = Q + L, *N10 = Q + 2 * L, *N11 = Q + 3 * L;
		double *M00 = Q + 4 * L, *M01 = Q + 5 * L, *M10 = Q + 6 * L, *M11 = Q + 7 * L;
		N00[0] = X00[0]; N01[0] = X01[0]; N10[0] = X10[0]; N11[0] = X11[0];
		M00[0] = X00[0] * be[0] + X01[0] * be[2];
		M01[0] = X00[0] * be[1] + X01[0] * be[3];
		M10[0] = X10[0] * be[0] + X11[0] * be[2];
		M11[0] = X10[0] * be[1] + X11[0] * be[3];
		#pragma omp simd
		for (long k = 1; k < K; k++) {
			N00[k] = X00[k] + Y00[k - 1] * al[0] + Y01[k - 1] * al[2];
			N01[k] = X01[k] + Y00[k - 1] * al[1] + Y01[k - 1] * al[3];
			N10[k] = X10[k] + Y10[k - 1] * al[0] + Y11[k - 1] * al[2];
			N11[k] = X11[k] + Y10[k - 1] * al[1] + Y11[k - 1] * al[3];
			M00[k] = Y00[k - 1] + X00[k] * be[0] + X01[k] * be[2];
			M01[k] = Y01[k - 1] + X00[k] * be[1] + X01[k] * be[3];
			M10[k] = Y10[k - 1] + X10[k] * be[0] + X11[k] * be[2];
			M11[k] = Y11[k - 1] + X10[k] * be[1] + X11[k] * be[3];
		}
		N00[K] = Y00[n] * al[0] + Y01[n] * al[2];
		N01[K] = Y00[n] * al[1] + Y01[n] * al[3];
		N10[K] = Y10[n] * al[0] + Y11[n] * al[2];
		N11[K] = Y10[n] * al[1] + Y11[n] * al[3];
		M00[K] = Y00[n]; M01[K] = Y01[n]; M10[K] = Y10[n]; M11[K] = Y11[n];

		// x_k += Y'_k gamma for k = 0..n, x_{n+1} = gamma (Y'_{n+1} = I).
		for (long c = 0; c < nrhs; c++) {
			double *x0 = x + c * L, *x1 = x + (nrhs + c) * L;
			const double g0 = gam[c], g1 = gam[nrhs + c];
			#pragma omp simd
			for (long k = 0; k < K; k++) {
				x0[k] += M00[k] * g0 + M01[k] * g1;
				x1[k] += M10[k] * g0 + M11[k] * g1;
			}
			x0[K] = g0;
			x1[K] = g1;
		}
		double *t = P; P = Q; Q = t;
	}
	return 1;
}
*/
import "C"

// solve2 is solve for m = 2, by the C kernel.
func (lv *levinson) solve2(x, d []float64, nrhs int) bool {
	L := lv.L
	lm := 2 * L
	if lv.coef == nil {
		// fr_il[p] = R(L-1-p)[i][l] = rr[i][p*2+l]; bt_il[p] = R(p)[l][i] =
		// rt[i][p*2+l].
		lv.coef = make([]float64, 8*L)
		lv.work = make([]float64, 16*L)
		for i := 0; i < 2; i++ {
			for l := 0; l < 2; l++ {
				fr, bt := lv.coef[(2*i+l)*L:], lv.coef[(4+2*i+l)*L:]
				for p := 0; p < L; p++ {
					fr[p] = lv.rr[i*lm+p*2+l]
					bt[p] = lv.rt[i*lm+p*2+l]
				}
			}
		}
	}
	n := 2 * nrhs * L
	if len(lv.xp) < n {
		lv.xp, lv.dp, lv.gam = make([]float64, n), make([]float64, n), make([]float64, 2*nrhs)
	}
	xp, dp := lv.xp[:n], lv.dp[:n]
	// Delay-major rows a*2+i to planar sequences (i*nrhs+c)*L.
	for a := 0; a < L; a++ {
		for i := 0; i < 2; i++ {
			for c, v := range d[(a*2+i)*nrhs : (a*2+i+1)*nrhs] {
				dp[(i*nrhs+c)*L+a] = v
			}
		}
	}
	ok := C.bss_levinson2(C.long(L), C.long(nrhs), (*C.double)(&lv.coef[0]), (*C.double)(&lv.work[0]),
		(*C.double)(&xp[0]), (*C.double)(&dp[0]), (*C.double)(&lv.gam[0])) != 0
	for a := 0; a < L; a++ {
		for i := 0; i < 2; i++ {
			row := x[(a*2+i)*nrhs : (a*2+i+1)*nrhs]
			for c := range row {
				row[c] = xp[(i*nrhs+c)*L+a]
			}
		}
	}
	return ok
}
