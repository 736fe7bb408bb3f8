package bsseval

import (
	"github.com/dlnmf/dlnmf/internal/fft"
	"gonum.org/v1/gonum/blas/blas64"
)

// blockToeplitz is a symmetric block Toeplitz Gram matrix in compact form,
// source-major (row i*L+a, column j*L+b) with m x m blocks of L x L:
// G[(i,a),(j,b)] = c_ij(a-b), lags -(L-1)..L-1. Products with it run as
// circular convolutions by FFT, O(m^2 L log L) per column instead of the
// O(m^2 L^2) of a dense product (which also read an 8 MB matrix for two
// sources of 512 taps). The dense matrix is built only when a solve falls
// back to a dense factorisation.
type blockToeplitz struct {
	m, L, nfft int
	fft        *fft.Real
	c          [][]float64    // c[i*m+j][k+L-1] = c_ij(k)
	spec       [][]complex128 // spectrum of c_ij placed circularly (lag k at k mod nfft)

	// Scratch.
	seq []float64
	xs  [][]complex128 // m spectra of one column's blocks
	acc []complex128
}

// newBlockToeplitz takes the m*m lag sequences c (each 2L-1 long, lag -(L-1)
// first; c_ji(k) = c_ij(-k)) and an FFT plan of at least 2L-1 points (the
// convolution is then linear over the lags it needs).
func newBlockToeplitz(m, L int, c [][]float64, plan *fft.Real) *blockToeplitz {
	t := &blockToeplitz{m: m, L: L, nfft: plan.Len(), fft: plan, c: c}
	if t.nfft < 2*L-1 {
		panic("bsseval: block Toeplitz FFT too short")
	}
	nc := plan.Bins()
	t.seq = make([]float64, t.nfft)
	t.spec = make([][]complex128, m*m)
	for q, cq := range c {
		clear(t.seq)
		for k := -(L - 1); k < L; k++ {
			t.seq[(k+t.nfft)%t.nfft] = cq[k+L-1]
		}
		t.spec[q] = plan.Forward(nil, t.seq)
	}
	t.xs = make([][]complex128, m)
	for j := range t.xs {
		t.xs[j] = make([]complex128, nc)
	}
	t.acc = make([]complex128, nc)
	return t
}

// diag returns the diagonal block j as a 1 x 1 block Toeplitz matrix that
// shares the sequences and spectra of t (with its own scratch).
func (t *blockToeplitz) diag(j int) *blockToeplitz {
	nc := t.fft.Bins()
	return &blockToeplitz{
		m: 1, L: t.L, nfft: t.nfft, fft: t.fft,
		c:    [][]float64{t.c[j*t.m+j]},
		spec: [][]complex128{t.spec[j*t.m+j]},
		seq:  make([]float64, t.nfft),
		xs:   [][]complex128{make([]complex128, nc)},
		acc:  make([]complex128, nc),
	}
}

// dim returns the order m*L.
func (t *blockToeplitz) dim() int { return t.m * t.L }

// mul sets y = alpha G x + beta y for x and y of m*L rows (any columns).
func (t *blockToeplitz) mul(alpha float64, x blas64.General, beta float64, y blas64.General) {
	m, L := t.m, t.L
	if x.Rows != m*L || y.Rows != m*L || x.Cols != y.Cols {
		panic("bsseval: block Toeplitz product of mismatched sizes")
	}
	scale := alpha / float64(t.nfft)
	for col := 0; col < x.Cols; col++ {
		for j := 0; j < m; j++ {
			clear(t.seq[L:])
			for b := 0; b < L; b++ {
				t.seq[b] = x.Data[(j*L+b)*x.Stride+col]
			}
			t.fft.Forward(t.xs[j], t.seq)
		}
		for i := 0; i < m; i++ {
			clear(t.acc)
			for j := 0; j < m; j++ {
				s, xj := t.spec[i*m+j], t.xs[j]
				for f, v := range xj {
					t.acc[f] += s[f] * v
				}
			}
			r := t.fft.Inverse(t.seq, t.acc)
			for a := 0; a < L; a++ {
				at := (i*L+a)*y.Stride + col
				if beta == 0 {
					y.Data[at] = scale * r[a]
				} else {
					y.Data[at] = scale*r[a] + beta*y.Data[at]
				}
			}
		}
	}
}

// dense returns the matrix, row-major with both triangles.
func (t *blockToeplitz) dense() []float64 {
	m, L, n := t.m, t.L, t.m*t.L
	g := make([]float64, n*n)
	for i := 0; i < m; i++ {
		for j := 0; j < m; j++ {
			c := t.c[i*m+j]
			for a := 0; a < L; a++ {
				row := g[(i*L+a)*n+j*L:]
				for b := 0; b < L; b++ {
					row[b] = c[a-b+L-1]
				}
			}
		}
	}
	return g
}
