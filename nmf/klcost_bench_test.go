package nmf

import "testing"

func BenchmarkKLCostBlock(b *testing.B) {
	X := randDense[float32](513, 512, 0, 3)
	V := randDense[float32](513, 512, 0.01, 4)
	b.SetBytes(int64(513 * 512 * 8))
	for range b.N {
		klCost(X, V, 1e-7)
	}
}

func BenchmarkKLRatioBlock(b *testing.B) {
	X := randDense[float32](513, 512, 0, 3)
	V := randDense[float32](513, 512, 0.01, 4)
	b.SetBytes(int64(513 * 512 * 8))
	for range b.N {
		klRatio(X, V, 0, 513, 1e-7)
		copy(V.Data, X.Data)
	}
}
