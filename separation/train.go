package separation

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"time"

	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/stft"
)

// Defaults of DL-NMF's settings (docs/protocol.md: the paper gives no
// counts). Training and inference iterations default to nmf.DefaultMaxIter.
const (
	DefaultRounds = 5
	// DefaultDiscIter is the number of basis updates per DL-NMF round. The
	// paper does not give it; 50 keeps each round a small step from the
	// L-NMF bases, and with the default 5 rounds the bases get 250 updates
	// in all, more than the 200 of training.
	DefaultDiscIter = 50
)

// The named training configurations (dlnmf train --preset). A TrainSettings
// whose Method is empty is PresetValidated's: a new user gets the best
// model measured, not the paper's.
const (
	// PresetValidated is the configuration that validation data chose in
	// every repeat of the protocol on TSP FA+MC and, with the grid
	// unchanged, on CMU ARCTIC slt+bdl: NMF with K = 400 bases of 5-frame
	// spectral patches, L1 sparsity 1 and the power-ratio mask (P = 2).
	// Two selections made it: the first chose the patches, the sparsity
	// and the mask at K = 100 (docs/RESULTS.md, "Chosen on validation
	// data"), the second K = 400 over K = 100 (docs/RESULTS.md, "A larger
	// dictionary"); a third, inference on ValidatedBands bands. On those
	// bands an inference iteration costs about what K = 100's does on every
	// bin. A fourth, ValidatedStepExponent's longer steps for
	// ValidatedSeparateIters iterations in place of 200. A fifth,
	// reconstruction bases trained for that inference on mixtures of
	// held-back files (ReconstructionBetweenSpeakers; docs/RESULTS.md,
	// "Reconstruction bases"), and a sixth, those bases trained for
	// ValidatedReconstructionIters iterations, which the model then runs.
	PresetValidated = "validated"
	// PresetPaper is the paper's best configuration, DL-NMF with K1 = 180
	// and K2 = 20, single frames, no sparsity, mask exponent 1: for
	// reproducing its Table 1.
	PresetPaper = "paper"
)

// ValidatedBands is the number of mel-spaced bands PresetValidated's
// models infer H on by default (Model.Bands), about four times cheaper
// than every bin: validation chose 128 bands over every bin on TSP FA+MC
// and on CMU ARCTIC slt+bdl by the rule fixed before the runs, 8 or more
// of the 15 repeats on both (docs/RESULTS.md, "Inference on bands").
const ValidatedBands = 128

// ValidatedStepExponent and ValidatedSeparateIters are the inference
// PresetValidated's models run by default (Model.StepExponent and
// SeparateIters): longer multiplicative steps, which reach in 100
// iterations the validation SDR the usual update reaches in 200, in about
// half its time. Validation chose them by the non-inferiority rule
// fixed before the runs (the fewest iterations with the step exponent 1.5
// within 0.05 dB of the usual 200, on TSP FA+MC and on CMU ARCTIC
// slt+bdl, the larger of the two counts: 50 on TSP, 100 on ARCTIC;
// docs/RESULTS.md, "Longer steps").
const (
	ValidatedStepExponent  float64 = 1.5
	ValidatedSeparateIters int     = 100
)

// ValidatedReconstructionIters is the inference PresetValidated's models
// with reconstruction bases run by default, and their bases are trained
// for: validation chose at most 50 iterations over 100 (the fewest within
// 0.05 dB of 100 on TSP FA+MC and on CMU ARCTIC slt+bdl, by the rule fixed
// before the runs; docs/RESULTS.md, "Fewer iterations with reconstruction
// bases"), half the time of separation.
const ValidatedReconstructionIters = 50

// Preset returns the model settings of a named configuration (method,
// sizes, patch width, sparsity, mask exponent, default bands and step
// exponent, every one explicit, so that a door can override some of
// them); the other fields are zero, their defaults (PresetValidated's
// SeparateIters too: ForModel settles it with the reconstruction bases).
func Preset(name string) (TrainSettings, error) {
	switch name {
	case PresetValidated:
		return TrainSettings{Method: NMF, Sizes: []int{400}, Context: 5, Sparsity: 1, MaskPower: 2, Bands: ValidatedBands,
			StepExponent: ValidatedStepExponent, ReconstructionBases: ReconstructionBetweenSpeakers}, nil
	case PresetPaper:
		return MethodSettings(DLNMF), nil
	}
	return TrainSettings{}, fmt.Errorf("unknown preset %q (want %s or %s)", name, PresetValidated, PresetPaper)
}

