package nmf

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Semi-supervised NMF: a basis of which some columns are known and fixed
// while the others are learned on the data itself, with all activations
// (Smaragdis, Raj and Shashanka 2007; Mysore and Smaragdis 2011); and group
// sparsity on the activations (Sun and Mysore 2013), so that a few groups
// of a large fixed basis explain the data.

// GroupSparsity penalises groups of consecutive rows of H: the cost gains
// Lambda * sum_g log(1 + ||H_g||_1 / Epsilon) (log(Epsilon + ||H_g||_1) up to
// a constant, kept non-negative so that the relative tolerance of
// Settings.Tol still works), which favours few active groups
// (Lefevre, Bach and Fevotte 2011; Sun and Mysore 2013). The log is
// concave, so each iteration majorises it by its tangent at the current H: a
// weighted L1 penalty Lambda / (Epsilon + ||H_g||_1) on the rows of group g,
// which the multiplicative update of H handles like Settings.L1; the
// penalised cost never rises.
type GroupSparsity struct {
	Start   int     // first row of H in the groups
	Sizes   []int   // rows of each group, consecutive from Start
	Lambda  float64 // weight of the penalty; 0: no penalty
	Epsilon float64 // inside the logarithm; 0: Settings.Epsilon
}

func (g GroupSparsity) check() error {
	if !(g.Lambda >= 0) || math.IsInf(g.Lambda, 0) || !(g.Epsilon >= 0) || math.IsInf(g.Epsilon, 0) || g.Start < 0 {
		return fmt.Errorf("nmf: group sparsity needs finite non-negative Lambda, Epsilon and Start")
	}
	for _, k := range g.Sizes {
		if k < 1 {
			return fmt.Errorf("nmf: group of %d rows", k)
		}
	}
	return nil
}

// semi is the solver's state for a partly fixed basis and group sparsity.
type semi[T Float] struct {
	fixed               int      // leading columns of W1 kept fixed (Freeze.Cols)
	wfree, nfree, dfree Dense[T] // views of the free columns of W1, its numerator and denominator
	hfree               Dense[T] // the rows of H of the free columns (KL)
	rowAdd              []T      // group weights and FreeL1 added to the denominators of H's rows; nil: none
	grouped             bool     // the group penalty is on
	groupEnd            int      // Start + sum(Sizes)
	groupEps            float64
	joint               bool      // KL: the free columns and H updated together (iterateJoint)
	fixedSum, freeSum   []T       // column sums of the fixed and the free columns (KL)
	freeAcc             []float64 // updateFree's column sums
}

// init checks the freeze and the group sparsity against the model and
// prepares their views.
func (m *semi[T]) init(s *solver[T], freeze Freeze) error {
	if freeze.Cols < 0 {
		return fmt.Errorf("nmf: %d fixed columns", freeze.Cols)
	}
	if freeze.Cols > 0 {
		W := s.F[0]
		if s.L != 1 || freeze.Layers || freeze.Cols > W.Cols {
			return fmt.Errorf("nmf: %d fixed columns need one free layer of at least as many columns", freeze.Cols)
		}
		m.fixed = freeze.Cols
		free := func(v *Dense[T], d *Dense[T]) {
			*v = Dense[T]{Rows: d.Rows, Cols: d.Cols - m.fixed, Stride: d.Stride, Data: d.Data[m.fixed:]}
		}
		free(&m.wfree, W)
		free(&m.nfree, s.num[0])
		if !s.kl { // KL's denominators are sums
			free(&m.dfree, s.den[0])
		}
		if s.kl {
			// The KL pass forms G = R H^T for the free rows of H only
			// (compact, as its per-block parts), the numerator of the
			// free columns.
			H := s.F[1]
			m.hfree = Dense[T]{Rows: H.Rows - m.fixed, Cols: H.Cols, Stride: H.Stride, Data: H.Data[m.fixed*H.Stride:]}
			s.G = NewDense[T](s.X.Rows, W.Cols-m.fixed, nil)
			m.nfree = *s.G
			m.fixedSum = make([]T, m.fixed)
			colSums(m.fixedSum, &Dense[T]{Rows: W.Rows, Cols: m.fixed, Stride: W.Stride, Data: W.Data}, s.acc)
			m.joint = !freeze.H
			if m.joint {
				m.freeSum = make([]T, W.Cols-m.fixed)
				colSums(m.freeSum, &m.wfree, s.acc)
				m.freeAcc = make([]float64, 2*len(m.freeSum))
			}
		}
	}
	rows := s.F[s.L].Rows
	freeL1 := s.r.FreeL1 > 0 && m.fixed > 0
	if freeL1 {
		m.rowAdd = make([]T, rows)
		for i := m.fixed; i < rows; i++ {
			m.rowAdd[i] = T(s.r.FreeL1) // constant: groupWeights leaves these rows
		}
	}
	g := s.r.Groups
	if g.Lambda == 0 || len(g.Sizes) == 0 {
		return nil
	}
	end := g.Start
	for _, k := range g.Sizes {
		end += k
	}
	if end > rows {
		return fmt.Errorf("nmf: groups reach row %d of H, which has %d", end, rows)
	}
	if freeL1 && end > m.fixed {
		return fmt.Errorf("nmf: groups reach the free rows of H, which FreeL1 penalises")
	}
	m.grouped = true
	m.groupEnd = end
	m.groupEps = g.Epsilon
	if m.groupEps == 0 {
		m.groupEps = s.r.Epsilon
	}
	if m.rowAdd == nil {
		m.rowAdd = make([]T, rows)
	}
	return nil
}

