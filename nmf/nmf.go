package nmf

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Factorization is the layered model X ≈ W1 W2 ... WL H (eq. 5). Layers[0]
// is W1 (M x K1), Layers[l] is K_l x K_{l+1}, H is K_L x N. L = 1 is NMF.
type Factorization[T Float] struct {
	Layers []*Dense[T]
	H      *Dense[T]
}

// Basis sets dst = W1 W2 ... WL (M x K_L), allocating it when nil.
func (f *Factorization[T]) Basis(dst *Dense[T]) *Dense[T] {
	L := len(f.Layers)
	if L == 1 {
		dst = reuse(dst, f.Layers[0].Rows, f.Layers[0].Cols, "Basis")
		for i := 0; i < dst.Rows; i++ {
			copy(dst.row(i), f.Layers[0].row(i))
		}
		return dst
	}
	p := f.Layers[0]
	for l := 1; l < L-1; l++ {
		p = Mul(nil, p, f.Layers[l])
	}
	return Mul(dst, p, f.Layers[L-1])
}

// Reconstruct sets dst = (W1 ... WL) H, forming the small product first,
// and allocates dst when nil.
func (f *Factorization[T]) Reconstruct(dst *Dense[T]) *Dense[T] {
	return Mul(dst, f.Basis(nil), f.H)
}

// randomInit returns W (M x k) and H (k x N) filled with avg |n|, n standard
// normal and avg = sqrt(mean(X)/k), as scikit-learn's init='random': W first,
// then H, from a PCG stream seeded by seed.
func randomInit[T Float](X *Dense[T], k int, seed uint64) (*Dense[T], *Dense[T]) {
	var sum float64
	for i := 0; i < X.Rows; i++ {
		for _, v := range X.row(i) {
			sum += float64(v)
		}
	}
	avg := math.Sqrt(sum / float64(X.Rows*X.Cols) / float64(k))
	rng := rand.New(rand.NewPCG(seed, 0x6e6d66)) // "nmf"
	W := NewDense[T](X.Rows, k, nil)
	H := NewDense[T](k, X.Cols, nil)
	for _, m := range []*Dense[T]{W, H} {
		for i := range m.Data {
			m.Data[i] = T(avg * math.Abs(rng.NormFloat64()))
		}
	}
	return W, H
}

// Factorize fits single-layer NMF X ≈ W H with k components (eqs. 2-4) from
// a seeded random initialisation (see randomInit), reporting stage
// "pretrain", layer 0.
func Factorize[T Float](X *Dense[T], k int, s Settings) (*Factorization[T], Result, error) {
	return factorize(X, k, s, 0)
}

func factorize[T Float](X *Dense[T], k int, s Settings, layer int) (*Factorization[T], Result, error) {
	r, err := s.resolve()
	if err != nil {
		return nil, Result{}, err
	}
	if err := checkData("X", X); err != nil {
		return nil, Result{}, err
	}
	if k < 1 {
		return nil, Result{}, fmt.Errorf("nmf: %d components: want at least 1", k)
	}
	W, H := randomInit(X, k, s.Seed)
	f := &Factorization[T]{Layers: []*Dense[T]{W}, H: H}
	res, err := update(X, f, Freeze{}, r, StagePretrain, layer)
	if err != nil {
		return nil, res, err
	}
	return f, res, nil
}

// Stack is one step of layer-wise pretraining (section 2.2): it factorizes
// f.H ≈ W' H' with k components and returns {f.Layers..., W'} with H'. It
// does not modify f. X is used only to check the shapes.
func Stack[T Float](X *Dense[T], f *Factorization[T], k int, s Settings) (*Factorization[T], Result, error) {
	if f == nil || f.H == nil {
		return nil, Result{}, fmt.Errorf("nmf: Stack of an empty factorization")
	}
	if X != nil && f.H.Cols != X.Cols {
		return nil, Result{}, fmt.Errorf("nmf: H has %d columns, X has %d", f.H.Cols, X.Cols)
	}
	g, res, err := factorize(f.H, k, s, len(f.Layers))
	if err != nil {
		return nil, res, err
	}
	out := &Factorization[T]{H: g.H}
	for _, w := range f.Layers {
		out.Layers = append(out.Layers, w.Clone())
	}
	out.Layers = append(out.Layers, g.Layers[0])
	return out, res, nil
}

// FineTune updates every layer and H jointly on X (eqs. 6-8), in place,
// reporting stage "finetune".
func FineTune[T Float](X *Dense[T], f *Factorization[T], s Settings) (Result, error) {
	r, err := s.resolve()
	if err != nil {
		return Result{}, err
	}
	if err := checkData("X", X); err != nil {
		return Result{}, err
	}
	return update(X, f, Freeze{}, r, StageFineTune, 0)
}

// Train fits the layered model with layer sizes sizes (K1, K2, ...):
// Factorize with K1, Stack for each further size, then FineTune when there
// is more than one layer. L = 1 is plain NMF through the same code path. The
// result is that of the last stage.
func Train[T Float](X *Dense[T], sizes []int, s Settings) (*Factorization[T], Result, error) {
	if len(sizes) == 0 {
		return nil, Result{}, fmt.Errorf("nmf: Train with no layer sizes")
	}
	f, res, err := Factorize(X, sizes[0], s)
	if err != nil {
		return nil, res, err
	}
	for _, k := range sizes[1:] {
		if f, res, err = Stack(X, f, k, s); err != nil {
			return nil, res, err
		}
	}
	if len(sizes) > 1 {
		res, err = FineTune(X, f, s)
	}
	return f, res, err
}

