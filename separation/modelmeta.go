package separation

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/dlnmf/dlnmf/internal/buildinfo"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/stft"
)

// The meta entry of a model file says how to use the file without reading
// this package: how a speaker's layers make its basis, how the mixture is
// framed, how H is inferred, how the masks are formed, and which dlnmf wrote
// it. docs/models.md turns it into a numpy recipe. Every key is snake_case.
//
// Format versions:
//
//	1  the first: no writer, basis, inference, mask or usage keys; the
//	   training keys in Go's CamelCase ("Iterations", "RoundsAccepted")
//	2  snake_case training keys ("iterations", "rounds_accepted"); the keys
//	   that describe the use of the file
//	3  context (spectral patches) and sparsity; any positive mask exponent
//	   (versions 1 and 2 load as context 1, sparsity 0, exponent 1)
//	4  unfold: a deep-unfolded model's iteration count and untied layers,
//	   with the arrays s<i>_U<u> and s<i>_R (version 3 and earlier load as
//	   models without unfolding)
//	5  inference bands and band_edges: the mel-spaced bands H is inferred
//	   on by default (version 4 and earlier load as every bin)
//	6  inference step_exponent, and iterations as the model's own default
//	   (Model.StepExponent and SeparateIters; version 5 and earlier load
//	   as the usual update, nmf.DefaultMaxIter iterations, whatever their
//	   iterations say)
//	7  reconstruction: a discriminative model's gains on reconstruction
//	   bases s<i>_R without unfolding (TrainReconstruction)
//
// ReadFile reads them all; WriteFile writes FileVersion.
type fileMeta struct {
	Format     string          `json:"format"`
	Version    int             `json:"version"`
	Writer     *buildinfo.Info `json:"writer,omitempty"`
	Usage      string          `json:"usage,omitempty"`
	Method     Method          `json:"method"`
	SampleRate int             `json:"sample_rate"`
	STFT       fileSTFT        `json:"stft"`
	Divergence string          `json:"divergence"`
	Beta       float64         `json:"beta"`
	Sizes      []int           `json:"sizes"`
	Speakers   []string        `json:"speakers"`
	Universal  *fileUniversal  `json:"universal,omitempty"`
	Basis      string          `json:"basis,omitempty"`
	Context    int             `json:"context,omitempty"`
	Patches    string          `json:"patches,omitempty"`
	Sparsity   float64         `json:"sparsity,omitempty"`
	Inference  *fileInference  `json:"inference,omitempty"`
	Mask       *fileMask       `json:"mask,omitempty"`
	Unfold     *fileUnfold     `json:"unfold,omitempty"`
	// Reconstruction is a discriminative model's entry (reconstruction
	// bases for its own inference, TrainReconstruction); version 7 on.
	Reconstruction *fileReconstruction `json:"reconstruction,omitempty"`
	Training       Training            `json:"training"`
}

// fileUnfold describes a deep-unfolded model (Model.Unfold): inference runs
// exactly Iterations updates, the last Untied with speaker i's arrays
// s<i>_U1 ... s<i>_U<Untied> in place of its basis, and the gains use its
// reconstruction bases s<i>_R.
type fileUnfold struct {
	Iterations int    `json:"iterations"`
	Untied     int    `json:"untied"`
	Layers     string `json:"layers"`
	Gains      string `json:"gains"`
}

// fileReconstruction describes a discriminative model that is not
// unfolded: inference runs as the inference entry says, and the gains use
// speaker i's reconstruction bases s<i>_R.
type fileReconstruction struct {
	Gains string `json:"gains"`
}

// fileUniversal names a universal speech model and its speakers, whose
// layers are u<i>_W<l> (Universal): one more source, Name, whose basis is
// the speakers' bases side by side, inferred with a group-sparsity penalty.
type fileUniversal struct {
	Name     string   `json:"name"`
	Speakers []string `json:"speakers"`
	// Sizes are the universal speakers' layer sizes where they differ from
	// the model's (train --universal-k); absent: the model's sizes.
	Sizes []int `json:"sizes,omitempty"`
}

