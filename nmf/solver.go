package nmf

import (
	"fmt"
	"runtime"
)

// solver runs multiplicative updates on the model X ≈ F[0] F[1] ... F[L],
// where F[0..L-1] are the layers W1..WL and F[L] is H. It owns every
// workspace, so an iteration allocates nothing.
//
// This file is the core: construction, the iteration, the normalisation, the
// cost and the run loop. A factor's update takes one of two paths, chosen
// once per solver: the general beta-divergence path (solver_beta.go), with
// whole-matrix products, or the Kullback-Leibler path (solver_kl.go), in
// fused passes over column blocks, whose H update may run in the one-pass
// kernel (solver_fused.go).
type solver[T Float] struct {
	X      *Dense[T]
	F      []*Dense[T]
	L      int
	freeze Freeze
	r      resolved
	eps    T
	kl     bool

	// P[l] = F[0] ... F[l-1] (M x K_l) for 1 <= l <= L; P[1] aliases W1.
	P []*Dense[T]
	// num[l] is the numerator of the update of F[l].
	num []*Dense[T]
	// lsum and rsum: the KL denominator of the current update is the outer
	// product lsum rsum (klSums); normalise keeps column sums in lsum.
	lsum, rsum []T
	acc        []float64 // column-sum accumulator
	rowCost    []float64 // general-beta cost per row, summed in row order
	pool       *pool
	unitAcc    []float64 // column sums of the UnitNorm update of W1
	// Passes over row ranges, bound once so that a pass allocates nothing;
	// what they work on is in pass.
	rowSumsFn, scaleRowsFn func(lo, hi, part int)
	pass                   pass[T]

	betaPath[T] // workspace of the general path (nil slices for KL)
	klPath[T]   // workspace of the KL path (nil slices otherwise)
	semi[T]     // partly fixed basis and group sparsity (semi.go)
}

// pass is what the current pass over rows or column blocks works on: the
// bound pass functions take a row range only, so the caller sets pass
// before starting them.
type pass[T Float] struct {
	l    int       // factor being updated (L: H)
	rows *Dense[T] // operand of rowSumsFn and scaleRowsFn
	// KL block passes: the reconstruction is left right, and mode says what
	// each block does with it.
	left, right *Dense[T]
	mode        blockMode
}

