package bsseval

import (
	"math"

	"gonum.org/v1/gonum/blas/blas64"
)

// levinson solves T x = d for the symmetric positive definite block
// Toeplitz matrix T with L x L blocks T[a][b] = R(a-b), each m x m, and
// R(-k) = R(k)^T, by the block Levinson recursion of Whittle (1963) and
// Wiggins and Robinson (1965): O(L^2 m^3) operations instead of Cholesky's
// O(L^3 m^3). With the delays outermost, the Gram matrix of the delayed
// references is exactly such a matrix (the correlations are linear, so
// every entry depends on the delay difference alone): R(k)[i][j] =
// sum_t s_j(t+k) s_i(t).
type levinson struct {
	m, L int
	// rr holds R(k) reversed along k, m rows of L*m: rr[i][(L-1-k)*m+l] =
	// R(k)[i][l], so that sum_k R(n+1-k) X_k is a run of contiguous dot
	// products; rt holds R(k)^T forward: rt[i][k*m+l] = R(k)[l][i].
	rr, rt []float64

	// Scratch.
	fx, fy            []float64 // forward and backward predictors, L*m x m
	ef, eb, df, db    []float64 // m x m
	alpha, beta, chol []float64 // m x m
	tx, ty, zero      []float64 // m x m
	cols              []float64 // m = 1: the solution column by column, L*nrhs

	// m = 2, C kernel (levinson2_cgo.go): the blocks' planar sequences, the
	// predictors, and the planar solution, right-hand sides and gamma.
	coef, work, xp, dp, gam []float64 //lint:ignore U1000 used by the C kernel, which only the cgo build has
}

// newLevinson prepares the recursion for the blocks R(k), k = 0..L-1,
// stored row-major m x m each in r.
func newLevinson(m, L int, r []float64) *levinson {
	mm := m * m
	lv := &levinson{
		m: m, L: L,
		rr: make([]float64, m*L*m), rt: make([]float64, m*L*m),
		fx: make([]float64, L*mm), fy: make([]float64, L*mm),
		ef: make([]float64, mm), eb: make([]float64, mm), df: make([]float64, mm),
		db: make([]float64, mm), alpha: make([]float64, mm), beta: make([]float64, mm),
		chol: make([]float64, mm), tx: make([]float64, mm), ty: make([]float64, mm), zero: make([]float64, mm),
	}
	for k := 0; k < L; k++ {
		for i := 0; i < m; i++ {
			for l := 0; l < m; l++ {
				lv.rr[i*L*m+(L-1-k)*m+l] = r[k*mm+i*m+l]
				lv.rt[i*L*m+k*m+l] = r[k*mm+l*m+i]
			}
		}
	}
	return lv
}