// MethodSettings returns method m's model settings as the paper has them,
// every one explicit: DefaultSizes(m), single frames, no sparsity, mask
// exponent 1, no reconstruction bases.
func MethodSettings(m Method) TrainSettings {
	return TrainSettings{Method: m, Sizes: DefaultSizes(m), Context: 1, MaskPower: 1, ReconstructionBases: ReconstructionNone}
}

// Reconstruction says whether Train trains reconstruction bases of the
// Wiener gains for the model's own inference (discriminative NMF,
// TrainReconstruction). They are trained on mixtures of the speakers, so
// a model of one speaker has none to train, and its gains are trained for
// the speakers alone, so a model with a universal model takes none.
type Reconstruction uint8

const (
	// ReconstructionDefault, the zero value: PresetValidated's
	// ReconstructionBetweenSpeakers when Method is empty, else
	// ReconstructionNone.
	ReconstructionDefault Reconstruction = iota
	// ReconstructionNone trains none.
	ReconstructionNone
	// ReconstructionTrained trains them; a model of one speaker, a
	// universal model or deep unfolding (which trains its own) beside them
	// is refused.
	ReconstructionTrained
	// ReconstructionBetweenSpeakers trains them for a model of 2 speakers
	// or more without a universal model or deep unfolding, and none
	// otherwise: PresetValidated's.
	ReconstructionBetweenSpeakers
)

// DefaultSizes returns the layer sizes used when none are given: K = 20 for
// NMF and K1 = 180, K2 = 20 for L-NMF and DL-NMF, the paper's best rows.
func DefaultSizes(m Method) []int {
	if m == NMF {
		return []int{20}
	}
	return []int{180, 20}
}

// DefaultSeed is the seed of every random choice (shuffles, initialisations)
// that dlnmf's commands, the Python package and experiment.DefaultConfig
// start from: the seed of the results in docs/RESULTS.md. A zero seed in
// settings is a seed like any other.
const DefaultSeed = 1

// TrainSettings control Train. The zero value of each field means its
// documented default.
type TrainSettings struct {
	Method     Method        // "": PresetValidated's method, and its sizes, patches, sparsity and mask where those are zero
	Sizes      []int         // layer sizes; nil: DefaultSizes(Method). NMF takes one size.
	SampleRate int           // 0: 16000
	STFT       stft.Settings // zero: STFTAt(SampleRate), the paper's 64 ms window and 16 ms hop
	NMF        nmf.Settings  // divergence, tolerance, seed, workers, recorder; MaxIter 0: nmf.DefaultMaxIter
	InferIter  int           // DL-NMF H-step iterations; 0: NMF.MaxIter
	Rounds     int           // DL-NMF rounds; 0: DefaultRounds
	DiscIter   int           // DL-NMF basis iterations per round; 0: DefaultDiscIter
	// Context is the patch width T (odd; 0: 1, single frames), Sparsity the
	// L1 penalty lambda on H (with unit-norm first-layer columns), and
	// MaskPower the mask exponent p (0: 1) recorded in the model: see Model.
	// NMF.L1 and NMF.UnitNorm are set from Sparsity.
	Context   int
	Sparsity  float64
	MaskPower float64
	// Unfold is the number N of inference iterations unfolded as layers and
	// trained on the mixtures after the method's training (deep NMF,
	// DeepUnfold), Untied the last U of them with their own bases; with
	// Unfold > 0 and Untied 0 only the reconstruction bases are trained
	// (discriminative NMF). 0: no unfolding. DeepEpochs is the gradient
	// steps; 0: DefaultDeepEpochs.
	Unfold     int
	Untied     int
	DeepEpochs int
	// ReconstructionBases says whether bases of the Wiener gains are
	// trained for the model's own inference after the method's training
	// (discriminative NMF, TrainReconstruction), on the mixtures, for
	// DeepEpochs steps: see Reconstruction. ForModel settles it.
	ReconstructionBases Reconstruction
	// Bands is recorded in the model as the mel-spaced bands separation
	// infers H on by default (Model.Bands); 0: every bin, but
	// PresetValidated's ValidatedBands when Method is empty. A deep-unfolded
	// model, whose layers are trained on every bin, records none.
	Bands int
	// StepExponent and SeparateIters are recorded in the model as the
	// inference separation runs by default (Model.StepExponent and
	// SeparateIters). StepExponent 0: the usual update, but
	// PresetValidated's ValidatedStepExponent when Method is empty.
	// SeparateIters 0: nmf.DefaultMaxIter iterations of the usual update;
	// with longer steps (StepExponent above 1) the counts validation chose
	// for them, ValidatedReconstructionIters for a model with
	// reconstruction bases (trained for that count) and
	// ValidatedSeparateIters without (ForModel settles it). A
	// deep-unfolded model, which runs exactly its Unfold iterations with
	// the usual update, records none.
	StepExponent  float64
	SeparateIters int
}

