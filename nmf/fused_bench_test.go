package nmf

import "testing"

// BenchmarkKLHNum times the one-pass numerator of the KL update of H on
// the shape of BenchmarkSeparate3s's inference (stacked bases 513 x 40, 188
// frames).
func BenchmarkKLHNum(b *testing.B) { benchKLHNum(b, 40, 0) }

// BenchmarkKLHNumFree times it on BenchmarkSeparateFree3s's shape: 20 free
// bases beside the 40 (513 x 60), with the free columns' numerator.
func BenchmarkKLHNumFree(b *testing.B) { benchKLHNum(b, 60, 20) }

func benchKLHNum(b *testing.B, K, free int) {
	if !fusedHNum {
		b.Skip("no AVX-512 kernel in this build or on this machine")
	}
	a := randDense[float32](513, K, 0, 1)
	h := randDense[float32](K, 188, 0, 2)
	x := randDense[float32](513, 188, 0, 3)
	num := NewDense[float32](K, 188, nil)
	var g *Dense[float32]
	if free > 0 {
		g = NewDense[float32](513, free, nil)
	}
	scratch := make([]float32, hnumScratch(513, free))
	ap := make([]float32, hnumPacked(513, K))
	hnumPack(ap, a, 0)
	for b.Loop() {
		klHNum32(a, ap, h, x, num, 1e-7, nil, g, scratch)
	}
	b.ReportMetric(float64(4*K+2*free)*513*188*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
