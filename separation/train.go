package separation

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/stft"
)

// Defaults of TrainSettings (protocol.md: the paper gives no iteration
// counts; 200 for training and inference, 5 discriminative rounds).
const (
	DefaultIterations = 200
	DefaultRounds     = 5
	// DefaultDiscIter is the number of basis updates per DL-NMF round. The
	// paper does not give it; 50 keeps each round a small step from the
	// L-NMF bases, and with the default 5 rounds the bases get 250 updates
	// in all, more than the 200 of training.
	DefaultDiscIter = 50
)

// DefaultSizes returns the layer sizes used when none are given: K = 20 for
// NMF and K1 = 180, K2 = 20 for L-NMF and DL-NMF, the paper's best rows.
func DefaultSizes(m Method) []int {
	if m == NMF {
		return []int{20}
	}
	return []int{180, 20}
}

// TrainSettings control Train. The zero value of each field means its
// documented default.
type TrainSettings struct {
	Method     Method        // required
	Sizes      []int         // layer sizes; nil: DefaultSizes(Method). NMF takes one size.
	SampleRate int           // 0: 16000
	STFT       stft.Settings // zero: 1024-point FFT, periodic Hann window, hop 256
	NMF        nmf.Settings  // divergence, tolerance, seed, workers, recorder; MaxIter 0: 200
	InferIter  int           // DL-NMF H-step iterations; 0: NMF.MaxIter
	Rounds     int           // DL-NMF rounds; 0: 5
	DiscIter   int           // DL-NMF basis iterations per round; 0: DefaultDiscIter
}

func (s TrainSettings) withDefaults() (TrainSettings, error) {
	switch s.Method {
	case NMF, LNMF, DLNMF:
	default:
		return s, fmt.Errorf("unknown method %q", s.Method)
	}
	if s.Sizes == nil {
		s.Sizes = DefaultSizes(s.Method)
	}
	if len(s.Sizes) == 0 {
		return s, errors.New("no layer sizes given")
	}
	for _, k := range s.Sizes {
		if k < 1 {
			return s, fmt.Errorf("layer size %d is not positive", k)
		}
	}
	if s.Method == NMF && len(s.Sizes) != 1 {
		return s, fmt.Errorf("NMF takes one size K, got %v (use lnmf or dlnmf for layers)", s.Sizes)
	}
	if s.SampleRate == 0 {
		s.SampleRate = DefaultSampleRate
	}
	if s.SampleRate < 0 {
		return s, fmt.Errorf("sample rate %d is not positive", s.SampleRate)
	}
	if s.NMF.MaxIter == 0 {
		s.NMF.MaxIter = DefaultIterations
	}
	if s.InferIter == 0 {
		s.InferIter = s.NMF.MaxIter
	}
	if s.Rounds == 0 {
		s.Rounds = DefaultRounds
	}
	if s.DiscIter == 0 {
		s.DiscIter = DefaultDiscIter
	}
	if s.NMF.MaxIter < 0 || s.InferIter < 0 || s.Rounds < 0 || s.DiscIter < 0 {
		return s, errors.New("iteration and round counts must not be negative")
	}
	return s, nil
}

// SpeakerData is one speaker's clean training speech at the model's rate.
type SpeakerData struct {
	Name       string
	Utterances [][]float64
}

// MixtureData is one discriminative mixture with its clean sources, in the
// order of the speakers.
type MixtureData struct {
	Mixture []float64
	Sources [][]float64
}

// TrainReport holds what training measured, for progress and reports.
type TrainReport struct {
	Speakers []nmf.Result // training cost history per speaker
	DiscCost []float64    // DL-NMF: before round 1, then after each accepted round
}