// Discriminative reports whether the settings, settled by ForModel,
// train on mixtures of the speakers (DL-NMF's rounds, deep unfolding or
// reconstruction bases), which need 2 speakers or more and the mixtures.
func (s TrainSettings) Discriminative() bool {
	return s.Method == DLNMF || s.Unfold > 0 || s.ReconstructionBases == ReconstructionTrained
}

// CheckSpeakers rejects a discriminative training of fewer than 2
// speakers, before any work.
func (s TrainSettings) CheckSpeakers(n int) error {
	if s.Discriminative() && n < 2 {
		what := "DL-NMF"
		switch {
		case s.Unfold > 0:
			what = "deep unfolding (--unfold)"
		case s.ReconstructionBases == ReconstructionTrained:
			what = "discriminative training of reconstruction bases"
		}
		return fmt.Errorf("%s trains on mixtures of the speakers: it needs at least 2 speakers, got %d", what, n)
	}
	return nil
}

// ForModel returns s settled for a model of the given number of speakers,
// with a universal model or without: an empty Method made
// PresetValidated's in every field that s leaves zero,
// ReconstructionBases made ReconstructionTrained or ReconstructionNone, and
// a zero SeparateIters with longer steps made the count validation chose
// for them with or without the reconstruction bases.
// Train settles its settings so (with no universal model: a door that
// trains one beside the model settles them first); a door that decides
// before Train what to hold back for mixtures (Discriminative) settles
// them first too.
func (s TrainSettings) ForModel(speakers int, universal bool) TrainSettings {
	if s.Method == "" {
		p, _ := Preset(PresetValidated)
		s.Method = p.Method
		if s.Sizes == nil {
			s.Sizes = p.Sizes
		}
		if s.Context == 0 {
			s.Context = p.Context
		}
		if s.Sparsity == 0 {
			s.Sparsity = p.Sparsity
		}
		if s.MaskPower == 0 {
			s.MaskPower = p.MaskPower
		}
		if s.Bands == 0 {
			s.Bands = p.Bands
		}
		if s.StepExponent == 0 {
			s.StepExponent = p.StepExponent
		}
		if s.ReconstructionBases == ReconstructionDefault {
			s.ReconstructionBases = p.ReconstructionBases
		}
	}
	switch s.ReconstructionBases {
	case ReconstructionDefault:
		s.ReconstructionBases = ReconstructionNone
	case ReconstructionBetweenSpeakers:
		s.ReconstructionBases = ReconstructionNone
		if speakers >= 2 && !universal && s.Unfold == 0 {
			s.ReconstructionBases = ReconstructionTrained
		}
	}
	if s.SeparateIters == 0 && s.StepExponent > 1 && s.Unfold == 0 {
		s.SeparateIters = ValidatedSeparateIters
		if s.ReconstructionBases == ReconstructionTrained {
			s.SeparateIters = ValidatedReconstructionIters
		}
	}
	return s
}

