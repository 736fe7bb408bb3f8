package experiment

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/separation"
)

// Config is one experiment. The zero value of each field means the
// protocol's default.
type Config struct {
	Repeats       int                 `json:"repeats"`        // 0: 15
	K             []int               `json:"k"`              // NMF sizes; nil: 10, 20, 30
	Layers        [][]int             `json:"layers"`         // layered sizes; nil: 180,10 180,20 180,30
	Methods       []separation.Method `json:"methods"`        // nil: nmf, lnmf, dlnmf
	Iters         int                 `json:"iters"`          // training iterations; 0: 200
	InferIters    int                 `json:"infer_iters"`    // inference iterations; 0: Iters
	Rounds        int                 `json:"rounds"`         // DL-NMF rounds; 0: 5
	DiscIters     int                 `json:"disc_iters"`     // DL-NMF basis iterations per round; 0: separation.DefaultDiscIter
	SNR           float64             `json:"snr"`            // mixing level of the first speaker over each other, dB
	Seed          uint64              `json:"seed"`           // used as given (0 is a seed too); DefaultConfig sets separation.DefaultSeed
	Beta          *float64            `json:"beta"`           // beta-divergence; nil: 1 (Kullback-Leibler)
	Tol           float64             `json:"tol"`            // engine tolerance; 0: nmf.DefaultTol; negative: run every iteration
	TrainFraction float64             `json:"train_fraction"` // 0: corpus.TrainFraction (0.7)
	DiscFraction  float64             `json:"disc_fraction"`  // 0: corpus.DiscFraction (0.2)
	SampleRate    int                 `json:"sample_rate"`    // 0: separation.DefaultSampleRate
	Examples      int                 `json:"examples"`       // test mixtures of the first repeat kept as audio for the report
	// Beyond the paper, for every row: the patch width T (odd;
	// 0: 1, single frames), the L1 penalty lambda on H with unit-norm
	// first-layer columns (0: none) and the mask exponent p (0: 1). See
	// separation.Model.
	Context   int     `json:"context,omitempty"`
	Sparsity  float64 `json:"sparsity,omitempty"`
	MaskPower float64 `json:"mask_power,omitempty"`
	// Bands infers every row's activations on that many mel-spaced bands
	// (separation.SeparateSettings.Bands; 0: the models' default, every
	// bin for the rows' models, which record none).
	Bands int `json:"bands,omitempty"`
	// CoarseBands and CoarseIters start every row's activations from
	// that many iterations on that many mel-spaced bands
	// (separation.SeparateSettings.CoarseBands and CoarseIters; 0: no
	// coarse start, 0 iterations separation.DefaultCoarseIters).
	CoarseBands int `json:"coarse_bands,omitempty"`
	CoarseIters int `json:"coarse_iters,omitempty"`
	// StepExponent takes every row's inference in longer steps of H
	// (nmf.Settings.StepExponent; 0: the usual update).
	StepExponent float64 `json:"step_exponent,omitempty"`
	// Deep unfolding after every row's training (separation.TrainSettings
	// Unfold, Untied and DeepEpochs; 0: none, 0 untied, the default steps):
	// the rows train on the held-back discriminative mixtures as DL-NMF's.
	Unfold     int `json:"unfold,omitempty"`
	Untied     int `json:"untied,omitempty"`
	DeepEpochs int `json:"deep_epochs,omitempty"`
	// ReconstructionBases trains the Wiener gains' bases of every row for
	// its own inference after its training (separation.TrainSettings
	// ReconstructionBases, DeepEpochs steps) on the held-back mixtures: the
	// rows' models record the inference the experiment separates with
	// (Bands, StepExponent, InferIters), which their training infers with.
	// Not with Unfold or a coarse start.
	ReconstructionBases bool `json:"reconstruction_bases,omitempty"`
	// LiveIters, when set, scores every row as a live stream separates
	// (separation.Live): that many inference iterations per frame, every
	// one (no early stop on the cost, where Live equals Separate to float32
	// rounding: TestLiveEqualsSeparate), with the step exponent
	// LiveStepExponent (0: the usual update, Live's default). The rows are
	// trained as without it, reconstruction bases for the offline
	// inference (InferIters, StepExponent) a model records, as a stream
	// takes a model trained for offline use.
	LiveIters        int     `json:"live_iters,omitempty"`
	LiveStepExponent float64 `json:"live_step_exponent,omitempty"`
	// DiscPairings is how many mixtures each held-back utterance makes
	// (corpus.DiscMixtures: the others' utterances rotated by 0, 1, ...);
	// 0: 1, the protocol's pairing.
	DiscPairings int `json:"disc_pairings,omitempty"`
	// Select, when set, adds the row "Selected": its configuration chosen
	// in every repeat on validation data from a grid (see Selection).
	Select *Selection `json:"select,omitempty"`
}

