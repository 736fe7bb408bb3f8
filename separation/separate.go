package separation

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/dlnmf/dlnmf/internal/openblas"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/stft"
)

// DefaultBlockSeconds is the length of the blocks a long recording is
// separated in: long enough that the margins cost little, short enough that
// memory stays small (about 25 MB of spectrogram per block).
const DefaultBlockSeconds = 30

// Separator separates mixtures with a model. It is safe for concurrent use:
// every call takes its own working buffers from a pool.
type Separator struct {
	model *Model
	works sync.Pool // of *work: one call's buffers, reused by later calls
	st    stft.Settings
	basis *nmf.Dense[float32] // the speakers' bases side by side, summed over bands when pool is set
	pool  *bandPool           // inference on bands (SeparateSettings.Bands); nil: every bin
	// coarse is the coarse start (SeparateSettings.CoarseBands; nil:
	// none): coarseIters iterations with coarseBasis, the bases summed
	// over its bands.
	coarse      *bandPool
	coarseBasis *nmf.Dense[float32]
	coarseIters int
	bases       []*nmf.Dense[float32]
	settings    nmf.Settings
	block       int     // samples per block, a multiple of the hop
	margin      int     // context samples on each side of a block, a multiple of the hop
	context     int     // patch width (Model.Context), 1 for single frames
	power       float64 // mask exponent
	// liveIters are a Live's inference iterations per frame:
	// SeparateSettings.NMF.MaxIter, or when that is 0 DefaultLiveIters
	// (DefaultFineIters after a coarse start).
	liveIters int
	// liveStep is a Live's step exponent: SeparateSettings.NMF's, never
	// the model's default (Model.StepExponent), which is offline's.
	liveStep  float64
	liveBatch int // SeparateSettings.LiveBatch, at least 1
	extra     extraSource
	online    OnlineFree     // how a Live learns free bases, resolved
	deep      *deepInference // a deep-unfolded model's inference; nil: none
	// recon are a deep-unfolded or discriminative model's reconstruction
	// bases, one per speaker, which its gains use in place of the
	// speakers' bases; nil: none.
	recon []*nmf.Dense[float32]

	// Full band (Rate above the model's): the STFT runs at Rate with the
	// model's window and hop in seconds; the model sees its own bins, the
	// first modelBins rows, with magnitudes scaled by magScale to the
	// model's window; the bins above get gains by the upper rule.
	rate      int
	modelBins int
	magScale  float32
	upper     UpperBand
}

// UpperBand is how Separator shares the band above the model's Nyquist
// frequency between the speakers when the mixture's rate is higher than the
// model's. Every rule gives gains that add up to 1, so the estimates still
// add up to the mixture.
type UpperBand int

const (
	// UpperSmoothed (the default) gives every bin above the model's band,
	// in frame t, speaker s's share of the magnitude of the model's top
	// quarter band (6 to 8 kHz for a 16 kHz model) over frames t-2 ... t+2:
	// sum Y[b,τ] G_s[b,τ] / sum Y[b,τ]. Speech above 8 kHz (fricatives,
	// breath, the upper harmonics of voiced sounds) comes with energy
	// just below it, from the same talker, and the average over 80 ms
	// keeps single noisy gains from flickering in the high band. On TSP
	// FA/MC at 48 kHz (TestFullBandTSP, 10 estimates) it scores 7.83 dB
	// against 7.74 (UpperTopBin) and 7.76 (UpperEven); half-widths of 0,
	// 5 and 10 frames and bands from 0.5 or 0.9 of the model's bins all
	// scored within 0.01 dB of it: the band above 8 kHz holds about 1% of
	// speech's energy, so the rule matters little to SDR.
	UpperSmoothed UpperBand = iota
	// UpperTopBin copies the gains of the model's highest bin, frame by
	// frame (measured against UpperSmoothed in the TSP test).
	UpperTopBin
	// UpperEven splits the upper band evenly between the speakers.
	UpperEven
)

// upperRadius is UpperSmoothed's half-width in frames, and upperFrom the
// start of the band it averages, as a fraction of the model's bins.
const (
	upperRadius = 2
	upperFrom   = 0.75
)

