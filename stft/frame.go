package stft

// One frame at a time, for streams: ForwardFrame and InverseFrameAdd are
// Forward and Inverse for a single frame, with the same arithmetic, and
// Denominator is the division Inverse applies to each sample once every
// frame has been added. A stream separator (see separation.Live) runs the
// STFT frame by frame as samples arrive with these three.

// ForwardFrame sets dst (Bins() values) to the DFT of x (WindowSize
// samples) times the window. Frame t of Forward is ForwardFrame of the
// signal's samples [t*Hop - WindowSize/2, t*Hop + WindowSize/2), with zeros
// where the signal has none. The plan's buffers are used: not for
// concurrent use, as every Plan method.
func (p *Plan) ForwardFrame(dst []complex128, x []float64) {
	W := p.s.WindowSize
	if len(dst) != p.bins || len(x) != W {
		panic("stft: ForwardFrame needs Bins() coefficients and WindowSize samples")
	}
	w := p.workers[0]
	windowFrame(w.frame[:W], p.window, x)
	clear(w.frame[W:])
	w.fft.Forward(dst, w.frame)
}

// InverseFrameAdd adds to dst (the WindowSize samples of the frame's place
// in the signal) the windowed inverse DFT of coef (Bins() values), each
// multiplied by its real gain when gain is not nil: what Inverse and
// InverseMasked add for one frame, before their division by the
// overlap-add of the squared window (see Denominator).
func (p *Plan) InverseFrameAdd(dst []float64, coef []complex128, gain []float32) {
	W := p.s.WindowSize
	if len(dst) != W || len(coef) != p.bins || gain != nil && len(gain) != p.bins {
		panic("stft: InverseFrameAdd needs WindowSize samples, Bins() coefficients and gains")
	}
	w := p.workers[0]
	c := w.coef[:p.bins]
	if gain == nil {
		copy(c, coef)
	} else {
		for b, v := range coef {
			// As gatherFrames: v times the real gain, without the two zero
			// products of a complex multiplication.
			x := float64(gain[b])
			c[b] = complex(real(v)*x, imag(v)*x)
		}
	}
	fr := w.fft.Inverse(w.frame, c)
	overlapAdd(dst, p.window, 1/float64(p.s.FFTSize), fr[:W])
}

// Denominator returns the overlap-add of the squared window that Inverse
// divides sample i of an n-sample signal by (it leaves a sample whose
// denominator is 1e-10 or less undivided). n < 0 stands for a stream whose
// end is not known yet: the frames after i are all there, as they are for
// every sample of a signal but its last WindowSize/2 or so.
func (p *Plan) Denominator(i, n int) float64 {
	W, hop, half := p.s.WindowSize, p.s.Hop, p.s.WindowSize/2
	i0 := max(W-1-half, 0)
	T := int(^uint(0) >> 2) // as many frames as needed
	i1 := T
	if n >= 0 {
		T = p.Frames(n)
		i0 = min(i0, n)
		i1 = max(min(T*hop-half, n), i0)
	}
	if i >= i0 && i < i1 {
		return p.steady[(i+half)%hop]
	}
	pos := i + half
	var d float64
	for t := max(0, (pos-W+hop)/hop); t <= min(T-1, pos/hop); t++ {
		if k := pos - t*hop; k >= 0 && k < W {
			d += p.window[k] * p.window[k]
		}
	}
	return d
}
