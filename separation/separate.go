package separation

import (
	"io"
	"sync"

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
	model    *Model
	works    sync.Pool // of *work: one call's buffers, reused by later calls
	st       stft.Settings
	basis    *nmf.Dense[float32] // the speakers' bases side by side
	bases    []*nmf.Dense[float32]
	settings nmf.Settings
	block    int // samples per block, a multiple of the hop
	margin   int // context samples on each side of a block, a multiple of the hop
	extra    extraSource
}

// SeparateSettings control a Separator; zero values mean defaults.
type SeparateSettings struct {
	NMF          nmf.Settings // inference: MaxIter 0: 200; tolerance, workers
	BlockSeconds float64      // 0: DefaultBlockSeconds
	// Free bases are learned on each mixture (each block of a long one)
	// for what the model's speakers do not explain, with the model's bases
	// fixed; their estimate is one more source, OtherName. 0: none.
	Free int
	// Sparsity weighs the group penalty of a universal model's
	// activations, relative to the mixture's magnitude; 0: DefaultSparsity.
	Sparsity float64
}

// NewSeparator prepares m for separation: it validates the model and forms
// each speaker's basis once.
func NewSeparator(m *Model, s SeparateSettings) (*Separator, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	plan, err := stft.NewPlan(m.STFT)
	if err != nil {
		return nil, err
	}
	sep := &Separator{model: m, st: plan.Settings(), settings: m.nmfSettings(s.NMF)}
	sep.works.Put(&work{plan: plan})
	if sep.settings.MaxIter == 0 {
		sep.settings.MaxIter = nmf.DefaultMaxIter
	}
	for i := range m.Speakers {
		sep.bases = append(sep.bases, m.Speakers[i].Basis())
	}
	if err := sep.extra.init(sep, s); err != nil {
		return nil, err
	}
	sep.basis = nmf.HConcat(nil, sep.bases...)
	st := plan.Settings()
	hop := st.Hop
	// A frame's window spans WindowSize samples around its centre, so an
	// output sample depends on frames whose support reaches one window
	// further out: a margin of one window (rounded up to whole hops) makes
	// every frame that touches the block exact.
	sep.margin = (st.WindowSize + hop - 1) / hop * hop
	if s.BlockSeconds == 0 {
		s.BlockSeconds = DefaultBlockSeconds
	}
	blk := int(s.BlockSeconds * float64(m.SampleRate))
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
	total    nmf.Dense[float32]
	parts    []nmf.Dense[float32]
	buf, win []float64
	out      [][]float64
	bases    []*nmf.Dense[float32] // with free bases: the speakers' and this call's free ones
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

// Separate returns one signal per speaker, each len(x) samples at the model's
// sample rate, that add up to x. Long signals are processed block by block
// with enough context that the result equals whole-signal processing (it is
// SeparateStream's, with x as the source).
func (sp *Separator) Separate(x []float64) ([][]float64, error) {
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
	Y := Magnitude(sized(&w.Y, spec.Bins, spec.Frames), spec)
	gains, err := sp.gains(w, Y)
	if err != nil {
		return err
	}
	whole := a == 0 && b == len(seg) // then the estimates go straight into dst
	if !whole {
		w.buf = grow(w.buf, len(seg))
	}
	for i := range gains {
		g := &gains[i]
		mask := stft.Mask{Bins: g.Rows, Frames: g.Cols, Stride: g.Stride, Data: g.Data}
		if whole {
			w.plan.InverseMasked(dst[i], spec, mask, len(seg))
			continue
		}
		w.plan.InverseMasked(w.buf, spec, mask, len(seg))
		copy(dst[i], w.buf[a:b])
	}
	return nil
}

// Gains infers H on the mixture magnitude spectrogram Y with every basis
// fixed (eq. 11) and returns each speaker's Wiener gain (eqs. 19-20),
// (B_s H_s) / sum_r (B_r H_r), bins x frames. The gains add up to 1 wherever
// the model explains any energy, and split silent bins evenly.
func (sp *Separator) Gains(Y *nmf.Dense[float32]) ([]*nmf.Dense[float32], error) {
	gains, err := sp.gains(&work{}, Y)
	if err != nil {
		return nil, err
	}
	out := make([]*nmf.Dense[float32], len(gains))
	for i := range gains {
		out[i] = &gains[i]
	}
	return out, nil
}

// gains is Gains in w's buffers: the result is w.parts, valid until w's
// next use.
func (sp *Separator) gains(w *work, Y *nmf.Dense[float32]) ([]nmf.Dense[float32], error) {
	s := sp.settings
	// Nothing here reads the cost: with a fixed number of iterations, skip
	// its evaluations.
	s.NoCost = s.Tol < 0 && s.Recorder == nil
	H, bases, err := sp.extra.infer(sp, w, Y, s)
	if err != nil {
		return nil, err
	}
	if len(w.parts) != len(bases) {
		w.parts = make([]nmf.Dense[float32], len(bases))
	}
	total := sized(&w.total, Y.Rows, Y.Cols)
	clear(total.Data)
	off := 0
	for i, b := range bases {
		p := nmf.Mul(sized(&w.parts[i], Y.Rows, Y.Cols), b, rowBlock(H, off, b.Cols))
		off += b.Cols
		addInto(total.Data, p.Data)
	}
	even := 1 / float32(len(w.parts))
	for i := range w.parts {
		gain(w.parts[i].Data, total.Data, even)
	}
	return w.parts, nil
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
