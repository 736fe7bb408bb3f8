package nmf

import "testing"

// BenchmarkKLHNum times the one-pass numerator of the KL update of H on
// the shape of BenchmarkSeparate3s's inference (stacked bases 513 x 40, 188
// frames).
func BenchmarkKLHNum(b *testing.B) {
	if !fusedHNum {
		b.Skip("no AVX-512 kernel in this build or on this machine")
	}
	a := randDense[float32](513, 40, 0, 1)
	h := randDense[float32](40, 188, 0, 2)
	x := randDense[float32](513, 188, 0, 3)
	num := NewDense[float32](40, 188, nil)
	scratch := make([]float32, hnumScratch(513))
	ap := make([]float32, hnumPacked(513, 40))
	hnumPack(ap, a)
	for b.Loop() {
		klHNum32(a, ap, h, x, num, 1e-7, nil, scratch)
	}
	b.ReportMetric(4*513*40*188*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