// SeparateSettings control a Separator; zero values mean defaults.
type SeparateSettings struct {
	// NMF sets the inference: MaxIter 0 means the model's default
	// (Model.SeparateIters) or nmf.DefaultMaxIter (DefaultFreeIters with
	// free bases) for Separate and DefaultLiveIters for a Live, which
	// always runs exactly its iterations (no Tol); FreeStart's zero value
	// starts free bases from the mixture's quietest frames
	// (DefaultFreeStart); tolerance, workers; StepExponent takes longer
	// steps of H to the same activations (nmf.Settings.StepExponent), on
	// bands and every bin, offline and live, fixed bases only: not with
	// free bases or a deep-unfolded model. StepExponent 0 means the
	// model's default (Model.StepExponent) where it applies offline, else
	// 1, the usual update (always, for a Live).
	NMF          nmf.Settings
	BlockSeconds float64 // 0: DefaultBlockSeconds
	// Free bases are learned on each mixture (each block of a long one)
	// for what the model's speakers do not explain, with the model's bases
	// fixed; their estimate is one more source, OtherName. 0: none, but
	// DefaultFree for a model of one speaker without a universal model,
	// which needs another source (Separator.Free says how many it uses).
	Free int
	// Online sets how a Live learns the free bases as the stream goes
	// (see OnlineFree); Separate does not use it.
	Online OnlineFree
	// LiveBatch is the number of frames a Live infers together, in
	// batches that start at multiples of it (so the bits still do not
	// depend on how the stream is cut): a batch goes through the engine's
	// matrix products, which read the bases once for all its frames where
	// one frame at a time reads them once per frame, at LiveBatch-1 hops
	// more latency. 0: DefaultLiveBatch, or for a model of patches
	// DefaultPatchLiveBatch (DefaultLargePatchLiveBatch when the basis
	// inference reads, on Bands or every bin, holds more than
	// LargePatchBasis values); at most MaxLiveBatch.
	LiveBatch int
	// UniversalWeight weighs the group-sparsity penalty of a universal
	// model's activations, relative to the mixture's magnitude (not the L1
	// penalty of training, TrainSettings.Sparsity); 0:
	// DefaultUniversalWeight (DefaultUniversalWeightOne for a universal
	// model of one speaker).
	UniversalWeight float64

	// Rate is the sample rate of the mixtures, 0 for the model's. Above the
	// model's rate the separation is full band: the estimates are at Rate,
	// keep the whole band and add up to the mixture (see the package doc).
	// Below it is an error: resample the mixture up first.
	Rate  int
	Upper UpperBand // how the band above the model's is shared
	// MaskPower is the mask exponent; 0: the model's (Model.MaskPower).
	MaskPower float64
	// Bands infers H on the mixture's magnitude summed over this many
	// bands evenly spaced on the mel scale (BandEdges; MinBands to the
	// model's bins) instead of every bin, with the bases summed alike; the
	// gains still come from the full bases (bands.go). Each iteration
	// costs about Bands / bins as much. 0: the model's default (Model.Bands;
	// every bin for a model that records none, and beside free bases or a
	// universal model); EveryBin: every bin. Fixed bases only: not with
	// free bases, a universal model or a deep-unfolded model.
	Bands int
	// CoarseBands starts H from CoarseIters iterations on this many
	// mel-spaced bands (fewer than the bands inference reads, Bands or the
	// model's, or than the bins); NMF.MaxIter iterations on those then
	// continue from it (bands.go), DefaultFineIters when it is 0, offline
	// and live. 0: no coarse start.
	// Fixed bases only, as Bands.
	CoarseBands int
	// CoarseIters is the number of iterations on CoarseBands, run in full
	// (no tolerance); 0: DefaultCoarseIters.
	CoarseIters int
}

// CheckStepExponent checks a step exponent (SeparateSettings.NMF.StepExponent,
// nmf.CheckStepExponent) for a model of unfold unfolded iterations: a
// deep-unfolded model's layers are trained for the usual update and take
// none.
func CheckStepExponent(e float64, unfold int) error {
	if err := nmf.CheckStepExponent(e); err != nil {
		return err
	}
	if e > 1 && unfold > 0 {
		return fmt.Errorf("a deep-unfolded model runs its %d trained iterations with the usual update: no step exponent", unfold)
	}
	return nil
}

// MaxSeparateIters bounds a model's default inference iterations
// (Model.SeparateIters, TrainSettings.SeparateIters): a count a model file
// carries runs on every mixture a user separates without choosing it.
const MaxSeparateIters = 10000

// CheckModelStep checks TrainSettings' StepExponent and SeparateIters,
// before any work: a step exponent of 0 or 1 to nmf.StepExponentLimit, and
// 0 to MaxSeparateIters iterations.
func CheckModelStep(e float64, iters int) error { return checkModelStep(e, iters, 0) }