// DefaultConfig returns the configuration every door starts from: the zero
// Config (the protocol's defaults) with separation.DefaultSeed, the seed of
// the results in docs/RESULTS.md.
func DefaultConfig() Config { return Config{Seed: separation.DefaultSeed} }

// MaxRepeats bounds the repeats of a protocol (the paper's is 15): each
// repeat trains every model again.
const MaxRepeats = 1000

// Defaults returns c with every zero field set to its default, or an error
// for a setting that cannot work.
func (c Config) Defaults() (Config, error) {
	if c.Repeats == 0 {
		c.Repeats = 15
	}
	if c.K == nil {
		c.K = []int{10, 20, 30}
	}
	if c.Layers == nil {
		c.Layers = [][]int{{180, 10}, {180, 20}, {180, 30}}
	}
	if c.Methods == nil {
		c.Methods = []separation.Method{separation.NMF, separation.LNMF, separation.DLNMF}
	}
	if c.Iters == 0 {
		c.Iters = nmf.DefaultMaxIter
	}
	if c.InferIters == 0 {
		c.InferIters = c.Iters
	}
	if c.Rounds == 0 {
		c.Rounds = separation.DefaultRounds
	}
	if c.DiscIters == 0 {
		c.DiscIters = separation.DefaultDiscIter
	}
	if c.Beta == nil {
		kl := 1.0
		c.Beta = &kl
	}
	if c.Tol == 0 {
		c.Tol = nmf.DefaultTol
	}
	if c.TrainFraction == 0 {
		c.TrainFraction = corpus.TrainFraction
	}
	if c.DiscFraction == 0 {
		c.DiscFraction = corpus.DiscFraction
	}
	if c.SampleRate == 0 {
		c.SampleRate = separation.DefaultSampleRate
	}
	switch {
	case c.Repeats < 1 || c.Repeats > MaxRepeats:
		return c, fmt.Errorf("repeats %d: want 1 to %d", c.Repeats, MaxRepeats)
	case c.Iters < 1 || c.InferIters < 1 || c.Rounds < 1 || c.DiscIters < 1:
		return c, errors.New("iteration and round counts must be at least 1")
	case c.TrainFraction <= 0 || c.DiscFraction <= 0 || c.TrainFraction+c.DiscFraction >= 1:
		return c, fmt.Errorf("split fractions %g/%g leave no test share", c.TrainFraction, c.DiscFraction)
	}
	if c.Context != 0 {
		if err := separation.CheckContext(c.Context); err != nil {
			return c, err
		}
	}
	if err := separation.CheckSparsity(c.Sparsity); err != nil {
		return c, err
	}
	if c.MaskPower != 0 {
		if err := separation.CheckMaskPower(c.MaskPower); err != nil {
			return c, err
		}
	}
	if err := separation.CheckUnfold(c.Unfold, c.Untied); err != nil {
		return c, err
	}
	switch {
	case c.DiscPairings < 0:
		return c, fmt.Errorf("disc_pairings %d: want 1 or more (0: 1)", c.DiscPairings)
	case c.ReconstructionBases && c.Unfold > 0:
		return c, errors.New("reconstruction_bases and unfold: an unfolded model trains its own reconstruction bases")
	case c.ReconstructionBases && c.CoarseBands > 0:
		return c, errors.New("reconstruction_bases and coarse_bands: the bases are trained for the model's own inference, which has no coarse start")
	}
	bins := separation.STFTAt(c.SampleRate).FFTSize/2 + 1
	if err := separation.CheckBands(c.Bands, bins, c.Unfold); err != nil {
		return c, err
	}
	if err := separation.CheckCoarse(c.CoarseBands, c.CoarseIters, c.Bands, bins, c.Unfold); err != nil {
		return c, err
	}
	if err := separation.CheckStepExponent(c.StepExponent, c.Unfold); err != nil {
		return c, err
	}
	switch {
	case c.LiveIters < 0:
		return c, fmt.Errorf("live_iters %d: want 1 or more (0: offline inference)", c.LiveIters)
	case c.LiveIters == 0 && c.LiveStepExponent != 0:
		return c, errors.New("live_step_exponent without live_iters: it sets the live inference's steps")
	case c.LiveIters > 0 && (c.Unfold > 0 || c.CoarseBands > 0):
		return c, errors.New("live_iters with unfold or coarse_bands: a stream runs those models' own inference")
	}
	if err := separation.CheckStepExponent(c.LiveStepExponent, c.Unfold); err != nil {
		return c, err
	}
	if c.DeepEpochs < 0 {
		return c, fmt.Errorf("deep epochs %d: want 1 or more (0: the default)", c.DeepEpochs)
	}
	if c.Select != nil {
		sel := *c.Select
		if sel.Validation == 0 {
			sel.Validation = DefaultValidation
		}
		c.Select = &sel
		if err := c.checkSelection(); err != nil {
			return c, err
		}
	}
	if err := separation.CheckLayerSizes(c.K); err != nil {
		return c, fmt.Errorf("NMF size: %w", err)
	}
	for _, l := range c.Layers {
		if len(l) < 1 {
			return c, errors.New("an empty layer configuration")
		}
		if err := separation.CheckLayerSizes(l); err != nil {
			return c, err
		}
	}
	return c, nil
}

