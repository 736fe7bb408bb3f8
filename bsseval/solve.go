package bsseval

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// factor solves G x = b for one symmetric Gram matrix G, factorised once.
// solve overwrites b with x and allocates nothing.
type factor interface {
	solve(b []float64)
}

// factorize factorises the symmetric positive semi-definite n x n matrix
// whose upper triangle is in data (row-major, stride n). data is consumed.
//
// Cholesky is tried first. When G is not numerically positive definite
// (references that are filtered copies of one another, a pure tone), LU
// with partial pivoting is used, as mir_eval's np.linalg.solve does, and
// when G is exactly singular the minimum-norm least-squares solution, as
// mir_eval's fallback np.linalg.lstsq (cut-off at machine precision).
func factorize(data []float64, n int) factor {
	full := make([]float64, len(data))
	copy(full, data)
	sym := blas64.Symmetric{N: n, Stride: n, Data: data, Uplo: blas.Upper}
	if t, ok := lapack64.Potrf(sym); ok {
		return &cholFactor{t: t}
	}
	// Mirror the upper triangle: LU and SVD need the whole matrix.
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			full[j*n+i] = full[i*n+j]
		}
	}
	lu := make([]float64, len(full))
	copy(lu, full)
	ipiv := make([]int, n)
	if lapack64.Getrf(blas64.General{Rows: n, Cols: n, Stride: n, Data: lu}, ipiv) {
		return &luFactor{a: blas64.General{Rows: n, Cols: n, Stride: n, Data: lu}, ipiv: ipiv}
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(n, n, full), mat.SVDThin) {
		// Only on NaN input, which validation excludes; keep the zero
		// solution rather than panic.
		return zeroFactor{}
	}
	rank := svd.Rank(math.Nextafter(1, 2) - 1)
	return &svdFactor{svd: &svd, rank: rank, x: mat.NewVecDense(n, nil)}
}

type cholFactor struct{ t blas64.Triangular }

func (f *cholFactor) solve(b []float64) {
	lapack64.Potrs(f.t, blas64.General{Rows: len(b), Cols: 1, Stride: 1, Data: b})
}

type luFactor struct {
	a    blas64.General
	ipiv []int
}

func (f *luFactor) solve(b []float64) {
	lapack64.Getrs(blas.NoTrans, f.a, blas64.General{Rows: len(b), Cols: 1, Stride: 1, Data: b}, f.ipiv)
}

type svdFactor struct {
	svd  *mat.SVD
	rank int
	x    *mat.VecDense
}

func (f *svdFactor) solve(b []float64) {
	f.svd.SolveVecTo(f.x, mat.NewVecDense(len(b), b), f.rank)
	copy(b, f.x.RawVector().Data)
}

type zeroFactor struct{}

func (zeroFactor) solve(b []float64) {
	for i := range b {
		b[i] = 0
	}
}