// checkModelStep checks a model's default step exponent and inference
// iterations (Model.StepExponent and SeparateIters, TrainSettings alike)
// for a model of unfold unfolded iterations, which runs exactly those.
func checkModelStep(e float64, iters, unfold int) error {
	if err := CheckStepExponent(e, unfold); err != nil {
		return err
	}
	switch {
	case iters < 0 || iters > MaxSeparateIters:
		return fmt.Errorf("inference iterations %d: want 1 to %d (0: %d)", iters, MaxSeparateIters, nmf.DefaultMaxIter)
	case iters > 0 && unfold > 0:
		return fmt.Errorf("inference iterations %d for a deep-unfolded model, which runs its %d trained iterations", iters, unfold)
	}
	return nil
}

// NewSeparator prepares m for separation: it validates the model and forms
// each speaker's basis once.
func NewSeparator(m *Model, s SeparateSettings) (*Separator, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	switch {
	case m.deep() && s.Free > 0:
		return nil, fmt.Errorf("a deep-unfolded model runs its %d trained iterations and learns no free bases", m.Unfold)
	}
	if s.Free == 0 && m.Universal == nil && len(m.Speakers) == 1 {
		s.Free = DefaultFree
	}
	// The model's default inference, offline and where it applies
	// (Model.StepExponent).
	liveStep, modelIters := s.NMF.StepExponent, 0
	if s.Free == 0 && m.Universal == nil && !m.deep() && s.CoarseBands == 0 {
		if s.NMF.StepExponent == 0 {
			s.NMF.StepExponent = m.StepExponent
		}
		modelIters = m.SeparateIters
	}
	if err := CheckStepExponent(s.NMF.StepExponent, m.Unfold); err != nil {
		return nil, err
	}
	stepped := s.NMF.StepExponent > 1
	plan, err := stft.NewPlan(m.STFT)
	if err != nil {
		return nil, err
	}
	if s.MaskPower != 0 {
		if err := CheckMaskPower(s.MaskPower); err != nil {
			return nil, err
		}
	}
	sep := &Separator{model: m, st: plan.Settings(), settings: m.nmfSettings(s.NMF), rate: m.SampleRate, modelBins: plan.Bins(), magScale: 1, upper: s.Upper,
		context: m.context(), power: m.maskPower()}
	if s.MaskPower != 0 {
		sep.power = s.MaskPower
	}
	switch {
	case s.Rate < 0 || s.Rate > 0 && s.Rate < m.SampleRate:
		return nil, fmt.Errorf("the mixture's rate %d Hz is below the model's %d Hz", s.Rate, m.SampleRate)
	case s.Rate > m.SampleRate:
		// The same window and hop in seconds: bin b is at the same
		// frequency as the model's bin b (to within half a bin's
		// rounding of the FFT size), and the model's bins are the first
		// rows of the spectrogram.
		ratio := float64(s.Rate) / float64(m.SampleRate)
		st := plan.Settings()
		full := stft.Settings{
			FFTSize:    int(math.Round(float64(st.FFTSize) * ratio)),
			WindowSize: int(math.Round(float64(st.WindowSize) * ratio)),
			Hop:        int(math.Round(float64(st.Hop) * ratio)),
		}
		full.FFTSize = max(full.FFTSize, full.WindowSize)
		if plan, err = stft.NewPlan(full); err != nil {
			return nil, err
		}
		sep.st, sep.rate = plan.Settings(), s.Rate
		// A window ratio times longer sums ratio times more samples.
		sep.magScale = float32(float64(st.WindowSize) / float64(full.WindowSize))
	}
	if s.Upper < UpperSmoothed || s.Upper > UpperEven {
		return nil, fmt.Errorf("unknown upper-band rule %d", s.Upper)
	}
	sep.works.Put(&work{plan: plan})
	if s.LiveBatch < 0 || s.LiveBatch > MaxLiveBatch {
		return nil, fmt.Errorf("live batch of %d frames: want 1 to %d", s.LiveBatch, MaxLiveBatch)
	}
	sep.liveIters, sep.liveStep = sep.settings.MaxIter, liveStep
	if sep.liveIters == 0 {
		sep.liveIters = DefaultLiveIters
		if s.CoarseBands > 0 {
			sep.liveIters = DefaultFineIters
		}
	}
	if sep.settings.MaxIter == 0 {
		switch {
		case s.Free > 0:
			sep.settings.MaxIter = DefaultFreeIters
		case s.CoarseBands > 0:
			sep.settings.MaxIter = DefaultFineIters
		case modelIters > 0:
			sep.settings.MaxIter = modelIters
		default:
			sep.settings.MaxIter = nmf.DefaultMaxIter
		}
	}
	for i := range m.Speakers {
		sep.bases = append(sep.bases, m.Speakers[i].Basis())
	}
	if err := sep.extra.init(sep, s); err != nil {
		return nil, err
	}
	if sep.online, err = s.Online.resolve(); err != nil {
		return nil, err
	}
	if stepped && sep.extra.free > 0 {
		return nil, fmt.Errorf("free bases are learned with the usual update: no step exponent (give the model a speaker for every voice of the mixture)")
	}
	sep.basis = nmf.HConcat(nil, sep.bases...)
	bands := s.Bands
	if bands == 0 && sep.extra.free == 0 && sep.extra.name == "" {
		// The model's default, where inference on bands applies.
		bands = m.Bands
	}
	if sep.pool, err = newBandPool(m, sep.modelBins, bands); err != nil {
		return nil, err
	}
	if err := CheckCoarse(s.CoarseBands, s.CoarseIters, bands, sep.modelBins, m.Unfold); err != nil {
		return nil, err
	}
	if sep.coarse, err = newBandPool(m, sep.modelBins, s.CoarseBands); err != nil {
		return nil, err
	}
	if sep.pool != nil || sep.coarse != nil {
		switch {
		case sep.extra.free > 0:
			return nil, fmt.Errorf("inference on bands learns no free bases: give the model a speaker for every voice of the mixture")
		case sep.extra.name != "":
			return nil, fmt.Errorf("inference on bands takes no universal model (%s)", sep.extra.name)
		}
	}
	if sep.coarse != nil {
		sep.coarseBasis = sep.coarse.pool(&nmf.Dense[float32]{}, sep.basis)
		sep.coarseIters = cmp.Or(s.CoarseIters, DefaultCoarseIters)
	}
	if sep.pool != nil {
		sep.basis = sep.pool.pool(&nmf.Dense[float32]{}, sep.basis)
	}
	sep.liveBatch = s.LiveBatch
	if sep.liveBatch == 0 {
		sep.liveBatch = defaultLiveBatch(sep.context, sep.basis.Rows, sep.basis.Cols)
	}
	if m.deep() {
		sep.deep = newDeepInference(m, sep.settings)
		sep.liveIters = m.Unfold
	}
	// Reconstruction bases were trained for the speakers' gains alone:
	// beside free bases every source's gains use its analysis bases.
	if m.HasReconstructionBases() && s.Free == 0 {
		for i := range m.Speakers {
			sep.recon = append(sep.recon, m.Speakers[i].Reconstruction)
		}
	}
	st := sep.st
	hop := st.Hop
	// A frame's window spans WindowSize samples around its centre, so an
	// output sample depends on frames whose support reaches one window
	// further out: a margin of one window (rounded up to whole hops) makes
	// every frame that touches the block exact.
	// With patches of T frames, H at frame t sees frames t-c ... t+c
	// (c = (T-1)/2) and the magnitude at t folds H's frames t-c ... t+c:
	// 2c more frames of context on each side.
	sep.margin = (st.WindowSize+hop-1)/hop*hop + (sep.context-1)*hop
	if sep.fullBand() {
		// The upper band's gains of a frame reach upperRadius frames out.
		sep.margin += upperRadius * hop
	}
	if s.BlockSeconds == 0 {
		s.BlockSeconds = DefaultBlockSeconds
	}
	blk := int(s.BlockSeconds * float64(sep.rate))
	sep.block = max(blk/hop, 4*st.WindowSize/hop) * hop
	return sep, nil
}

