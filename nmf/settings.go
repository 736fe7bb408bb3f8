package nmf

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
)

// Divergence selects the cost D(X | Xhat) of the factorization (eq. 2).
type Divergence int

const (
	// KullbackLeibler is the generalized KL divergence, beta = 1 (the default).
	KullbackLeibler Divergence = iota
	// Euclidean is half the squared Frobenius distance, beta = 2.
	Euclidean
	// ItakuraSaito is the Itakura-Saito divergence, beta = 0.
	ItakuraSaito
	// BetaDivergence is the beta-divergence with Settings.Beta, any real beta.
	BetaDivergence
)

func (d Divergence) String() string {
	switch d {
	case KullbackLeibler:
		return "kullback-leibler"
	case Euclidean:
		return "euclidean"
	case ItakuraSaito:
		return "itakura-saito"
	case BetaDivergence:
		return "beta"
	}
	return fmt.Sprintf("Divergence(%d)", int(d))
}

// DefaultEpsilon is the floor used in every division when Settings.Epsilon
// is zero: the machine epsilon of float32, as scikit-learn's NMF. Inputs
// much smaller than it in magnitude (spectrogram magnitudes of quiet signals)
// should be scaled up, or use a smaller Epsilon with float64.
const DefaultEpsilon = 1.1920929e-07

// DefaultMaxIter is the number of iterations when Settings.MaxIter is zero,
// for training and inference alike (the paper gives no count; see
// docs/protocol.md).
const DefaultMaxIter = 200

// DefaultTol and DefaultCostEvery are the stopping rule's defaults: stop when
// the cost fell by less than DefaultTol times the initial cost over the last
// DefaultCostEvery iterations (scikit-learn's).
const (
	DefaultTol       = 1e-4
	DefaultCostEvery = 10
)

// ForBeta returns the divergence for beta, with its named special cases:
// 1 Kullback-Leibler, 2 Euclidean, 0 Itakura-Saito, any other value the
// general beta-divergence. The second result is the Beta field to set.
func ForBeta(beta float64) (Divergence, float64) {
	switch beta {
	case 1:
		return KullbackLeibler, 1
	case 2:
		return Euclidean, 2
	case 0:
		return ItakuraSaito, 0
	}
	return BetaDivergence, beta
}

// Settings control the solver. The zero value means the documented defaults.
type Settings struct {
	Divergence Divergence
	Beta       float64 // used when Divergence == BetaDivergence (any real beta)
	MaxIter    int     // iterations; 0: DefaultMaxIter
	// Tol stops the solver when the cost fell by less than Tol times the
	// initial cost since the previous evaluation, scikit-learn's criterion
	// ((previous - current) / initial < tol, checked every CostEvery
	// iterations). 0: DefaultTol (1e-4, as scikit-learn); negative: never stop early.
	Tol       float64
	CostEvery int     // evaluate the cost every CostEvery iterations (a log per element); 0: DefaultCostEvery
	L1        float64 // L1 penalty on H (sparsity), added to the cost as L1 * sum(H); 0: none
	Epsilon   float64 // floor in every division; 0: DefaultEpsilon
	Seed      uint64  // random initialisation (same seed, same result)
	Workers   int     // goroutines for elementwise and column-block passes; 0: GOMAXPROCS. The result does not depend on it.
	Recorder  Recorder
	// UnitNorm keeps the columns of the first layer W1 at unit Euclidean
	// norm inside its update (Le Roux, Weninger and Hershey 2015, "Sparse
	// NMF: half-baked or well done?"): the cost is D(X | W̄1 W2...WL H) +
	// L1 sum(H) with W̄1 the column-normalised W1, and W1's update follows
	// the gradient through the normalisation, so an L1 penalty on H cannot
	// be undone by rescaling the basis. W1's scale is not carried into W2
	// (or H); later layers are normalised as without it. Without UnitNorm
	// every layer is scaled to unit column sums after each iteration.
	UnitNorm bool
	// NoCost skips every evaluation of the cost (Result.Cost stays empty),
	// for callers that only want the factors after MaxIter iterations: it
	// needs Tol < 0 and no Recorder. Fixed-iteration inference in
	// separation saves two reconstructions and a logarithm per element.
	NoCost bool
	// Groups adds a group-sparsity penalty on rows of H (GroupSparsity);
	// the zero value adds none.
	Groups GroupSparsity
	// FreeStart is how InferFree starts its free columns; FreeL1 adds an
	// L1 penalty FreeL1 * sum(H_free) on their activations only (on top of
	// L1), which leaves the fixed columns more of the data.
	FreeStart FreeStart
	FreeL1    float64
	// StepExponent raises the ratio of H's multiplicative update to this
	// power when the bases are fixed (Infer, Inferer, InferFree without
	// free bases) and the divergence is KL: H <- H (num / den)^StepExponent,
	// a longer step along the same direction, with the same fixed points
	// (the exponent acts as a step size: Badeau, Bertin and Vincent 2010
	// show the update stable below 2, and at 2 a planted problem here
	// oscillates). 0 and 1: the usual update; 1.5 costs a square root per
	// entry of H, other values a power. At least 1, below
	// StepExponentLimit. Training and free bases refuse anything but 1; so
	// does the one-pass kernel of several columns, which such solvers leave
	// for the two products (its one-column form takes 1.5).
	StepExponent float64
}

