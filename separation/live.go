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
// basis fixed, a frame's activations depend on that frame alone (on its
// patch, for a model of T-frame patches: the frames around it), so each
// frame is transformed, inferred and resynthesised once, when the samples
// it needs have arrived, one frame at a time: the same stream gives the
// same bits however it is cut into pushes.
//
// Latency. Frame t spans samples [t*Hop - Window/2, t*Hop + Window/2) and
// sample i is final once every frame that covers it has been added, the
// last being t = floor((i + Window/2)/Hop), whose last sample is i + Window
// at the most. So an output sample leaves at most Window samples (minus
// one) after the input sample of the same time arrived: Latency (64 ms
// at the paper's 16 kHz settings, within the one window plus one hop
// that live separation promises). A model of T-frame patches adds T-1
// hops: frame t's patch reaches frame t+c (c = (T-1)/2), and its
// magnitude is the mean of the patches t-c ... t+c, which reach t+2c.
//
// The estimates are those of Separate on the whole signal, frame by frame
// the same arithmetic, but for two things: the activations of a frame are
// inferred alone rather than with the whole 30 s block, so the early stop
// on the cost (Tol) is tested on one frame, and the one-column kernel
// rounds its float32 products differently from the matrix products. With
// Tol < 0 (a fixed number of iterations) the difference is float32
// rounding, patches too (see TestLiveEqualsSeparate).
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
	n      int         // samples pushed
	next   int         // the next frame to transform
	pnext  int         // the next patch column to infer (one per frame)
	gnext  int         // the next frame whose gains are due
	c      int         // the patches' half width, (Model.Context - 1) / 2
	mags   [][]float32 // frames [magLo, next): the mixture's magnitude in the model's bins
	magLo  int
	coefs  [][]complex128 // frames [gnext, next): the mixture's full spectrum
	recs   [][][]float32  // per source, its reconstruction of patch columns [recLo, pnext)
	recLo  int
	spareC [][]complex128 // recycled coefs, mags and recs
	spareM [][]float32
	spareR [][]float32
	x      nmf.Dense[float32] // one patch column
	win    nmf.Dense[float32] // the fold's window of reconstructions
	ywin   nmf.Dense[float32] // the gains' window of magnitudes
	parts  []nmf.Dense[float32]
	acc    [][]float64
	accLo  int // acc[s][0] is sample accLo; from -Window/2, where frame 0 starts
	sent   int // samples sent so far (those before 0 belong to no output)
	frame  []float64
	spec   stft.Spectrogram
	done   bool
	silent bool
	gainer liveGainer // the model's fixed bases, or with free bases learned online
	synth  *liveSynth // the frames waiting for resynthesis (livesynth.go)
}

// Batches of a Live's frames (SeparateSettings.LiveBatch). One frame at a
// time is the default for a model of single frames: the least latency. A
// model of patches (Model.Context > 1) reads bases Context times larger
// per frame, one at a time too slowly for one core to keep up with a
// stream (the validated preset's shape: docs/RESULTS.md, "Live
// separation"), and its patches wait Context-1 hops already; its default
// is DefaultPatchLiveBatch frames, and DefaultLargePatchLiveBatch when
// the basis inference reads holds more than LargePatchBasis values: the
// default preset's 2 x 400 bases of 5 x 513 rows run at 0.8x real time on
// one core in batches of 4, 1.6x in batches of 8, while on 128 bands
// (SeparateSettings.Bands: 5 x 128 rows, the size of K = 100 on every
// bin) they run at 3.2x in batches of 4 (docs/RESULTS.md, "A larger
// dictionary" and "Inference on bands"); a stream that does not keep up
// falls further behind with every frame.
const (
	DefaultLiveBatch           = 1
	DefaultPatchLiveBatch      = 4
	DefaultLargePatchLiveBatch = 8
	LargePatchBasis            = 256 * 5 * 513 // values: 2 x 128 bases of 5-frame patches of 513 bins
	MaxLiveBatch               = 64            // 1 s of frames at the paper's hop
)

// defaultLiveBatch is a Live's batch when SeparateSettings.LiveBatch is 0,
// for a model of context-frame patches whose inference reads a basis of
// rows x columns.
func defaultLiveBatch(context, rows, columns int) int {
	switch {
	case context == 1:
		return DefaultLiveBatch
	case rows*columns > LargePatchBasis:
		return DefaultLargePatchLiveBatch
	default:
		return DefaultPatchLiveBatch
	}
}

