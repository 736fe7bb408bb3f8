package nmf

// The glue of the one-pass kernel of the KL update of H (klHNum32,
// fused_cgo.go): whether a solver uses it, the denominators and the packed
// basis it needs, and its call on a column block.

// fusedPath is the one-pass kernel's part of the KL workspace.
type fusedPath[T Float] struct {
	fused bool      // H is updated by the one-pass kernel (fusedH), see newFusedPath
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
// works on 32-frame chunks, so a frame or two (live separation infers each
// frame as it arrives) cost nearly a whole chunk; OpenBLAS's two products
// did a one-frame inference in half the CPU time (BenchmarkLive200 in
// separation: 5.8 against 2.9 times real time).
const fusedMinN = 8

// The kernel's tiles, which its C code (HN_RB, HN_NB in fused_cgo.go) must
// match; the cgo build checks them at compile time.
const (
	hnumGroup = 12 // rows of the basis per tile of the reconstruction
	hnumChunk = 32 // frames per chunk: two 16-float AVX-512 vectors
)

// newFusedPath decides once per solver whether H goes through the one-pass
// kernel: float32 on AVX-512 machines, when the basis is small enough
// (fusedMaxK).
func (s *solver[T]) newFusedPath() {
	KL := s.F[s.L].Rows
	_, f32 := any(s.eps).(float32)
	s.fused = fusedHNum && f32 && KL <= fusedMaxK && s.X.Cols >= fusedMinN
	if s.fused {
		s.hden = make([]float32, KL)
	}
}

// prepareFused sets what the one-pass kernel needs from P[L]: the
// reciprocal denominators (fusedDenominators) and P[L] packed.
func (s *solver[T]) prepareFused() {
	s.fusedDenominators()
	a := any(s.P[s.L]).(*Dense[float32])
	if s.apack == nil {
		s.apack = make([]float32, hnumPacked(a.Rows, a.Cols))
	}
	hnumPack(s.apack, a)
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
// serving as its scratch.
func (s *solver[T]) fusedH(w *blockWork[T], j0, j1 int) {
	setView(&w.nb, s.num[s.L], j0, j1)
	a := any(s.P[s.L]).(*Dense[float32])
	klHNum32(a, s.apack, any(&w.rb).(*Dense[float32]), any(&w.xb).(*Dense[float32]), any(&w.nb).(*Dense[float32]), float32(s.eps), s.hden, w.scratch)
}

// hnumScratch is the scratch klHNum32 needs for a basis of m rows: the
// ratio for one chunk of frames.
func hnumScratch(m int) int { return hnumChunk * m }

// hnumPacked is the length of a packed m x k basis.
func hnumPacked(m, k int) int { return (m + hnumGroup - 1) / hnumGroup * hnumGroup * k }

// hnumPack packs a for klHNum32: rows by groups of hnumGroup (12), each
// group column by column, so that element (12g + i, k) is at 12 k + i of
// group g's 12 K values.
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
