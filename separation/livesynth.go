package separation

import "github.com/dlnmf/dlnmf/nmf"

// Resynthesis of a Live's inferred frames, one rule at every rate. A frame
// waits in the liveSynth until the gains it needs are known, then is added
// into the sources' sums with them, oldest first.
//
// At the model's rate a frame's gains are its own, so it is added as soon
// as it is inferred. Above the model's rate (full band: a 48 kHz
// microphone, a 16 kHz model) the stream is separated as Separate
// separates a file at that rate, frame by frame the same arithmetic. The
// model's bins are the first rows of each frame's spectrum and get their
// gains as at the model's rate; the bins above share the band by the rule
// of SeparateSettings.Upper. UpperSmoothed's gain at frame t sums frames
// t-upperRadius ... t+upperRadius, so frame t is resynthesised only once
// frame t+upperRadius has been inferred, and the latency grows by
// upperRadius hops (Separator.liveLookAhead). The last source is then the
// mixture minus the others, sample by sample, as Separate makes it at such
// rates: the estimates add up to the mixture exactly (Live.emit).

// liveSynth holds the frames inferred but not yet resynthesised and, at
// full band, the upper band's per-frame sums that their gains need.
type liveSynth struct {
	fullBand bool // bins above the model's, whose gains follow rule
	rule     UpperBand
	radius   int // frames of look-ahead (Separator.liveLookAhead)
	mb, ns   int // the model's bins, the sources
	// gained sources are resynthesised with their gains: all of them at
	// the model's rate, all but the last at full band (the last is the
	// mixture minus the others).
	gained int
	synth  int // the next frame to resynthesise; frames [synth, Live.next) wait
	// Per waiting frame, oldest first: its full spectrum and the sources'
	// gains of the model's bins (ns x mb), recycled through spare*.
	coefs  [][]complex128
	lower  [][]float32
	spareC [][]complex128
	spareL [][]float32
	// At full band, row t-sumLo (ns+1 values) holds frame t's top-band
	// magnitude weighted by each source's gain, then the magnitude itself
	// (smoothedUpper's sums), for the frames from synth - radius on.
	sums  []float64
	sumLo int
	gain  []float32 // one frame's gains, all its bins
}

func newLiveSynth(sp *Separator, bins int) *liveSynth {
	f := &liveSynth{fullBand: sp.fullBand(), rule: sp.upper, radius: sp.liveLookAhead(),
		mb: sp.modelBins, ns: sp.sources(), gained: sp.sources(), gain: make([]float32, bins)}
	if f.fullBand {
		f.gained--
	}
	return f
}

// liveLookAhead returns the frames a Live waits for after a frame before
// resynthesising it: upperRadius for a full-band stream whose upper band
// is smoothed over frames (UpperSmoothed, the default), else none.
func (sp *Separator) liveLookAhead() int {
	if sp.fullBand() && sp.upper == UpperSmoothed {
		return upperRadius
	}
	return 0
}

// add keeps frame j of a batch (its full spectrum coef, the model's part
// of it Y, the sources' gains) until it can be resynthesised.
func (f *liveSynth) add(coef []complex128, Y *nmf.Dense[float32], gains []nmf.Dense[float32], j int) {
	c, g := take(&f.spareC, len(coef)), take(&f.spareL, f.ns*f.mb)
	copy(c, coef)
	for s := range gains {
		for b := range f.mb {
			g[s*f.mb+b] = gains[s].Data[b*gains[s].Stride+j]
		}
	}
	f.coefs, f.lower = append(f.coefs, c), append(f.lower, g)
	if f.fullBand {
		// smoothedUpper's sums, by the same function.
		n := len(f.sums)
		for range f.ns + 1 {
			f.sums = append(f.sums, 0)
		}
		upperSums(f.sums[n:], Y, gains, j, f.mb)
	}
}

// ready returns how many waiting frames can be resynthesised once the
// frames before next are inferred, of T frames in all (T < 0: not known).
func (f *liveSynth) ready(next, T int) int {
	if T >= 0 && next >= T {
		return len(f.coefs)
	}
	return max(0, next-f.radius-f.synth)
}

// frameGain fills f.gain with source s's gains of the oldest waiting frame
// (frame synth) of T frames in all (T < 0: not known): its own in the
// model's bins and, above them, fullGains' rules with the same sums.
func (f *liveSynth) frameGain(s, T int) []float32 {
	copy(f.gain[:f.mb], f.lower[0][s*f.mb:(s+1)*f.mb])
	if !f.fullBand {
		return f.gain
	}
	var u float32
	switch f.rule {
	case UpperEven:
		u = 1 / float32(f.ns)
	case UpperTopBin:
		u = f.lower[0][s*f.mb+f.mb-1]
	default:
		lo, hi := max(f.synth-f.radius, 0), f.synth+f.radius+1
		if T >= 0 {
			hi = min(hi, T)
		}
		w := f.ns + 1
		u = upperRatio(f.sums[(lo-f.sumLo)*w:(hi-f.sumLo)*w], f.ns, s)
	}
	for b := f.mb; b < len(f.gain); b++ {
		f.gain[b] = u
	}
	return f.gain
}

// pop drops the oldest waiting frame, once resynthesised, and the sums no
// later frame needs.
func (f *liveSynth) pop() {
	f.coefs, f.lower = dropFront(f.coefs, 1, &f.spareC), dropFront(f.lower, 1, &f.spareL)
	f.synth++
	if drop := f.synth - f.radius - f.sumLo; f.fullBand && drop > 0 {
		w := f.ns + 1
		f.sums = f.sums[:copy(f.sums, f.sums[drop*w:])]
		f.sumLo += drop
	}
}

// resynth adds every waiting frame that can be resynthesised into the
// sums of the sources with gains; T as for ready.
func (l *Live) resynth(T int) {
	f := l.synth
	for range f.ready(l.gnext, T) {
		lo := f.synth*l.hop - l.half - l.accLo
		for s := range f.gained {
			l.acc[s] = zeroExtend(l.acc[s], lo+l.W)
			l.plan.InverseFrameAdd(l.acc[s][lo:lo+l.W], f.coefs[0], f.frameGain(s, T))
		}
		f.pop()
	}
}
