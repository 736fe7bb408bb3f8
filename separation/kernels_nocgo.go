//go:build !cgo || noopenblas

package separation

import "math"

// magnitude sets dst[i] = float32(|src[i]|). Not math.Hypot, 4x slower:
// audio spectra cannot overflow a float64 square, and float32 hides the
// last bit.
func magnitude(dst []float32, src []complex128) {
	dst = dst[:len(src)]
	for i, c := range src {
		re, im := real(c), imag(c)
		dst[i] = float32(math.Sqrt(re*re + im*im))
	}
}

// addInto sets total += p.
func addInto(total, p []float32) {
	p = p[:len(total)]
	for i, v := range p {
		total[i] += v
	}
}

// gain sets p to p / total where total > 0 and to even elsewhere.
func gain(p, total []float32, even float32) {
	total = total[:len(p)]
	for i, v := range p {
		if d := total[i]; d > 0 {
			p[i] = v / d
		} else {
			p[i] = even
		}
	}
}