// Train trains a model of every speaker on its clean utterances and, for
// DL-NMF, adapts the bases on the discriminative mixtures (ignored for the
// other methods). Speakers are trained one after the other; the NMF engine
// uses every core for each.
func Train(ctx context.Context, speakers []SpeakerData, disc []MixtureData, s TrainSettings) (*Model, *TrainReport, error) {
	s, err := s.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	if len(speakers) < 2 {
		return nil, nil, fmt.Errorf("training needs at least 2 speakers, got %d", len(speakers))
	}
	for _, sp := range speakers {
		if err := CheckName(sp.Name); err != nil {
			return nil, nil, err
		}
	}
	plan, err := stft.NewPlan(s.STFT)
	if err != nil {
		return nil, nil, err
	}
	m := &Model{
		Method: s.Method, SampleRate: s.SampleRate, STFT: plan.Settings(),
		Divergence: s.NMF.Divergence, Beta: s.NMF.Beta,
		Training: Training{Iterations: s.NMF.MaxIter, Seed: s.NMF.Seed},
	}
	rep := &TrainReport{}
	for i, sp := range speakers {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		mags := make([]*nmf.Dense[float32], 0, len(sp.Utterances))
		for j, u := range sp.Utterances {
			if err := CheckSamples(u); err != nil {
				return nil, nil, fmt.Errorf("speaker %s, utterance %d: %w", sp.Name, j+1, err)
			}
			mags = append(mags, Spectrogram(plan, u))
		}
		if len(mags) == 0 {
			return nil, nil, fmt.Errorf("speaker %s has no training utterances", sp.Name)
		}
		ns := s.NMF
		ns.Seed = s.NMF.Seed + uint64(i) // distinct, reproducible initialisation per speaker
		model, res, err := TrainSpeaker(sp.Name, Concat(mags), s.Sizes, ns)
		if err != nil {
			return nil, nil, fmt.Errorf("speaker %s: %w", sp.Name, err)
		}
		m.Speakers = append(m.Speakers, model)
		m.Training.Utterances = append(m.Training.Utterances, len(sp.Utterances))
		rep.Speakers = append(rep.Speakers, res)
	}
	if s.Method != DLNMF {
		return m, rep, nil
	}
	data := make([]DiscData, 0, len(disc))
	for j, d := range disc {
		if len(d.Sources) != len(speakers) {
			return nil, nil, fmt.Errorf("discriminative mixture %d has %d sources for %d speakers", j+1, len(d.Sources), len(speakers))
		}
		if err := CheckSamples(d.Mixture); err != nil {
			return nil, nil, fmt.Errorf("discriminative mixture %d: %w", j+1, err)
		}
		dd := DiscData{Mixture: Spectrogram(plan, d.Mixture)}
		for _, src := range d.Sources {
			if len(src) != len(d.Mixture) {
				return nil, nil, fmt.Errorf("discriminative mixture %d: a source has %d samples, the mixture %d", j+1, len(src), len(d.Mixture))
			}
			dd.Sources = append(dd.Sources, Spectrogram(plan, src))
		}
		data = append(data, dd)
	}
	ds := DiscSettings{Rounds: s.Rounds, InferIter: s.InferIter, DiscIter: s.DiscIter, NMF: s.NMF}
	dr, err := Discriminate(ctx, m, data, ds)
	if err != nil {
		return nil, nil, err
	}
	rep.DiscCost = dr.Cost
	return m, rep, nil
}

// TrainSpeaker trains one speaker's layers on the speaker's magnitude
// spectrogram X (bins x frames, utterances side by side): layer-by-layer
// pretraining, then joint fine-tuning when there is more than one layer
// (nmf.Train; eqs. 5-8).
func TrainSpeaker(name string, X *nmf.Dense[float32], sizes []int, s nmf.Settings) (Speaker, nmf.Result, error) {
	f, res, err := nmf.Train(X, sizes, s)
	if err != nil {
		return Speaker{}, res, err
	}
	return Speaker{Name: name, Layers: f.Layers}, res, nil
}

// DiscData is one discriminative mixture's magnitude spectrogram with its
// sources' magnitude spectrograms (same size, speakers in model order).
type DiscData struct {
	Mixture *nmf.Dense[float32]
	Sources []*nmf.Dense[float32]
}

// DiscSettings control Discriminate; zero values mean the defaults of
// TrainSettings.
type DiscSettings struct {
	Rounds    int
	InferIter int
	DiscIter  int
	NMF       nmf.Settings // divergence from the model; seed, workers, recorder
}

// DiscResult reports a DL-NMF adaptation.
type DiscResult struct {
	Cost     []float64 // before round 1, then after each accepted round
	Accepted int       // rounds whose bases were kept
}