// work holds one call's buffers: an STFT plan (whose own buffers serve one
// call at a time), the spectrograms, H, the gains and the segment's
// samples. Reusing them keeps a separation from allocating (and the garbage
// collector from clearing) several megabytes per call.
type work struct {
	plan     *stft.Plan
	spec     stft.Spectrogram
	Y, H     nmf.Dense[float32]
	patches  nmf.Dense[float32] // Y unfolded (Model.Context > 1)
	pooled   nmf.Dense[float32] // Y or its patches summed over bands (Separator.pool)
	coarseX  nmf.Dense[float32] // Y or its patches summed over the coarse bands (Separator.coarse)
	rec      nmf.Dense[float32] // one speaker's patch reconstruction
	total    nmf.Dense[float32]
	parts    []nmf.Dense[float32]
	recs     []nmf.Dense[float32] // each source's reconstruction of a Live's patch column
	buf, win []float64
	out      [][]float64
	bases    []*nmf.Dense[float32]   // with free bases: the speakers' and this call's free ones
	full     []nmf.Dense[float32]    // full-band gains
	upper    []float32               // speakers x frames: the upper band's gains
	inferer  *nmf.Inferer[float32]   // the separator's inference, planned on first use (extrasource.go)
	coarse   *nmf.Inferer[float32]   // the coarse start's, planned on first use (Separator.coarseStart)
	untied   []*nmf.Inferer[float32] // a deep-unfolded model's untied layers, one iteration each (deep.go)
}

