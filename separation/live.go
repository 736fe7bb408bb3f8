package separation

import (
	"errors"
	"fmt"

	"github.com/dlnmf/dlnmf/internal/openblas"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/stft"
)

// Live separates a mixture as it arrives, for live use (a call, a meeting,
// a microphone): push samples with Push, and each source's estimate comes
// out to a sink as soon as it is final; Finish ends the stream. With every
// basis fixed, a frame's activations depend on that frame alone, so each
// frame is transformed, inferred and resynthesised once, when its last
// sample has arrived, one frame at a time: the same stream gives the same
// bits however it is cut into pushes.
//
// Latency. Frame t spans samples [t*Hop - Window/2, t*Hop + Window/2) and
// sample i is final once every frame that covers it has been added, the
// last being t = floor((i + Window/2)/Hop), whose last sample is i + Window
// at the most. So an output sample leaves at most Window samples (minus
// one) after the input sample of the same time arrived: Latency (64 ms
// at the paper's 16 kHz settings, within the one window plus one hop
// that live separation promises).
//
// The estimates are those of Separate on the whole signal, frame by frame
// the same arithmetic, but for two things: the activations of a frame are
// inferred alone rather than with the whole 30 s block, so the early stop
// on the cost (Tol) is tested on one frame, and the one-column kernel
// rounds its float32 products differently from the matrix products. With Tol < 0 (a fixed number of iterations) the difference
// is float32 rounding (see TestLiveEqualsSeparate).
//
// Free bases (SeparateSettings.Free) are learned online from a buffer of
// the last frames, every few frames (see OnlineFree and livefree.go), so
// the estimates differ from Separate's, which learns them on the whole
// mixture; the latency is the same, as the learning uses past frames only.
//
// A Live is not safe for concurrent use; the Separator it came from can
// serve other calls meanwhile.
type Live struct {
	sp                 *Separator
	w                  *work
	plan               *stft.Plan
	W, hop, half, bins int

	in     []float64 // input samples [inLo, inLo+len(in))
	inLo   int
	n      int // samples pushed
	next   int // the next frame to infer
	acc    [][]float64
	accLo  int // acc[s][0] is sample accLo; from -Window/2, where frame 0 starts
	sent   int // samples sent so far (those before 0 belong to no output)
	frame  []float64
	coef   []complex128 // frames x bins, the mixture's frames of one batch
	spec   stft.Spectrogram
	done   bool
	silent bool
	gainer liveGainer // the model's fixed bases, or with free bases learned online
	synth  *liveSynth // the frames waiting for resynthesis (livesynth.go)
}

// liveGainer infers a frame's activations and returns its gains (in
// w.parts, as Separator.gains): with every basis fixed (fixedGains), or with
// free bases learned online (liveFree, livefree.go).
type liveGainer interface {
	gains(sp *Separator, w *work, Y *nmf.Dense[float32]) ([]nmf.Dense[float32], error)
}

// fixedGains infers with the model's bases (and a universal model's) fixed.
type fixedGains struct{}

func (fixedGains) gains(sp *Separator, w *work, Y *nmf.Dense[float32]) ([]nmf.Dense[float32], error) {
	return sp.gains(w, Y, true)
}

// NewLive starts a stream at the separator's rate: with
// SeparateSettings.Rate above the model's, full band (see livesynth.go).
func (sp *Separator) NewLive() (*Live, error) {
	w := sp.work()
	st := w.plan.Settings()
	l := &Live{sp: sp, w: w, plan: w.plan, W: st.WindowSize, hop: st.Hop, half: st.WindowSize / 2, bins: w.plan.Bins(), silent: true}
	l.acc = make([][]float64, sp.sources())
	l.frame = make([]float64, l.W)
	l.accLo = -l.half
	l.gainer = fixedGains{}
	if sp.extra.free > 0 {
		l.gainer = newLiveFree(sp)
	}
	l.synth = newLiveSynth(sp, l.bins)
	return l, nil
}

// NewLiveLatency returns the Latency of the Lives that NewLive makes.
func (sp *Separator) NewLiveLatency() int {
	return sp.st.WindowSize - 1 + sp.liveLookAhead()*sp.st.Hop
}

// Latency returns the algorithmic latency in samples at the stream's rate:
// the largest delay between an input sample's arrival and the output of
// the samples of the same time, compute aside. It is Window - 1, plus
// upperRadius hops for a full-band stream whose upper band is smoothed
// over frames (UpperSmoothed, the default).
func (l *Live) Latency() int { return l.sp.NewLiveLatency() }

// Push adds samples of the mixture (at the model's rate) and sends every
// estimate sample that became final to sink, source by source (sink must
// not keep the slice). NaN or infinite samples stop the stream with an
// error.
func (l *Live) Push(x []float64, sink func(source int, y []float64) error) error {
	defer openblas.HoldSingle()() // see blas.go
	if l.done {
		return errors.New("separation: Push after Finish")
	}
	bad, sound := scanSamples(x)
	if bad >= 0 {
		return fmt.Errorf("sample %d is %v", l.n+bad, x[bad])
	}
	l.silent = l.silent && !sound
	l.in = append(l.in, x...)
	l.n += len(x)
	// Frame t is complete once sample t*hop + half - 1 has arrived.
	last := (l.n - l.half) / l.hop // frames [next, last] are complete
	if l.n < l.half {
		last = -1
	}
	if err := l.frames(last+1, -1); err != nil {
		return err
	}
	return l.emit(l.synth.synth*l.hop-l.half, -1, sink)
}

