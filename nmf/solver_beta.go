package nmf

import "math"

// The general beta-divergence path (every beta but 1): each update forms the
// whole M x N reconstruction V (multithreaded BLAS), replaces it by X
// V^(beta-2) and V^(beta-1) in Go loops, and sandwiches both between A^T
// and B^T.

// betaPath is the workspace of the general path.
type betaPath[T Float] struct {
	// S[l] = F[l+1] ... F[L] (K_{l+1} x N) for l < L; S[L-1] aliases H.
	S []*Dense[T]
	// V holds the reconstruction, then X V^(beta-2); Q holds V^(beta-1).
	V, Q *Dense[T]
	// PF[l] = P[l] F[l] (M x K_{l+1}) for 0 < l < L: the reconstruction
	// before the update of F[l] is PF[l] S[l], the small product first.
	PF []*Dense[T]
	// mid[l], midQ[l]: the intermediates of the numerator and denominator
	// of a middle layer, A^T G (K_l x N) when midLeft[l], else G B^T.
	mid, midQ []*Dense[T]
	midLeft   []bool
	den       []*Dense[T] // den[l] is the denominator of the update of F[l]
	// Passes over row ranges, bound once.
	powersFn, multiplyBetaFn, costBetaFn func(lo, hi, part int)
}

// newBetaPath allocates the general path's workspace.
func (s *solver[T]) newBetaPath() {
	L, F := s.L, s.F
	M, N := s.X.Rows, s.X.Cols
	s.S = make([]*Dense[T], L)
	s.S[L-1] = F[L]
	for l := L - 2; l >= 0; l-- {
		s.S[l] = NewDense[T](F[l+1].Rows, N, nil)
	}
	s.V = NewDense[T](M, N, nil)
	s.Q = NewDense[T](M, N, nil)
	s.rowCost = make([]float64, M)
	s.PF = make([]*Dense[T], L)
	s.mid = make([]*Dense[T], L+1) // nil for l = 0 and L (no intermediate)
	s.midQ = make([]*Dense[T], L+1)
	s.midLeft = make([]bool, L+1)
	for l := 1; l < L; l++ {
		s.PF[l] = NewDense[T](M, F[l].Cols, nil)
		if F[l].Rows <= F[l].Cols {
			s.midLeft[l] = true
			s.mid[l] = NewDense[T](F[l].Rows, N, nil)
		} else {
			s.mid[l] = NewDense[T](M, F[l].Cols, nil)
		}
		s.midQ[l] = NewDense[T](s.mid[l].Rows, s.mid[l].Cols, nil)
	}
	s.den = make([]*Dense[T], L+1)
	for l := range s.den {
		s.den[l] = NewDense[T](F[l].Rows, F[l].Cols, nil)
	}
	s.powersFn, s.multiplyBetaFn, s.costBetaFn = s.powerRows, s.multiplyBetaRows, s.costBetaRows
}

// suffix recomputes S[l] = F[l+1] S[l+1] for the layers' updates of one
// iteration (only factors after l enter S[l], and they are updated after
// F[l]).
func (s *solver[T]) suffix() {
	for l := s.L - 2; l >= 0; l-- {
		gemm(false, false, 1, s.F[l+1], s.S[l+1], 0, s.S[l])
	}
}

// updateFactorBeta is updateFactor for the general path, with A = P[l] and
// B = S[l].
func (s *solver[T]) updateFactorBeta(l int) {
	L := s.L
	// Reconstruction, small product first.
	switch {
	case l == L:
		gemm(false, false, 1, s.P[L], s.F[L], 0, s.V)
	case l == 0:
		gemm(false, false, 1, s.F[0], s.S[0], 0, s.V)
	default:
		gemm(false, false, 1, s.P[l], s.F[l], 0, s.PF[l])
		gemm(false, false, 1, s.PF[l], s.S[l], 0, s.V)
	}
	s.pool.parallel(s.X.Rows, 16, s.powersFn)
	s.sandwich(l, s.V, s.num[l], s.mid[l])
	s.sandwich(l, s.Q, s.den[l], s.midQ[l])
	if l == 0 && s.unitW1() {
		s.updateUnitW1()
		return
	}
	s.pass.l = l
	s.pool.parallel(s.F[l].Rows, 4, s.multiplyBetaFn)
}