// solve overwrites x (L*m x nrhs, row-major, delay-major: row a*m+i) with
// the solution of T x = d. It reports false when T is not numerically
// positive definite (a prediction-error covariance lost definiteness).
func (lv *levinson) solve(x, d []float64, nrhs int) bool {
	switch lv.m {
	case 1:
		return lv.solveScalar(x, d, nrhs)
	case 2:
		return lv.solve2(x, d, nrhs)
	}
	m, L, mm, lm := lv.m, lv.L, lv.m*lv.m, lv.L*lv.m
	// X: forward predictor blocks X_0..X_n (X_0 = I), Y: backward
	// predictor blocks Y_0..Y_n (Y_n = I), both stacked as rows k*m+l.
	X, Y := lv.fx, lv.fy
	clear(X[:mm])
	clear(Y[:mm])
	for i := 0; i < m; i++ {
		X[i*m+i], Y[i*m+i] = 1, 1
	}
	for i := 0; i < m; i++ {
		copy(lv.ef[i*m:(i+1)*m], lv.rr[i*lm+(L-1)*m:i*lm+L*m])
	}
	copy(lv.eb, lv.ef)
	clear(x)
	copy(x[:m*nrhs], d[:m*nrhs])
	if !lv.cholSolve(lv.eb, x[:m*nrhs], nrhs) {
		return false
	}
	for n := 0; n < L-1; n++ {
		rows := (n + 1) * m
		off := (L - 2 - n) * m // rr offset of R(n+1) for k = 0
		// Delta_f = sum_k R(n+1-k) X_k, Delta_b = sum_k R(k+1)^T Y_k: row i
		// of each is a row of R times the stacked predictor, read row by
		// row (unit stride, one pass over X and Y).
		clear(lv.df)
		clear(lv.db)
		for i := 0; i < m; i++ {
			rowTimes(lv.df[i*m:(i+1)*m], lv.rr[i*lm+off:i*lm+off+rows], X[:rows*m], 1)
			rowTimes(lv.db[i*m:(i+1)*m], lv.rt[i*lm+m:i*lm+m+rows], Y[:rows*m], 1)
		}
		// alpha = -Eb^{-1} Delta_f, beta = -Ef^{-1} Delta_b.
		for i := range lv.alpha {
			lv.alpha[i], lv.beta[i] = -lv.df[i], -lv.db[i]
		}
		if !lv.cholSolve(lv.eb, lv.alpha, m) || !lv.cholSolve(lv.ef, lv.beta, m) {
			return false
		}
		// X'_k = X_k + Y_{k-1} alpha, Y'_k = Y_{k-1} + X_k beta for
		// k = n+1 down to 0, in place (each step reads only X_k and
		// Y_{k-1}, which later steps do not need). X_{n+1} = 0, Y_{-1} = 0.
		lv.updateRows(n)
		// Ef' = Ef + Delta_b alpha, Eb' = Eb + Delta_f beta.
		for i := 0; i < m; i++ {
			for j := 0; j < m; j++ {
				sf, sb := 0.0, 0.0
				for q := 0; q < m; q++ {
					sf += lv.db[i*m+q] * lv.alpha[q*m+j]
					sb += lv.df[i*m+q] * lv.beta[q*m+j]
				}
				lv.ef[i*m+j] += sf
				lv.eb[i*m+j] += sb
			}
		}
		symmetrize(lv.ef, m)
		symmetrize(lv.eb, m)

		// Solution: gamma = Eb'^{-1}(d_{n+1} - sum_k R(n+1-k) x_k), then
		// x_k += Y'_k gamma for k = 0..n (x_{n+1} = gamma, Y'_{n+1} = I).
		gamma := x[(n+1)*m*nrhs : (n+2)*m*nrhs]
		copy(gamma, d[(n+1)*m*nrhs:(n+2)*m*nrhs])
		for i := 0; i < m; i++ {
			rowTimes(gamma[i*nrhs:(i+1)*nrhs], lv.rr[i*lm+off:i*lm+off+rows], x[:rows*nrhs], -1)
		}
		if !lv.cholSolve(lv.eb, gamma, nrhs) {
			return false
		}
		for q := 0; q < rows; q++ {
			xr := x[q*nrhs : (q+1)*nrhs]
			yr := Y[q*m : (q+1)*m]
			for l, yv := range yr {
				axpy(xr, yv, gamma[l*nrhs:(l+1)*nrhs])
			}
		}
	}
	return true
}

// updateRows sets X'_k = X_k + Y_{k-1} alpha and Y'_k = Y_{k-1} + X_k beta
// for k = n+1 down to 0, in place (X_{n+1} = 0, Y_{-1} = 0).
func (lv *levinson) updateRows(n int) {
	m := lv.m
	rows := (n + 1) * m
	X, Y := lv.fx, lv.fy
	// Row by row from the bottom (row q of X_k is row q of X, row q of
	// Y_{k-1} is row q-m of Y): each step reads rows that no later step
	// overwrites, so no copy is needed.
	for q := (n+2)*m - 1; q >= 0; q-- {
		var xq, yq []float64 // old X row q (zero past X_n), Y row q-m (zero before Y_0)
		if q < rows {
			xq = X[q*m : (q+1)*m]
		} else {
			xq = lv.zero[:m]
		}
		if q >= m {
			yq = Y[(q-m)*m : (q-m+1)*m]
		} else {
			yq = lv.zero[:m]
		}
		nx, ny := lv.tx[:m], lv.ty[:m]
		copy(nx, xq)
		copy(ny, yq)
		for l, yv := range yq {
			axpy(nx, yv, lv.alpha[l*m:(l+1)*m])
		}
		for l, xv := range xq {
			axpy(ny, xv, lv.beta[l*m:(l+1)*m])
		}
		copy(X[q*m:(q+1)*m], nx)
		copy(Y[q*m:(q+1)*m], ny)
	}
}