func newSolver[T Float](X *Dense[T], f *Factorization[T], freeze Freeze, r resolved) (*solver[T], error) {
	if f == nil || f.H == nil || len(f.Layers) == 0 {
		return nil, fmt.Errorf("nmf: factorization has no layers or no H")
	}
	L := len(f.Layers)
	F := append(append(make([]*Dense[T], 0, L+1), f.Layers...), f.H)
	rows := X.Rows
	for i, m := range F {
		if m == nil || m.Rows != rows || m.Rows == 0 || m.Cols == 0 {
			return nil, fmt.Errorf("nmf: factor %d does not chain: want %d rows", i, rows)
		}
		rows = m.Cols
	}
	if f.H.Cols != X.Cols {
		return nil, fmt.Errorf("nmf: H has %d columns, X has %d", f.H.Cols, X.Cols)
	}
	if r.StepExponent != 1 && !(freeze.Layers && r.beta == 1) {
		return nil, fmt.Errorf("nmf: a step exponent of %v needs fixed bases and the KL divergence (inference); training and free bases take 1", r.StepExponent)
	}
	s := &solver[T]{X: X, F: F, L: L, freeze: freeze, r: r, eps: T(r.Epsilon), kl: r.beta == 1}
	M, N := X.Rows, X.Cols
	s.P = make([]*Dense[T], L+1)
	s.P[1] = F[0]
	for l := 2; l <= L; l++ {
		s.P[l] = NewDense[T](M, F[l].Rows, nil)
	}
	s.num = make([]*Dense[T], L+1)
	maxK := M
	for l := 0; l <= L; l++ {
		s.num[l] = NewDense[T](F[l].Rows, F[l].Cols, nil)
		maxK = max(maxK, F[l].Cols)
	}
	s.lsum = make([]T, max(maxK, M))
	s.rsum = make([]T, max(maxK, N))
	s.acc = make([]float64, maxK)
	s.pool = newPool(r.Workers)
	s.rowSumsFn, s.scaleRowsFn = s.rowSumRows, s.scaleRows
	if r.UnitNorm && !freeze.Layers && freeze.Cols == 0 {
		s.unitAcc = make([]float64, 2*F[0].Cols)
		s.initUnitNorm()
	}
	// Every solver keeps BLAS on one thread: the KL path runs its own
	// goroutines over column blocks, and the thread count changes how
	// OpenBLAS splits a product's inner dimension, so the roundings; with
	// one thread and worker-independent blocks and sums the same seed gives
	// the same bits on any number of workers.
	s.blasSingle = true
	blasThreads.acquire()
	s.prefix(2)
	if s.kl {
		s.newKLPath()
	} else {
		s.newBetaPath()
	}
	if err := s.semi.init(s, freeze); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// close ends the solver's goroutines and gives back its hold on
// single-threaded BLAS.
func (s *solver[T]) close() {
	s.pool.stop()
	if s.blasSingle {
		s.blasSingle = false
		blasThreads.release()
	}
}

// resume readies a closed solver for another run on X and H of the sizes
// it was built for (Inferer): the factors' workspace and everything computed
// from the layers stay, which is right while the layers are frozen and
// unchanged.
func (s *solver[T]) resume(X, H *Dense[T]) {
	s.X, s.F[s.L] = X, H
	s.pool = newPool(s.r.Workers)
	s.blasSingle = true
	blasThreads.acquire()
}

// prefix recomputes P[l] = P[l-1] F[l-1] for l >= from.
func (s *solver[T]) prefix(from int) {
	for l := max(from, 2); l <= s.L; l++ {
		gemm(false, false, 1, s.P[l-1], s.F[l-1], 0, s.P[l])
	}
}

// iterate runs one iteration: the layers (eq. 7) then H (eq. 8), then the
// normalisation.
func (s *solver[T]) iterate() {
	if s.joint {
		s.iterateJoint()
		return
	}
	if !s.freeze.Layers {
		if !s.kl {
			s.suffix()
		}
		for l := 0; l < s.L; l++ {
			s.updateFactor(l)
			if l+1 >= 2 {
				gemm(false, false, 1, s.P[l], s.F[l], 0, s.P[l+1])
			}
		}
	}
	if !s.freeze.H {
		s.groupWeights()
		s.updateFactor(s.L)
	}
	if !s.freeze.Layers {
		s.normalise()
	}
}

// updateFactor applies the MU of factor l with A = P[l] and B = F[l+1] ...
// F[L]: F <- F * ([A^T (X V^(beta-2)) B^T] / [A^T V^(beta-1) B^T + l1])^gamma,
// whose KL denominator is the outer product of the column sums of A and the
// row sums of B.
func (s *solver[T]) updateFactor(l int) {
	if s.kl {
		s.updateFactorKL(l)
	} else {
		s.updateFactorBeta(l)
	}
}

// l1 is the L1 penalty in the denominator of factor l's update: Settings.L1
// for H, none for the layers.
func (s *solver[T]) l1(l int) T {
	if l == s.L {
		return T(s.r.L1)
	}
	return 0
}

// unitW1 reports whether W1 is updated with unit-norm columns
// (updateUnitW1). With fixed columns (Freeze.Cols) only the free ones are
// updated, by the plain update, and normalise keeps them at unit norm with
// Settings.UnitNorm: the scale of the fixed columns of a model trained with
// it, so that its L1 penalty weighs every activation alike.
func (s *solver[T]) unitW1() bool { return s.r.UnitNorm && s.fixed == 0 }

// colScales sets dst to the scales of m's columns that normalise divides
// by: their Euclidean norms with Settings.UnitNorm, else their sums.
func (s *solver[T]) colScales(dst []T, m *Dense[T], acc []float64) {
	if s.r.UnitNorm {
		colNorms(dst, m, acc)
	} else {
		colSums(dst, m, acc)
	}
}

// colSums sets dst to the column sums of m, accumulated in acc.
func colSums[T Float](dst []T, m *Dense[T], acc []float64) {
	acc = acc[:len(dst)]
	clear(acc)
	for i := 0; i < m.Rows; i++ {
		for j, v := range m.row(i) {
			acc[j] += float64(v)
		}
	}
	for j := range dst {
		dst[j] = T(acc[j])
	}
}

// normalise scales the columns of every layer to unit sum and carries the
// scale into the rows of the next factor; the last layer keeps its scale
// when H is frozen, and W1 its unit norm with Settings.UnitNorm (the free
// columns of a partly fixed W1 are scaled to it, see unitW1). The prefix
// products are refreshed.
func (s *solver[T]) normalise() {
	for l := 0; l < s.L; l++ {
		if l == s.L-1 && s.freeze.H {
			break
		}
		if l == 0 && s.unitW1() {
			continue // unit norm already, and its scale stays out of the model
		}
		W, next := s.F[l], s.F[l+1]
		sums := s.lsum[:W.Cols]
		if l == 0 && s.fixed > 0 { // fixed columns keep their scale (semi.go)
			clear(sums[:s.fixed])
			W, sums = &s.wfree, sums[s.fixed:]
			s.colScales(sums, W, s.acc)
		} else {
			colSums(sums, W, s.acc)
		}
		for i := 0; i < W.Rows; i++ {
			w := W.row(i)
			for j := range w {
				if sums[j] > 0 {
					w[j] /= sums[j]
				}
			}
		}
		s.pass.rows = next
		s.pool.parallel(next.Rows, 8, s.scaleRowsFn)
	}
	s.prefix(2)
}

// rowSumRows sets rsum[i] to the sum of row i of pass.rows for i in [lo, hi).
func (s *solver[T]) rowSumRows(lo, hi, _ int) {
	m := s.pass.rows
	for i := lo; i < hi; i++ {
		var a float64
		for _, v := range m.row(i) {
			a += float64(v)
		}
		s.rsum[i] = T(a)
	}
}

// scaleRows multiplies row i of pass.rows by lsum[i] (when positive), for i
// in [lo, hi): the scale that normalise took out of the previous layer.
func (s *solver[T]) scaleRows(lo, hi, _ int) {
	m := s.pass.rows
	for i := lo; i < hi; i++ {
		if c := s.lsum[i]; c > 0 {
			r := m.row(i)
			for n := range r {
				r[n] *= c
			}
		}
	}
}

// objective returns D(X | P[L] H) + L1 sum(H) and the penalties of semi.go.
func (s *solver[T]) objective() float64 {
	var sum float64
	if s.kl {
		sum = s.costKL()
	} else {
		sum = s.costBeta()
	}
	sum += s.groupPenalty() + s.freePenalty()
	if s.r.L1 > 0 {
		H := s.F[s.L]
		var h float64
		for i := 0; i < H.Rows; i++ {
			for _, v := range H.row(i) {
				h += float64(v)
			}
		}
		sum += s.r.L1 * h
	}
	return sum
}

// run iterates until MaxIter or convergence, recording the cost; the
// Recorder's events carry stage and layer.
func (s *solver[T]) run(stage Stage, layer int) Result {
	// The products and passes of this goroutine run with subnormals
	// flushed to zero (see flushDenormals); the thread is restored after.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer restoreFP(flushDenormals())
	var res Result
	record := func(it int) float64 {
		c := s.objective()
		res.Cost = append(res.Cost, c)
		res.CostIter = append(res.CostIter, it)
		if s.r.Recorder != nil {
			s.r.Recorder.Record(Event{Stage: stage, Layer: layer, Iter: it, Cost: c})
		}
		return c
	}
	if s.r.NoCost {
		s.iterations(s.r.MaxIter)
		res.Iterations = s.r.MaxIter
		return res
	}
	if s.r.Tol <= 0 && s.r.Recorder == nil {
		// Nobody stops on the cost or watches it: skip the per-element
		// logarithms of the evaluations in between and report the costs
		// at the start and the end only (fixed-iteration inference spent
		// a third of its time on them).
		record(0)
		s.iterations(s.r.MaxIter)
		res.Iterations = s.r.MaxIter
		record(s.r.MaxIter)
		return res
	}
	initial := record(0)
	prev := initial
	for it := 1; it <= s.r.MaxIter; it++ {
		s.iterate()
		res.Iterations = it
		if it%s.r.CostEvery == 0 || it == s.r.MaxIter {
			c := record(it)
			if s.r.Tol > 0 && it%s.r.CostEvery == 0 && initial > 0 && (prev-c)/initial < s.r.Tol {
				res.Converged = true
				break
			}
			if prev == 0 && c == 0 {
				res.Converged = s.r.Tol > 0
				if res.Converged {
					break
				}
			}
			prev = c
		}
	}
	return res
}
