package separation

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/stft"
)

// Method names how speaker models were trained.
type Method string

// The methods of the paper.
const (
	NMF   Method = "nmf"   // one layer of K bases per speaker
	LNMF  Method = "lnmf"  // layered NMF, eqs. 5-8
	DLNMF Method = "dlnmf" // discriminative layered NMF, eqs. 12-18
)

// ParseMethod accepts "nmf", "lnmf", "l-nmf", "dlnmf" and "dl-nmf" in any case.
func ParseMethod(s string) (Method, error) {
	switch strings.ReplaceAll(strings.ToLower(s), "-", "") {
	case "nmf":
		return NMF, nil
	case "lnmf":
		return LNMF, nil
	case "dlnmf":
		return DLNMF, nil
	}
	return "", fmt.Errorf("unknown method %q (want nmf, lnmf or dlnmf)", s)
}

// Label is the method's name as the paper writes it.
func (m Method) Label() string {
	switch m {
	case NMF:
		return "NMF"
	case LNMF:
		return "L-NMF"
	case DLNMF:
		return "DL-NMF"
	}
	return string(m)
}

// DefaultSampleRate is the rate the paper works at (protocol: 16 kHz).
const DefaultSampleRate = 16000

// Speaker is one speaker's model: the layers W1 (bins x K1), W2 (K1 x K2), ...
// of a layered NMF trained on that speaker's clean speech.
type Speaker struct {
	Name   string
	Layers []*nmf.Dense[float32]
	// A deep-unfolded or discriminative model's own bases (deep.go), each
	// with the rows and columns of the basis (the layers' product):
	// Untied[u] is this speaker's part of unfolded layer N - U + u + 1
	// (Model.Unfold = N, U = len(Untied)), Reconstruction its basis in the
	// Wiener gains (DeepUnfold or TrainReconstruction). Both nil for other
	// models.
	Untied         []*nmf.Dense[float32]
	Reconstruction *nmf.Dense[float32]
}

// Basis returns the product of the speaker's layers, bins x K_L.
func (s *Speaker) Basis() *nmf.Dense[float32] {
	f := nmf.Factorization[float32]{Layers: s.Layers}
	return f.Basis(nil)
}

// Sizes returns the layer sizes K1, K2, ...
func (s *Speaker) Sizes() []int {
	k := make([]int, len(s.Layers))
	for i, w := range s.Layers {
		k[i] = w.Cols
	}
	return k
}

// Model is a set of speaker models and everything needed to use them.
type Model struct {
	Method     Method
	SampleRate int           // Hz; the rate the STFT runs at
	STFT       stft.Settings // as trained; zero fields mean stft's defaults
	Divergence nmf.Divergence
	Beta       float64 // with nmf.BetaDivergence
	Speakers   []Speaker
	Universal  *Universal // a universal speech model as one more source; nil: none
	Training   Training
	// Context is the width T of the spectral patches the bases model (odd;
	// 0 or 1: single frames, the paper): a basis has T x bins rows, frame
	// t - c ... t + c stacked (c = (T-1)/2, nmf.Unfold).
	Context int
	// Sparsity is the L1 penalty on H (lambda) in training, in DL-NMF's
	// steps and at inference; with it the first layer's columns are kept at
	// unit Euclidean norm (nmf.Settings.UnitNorm). For the KL divergence
	// lambda is scale-free: scaling the spectrogram by a scales the best H
	// by a and the whole cost by a, so a value found on one corpus means the
	// same on another at any level (other betas: lambda scales as a^(beta-1)).
	Sparsity float64
	// MaskPower is the exponent p of the Wiener gains |V_s|^p / sum_r
	// |V_r|^p (1: eqs. 19-20, 2: the power ratio); 0 means 1.
	MaskPower float64
	// Unfold is the number N of inference iterations of a deep-unfolded
	// model (deep.go), which separation runs exactly, with the speakers'
	// Untied bases in the last layers and their Reconstruction bases in the
	// gains; 0: none (inference iterates to convergence).
	Unfold int
	// Bands is the number of mel-spaced bands separation infers H on when
	// SeparateSettings.Bands is 0 (bands.go): the inference that validation
	// chose for the model's configuration (PresetValidated's
	// ValidatedBands), used wherever inference on bands applies (fixed
	// bases: no free bases, universal model or unfolding). 0: every bin.
	Bands int
	// StepExponent and SeparateIters are the inference separation runs by
	// default where its settings leave them 0 (SeparateSettings.NMF's
	// StepExponent and MaxIter): longer multiplicative steps that reach
	// the same activations in fewer iterations, as validation chose them
	// for the model's configuration (PresetValidated's
	// ValidatedStepExponent, and ValidatedSeparateIters or with
	// reconstruction bases ValidatedReconstructionIters). They apply to
	// Separate where Bands does, and not beside a coarse start; a Live
	// keeps its own defaults, DefaultLiveIters of the usual update, which
	// its own sweep chose.
	// 0: the usual update, nmf.DefaultMaxIter iterations.
	StepExponent  float64
	SeparateIters int
}