// solve2Go is solve for m = 2, unrolled (the 2 x 2 products are too small
// for loops) and fused into two passes over memory per order n: the first
// forms Delta_f, Delta_b and the sum of gamma together, the second updates
// the predictors and the solution together, bottom-up. The recurrences are
// those of solve.
func (lv *levinson) solve2Go(x, d []float64, nrhs int) bool {
	L, lm := lv.L, 2*lv.L
	X, Y := lv.fx, lv.fy // block k at [4k, 4k+4), row-major
	rr0, rr1 := lv.rr[:lm], lv.rr[lm:]
	rt0, rt1 := lv.rt[:lm], lv.rt[lm:]
	X[0], X[1], X[2], X[3] = 1, 0, 0, 1
	Y[0], Y[1], Y[2], Y[3] = 1, 0, 0, 1
	ef, eb, df, db := lv.ef, lv.eb, lv.df, lv.db
	ef[0], ef[1], ef[2], ef[3] = rr0[lm-2], rr0[lm-1], rr1[lm-2], rr1[lm-1]
	copy(eb, ef)
	clear(x)
	copy(x[:2*nrhs], d[:2*nrhs])
	if !lv.cholSolve(eb, x[:2*nrhs], nrhs) {
		return false
	}
	for n := 0; n < L-1; n++ {
		K, off := n+1, (L-2-n)*2
		// Delta_f = sum_k R(n+1-k) X_k, Delta_b = sum_k R(k+1)^T Y_k.
		f0, f1 := rr0[off:off+2*K], rr1[off:off+2*K]
		t0, t1 := rt0[2:2+2*K], rt1[2:2+2*K]
		var f00, f01, f10, f11, b00, b01, b10, b11 float64
		for k := 0; k < K; k++ {
			xb, yb := X[4*k:4*k+4:4*k+4], Y[4*k:4*k+4:4*k+4]
			p0, p1, q0, q1 := f0[2*k], f0[2*k+1], f1[2*k], f1[2*k+1]
			f00 += p0*xb[0] + p1*xb[2]
			f01 += p0*xb[1] + p1*xb[3]
			f10 += q0*xb[0] + q1*xb[2]
			f11 += q0*xb[1] + q1*xb[3]
			u0, u1, v0, v1 := t0[2*k], t0[2*k+1], t1[2*k], t1[2*k+1]
			b00 += u0*yb[0] + u1*yb[2]
			b01 += u0*yb[1] + u1*yb[3]
			b10 += v0*yb[0] + v1*yb[2]
			b11 += v0*yb[1] + v1*yb[3]
		}
		df[0], df[1], df[2], df[3] = f00, f01, f10, f11
		db[0], db[1], db[2], db[3] = b00, b01, b10, b11
		// gamma = d_{n+1} - sum_k R(n+1-k) x_k, before the Eb'^{-1}.
		gamma := x[(n+1)*2*nrhs : (n+2)*2*nrhs]
		copy(gamma, d[(n+1)*2*nrhs:(n+2)*2*nrhs])
		rowTimes(gamma[:nrhs], f0, x[:2*K*nrhs], -1)
		rowTimes(gamma[nrhs:], f1, x[:2*K*nrhs], -1)

		// alpha = -Eb^{-1} Delta_f, beta = -Ef^{-1} Delta_b, then
		// Ef' = Ef + Delta_b alpha, Eb' = Eb + Delta_f beta.
		al, be := lv.alpha, lv.beta
		for i := range al {
			al[i], be[i] = -df[i], -db[i]
		}
		if !lv.cholSolve(eb, al, 2) || !lv.cholSolve(ef, be, 2) {
			return false
		}
		ef[0] += b00*al[0] + b01*al[2]
		ef[1] += b00*al[1] + b01*al[3]
		ef[2] += b10*al[0] + b11*al[2]
		ef[3] += b10*al[1] + b11*al[3]
		eb[0] += f00*be[0] + f01*be[2]
		eb[1] += f00*be[1] + f01*be[3]
		eb[2] += f10*be[0] + f11*be[2]
		eb[3] += f10*be[1] + f11*be[3]
		symmetrize(ef, 2)
		symmetrize(eb, 2)
		if !lv.cholSolve(eb, gamma, nrhs) {
			return false
		}

		// X'_k = X_k + Y_{k-1} alpha, Y'_k = Y_{k-1} + X_k beta and
		// x_k += Y'_k gamma for k = n+1 down to 0, in place: step k reads
		// X_k and Y_{k-1}, which later steps do not need. X_{n+1} = 0,
		// Y_{-1} = 0, and x_{n+1} = gamma already (Y'_{n+1} = I).
		a00, a01, a10, a11 := al[0], al[1], al[2], al[3]
		c00, c01, c10, c11 := be[0], be[1], be[2], be[3]
		g0, g1 := gamma[:nrhs], gamma[nrhs:]
		for k := K; k >= 0; k-- {
			var x00, x01, x10, x11, y00, y01, y10, y11 float64
			if k < K {
				xb := X[4*k : 4*k+4 : 4*k+4]
				x00, x01, x10, x11 = xb[0], xb[1], xb[2], xb[3]
			}
			if k > 0 {
				yb := Y[4*k-4 : 4*k : 4*k]
				y00, y01, y10, y11 = yb[0], yb[1], yb[2], yb[3]
			}
			xb, yb := X[4*k:4*k+4:4*k+4], Y[4*k:4*k+4:4*k+4]
			xb[0] = x00 + y00*a00 + y01*a10
			xb[1] = x01 + y00*a01 + y01*a11
			xb[2] = x10 + y10*a00 + y11*a10
			xb[3] = x11 + y10*a01 + y11*a11
			n00 := y00 + x00*c00 + x01*c10
			n01 := y01 + x00*c01 + x01*c11
			n10 := y10 + x10*c00 + x11*c10
			n11 := y11 + x10*c01 + x11*c11
			yb[0], yb[1], yb[2], yb[3] = n00, n01, n10, n11
			if k == K {
				continue
			}
			r0 := x[2*k*nrhs : (2*k+1)*nrhs]
			r1 := x[(2*k+1)*nrhs : (2*k+2)*nrhs]
			for c, v := range g0 {
				w := g1[c]
				r0[c] += n00*v + n01*w
				r1[c] += n10*v + n11*w
			}
		}
	}
	return true
}

