//go:build !cgo || noopenblas

package nmf

// The pure-Go build runs the Go twins of the C kernels (kernels.go).

// cKernels: this build runs the Go twins themselves.
const cKernels = false

// klRatio32Exact: klRatio32 is klRatioGo.
const klRatio32Exact = true

func klRatio32(x []float32, xs int, v []float32, vs, rows, cols int, eps float32) {
	klRatioGo(x, xs, v, vs, rows, cols, eps)
}

func klRatio64(x []float64, xs int, v []float64, vs, rows, cols int, eps float64) {
	klRatioGo(x, xs, v, vs, rows, cols, eps)
}

func add32(dst, src []float32) { addGo(dst, src) }

func valid32(r []float32) bool { return validGo(r) }

// capStepISA does nothing in the pure-Go build: there is one form.
func capStepISA(int) {}

func klMultiply32(f []float32, fs int, num []float32, ns int, ls, rs []float32, rows, cols int, add, eps float32, threeHalves bool) {
	klMultiplyGo(f, fs, num, ns, ls, rs, rows, cols, add, eps, exponent(threeHalves))
}

func klMultiply64(f []float64, fs int, num []float64, ns int, ls, rs []float64, rows, cols int, add, eps float64, threeHalves bool) {
	klMultiplyGo(f, fs, num, ns, ls, rs, rows, cols, add, eps, exponent(threeHalves))
}

func klCost32(x []float32, xs int, v []float32, vs, rows, cols int, eps float32) float64 {
	return klCostGo(x, xs, v, vs, rows, cols, eps)
}

// flushDenormals does nothing in the pure-Go build: Go has no portable way
// to set the floating-point control word.
func flushDenormals() uint32 { return 0 }

func restoreFP(uint32) {}

// exponent is the step exponent of the kernels' threeHalves flag.
func exponent(threeHalves bool) float64 {
	if threeHalves {
		return 1.5
	}
	return 1
}
