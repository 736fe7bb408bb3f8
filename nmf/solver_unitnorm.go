package nmf

import "math"

// The update of W1 with unit-norm columns (Settings.UnitNorm; Le Roux,
// Weninger and Hershey 2015, "Sparse NMF: half-baked or well done?",
// section 4). The cost is D(X | W̄ B) + L1 sum(H) with W̄ the W1 of unit
// columns and B = W2...WL H; its gradient through the normalisation w_k /
// |w_k| splits into the positive and negative parts
//
//	W̄ <- W̄ * ((N + W̄ diag(1^T (D * W̄))) / (D + W̄ diag(1^T (N * W̄))))^gamma
//
// with N and D the numerator and denominator of the plain update (for KL,
// N = (X/V) B^T and D = 1 B^T), after which the columns are scaled back to
// unit norm. The scale is not carried into the next factor: the cost uses
// W̄, so only the direction of a column matters.

// initUnitNorm scales the columns of W1 to unit norm and carries the scale
// into the rows of the next factor, so that the starting model is
// unchanged, unless that factor is a frozen H (which stays as given).
func (s *solver[T]) initUnitNorm() {
	W := s.F[0]
	norms := s.lsum[:W.Cols]
	s.unitColumns(W, norms)
	if s.L == 1 && s.freeze.H {
		return
	}
	s.pass.rows = s.F[1]
	s.pool.parallel(s.F[1].Rows, 8, s.scaleRowsFn)
}

// unitColumns scales the columns of W to unit Euclidean norm (zero columns
// stay) and leaves the norms in norms.
func (s *solver[T]) unitColumns(W *Dense[T], norms []T) {
	colNorms(norms, W, s.acc)
	for i := 0; i < W.Rows; i++ {
		w := W.row(i)
		for k := range w {
			if norms[k] > 0 {
				w[k] /= norms[k]
			}
		}
	}
}

// updateUnitW1 applies the update above to W1, whose numerator is in
// num[0] and whose denominator is den[0] (general path) or rsum (KL, the
// row sums of B).
func (s *solver[T]) updateUnitW1() {
	W, num := s.F[0], s.num[0]
	K := W.Cols
	dw, nw := s.unitAcc[:K], s.unitAcc[K:2*K] // 1^T (D * W̄), 1^T (N * W̄)
	clear(dw)
	clear(nw)
	for i := 0; i < W.Rows; i++ {
		w, n := W.row(i), num.row(i)
		for k, v := range w {
			dw[k] += float64(s.denW1(i, k)) * float64(v)
			nw[k] += float64(n[k]) * float64(v)
		}
	}
	eps, gamma := s.eps, s.r.gamma
	for i := 0; i < W.Rows; i++ {
		w, n := W.row(i), num.row(i)
		for k, v := range w {
			up := n[k] + v*T(dw[k])
			down := s.denW1(i, k) + v*T(nw[k])
			ratio := up / max(down, eps)
			if gamma != 1 {
				ratio = T(math.Pow(float64(ratio), gamma))
			}
			w[k] = v * ratio
		}
	}
	s.unitColumns(W, s.lsum[:K])
}

// denW1 is element (i, k) of the denominator of W1's plain update.
func (s *solver[T]) denW1(i, k int) T {
	if s.kl {
		return s.rsum[k] // lsum is 1 for the first layer
	}
	d := s.den[0]
	return d.Data[i*d.Stride+k]
}

// colNorms sets dst to the Euclidean norms of m's columns, accumulated in
// acc.
func colNorms[T Float](dst []T, m *Dense[T], acc []float64) {
	acc = acc[:len(dst)]
	clear(acc)
	for i := 0; i < m.Rows; i++ {
		for j, v := range m.row(i) {
			acc[j] += float64(v) * float64(v)
		}
	}
	for j := range dst {
		dst[j] = T(math.Sqrt(acc[j]))
	}
}
