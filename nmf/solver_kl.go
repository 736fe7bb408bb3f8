package nmf

import "sync/atomic"

// The Kullback-Leibler path (beta = 1, the default): every update is one
// fused pass over column blocks of X (runBlocks), and the denominators are
// sums (klSums), so the M x N reconstruction never goes to memory.
//
// Layer updates go through H, the only factor with N columns: for layer l
// with A = P[l] and Q[l] = F[l+1]...F[L-1], the reconstruction is PL H with
// PL = A F[l] Q[l] (M x K_L), and the numerator A^T (R H^T) Q[l]^T needs
// only G = R H^T (M x K_L) from the block pass. Every product with N
// columns then has the small K_L as its other size, however large the
// first layers are.

// klPath is the workspace of the KL path.
type klPath[T Float] struct {
	Qs, FQ, GQ []*Dense[T] // Qs[l] = Q[l], F[l] Q[l] (K_l x K_L), G Q[l]^T (M x K_{l+1}, l > 0); l <= L-2
	PL, G      *Dense[T]   // M x K_L
	hsum       []T         // row sums of H
	psum       []T         // column sums of P[L] when the layers are frozen (constant)

	work       []blockWork[T] // per worker
	blasSingle bool           // holds a single-threaded-BLAS reference (blasThreads)
	bounds     []int          // column blocks: [bounds[b], bounds[b+1])
	nextBlock  atomic.Int64   // next column block to claim
	blockG     []*Dense[T]    // per-block parts of G; blockG[0] is G
	blockCost  []float64      // per-block parts of the KL cost

	// Passes over row ranges, bound once.
	claimFn, sumGFn, multiplyKLFn func(lo, hi, part int)

	fusedPath[T] // the one-pass kernel of the H update (solver_fused.go)
}

// blockMode is what a KL block pass does with each block of the
// reconstruction.
type blockMode int

const (
	blockUpdate blockMode = iota // the ratio X/V and its share of the numerator
	blockFused                   // the whole H update in the one-pass kernel
	blockJoint                   // H's numerator (or update) and the free columns' (semi.go)
	blockCost                    // the block's share of the cost
)

// blockWork is one worker's workspace for the block passes.
type blockWork[T Float] struct {
	xb, vb, rb, nb Dense[T]  // views of X, the reconstruction, the right factor and num
	hb             Dense[T]  // the free rows of H in the block (semi.go)
	buf            []T       // M x BlockCols
	scratch        []float32 // the one-pass kernel's (fusedH)
}

// BlockCols is the width of the column blocks of the fused KL update: one
// block of the reconstruction (M x BlockCols, 1 MB for M = 513 in float32)
// stays in a core's L2 cache from the product that forms it, through the
// ratio X/V, to the product that consumes it, instead of three round trips
// of an M x N matrix to memory. The workers claim blocks one at a time, each
// running single-threaded BLAS on its blocks (see blasThreads).
var BlockCols = 512

// newKLPath allocates the KL path's workspace; P must be formed.
func (s *solver[T]) newKLPath() {
	L, F, r := s.L, s.F, s.r
	M, N := s.X.Rows, s.X.Cols
	KL := F[L].Rows
	s.G = s.num[0] // plain NMF: the numerator of W1 is G itself
	if L > 1 {
		s.G = NewDense[T](M, KL, nil)
		s.PL = NewDense[T](M, KL, nil)
		s.Qs = make([]*Dense[T], L-1)
		s.FQ = make([]*Dense[T], L-1)
		s.GQ = make([]*Dense[T], L-1)
		for l := 0; l <= L-2; l++ {
			s.Qs[l] = F[L-1] // Q[L-2] is the last layer itself
			if l < L-2 {
				s.Qs[l] = NewDense[T](F[l+1].Rows, KL, nil)
			}
			s.FQ[l] = NewDense[T](F[l].Rows, KL, nil)
			if l > 0 {
				s.GQ[l] = NewDense[T](M, F[l+1].Rows, nil)
			}
		}
	}
	s.hsum = make([]T, KL)
	if s.freeze.Layers {
		s.psum = make([]T, KL)
		colSums(s.psum, s.P[L], s.acc)
	}
	s.newFusedPath()
	s.bounds = blockBounds(N, max(1, BlockCols))
	width := max(1, min(BlockCols, N)) // the widest block's
	s.work = make([]blockWork[T], r.Workers)
	for p := range s.work {
		w := &s.work[p]
		// Every block pass but the fused H update needs an M x width
		// buffer: inference that only runs the fused kernel gets it
		// only if it evaluates the cost (blocks, lazily).
		if !s.freeze.Layers || !s.fused {
			w.buf = make([]T, M*width)
		}
		if s.fused {
			free := 0
			if s.freeze.Cols > 0 {
				free = F[0].Cols - s.freeze.Cols
			}
			w.scratch = make([]float32, hnumScratch(M, free))
			if s.one {
				w.scratch = make([]float32, h1Scratch(M, KL))
			}
		}
	}
	s.claimFn, s.sumGFn, s.multiplyKLFn = s.claimBlocks, s.sumGRows, s.multiplyKLRows
}