// solveScalar is solve for m = 1, the classic Levinson recursion: the
// backward predictor is the forward one reversed (Y_k = X_{n-k}) and the
// two error powers are equal, which halves the work. The predictor is kept
// reversed and the solution column by column, so that every product is a
// contiguous dot product or axpy.
func (lv *levinson) solveScalar(x, d []float64, nrhs int) bool {
	L := lv.L
	rr, r := lv.rr, lv.rt // rr[L-1-k] = r[k] = r(k)
	// At order n, B[L-1-n+j] = X_{n-j} for j = 0..n: the predictor
	// reversed, growing towards the front.
	B := lv.fx[:L]
	B[L-1] = 1
	e := r[0]
	if !(e > 0) {
		return false
	}
	if len(lv.cols) < nrhs*L {
		lv.cols = make([]float64, nrhs*L)
	}
	cols := lv.cols[:nrhs*L] // column c of the solution at [c*L, (c+1)*L)
	clear(cols)
	for c := 0; c < nrhs; c++ {
		cols[c*L] = d[c] / e
	}
	for n := 0; n < L-1; n++ {
		lo := L - 1 - n
		// alpha = -sum_k r(n+1-k) X_k / e = -sum_j r(j+1) X_{n-j} / e.
		alpha := -dot(r[1:n+2], B[lo:]) / e
		// X'_k = X_k + alpha X_{n+1-k}, k = 0..n+1, in symmetric pairs;
		// reversed, w[j] = X'_{n+1-j} = w[j] + alpha w[n+1-j] with w[0] =
		// X_{n+1} = 0.
		w := B[lo-1:]
		w[0] = 0
		for j, q := 0, n+1; j <= q; j, q = j+1, q-1 {
			wj, wq := w[j], w[q]
			w[j] = wj + alpha*wq
			if j != q {
				w[q] = wq + alpha*wj
			}
		}
		e *= 1 - alpha*alpha
		if !(e > 0) {
			return false
		}
		// gamma = (d_{n+1} - sum_k r(n+1-k) x_k) / e; x_k += gamma X'_{n+1-k}.
		win := rr[L-2-n : L-1] // r(n+1-k) for k = 0..n
		for c := 0; c < nrhs; c++ {
			col := cols[c*L : c*L+n+2]
			g := (d[(n+1)*nrhs+c] - dot(win, col[:n+1])) / e
			native.Daxpy(n+2, g, w, 1, col, 1)
		}
	}
	for c := 0; c < nrhs; c++ {
		for k, v := range cols[c*L : (c+1)*L] {
			x[k*nrhs+c] = v
		}
	}
	return true
}