type fileSTFT struct {
	FFTSize    int    `json:"fft_size"`
	WindowSize int    `json:"window_size"`
	Hop        int    `json:"hop"`
	Window     string `json:"window"`
	Framing    string `json:"framing,omitempty"`
	Scaling    string `json:"scaling,omitempty"`
	Inverse    string `json:"inverse,omitempty"`
}

// fileInference is how dlnmf separate infers H: the defaults of
// SeparateSettings, which a user may change.
type fileInference struct {
	Update     string  `json:"update"`
	Init       string  `json:"init"`
	Stop       string  `json:"stop"`
	Iterations int     `json:"iterations"`
	Tolerance  float64 `json:"tolerance"`
	CostEvery  int     `json:"cost_every"`
	Epsilon    float64 `json:"epsilon"`
	// Bands is the number of mel-spaced bands H is inferred on (Model.Bands;
	// absent: every bin), BandEdges their edges: band b sums bins
	// band_edges[b] ... band_edges[b+1]-1 of Y and of B's rows (of each
	// frame of a patch alike).
	Bands     int    `json:"bands,omitempty"`
	BandEdges []int  `json:"band_edges,omitempty"`
	OnBands   string `json:"on_bands,omitempty"`
	// StepExponent is the power the update's ratio is raised to
	// (Model.StepExponent; absent: 1).
	StepExponent float64 `json:"step_exponent,omitempty"`
}

// fileMask is the Wiener gain of eqs. 19-20 with its exponent p:
// G_s = (B_s H_s)^p / sum_r (B_r H_r)^p (Model.MaskPower).
type fileMask struct {
	Exponent float64 `json:"exponent"`
	Gain     string  `json:"gain"`
}

// v2MaskExponent is the only exponent format version 2 wrote.
const v2MaskExponent = 1

const (
	metaUsage = "Separate a mono mixture x at sample_rate: Y = |STFT(x)| (see stft); each speaker i's basis is " +
		"B_i = s<i>_W1 @ s<i>_W2 @ ... @ s<i>_W<L> (see basis); B = [B_0 B_1 ...] side by side; infer H with B fixed " +
		"(see inference; with inference.bands, on_bands); speaker i's estimate is ISTFT(G_i * STFT(x)) with the mask G_i (see mask; with unfold or reconstruction, s<i>_R in place of B_i) and the mixture's " +
		"phase. docs/models.md in dlnmf has a numpy recipe."
	metaBasis   = "speaker i's basis B_i = s<i>_W1 @ s<i>_W2 @ ... @ s<i>_W<L> (matrix product of its layers, float32 arrays), (context*bins) x K_L, bins = fft_size/2+1 (see patches); speaker i's rows of H are rows i*K_L ... (i+1)*K_L-1"
	metaFraming = "frame t covers samples t*hop - window_size/2 ... t*hop - window_size/2 + window_size - 1 of the signal " +
		"padded with window_size/2 zeros on each side and with zeros at the end to a whole number of hops " +
		"(scipy.signal.stft with boundary='zeros', padded=True): 1 + ceil((n + 2*(window_size/2) - window_size)/hop) frames"
	metaScaling = "none: numpy.fft.rfft(window * frame, fft_size); scipy.signal.stft's output times sum(window)"
	metaInverse = "irfft of each frame, first window_size samples times the window, overlap-added and divided by the " +
		"overlap-add of the squared window (scipy.signal.istft), the padding cut off: exactly n samples"
	metaInit = "h_kn = u_k * sum_m Y_mn / sum(B), u_k uniform in [0.5, 1.5) (for KL the result hardly depends on it: with B fixed the cost is convex in H)"
	metaStop = "after iterations updates, or earlier at the first multiple of cost_every where (previous cost - cost) / initial cost < tolerance, " +
		"the costs taken at 0, cost_every, 2*cost_every, ...; the cost is the divergence D(Y | max(V, epsilon)), for KL sum(Y log(Y/V) - Y + V)"
	metaOnBands = "H is inferred on A Y with A B fixed in place of Y and B (the init and the stop on A Y too), where A sums the rows of each band: " +
		"band b holds bins band_edges[b] ... band_edges[b+1]-1, and with patches row tau*bins + m goes to row tau*bands + b; " +
		"the masks then use the full B_i and that H"
	metaGain    = "G_i = (B_i H_i)^p / sum_r (B_r H_r)^p with p = exponent, 1/S where the sum is 0; the masks add up to 1"
	metaPatches = "with context T > 1 the bases model patches: Y is unfolded to T*bins rows, row tau*bins + m of column t " +
		"being Y[m, t + tau - (T-1)/2] (frames before the first or after the last replaced by the edge frame); H is inferred " +
		"on the patches, and B_i H_i is folded back: speaker i's magnitude at frame t is the mean, over the columns t' " +
		"within the signal, of rows tau*bins ... of column t' with t' + tau - (T-1)/2 = t"
)