// deep reports whether the model is deep-unfolded.
func (m *Model) deep() bool { return m.Unfold > 0 }

// HasReconstructionBases reports whether the model's gains use
// reconstruction bases of their own (trained by DeepUnfold or
// TrainReconstruction) in place of the speakers' bases.
func (m *Model) HasReconstructionBases() bool {
	return len(m.Speakers) > 0 && m.Speakers[0].Reconstruction != nil
}

// context returns the patch width: 1 for single frames when Context is 0.
func (m *Model) context() int {
	if m.Context == 0 {
		return 1
	}
	return m.Context
}

// maskPower returns the mask exponent, 1 when unset.
func (m *Model) maskPower() float64 {
	if m.MaskPower == 0 {
		return 1
	}
	return m.MaskPower
}

// The sample rates a model may have. A model at a rate far below its
// mixtures' runs its STFT scaled up by their ratio (full band), so the
// lower bound also bounds that scaling.
const (
	MinSampleRate = 1000
	MaxSampleRate = 384000
)

// The bounds of a model's STFT, from which every spectrogram is sized: a
// window of at most one second (FFT size <= sample rate), and a hop of at
// least a sixteenth of the FFT size, so that a spectrogram holds at most 8
// complex values per sample of the signal (the paper's 1024/256 holds 2).
// An FFT of 65536 with a hop of 1 would need 131 kB per sample.
const MaxOverlap = 16

// CheckSampleRate rejects a model rate outside MinSampleRate..MaxSampleRate.
func CheckSampleRate(rate int) error {
	if rate < MinSampleRate || rate > MaxSampleRate {
		return fmt.Errorf("sample rate %d Hz: want %d to %d Hz", rate, MinSampleRate, MaxSampleRate)
	}
	return nil
}

// checkSTFTBounds rejects STFT settings beyond the bounds above.
func checkSTFTBounds(st stft.Settings, rate int) error {
	if st.FFTSize > rate {
		return fmt.Errorf("FFT size %d at %d Hz: a window longer than one second", st.FFTSize, rate)
	}
	if st.Hop > 0 && st.FFTSize > MaxOverlap*st.Hop {
		return fmt.Errorf("FFT size %d with a hop of %d: more than %d frames overlap (want a hop of at least %d)", st.FFTSize, st.Hop, MaxOverlap, (st.FFTSize+MaxOverlap-1)/MaxOverlap)
	}
	return nil
}

// MaxContext is the widest patch a model may have, in frames: a basis has
// MaxContext times the bins as rows (255 frames of 513 bins: 131k rows, 4
// s of context at the paper's hop), so the bound also bounds the patches
// that training unfolds.
const MaxContext = 255

// MaxLayerSize is the largest number of bases in a layer (an NMF's K): a
// speaker's first layer of 65536 bases at 513 bins holds 134 MB.
const MaxLayerSize = 1 << 16