// rowTimes adds sign r^T A to dst (sign is 1 or -1) for the
// len(r) x len(dst) row-major matrix A: one sequential pass over A.
func rowTimes(dst, r, a []float64, sign float64) {
	w := len(dst)
	if w == 2 {
		var s0, s1 float64
		for q, v := range r {
			s0 += v * a[2*q]
			s1 += v * a[2*q+1]
		}
		dst[0] += sign * s0
		dst[1] += sign * s1
		return
	}
	for q, v := range r {
		axpy(dst, sign*v, a[q*w:(q+1)*w])
	}
}

// axpy sets y += alpha x (len(x) = len(y)).
func axpy(y []float64, alpha float64, x []float64) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// symmetrize replaces the m x m matrix a by (a + a^T)/2: the error
// covariances are symmetric in exact arithmetic.
func symmetrize(a []float64, m int) {
	for i := 0; i < m; i++ {
		for j := i + 1; j < m; j++ {
			v := (a[i*m+j] + a[j*m+i]) / 2
			a[i*m+j], a[j*m+i] = v, v
		}
	}
}

// cholSolve overwrites the m x n matrix b with e^{-1} b for the symmetric
// m x m matrix e, by Cholesky; false if e is not positive definite.
func (lv *levinson) cholSolve(e, b []float64, n int) bool {
	m := lv.m
	l := lv.chol
	for j := 0; j < m; j++ {
		s := e[j*m+j]
		for k := 0; k < j; k++ {
			s -= l[j*m+k] * l[j*m+k]
		}
		if !(s > 0) || math.IsInf(s, 0) {
			return false
		}
		l[j*m+j] = math.Sqrt(s)
		for i := j + 1; i < m; i++ {
			s := e[i*m+j]
			for k := 0; k < j; k++ {
				s -= l[i*m+k] * l[j*m+k]
			}
			l[i*m+j] = s / l[j*m+j]
		}
	}
	for c := 0; c < n; c++ {
		for i := 0; i < m; i++ { // forward: L y = b
			s := b[i*n+c]
			for k := 0; k < i; k++ {
				s -= l[i*m+k] * b[k*n+c]
			}
			b[i*n+c] = s / l[i*m+i]
		}
		for i := m - 1; i >= 0; i-- { // backward: L^T x = y
			s := b[i*n+c]
			for k := i + 1; k < m; k++ {
				s -= l[k*m+i] * b[k*n+c]
			}
			b[i*n+c] = s / l[i*m+i]
		}
	}
	return true
}

// toeplitzFactor solves with a block Toeplitz Gram matrix by the Levinson
// recursion, refined once against the explicit matrix (one step of
// iterative refinement restores the accuracy of a backward-stable solver
// on ill-conditioned references), and falls back to the dense
// factorisation when the recursion breaks down (singular or indefinite
// matrices: dependent references).
type toeplitzFactor struct {
	lv     *levinson
	g      *blockToeplitz // the same matrix, source-major
	dense  factor         // built on first breakdown
	x, res blas64.General // scratch, source-major, grown on demand
	dm, xm []float64      // delay-major scratch
	// unrefined: the last solve returned x with res = b - G x, so G x is
	// b - res (see product); false after a refinement or a fallback.
	unrefined bool
}