// blockBounds returns the boundaries of the column blocks: equal blocks of
// at most maxW columns, as few as that allows. They do not depend on the
// number of workers: G and the cost are summed from per-block parts in
// block order, so the same blocks give the same bits on any number of cores
// (blocks that shrank towards the end for several workers, guided
// scheduling, balanced the last claims better but made the sums depend on
// the worker count).
func blockBounds(N, maxW int) []int {
	bounds := []int{0}
	n := max(1, (N+maxW-1)/maxW)
	for b := 1; b <= n; b++ {
		bounds = append(bounds, b*N/n)
	}
	return bounds
}

// nblocks returns the number of column blocks.
func (s *solver[T]) nblocks() int { return len(s.bounds) - 1 }

// updateFactorKL is updateFactor for KL: the workers claim column blocks
// (runBlocks); per block V = left right[:, block] (small product first),
// V <- X / max(V, eps), then the numerator A^T (X/V) B^T gets that block's
// contribution. Numerators of H are column-separable and written in place
// (or the whole H update runs in the one-pass kernel, fusedH); G = R H^T of
// the layers is summed from per-block parts in block order at the end.
func (s *solver[T]) updateFactorKL(l int) {
	L := s.L
	left := s.P[L]
	if l < L {
		left = s.layerLeft(l)
	}
	s.pass = pass[T]{l: l, left: left, right: s.F[L], mode: blockUpdate}
	if l == L && s.fused {
		if s.apack == nil || !s.freeze.Layers { // frozen layers: all constant
			s.prepareFused()
		} else if s.rowAdd != nil {
			s.fusedDenominators() // group weights change every iteration
		}
		if s.one {
			s.oneH(1)
			return
		}
		s.pass.mode = blockFused
		s.runBlocks()
		return
	}
	if l < L {
		s.blockSums()
	}
	s.runBlocks()
	if l < L {
		if len(s.blockG) > 1 {
			s.pool.parallel(s.G.Rows, 8, s.sumGFn)
		}
		// num = A^T G Q[l]^T, with A = I for the first layer.
		t := s.G // equal to num[0] for plain NMF
		if l <= L-2 {
			t = s.GQ[l]
			if l == 0 {
				t = s.num[0]
			}
			gemm(false, true, 1, s.G, s.Qs[l], 0, t)
		}
		if l > 0 {
			gemm(true, false, 1, s.P[l], t, 0, s.num[l])
		}
	}
	s.klSums(l)
	if l == 0 && s.unitW1() {
		s.updateUnitW1()
		return
	}
	s.pool.parallel(s.F[l].Rows, 4, s.multiplyKLFn)
}

// layerLeft returns PL = A F[l] Q[l] for layer l < L, the left factor of
// the reconstruction PL H (F[0] itself for plain NMF).
func (s *solver[T]) layerLeft(l int) *Dense[T] {
	L := s.L
	fq := s.F[l]
	if l <= L-2 {
		for m := L - 3; m >= l; m-- { // Q[m] = F[m+1] Q[m+1]
			gemm(false, false, 1, s.F[m+1], s.Qs[m+1], 0, s.Qs[m])
		}
		gemm(false, false, 1, s.F[l], s.Qs[l], 0, s.FQ[l])
		fq = s.FQ[l]
	}
	if l == 0 {
		return fq
	}
	gemm(false, false, 1, s.P[l], fq, 0, s.PL)
	return s.PL
}

// runBlocks runs the block pass set in s.pass on every column block, the
// workers claiming blocks one at a time: a static split left the faster
// core idle (on this 2-core VM the cores run GEMM at different speeds). The
// results do not depend on which worker ran a block: H's numerator is
// column-separable, and G and the cost are summed from per-block parts in
// block order.
func (s *solver[T]) runBlocks() {
	s.nextBlock.Store(0)
	s.pool.parallel(s.pool.workers, 1, s.claimFn)
}

// claimBlocks runs column blocks as worker part until none is left.
func (s *solver[T]) claimBlocks(_, _, part int) {
	nblocks := s.nblocks()
	for {
		b := int(s.nextBlock.Add(1)) - 1
		if b >= nblocks {
			return
		}
		s.block(b, part)
	}
}

// blockSums makes sure there is one M x K_L part of G per column block,
// the first being G itself.
func (s *solver[T]) blockSums() {
	nblocks := s.nblocks()
	if len(s.blockG) == nblocks {
		return
	}
	s.blockG = make([]*Dense[T], nblocks)
	s.blockG[0] = s.G
	for b := 1; b < nblocks; b++ {
		s.blockG[b] = NewDense[T](s.G.Rows, s.G.Cols, nil)
	}
}

// sumGRows adds the parts of G for blocks 1, 2, ... into rows [lo, hi) of
// G (block 0's part), in block order, and zeroes them. All parts are
// compact, so the rows are one run of values.
func (s *solver[T]) sumGRows(lo, hi, _ int) {
	c := s.G.Cols
	g := s.G.Data[lo*c : hi*c]
	for _, p := range s.blockG[1:] {
		addTo(g, p.Data[lo*c:hi*c])
		clear(p.Data[lo*c : hi*c]) // zero for the next pass
	}
}