// CheckContext rejects a patch width that is not odd, positive and at most
// MaxContext.
func CheckContext(t int) error {
	if t < 1 || t%2 == 0 || t > MaxContext {
		return fmt.Errorf("context %d: want an odd number of frames from 1 to %d (1, 3, 5, ...)", t, MaxContext)
	}
	return nil
}

// CheckLayerSizes rejects layer sizes (bases per layer) outside 1 to
// MaxLayerSize.
func CheckLayerSizes(sizes []int) error {
	for _, k := range sizes {
		if k < 1 || k > MaxLayerSize {
			return fmt.Errorf("layer size %d: want 1 to %d bases", k, MaxLayerSize)
		}
	}
	return nil
}

// CheckSparsity rejects a negative or non-finite L1 penalty.
func CheckSparsity(lambda float64) error {
	if !(lambda >= 0) || math.IsInf(lambda, 0) {
		return fmt.Errorf("sparsity %v: want a finite number >= 0", lambda)
	}
	return nil
}

// CheckMaskPower rejects a mask exponent that is not positive and finite.
func CheckMaskPower(p float64) error {
	if !(p > 0) || math.IsInf(p, 0) {
		return fmt.Errorf("mask power %v: want a finite number > 0", p)
	}
	return nil
}

// Training records how a model was trained, for the model file and reports.
// Its JSON keys are those of the model file's "training" entry.
type Training struct {
	Iterations     int       `json:"iterations"`              // training (pretraining and fine-tuning) iterations
	InferIter      int       `json:"infer_iter"`              // inference iterations used in DL-NMF's H step
	Rounds         int       `json:"rounds"`                  // DL-NMF rounds requested
	RoundsAccepted int       `json:"rounds_accepted"`         // DL-NMF rounds whose bases were kept
	DiscIter       int       `json:"disc_iter"`               // DL-NMF basis iterations per round
	Seed           uint64    `json:"seed"`                    // seed of every random initialisation
	DiscCost       []float64 `json:"disc_cost"`               // DL-NMF discriminative cost: before round 1, then after each accepted round
	Mixtures       int       `json:"mixtures"`                // discriminative mixtures used (DL-NMF's; else deep unfolding's or the reconstruction bases')
	Utterances     []int     `json:"utterances"`              // training utterances per speaker
	DeepEpochs     int       `json:"deep_epochs,omitempty"`   // deep unfolding or discriminative training: gradient steps requested
	DeepAccepted   int       `json:"deep_accepted,omitempty"` // the same: steps kept
	DeepCost       []float64 `json:"deep_cost,omitempty"`     // the same: SA cost over the sources' energy, before the first step, then after each kept one
	DeepFrames     int       `json:"deep_frames,omitempty"`   // the same: training frames
}

// Names returns the speakers' names in model order.
func (m *Model) Names() []string {
	n := make([]string, len(m.Speakers))
	for i, s := range m.Speakers {
		n[i] = s.Name
	}
	return n
}

// Sizes returns the layer sizes shared by every speaker.
func (m *Model) Sizes() []int {
	if len(m.Speakers) == 0 {
		return nil
	}
	return m.Speakers[0].Sizes()
}

// nmfSettings returns the engine settings for this model's divergence and
// sparsity.
func (m *Model) nmfSettings(base nmf.Settings) nmf.Settings {
	base.Divergence = m.Divergence
	base.Beta = m.Beta
	base.L1 = m.Sparsity
	base.UnitNorm = m.Sparsity > 0
	return base
}