// work returns buffers for this call's use only; put them back with
// sp.works.Put.
func (sp *Separator) work() *work {
	if w, ok := sp.works.Get().(*work); ok {
		return w
	}
	p, err := stft.NewPlan(sp.st)
	if err != nil {
		panic("separation: settings that made a plan once fail: " + err.Error())
	}
	return &work{plan: p}
}

// sized points m at a rows x cols matrix in its own storage, grown when
// too small; the values are left as they were.
func sized(m *nmf.Dense[float32], rows, cols int) *nmf.Dense[float32] {
	if cap(m.Data) < rows*cols {
		m.Data = make([]float32, rows*cols)
	}
	m.Rows, m.Cols, m.Stride, m.Data = rows, cols, cols, m.Data[:rows*cols]
	return m
}

// grow returns b resized to n values, reallocated only when too small.
func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}

// oneSegment reports whether a signal of n samples fits in one block with
// its margins, and so is separated as a single segment.
func (sp *Separator) oneSegment(n int) bool { return n <= sp.block+2*sp.margin }

// Model returns the separator's model.
func (sp *Separator) Model() *Model { return sp.model }

// Sources returns the names of the separated sources in output order: the
// model's speakers, then the universal model's name or OtherName when
// there is one more source.
func (sp *Separator) Sources() []string {
	names := sp.model.Names()
	if sp.extra.name != "" {
		names = append(names, sp.extra.name)
	}
	return names
}

// ShortForContext returns the number of STFT frames of a signal of n
// samples at the separator's rate, and whether they are fewer than the
// model's patch width T (Model.Context): the signal is then padded, its
// patches filled by repeating its first and last frames (as every
// signal's edge patches are), and separated as usual. Callers may warn.
func (sp *Separator) ShortForContext(n int) (frames int, short bool) {
	frames = sp.st.Frames(n)
	return frames, frames < sp.context
}

// Rate returns the sample rate of the mixtures and estimates: the model's,
// or SeparateSettings.Rate.
func (sp *Separator) Rate() int { return sp.rate }

func (sp *Separator) fullBand() bool { return sp.rate != sp.model.SampleRate }

// Separate returns one signal per speaker, each len(x) samples at the
// separator's rate (Rate), that add up to x. Long signals are processed block by block
// with enough context that the result equals whole-signal processing (it is
// SeparateStream's, with x as the source).
func (sp *Separator) Separate(x []float64) ([][]float64, error) {
	defer openblas.HoldSingle()() // see blas.go
	// Reject bad input before any work (SeparateStream finds a silent
	// signal only at its end).
	if err := CheckSamples(x); err != nil {
		return nil, err
	}
	out := make([][]float64, sp.sources())
	if sp.oneSegment(len(x)) {
		// One segment, as SeparateStream would make it, without copying
		// the signal in or the estimates out.
		w := sp.work()
		defer sp.works.Put(w)
		for i := range out {
			out[i] = make([]float64, len(x))
		}
		if err := sp.separateSegment(w, out, x, 0, len(x)); err != nil {
			return nil, err
		}
		return out, nil
	}
	for i := range out {
		out[i] = make([]float64, 0, len(x))
	}
	rest := x
	src := func(dst []float64) (int, error) {
		if len(rest) == 0 {
			return 0, io.EOF
		}
		n := copy(dst, rest)
		rest = rest[n:]
		return n, nil
	}
	sink := func(s int, y []float64) error {
		out[s] = append(out[s], y...)
		return nil
	}
	if err := sp.SeparateStream(src, len(x), sink); err != nil {
		return nil, err
	}
	return out, nil
}

