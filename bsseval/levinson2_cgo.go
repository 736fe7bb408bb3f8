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
// sequences of L+1 (the predictors X_lj, Y_lj, current and next). x and d
// are planar: the sequence of row i, column c at (i*nrhs+c)*L. gam holds
// 2*nrhs. Returns 0 on breakdown.
static inline __attribute__((always_inline)) int bss_levinson2_body(long L, long nrhs, const double *restrict coef,
	double *restrict work, double *restrict x, const double *restrict d, double *restrict gam)
{
	const double *fr00 = coef, *fr01 = coef + L, *fr10 = coef + 2 * L, *fr11 = coef + 3 * L;
	const double *bt00 = coef + 4 * L, *bt01 = coef + 5 * L, *bt10 = coef + 6 * L, *bt11 = coef + 7 * L;
	// 16 sequences of L+1, each after a zero (Y_{-1} = 0): the predictors
	// X00 X01 X10 X11 Y00 Y01 Y10 Y11, current (P) and next (Q).
	const long S = L + 1;
	for (long q = 0; q < 16; q++) work[q * S] = 0;
	double *P = work + 1, *Q = work + 8 * S + 1;
	P[0] = 1; P[S] = 0; P[2 * S] = 0; P[3 * S] = 1;
	P[4 * S] = 1; P[5 * S] = 0; P[6 * S] = 0; P[7 * S] = 1;
	double ef[4] = {fr00[L - 1], fr01[L - 1], fr10[L - 1], fr11[L - 1]}; // R(0)
	double eb[4] = {ef[0], ef[1], ef[2], ef[3]};
	for (long r = 0; r < 2 * nrhs; r++) {
		for (long k = 0; k < L; k++) x[r * L + k] = 0;
		x[r * L] = d[r * L];
	}
	if (!bss_chol2(eb, x, x + nrhs * L, nrhs, L)) return 0;
	// The sums of order 0 (one term): Delta_f = R(1) X_0 = R(1), Delta_b =
	// R(1)^T Y_0 = R(1)^T, and s = R(1) x_0 for gamma.
	double f00 = fr00[L - 2], f01 = fr01[L - 2], f10 = fr10[L - 2], f11 = fr11[L - 2];
	double b00 = bt00[1], b01 = bt01[1], b10 = bt10[1], b11 = bt11[1];
	for (long c = 0; c < nrhs; c++) {
		double x0 = x[c * L], x1 = x[(nrhs + c) * L];
		gam[c] = d[c * L + 1] - (f00 * x0 + f01 * x1);
		gam[nrhs + c] = d[(nrhs + c) * L + 1] - (f10 * x0 + f11 * x1);
	}
	for (long n = 0; n < L - 1; n++) {
		const long K = n + 1;
		// alpha = -Eb^{-1} Delta_f, beta = -Ef^{-1} Delta_b, then
		// Ef' = Ef + Delta_b alpha, Eb' = Eb + Delta_f beta, and gamma =
		// Eb'^{-1} (d_{n+1} - sum_k R(n+1-k) x_k).
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

		// X'_k = X_k + Y_{k-1} alpha, Y'_k = Y_{k-1} + X_k beta for
		// k = 0..n+1 (X_{n+1} = 0, Y_{-1} = 0), into Q; in the same pass,
		// the next order's Delta_f = sum_k R(n+2-k) X'_k and Delta_b =
		// sum_k R(k+1)^T Y'_k.
		double *X00 = P, *X01 = P + S, *X10 = P + 2 * S, *X11 = P + 3 * S;
		const double *Y00 = P + 4 * S, *Y01 = P + 5 * S, *Y10 = P + 6 * S, *Y11 = P + 7 * S;
		double *N00 = Q, *N01 = Q + S, *N10 = Q + 2 * S, *N11 = Q + 3 * S;
		double *M00 = Q + 4 * S, *M01 = Q + 5 * S, *M10 = Q + 6 * S, *M11 = Q + 7 * S;
		X00[K] = X01[K] = X10[K] = X11[K] = 0;
		const double a00 = al[0], a01 = al[1], a10 = al[2], a11 = al[3];
		const double e00 = be[0], e01 = be[1], e10 = be[2], e11 = be[3];
		const long off = L - 3 - n; // R(n+2-k) at fr + off + k
		const double *r00 = fr00 + off, *r01 = fr01 + off, *r10 = fr10 + off, *r11 = fr11 + off;
		const double *c00 = bt00 + 1, *c01 = bt01 + 1, *c10 = bt10 + 1, *c11 = bt11 + 1;
		const int more = n + 1 < L - 1; // a next order needs the sums
		f00 = f01 = f10 = f11 = b00 = b01 = b10 = b11 = 0;
		if (more) {
			#pragma omp simd reduction(+:f00,f01,f10,f11,b00,b01,b10,b11)
			for (long k = 0; k <= K; k++) {
				double x00 = X00[k], x01 = X01[k], x10 = X10[k], x11 = X11[k];
				double y00 = Y00[k - 1], y01 = Y01[k - 1], y10 = Y10[k - 1], y11 = Y11[k - 1];
				double n00 = x00 + y00 * a00 + y01 * a10;
				double n01 = x01 + y00 * a01 + y01 * a11;
				double n10 = x10 + y10 * a00 + y11 * a10;
				double n11 = x11 + y10 * a01 + y11 * a11;
				double m00 = y00 + x00 * e00 + x01 * e10;
				double m01 = y01 + x00 * e01 + x01 * e11;
				double m10 = y10 + x10 * e00 + x11 * e10;
				double m11 = y11 + x10 * e01 + x11 * e11;
				N00[k] = n00; N01[k] = n01; N10[k] = n10; N11[k] = n11;
				M00[k] = m00; M01[k] = m01; M10[k] = m10; M11[k] = m11;
				f00 += r00[k] * n00 + r01[k] * n10;
				f01 += r00[k] * n01 + r01[k] * n11;
				f10 += r10[k] * n00 + r11[k] * n10;
				f11 += r10[k] * n01 + r11[k] * n11;
				b00 += c00[k] * m00 + c01[k] * m10;
				b01 += c00[k] * m01 + c01[k] * m11;
				b10 += c10[k] * m00 + c11[k] * m10;
				b11 += c10[k] * m01 + c11[k] * m11;
			}
		} else {
			#pragma omp simd
			for (long k = 0; k <= K; k++) {
				double x00 = X00[k], x01 = X01[k], x10 = X10[k], x11 = X11[k];
				double y00 = Y00[k - 1], y01 = Y01[k - 1], y10 = Y10[k - 1], y11 = Y11[k - 1];
				M00[k] = y00 + x00 * e00 + x01 * e10;
				M01[k] = y01 + x00 * e01 + x01 * e11;
				M10[k] = y10 + x10 * e00 + x11 * e10;
				M11[k] = y11 + x10 * e01 + x11 * e11;
			}
		}

		// x_k += Y'_k gamma for k = 0..n+1 (x_{n+1} = 0 before, Y'_{n+1} =
		// I), and in the same pass the next order's sum_k R(n+2-k) x'_k.
		for (long c = 0; c < nrhs; c++) {
			double *x0 = x + c * L, *x1 = x + (nrhs + c) * L;
			const double g0 = gam[c], g1 = gam[nrhs + c];
			double s0 = 0, s1 = 0;
			if (more) {
				#pragma omp simd reduction(+:s0,s1)
				for (long k = 0; k <= K; k++) {
					double u0 = x0[k] + M00[k] * g0 + M01[k] * g1;
					double u1 = x1[k] + M10[k] * g0 + M11[k] * g1;
					x0[k] = u0;
					x1[k] = u1;
					s0 += r00[k] * u0 + r01[k] * u1;
					s1 += r10[k] * u0 + r11[k] * u1;
				}
				gam[c] = d[c * L + K + 1] - s0;
				gam[nrhs + c] = d[(nrhs + c) * L + K + 1] - s1;
			} else {
				#pragma omp simd
				for (long k = 0; k <= K; k++) {
					x0[k] += M00[k] * g0 + M01[k] * g1;
					x1[k] += M10[k] * g0 + M11[k] * g1;
				}
			}
		}
		double *t = P; P = Q; Q = t;
	}
	return 1;
}

BSS_CLONES int bss_levinson2(long L, long nrhs, const double *restrict coef, double *restrict work,
	double *restrict x, const double *restrict d, double *restrict gam)
{
	return bss_levinson2_body(L, nrhs, coef, work, x, d, gam);
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
		lv.work = make([]float64, 16*(L+1))
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