// withDefaults settles s for a model of the given number of speakers
// (ForModel, no universal model), fills in the defaults and checks it.
func (s TrainSettings) withDefaults(speakers int) (TrainSettings, error) {
	s = s.ForModel(speakers, false)
	if s.ReconstructionBases > ReconstructionBetweenSpeakers {
		return s, fmt.Errorf("reconstruction bases %d: unknown", s.ReconstructionBases)
	}
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
	if err := CheckLayerSizes(s.Sizes); err != nil {
		return s, err
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
	if s.Context == 0 {
		s.Context = 1
	}
	if s.MaskPower == 0 {
		s.MaskPower = 1
	}
	if err := CheckContext(s.Context); err != nil {
		return s, err
	}
	if err := CheckSparsity(s.Sparsity); err != nil {
		return s, err
	}
	if err := CheckMaskPower(s.MaskPower); err != nil {
		return s, err
	}
	if err := CheckUnfold(s.Unfold, s.Untied); err != nil {
		return s, err
	}
	if s.DeepEpochs < 0 {
		return s, fmt.Errorf("deep epochs %d: want 1 or more (0: %d)", s.DeepEpochs, DefaultDeepEpochs)
	}
	if s.Unfold > 0 && s.NMF.Divergence != nmf.KullbackLeibler {
		return s, errors.New("deep unfolding (--unfold) takes the KL divergence (beta 1)")
	}
	if s.ReconstructionBases == ReconstructionTrained && s.Unfold > 0 {
		return s, errors.New("deep unfolding (--unfold) trains its own reconstruction bases: not with reconstruction bases for the model's inference")
	}
	if s.ReconstructionBases == ReconstructionTrained && s.NMF.Divergence != nmf.KullbackLeibler {
		return s, errors.New("discriminative reconstruction bases take the KL divergence (beta 1)")
	}
	s.NMF.L1, s.NMF.UnitNorm = s.Sparsity, s.Sparsity > 0
	d, err := s.disc().withDefaults()
	s.NMF, s.InferIter, s.Rounds, s.DiscIter = d.NMF, d.InferIter, d.Rounds, d.DiscIter
	return s, err
}

// disc returns the settings of Discriminate within s.
func (s TrainSettings) disc() DiscSettings {
	return DiscSettings{Rounds: s.Rounds, InferIter: s.InferIter, DiscIter: s.DiscIter, NMF: s.NMF}
}

// withDefaults resolves the zero fields of the iteration and round counts,
// for Discriminate and for TrainSettings alike: NMF.MaxIter
// nmf.DefaultMaxIter, InferIter NMF.MaxIter, Rounds DefaultRounds, DiscIter
// DefaultDiscIter.
func (d DiscSettings) withDefaults() (DiscSettings, error) {
	if d.NMF.MaxIter == 0 {
		d.NMF.MaxIter = nmf.DefaultMaxIter
	}
	if d.InferIter == 0 {
		d.InferIter = d.NMF.MaxIter
	}
	if d.Rounds == 0 {
		d.Rounds = DefaultRounds
	}
	if d.DiscIter == 0 {
		d.DiscIter = DefaultDiscIter
	}
	if d.NMF.MaxIter < 0 || d.InferIter < 0 || d.Rounds < 0 || d.DiscIter < 0 {
		return d, errors.New("iteration and round counts must not be negative")
	}
	return d, nil
}

// SpeakerData is one speaker's clean training speech at the model's rate.
type SpeakerData struct {
	Name       string
	Utterances [][]float64
}

// MixtureData is one discriminative mixture with its clean sources, in the
// order of the speakers (corpus.DiscMixtures builds them from utterances).
type MixtureData struct {
	Mixture []float64
	Sources [][]float64
}

// TrainReport holds what training measured, for progress and reports.
type TrainReport struct {
	Speakers    []nmf.Result // training cost history per speaker (of the last stage)
	Seconds     []float64    // wall time of each speaker's training (0 when shared, see TrainingSet)
	DiscCost    []float64    // DL-NMF: before round 1, then after each accepted round
	DiscSeconds float64      // DL-NMF: wall time of the discriminative rounds
	DeepCost    []float64    // deep unfolding: SA cost over the sources' energy, before and after each kept step
	DeepSeconds float64      // deep unfolding: wall time of its training
}

// SpeakerSeed is the seed rule of training: speaker i (0-based, in model
// order) is initialised from seed + i, so that every speaker starts from its
// own reproducible draw; DL-NMF's inference starts from seed itself.
func SpeakerSeed(seed uint64, i int) uint64 { return seed + uint64(i) }

// Train trains a model of every speaker on its clean utterances and, for
// DL-NMF, adapts the bases on the discriminative mixtures (ignored for the
// other methods). It is NewTrainingSet followed by TrainingSet.Train.
func Train(ctx context.Context, speakers []SpeakerData, disc []MixtureData, s TrainSettings) (*Model, *TrainReport, error) {
	if !s.Discriminative() {
		disc = nil // not used: spare their spectrograms
	}
	ts, err := NewTrainingSet(speakers, disc, s.SampleRate, s.STFT)
	if err != nil {
		return nil, nil, err
	}
	return ts.Train(ctx, s)
}

// TrainingSet is the training data of one model or of several: every
// speaker's training spectrogram (its utterances side by side) and the
// discriminative mixtures' spectrograms, computed once. The experiment
// trains every method and size of a repeat on one set.
//
// With ShareLayers set, Train keeps what it trained for later calls with
// the same engine settings: the first layer of each K1 (layer-1
// pretraining, which does not depend on the later sizes) and the layered
// model of each size list (which DL-NMF adapts). A model trained from kept
// layers is bit-identical to one trained from scratch: training is
// deterministic for a seed.
//
// A TrainingSet is not safe for concurrent use.
type TrainingSet struct {
	ShareLayers bool

	names      []string
	utterances []int
	sampleRate int
	stft       stft.Settings
	spectra    []*nmf.Dense[float32]
	cuts       [][]int // per speaker: the first column of each utterance in spectra
	disc       []DiscData
	patched    map[int]patchedSet                       // spectra and disc unfolded, by context
	first      map[string][]*nmf.Factorization[float32] // by K1 and settings
	layered    map[string]layeredSpeakers               // by sizes and settings
}

// KeptLayers are the layers a TrainingSet with ShareLayers has kept, with
// the training speech they were trained on, to hand to another set of the
// same speech (TrainingSet.Keep): sets that differ only in their
// discriminative mixtures train the same layers.
type KeptLayers struct {
	speech  uint64 // speechHash of the set
	first   map[string][]*nmf.Factorization[float32]
	layered map[string]layeredSpeakers
}

// Kept returns the layers ts has kept so far.
func (ts *TrainingSet) Kept() KeptLayers {
	return KeptLayers{speech: ts.speechHash(), first: ts.first, layered: ts.layered}
}

// Keep makes the layers k another set kept ts's own kept layers (they are
// shared, not copied) when both sets hold the same training speech, and
// reports whether they did; with ShareLayers, later trainings of the same
// sizes and settings take them, bit-identical to training again.
func (ts *TrainingSet) Keep(k KeptLayers) bool {
	if k.layered == nil || k.speech != ts.speechHash() {
		return false
	}
	ts.first, ts.layered = k.first, k.layered
	return true
}

// speechHash is an FNV-1a hash of what the layers are trained on: the
// speakers' names, rate, STFT settings and training spectrograms.
func (ts *TrainingSet) speechHash() uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%q %v %d %+v;", ts.names, ts.utterances, ts.sampleRate, ts.stft)
	for _, X := range ts.spectra {
		fmt.Fprintf(h, "%dx%d;", X.Rows, X.Cols)
		for i := 0; i < X.Rows; i++ {
			// A row at a time, as bytes (a hash never fails to write).
			_ = binary.Write(h, binary.LittleEndian, X.Data[i*X.Stride:i*X.Stride+X.Cols])
		}
	}
	return h.Sum64()
}