const (
	metaUnfoldLayers = "inference runs exactly iterations updates of H (no tolerance, no early stop) from inference.init with " +
		"dlnmf's draw of u_k for seed 0 (nmf.StartH), which the layers were trained from; the first iterations - untied updates use B, " +
		"update j of the last untied ones uses B_j = [s0_U<j> s1_U<j> ...] side by side instead (each (context*bins) x K_L)"
	metaReconGains = "the mask uses speaker i's reconstruction bases s<i>_R ((context*bins) x K_L) in place of B_i: G_i = (s<i>_R H_i)^p / sum_r (s<r>_R H_r)^p, folded as patches"
)

// metaUpdate is the multiplicative update of H for a divergence and a step
// exponent (Model.StepExponent, KL only), with eps = epsilon.
func metaUpdate(d nmf.Divergence, beta, step float64) string {
	const tail = "; V = B @ H, every division's denominator floored at epsilon"
	switch {
	case d == nmf.KullbackLeibler && step > 1:
		return "H <- H * ((B.T @ (Y / V)) / (B.T @ ones))^step_exponent" + tail
	case d == nmf.KullbackLeibler:
		return "H <- H * (B.T @ (Y / V)) / (B.T @ ones)" + tail
	case d == nmf.Euclidean:
		return "H <- H * (B.T @ Y) / (B.T @ V)" + tail
	}
	return fmt.Sprintf("H <- H * ((B.T @ (Y * V^(beta-2))) / (B.T @ V^(beta-1)))^gamma with beta = %g, "+
		"gamma = 1/(2-beta) for beta < 1, 1/(beta-1) for beta > 2, else 1; V floored at epsilon where beta < 2", beta) + tail
}

// newFileMeta returns m's meta; s are m's resolved STFT settings.
func newFileMeta(m *Model, s stft.Settings) fileMeta {
	writer := buildinfo.Get()
	meta := fileMeta{
		Format: fileFormat, Version: FileVersion, Writer: &writer, Usage: metaUsage,
		Method: m.Method, SampleRate: m.SampleRate,
		STFT: fileSTFT{FFTSize: s.FFTSize, WindowSize: s.WindowSize, Hop: s.Hop, Window: "hann-periodic",
			Framing: metaFraming, Scaling: metaScaling, Inverse: metaInverse},
		Divergence: divergenceNames[m.Divergence], Beta: m.Beta,
		Sizes: m.Sizes(), Speakers: m.Names(), Basis: metaBasis,
		Context: m.context(), Patches: metaPatches, Sparsity: m.Sparsity,
		Inference: &fileInference{Update: metaUpdate(m.Divergence, m.Beta, m.StepExponent), Init: metaInit, Stop: metaStop,
			Iterations: cmp.Or(m.SeparateIters, nmf.DefaultMaxIter), Tolerance: nmf.DefaultTol, CostEvery: nmf.DefaultCostEvery, Epsilon: nmf.DefaultEpsilon,
			StepExponent: m.StepExponent},
		Mask:      &fileMask{Exponent: m.maskPower(), Gain: metaGain},
		Training:  m.Training,
		Universal: universalMeta(m.Universal, m.Sizes()),
		Unfold:    unfoldMeta(m),
	}
	if m.HasReconstructionBases() && !m.deep() {
		meta.Reconstruction = &fileReconstruction{Gains: metaReconGains}
	}
	if m.Bands != 0 {
		in := meta.Inference
		in.Bands, in.BandEdges, in.OnBands = m.Bands, BandEdges(s.FFTSize/2+1, m.Bands, float64(m.SampleRate)), metaOnBands
	}
	return meta
}

