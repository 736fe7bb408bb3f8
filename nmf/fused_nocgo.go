//go:build !cgo || noopenblas

package nmf

// fusedHNum is false in the pure-Go build: the KL update of H goes through
// gemm and the ratio pass.
const fusedHNum = false

func klHNum32(a *Dense[float32], ap []float32, h, x, num *Dense[float32], eps float32, rden []float32, g *Dense[float32], scratch []float32) {
	panic("nmf: klHNum32 without its kernel")
}

func klH1_32(at []float32, M int, h, x, num *Dense[float32], eps float32, rden []float32, scratch []float32, iters int, threeHalves bool) {
	panic("nmf: klH1_32 without its kernel")
}
