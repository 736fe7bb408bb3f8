//go:build !cgo || noopenblas

package nmf

func klRatio32(x []float32, xs int, v []float32, vs, rows, cols int, eps float32) {
	klRatioGo(x, xs, v, vs, rows, cols, eps)
}

func klRatio64(x []float64, xs int, v []float64, vs, rows, cols int, eps float64) {
	klRatioGo(x, xs, v, vs, rows, cols, eps)
}

func add32(dst, src []float32) { addGo(dst, src) }

func valid32(r []float32) bool { return validGo(r) }

func klMultiply32(f []float32, fs int, num []float32, ns int, ls, rs []float32, rows, cols int, add, eps float32) {
	klMultiplyGo(f, fs, num, ns, ls, rs, rows, cols, add, eps)
}

func klMultiply64(f []float64, fs int, num []float64, ns int, ls, rs []float64, rows, cols int, add, eps float64) {
	klMultiplyGo(f, fs, num, ns, ls, rs, rows, cols, add, eps)
}

func klCost32(x []float32, xs int, v []float32, vs, rows, cols int, eps float32) float64 {
	var sum float64
	for i := 0; i < rows; i++ {
		sum += costRow(x[i*xs:i*xs+cols], v[i*vs:i*vs+cols], 1, float64(eps))
	}
	return sum
}

// flushDenormals does nothing in the pure-Go build: Go has no portable way
// to set the floating-point control word.
func flushDenormals() uint32 { return 0 }

func restoreFP(uint32) {}

// klRatioGo sets v = x / max(v, eps) on rows x cols with strides xs, vs.
func klRatioGo[T Float](x []T, xs int, v []T, vs, rows, cols int, eps T) {
	for i := 0; i < rows; i++ {
		xr := x[i*xs : i*xs+cols]
		vr := v[i*vs : i*vs+cols]
		for j, xj := range xr {
			d := vr[j]
			if !(d > eps) {
				d = eps
			}
			vr[j] = xj / d
		}
	}
}

// klMultiplyGo sets f[i,j] *= num[i,j] / max(ls[i] rs[j] + add, eps).
func klMultiplyGo[T Float](f []T, fs int, num []T, ns int, ls, rs []T, rows, cols int, add, eps T) {
	rs = rs[:cols]
	for i := 0; i < rows; i++ {
		fr := f[i*fs : i*fs+cols]
		nr := num[i*ns : i*ns+cols]
		a := ls[i]
		for j, r := range rs {
			d := a*r + add
			if !(d > eps) {
				d = eps
			}
			fr[j] *= nr[j] / d
		}
	}
}