// freePenalty returns FreeL1 * sum(H_free), or 0.
func (s *solver[T]) freePenalty() float64 {
	if s.fixed == 0 || s.r.FreeL1 == 0 {
		return 0
	}
	H := s.F[s.L]
	var sum float64
	for i := s.fixed; i < H.Rows; i++ {
		for _, v := range H.row(i) {
			sum += float64(v)
		}
	}
	return s.r.FreeL1 * sum
}

// iterateJoint is one KL iteration of a partly fixed basis (KL only; the
// other divergences alternate as usual): the free columns of W and all of
// H are updated together from one ratio R = X / max(W H, eps), W_free *=
// (R H_free^T) / (1 sum_n H_free) and H *= (W^T R) / (W^T 1 + L1 +
// group weights), both from the factors the iteration started with. One
// pass over the mixture does both (in the one-pass kernel where the
// machine has it, klHNum32), where the alternating updates need two, each
// forming the reconstruction: half the work per iteration for 20 free
// bases beside a 40-column model. Like the alternating updates it keeps
// the factors non-negative and the fixed columns untouched, and it
// converges in practice (the tests follow its cost), but the descent of
// the cost at every iteration that majorisation proves for alternating
// updates is not proven for the joint one.
func (s *solver[T]) iterateJoint() {
	H := s.F[s.L]
	s.groupWeights()
	// W's denominators: the row sums of H's free rows before the update.
	nf := H.Rows - s.fixed
	s.pass.rows = &s.hfree
	s.pool.parallel(nf, 8, s.rowSumsFn)
	copy(s.hsum[s.fixed:], s.rsum[:nf])
	s.blockSums()
	if s.fused {
		s.prepareFused() // H's denominators and the basis packed
		clear(s.G.Data)  // the kernel adds to block 0's part too
	} else {
		s.klSums(s.L) // H's denominators
	}
	s.pass = pass[T]{l: s.L, left: s.P[s.L], right: H, mode: blockJoint}
	s.runBlocks()
	if len(s.blockG) > 1 {
		s.pool.parallel(s.G.Rows, 8, s.sumGFn)
	}
	if !s.fused {
		s.pool.parallel(H.Rows, 4, s.multiplyKLFn)
	}
	s.updateFree()
}

// updateFree applies the update of the free columns, W_free *= G / max(sum_n
// H_free, eps) (hsum holds the row sums), then scales them to unit sum (unit
// Euclidean norm with Settings.UnitNorm) as normalise does, carrying the scale into H's free rows, and keeps the
// columns' new sums in freeSum for the next iteration's denominators of H:
// the update, the normalisation and the sums in two passes over W_free.
func (s *solver[T]) updateFree() {
	W, G := &s.wfree, &s.nfree
	nf := W.Cols
	rd, sum, acc := s.rsum[:nf], s.lsum[:nf], s.freeAcc
	clear(acc)
	for f, h := range s.hsum[s.fixed:] {
		rd[f] = 1 / max(h, s.eps)
	}
	unit := s.r.UnitNorm
	for i := 0; i < W.Rows; i++ {
		w := W.row(i)
		g := G.row(i)[:len(w)]
		for f := range w {
			w[f] *= g[f] * rd[f]
			if unit {
				acc[f] += float64(w[f]) * float64(w[f])
			} else {
				acc[f] += float64(w[f])
			}
		}
	}
	for f, a := range acc[:nf] {
		if unit {
			a = math.Sqrt(a)
		}
		sum[f] = T(a)
		rd[f] = 1
		if sum[f] > 0 {
			rd[f] = 1 / sum[f]
		}
	}
	for i := 0; i < W.Rows; i++ {
		w := W.row(i)
		for f := range w {
			w[f] *= rd[f]
			acc[nf+f] += float64(w[f])
		}
	}
	for f := range s.freeSum {
		s.freeSum[f] = T(acc[nf+f])
		if sum[f] > 0 {
			r := s.hfree.row(f)
			for n := range r {
				r[n] *= sum[f]
			}
		}
	}
}

// groupWeights sets rowAdd to the tangent of the group penalty at the
// current H: Lambda / (Epsilon + ||H_g||_1) on every row of group g.
func (s *solver[T]) groupWeights() {
	if !s.grouped {
		return
	}
	g := s.r.Groups
	H := s.F[s.L]
	row := g.Start
	for _, k := range g.Sizes {
		var n float64
		for i := row; i < row+k; i++ {
			for _, v := range H.row(i) {
				n += float64(v)
			}
		}
		w := T(g.Lambda / (s.groupEps + n))
		for i := row; i < row+k; i++ {
			s.rowAdd[i] = w
		}
		row += k
	}
}