// StepExponentLimit bounds Settings.StepExponent from above (excluded).
const StepExponentLimit = 2

// CheckStepExponent checks a Settings.StepExponent: 0 (the usual update),
// or at least 1 and below StepExponentLimit.
func CheckStepExponent(e float64) error {
	if e == 0 || e >= 1 && e < StepExponentLimit {
		return nil
	}
	return fmt.Errorf("step exponent %v: want at least 1 and below %d (0: 1, the usual update)", e, StepExponentLimit)
}

// FreeStart is how InferFree starts its free columns. The zero value,
// FreeQuiet, is the default: on the validation mixtures of docs/RESULTS.md
// ("Sources without a model") random starts scored 0.6 to 0.9 dB below
// quiet ones at 5 to 25 iterations.
type FreeStart int

const (
	// FreeQuiet (the default) starts them from the data's quietest frames
	// (the tenth of the columns of X with the smallest sums, at least one
	// per free column), averaged in groups of consecutive quietness: in a
	// noisy recording, the noise's spectra where the speech pauses.
	FreeQuiet FreeStart = iota
	// FreeRandom starts them as seeded random columns.
	FreeRandom
)

// freeStartNames are FreeStart's names, as String, ParseFreeStart and JSON
// give them.
var freeStartNames = [...]string{FreeQuiet: "quiet", FreeRandom: "random"}

// String returns "quiet" or "random".
func (f FreeStart) String() string {
	if f >= 0 && int(f) < len(freeStartNames) {
		return freeStartNames[f]
	}
	return fmt.Sprintf("FreeStart(%d)", int(f))
}

// ParseFreeStart returns the FreeStart named "quiet" or "random".
func ParseFreeStart(name string) (FreeStart, error) {
	for f, n := range freeStartNames {
		if n == name {
			return FreeStart(f), nil
		}
	}
	return 0, fmt.Errorf("unknown free-basis start %q (want quiet or random)", name)
}

// MarshalJSON writes the start's name.
func (f FreeStart) MarshalJSON() ([]byte, error) { return json.Marshal(f.String()) }

// UnmarshalJSON reads a name, or the numbers of files written before the
// names (0 random, 1 quiet).
func (f *FreeStart) UnmarshalJSON(b []byte) error {
	var n int
	if json.Unmarshal(b, &n) == nil {
		switch n {
		case 0:
			*f = FreeRandom
		case 1:
			*f = FreeQuiet
		default:
			return fmt.Errorf("unknown free-basis start %d", n)
		}
		return nil
	}
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	v, err := ParseFreeStart(name)
	*f = v
	return err
}

// Recorder receives progress events. The engine never prints.
type Recorder interface{ Record(Event) }

// Stage names what the engine (or a caller that records its own events,
// such as separation's DL-NMF rounds) was doing when it recorded an Event.
type Stage string

// The engine's stages.
const (
	StagePretrain Stage = "pretrain" // Factorize, and each layer of Stack and Train; Event.Layer says which
	StageFineTune Stage = "finetune" // FineTune, the joint update of every layer
	StageUpdate   Stage = "update"   // Update
	StageInfer    Stage = "infer"    // Infer and InferFree, the bases fixed
)

