//go:build !cgo || noopenblas

package stft

// The framing loops of the pure-Go build; frames_cgo.go has the same in C.

// windowFrame sets fr = window * seg, all of one length.
func windowFrame(fr, window, seg []float64) {
	window, seg = window[:len(fr)], seg[:len(fr)]
	for k := range fr {
		fr[k] = window[k] * seg[k]
	}
}

// transposeFrames writes nb frames of bins coefficients each, frame-major
// in coef, into the first nb columns of the bin-major rows (stride T) of
// dst.
func transposeFrames(dst []complex128, T int, coef []complex128, bins, nb int) {
	if nb == block { // the usual case: a constant length lets the compiler drop the checks
		for b := 0; b < bins; b++ {
			row := (*[block]complex128)(dst[b*T : b*T+block])
			for j := range row {
				row[j] = coef[j*bins+b]
			}
		}
		return
	}
	for b := 0; b < bins; b++ {
		row := dst[b*T : b*T+nb]
		for j := range row {
			row[j] = coef[j*bins+b]
		}
	}
}

// gatherFrames is transposeFrames' inverse: nb columns of the bin-major
// rows of src (stride T), each multiplied by its real mask value (columns
// tb, tb+1, ... of m) when m is not nil, into nb frame-major frames in coef.
func gatherFrames(coef []complex128, bins int, src []complex128, T int, m *Mask, tb, nb int) {
	if nb == block && m != nil { // constant lengths: no bounds checks on row and g
		for b := 0; b < bins; b++ {
			row := (*[block]complex128)(src[b*T : b*T+block])
			g := (*[block]float32)(m.Data[b*m.Stride+tb : b*m.Stride+tb+block])
			for j, v := range row {
				x := float64(g[j])
				coef[j*bins+b] = complex(real(v)*x, imag(v)*x)
			}
		}
		return
	}
	for b := 0; b < bins; b++ {
		row := src[b*T : b*T+nb]
		if m == nil {
			for j, v := range row {
				coef[j*bins+b] = v
			}
			continue
		}
		g := m.Data[b*m.Stride+tb : b*m.Stride+tb+nb]
		g = g[:len(row)]
		for j, v := range row {
			// v times the real g[j]: what v * complex(g, 0) is for finite
			// values, without its two zero products.
			x := float64(g[j])
			coef[j*bins+b] = complex(real(v)*x, imag(v)*x)
		}
	}
}

// overlapAdd adds window * scale * fr to dst, all of one length.
func overlapAdd(dst, window []float64, scale float64, fr []float64) {
	window, fr = window[:len(dst)], fr[:len(dst)]
	for k := range dst {
		dst[k] += window[k] * scale * fr[k]
	}
}