// separateSegment separates seg and copies samples [a, b) of each speaker's
// estimate into dst[speaker], of length b-a. seg starts at a multiple of the
// hop in the signal, so its frames are the signal's.
func (sp *Separator) separateSegment(w *work, dst [][]float64, seg []float64, a, b int) error {
	w.spec.Bins, w.spec.Frames = 0, 0 // Forward sizes it, reusing its storage
	spec := w.plan.Forward(&w.spec, seg)
	low := spec
	if sp.fullBand() {
		// The model's bins are the first rows (row-major by bin).
		low = &stft.Spectrogram{Bins: sp.modelBins, Frames: spec.Frames, Data: spec.Data[:sp.modelBins*spec.Frames]}
	}
	Y := sp.modelMagnitude(w, low)
	gains, err := sp.gains(w, Y, false)
	if err != nil {
		return err
	}
	if sp.fullBand() {
		gains = sp.fullGains(w, Y, gains, spec.Bins)
	}
	whole := a == 0 && b == len(seg) // then the estimates go straight into dst
	if !whole {
		w.buf = grow(w.buf, len(seg))
	}
	last := len(gains)
	if sp.fullBand() {
		// At a rate above the model's the inverse STFTs cost most: the
		// last source is the mixture minus the others (the same signal,
		// as the gains add up to 1, and a sum exact to the last bit).
		last--
	}
	for i := range gains[:last] {
		g := &gains[i]
		mask := stft.Mask{Bins: g.Rows, Frames: g.Cols, Stride: g.Stride, Data: g.Data}
		if whole {
			w.plan.InverseMasked(dst[i], spec, mask, len(seg))
			continue
		}
		w.plan.InverseMasked(w.buf, spec, mask, len(seg))
		copy(dst[i], w.buf[a:b])
	}
	if last < len(gains) {
		mixtureMinus(dst[last][:b-a], seg[a:b], last, func(i int) []float64 { return dst[i] })
	}
	return nil
}

// modelMagnitude returns the magnitude of spec (the model's bins) in w.Y,
// scaled by magScale to the model's window length at rates above its own.
func (sp *Separator) modelMagnitude(w *work, spec *stft.Spectrogram) *nmf.Dense[float32] {
	Y := Magnitude(sized(&w.Y, spec.Bins, spec.Frames), spec)
	if sp.magScale != 1 {
		for i := range Y.Data {
			Y.Data[i] *= sp.magScale
		}
	}
	return Y
}

// Gains infers H on the mixture magnitude spectrogram Y with every basis
// fixed (eq. 11) and returns each speaker's Wiener gain (eqs. 19-20),
// V_s^p / sum_r V_r^p with V_s = B_s H_s and p the mask exponent, bins x
// frames. With patches (Model.Context > 1), H is inferred on Y unfolded
// (nmf.Unfold) and V_s is B_s H_s folded back (nmf.Fold: at each frame, the
// mean of the patches covering it). The gains add up to 1 wherever the
// model explains any energy, and split silent bins evenly.
func (sp *Separator) Gains(Y *nmf.Dense[float32]) ([]*nmf.Dense[float32], error) {
	defer openblas.HoldSingle()() // see blas.go
	gains, err := sp.gains(&work{}, Y, false)
	if err != nil {
		return nil, err
	}
	out := make([]*nmf.Dense[float32], len(gains))
	for i := range gains {
		out[i] = &gains[i]
	}
	return out, nil
}

// gains is Gains in w's buffers, with a Live's iterations when live: the
// result is w.parts, valid until w's next use.
func (sp *Separator) gains(w *work, Y *nmf.Dense[float32], live bool) ([]nmf.Dense[float32], error) {
	X := sp.unfold(w, Y)
	H, bases, err := sp.activations(w, X, live)
	if err != nil {
		return nil, err
	}
	return sp.wiener(w, Y, X, H, bases), nil
}

// activations infers H on X (the mixture's magnitude, or its patches)
// with every basis fixed, and returns it with the bases that reconstruct
// each source from its block of rows: a deep-unfolded or discriminative
// model's reconstruction bases, or the speakers' (with free bases, this
// call's).
func (sp *Separator) activations(w *work, X *nmf.Dense[float32], live bool) (*nmf.Dense[float32], []*nmf.Dense[float32], error) {
	H, bases, err := sp.analysis(w, X, live)
	if sp.recon != nil {
		bases = sp.recon
	}
	return H, bases, err
}

// analysis infers H on X with the analysis bases: activations without
// the reconstruction bases.
func (sp *Separator) analysis(w *work, X *nmf.Dense[float32], live bool) (*nmf.Dense[float32], []*nmf.Dense[float32], error) {
	if sp.deep != nil {
		H, err := sp.deep.infer(sp, w, X)
		return H, nil, err
	}
	var start *nmf.Dense[float32]
	if sp.coarse != nil {
		var err error
		if start, err = sp.coarseStart(w, X, sp.inferSettings(live)); err != nil {
			return nil, nil, err
		}
	}
	if sp.pool != nil {
		X = sp.pool.pool(&w.pooled, X)
	}
	return sp.extra.infer(sp, w, X, sp.inferSettings(live), start)
}