// Discriminate adapts the model's bases in place (DL-NMF, eqs. 12-18). Each
// round: with the bases fixed, infer H on the discriminative mixtures (eq. 11,
// 18); with that H fixed, update every layer of every speaker so that speaker
// s's part of the model reconstructs its clean spectrogram S_s (eqs. 13-17).
//
// The discriminative cost J(W) = sum_s D(S_s || B_s Ĥ_s(W)) is evaluated with
// Ĥ re-inferred from the mixtures after every round. The basis step lowers
// the cost for the H it was given, but re-inferring H can undo that; a round
// that raises J is rejected, its bases are restored and training stops, so the
// recorded cost never rises and the model returned is the best one seen.
func Discriminate(ctx context.Context, m *Model, data []DiscData, s DiscSettings) (DiscResult, error) {
	if s.Rounds == 0 {
		s.Rounds = DefaultRounds
	}
	if s.InferIter == 0 {
		s.InferIter = DefaultIterations
	}
	if s.DiscIter == 0 {
		s.DiscIter = DefaultDiscIter
	}
	if len(data) == 0 {
		return DiscResult{}, errors.New("DL-NMF needs discriminative mixtures, got none")
	}
	if err := m.Validate(); err != nil {
		return DiscResult{}, err
	}
	nsp := len(m.Speakers)
	mixes := make([]*nmf.Dense[float32], len(data))
	sources := make([][]*nmf.Dense[float32], nsp)
	for j, d := range data {
		if len(d.Sources) != nsp {
			return DiscResult{}, fmt.Errorf("discriminative mixture %d has %d sources for %d speakers", j+1, len(d.Sources), nsp)
		}
		mixes[j] = d.Mixture
		for i, src := range d.Sources {
			if src.Rows != d.Mixture.Rows || src.Cols != d.Mixture.Cols {
				return DiscResult{}, fmt.Errorf("discriminative mixture %d: source %d is %dx%d, the mixture %dx%d", j+1, i+1, src.Rows, src.Cols, d.Mixture.Rows, d.Mixture.Cols)
			}
			sources[i] = append(sources[i], src)
		}
	}
	Y := Concat(mixes)
	S := make([]*nmf.Dense[float32], nsp)
	for i := range S {
		S[i] = Concat(sources[i])
	}

	infer := m.nmfSettings(s.NMF)
	infer.MaxIter = s.InferIter
	infer.Recorder = withStage(s.NMF.Recorder, "disc-infer")
	update := m.nmfSettings(s.NMF)
	update.MaxIter = s.DiscIter
	update.Tol = -1 // a fixed number of basis steps per round
	update.Recorder = withStage(s.NMF.Recorder, "disc-update")

	// cost infers H on the mixtures with the current bases and returns J
	// with that H.
	var H *nmf.Dense[float32]
	cost := func() (float64, error) {
		basis := compoundBasis(m)
		var err error
		H, _, err = nmf.Infer(H, Y, basis, infer)
		if err != nil {
			return 0, err
		}
		var j float64
		off := 0
		for i := range m.Speakers {
			b := m.Speakers[i].Basis()
			hs := rowBlock(H, off, b.Cols)
			j += nmf.Cost(S[i], nmf.Mul(nil, b, hs), infer)
			off += b.Cols
		}
		return j, nil
	}
	J, err := cost()
	if err != nil {
		return DiscResult{}, err
	}
	res := DiscResult{Cost: []float64{J}}
	m.Training.Rounds, m.Training.InferIter, m.Training.DiscIter = s.Rounds, s.InferIter, s.DiscIter
	m.Training.Mixtures = len(data)
	for r := 0; r < s.Rounds; r++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		saved := make([][]*nmf.Dense[float32], nsp)
		off := 0
		for i := range m.Speakers {
			sp := &m.Speakers[i]
			saved[i] = cloneLayers(sp.Layers)
			k := sp.Layers[len(sp.Layers)-1].Cols
			f := &nmf.Factorization[float32]{Layers: sp.Layers, H: rowBlock(H, off, k).Clone()}
			if _, err := nmf.Update(S[i], f, nmf.Freeze{H: true}, update); err != nil {
				return res, fmt.Errorf("DL-NMF round %d, speaker %s: %w", r+1, sp.Name, err)
			}
			sp.Layers = f.Layers
			off += k
		}
		next, err := cost()
		if err != nil {
			return res, err
		}
		if s.NMF.Recorder != nil {
			s.NMF.Recorder.Record(nmf.Event{Stage: "disc-round", Iter: r + 1, Cost: next})
		}
		if next > J || math.IsNaN(next) {
			for i := range m.Speakers {
				m.Speakers[i].Layers = saved[i]
			}
			break
		}
		J = next
		res.Cost = append(res.Cost, J)
		res.Accepted++
	}
	m.Training.RoundsAccepted = res.Accepted
	m.Training.DiscCost = res.Cost
	return res, nil
}

// stageRecorder renames the stage of the engine's events.
type stageRecorder struct {
	r     nmf.Recorder
	stage string
}

func (s stageRecorder) Record(e nmf.Event) {
	e.Stage = s.stage
	s.r.Record(e)
}

// withStage renames r's events to stage; nil stays nil, so that the engine
// knows nobody watches.
func withStage(r nmf.Recorder, stage string) nmf.Recorder {
	if r == nil {
		return nil
	}
	return stageRecorder{r, stage}
}

func cloneLayers(ls []*nmf.Dense[float32]) []*nmf.Dense[float32] {
	c := make([]*nmf.Dense[float32], len(ls))
	for i, l := range ls {
		c[i] = l.Clone()
	}
	return c
}

// rowBlock returns a view of rows [off, off+k) of h.
func rowBlock(h *nmf.Dense[float32], off, k int) *nmf.Dense[float32] {
	return &nmf.Dense[float32]{Rows: k, Cols: h.Cols, Stride: h.Stride, Data: h.Data[off*h.Stride : (off+k-1)*h.Stride+h.Cols]}
}

// compoundBasis returns the speakers' bases side by side: I times the
// block-diagonal product of eq. 10.
func compoundBasis(m *Model) *nmf.Dense[float32] {
	bs := make([]*nmf.Dense[float32], len(m.Speakers))
	for i := range m.Speakers {
		bs[i] = m.Speakers[i].Basis()
	}
	return nmf.HConcat(nil, bs...)
}