// product sets gx = G x for the x that the last solve returned in b0's
// place, from that solve's residual when it was not refined, and reports
// whether it could: the check of the solution already formed G x.
func (f *toeplitzFactor) product(gx, b0 blas64.General) bool {
	if !f.unrefined || gx.Cols != f.res.Cols {
		return false
	}
	n := gx.Cols
	for i := 0; i < gx.Rows; i++ {
		g, b, r := gx.Data[i*gx.Stride:i*gx.Stride+n], b0.Data[i*b0.Stride:i*b0.Stride+n], f.res.Data[i*n:(i+1)*n]
		for c := range g {
			g[c] = b[c] - r[c]
		}
	}
	return true
}

func (f *toeplitzFactor) solve(b blas64.General) {
	f.unrefined = false
	if f.dense != nil {
		f.dense.solve(b)
		return
	}
	n := b.Cols
	if f.x.Cols != n {
		f.x = blas64.General{Rows: b.Rows, Cols: n, Stride: n, Data: make([]float64, b.Rows*n)}
		f.res = blas64.General{Rows: b.Rows, Cols: n, Stride: n, Data: make([]float64, b.Rows*n)}
		f.dm, f.xm = make([]float64, b.Rows*n), make([]float64, b.Rows*n)
	}
	// x = T^{-1} b, then x += T^{-1}(b - G x).
	if !f.levinsonSolve(f.x, b) {
		f.fallback(b)
		return
	}
	for i := 0; i < b.Rows; i++ {
		copy(f.res.Data[i*n:(i+1)*n], b.Data[i*b.Stride:i*b.Stride+n])
	}
	f.g.mul(-1, f.x, 1, f.res)
	// Refine only when the residual shows the recursion lost accuracy
	// (strongly ill-conditioned references); checking costs one product.
	if frob(f.res.Data) <= refineAbove*frob(b.Data[:b.Rows*b.Stride]) {
		for i := 0; i < b.Rows; i++ {
			copy(b.Data[i*b.Stride:i*b.Stride+n], f.x.Data[i*n:(i+1)*n])
		}
		f.unrefined = true
		return
	}
	if !f.levinsonSolve(f.res, f.res) {
		f.fallback(b)
		return
	}
	for i := 0; i < b.Rows; i++ {
		row := b.Data[i*b.Stride : i*b.Stride+n]
		for c := range row {
			row[c] = f.x.Data[i*n+c] + f.res.Data[i*n+c]
		}
	}
}

// refineAbove is the relative residual |b - G x| / |b| above which a
// Levinson solution gets a step of iterative refinement.
const refineAbove = 1e-12

func frob(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += v * v
	}
	return math.Sqrt(s)
}

func (f *toeplitzFactor) fallback(b blas64.General) {
	n := f.g.dim()
	f.dense = factorize(f.g.dense(), n, n)
	f.dense.solve(b)
}

// levinsonSolve sets dst = T^{-1} b (both source-major; they may alias),
// reordering to and from the delay-major order of the recursion.
func (f *toeplitzFactor) levinsonSolve(dst, b blas64.General) bool {
	m, L, n := f.lv.m, f.lv.L, b.Cols
	for i := 0; i < m; i++ {
		for a := 0; a < L; a++ {
			copy(f.dm[(a*m+i)*n:(a*m+i+1)*n], b.Data[(i*L+a)*b.Stride:(i*L+a)*b.Stride+n])
		}
	}
	if !f.lv.solve(f.xm, f.dm, n) {
		return false
	}
	for i := 0; i < m; i++ {
		for a := 0; a < L; a++ {
			copy(dst.Data[(i*L+a)*dst.Stride:(i*L+a)*dst.Stride+n], f.xm[(a*m+i)*n:(a*m+i+1)*n])
		}
	}
	return true
}
