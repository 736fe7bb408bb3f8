package separation

import (
	"fmt"
	"math"

	"github.com/dlnmf/dlnmf/nmf"
)

// Inference on bands (SeparateSettings.Bands). H is inferred on the
// mixture's magnitude summed over bands evenly spaced on the mel scale,
// each bin in exactly one band, with every speaker's basis summed over the
// same bands; the Wiener gains then come from the full bases and that H,
// so the estimates keep every bin's detail and still add up to the
// mixture. A sum of bins is what the model predicts for the band (X = WH
// gives AX = (AW)H for the summing matrix A), and since every bin counts
// once, a basis' column sums, the denominators of the KL update, do not
// change, nor does the weight of the L1 penalty: the iterations are
// those of the same model on a coarser view of the spectrum, each cheaper
// by about bins / bands. With patches the bands pool each of the patch's
// frames alike.

// A coarse start (SeparateSettings.CoarseBands): H first runs
// CoarseIters iterations on fewer bands, where each iteration is cheaper
// still, and the iterations on Bands (or every bin) continue from there.
// Multiplicative updates move H slowly from their flat start; on a coarse
// view of the spectrum the same moves cost a fraction, and the finer
// iterations that follow only refine what the coarse ones found.

// MinBands is the fewest bands SeparateSettings.Bands takes.
const MinBands = 2

// EveryBin, as SeparateSettings.Bands, infers H on every bin whatever the
// model's default bands (Model.Bands).
const EveryBin = -1

// DefaultCoarseIters is the number of iterations on CoarseBands bands
// when SeparateSettings.CoarseIters is 0.
const DefaultCoarseIters = 100

// DefaultFineIters is the number of iterations on Bands (or every bin)
// after a coarse start when NMF.MaxIter is 0, offline and live: on the
// development probe of docs/RESULTS.md ("A coarse start"), 100 iterations
// on 32 bands and then 25 on 128 scored what 200 on 128 bands score, at
// about a quarter of the cost (on the protocol's test mixtures, 0.05 and
// 0.24 dB less).
const DefaultFineIters = 25

// MaxCoarseIters is the most iterations SeparateSettings.CoarseIters
// takes.
const MaxCoarseIters = 100000

// BandEdges returns the edges of bands bands over bins bins (0 Hz to half
// of rate): band b holds bins edges[b] ... edges[b+1]-1. The edges are
// evenly spaced on the mel scale (2595 log10(1 + f / 700)), rounded to the
// nearest bin and moved up where the mel spacing is finer than a bin, so
// that every band holds at least one bin. It panics unless 1 <= bands <=
// bins.
func BandEdges(bins, bands int, rate float64) []int {
	if bands < 1 || bands > bins {
		panic(fmt.Sprintf("separation: BandEdges: %d bands of %d bins", bands, bins))
	}
	mel := func(f float64) float64 { return 2595 * math.Log10(1+f/700) }
	top := mel(rate / 2)
	edges := make([]int, bands+1)
	for b := 1; b < bands; b++ {
		f := 700 * (math.Pow(10, top*float64(b)/float64(bands)/2595) - 1)
		e := int(math.Round(f / (rate / 2) * float64(bins-1)))
		// At least one bin past the last edge, and room for one bin in
		// each band left.
		edges[b] = min(max(e, edges[b-1]+1), bins-(bands-b))
	}
	edges[bands] = bins
	return edges
}

// CheckBands checks SeparateSettings.Bands for a model of bins
// frequency bins (FFTSize/2 + 1 of its STFT settings) unfolded into
// unfold layers (Model.Unfold; 0: not deep).
func CheckBands(bands, bins, unfold int) error {
	if bands == EveryBin {
		return nil
	}
	return checkBands(bands, bins, unfold, fmt.Sprintf("0 for the model's default or %d for every bin", EveryBin))
}

