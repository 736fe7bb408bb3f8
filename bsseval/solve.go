package bsseval

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// factor solves G X = B for one symmetric Gram matrix G, factorised once,
// for all the columns of B at once (one pass over the factor). solve
// overwrites B with X.
type factor interface {
	solve(b blas64.General)
}

// factorize factorises the symmetric positive semi-definite n x n matrix
// whose upper triangle is in g (row-major, row stride ld); g is not changed.
//
// Cholesky is tried first. When G is not numerically positive definite
// (references that are filtered copies of one another, a pure tone), LU
// with partial pivoting is used, as mir_eval's np.linalg.solve does, and
// when G is exactly singular the minimum-norm least-squares solution, as
// mir_eval's fallback np.linalg.lstsq (cut-off at machine precision).
func factorize(g []float64, n, ld int) factor {
	work := make([]float64, n*n)
	for i := 0; i < n; i++ {
		copy(work[i*n+i:(i+1)*n], g[i*ld+i:i*ld+n])
	}
	sym := blas64.Symmetric{N: n, Stride: n, Data: work, Uplo: blas.Upper}
	if t, ok := lapack64.Potrf(sym); ok {
		return &cholFactor{t: t}
	}
	// LU and SVD need the whole matrix: mirror the upper triangle.
	for i := 0; i < n; i++ {
		copy(work[i*n+i:(i+1)*n], g[i*ld+i:i*ld+n])
		for j := i + 1; j < n; j++ {
			work[j*n+i] = g[i*ld+j]
		}
	}
	full := append([]float64(nil), work...)
	ipiv := make([]int, n)
	a := blas64.General{Rows: n, Cols: n, Stride: n, Data: work}
	if lapack64.Getrf(a, ipiv) {
		return &luFactor{a: a, ipiv: ipiv}
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(n, n, full), mat.SVDThin) {
		// Only on NaN input, which validation excludes; keep the zero
		// solution rather than panic.
		return zeroFactor{}
	}
	return &svdFactor{svd: &svd, rank: svd.Rank(math.Nextafter(1, 2) - 1)}
}

type cholFactor struct{ t blas64.Triangular }

func (f *cholFactor) solve(b blas64.General) { lapack64.Potrs(f.t, b) }

type luFactor struct {
	a    blas64.General
	ipiv []int
}

func (f *luFactor) solve(b blas64.General) { lapack64.Getrs(blas.NoTrans, f.a, b, f.ipiv) }

type svdFactor struct {
	svd  *mat.SVD
	rank int
}

func (f *svdFactor) solve(b blas64.General) {
	var x mat.Dense
	bm := mat.NewDense(b.Rows, b.Cols, nil)
	for i := 0; i < b.Rows; i++ {
		copy(bm.RawRowView(i), b.Data[i*b.Stride:i*b.Stride+b.Cols])
	}
	f.svd.SolveTo(&x, bm, f.rank)
	for i := 0; i < b.Rows; i++ {
		copy(b.Data[i*b.Stride:i*b.Stride+b.Cols], x.RawRowView(i))
	}
}

type zeroFactor struct{}

func (zeroFactor) solve(b blas64.General) {
	for i := 0; i < b.Rows; i++ {
		clear(b.Data[i*b.Stride : i*b.Stride+b.Cols])
	}
}