// layeredSpeakers is a kept L-NMF training: every speaker's layers and cost
// history.
type layeredSpeakers struct {
	layers  [][]*nmf.Dense[float32]
	results []nmf.Result
}

// NewTrainingSet checks the speakers' utterances and the discriminative
// mixtures (which may be nil when no DL-NMF model is trained) and computes
// their magnitude spectrograms at sampleRate (0: DefaultSampleRate) with
// the STFT settings st (zero: STFTAt(sampleRate)).
func NewTrainingSet(speakers []SpeakerData, disc []MixtureData, sampleRate int, st stft.Settings) (*TrainingSet, error) {
	if len(speakers) < 1 {
		return nil, errors.New("training needs at least 1 speaker, got none")
	}
	for _, sp := range speakers {
		if err := CheckName(sp.Name); err != nil {
			return nil, err
		}
	}
	if sampleRate == 0 {
		sampleRate = DefaultSampleRate
	}
	if sampleRate < 0 {
		return nil, fmt.Errorf("sample rate %d is not positive", sampleRate)
	}
	if st == (stft.Settings{}) {
		st = STFTAt(sampleRate)
	}
	plan, err := stft.NewPlan(st)
	if err != nil {
		return nil, err
	}
	ts := &TrainingSet{sampleRate: sampleRate, stft: plan.Settings(), patched: map[int]patchedSet{},
		first: map[string][]*nmf.Factorization[float32]{}, layered: map[string]layeredSpeakers{}}
	for _, sp := range speakers {
		mags := make([]*nmf.Dense[float32], 0, len(sp.Utterances))
		for j, u := range sp.Utterances {
			if err := CheckSamples(u); err != nil {
				return nil, fmt.Errorf("speaker %s, utterance %d: %w", sp.Name, j+1, err)
			}
			mags = append(mags, Spectrogram(plan, u))
		}
		if len(mags) == 0 {
			return nil, fmt.Errorf("speaker %s has no training utterances", sp.Name)
		}
		ts.names = append(ts.names, sp.Name)
		ts.utterances = append(ts.utterances, len(sp.Utterances))
		ts.spectra = append(ts.spectra, Concat(mags))
		cuts := make([]int, len(mags))
		for j := 1; j < len(mags); j++ {
			cuts[j] = cuts[j-1] + mags[j-1].Cols
		}
		ts.cuts = append(ts.cuts, cuts)
	}
	for j, d := range disc {
		if len(d.Sources) != len(speakers) {
			return nil, fmt.Errorf("discriminative mixture %d has %d sources for %d speakers", j+1, len(d.Sources), len(speakers))
		}
		if err := CheckSamples(d.Mixture); err != nil {
			return nil, fmt.Errorf("discriminative mixture %d: %w", j+1, err)
		}
		dd := DiscData{Mixture: Spectrogram(plan, d.Mixture)}
		for _, src := range d.Sources {
			if len(src) != len(d.Mixture) {
				return nil, fmt.Errorf("discriminative mixture %d: a source has %d samples, the mixture %d", j+1, len(src), len(d.Mixture))
			}
			dd.Sources = append(dd.Sources, Spectrogram(plan, src))
		}
		ts.disc = append(ts.disc, dd)
	}
	return ts, nil
}

