package nmf

// The glue of the one-pass kernel of the KL update of H (klHNum32,
// fused_cgo.go): whether a solver uses it, the denominators and the packed
// basis it needs, and its call on a column block.

// fusedPath is the one-pass kernel's part of the KL workspace.
type fusedPath[T Float] struct {
	fused bool      // H is updated by the one-pass kernel (fusedH), see newFusedPath
	one   bool      // ... by its one-column form (oneH)
	hden  []float32 // reciprocals of the denominators of the fused H update
	apack []float32 // P[L] packed for the kernel (hnumPack)
}

// fusedMaxK is the largest basis (K_L) for which the one-pass kernel of the
// H update is used. Against OpenBLAS's two products and the ratio pass,
// single-threaded on 512 frames, it is 1.3x as fast at K = 40, 1.05-1.1x at
// 128-180 and 0.95x at 256; but in the two-worker training iteration at
// K = 180 it was slower (30-37 vs 28-36 ms in five interleaved runs, the
// two cores running AVX-512 FMAs flat out), so larger bases keep OpenBLAS.
const fusedMaxK = 128

// fusedMinN is the fewest frames for which the one-pass kernel is used: it
// works on 32-frame chunks, so a few frames cost nearly a whole chunk
// (OpenBLAS's two products did a one-frame inference in half its CPU
// time). A single frame, what live separation infers as each arrives, has
// its own form of the kernel (klH1_32), which with all of a frame's
// iterations in one call runs BenchmarkLive200 in separation at 36.5x real
// time against OpenBLAS's 6.7x (quiet machine, one core).
const fusedMinN = 8

// The kernel's tiles, which its C code (HN_RB, HN_NB in fused_cgo.go) must
// match; the cgo build checks them at compile time.
const (
	hnumGroup = 12 // rows of the basis per tile of the reconstruction
	hnumChunk = 32 // frames per chunk: two 16-float AVX-512 vectors
)

// newFusedPath decides once per solver whether H goes through the one-pass
// kernel: float32 on AVX-512 machines, when the basis is small enough
// (fusedMaxK), with the usual update (Settings.StepExponent 1).
func (s *solver[T]) newFusedPath() {
	KL := s.F[s.L].Rows
	_, f32 := any(s.eps).(float32)
	plain := s.r.StepExponent == 1 // the one-pass kernel takes the usual update only
	s.fused = fusedHNum && f32 && plain && KL <= fusedMaxK && s.X.Cols >= fusedMinN
	// One column with every basis fixed (live separation, a frame at a
	// time): the one-column kernel, whatever the basis' size, with the
	// usual update or the step exponent 1.5.
	steps := plain || s.r.StepExponent == 1.5
	s.one = fusedHNum && f32 && steps && s.X.Cols == 1 && s.freeze.Layers && s.freeze.Cols == 0
	s.fused = s.fused || s.one
	if s.fused {
		s.hden = make([]float32, KL)
	}
}

// prepareFused sets what the one-pass kernel needs from P[L]: the
// reciprocal denominators (fusedDenominators) and P[L] packed.
func (s *solver[T]) prepareFused() {
	s.fusedDenominators()
	a := any(s.P[s.L]).(*Dense[float32])
	if s.one { // the layers are frozen: packed once
		s.apack = make([]float32, a.Cols*h1Rows(a.Rows))
		h1Pack(s.apack, a)
		return
	}
	if s.apack == nil {
		s.apack = make([]float32, hnumPacked(a.Rows, a.Cols))
		hnumPack(s.apack, a, 0)
		return
	}
	hnumPack(s.apack, a, s.fixed) // fixed columns (semi.go) are packed already
}

