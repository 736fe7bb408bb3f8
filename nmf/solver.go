package nmf

import (
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
)

// solver runs multiplicative updates on the model X ≈ F[0] F[1] ... F[L],
// where F[0..L-1] are the layers W1..WL and F[L] is H. It owns every
// workspace, so an iteration allocates nothing.
type solver[T Float] struct {
	X      *Dense[T]
	F      []*Dense[T]
	L      int
	freeze Freeze
	r      resolved
	eps    T
	kl     bool

	// S[l] = F[l+1] ... F[L] (K_{l+1} x N) for l < L; S[L-1] aliases H.
	S []*Dense[T]
	// P[l] = F[0] ... F[l-1] (M x K_l) for 1 <= l <= L; P[1] aliases W1.
	P []*Dense[T]
	// V holds the reconstruction, then X V^(beta-2) (the ratio X/V for KL);
	// Q holds V^(beta-1) (unused for KL, whose denominators are sums).
	V, Q *Dense[T]
	// PF[l] = P[l] F[l] (M x K_{l+1}) for 0 < l < L: the reconstruction
	// before the update of F[l] is PF[l] S[l], the small product first.
	PF []*Dense[T]
	// mid[l] is the intermediate of the numerator of a middle layer.
	mid, midQ  []*Dense[T]
	midLeft    []bool // mid[l] is A^T G (K_l x N) rather than G B^T
	num, den   []*Dense[T]
	lsum, rsum []T // KL denominators: column sums of P[l], row sums of S[l]

	// KL layer updates go through H, the only factor with N columns: for
	// layer l with A = P[l] and Q[l] = F[l+1]...F[L-1], the reconstruction
	// is PL H with PL = A F[l] Q[l] (M x K_L), and the numerator
	// A^T (R H^T) Q[l]^T needs only G = R H^T (M x K_L) from the block pass.
	// Every product with N columns then has the small K_L as its other
	// size, however large the first layers are.
	Qs, FQ, T []*Dense[T] // Qs[l] = Q[l], F[l] Q[l] (K_l x K_L), G Q[l]^T (M x K_{l+1}, l > 0); l <= L-2
	PL, G     *Dense[T]   // M x K_L
	hsum      []T         // row sums of H
	psum      []T         // column sums of P[L] when the layers are frozen (constant)

	// Column-block views of the fused KL pass (values, so that setting them
	// allocates nothing); ex and ev are the operands of the ratio pass.
	work        []blockWork[T]
	left, right *Dense[T] // the reconstruction of the current KL pass is left right
	blasSingle  bool      // holds a single-threaded-BLAS reference (blasThreads)
	costing     bool      // the block pass sums the cost instead of updating
	fused       bool      // H is updated by the one-pass kernel (fusedH), see newSolver
	fusing      bool      // the current block pass is that update
	hden        []float32 // reciprocals of the denominators of the fused H update
	apack       []float32 // P[L] packed for the fused kernel (hnumPack)

	acc     []float64 // column-sum accumulator
	partial []float64 // per-worker cost sums
	pool    *pool
	cur     int // factor of the current pass
	l1      T   // L1 penalty of the current pass
	// Passes over row ranges, bound once so that a pass allocates nothing.
	elementwiseFn, multiplyFn, costFn func(lo, hi, part int)
	rowSumsFn, scaleRowsFn            func(lo, hi, part int)
	claimFn, sumGFn                   func(lo, hi, part int)
	bounds                            []int        // column blocks: [bounds[b], bounds[b+1])
	nextBlock                         atomic.Int64 // next column block to claim
	blockG                            []*Dense[T]  // per-block parts of G; blockG[0] is G
	blockCost                         []float64    // per-block parts of the KL cost
	rowsOf                            *Dense[T]    // operand of rowSumsFn and scaleRowsFn

	stage string
	layer int

	semi[T] // partly fixed basis and group sparsity (semi.go)
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
	s := &solver[T]{X: X, F: F, L: L, freeze: freeze, r: r, eps: T(r.Epsilon), kl: r.beta == 1}
	M, N := X.Rows, X.Cols
	K := func(l int) int { // K(0) = M, K(l) = rows of F[l]
		return F[l].Rows
	}
	s.S = make([]*Dense[T], L)
	s.S[L-1] = f.H
	for l := L - 2; l >= 0; l-- {
		s.S[l] = NewDense[T](K(l+1), N, nil)
	}
	s.P = make([]*Dense[T], L+1)
	s.P[1] = F[0]
	for l := 2; l <= L; l++ {
		s.P[l] = NewDense[T](M, K(l), nil)
	}
	if !s.kl { // KL works on column blocks (updateFactorKL)
		s.V = NewDense[T](M, N, nil)
		s.Q = NewDense[T](M, N, nil)
	}
	s.PF = make([]*Dense[T], L)
	s.mid = make([]*Dense[T], L+1)
	s.midQ = make([]*Dense[T], L+1)
	s.midLeft = make([]bool, L+1)
	for l := 1; l < L; l++ {
		s.PF[l] = NewDense[T](M, F[l].Cols, nil)
		if K(l) <= F[l].Cols {
			s.midLeft[l] = true
			s.mid[l] = NewDense[T](K(l), N, nil)
		} else {
			s.mid[l] = NewDense[T](M, F[l].Cols, nil)
		}
		if !s.kl {
			s.midQ[l] = NewDense[T](s.mid[l].Rows, s.mid[l].Cols, nil)
		}
	}
	s.num = make([]*Dense[T], L+1)
	s.den = make([]*Dense[T], L+1)
	maxK := M
	for l := 0; l <= L; l++ {
		s.num[l] = NewDense[T](F[l].Rows, F[l].Cols, nil)
		if !s.kl { // KL's denominators are sums (lsum, rsum)
			s.den[l] = NewDense[T](F[l].Rows, F[l].Cols, nil)
		}
		maxK = max(maxK, F[l].Cols)
	}
	s.lsum = make([]T, max(maxK, M))
	s.rsum = make([]T, max(maxK, N))
	s.acc = make([]float64, maxK)
	s.partial = make([]float64, r.Workers)
	s.pool = newPool(r.Workers)
	s.elementwiseFn, s.multiplyFn, s.costFn = s.elementwiseRows, s.multiplyRows, s.costRows
	s.rowSumsFn, s.scaleRowsFn = s.rowSumRows, s.scaleRows
	s.claimFn, s.sumGFn = s.claimBlocks, s.sumGRows
	if s.kl {
		KL := F[L].Rows
		s.G = s.num[0] // plain NMF: the numerator of W1 is G itself
		if L > 1 {
			s.G = NewDense[T](M, KL, nil)
			s.PL = NewDense[T](M, KL, nil)
			s.Qs = make([]*Dense[T], L-1)
			s.FQ = make([]*Dense[T], L-1)
			s.T = make([]*Dense[T], L-1)
			for l := 0; l <= L-2; l++ {
				s.Qs[l] = F[L-1] // Q[L-2] is the last layer itself
				if l < L-2 {
					s.Qs[l] = NewDense[T](K(l+1), KL, nil)
				}
				s.FQ[l] = NewDense[T](K(l), KL, nil)
				if l > 0 {
					s.T[l] = NewDense[T](M, K(l+1), nil)
				}
			}
		}
		s.hsum = make([]T, KL)
		s.hden = make([]float32, KL)
		// The one-pass kernel updates H for float32 on AVX-512 machines
		// when the basis is small enough (fusedMaxK).
		_, f32 := any(s.eps).(float32)
		s.fused = fusedHNum && f32 && KL <= fusedMaxK
		s.bounds = blockBounds(N, r.Workers, max(1, BlockCols))
		width := max(1, min(BlockCols, N)) // the widest block's
		s.work = make([]blockWork[T], r.Workers)
		for p := range s.work {
			w := &s.work[p]
			// Every block pass but the fused H update needs an M x width
			// buffer: inference that only runs the fused kernel gets it
			// only if it evaluates the cost (in blocks, before iterating).
			if !freeze.Layers || !s.fused {
				w.buf = make([]T, M*width)
			}
			if s.fused {
				w.scratch = make([]float32, hnumScratch(M))
			}
		}
		if r.Workers > 1 {
			s.blasSingle = true
			blasThreads.acquire()
		}
	}
	if err := s.semi.init(s, freeze); err != nil {
		s.close()
		return nil, err
	}
	s.prefix(2)
	if s.kl && freeze.Layers {
		s.psum = make([]T, F[L].Rows)
		colSums(s.psum, s.P[L], s.acc)
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

// prefix recomputes P[l] = P[l-1] F[l-1] for l >= from.
func (s *solver[T]) prefix(from int) {
	for l := max(from, 2); l <= s.L; l++ {
		gemm(false, false, 1, s.P[l-1], s.F[l-1], 0, s.P[l])
	}
}

// iterate runs one iteration: the layers (eq. 7) then H (eq. 8), then the
// normalisation.
func (s *solver[T]) iterate() {
	if !s.freeze.Layers {
		for l := s.L - 2; l >= 0 && !s.kl; l-- {
			gemm(false, false, 1, s.F[l+1], s.S[l+1], 0, s.S[l])
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

// updateFactor applies the MU of factor l with A = P[l] and B = S[l]:
// F <- F * ([A^T (X V^(beta-2)) B^T] / [A^T V^(beta-1) B^T])^gamma, whose
// KL denominator is the outer product of the column sums of A and the row
// sums of B.
func (s *solver[T]) updateFactor(l int) {
	if s.kl {
		s.updateFactorKL(l)
		return
	}
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
	s.pool.parallel(s.X.Rows, 16, s.elementwiseFn)
	s.sandwich(l, s.V, s.num[l], s.mid[l])
	if s.kl {
		s.klSums(l)
	} else {
		s.sandwich(l, s.Q, s.den[l], s.midQ[l])
	}
	s.cur, s.l1 = l, 0
	if l == L {
		s.l1 = T(s.r.L1)
	}
	s.pool.parallel(s.F[l].Rows, 4, s.multiplyFn)
}

// BlockCols is the width of the column blocks of the fused KL update: one
// block of the reconstruction (M x BlockCols, 1 MB for M = 513 in float32)
// stays in a core's L2 cache from the product that forms it, through the
// ratio X/V, to the product that consumes it, instead of three round trips
// of an M x N matrix to memory. The workers claim blocks one at a time, each
// running single-threaded BLAS on its blocks (see blasThreads).
var BlockCols = 512

// blockBounds returns the boundaries of the column blocks for P workers:
// at most maxW columns each. One worker gets equal blocks, as few as maxW
// allows. With several, the blocks shrink towards the end (guided
// scheduling): the workers claim blocks one at a time, so a pass ends with
// short blocks and no worker waits long for another to finish a wide one.
func blockBounds(N, P, maxW int) []int {
	bounds := []int{0}
	if P <= 1 {
		n := max(1, (N+maxW-1)/maxW)
		for b := 1; b <= n; b++ {
			bounds = append(bounds, b*N/n)
		}
		return bounds
	}
	minW := max(1, maxW/4)
	for j := 0; j < N; {
		w := min(maxW, max((N-j)/(2*P), minW))
		if N-j-w < minW/2 { // no sliver at the end
			w = N - j
		}
		j += w
		bounds = append(bounds, j)
	}
	return bounds
}

// nblocks returns the number of column blocks.
func (s *solver[T]) nblocks() int { return len(s.bounds) - 1 }

// blockWork is one worker's workspace for the fused KL update.
type blockWork[T Float] struct {
	xb, vb, rb, nb Dense[T]
	hb             Dense[T]  // the free rows of H in the block (semi.go)
	buf            []T       // M x BlockCols
	scratch        []float32 // the one-pass kernel's (fusedH)
}

// updateFactorKL is updateFactor for KL: the workers claim column blocks
// (runBlocks); per block V = left right[:, block] (small product first),
// V <- X / max(V, eps), then the numerator A^T (X/V) B^T gets that block's
// contribution. Numerators of H are column-separable and written in place
// (or the whole H update runs in the one-pass kernel, fusedH); G = R H^T of
// the layers is summed from per-block parts in block order at the end.
func (s *solver[T]) updateFactorKL(l int) {
	L := s.L
	s.right = s.F[L]
	switch {
	case l == L:
		s.left = s.P[L]
	case l == L-1 && l == 0:
		s.left = s.F[0]
	default:
		fq := s.F[l]
		if l <= L-2 {
			for m := L - 3; m >= l; m-- { // Q[m] = F[m+1] Q[m+1]
				gemm(false, false, 1, s.F[m+1], s.Qs[m+1], 0, s.Qs[m])
			}
			gemm(false, false, 1, s.F[l], s.Qs[l], 0, s.FQ[l])
			fq = s.FQ[l]
		}
		s.left = fq
		if l > 0 {
			gemm(false, false, 1, s.P[l], fq, 0, s.PL)
			s.left = s.PL
		}
	}
	s.cur = l
	s.fusing = l == L && s.fused
	if s.fusing {
		if s.apack == nil || !s.freeze.Layers { // frozen layers: all constant
			s.prepareFused()
		} else if s.rowAdd != nil {
			s.fusedDenominators() // group weights change every iteration
		}
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
			t = s.T[l]
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
	s.l1 = 0
	if l == L {
		s.l1 = T(s.r.L1)
	}
	s.pool.parallel(s.F[l].Rows, 4, s.multiplyFn)
}

// runBlocks runs the fused KL pass on every column block, the workers
// claiming blocks one at a time: a static split left the faster core idle
// (on this 2-core VM the cores run GEMM at different speeds). The results do
// not depend on which worker ran a block: H's numerator is column-separable,
// and G and the cost are summed from per-block parts in block order.
func (s *solver[T]) runBlocks() {
	s.nextBlock.Store(0)
	s.pool.parallel(s.pool.workers, 1, s.claimFn)
}

// claim runs column blocks as worker part until none is left.
func (s *solver[T]) claimBlocks(_, _, part int) {
	nblocks := s.nblocks()
	for {
		b := int(s.nextBlock.Add(1)) - 1
		if b >= nblocks {
			return
		}
		s.blocks(b, b+1, part)
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

// blocks runs the fused KL pass on column blocks [b0, b1) as worker part.
func (s *solver[T]) blocks(b0, b1, part int) {
	l, L := s.cur, s.L
	w := &s.work[part]
	M := s.X.Rows
	for b := b0; b < b1; b++ {
		j0, j1 := s.bounds[b], s.bounds[b+1]
		setView(&w.xb, s.X, j0, j1)
		setView(&w.rb, s.right, j0, j1)
		if s.fusing && !s.costing {
			s.fusedH(w, j0, j1)
			continue
		}
		if len(w.buf) == 0 {
			w.buf = make([]T, M*max(1, min(BlockCols, s.X.Cols)))
		}
		w.vb = Dense[T]{Rows: M, Cols: j1 - j0, Stride: j1 - j0, Data: w.buf[:M*(j1-j0)]}
		gemm(false, false, 1, s.left, &w.rb, 0, &w.vb)
		if s.costing {
			s.blockCost[b] = klCost(&w.xb, &w.vb, s.r.Epsilon)
			continue
		}
		klRatio(&w.xb, &w.vb, 0, M, s.eps)
		if l == L { // num[:, block] = P^T R
			setView(&w.nb, s.num[L], j0, j1)
			gemm(true, false, 1, s.P[L], &w.vb, 0, &w.nb)
		} else { // G += R H^T
			// G itself is overwritten; the other parts are zero (sumGRows
			// clears them while they are in cache), so they accumulate,
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
	}
}

// fusedMaxK is the largest basis (K_L) for which the one-pass kernel of the
// H update is used. Against OpenBLAS's two products and the ratio pass,
// single-threaded on 512 frames, it is 1.3x as fast at K = 40, 1.05-1.1x at
// 128-180 and 0.95x at 256; but in the two-worker training iteration at
// K = 180 it was slower (30-37 vs 28-36 ms in five interleaved runs, the
// two cores running AVX-512 FMAs flat out), so larger bases keep OpenBLAS.
const fusedMaxK = 128

// prepareFused sets what the one-pass kernel needs from P[L]: the
// reciprocals of klMultiply's denominators max(lsum[k] + L1, eps) (rsum =
// 1), so that the kernel multiplies instead of dividing, and P[L] packed.
func (s *solver[T]) prepareFused() {
	s.fusedDenominators()
	a := any(s.P[s.L]).(*Dense[float32])
	if s.apack == nil {
		s.apack = make([]float32, hnumPacked(a.Rows, a.Cols))
	}
	hnumPack(s.apack, a)
}

// fusedDenominators sets the reciprocal denominators of the one-pass
// kernel, max(lsum[k] + L1 + rowAdd[k], eps).
func (s *solver[T]) fusedDenominators() {
	L := s.L
	s.klSums(L)
	l1 := T(s.r.L1)
	for k, a := range s.lsum[:s.F[L].Rows] {
		d := a + l1
		if s.rowAdd != nil {
			d += s.rowAdd[k]
		}
		if !(d > s.eps) {
			d = s.eps
		}
		s.hden[k] = float32(1 / d)
	}
}

// fusedH updates columns [j0, j1) of H with the one-pass kernel (see
// s.fused), num serving as its scratch.
func (s *solver[T]) fusedH(w *blockWork[T], j0, j1 int) {
	setView(&w.nb, s.num[s.L], j0, j1)
	a := any(s.P[s.L]).(*Dense[float32])
	klHNum32(a, s.apack, any(&w.rb).(*Dense[float32]), any(&w.xb).(*Dense[float32]), any(&w.nb).(*Dense[float32]), float32(s.eps), s.hden, w.scratch)
}

// hnumScratch is the scratch klHNum32 needs for a basis of m rows: the
// ratio for 32 frames.
func hnumScratch(m int) int { return 32 * m }

// hnumGroup is the one-pass kernel's group of basis rows (HN_RB).
const hnumGroup = 12

// hnumPacked is the length of a packed m x k basis.
func hnumPacked(m, k int) int { return (m + hnumGroup - 1) / hnumGroup * hnumGroup * k }

// hnumPack packs a for klHNum32: rows by groups of 12, each group column by
// column, so that element (12g + i, k) is at 12 k + i of group g's 12 K
// values.
func hnumPack(dst []float32, a *Dense[float32]) {
	K := a.Cols
	for m := 0; m < a.Rows; m++ {
		g, i := m/hnumGroup, m%hnumGroup
		grp := dst[g*hnumGroup*K:]
		for k, v := range a.row(m) {
			grp[k*hnumGroup+i] = v
		}
	}
}

// setView points v at columns [j0, j1) of m.
func setView[T Float](v *Dense[T], m *Dense[T], j0, j1 int) {
	v.Rows, v.Cols, v.Stride = m.Rows, j1-j0, m.Stride
	v.Data = m.Data[j0 : (m.Rows-1)*m.Stride+j1]
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
	s.rowsOf = H
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

// elementwiseRows replaces rows [lo, hi) of V by X V^(beta-2) and sets Q =
// V^(beta-1), with V floored at epsilon for beta < 2 (negative powers of
// zero).
func (s *solver[T]) elementwiseRows(lo, hi, _ int) {
	X, V, eps, beta := s.X, s.V, s.eps, s.r.beta
	if s.kl {
		klRatio(X, V, lo, hi, eps)
		return
	}
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

// multiplyRows sets rows [lo, hi) of the current factor F to
// F (num / max(den + l1, eps))^gamma.
func (s *solver[T]) multiplyRows(lo, hi, _ int) {
	F, num, den, rs := s.F[s.cur], s.num[s.cur], s.den[s.cur], s.rsum[:s.F[s.cur].Cols]
	if s.cur == 0 && s.fixed > 0 { // only the free columns of the basis
		F, num, den, rs = &s.wfree, &s.nfree, &s.dfree, rs[s.fixed:]
	}
	l1, eps, gamma := s.l1, s.eps, s.r.gamma
	rowAdd := s.rowAdd
	if s.cur != s.L {
		rowAdd = nil
	}
	if s.kl {
		if rowAdd == nil {
			klMultiply(F, num, s.lsum, rs, lo, hi, l1, eps)
			return
		}
		for i := lo; i < hi; i++ {
			klMultiply(F, num, s.lsum, rs, i, i+1, l1+rowAdd[i], eps)
		}
		return
	}
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

// normalise scales the columns of every layer to unit sum and carries the
// scale into the rows of the next factor; the last layer keeps its scale
// when H is frozen. The prefix products are refreshed.
func (s *solver[T]) normalise() {
	for l := 0; l < s.L; l++ {
		if l == s.L-1 && s.freeze.H {
			break
		}
		W, next := s.F[l], s.F[l+1]
		sums := s.lsum[:W.Cols]
		if l == 0 && s.fixed > 0 { // fixed columns keep their scale (semi.go)
			clear(sums[:s.fixed])
			W, sums = &s.wfree, sums[s.fixed:]
		}
		colSums(sums, W, s.acc)
		for i := 0; i < W.Rows; i++ {
			w := W.row(i)
			for j := range w {
				if sums[j] > 0 {
					w[j] /= sums[j]
				}
			}
		}
		s.rowsOf = next
		s.pool.parallel(next.Rows, 8, s.scaleRowsFn)
	}
	s.prefix(2)
}

// rowSumRows sets rsum[i] to the sum of row i of rowsOf for i in [lo, hi).
func (s *solver[T]) rowSumRows(lo, hi, _ int) {
	m := s.rowsOf
	for i := lo; i < hi; i++ {
		var a float64
		for _, v := range m.row(i) {
			a += float64(v)
		}
		s.rsum[i] = T(a)
	}
}

// scaleRows multiplies row i of rowsOf by lsum[i] (when positive), for i in
// [lo, hi): the scale that normalise took out of the previous layer.
func (s *solver[T]) scaleRows(lo, hi, _ int) {
	for i := lo; i < hi; i++ {
		if c := s.lsum[i]; c > 0 {
			r := s.rowsOf.row(i)
			for n := range r {
				r[n] *= c
			}
		}
	}
}

// objective returns D(X | P[L] H) + L1 sum(H), using V as workspace.
func (s *solver[T]) objective() float64 {
	clear(s.partial)
	if s.kl {
		s.left, s.right, s.costing = s.P[s.L], s.F[s.L], true
		nblocks := s.nblocks()
		if len(s.blockCost) != nblocks {
			s.blockCost = make([]float64, nblocks)
		}
		s.runBlocks()
		s.costing = false
		for _, c := range s.blockCost {
			s.partial[0] += c
		}
	} else {
		gemm(false, false, 1, s.P[s.L], s.F[s.L], 0, s.V)
		s.pool.parallel(s.X.Rows, 16, s.costFn)
	}
	var sum float64
	for _, p := range s.partial {
		sum += p
	}
	sum += s.groupPenalty()
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

func (s *solver[T]) costRows(lo, hi, part int) {
	var sum float64
	for i := lo; i < hi; i++ {
		sum += costRow(s.X.row(i), s.V.row(i), s.r.beta, s.r.Epsilon)
	}
	s.partial[part] = sum
}

// run iterates until MaxIter or convergence, recording the cost.
func (s *solver[T]) run() Result {
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
			s.r.Recorder.Record(Event{Stage: s.stage, Layer: s.layer, Iter: it, Cost: c})
		}
		return c
	}
	if s.r.NoCost {
		for it := 1; it <= s.r.MaxIter; it++ {
			s.iterate()
		}
		res.Iterations = s.r.MaxIter
		return res
	}
	if s.r.Tol <= 0 && s.r.Recorder == nil {
		// Nobody stops on the cost or watches it: skip the per-element
		// logarithms of the evaluations in between and report the costs
		// at the start and the end only (fixed-iteration inference spent
		// a third of its time on them).
		record(0)
		for it := 1; it <= s.r.MaxIter; it++ {
			s.iterate()
		}
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