// Freeze selects the factors that Update leaves unchanged.
type Freeze struct {
	Layers bool // keep every W fixed (fixed-basis inference, eq. 11)
	H      bool // keep H fixed (the DL-NMF basis step, eqs. 14-16)
	// Cols keeps the first Cols columns of the basis fixed while the others
	// are updated (semi-supervised NMF, see InferFree); one layer only.
	Cols int
}

// Update is the one solver: multiplicative updates of the unfrozen factors
// of f on X, in place, reporting stage "update".
func Update[T Float](X *Dense[T], f *Factorization[T], freeze Freeze, s Settings) (Result, error) {
	r, err := s.resolve()
	if err != nil {
		return Result{}, err
	}
	if err := checkData("X", X); err != nil {
		return Result{}, err
	}
	return update(X, f, freeze, r, StageUpdate, 0)
}

func update[T Float](X *Dense[T], f *Factorization[T], freeze Freeze, r resolved, stage Stage, layer int) (Result, error) {
	sv, err := newSolver(X, f, freeze, r)
	if err != nil {
		return Result{}, err
	}
	defer sv.close()
	return sv.run(stage, layer), nil
}

// Infer learns H (K x N) for X with the basis fixed (eq. 11), reporting
// stage "infer", and returns it in dst, allocated when nil. H starts from
// h_kn = (0.5 + u_k) sum_m X_mn / sum(basis), u_k uniform from the seed: one
// column's start depends on that column only, so with Tol < 0 (a fixed number
// of iterations) the columns of the result on any column block of X equal
// those of the result on the whole matrix (within rounding of the matrix
// products). With early stopping the whole block shares one stopping test.
func Infer[T Float](dst *Dense[T], X, basis *Dense[T], s Settings) (*Dense[T], Result, error) {
	r, err := s.resolve()
	if err != nil {
		return dst, Result{}, err
	}
	if err := checkData("X", X); err != nil {
		return dst, Result{}, err
	}
	if basis == nil || basis.Rows != X.Rows || basis.Cols < 1 {
		return dst, Result{}, fmt.Errorf("nmf: basis does not match X (%d rows)", X.Rows)
	}
	if err := checkData("basis", basis); err != nil {
		return dst, Result{}, err
	}
	dst = startH(reuse(dst, basis.Cols, X.Cols, "Infer"), X, basis, s.Seed)
	f := &Factorization[T]{Layers: []*Dense[T]{basis}, H: dst}
	res, err := update(X, f, Freeze{Layers: true}, r, StageInfer, 0)
	return dst, res, err
}

// StartH sets dst (K x N, allocated when nil) to Infer's start for X with
// basis and seed, for callers that run the updates themselves (a
// deep-unfolded model's layers start from it).
func StartH[T Float](dst, X, basis *Dense[T], seed uint64) *Dense[T] {
	if basis.Rows != X.Rows {
		panic(fmt.Sprintf("nmf: StartH: basis has %d rows, X %d", basis.Rows, X.Rows))
	}
	return startH(reuse(dst, basis.Cols, X.Cols, "StartH"), X, basis, seed)
}

// startH sets dst (K x N) to h_kn = (0.5 + u_k) sum_m X_mn / sum(basis),
// u_k uniform from the seed: Infer's start, which depends on one column of
// X only.
func startH[T Float](dst, X, basis *Dense[T], seed uint64) *Dense[T] {
	return startHWith(dst, X, basisSum(basis), startScales(basis.Cols, seed), nil)
}

// basisSum returns the sum of the basis' entries, 1 when it is not positive.
func basisSum[T Float](basis *Dense[T]) float64 {
	var bsum float64
	for i := 0; i < basis.Rows; i++ {
		for _, v := range basis.row(i) {
			bsum += float64(v)
		}
	}
	if bsum <= 0 {
		bsum = 1
	}
	return bsum
}

// startScales returns the K factors 0.5 + u_k of startH, u_k uniform from
// the seed.
func startScales(K int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0x696e66)) // "inf"
	u := make([]float64, K)
	for k := range u {
		u[k] = 0.5 + rng.Float64()
	}
	return u
}

// startHWith is startH with the basis' sum and the scales computed already;
// colsum is a buffer of at least X.Cols values, or nil.
func startHWith[T Float](dst, X *Dense[T], bsum float64, u, colsum []float64) *Dense[T] {
	if cap(colsum) < X.Cols {
		colsum = make([]float64, X.Cols)
	}
	colsum = colsum[:X.Cols]
	clear(colsum)
	for i := 0; i < X.Rows; i++ {
		for j, v := range X.row(i) {
			colsum[j] += float64(v)
		}
	}
	for k := range u {
		row := dst.row(k)
		for j := range row {
			row[j] = T(u[k] * colsum[j] / bsum)
		}
	}
	return dst
}