// liveGainer infers the activations of a patch column X (one frame's
// magnitude in the model's bins, or its patch) and returns each source's
// reconstruction of it (Separator.products): with every basis fixed
// (fixedGains), or with free bases learned online (liveFree, livefree.go).
type liveGainer interface {
	reconstruct(sp *Separator, w *work, X *nmf.Dense[float32]) ([]nmf.Dense[float32], error)
}

// fixedGains infers with the model's bases (and a universal model's) fixed.
type fixedGains struct{}

func (fixedGains) reconstruct(sp *Separator, w *work, X *nmf.Dense[float32]) ([]nmf.Dense[float32], error) {
	H, bases, err := sp.activations(w, X, true)
	if err != nil {
		return nil, err
	}
	return sp.products(w, X, H, bases), nil
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
	l.c = (sp.context - 1) / 2
	l.recs = make([][][]float32, sp.sources())
	l.gainer = fixedGains{}
	if sp.extra.free > 0 {
		l.gainer = newLiveFree(sp)
	}
	l.synth = newLiveSynth(sp, l.bins)
	return l, nil
}

// LiveBatch returns the frames a Live infers together: SeparateSettings.LiveBatch or its default.
func (sp *Separator) LiveBatch() int { return sp.liveBatch }

// NewLiveLatency returns the Latency of the Lives that NewLive makes.
func (sp *Separator) NewLiveLatency() int {
	return sp.st.WindowSize - 1 + (sp.context-1+sp.liveBatch-1+sp.liveLookAhead())*sp.st.Hop
}

// Latency returns the algorithmic latency in samples at the stream's rate:
// the largest delay between an input sample's arrival and the output of
// the samples of the same time, compute aside. It is Window - 1, plus T-1
// hops for a model of T-frame patches, plus LiveBatch-1 hops for batches
// (SeparateSettings.LiveBatch), plus upperRadius hops for a
// full-band stream whose upper band is smoothed over frames
// (UpperSmoothed, the default).
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