// Finish ends the stream: the last frames (zero beyond the end, as the
// offline STFT pads) are inferred and the rest of each estimate sent to
// sink. A stream that was silent throughout is an error, as for Separate,
// after its samples were sent.
func (l *Live) Finish(sink func(source int, y []float64) error) error {
	defer openblas.HoldSingle()() // see blas.go
	if l.done {
		return nil
	}
	l.done = true
	defer l.sp.works.Put(l.w)
	if l.n == 0 {
		return errors.New("the stream is empty")
	}
	if err := l.frames(l.plan.Frames(l.n), l.n); err != nil {
		return err
	}
	if err := l.emit(l.n, l.n, sink); err != nil {
		return err
	}
	if l.silent {
		return errSilent
	}
	return nil
}

// frames infers frames [l.next, end) and adds their estimates into acc; n is
// the signal's length when known (at the end), else -1. The frames go one
// at a time, through the engine's one-column kernel: the estimates then
// depend on the samples alone, not on how the stream was cut into pushes
// (a batch of frames would round its float32 products otherwise), so every
// door that feeds the same stream gives the same bits; with free bases each
// frame's inference also uses the free bases learned up to the frame
// before.
func (l *Live) frames(end, n int) error {
	for l.next < end {
		if err := l.batch(l.next+1, n); err != nil {
			return err
		}
	}
	T := -1
	if n >= 0 {
		T = l.plan.Frames(n)
	}
	l.resynth(T)
	// The next frame starts at next*hop - half, and at full band the last
	// source is the input minus the others from the first sample not sent.
	keep := min(l.next*l.hop-l.half, l.sent)
	// Input before keep is no longer needed.
	if drop := min(keep-l.inLo, len(l.in)); drop > 0 {
		l.in = l.in[:copy(l.in, l.in[drop:])]
		l.inLo += drop
	}
	return nil
}

// batch infers frames [l.next, end) together, as frames does.
func (l *Live) batch(end, n int) error {
	k := end - l.next
	bins, mb := l.bins, l.synth.mb // the model's bins are the first ones
	if cap(l.coef) < k*bins {
		l.coef = make([]complex128, k*bins)
	}
	coef := l.coef[:k*bins]
	for j := range k {
		start := (l.next+j)*l.hop - l.half
		for i := range l.frame {
			s := start + i
			if s >= l.inLo && s < l.inLo+len(l.in) && (n < 0 || s < n) {
				l.frame[i] = l.in[s-l.inLo]
			} else {
				l.frame[i] = 0
			}
		}
		l.plan.ForwardFrame(coef[j*bins:(j+1)*bins], l.frame)
	}
	// The batch's model bins as an mb x k spectrogram (bin-major, as
	// Forward lays it).
	if cap(l.spec.Data) < k*mb {
		l.spec.Data = make([]complex128, k*mb)
	}
	l.spec.Bins, l.spec.Frames, l.spec.Data = mb, k, l.spec.Data[:k*mb]
	for j := range k {
		for b := range mb {
			l.spec.Data[b*k+j] = coef[j*bins+b]
		}
	}
	Y := l.sp.modelMagnitude(l.w, &l.spec)
	gains, err := l.gainer.gains(l.sp, l.w, Y)
	if err != nil {
		return err
	}
	for j := range k {
		l.synth.add(coef[j*bins:(j+1)*bins], Y, gains, j)
	}
	l.next = end
	return nil
}

// emit divides samples [accLo, upto) by the overlap-add of the squared
// window and sends them; n as for frames.
func (l *Live) emit(upto, n int, sink func(int, []float64) error) error {
	if n >= 0 {
		upto = min(upto, n)
	}
	k := upto - l.accLo
	if upto <= l.sent || k <= 0 {
		return nil
	}
	skip := l.sent - l.accLo // samples before 0: dropped, never sent
	last := l.synth.gained   // the sources after them are made below from the input
	for s := range l.acc {
		l.acc[s] = zeroExtend(l.acc[s], k)
	}
	for s := range l.acc[:last] {
		y := l.acc[s][skip:k]
		for i := range y {
			if d := l.plan.Denominator(l.sent+i, n); d > 1e-10 {
				y[i] /= d
			}
		}
	}
	if last < len(l.acc) {
		// As Separate at rates above the model's: the mixture minus the
		// other sources, so that the estimates add up to it exactly.
		mixtureMinus(l.acc[last][skip:k], l.in[l.sent-l.inLo:], last, func(s int) []float64 { return l.acc[s][skip:] })
	}
	for s := range l.acc {
		if err := sink(s, l.acc[s][skip:k]); err != nil {
			return err
		}
		l.acc[s] = l.acc[s][:copy(l.acc[s], l.acc[s][k:])]
	}
	l.accLo, l.sent = upto, upto
	return nil
}

// zeroExtend returns a extended with zeros to n values when shorter.
func zeroExtend(a []float64, n int) []float64 {
	if len(a) >= n {
		return a
	}
	return append(a, make([]float64, n-len(a))...)
}

// ErrSilent is the error of a signal or stream that was silent throughout
// (all samples zero): Separate, SeparateStream and Live.Finish return it.
var ErrSilent = errSilent
