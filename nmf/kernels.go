package nmf

import "math"

// The elementwise kernels of the KL path. Each C kernel of the cgo build
// (kernels_cgo.go) has its Go twin in this file, compiled in every build:
// the pure-Go build runs the twins (kernels_nocgo.go), and the tests run the
// C kernel and its twin on the same data in the same binary
// (TestKernelsMatchGoTwins), with the contract stated in doc.go.

// klRatio sets rows [i0, i1) of V to X / max(V, eps).
func klRatio[T Float](X, V *Dense[T], i0, i1 int, eps T) {
	if i1 <= i0 || X.Cols == 0 {
		return
	}
	switch x := any(X.Data).(type) {
	case []float32:
		v := any(V.Data).([]float32)
		klRatio32(x[i0*X.Stride:], X.Stride, v[i0*V.Stride:], V.Stride, i1-i0, X.Cols, float32(eps))
	case []float64:
		v := any(V.Data).([]float64)
		klRatio64(x[i0*X.Stride:], X.Stride, v[i0*V.Stride:], V.Stride, i1-i0, X.Cols, float64(eps))
	}
}

// klMultiply applies the KL update to rows [i0, i1) of F, its ratio raised
// to the power e (Settings.StepExponent): the kernels take 1 and 1.5, the
// Go twin any other.
func klMultiply[T Float](F, num *Dense[T], ls, rs []T, i0, i1 int, add, eps T, e float64) {
	if i1 <= i0 || F.Cols == 0 {
		return
	}
	if e != 1 && e != 1.5 {
		klMultiplyGo(F.Data[i0*F.Stride:], F.Stride, num.Data[i0*num.Stride:], num.Stride, ls[i0:], rs, i1-i0, F.Cols, add, eps, e)
		return
	}
	switch f := any(F.Data).(type) {
	case []float32:
		n := any(num.Data).([]float32)
		klMultiply32(f[i0*F.Stride:], F.Stride, n[i0*num.Stride:], num.Stride, any(ls[i0:]).([]float32), any(rs).([]float32), i1-i0, F.Cols, float32(add), float32(eps), e == 1.5)
	case []float64:
		n := any(num.Data).([]float64)
		klMultiply64(f[i0*F.Stride:], F.Stride, n[i0*num.Stride:], num.Stride, any(ls[i0:]).([]float64), any(rs).([]float64), i1-i0, F.Cols, float64(add), float64(eps), e == 1.5)
	}
}

// klCost returns the KL divergence of the block X from V, V floored at eps.
// float32 blocks use the vectorised kernel; float64 ones keep math.Log.
func klCost[T Float](X, V *Dense[T], eps float64) float64 {
	if X.Rows == 0 || X.Cols == 0 {
		return 0
	}
	if x, ok := any(X.Data).([]float32); ok {
		return klCost32(x, X.Stride, any(V.Data).([]float32), V.Stride, X.Rows, X.Cols, float32(eps))
	}
	var sum float64
	for i := 0; i < X.Rows; i++ {
		sum += costRow(X.row(i), V.row(i), 1, eps)
	}
	return sum
}

// addGo sets dst += src (src at least as long).
func addGo[T Float](dst, src []T) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// addTo sets dst += src: the C loop for float32 in the cgo build.
func addTo[T Float](dst, src []T) {
	if d, ok := any(dst).([]float32); ok {
		add32(d, any(src).([]float32))
		return
	}
	addGo(dst, src)
}

// rowValid reports whether every value of r is finite and non-negative:
// the C loop for float32 in the cgo build (checkData finds the culprit).
func rowValid[T Float](r []T) bool {
	if f, ok := any(r).([]float32); ok {
		return valid32(f)
	}
	return validGo(r)
}

func validGo[T Float](r []T) bool {
	top := T(math.Inf(1))
	ok := true
	for _, v := range r {
		ok = ok && v >= 0 && v < top // false for NaN too
	}
	return ok
}

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

// klMultiplyGo sets f[i,j] *= (num[i,j] / max(ls[i] rs[j] + add, eps))^e,
// one loop per kind of e so that none branches per entry.
func klMultiplyGo[T Float](f []T, fs int, num []T, ns int, ls, rs []T, rows, cols int, add, eps T, e float64) {
	rs = rs[:cols]
	for i := 0; i < rows; i++ {
		fr := f[i*fs : i*fs+cols]
		nr := num[i*ns : i*ns+cols]
		a := ls[i]
		switch e {
		case 1:
			for j, r := range rs {
				fr[j] *= nr[j] / floorAt(a*r+add, eps)
			}
		case 1.5:
			for j, r := range rs {
				q := nr[j] / floorAt(a*r+add, eps)
				fr[j] *= q * T(math.Sqrt(float64(q))) // correctly rounded in float32 too, as C's sqrtf
			}
		default:
			for j, r := range rs {
				fr[j] *= T(math.Pow(float64(nr[j]/floorAt(a*r+add, eps)), e))
			}
		}
	}
}

// floorAt returns d, or eps where d is not above it (NaN too).
func floorAt[T Float](d, eps T) T {
	if !(d > eps) {
		return eps
	}
	return d
}

// klCostGo is the twin of the float32 KL cost kernel: the sum over the
// block of x log(x/v) - x + v, v floored at eps (v alone where x = 0), in
// float64 with math.Log (costRow).
func klCostGo(x []float32, xs int, v []float32, vs, rows, cols int, eps float32) float64 {
	var sum float64
	for i := 0; i < rows; i++ {
		sum += costRow(x[i*xs:i*xs+cols], v[i*vs:i*vs+cols], 1, float64(eps))
	}
	return sum
}