// unfoldMeta is a deep-unfolded model's unfold entry; nil for others.
func unfoldMeta(m *Model) *fileUnfold {
	if !m.deep() {
		return nil
	}
	return &fileUnfold{Iterations: m.Unfold, Untied: len(m.Speakers[0].Untied), Layers: metaUnfoldLayers, Gains: metaReconGains}
}

// parseMeta decodes a model file's meta text of any version this build
// reads.
func parseMeta(text string) (fileMeta, error) {
	var meta fileMeta
	if err := json.Unmarshal([]byte(text), &meta); err != nil {
		return meta, fmt.Errorf("not a dlnmf model file (meta: %v)", err)
	}
	if meta.Format != fileFormat {
		return meta, fmt.Errorf("not a dlnmf model file (format %q)", meta.Format)
	}
	switch meta.Version {
	case 1:
		// Version 1 wrote the training record with Go's field names.
		var old struct {
			Training map[string]json.RawMessage `json:"training"`
		}
		if err := json.Unmarshal([]byte(text), &old); err != nil {
			return meta, fmt.Errorf("not a dlnmf model file (meta: %v)", err)
		}
		snake := make(map[string]json.RawMessage, len(old.Training))
		for k, v := range old.Training {
			snake[snakeCase(k)] = v
		}
		js, _ := json.Marshal(snake)
		meta.Training = Training{}
		if err := json.Unmarshal(js, &meta.Training); err != nil {
			return meta, fmt.Errorf("not a dlnmf model file (meta training: %v)", err)
		}
	case 2:
		if meta.Mask == nil || meta.Mask.Exponent != v2MaskExponent {
			return meta, fmt.Errorf("the model's mask exponent is not %d, the only one format version 2 has", v2MaskExponent)
		}
	case 3, 4, 5, 6, FileVersion:
		if meta.Version < 7 && meta.Reconstruction != nil {
			return meta, fmt.Errorf("a reconstruction entry in a format version %d file (it came with version 7)", meta.Version)
		}
		if meta.Unfold != nil && meta.Reconstruction != nil {
			return meta, errors.New("a model file with both an unfold and a reconstruction entry (an unfolded model's gains are in its unfold entry)")
		}
		if meta.Version < 4 && meta.Unfold != nil {
			return meta, fmt.Errorf("an unfold entry in a format version %d file (unfolding came with version 4)", meta.Version)
		}
		if in := meta.Inference; meta.Version < 5 && in != nil && (in.Bands != 0 || in.BandEdges != nil) {
			return meta, fmt.Errorf("inference bands in a format version %d file (they came with version 5)", meta.Version)
		}
		if in := meta.Inference; meta.Version < 6 && in != nil && in.StepExponent != 0 {
			return meta, fmt.Errorf("an inference step exponent in a format version %d file (it came with version 6)", meta.Version)
		}
		if meta.Mask == nil {
			return meta, fmt.Errorf("the model has no mask exponent")
		}
		// A Model's zero MaskPower means 1, but the file states the
		// exponent a reader applies (docs/models.md's numpy recipe would
		// apply 0): a file's 0 is refused, not read as 1.
		if err := CheckMaskPower(meta.Mask.Exponent); err != nil {
			return meta, fmt.Errorf("the model's %w", err)
		}
	default:
		return meta, fmt.Errorf("model file format version %d; this dlnmf reads versions 1 to %d (retrain the model with this version)", meta.Version, FileVersion)
	}
	return meta, nil
}

// snakeCase turns a Go field name into its snake_case key: "RoundsAccepted"
// -> "rounds_accepted".
func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// universalMeta is u's metadata; modelSizes are the model's layer sizes.
func universalMeta(u *Universal, modelSizes []int) *fileUniversal {
	if u == nil {
		return nil
	}
	f := &fileUniversal{Name: u.Name}
	for _, sp := range u.Speakers {
		f.Speakers = append(f.Speakers, sp.Name)
	}
	if len(u.Speakers) > 0 && !slices.Equal(u.Speakers[0].Sizes(), modelSizes) {
		f.Sizes = u.Speakers[0].Sizes()
	}
	return f
}