// Train trains a model of every speaker on the set and, for DL-NMF, adapts
// the bases on the set's discriminative mixtures: layer-by-layer
// pretraining and joint fine-tuning per speaker (nmf.Train; eqs. 5-8),
// speaker i initialised from SpeakerSeed(s.NMF.Seed, i), then Discriminate.
// Speakers are trained one after the other; the NMF engine uses
// s.NMF.Workers cores for each. s.SampleRate and s.STFT must be zero or
// the set's.
func (ts *TrainingSet) Train(ctx context.Context, s TrainSettings) (*Model, *TrainReport, error) {
	s, err := s.withDefaults(len(ts.names))
	if err != nil {
		return nil, nil, err
	}
	if s.SampleRate != ts.sampleRate {
		return nil, nil, fmt.Errorf("training at %d Hz on a set made at %d Hz", s.SampleRate, ts.sampleRate)
	}
	if s.STFT != (stft.Settings{}) && s.STFT != ts.stft {
		return nil, nil, fmt.Errorf("training with STFT settings %+v on a set made with %+v", s.STFT, ts.stft)
	}
	if err := s.CheckSpeakers(len(ts.names)); err != nil {
		return nil, nil, err
	}
	if err := checkModelBands(s.Bands, ts.stft.FFTSize/2+1, 0); err != nil {
		return nil, nil, err
	}
	if err := CheckModelStep(s.StepExponent, s.SeparateIters); err != nil {
		return nil, nil, err
	}
	if s.Discriminative() && len(ts.disc) == 0 {
		return nil, nil, errors.New("DL-NMF and deep unfolding need discriminative mixtures, got none")
	}
	m := &Model{
		Method: s.Method, SampleRate: ts.sampleRate, STFT: ts.stft,
		Divergence: s.NMF.Divergence, Beta: s.NMF.Beta,
		Context: s.Context, Sparsity: s.Sparsity, MaskPower: s.MaskPower, Bands: s.Bands,
		StepExponent: s.StepExponent, SeparateIters: s.SeparateIters,
		Training: Training{Iterations: s.NMF.MaxIter, Seed: s.NMF.Seed, Utterances: append([]int(nil), ts.utterances...)},
	}
	rep := &TrainReport{}
	layers, err := ts.layers(ctx, s, rep)
	if err != nil {
		return nil, nil, err
	}
	for i, name := range ts.names {
		m.Speakers = append(m.Speakers, Speaker{Name: name, Layers: layers[i]})
	}
	if s.Method == DLNMF {
		start := time.Now()
		dr, err := Discriminate(ctx, m, ts.input(s.Context).disc, s.disc())
		if err != nil {
			return nil, nil, err
		}
		rep.DiscCost = dr.Cost
		rep.DiscSeconds = time.Since(start).Seconds()
	}
	if s.Unfold > 0 {
		start := time.Now()
		ds := DeepSettings{Unfold: s.Unfold, Untied: s.Untied, Epochs: s.DeepEpochs, Recorder: s.NMF.Recorder}
		dr, err := DeepUnfold(ctx, m, ts.disc, ds)
		if err != nil {
			return nil, nil, err
		}
		rep.DeepCost = dr.Cost
		rep.DeepSeconds = time.Since(start).Seconds()
	}
	if s.ReconstructionBases == ReconstructionTrained {
		start := time.Now()
		dr, err := TrainReconstruction(ctx, m, ts.disc, DeepSettings{Epochs: s.DeepEpochs, Recorder: s.NMF.Recorder})
		if err != nil {
			return nil, nil, err
		}
		rep.DeepCost = dr.Cost
		rep.DeepSeconds = time.Since(start).Seconds()
	}
	return m, rep, nil
}