// fusedDenominators sets the reciprocals of klMultiply's denominators
// max(lsum[k] + L1 + rowAdd[k], eps) (rsum = 1), so that the kernel
// multiplies instead of dividing.
func (s *solver[T]) fusedDenominators() {
	L := s.L
	s.klSums(L)
	l1 := s.l1(L)
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

// fusedH updates columns [j0, j1) of H with the one-pass kernel, num
// serving as its scratch; with g, it adds the block's share of the free
// columns' numerator to g (iterateJoint, semi.go).
func (s *solver[T]) fusedH(w *blockWork[T], j0, j1 int, g *Dense[T]) {
	setView(&w.nb, s.num[s.L], j0, j1)
	a := any(s.P[s.L]).(*Dense[float32])
	var g32 *Dense[float32]
	if g != nil {
		g32 = any(g).(*Dense[float32])
	}
	klHNum32(a, s.apack, any(&w.rb).(*Dense[float32]), any(&w.xb).(*Dense[float32]), any(&w.nb).(*Dense[float32]), float32(s.eps), s.hden, g32, w.scratch)
}

// h1Rows is the rows of the basis rounded up to a vector of 16 for klH1_32.
func h1Rows(m int) int { return (m + 15) / 16 * 16 }

// h1Scratch is the scratch klH1_32 needs for a basis of m rows and k
// columns: the column of X padded, the ratio, H's and num's column.
func h1Scratch(m, k int) int { return 2*h1Rows(m) + 2*k }

// h1Pack packs a (M x K) for klH1_32: transposed, each of its K rows padded
// with zeros to h1Rows(M).
func h1Pack(dst []float32, a *Dense[float32]) {
	mp := h1Rows(a.Rows)
	clear(dst[:a.Cols*mp])
	for m := 0; m < a.Rows; m++ {
		for k, v := range a.row(m) {
			dst[k*mp+m] = v
		}
	}
}

// hnumScratch is the scratch klHNum32 needs for a basis of m rows and free
// free columns: the ratio for one chunk of frames, and the chunk's free
// rows of H transposed (free rounded up to 16 per frame).
func hnumScratch(m, free int) int { return hnumChunk * (m + (free+15)/16*16) }

// hnumPacked is the length of a packed m x k basis.
func hnumPacked(m, k int) int { return (m + hnumGroup - 1) / hnumGroup * hnumGroup * k }

// hnumPack packs columns from, from+1, ... of a for klHNum32: rows by
// groups of hnumGroup (12), each group column by column, so that element
// (12g + i, k) is at 12 k + i of group g's 12 K values.
func hnumPack(dst []float32, a *Dense[float32], from int) {
	K := a.Cols
	for m := 0; m < a.Rows; m++ {
		g, i := m/hnumGroup, m%hnumGroup
		grp := dst[g*hnumGroup*K:]
		for k, v := range a.row(m)[from:] {
			grp[(from+k)*hnumGroup+i] = v
		}
	}
}

// klHNumGo is the twin of klHNum32, its reference loop: for every column j
// of x, the ratio r[m] = x[m, j] / max(sum_k a[m, k] h[k, j], eps); then
// num[k, j] = sum_m a[m, k] r[m]; with g, g[m, f] += r[m] h[K-F+f, j] (F =
// g.Cols, h before its update); with rden, h[k, j] *= num[k, j] rden[k].
// The sums run in float64, so the kernel (float32 FMAs) is compared with it
// within a relative tolerance.
func klHNumGo[T Float](a, h, x, num *Dense[T], eps T, rden []T, g *Dense[T]) {
	M, K := a.Rows, a.Cols
	r := make([]float64, M)
	for j := 0; j < x.Cols; j++ {
		for m := 0; m < M; m++ {
			var v float64
			for k := 0; k < K; k++ {
				v += float64(a.At(m, k)) * float64(h.At(k, j))
			}
			r[m] = float64(x.At(m, j)) / max(v, float64(eps))
		}
		for k := 0; k < K; k++ {
			var n float64
			for m := 0; m < M; m++ {
				n += float64(a.At(m, k)) * r[m]
			}
			num.Set(k, j, T(n))
		}
		if g != nil {
			F := g.Cols
			for m := 0; m < M; m++ {
				for f := 0; f < F; f++ {
					g.Set(m, f, g.At(m, f)+T(r[m]*float64(h.At(K-F+f, j))))
				}
			}
		}
		if rden != nil {
			for k := 0; k < K; k++ {
				h.Set(k, j, h.At(k, j)*(num.At(k, j)*rden[k]))
			}
		}
	}
}

// oneH updates H's one column with klH1_32, iters times.
func (s *solver[T]) oneH(iters int) {
	f := func(m *Dense[T]) *Dense[float32] { return any(m).(*Dense[float32]) }
	klH1_32(s.apack, s.X.Rows, f(s.F[s.L]), f(s.X), f(s.num[s.L]), float32(s.eps), s.hden, s.work[0].scratch, iters, s.r.StepExponent == 1.5)
}

// iterations runs n iterations: in one call of the one-column kernel when
// nothing changes between them (no group penalty, whose weights follow H),
// else one by one.
func (s *solver[T]) iterations(n int) {
	if s.one && !s.grouped && n > 0 {
		if s.apack == nil {
			s.prepareFused()
		}
		s.oneH(n)
		return
	}
	for range n {
		s.iterate()
	}
}