// Validate checks that the model is usable: at least one speaker, with
// distinct names, the same layer sizes for all speakers (and for all the
// universal model's speakers, whose sizes may differ from the speakers':
// --universal-k), the same bin count for all, finite non-negative layers
// that chain, and STFT settings that match the bins.
func (m *Model) Validate() error {
	if len(m.Speakers) < 1 {
		return fmt.Errorf("the model has no speakers")
	}
	if err := CheckSampleRate(m.SampleRate); err != nil {
		return fmt.Errorf("the model's %w", err)
	}
	plan, err := stft.NewPlan(m.STFT)
	if err != nil {
		return fmt.Errorf("the model's STFT settings: %w", err)
	}
	if err := checkSTFTBounds(plan.Settings(), m.SampleRate); err != nil {
		return fmt.Errorf("the model's STFT settings: %w", err)
	}
	if err := CheckContext(m.context()); err != nil {
		return fmt.Errorf("the model's %w", err)
	}
	if err := CheckSparsity(m.Sparsity); err != nil {
		return fmt.Errorf("the model's %w", err)
	}
	if err := CheckMaskPower(m.maskPower()); err != nil {
		return fmt.Errorf("the model's %w", err)
	}
	if err := checkModelBands(m.Bands, plan.Bins(), m.Unfold); err != nil {
		return fmt.Errorf("the model's default %w", err)
	}
	if err := checkModelStep(m.StepExponent, m.SeparateIters, m.Unfold); err != nil {
		return fmt.Errorf("the model's default %w", err)
	}
	seen := map[string]bool{}
	check := func(what string, s Speaker, first Speaker) error {
		if err := CheckName(s.Name); err != nil {
			return err
		}
		// Case-blind: on macOS and Windows "Ann" and "ann" would write the
		// same output file.
		if seen[NameKey(s.Name)] {
			return fmt.Errorf("%s name %q is used twice (names are compared ignoring case)", what, s.Name)
		}
		seen[NameKey(s.Name)] = true
		if len(s.Layers) == 0 {
			return fmt.Errorf("%s %s has no layers", what, s.Name)
		}
		if !slices.Equal(s.Sizes(), first.Sizes()) {
			return fmt.Errorf("%s %s has layer sizes %v, %s %s has %v", what, s.Name, s.Sizes(), what, first.Name, first.Sizes())
		}
		rows := plan.Bins() * m.context()
		for l, w := range s.Layers {
			if w.Rows != rows {
				return fmt.Errorf("%s %s layer %d has %d rows, want %d", what, s.Name, l+1, w.Rows, rows)
			}
			for _, v := range w.Data {
				if !(v >= 0) || math.IsInf(float64(v), 0) {
					return fmt.Errorf("%s %s layer %d holds a negative or non-finite value", what, s.Name, l+1)
				}
			}
			rows = w.Cols
		}
		return nil
	}
	for _, s := range m.Speakers {
		if err := check("speaker", s, m.Speakers[0]); err != nil {
			return err
		}
	}
	if err := m.validateDeep(plan.Bins() * m.context()); err != nil {
		return err
	}
	if u := m.Universal; u != nil {
		// The universal model's name names its output file, as a speaker's.
		if err := CheckName(u.Name); err != nil {
			return err
		}
		if seen[NameKey(u.Name)] {
			return fmt.Errorf("universal model name %q is a speaker's", u.Name)
		}
		if len(u.Speakers) == 0 {
			return fmt.Errorf("universal model %s has no speakers", u.Name)
		}
		for _, s := range u.Speakers {
			if err := check("universal speaker", s, u.Speakers[0]); err != nil {
				return err
			}
		}
		seen[NameKey(u.Name)] = true
	}
	return nil
}

// errSilent is returned for inputs with no signal energy at all.
var errSilent = errors.New("the signal is silent (all samples are zero)")

// CheckSamples rejects empty, silent and non-finite signals: training and
// separation would otherwise yield nothing useful, or NaN.
func CheckSamples(x []float64) error {
	if len(x) == 0 {
		return errors.New("the signal is empty")
	}
	bad, sound := scanSamples(x)
	if bad >= 0 {
		return fmt.Errorf("sample %d is %v", bad, x[bad])
	}
	if !sound {
		return errSilent
	}
	return nil
}