// layers trains (or, with ShareLayers, takes from an earlier training)
// every speaker's layers for s.Sizes and returns copies the caller owns.
func (ts *TrainingSet) layers(ctx context.Context, s TrainSettings, rep *TrainReport) ([][]*nmf.Dense[float32], error) {
	ns := s.NMF
	ns.Recorder, ns.Workers = nil, 0 // neither changes the result
	key := fmt.Sprintf("%v %d %+v", s.Sizes, s.Context, ns)
	if kept, ok := ts.layered[key]; ok {
		out := make([][]*nmf.Dense[float32], len(kept.layers))
		for i, ls := range kept.layers {
			out[i] = cloneLayers(ls)
		}
		rep.Speakers = append(rep.Speakers, kept.results...)
		rep.Seconds = make([]float64, len(kept.layers))
		return out, nil
	}
	firstKey := fmt.Sprintf("%d %d %+v", s.Sizes[0], s.Context, ns)
	spectra := ts.input(s.Context).spectra
	out := make([][]*nmf.Dense[float32], len(ts.names))
	for i, name := range ts.names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		X := spectra[i]
		es := s.NMF
		es.Seed = SpeakerSeed(s.NMF.Seed, i)
		var f *nmf.Factorization[float32]
		var res nmf.Result
		var err error
		if kept := ts.first[firstKey]; len(s.Sizes) > 1 && len(kept) > i {
			f = cloneFactorization(kept[i])
		} else if f, res, err = nmf.Factorize(X, s.Sizes[0], es); err != nil {
			return nil, fmt.Errorf("speaker %s: %w", name, err)
		} else if ts.ShareLayers && len(s.Sizes) > 1 {
			ts.first[firstKey] = append(ts.first[firstKey], cloneFactorization(f))
		}
		for _, k := range s.Sizes[1:] {
			if f, res, err = nmf.Stack(X, f, k, es); err != nil {
				return nil, fmt.Errorf("speaker %s: %w", name, err)
			}
		}
		if len(s.Sizes) > 1 {
			if res, err = nmf.FineTune(X, f, es); err != nil {
				return nil, fmt.Errorf("speaker %s: %w", name, err)
			}
		}
		out[i] = f.Layers
		rep.Speakers = append(rep.Speakers, res)
		rep.Seconds = append(rep.Seconds, time.Since(start).Seconds())
	}
	if ts.ShareLayers {
		kept := layeredSpeakers{results: rep.Speakers}
		for _, ls := range out {
			kept.layers = append(kept.layers, cloneLayers(ls))
		}
		ts.layered[key] = kept
	}
	return out, nil
}

// DiscData is one discriminative mixture's magnitude spectrogram with its
// sources' magnitude spectrograms (same size, speakers in model order).
type DiscData struct {
	Mixture *nmf.Dense[float32]
	Sources []*nmf.Dense[float32]
}

