package separation

import "github.com/dlnmf/dlnmf/nmf"

// Full-band live separation: a stream above the model's rate (a 48 kHz
// microphone, a 16 kHz model) is separated as Separate separates a file at
// that rate, frame by frame the same arithmetic. The model's bins are the
// first rows of each frame's spectrum and get their gains as at the
// model's rate; the bins above share the band by the rule of
// SeparateSettings.Upper. UpperSmoothed's gain at frame t sums frames
// t-upperRadius ... t+upperRadius, so frame t is resynthesised only once
// frame t+upperRadius has been inferred, and the latency grows by
// upperRadius hops. The last source is the mixture minus the others,
// sample by sample, as Separate makes it at such rates: the estimates add
// up to the mixture exactly.

// liveFull holds the frames inferred but not yet resynthesised, and the
// upper band's per-frame sums that their gains need.
type liveFull struct {
	rule   UpperBand
	radius int // frames of look-ahead: upperRadius for UpperSmoothed, else 0
	mb, ns int // the model's bins, the sources
	synth  int // the next frame to resynthesise; frames [synth, Live.next) wait
	// Per waiting frame, oldest first: its full spectrum and the sources'
	// gains of the model's bins (ns x mb), recycled through spare*.
	coefs  [][]complex128
	lower  [][]float32
	spareC [][]complex128
	spareL [][]float32
	// Row t-sumLo (ns+1 values) holds frame t's top-band magnitude weighted
	// by each source's gain, then the magnitude itself (smoothedUpper's
	// sums), for the frames from synth - radius on.
	sums  []float64
	sumLo int
	gain  []float32 // one frame's full-band gains
}

func newLiveFull(sp *Separator, bins int) *liveFull {
	f := &liveFull{rule: sp.upper, mb: sp.modelBins, ns: sp.sources(), gain: make([]float32, bins)}
	if f.rule == UpperSmoothed {
		f.radius = upperRadius
	}
	return f
}

// add keeps frame j of a batch (its full spectrum coef, the model's part
// of it Y, the sources' gains) until it can be resynthesised.
func (f *liveFull) add(coef []complex128, Y *nmf.Dense[float32], gains []nmf.Dense[float32], j int) {
	var c []complex128
	var g []float32
	if n := len(f.spareC); n > 0 {
		c, g = f.spareC[n-1], f.spareL[n-1]
		f.spareC, f.spareL = f.spareC[:n-1], f.spareL[:n-1]
	} else {
		c, g = make([]complex128, len(coef)), make([]float32, f.ns*f.mb)
	}
	copy(c, coef)
	for s := range gains {
		for b := range f.mb {
			g[s*f.mb+b] = gains[s].Data[b*gains[s].Stride+j]
		}
	}
	f.coefs, f.lower = append(f.coefs, c), append(f.lower, g)
	// smoothedUpper's sums, by the same function.
	n := len(f.sums)
	for range f.ns + 1 {
		f.sums = append(f.sums, 0)
	}
	upperSums(f.sums[n:], Y, gains, j, f.mb)
}

// ready returns how many waiting frames can be resynthesised once the
// frames before next are inferred, of T frames in all (T < 0: not known).
func (f *liveFull) ready(next, T int) int {
	if T >= 0 && next >= T {
		return len(f.coefs)
	}
	return max(0, next-f.radius-f.synth)
}

// upper returns source s's gain above the model's band at frame synth, of
// T frames in all (T < 0: not known): fullGains' rules, the same sums.
func (f *liveFull) upper(s, T int) float32 {
	t := f.synth
	switch f.rule {
	case UpperEven:
		return 1 / float32(f.ns)
	case UpperTopBin:
		return f.lower[0][s*f.mb+f.mb-1]
	}
	lo, hi := max(t-f.radius, 0), t+f.radius+1
	if T >= 0 {
		hi = min(hi, T)
	}
	w := f.ns + 1
	return upperRatio(f.sums[(lo-f.sumLo)*w:(hi-f.sumLo)*w], f.ns, s)
}

// pop drops the oldest waiting frame, once resynthesised, and the sums no
// later frame needs.
func (f *liveFull) pop() {
	f.spareC, f.spareL = append(f.spareC, f.coefs[0]), append(f.spareL, f.lower[0])
	f.coefs = f.coefs[:copy(f.coefs, f.coefs[1:])]
	f.lower = f.lower[:copy(f.lower, f.lower[1:])]
	f.synth++
	if drop := f.synth - f.radius - f.sumLo; drop > 0 {
		w := f.ns + 1
		f.sums = f.sums[:copy(f.sums, f.sums[drop*w:])]
		f.sumLo += drop
	}
}

// resynth adds every waiting frame that can be resynthesised into the
// sources' sums but the last (the mixture minus the others, made in emit),
// with its full-band gains; T as for ready.
func (l *Live) resynth(T int) {
	f := l.full
	for range f.ready(l.next, T) {
		lo := f.synth*l.hop - l.half - l.accLo
		g := f.lower[0]
		for s := range f.ns - 1 {
			l.acc[s] = zeroExtend(l.acc[s], lo+l.W)
			copy(f.gain[:f.mb], g[s*f.mb:(s+1)*f.mb])
			u := f.upper(s, T)
			for b := f.mb; b < len(f.gain); b++ {
				f.gain[b] = u
			}
			l.plan.InverseFrameAdd(l.acc[s][lo:lo+l.W], f.coefs[0], f.gain)
		}
		f.pop()
	}
}