// block runs the pass s.pass on column block b as worker part.
func (s *solver[T]) block(b, part int) {
	p := &s.pass
	w := &s.work[part]
	M := s.X.Rows
	j0, j1 := s.bounds[b], s.bounds[b+1]
	setView(&w.xb, s.X, j0, j1)
	setView(&w.rb, p.right, j0, j1)
	switch {
	case p.mode == blockFused:
		s.fusedH(w, j0, j1, nil)
		return
	case p.mode == blockJoint && s.fused:
		s.fusedH(w, j0, j1, s.blockG[b])
		return
	}
	if len(w.buf) == 0 {
		w.buf = make([]T, M*max(1, min(BlockCols, s.X.Cols)))
	}
	w.vb = Dense[T]{Rows: M, Cols: j1 - j0, Stride: j1 - j0, Data: w.buf[:M*(j1-j0)]}
	gemm(false, false, 1, p.left, &w.rb, 0, &w.vb)
	if p.mode == blockCost {
		s.blockCost[b] = klCost(&w.xb, &w.vb, s.r.Epsilon)
		return
	}
	klRatio(&w.xb, &w.vb, 0, M, s.eps)
	if p.l == s.L { // num[:, block] = P^T R
		setView(&w.nb, s.num[s.L], j0, j1)
		gemm(true, false, 1, s.P[s.L], &w.vb, 0, &w.nb)
		if p.mode != blockJoint {
			return
		}
	}
	// G += R H^T. G itself is overwritten; the other parts are zero
	// (sumGRows clears them while they are in cache), so they accumulate,
	// which spares BLAS a pass that zeroes them.
	var beta T
	if b > 0 {
		beta = 1
	}
	rb := &w.rb
	if s.fixed > 0 { // only the free columns' share (semi.go)
		setView(&w.hb, &s.hfree, j0, j1)
		rb = &w.hb
	}
	gemm(false, true, 1, &w.vb, rb, beta, s.blockG[b])
}

// klSums sets lsum and rsum so that the KL denominator A^T 1 B^T of factor
// l is lsum_i rsum_j: the column sums of A and the row sums of B.
func (s *solver[T]) klSums(l int) {
	F := s.F[l]
	ls, rs := s.lsum[:F.Rows], s.rsum[:F.Cols]
	switch {
	case l == 0:
		for i := range ls {
			ls[i] = 1
		}
	case l == s.L && s.psum != nil:
		copy(ls, s.psum)
	case l == s.L && s.fixedSum != nil: // fixed columns' sums are constant (semi.go)
		copy(ls, s.fixedSum)
		if s.freeSum != nil { // kept by updateFree
			copy(ls[s.fixed:], s.freeSum)
		} else {
			colSums(ls[s.fixed:], &s.wfree, s.acc)
		}
	default:
		colSums(ls, s.P[l], s.acc)
	}
	if l == s.L {
		for j := range rs {
			rs[j] = 1
		}
		return
	}
	// The row sums of B = Q[l] H are Q[l] times the row sums of H.
	H := s.F[s.L]
	s.pass.rows = H
	s.pool.parallel(H.Rows, 8, s.rowSumsFn)
	copy(s.hsum, s.rsum[:H.Rows])
	if l == s.L-1 {
		return
	}
	Q := s.Qs[l]
	for i := range rs {
		var v float64
		for k, q := range Q.row(i) {
			v += float64(q) * float64(s.hsum[k])
		}
		rs[i] = T(v)
	}
}

// multiplyKLRows sets rows [lo, hi) of factor pass.l to
// F num / max(lsum rsum + l1 + rowAdd, eps), only the free columns of a
// partly fixed basis (semi.go).
func (s *solver[T]) multiplyKLRows(lo, hi, _ int) {
	l := s.pass.l
	F, num, rs := s.F[l], s.num[l], s.rsum[:s.F[l].Cols]
	if l == 0 && s.fixed > 0 {
		F, num, rs = &s.wfree, &s.nfree, rs[s.fixed:]
	}
	l1 := s.l1(l)
	e := 1.0 // the bases' updates, and H's by default
	if l == s.L {
		e = s.r.StepExponent
	}
	if l != s.L || s.rowAdd == nil {
		klMultiply(F, num, s.lsum, rs, lo, hi, l1, s.eps, e)
		return
	}
	for i := lo; i < hi; i++ {
		klMultiply(F, num, s.lsum, rs, i, i+1, l1+s.rowAdd[i], s.eps, e)
	}
}

// costKL returns D(X | P[L] H), summed from per-block parts in block order.
func (s *solver[T]) costKL() float64 {
	s.pass = pass[T]{l: s.L, left: s.P[s.L], right: s.F[s.L], mode: blockCost}
	if n := s.nblocks(); len(s.blockCost) != n {
		s.blockCost = make([]float64, n)
	}
	s.runBlocks()
	var sum float64
	for _, c := range s.blockCost {
		sum += c
	}
	return sum
}