// DiscSettings control Discriminate; zero values mean the defaults of
// TrainSettings (one rule for both, DiscSettings.withDefaults).
type DiscSettings struct {
	Rounds    int          // 0: DefaultRounds
	InferIter int          // H-step iterations; 0: NMF.MaxIter
	DiscIter  int          // basis iterations per round; 0: DefaultDiscIter
	NMF       nmf.Settings // divergence from the model; seed, workers, recorder; MaxIter 0: nmf.DefaultMaxIter
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
	s, err := s.withDefaults()
	if err != nil {
		return DiscResult{}, err
	}
	if len(data) == 0 {
		return DiscResult{}, errors.New("DL-NMF needs discriminative mixtures, got none")
	}
	if err := m.Validate(); err != nil {
		return DiscResult{}, err
	}
	nsp := len(m.Speakers)
	if nsp < 2 {
		return DiscResult{}, fmt.Errorf("DL-NMF needs at least 2 speakers, the model has %d (use nmf or lnmf for one)", nsp)
	}
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
	infer.Recorder = withStage(s.NMF.Recorder, StageDiscInfer)
	update := m.nmfSettings(s.NMF)
	update.MaxIter = s.DiscIter
	update.Tol = -1 // a fixed number of basis steps per round
	update.Recorder = withStage(s.NMF.Recorder, StageDiscUpdate)

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
			s.NMF.Recorder.Record(nmf.Event{Stage: StageDiscRound, Iter: r + 1, Cost: next})
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

// DL-NMF's stages in the events that Discriminate passes to
// DiscSettings.NMF.Recorder.
const (
	StageDiscInfer  nmf.Stage = "disc-infer"  // a round's H step on the mixtures (the engine's infer events)
	StageDiscUpdate nmf.Stage = "disc-update" // a round's basis step (the engine's update events)
	StageDiscRound  nmf.Stage = "disc-round"  // a round's end: Iter is the round, Cost the discriminative cost
)

// stageRecorder renames the stage of the engine's events.
type stageRecorder struct {
	r     nmf.Recorder
	stage nmf.Stage
}

func (s stageRecorder) Record(e nmf.Event) {
	e.Stage = s.stage
	s.r.Record(e)
}

// withStage renames r's events to stage; nil stays nil, so that the engine
// knows nobody watches.
func withStage(r nmf.Recorder, stage nmf.Stage) nmf.Recorder {
	if r == nil {
		return nil
	}
	return stageRecorder{r, stage}
}

func cloneFactorization(f *nmf.Factorization[float32]) *nmf.Factorization[float32] {
	return &nmf.Factorization[float32]{Layers: cloneLayers(f.Layers), H: f.H.Clone()}
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

// STFTAt returns the paper's STFT at rate: a 64 ms periodic Hann window, as
// long as the FFT, every 16 ms (1024 and 256 samples at 16 kHz), rounded to
// whole samples. The window and hop stay those durations at any rate, so
// that a frame holds as much speech whatever the rate.
func STFTAt(rate int) stft.Settings {
	if rate == DefaultSampleRate {
		return stft.Settings{FFTSize: 1024, WindowSize: 1024, Hop: 256}
	}
	w := max(int(math.Round(0.064*float64(rate))), 4)
	return stft.Settings{FFTSize: w, WindowSize: w, Hop: max(int(math.Round(0.016*float64(rate))), 1)}
}

// patchedSet is a training set's data unfolded into patches of one width.
type patchedSet struct {
	spectra []*nmf.Dense[float32]
	disc    []DiscData
}

// input returns the set's spectrograms and discriminative mixtures for
// patch width w: themselves for w = 1, else unfolded (nmf.Unfold) and kept
// for later calls. Each utterance is unfolded on its own, so no patch spans
// two.
func (ts *TrainingSet) input(w int) patchedSet {
	if w <= 1 {
		return patchedSet{spectra: ts.spectra, disc: ts.disc}
	}
	if p, ok := ts.patched[w]; ok {
		return p
	}
	var p patchedSet
	for i, X := range ts.spectra {
		P := nmf.NewDense[float32](w*X.Rows, X.Cols, nil)
		cuts := append(append([]int(nil), ts.cuts[i]...), X.Cols)
		for j := 0; j+1 < len(cuts); j++ {
			nmf.Unfold(colBlock(P, cuts[j], cuts[j+1]), colBlock(X, cuts[j], cuts[j+1]), w)
		}
		p.spectra = append(p.spectra, P)
	}
	for _, d := range ts.disc {
		dd := DiscData{Mixture: nmf.Unfold(nil, d.Mixture, w)}
		for _, src := range d.Sources {
			dd.Sources = append(dd.Sources, nmf.Unfold(nil, src, w))
		}
		p.disc = append(p.disc, dd)
	}
	ts.patched[w] = p
	return p
}

// colBlock returns a view of columns [j0, j1) of m.
func colBlock(m *nmf.Dense[float32], j0, j1 int) *nmf.Dense[float32] {
	return &nmf.Dense[float32]{Rows: m.Rows, Cols: j1 - j0, Stride: m.Stride, Data: m.Data[j0 : (m.Rows-1)*m.Stride+j1]}
}