// coarseStart runs the coarse start's iterations on X (the mixture's
// magnitude or its patches, every bin) summed over its bands, and returns
// H in w.H, where the finer iterations continue.
func (sp *Separator) coarseStart(w *work, X *nmf.Dense[float32], s nmf.Settings) (*nmf.Dense[float32], error) {
	if w.coarse == nil {
		s.MaxIter, s.Tol, s.NoCost = sp.coarseIters, -1, s.Recorder == nil
		in, err := nmf.NewInferer(sp.coarseBasis, s)
		if err != nil {
			return nil, err
		}
		w.coarse = in
	}
	H, _, err := w.coarse.Infer(sized(&w.H, sp.basis.Cols, X.Cols), sp.coarse.pool(&w.coarseX, X))
	return H, err
}

// inferSettings returns the settings of the inference of H, offline or in
// a Live.
func (sp *Separator) inferSettings(live bool) nmf.Settings {
	s := sp.settings
	if live {
		// A Live runs exactly its iterations on each frame: a fixed cost
		// per frame (the latency a stream can rely on), and no cost to
		// evaluate, which on one frame would cost as much as the
		// iterations themselves. One frame is one column: nothing to
		// share between workers, whose hand-offs would cost more than it.
		s.MaxIter, s.Tol, s.Workers, s.StepExponent = sp.liveIters, -1, 1, sp.liveStep
	}
	// Nothing here reads the cost: with a fixed number of iterations, skip
	// its evaluations.
	s.NoCost = s.Tol < 0 && s.Recorder == nil
	return s
}

// unfold returns what H is inferred on: Y, or Y unfolded into patches
// (Model.Context > 1) in w's buffer.
func (sp *Separator) unfold(w *work, Y *nmf.Dense[float32]) *nmf.Dense[float32] {
	if sp.context > 1 {
		return nmf.Unfold(sized(&w.patches, sp.context*Y.Rows, Y.Cols), Y, sp.context)
	}
	return Y
}

// wiener returns the Wiener gains of bases (whose activations are H's row
// blocks, in order) on Y, inferred on X (Y or its patches), in w.parts.
func (sp *Separator) wiener(w *work, Y, X, H *nmf.Dense[float32], bases []*nmf.Dense[float32]) []nmf.Dense[float32] {
	if len(w.parts) != len(bases) {
		w.parts = make([]nmf.Dense[float32], len(bases))
	}
	off := 0
	for i, b := range bases {
		p := sized(&w.parts[i], Y.Rows, Y.Cols)
		if sp.context > 1 {
			nmf.Fold(p, nmf.Mul(sized(&w.rec, X.Rows, Y.Cols), b, rowBlock(H, off, b.Cols)), sp.context)
		} else {
			nmf.Mul(p, b, rowBlock(H, off, b.Cols))
		}
		off += b.Cols
	}
	return sp.mask(w, w.parts)
}

// products returns each source's reconstruction of X, its bases times its
// block of H's rows, in w.recs.
func (sp *Separator) products(w *work, X, H *nmf.Dense[float32], bases []*nmf.Dense[float32]) []nmf.Dense[float32] {
	if len(w.recs) != len(bases) {
		w.recs = make([]nmf.Dense[float32], len(bases))
	}
	off := 0
	for i, b := range bases {
		nmf.Mul(sized(&w.recs[i], X.Rows, X.Cols), b, rowBlock(H, off, b.Cols))
		off += b.Cols
	}
	return w.recs
}

// mask turns the sources' magnitudes V_s (parts, all of one size) into
// their Wiener gains in place, V_s^p / sum_r V_r^p, splitting silent bins
// evenly, and returns parts.
func (sp *Separator) mask(w *work, parts []nmf.Dense[float32]) []nmf.Dense[float32] {
	total := sized(&w.total, parts[0].Rows, parts[0].Cols)
	clear(total.Data)
	for i := range parts {
		raise(parts[i].Data, sp.power)
		addInto(total.Data, parts[i].Data)
	}
	even := 1 / float32(len(parts))
	for i := range parts {
		gain(parts[i].Data, total.Data, even)
	}
	return parts
}

// SeparateSpectrogram returns each speaker's estimated magnitude spectrogram
// Y * gain_s, for experiments that score spectrograms directly.
func (sp *Separator) SeparateSpectrogram(Y *nmf.Dense[float32]) ([]*nmf.Dense[float32], error) {
	gains, err := sp.Gains(Y)
	if err != nil {
		return nil, err
	}
	for _, g := range gains {
		for r := 0; r < Y.Rows; r++ {
			grow := g.Data[r*g.Stride : r*g.Stride+Y.Cols]
			yrow := Y.Data[r*Y.Stride : r*Y.Stride+Y.Cols]
			for t := range grow {
				grow[t] *= yrow[t]
			}
		}
	}
	return gains, nil
}