// discriminative reports whether some row trains on the discriminative
// mixtures (DL-NMF, or deep unfolding or reconstruction bases of every
// row).
func (c Config) discriminative() bool {
	return c.has(separation.DLNMF) || c.Unfold > 0 || c.ReconstructionBases
}

func (c Config) has(m separation.Method) bool {
	for _, x := range c.Methods {
		if x == m {
			return true
		}
	}
	return false
}

// divergence returns the engine's divergence for c.Beta.
func (c Config) divergence() (nmf.Divergence, float64) { return nmf.ForBeta(*c.Beta) }

// Row names one row of Table 1: a method with its sizes.
type Row struct {
	Method separation.Method `json:"-"`
	Sizes  []int             `json:"-"`
}

// Label is the row's name, e.g. "NMF K=20" or "DL-NMF 180,20".
func (r Row) Label() string {
	if r.Method == separation.NMF {
		return fmt.Sprintf("NMF K=%d", r.Sizes[0])
	}
	parts := make([]string, len(r.Sizes))
	for i, k := range r.Sizes {
		parts[i] = fmt.Sprint(k)
	}
	return r.Method.Label() + " " + strings.Join(parts, ",")
}

// Rows returns the rows of the experiment in Table 1's order.
func (c Config) Rows() []Row {
	var rows []Row
	if c.has(separation.NMF) {
		for _, k := range c.K {
			rows = append(rows, Row{separation.NMF, []int{k}})
		}
	}
	for _, m := range []separation.Method{separation.LNMF, separation.DLNMF} {
		if c.has(m) {
			for _, l := range c.Layers {
				rows = append(rows, Row{m, l})
			}
		}
	}
	return rows
}
