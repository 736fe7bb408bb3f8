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
// every call allocates its own working buffers.
type Separator struct {
	model    *Model
	plans    sync.Pool // of *stft.Plan: a plan's buffers serve one call at a time
	st       stft.Settings
	basis    *nmf.Dense[float32] // the speakers' bases side by side
	bases    []*nmf.Dense[float32]
	settings nmf.Settings
	block    int // samples per block, a multiple of the hop
	margin   int // context samples on each side of a block, a multiple of the hop
}

// SeparateSettings control a Separator; zero values mean defaults.
type SeparateSettings struct {
	NMF          nmf.Settings // inference: MaxIter 0: 200; tolerance, workers
	BlockSeconds float64      // 0: DefaultBlockSeconds
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
	sep.plans.Put(plan)
	if sep.settings.MaxIter == 0 {
		sep.settings.MaxIter = DefaultIterations
	}
	for i := range m.Speakers {
		sep.bases = append(sep.bases, m.Speakers[i].Basis())
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

// plan returns an STFT plan for this call's use only.
func (sp *Separator) plan() *stft.Plan {
	if p, ok := sp.plans.Get().(*stft.Plan); ok {
		return p
	}
	p, err := stft.NewPlan(sp.st)
	if err != nil {
		panic("separation: settings that made a plan once fail: " + err.Error())
	}
	return p
}

// Model returns the separator's model.
func (sp *Separator) Model() *Model { return sp.model }

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
	out := make([][]float64, len(sp.bases))
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
func (sp *Separator) separateSegment(plan *stft.Plan, dst [][]float64, seg []float64, a, b int) error {
	spec := plan.Forward(nil, seg)
	Y := Magnitude(nil, spec)
	gains, err := sp.Gains(Y)
	if err != nil {
		return err
	}
	est := &stft.Spectrogram{Bins: spec.Bins, Frames: spec.Frames, Data: make([]complex128, len(spec.Data))}
	buf := make([]float64, len(seg))
	for i, g := range gains {
		for bin := 0; bin < spec.Bins; bin++ {
			grow := g.Data[bin*g.Stride : bin*g.Stride+spec.Frames]
			srow := spec.Data[bin*spec.Frames : (bin+1)*spec.Frames]
			erow := est.Data[bin*spec.Frames : (bin+1)*spec.Frames]
			for t, c := range srow {
				erow[t] = c * complex(float64(grow[t]), 0)
			}
		}
		buf = plan.Inverse(buf, est, len(seg))
		copy(dst[i], buf[a:b])
	}
	return nil
}

// Gains infers H on the mixture magnitude spectrogram Y with every basis
// fixed (eq. 11) and returns each speaker's Wiener gain (eqs. 19-20),
// (B_s H_s) / sum_r (B_r H_r), bins x frames. The gains add up to 1 wherever
// the model explains any energy, and split silent bins evenly.
func (sp *Separator) Gains(Y *nmf.Dense[float32]) ([]*nmf.Dense[float32], error) {
	s := sp.settings
	// Nothing here reads the cost: with a fixed number of iterations, skip
	// its evaluations.
	s.NoCost = s.Tol < 0 && s.Recorder == nil
	H, _, err := nmf.Infer(nil, Y, sp.basis, s)
	if err != nil {
		return nil, err
	}
	parts := make([]*nmf.Dense[float32], len(sp.bases))
	total := nmf.NewDense[float32](Y.Rows, Y.Cols, nil)
	off := 0
	for i, b := range sp.bases {
		parts[i] = nmf.Mul(nil, b, rowBlock(H, off, b.Cols))
		off += b.Cols
		for r := 0; r < Y.Rows; r++ {
			prow := parts[i].Data[r*parts[i].Stride : r*parts[i].Stride+Y.Cols]
			trow := total.Data[r*total.Stride : r*total.Stride+Y.Cols]
			for t, v := range prow {
				trow[t] += v
			}
		}
	}
	even := 1 / float32(len(parts))
	for r := 0; r < Y.Rows; r++ {
		trow := total.Data[r*total.Stride : r*total.Stride+Y.Cols]
		for _, p := range parts {
			prow := p.Data[r*p.Stride : r*p.Stride+Y.Cols]
			for t, v := range prow {
				if trow[t] > 0 {
					prow[t] = v / trow[t]
				} else {
					prow[t] = even
				}
			}
		}
	}
	return parts, nil
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