// sandwich sets dst = A^T G B^T for factor l, the cheaper order first.
func (s *solver[T]) sandwich(l int, G, dst, mid *Dense[T]) {
	L := s.L
	switch {
	case l == L:
		gemm(true, false, 1, s.P[L], G, 0, dst)
	case l == 0:
		gemm(false, true, 1, G, s.S[0], 0, dst)
	case s.midLeft[l]: // mid = A^T G (K_l x N)
		gemm(true, false, 1, s.P[l], G, 0, mid)
		gemm(false, true, 1, mid, s.S[l], 0, dst)
	default: // mid = G B^T (M x K_{l+1})
		gemm(false, true, 1, G, s.S[l], 0, mid)
		gemm(true, false, 1, s.P[l], mid, 0, dst)
	}
}

// powerRows replaces rows [lo, hi) of V by X V^(beta-2) and sets Q =
// V^(beta-1), with V floored at epsilon for beta < 2 (negative powers of
// zero).
func (s *solver[T]) powerRows(lo, hi, _ int) {
	X, V, eps, beta := s.X, s.V, s.eps, s.r.beta
	for i := lo; i < hi; i++ {
		x, v := X.row(i), V.row(i)
		v = v[:len(x)]
		q := s.Q.row(i)[:len(x)]
		switch beta {
		case 2:
			for j, xj := range x {
				q[j] = v[j]
				v[j] = xj
			}
		case 0:
			for j, xj := range x {
				inv := 1 / max(v[j], eps)
				q[j] = inv
				v[j] = xj * inv * inv
			}
		default:
			for j, xj := range x {
				vj := float64(v[j])
				if beta < 2 {
					vj = max(vj, float64(eps))
				}
				p := math.Pow(vj, beta-2)
				q[j] = T(p * vj)
				v[j] = xj * T(p)
			}
		}
	}
}

// multiplyBetaRows sets rows [lo, hi) of factor pass.l to
// F (num / max(den + l1 + rowAdd, eps))^gamma, only the free columns of a
// partly fixed basis (semi.go).
func (s *solver[T]) multiplyBetaRows(lo, hi, _ int) {
	l := s.pass.l
	F, num, den, l1 := s.F[l], s.num[l], s.den[l], s.l1(l)
	if l == 0 && s.fixed > 0 {
		F, num, den = &s.wfree, &s.nfree, &s.dfree
	}
	rowAdd := s.rowAdd
	if l != s.L {
		rowAdd = nil
	}
	eps, gamma := s.eps, s.r.gamma
	for i := lo; i < hi; i++ {
		f, n, d := F.row(i), num.row(i), den.row(i)
		add := l1
		if rowAdd != nil {
			add += rowAdd[i]
		}
		for j := range f {
			ratio := n[j] / max(d[j]+add, eps)
			if gamma != 1 {
				ratio = T(math.Pow(float64(ratio), gamma))
			}
			f[j] *= ratio
		}
	}
}

// costBeta returns D(X | P[L] H), using V as workspace. The rows' costs
// are added in row order, whichever worker computed them.
func (s *solver[T]) costBeta() float64 {
	gemm(false, false, 1, s.P[s.L], s.F[s.L], 0, s.V)
	s.pool.parallel(s.X.Rows, 16, s.costBetaFn)
	var sum float64
	for _, c := range s.rowCost {
		sum += c
	}
	return sum
}

func (s *solver[T]) costBetaRows(lo, hi, _ int) {
	for i := lo; i < hi; i++ {
		s.rowCost[i] = costRow(s.X.row(i), s.V.row(i), s.r.beta, s.r.Epsilon)
	}
}
