package nmf

import (
	"fmt"
	"testing"
)

// benchSolver returns a KL solver on a random M x N float32 matrix with
// layer sizes ks, ready to iterate.
func benchSolver(b *testing.B, M, N int, ks ...int) *solver[float32] {
	X := randDense[float32](M, N, 0.01, 1)
	f := &Factorization[float32]{}
	rows := M
	for i, k := range ks {
		f.Layers = append(f.Layers, randDense[float32](rows, k, 0.01, uint64(10+i)))
		rows = k
	}
	f.H = randDense[float32](rows, N, 0.01, 2)
	r, err := Settings{}.resolve()
	if err != nil {
		b.Fatal(err)
	}
	sv, err := newSolver(X, f, Freeze{}, r)
	if err != nil {
		b.Fatal(err)
	}
	sv.iterate() // warm-up
	return sv
}

// iterateBench times sv.iterate and also reports the process CPU time per
// iteration (cpu-ms/op), steadier than wall time on a loaded machine.
func iterateBench(b *testing.B, sv *solver[float32]) {
	defer sv.close()
	b.ReportAllocs()
	c0 := cpuSeconds()
	for b.Loop() {
		sv.iterate()
	}
	b.ReportMetric((cpuSeconds()-c0)*1e3/float64(b.N), "cpu-ms/op")
}

// BenchmarkKLIteration times one KL iteration of single-layer NMF: the W
// update then the H update, each with its reconstruction.
func BenchmarkKLIteration(b *testing.B) {
	// 2565 rows: 5-frame spectral patches of 513 bins (--context 5).
	for _, sh := range [][3]int{{513, 180, 6500}, {513, 40, 6500}, {513, 360, 600}, {2565, 180, 6500}} {
		b.Run(fmt.Sprintf("%dx%dx%d", sh[0], sh[1], sh[2]), func(b *testing.B) {
			sv := benchSolver(b, sh[0], sh[2], sh[1])
			iterateBench(b, sv)
		})
	}
}

// BenchmarkKLIterationLayered times one two-layer fine-tuning iteration
// (eqs. 7-8): W1, W2, then H.
func BenchmarkKLIterationLayered(b *testing.B) {
	b.Run("513x180x20x6500", func(b *testing.B) {
		sv := benchSolver(b, 513, 6500, 180, 20)
		iterateBench(b, sv)
	})
}

// BenchmarkGEMM times one 513x180 by 180x6500 float32 product, the unit of
// the KL iteration (which needs four of them).
func BenchmarkGEMM(b *testing.B) {
	W := randDense[float32](513, 180, 0, 1)
	H := randDense[float32](180, 6500, 0, 2)
	V := NewDense[float32](513, 6500, nil)
	b.ReportAllocs()
	for b.Loop() {
		Mul(V, W, H)
	}
}