// CheckModelBands checks TrainSettings.Bands for a model trained at rate
// Hz with STFTAt(rate), before any work: 0 for every bin, or MinBands to
// its bins.
func CheckModelBands(bands, rate int) error {
	return checkModelBands(bands, STFTAt(rate).FFTSize/2+1, 0)
}

// checkModelBands checks a model's default bands (Model.Bands,
// TrainSettings.Bands): 0 for every bin, or MinBands to bins for a model
// that is not deep-unfolded.
func checkModelBands(bands, bins, unfold int) error {
	return checkBands(bands, bins, unfold, "or 0 for every bin")
}

// checkBands accepts 0, or MinBands to bins bands for a model that is not
// deep-unfolded; zero says what 0 means, for the error.
func checkBands(bands, bins, unfold int, zero string) error {
	switch {
	case bands == 0:
		return nil
	case bands < MinBands || bands > bins:
		return fmt.Errorf("inference on %d bands: want %d to %d (the model's bins), %s", bands, MinBands, bins, zero)
	case unfold > 0:
		return fmt.Errorf("a deep-unfolded model's layers were trained on every bin: it takes no bands")
	}
	return nil
}

// CheckCoarse checks SeparateSettings.CoarseBands and CoarseIters for a
// model of bins frequency bins unfolded into unfold layers, inferred on
// bands bands (0: every bin): fewer coarse bands than that, at least
// MinBands.
func CheckCoarse(coarseBands, coarseIters, bands, bins, unfold int) error {
	fine := bins
	if bands > 0 { // 0 or EveryBin: every bin
		fine = bands
	}
	switch {
	case coarseBands == 0 && coarseIters != 0:
		return fmt.Errorf("%d coarse iterations on no coarse bands: give the coarse bands too", coarseIters)
	case coarseBands == 0:
		return nil
	case coarseBands < MinBands || coarseBands >= fine:
		return fmt.Errorf("a coarse start on %d bands: want %d to %d (fewer than the %d that inference reads), or 0 for none", coarseBands, MinBands, fine-1, fine)
	case coarseIters < 0 || coarseIters > MaxCoarseIters:
		return fmt.Errorf("%d coarse iterations: want 1 to %d, or 0 for %d", coarseIters, MaxCoarseIters, DefaultCoarseIters)
	case unfold > 0:
		return fmt.Errorf("a deep-unfolded model's layers were trained on every bin: it takes no coarse start")
	}
	return nil
}

// bandPool sums the rows of a magnitude or a basis over bands: rows of
// context blocks of bins rows each (a patch), every block alike.
type bandPool struct {
	edges   []int
	bins    int
	context int
}

// newBandPool plans bands bands over the model's bins, or returns nil for
// bands 0 or EveryBin (every bin).
func newBandPool(m *Model, bins, bands int) (*bandPool, error) {
	if err := CheckBands(bands, bins, m.Unfold); err != nil || bands <= 0 {
		return nil, err
	}
	return &bandPool{edges: BandEdges(bins, bands, float64(m.SampleRate)), bins: bins, context: m.context()}, nil
}

// rows returns the number of rows pool returns.
func (p *bandPool) rows() int { return p.context * (len(p.edges) - 1) }

// pool sets dst (p.rows() x X.Cols, in its storage) to X's rows summed
// over the bands and returns it.
func (p *bandPool) pool(dst *nmf.Dense[float32], X *nmf.Dense[float32]) *nmf.Dense[float32] {
	if X.Rows != p.context*p.bins {
		panic(fmt.Sprintf("separation: pooling %d rows over bands of %d x %d", X.Rows, p.context, p.bins))
	}
	out := sized(dst, p.rows(), X.Cols)
	nb := len(p.edges) - 1
	for tau := 0; tau < p.context; tau++ {
		for b := 0; b < nb; b++ {
			row := out.Data[(tau*nb+b)*out.Stride:][:X.Cols]
			clear(row)
			for f := p.edges[b]; f < p.edges[b+1]; f++ {
				addInto(row, X.Data[(tau*p.bins+f)*X.Stride:][:X.Cols])
			}
		}
	}
	return out
}