// groupPenalty returns Lambda * sum_g log(1 + ||H_g||_1 / Epsilon), or 0.
func (s *solver[T]) groupPenalty() float64 {
	if !s.grouped {
		return 0
	}
	g := s.r.Groups
	H := s.F[s.L]
	var sum float64
	row := g.Start
	for _, k := range g.Sizes {
		var n float64
		for i := row; i < row+k; i++ {
			for _, v := range H.row(i) {
				n += float64(v)
			}
		}
		sum += math.Log1p(n / s.groupEps)
		row += k
	}
	return g.Lambda * sum
}

// InferFree learns, for X, the activations of the fixed basis together with
// free more bases and their activations: X ≈ [basis W] H, with multiplicative
// updates of W (M x free) and of all of H, the basis untouched. It returns
// the factorization, whose single layer is [basis W] (a copy of basis and
// the learned W side by side) and whose H has basis.Cols + free rows,
// reporting stage "infer". The free columns start as seeded random
// columns of unit sum and are kept at unit sum, so the model's columns (of
// unit sum when trained here) and the free ones share a scale; H starts as
// in Infer. free = 0 is Infer.
func InferFree[T Float](X, basis *Dense[T], free int, s Settings) (*Factorization[T], Result, error) {
	r, err := s.resolve()
	if err != nil {
		return nil, Result{}, err
	}
	if err := checkData("X", X); err != nil {
		return nil, Result{}, err
	}
	if basis == nil || basis.Rows != X.Rows || basis.Cols < 1 {
		return nil, Result{}, fmt.Errorf("nmf: basis does not match X (%d rows)", X.Rows)
	}
	if err := checkData("basis", basis); err != nil {
		return nil, Result{}, err
	}
	if free < 0 {
		return nil, Result{}, fmt.Errorf("nmf: %d free bases: want 0 or more", free)
	}
	K := basis.Cols
	f := freeStart(X, basis, free, s.Seed)
	if s.FreeStart == FreeQuiet {
		quietStart(f.Layers[0], X, K)
	}
	freeze := Freeze{Cols: K}
	if free == 0 {
		freeze = Freeze{Layers: true}
	}
	res, err := update(X, f, freeze, r, StageInfer, 0)
	if err != nil {
		return nil, res, err
	}
	return f, res, nil
}

// quietStart sets columns from K on of W to the averages of X's quietest
// frames (FreeQuiet), each plus a floor of 1e-3 of X's mean, at unit sum.
func quietStart[T Float](W, X *Dense[T], K int) {
	free := W.Cols - K
	N := X.Cols
	sums := make([]float64, N)
	var total float64
	for i := 0; i < X.Rows; i++ {
		for j, v := range X.row(i) {
			sums[j] += float64(v)
			total += float64(v)
		}
	}
	order := make([]int, N)
	for j := range order {
		order[j] = j
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sums[a], sums[b]) })
	n := min(N, max(free, N/10))
	floor := 1e-3 * total / float64(X.Rows*N)
	col := make([]float64, X.Rows)
	for k := 0; k < free; k++ {
		clear(col)
		frames := order[k*n/free : (k+1)*n/free]
		for _, j := range frames {
			for i := range col {
				col[i] += float64(X.At(i, j))
			}
		}
		var sum float64
		for i := range col {
			col[i] = col[i]/float64(len(frames)) + floor
			sum += col[i]
		}
		if !(sum > 0) {
			sum, col[0] = 1, 1 // X is all zeros: any column will do
		}
		for i, v := range col {
			W.Set(i, K+k, T(v/sum))
		}
	}
}

// freeStart returns InferFree's start: FreeBasis, and H as Infer starts it.
func freeStart[T Float](X, basis *Dense[T], free int, seed uint64) *Factorization[T] {
	W := FreeBasis(basis, free, seed)
	H := startH(NewDense[T](W.Cols, X.Cols, nil), X, W, seed)
	return &Factorization[T]{Layers: []*Dense[T]{W}, H: H}
}

// FreeBasis returns [basis W], a copy of basis and free more columns
// beside it, seeded random of unit sum: the start of InferFree's free
// bases (and of online learners that update them with Update and
// Freeze.Cols).
func FreeBasis[T Float](basis *Dense[T], free int, seed uint64) *Dense[T] {
	K, M := basis.Cols, basis.Rows
	W := NewDense[T](M, K+free, nil)
	for i := 0; i < M; i++ {
		copy(W.row(i)[:K], basis.row(i))
	}
	rng := rand.New(rand.NewPCG(seed, 0x66726565)) // "free"
	for k := K; k < K+free; k++ {
		var sum float64
		for i := 0; i < M; i++ {
			v := 0.5 + rng.Float64()
			W.Set(i, k, T(v))
			sum += v
		}
		for i := 0; i < M; i++ {
			W.Set(i, k, W.At(i, k)/T(sum))
		}
	}
	return W
}
