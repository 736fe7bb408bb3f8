package nmf

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"

	_ "github.com/dlnmf/dlnmf/internal/openblas" // OpenBLAS behind blas32/blas64 in cgo builds
)

// Float is the element type of a Dense matrix.
type Float interface{ float32 | float64 }

// Dense is a row-major matrix: element (i, j) is Data[i*Stride+j]. It has
// the layout of blas32.General and blas64.General.
type Dense[T Float] struct {
	Rows, Cols, Stride int
	Data               []T
}

// NewDense returns a rows x cols matrix backed by data, or by fresh zeros
// when data is nil. It panics when len(data) != rows*cols.
func NewDense[T Float](rows, cols int, data []T) *Dense[T] {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("nmf: negative dimension %dx%d", rows, cols))
	}
	if data == nil {
		data = make([]T, rows*cols)
	} else if len(data) != rows*cols {
		panic(fmt.Sprintf("nmf: data length %d for a %dx%d matrix", len(data), rows, cols))
	}
	return &Dense[T]{Rows: rows, Cols: cols, Stride: cols, Data: data}
}

// At returns element (i, j).
func (m *Dense[T]) At(i, j int) T {
	m.check(i, j)
	return m.Data[i*m.Stride+j]
}

// Set sets element (i, j) to v.
func (m *Dense[T]) Set(i, j int, v T) {
	m.check(i, j)
	m.Data[i*m.Stride+j] = v
}

func (m *Dense[T]) check(i, j int) {
	if uint(i) >= uint(m.Rows) || uint(j) >= uint(m.Cols) {
		panic(fmt.Sprintf("nmf: index (%d, %d) out of range %dx%d", i, j, m.Rows, m.Cols))
	}
}

// Clone returns a compact copy of m.
func (m *Dense[T]) Clone() *Dense[T] {
	c := NewDense[T](m.Rows, m.Cols, nil)
	for i := 0; i < m.Rows; i++ {
		copy(c.row(i), m.row(i))
	}
	return c
}

// row returns row i without bounds slack.
func (m *Dense[T]) row(i int) []T {
	return m.Data[i*m.Stride : i*m.Stride+m.Cols]
}

// reuse returns dst when it is r x c, a fresh matrix when dst is nil, and
// panics otherwise.
func reuse[T Float](dst *Dense[T], r, c int, what string) *Dense[T] {
	if dst == nil {
		return NewDense[T](r, c, nil)
	}
	if dst.Rows != r || dst.Cols != c {
		panic(fmt.Sprintf("nmf: %s: dst is %dx%d, want %dx%d", what, dst.Rows, dst.Cols, r, c))
	}
	return dst
}

// Mul sets dst = a b through blas32/blas64 (OpenBLAS in cgo builds) and
// returns dst, allocating it when nil. dst must not overlap a or b.
func Mul[T Float](dst, a, b *Dense[T]) *Dense[T] {
	if a.Cols != b.Rows {
		panic(fmt.Sprintf("nmf: Mul: %dx%d times %dx%d", a.Rows, a.Cols, b.Rows, b.Cols))
	}
	dst = reuse(dst, a.Rows, b.Cols, "Mul")
	gemm(false, false, 1, a, b, 0, dst)
	return dst
}

// gemm sets c = alpha op(a) op(b) + beta c, where op transposes when t is set.
func gemm[T Float](ta, tb bool, alpha T, a, b *Dense[T], beta T, c *Dense[T]) {
	m, k := a.Rows, a.Cols
	if ta {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if tb {
		kb, n = n, kb
	}
	if k != kb || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("nmf: gemm: op(a) %dx%d, op(b) %dx%d, c %dx%d", m, k, kb, n, c.Rows, c.Cols))
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scale(c, beta)
		return
	}
	tA, tB := blas.NoTrans, blas.NoTrans
	if ta {
		tA = blas.Trans
	}
	if tb {
		tB = blas.Trans
	}
	switch cd := any(c.Data).(type) {
	case []float32:
		g := func(x *Dense[T]) blas32.General {
			return blas32.General{Rows: x.Rows, Cols: x.Cols, Stride: max(x.Stride, 1), Data: any(x.Data).([]float32)}
		}
		blas32.Gemm(tA, tB, float32(alpha), g(a), g(b), float32(beta), blas32.General{Rows: c.Rows, Cols: c.Cols, Stride: c.Stride, Data: cd})
	case []float64:
		g := func(x *Dense[T]) blas64.General {
			return blas64.General{Rows: x.Rows, Cols: x.Cols, Stride: max(x.Stride, 1), Data: any(x.Data).([]float64)}
		}
		blas64.Gemm(tA, tB, float64(alpha), g(a), g(b), float64(beta), blas64.General{Rows: c.Rows, Cols: c.Cols, Stride: c.Stride, Data: cd})
	}
}

func scale[T Float](c *Dense[T], beta T) {
	for i := 0; i < c.Rows; i++ {
		r := c.row(i)
		for j := range r {
			if beta == 0 {
				r[j] = 0
			} else {
				r[j] *= beta
			}
		}
	}
}

// Convert copies src into dst with a change of element type, allocating dst
// when nil.
func Convert[T, U Float](dst *Dense[U], src *Dense[T]) *Dense[U] {
	dst = reuse(dst, src.Rows, src.Cols, "Convert")
	for i := 0; i < src.Rows; i++ {
		d, s := dst.row(i), src.row(i)
		for j, v := range s {
			d[j] = U(v)
		}
	}
	return dst
}

// HConcat sets dst to the matrices ms side by side, [ms[0] ms[1] ...] (the
// stacked bases of several speakers), allocating dst when nil. All ms must
// have the same number of rows.
func HConcat[T Float](dst *Dense[T], ms ...*Dense[T]) *Dense[T] {
	if len(ms) == 0 {
		panic("nmf: HConcat of no matrices")
	}
	rows, cols := ms[0].Rows, 0
	for _, m := range ms {
		if m.Rows != rows {
			panic(fmt.Sprintf("nmf: HConcat: %d rows and %d rows", rows, m.Rows))
		}
		cols += m.Cols
	}
	dst = reuse(dst, rows, cols, "HConcat")
	j0 := 0
	for _, m := range ms {
		for i := 0; i < rows; i++ {
			copy(dst.row(i)[j0:j0+m.Cols], m.row(i))
		}
		j0 += m.Cols
	}
	return dst
}

// setView points v at columns [j0, j1) of m.
func setView[T Float](v *Dense[T], m *Dense[T], j0, j1 int) {
	v.Rows, v.Cols, v.Stride = m.Rows, j1-j0, m.Stride
	v.Data = m.Data[j0 : (m.Rows-1)*m.Stride+j1]
}