// frames transforms frames [l.next, end), infers every patch column whose
// frames have all arrived, forms the gains of every frame whose patch
// columns are all inferred and adds the estimates of every frame that can
// be resynthesised into acc; n is the signal's length when known (at the
// end), else -1.
//
// The arithmetic is Separate's, frame by frame. A model of T-frame patches
// (Model.Context, c = (T-1)/2) infers the activations of patch column t on
// frames t-c ... t+c, the first frame standing in for those before it and,
// at the end, the last for those after it, as nmf.Unfold pads; frame t's
// magnitude is the mean of its part of the reconstructions of the patch
// columns t-c ... t+c (nmf.Fold). So frame t's gains wait for frame t+2c:
// 2c hops of latency. The columns go one at a time by default, through the
// engine's one-column kernel, or in batches of SeparateSettings.LiveBatch
// that start at its multiples: either way the estimates depend on the
// samples alone, not on how the stream was cut into pushes (batches of
// other columns would round their float32 products otherwise), so every
// door that feeds the same stream gives the same bits; with free bases
// each batch's inference also uses the free bases learned up to the batch
// before.
func (l *Live) frames(end, n int) error {
	for ; l.next < end; l.next++ {
		l.transform(n)
	}
	T := -1
	if n >= 0 {
		T = l.plan.Frames(n)
	}
	pend := l.next - l.c // the patch columns whose frames have all arrived
	if T >= 0 {
		pend = T
	}
	B := l.sp.liveBatch
	for l.pnext < pend {
		e := (l.pnext/B + 1) * B // batches start at multiples of B
		if e > pend {
			if T < 0 {
				break // the rest of the batch has not arrived
			}
			e = pend
		}
		if err := l.infer(e, T); err != nil {
			return err
		}
	}
	gend := l.pnext - l.c // the frames whose patch columns are all inferred
	if T >= 0 {
		gend = T
	}
	if l.gnext < gend {
		l.gains(gend, T)
	}
	l.resynth(T)
	// Frames from gnext - 2c on are still read (patches and the fold's
	// window), and the reconstructions of columns from gnext - c on.
	l.mags, l.magLo = dropFront(l.mags, l.gnext-2*l.c-l.magLo, &l.spareM), max(l.magLo, l.gnext-2*l.c)
	l.recLo = l.dropRecs(l.gnext - l.c)
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

// transform adds frame l.next's full spectrum to coefs and its magnitude in
// the model's bins to mags; n as for frames.
func (l *Live) transform(n int) {
	start := l.next*l.hop - l.half
	for i := range l.frame {
		s := start + i
		if s >= l.inLo && s < l.inLo+len(l.in) && (n < 0 || s < n) {
			l.frame[i] = l.in[s-l.inLo]
		} else {
			l.frame[i] = 0
		}
	}
	coef := take(&l.spareC, l.bins)
	l.plan.ForwardFrame(coef, l.frame)
	// The model's bins as an mb x 1 spectrogram.
	mb := l.synth.mb
	l.spec.Bins, l.spec.Frames, l.spec.Data = mb, 1, coef[:mb]
	Y := l.sp.modelMagnitude(l.w, &l.spec)
	mag := take(&l.spareM, mb)
	copy(mag, Y.Data[:mb])
	l.coefs, l.mags = append(l.coefs, coef), append(l.mags, mag)
}

// infer infers patch columns [l.pnext, end) together, of T frames in all
// (T < 0: not known), and keeps each source's reconstruction of them.
func (l *Live) infer(end, T int) error {
	c, mb, k := l.c, l.synth.mb, end-l.pnext
	X := sized(&l.x, (2*c+1)*mb, k)
	for j := range k {
		for tau := range 2*c + 1 {
			f := max(l.pnext+j+tau-c, 0)
			if T >= 0 {
				f = min(f, T-1)
			}
			mag := l.mags[f-l.magLo]
			for b, v := range mag {
				X.Data[(tau*mb+b)*X.Stride+j] = v
			}
		}
	}
	recs, err := l.gainer.reconstruct(l.sp, l.w, X)
	if err != nil {
		return err
	}
	for s := range recs {
		for j := range k {
			r := take(&l.spareR, X.Rows)
			for i := range r {
				r[i] = recs[s].Data[i*recs[s].Stride+j]
			}
			l.recs[s] = append(l.recs[s], r)
		}
	}
	l.pnext = end
	return nil
}

// gains forms the gains of frames [l.gnext, end) from the reconstructions
// of the patch columns that cover them, as Separator.wiener does, and hands
// each frame to the synthesiser; T as for infer.
func (l *Live) gains(end, T int) {
	c, mb, ns := l.c, l.synth.mb, len(l.recs)
	lo, hi := max(l.gnext-c, 0), end+c // the columns covering them
	if T >= 0 {
		hi = min(hi, T)
	}
	k := hi - lo
	if len(l.parts) != ns {
		l.parts = make([]nmf.Dense[float32], ns)
	}
	rows := (2*c + 1) * mb
	for s := range ns {
		p := sized(&l.parts[s], mb, k)
		if c == 0 {
			for j := range k {
				copy1(p, j, l.recs[s][lo+j-l.recLo])
			}
			continue
		}
		P := sized(&l.win, rows, k)
		for j := range k {
			copy1(P, j, l.recs[s][lo+j-l.recLo])
		}
		nmf.Fold(p, P, l.sp.context)
	}
	gains := l.sp.mask(l.w, l.parts)
	Y := sized(&l.ywin, mb, k)
	for j := range k {
		copy1(Y, j, l.mags[lo+j-l.magLo])
	}
	for t := l.gnext; t < end; t++ {
		l.synth.add(l.coefs[0], Y, gains, t-lo)
		l.coefs = dropFront(l.coefs, 1, &l.spareC)
	}
	l.gnext = end
}

// dropRecs drops the reconstructions of the columns before from and
// returns the first column kept.
func (l *Live) dropRecs(from int) int {
	d := from - l.recLo
	if d <= 0 {
		return l.recLo
	}
	for s := range l.recs {
		l.recs[s] = dropFront(l.recs[s], d, &l.spareR)
	}
	return from
}

// copy1 sets column j of m (one value per row) to v.
func copy1(m *nmf.Dense[float32], j int, v []float32) {
	for i := range m.Rows {
		m.Data[i*m.Stride+j] = v[i]
	}
}

// take returns a slice of n values from spare's last, or a new one.
func take[T any](spare *[][]T, n int) []T {
	if k := len(*spare); k > 0 {
		v := (*spare)[k-1]
		*spare = (*spare)[:k-1]
		if cap(v) >= n {
			return v[:n]
		}
	}
	return make([]T, n)
}

// dropFront removes the first d slices of q (none when d <= 0) into spare
// and returns q.
func dropFront[T any](q [][]T, d int, spare *[][]T) [][]T {
	if d <= 0 {
		return q
	}
	d = min(d, len(q))
	*spare = append(*spare, q[:d]...)
	return q[:copy(q, q[d:])]
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