// Event reports the cost at one evaluation.
type Event struct {
	Stage Stage
	Layer int // layer being pretrained (0-based); 0 otherwise
	Iter  int // iterations done
	Cost  float64
}

// Result is the cost history of one solver run: Cost[i] was evaluated after
// CostIter[i] iterations (CostIter[0] is 0, the initial model). Iterations is
// the number of iterations done; Converged reports an early stop on Tol.
type Result struct {
	Cost       []float64
	CostIter   []int
	Iterations int
	Converged  bool
}

// resolved holds validated settings with defaults applied.
type resolved struct {
	Settings
	beta, gamma float64
}

func (s Settings) resolve() (resolved, error) {
	r := resolved{Settings: s}
	switch s.Divergence {
	case KullbackLeibler:
		r.beta = 1
	case Euclidean:
		r.beta = 2
	case ItakuraSaito:
		r.beta = 0
	case BetaDivergence:
		if math.IsNaN(s.Beta) || math.IsInf(s.Beta, 0) {
			return r, fmt.Errorf("nmf: beta %v is not finite", s.Beta)
		}
		r.beta = s.Beta
	default:
		return r, fmt.Errorf("nmf: unknown divergence %d", int(s.Divergence))
	}
	r.gamma = gammaOf(r.beta)
	if s.MaxIter < 0 || s.CostEvery < 0 || s.Workers < 0 {
		return r, errors.New("nmf: negative MaxIter, CostEvery or Workers")
	}
	if !(s.L1 >= 0) || math.IsInf(s.L1, 0) || !(s.Epsilon >= 0) || math.IsInf(s.Epsilon, 0) || math.IsNaN(s.Tol) {
		return r, errors.New("nmf: L1 and Epsilon must be finite and non-negative, Tol a number")
	}
	if !(s.FreeL1 >= 0) || math.IsInf(s.FreeL1, 0) || s.FreeStart < FreeQuiet || s.FreeStart > FreeRandom {
		return r, errors.New("nmf: FreeL1 must be finite and non-negative, FreeStart FreeQuiet or FreeRandom")
	}
	if err := s.Groups.check(); err != nil {
		return r, err
	}
	if err := CheckStepExponent(s.StepExponent); err != nil {
		return r, fmt.Errorf("nmf: %w", err)
	}
	if s.NoCost && (s.Tol >= 0 || s.Recorder != nil) {
		return r, errors.New("nmf: NoCost needs Tol < 0 (no early stopping) and no Recorder")
	}
	if r.MaxIter == 0 {
		r.MaxIter = DefaultMaxIter
	}
	if r.Tol == 0 {
		r.Tol = DefaultTol
	}
	if r.CostEvery == 0 {
		r.CostEvery = DefaultCostEvery
	}
	if r.Epsilon == 0 {
		r.Epsilon = DefaultEpsilon
	}
	if r.StepExponent == 0 {
		r.StepExponent = 1
	}
	if r.Workers == 0 {
		r.Workers = runtime.GOMAXPROCS(0)
	}
	return r, nil
}

// gammaOf is the MU exponent of Fevotte and Idier (2011) that makes the
// beta-divergence non-increasing for every beta.
func gammaOf(beta float64) float64 {
	switch {
	case beta < 1:
		return 1 / (2 - beta)
	case beta > 2:
		return 1 / (beta - 1)
	}
	return 1
}

// checkData rejects empty matrices and negative, NaN or Inf entries.
func checkData[T Float](what string, X *Dense[T]) error {
	if X == nil || X.Rows == 0 || X.Cols == 0 {
		return fmt.Errorf("nmf: %s is empty", what)
	}
	top := T(math.Inf(1))
	for i := 0; i < X.Rows; i++ {
		if rowValid(X.row(i)) {
			continue
		}
		for j, v := range X.row(i) {
			if !(v >= 0 && v < top) { // false for NaN too
				return fmt.Errorf("nmf: %s(%d, %d) = %v: entries must be finite and non-negative", what, i, j, v)
			}
		}
	}
	return nil
}