// scanSamples returns the index of the first NaN or infinite sample of x
// (-1 if none) and whether any sample before it is not zero.
func scanSamples(x []float64) (bad int, sound bool) {
	for i, v := range x {
		if v-v != 0 { // true for NaN and ±Inf only
			return i, sound
		}
		sound = sound || v != 0
	}
	return -1, sound
}

// Magnitude returns |X| of a complex spectrogram as a float32 matrix, bins x
// frames.
func Magnitude(dst *nmf.Dense[float32], s *stft.Spectrogram) *nmf.Dense[float32] {
	if dst == nil {
		dst = nmf.NewDense[float32](s.Bins, s.Frames, nil)
	}
	if dst.Rows != s.Bins || dst.Cols != s.Frames {
		panic("separation: magnitude size mismatch")
	}
	for b := 0; b < s.Bins; b++ {
		magnitude(dst.Data[b*dst.Stride:b*dst.Stride+s.Frames], s.Data[b*s.Frames:(b+1)*s.Frames])
	}
	return dst
}

// Spectrogram returns the magnitude spectrogram of x (bins x frames).
func Spectrogram(plan *stft.Plan, x []float64) *nmf.Dense[float32] {
	return Magnitude(nil, plan.Forward(nil, x))
}

// Concat places spectrograms side by side in time.
func Concat(ms []*nmf.Dense[float32]) *nmf.Dense[float32] {
	return nmf.HConcat(nil, ms...)
}

// validateDeep checks a deep-unfolded or discriminative model's bases
// against its analysis bases (rows x K per speaker): Untied only when
// Unfold > 0, at most Unfold untied layers and the same count for every
// speaker; Reconstruction for every speaker or none, and always with
// Unfold > 0; their sizes; finite non-negative values.
func (m *Model) validateDeep(rows int) error {
	if err := CheckUnfold(m.Unfold, len(m.Speakers[0].Untied)); err != nil {
		return fmt.Errorf("the model's %w", err)
	}
	recon := m.Speakers[0].Reconstruction != nil
	if (m.deep() || recon) && len(m.Speakers) < 2 {
		return fmt.Errorf("a deep-unfolded or discriminative model needs at least 2 speakers, the model has %d", len(m.Speakers))
	}
	for _, s := range m.Speakers {
		if !m.deep() && len(s.Untied) > 0 {
			return fmt.Errorf("speaker %s has unfolded bases but the model unfolds no iterations", s.Name)
		}
		if s.Reconstruction == nil {
			if m.deep() || recon {
				return fmt.Errorf("speaker %s has no reconstruction bases", s.Name)
			}
			continue
		}
		if !recon {
			return fmt.Errorf("speaker %s has reconstruction bases, speaker %s none", s.Name, m.Speakers[0].Name)
		}
		if m.Universal != nil {
			return errors.New("a deep-unfolded or discriminative model takes no universal model")
		}
		k := s.Layers[len(s.Layers)-1].Cols
		if len(s.Untied) != len(m.Speakers[0].Untied) {
			return fmt.Errorf("speaker %s has %d untied layers, speaker %s %d", s.Name, len(s.Untied), m.Speakers[0].Name, len(m.Speakers[0].Untied))
		}
		for u, w := range append(append([]*nmf.Dense[float32](nil), s.Untied...), s.Reconstruction) {
			what := fmt.Sprintf("untied layer %d", u+1)
			if u == len(s.Untied) {
				what = "reconstruction bases"
			}
			if w.Rows != rows || w.Cols != k {
				return fmt.Errorf("speaker %s's %s are %dx%d, its analysis bases %dx%d", s.Name, what, w.Rows, w.Cols, rows, k)
			}
			for _, v := range w.Data {
				if !(v >= 0) || math.IsInf(float64(v), 0) {
					return fmt.Errorf("speaker %s's %s hold a negative or non-finite value", s.Name, what)
				}
			}
		}
	}
	return nil
}