// fullGains extends the model's gains (modelBins x frames) to bins rows:
// the model's rows as they are, every row above with the upper band's gain
// (see UpperBand). The result is in w.full, valid until w's next use.
func (sp *Separator) fullGains(w *work, Y *nmf.Dense[float32], gains []nmf.Dense[float32], bins int) []nmf.Dense[float32] {
	ns, T, mb := len(gains), Y.Cols, sp.modelBins
	if len(w.full) != ns {
		w.full = make([]nmf.Dense[float32], ns)
	}
	if cap(w.upper) < ns*T {
		w.upper = make([]float32, ns*T)
	}
	upper := w.upper[:ns*T]
	switch sp.upper {
	case UpperEven:
		for i := range upper {
			upper[i] = 1 / float32(ns)
		}
	case UpperTopBin:
		for s := range gains {
			g := &gains[s]
			copy(upper[s*T:(s+1)*T], g.Data[(mb-1)*g.Stride:(mb-1)*g.Stride+T])
		}
	default:
		sp.smoothedUpper(upper, Y, gains)
	}
	for s := range gains {
		g, f := &gains[s], sized(&w.full[s], bins, T)
		for b := range mb {
			copy(f.Data[b*T:(b+1)*T], g.Data[b*g.Stride:b*g.Stride+T])
		}
		u := upper[s*T : (s+1)*T]
		for b := mb; b < bins; b++ {
			copy(f.Data[b*T:(b+1)*T], u)
		}
	}
	return w.full
}

// smoothedUpper computes UpperSmoothed's gains into upper (speakers x
// frames): per frame, the magnitude of the model's top band and each
// speaker's part of it (upperSums), summed over the frames within
// upperRadius (upperRatio). A Live makes them frame by frame with the same
// two functions, so offline and live give the same gains.
func (sp *Separator) smoothedUpper(upper []float32, Y *nmf.Dense[float32], gains []nmf.Dense[float32]) {
	ns, T, mb := len(gains), Y.Cols, sp.modelBins
	w := ns + 1
	sums := make([]float64, w*T)
	for t := range T {
		upperSums(sums[t*w:(t+1)*w], Y, gains, t, mb)
	}
	for t := range T {
		lo, hi := max(t-upperRadius, 0), min(t+upperRadius+1, T)
		for s := range ns {
			upper[s*T+t] = upperRatio(sums[lo*w:hi*w], ns, s)
		}
	}
}

// upperSums adds frame t's sums over the model's top quarter band into row
// (ns+1 values): each source's gain-weighted magnitude, then the magnitude
// itself, bin by bin in float64.
func upperSums(row []float64, Y *nmf.Dense[float32], gains []nmf.Dense[float32], t, mb int) {
	ns := len(gains)
	for b := int(upperFrom * float64(mb)); b < mb; b++ {
		y := float64(Y.Data[b*Y.Stride+t])
		row[ns] += y
		for s := range gains {
			row[s] += y * float64(gains[s].Data[b*gains[s].Stride+t])
		}
	}
}

// upperRatio returns source s's UpperSmoothed gain from the rows of
// upperSums of the frames it spans: its share of their top band's
// magnitude, or an even split of a silent band.
func upperRatio(rows []float64, ns, s int) float32 {
	w := ns + 1
	var d, n float64
	for k := 0; k+w <= len(rows); k += w {
		d += rows[k+ns]
	}
	if d <= 0 {
		return 1 / float32(ns)
	}
	for k := 0; k+w <= len(rows); k += w {
		n += rows[k+s]
	}
	return float32(n / d)
}

// mixtureMinus sets rest to mix minus the n other sources (other(i), at
// least len(rest) samples each): the last source at rates above the
// model's, offline and live, so that the estimates add up to the mixture
// exactly and one inverse STFT is saved.
func mixtureMinus(rest, mix []float64, n int, other func(i int) []float64) {
	copy(rest, mix)
	for i := range n {
		for k, v := range other(i)[:len(rest)] {
			rest[k] -= v
		}
	}
}

// raise sets v to v^p (p = 1: unchanged; 2: squares, exactly).
func raise(v []float32, p float64) {
	switch p {
	case 1:
	case 2:
		for i, x := range v {
			v[i] = x * x
		}
	default:
		for i, x := range v {
			v[i] = float32(math.Pow(float64(x), p))
		}
	}
}
