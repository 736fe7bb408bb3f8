package nmf

import "fmt"

// Inferer is Infer planned once for one basis and one Settings, for callers
// that infer many small matrices with the same basis: live separation
// infers each frame as it arrives, and building a solver for every frame
// (checking and summing the basis, allocating the workspace, the basis'
// column sums, its packed copy for the one-pass kernel) cost more than the
// frame's iterations. The basis is checked and summed once; the solver is
// kept from call to call while the number of columns stays the same and
// built again when it changes. Each call gives the bits Infer gives.
//
// Between calls an Inferer holds no goroutine and no hold on OpenBLAS's
// thread count, so it needs no Close and may be dropped at any time (it
// can live in a sync.Pool). It must not be used by two goroutines at once,
// and the basis must not change while it is in use.
type Inferer[T Float] struct {
	basis *Dense[T]
	r     resolved
	bsum  float64
	u     []float64 // startH's scales
	col   []float64 // startH's column sums
	sv    *solver[T]
	n     int // the columns sv was built for (callers may resize X in place)
	f     Factorization[T]
}

// NewInferer plans inference with basis (M x K) and s, whose Groups must be
// empty: the group penalty's weight follows each mixture (use Infer).
func NewInferer[T Float](basis *Dense[T], s Settings) (*Inferer[T], error) {
	r, err := s.resolve()
	if err != nil {
		return nil, err
	}
	if len(s.Groups.Sizes) > 0 {
		return nil, fmt.Errorf("nmf: an Inferer takes no group sparsity; use Infer")
	}
	if err := checkData("basis", basis); err != nil {
		return nil, err
	}
	return &Inferer[T]{basis: basis, r: r, bsum: basisSum(basis), u: startScales(basis.Cols, s.Seed)}, nil
}

// Infer is Infer(dst, X, basis, s) with the Inferer's basis and settings.
func (in *Inferer[T]) Infer(dst, X *Dense[T]) (*Dense[T], Result, error) {
	if err := checkData("X", X); err != nil {
		return dst, Result{}, err
	}
	if X.Rows != in.basis.Rows {
		return dst, Result{}, fmt.Errorf("nmf: basis does not match X (%d rows)", X.Rows)
	}
	if cap(in.col) < X.Cols {
		in.col = make([]float64, X.Cols)
	}
	dst = startHWith(reuse(dst, in.basis.Cols, X.Cols, "Infer"), X, in.bsum, in.u, in.col)
	res, err := in.run(dst, X)
	return dst, res, err
}

// Resume runs the Inferer's iterations on X from H as it is (K x N, its
// values non-negative), in place, instead of from Infer's start: a
// deep-unfolded model's untied layers each continue from the layer
// before.
func (in *Inferer[T]) Resume(H, X *Dense[T]) (Result, error) {
	if err := checkData("X", X); err != nil {
		return Result{}, err
	}
	if X.Rows != in.basis.Rows {
		return Result{}, fmt.Errorf("nmf: basis does not match X (%d rows)", X.Rows)
	}
	if H.Rows != in.basis.Cols || H.Cols != X.Cols {
		panic(fmt.Sprintf("nmf: Resume: H is %dx%d for a basis of %d columns and X of %d", H.Rows, H.Cols, in.basis.Cols, X.Cols))
	}
	return in.run(H, X)
}

// run runs the planned iterations from dst on X, keeping the solver while
// the number of columns stays the same.
func (in *Inferer[T]) run(dst, X *Dense[T]) (Result, error) {
	if in.sv == nil || in.n != X.Cols {
		in.sv = nil
		in.f = Factorization[T]{Layers: []*Dense[T]{in.basis}, H: dst}
		sv, err := newSolver(X, &in.f, Freeze{Layers: true}, in.r)
		if err != nil {
			return Result{}, err
		}
		in.sv, in.n = sv, X.Cols
	} else {
		in.sv.resume(X, dst)
	}
	defer in.sv.close()
	return in.sv.run(StageInfer, 0), nil
}
