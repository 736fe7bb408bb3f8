package experiment

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/internal/plural"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/stats"
)

// Interference scores a known speaker's separation from something no model
// of the known speaker's was trained with: an unknown talker or
// noise, mixed at Config.SNR (the known speaker's level over it). Every
// repeat splits both "speakers" as the protocol does (70/20/10; noise comes
// as chunks, see NoiseSpeaker) and pairs their test shares into mixtures;
// the rows, all NMF with K = Config.K[0]:
//
//   - mixture: the unprocessed mixture as the known speaker's estimate (a
//     one-speaker model without free bases gives exactly this: its Wiener
//     gain is 1 everywhere);
//   - supervised: a model of both, the interferer's trained on its own
//     training share (the upper bound: someone trained the interferer);
//   - free K: the known speaker's model (the same one, bit for bit) with K
//     free bases learned on each mixture;
//   - universal: the known speaker's model with a universal speech model
//     (when given) as the other source.
//
// Scores are the known speaker's BSS Eval SDR per test mixture and its
// improvement over the mixture's (SDRi).
//
// Settings of the free and universal rows (free bases, universal weight, inference
// iterations) are chosen honestly by scoring on validation mixtures first
// (ScoreOn = ScoreValidation): the known speaker's and the interferer's
// held-back 20% share (the discriminative share, which no row of this
// experiment trains on: every model is NMF), paired like the test
// mixtures; Picked then names the best free and universal rows' settings,
// which a second run scores once on the test mixtures.
type Interference struct {
	Known, Interferer *corpus.Speaker
	Universal         *separation.Universal // nil: no universal row
	Free              []int                 // free bases of each free row
	UniversalWeights  []float64             // the universal model's group weights, one row each; 0 or nil: separation's default (SeparateSettings.UniversalWeight)
	// Prune are the universal rows' separation.PruneUniversal ratios, one
	// row each with every universal weight; the shares are measured in every
	// repeat on the known speaker's training utterances with its model
	// (separation.UniversalShares). nil: {0}, no pruning.
	Prune []float64
	// SemiIters are the inference iterations of the free and universal
	// rows, one row per value and setting; nil: Config.InferIters (the
	// supervised row always runs Config.InferIters). This differs from
	// dlnmf separate's default for free bases (separation.DefaultFreeIters)
	// on purpose: the experiment is the grid that chose that default, so
	// its rows name their iterations and compare them at one count unless
	// asked for several; Free is likewise a grid around separate's K.
	SemiIters []int
	// FreeStarts are the free rows' starts (nmf.Settings.FreeStart), one
	// row per value and setting; nil: the default, nmf.FreeQuiet. FreeL1 is their L1
	// penalty on the free activations.
	FreeStarts []nmf.FreeStart
	FreeL1     float64
	ScoreOn    string // ScoreTest ("" too) or ScoreValidation
	Config     Config // Repeats, K[0], Iters, InferIters, Tol, SNR, Seed, splits
	Workers    int    // cores of the engine; 0: all
	Progress   func(string)
}

// The mixtures Interference scores.
const (
	ScoreTest       = "test"       // the test share (10%)
	ScoreValidation = "validation" // the held-back discriminative share (20%)
)

// InterferenceRow is one row's scores of the known speaker, test mixture by
// test mixture in the same order for every row (so rows pair).
type InterferenceRow struct {
	Label string `json:"label"`
	// The row's settings: free bases (free rows), universal weight (universal
	// rows) and inference iterations (both); zero for the others.
	Free            int           `json:"free,omitempty"`
	FreeStart       nmf.FreeStart `json:"free_start"`
	UniversalWeight float64       `json:"universal_weight,omitempty"`
	Prune           float64       `json:"prune,omitempty"` // universal rows: the PruneUniversal ratio
	Iters           int           `json:"iters,omitempty"`
	SDR             []float64     `json:"sdr"`
	SDRi            []float64     `json:"sdri"`
	MeanSDR         float64       `json:"mean_sdr"`
	MeanSDRi        float64       `json:"mean_sdri"`
	CI95            float64       `json:"ci95_sdri"` // half-width of the 95% interval of the mean SDRi
}

// InterferencePair is a paired t-test of two rows' SDR.
type InterferencePair struct {
	A, B     string
	MeanDiff float64 `json:"mean_diff"`
	CI95     float64 `json:"ci95"`
	P        float64 `json:"p"`
}

// InterferenceResults is a finished run.
type InterferenceResults struct {
	Known, Interferer string
	ScoredOn          string // ScoreTest or ScoreValidation
	SNR               float64
	Repeats, Mixtures int
	K                 int
	Rows              []InterferenceRow
	Pairs             []InterferencePair
	// Shares are, per repeat, each universal speaker's
	// separation.UniversalShares (with a Prune ratio only).
	Shares  [][]float64 `json:",omitempty"`
	Seconds float64
}

// NoiseSpeaker cuts noise signals into chunks of the given length (the last
// partial chunk of each signal dropped) and returns them as the utterances
// of a "speaker", so that the protocol's splits and pairing apply to noise:
// training, held-back and test chunks never overlap.
func NoiseSpeaker(name string, signals [][]float64, rate int, seconds float64) (*corpus.Speaker, error) {
	n := int(seconds * float64(rate))
	if n < 1 {
		return nil, fmt.Errorf("noise chunks of %g s", seconds)
	}
	sp := &corpus.Speaker{Name: name}
	for _, x := range signals {
		for a := 0; a+n <= len(x); a += n {
			sp.Utterances = append(sp.Utterances, corpus.Utterance{Name: fmt.Sprintf("%s_%03d", name, len(sp.Utterances)+1), Samples: x[a : a+n]})
		}
	}
	if len(sp.Utterances) == 0 {
		return nil, fmt.Errorf("noise %s is shorter than one chunk of %g s", name, seconds)
	}
	return sp, nil
}

// Run runs every repeat and summarises the rows.
func (in *Interference) Run(ctx context.Context) (*InterferenceResults, error) {
	cfg := in.Config
	cfg.Methods = []separation.Method{separation.NMF}
	cfg, err := cfg.Defaults()
	if err != nil {
		return nil, err
	}
	cfg.K = cfg.K[:1]
	on := in.ScoreOn
	switch on {
	case "":
		on = ScoreTest
	case ScoreTest, ScoreValidation:
	default:
		return nil, fmt.Errorf("score on %q: want %s or %s", on, ScoreTest, ScoreValidation)
	}
	iters := in.SemiIters
	for _, it := range iters {
		if it < 1 {
			return nil, fmt.Errorf("%d inference iterations", it)
		}
	}
	for _, pr := range in.Prune {
		if err := separation.CheckPrune(pr); err != nil {
			return nil, err
		}
	}
	suffix := func(int) string { return "" }
	if len(iters) == 0 {
		iters = []int{cfg.InferIters}
	} else {
		suffix = func(it int) string { return fmt.Sprintf(", %d iters", it) }
	}
	start := time.Now()
	res := &InterferenceResults{Known: in.Known.Name, Interferer: in.Interferer.Name, ScoredOn: on, SNR: cfg.SNR, Repeats: cfg.Repeats, K: cfg.K[0]}
	rows := []InterferenceRow{{Label: "mixture"}, {Label: "supervised"}}
	starts := in.FreeStarts
	if len(starts) == 0 {
		starts = []nmf.FreeStart{nmf.FreeQuiet}
	}
	for _, k := range in.Free {
		for _, st := range starts {
			for _, it := range iters {
				label := fmt.Sprintf("free K=%d", k) + suffix(it)
				if st == nmf.FreeRandom {
					label += ", random start"
				}
				rows = append(rows, InterferenceRow{Label: label, Free: k, FreeStart: st, Iters: it})
			}
		}
	}
	sparsity := in.UniversalWeights
	if in.Universal != nil && len(sparsity) == 0 {
		sparsity = []float64{0} // separation's default for the (pruned) universal model
	}
	if in.Universal == nil {
		sparsity = nil
	}
	prune := in.Prune
	if len(prune) == 0 {
		prune = []float64{0}
	}
	for _, pr := range prune {
		for _, rho := range sparsity {
			for _, it := range iters {
				label := fmt.Sprintf("universal %s, weight %g", in.Universal.Name, rho) + suffix(it)
				if rho == 0 {
					label = fmt.Sprintf("universal %s, default weight", in.Universal.Name) + suffix(it)
				}
				if pr > 0 {
					label += fmt.Sprintf(", pruned at %gx", pr)
				}
				rows = append(rows, InterferenceRow{Label: label, UniversalWeight: rho, Prune: pr, Iters: it})
			}
		}
	}
	nfree := len(in.Free) * len(starts) * len(iters)
	progress := in.Progress
	if progress == nil {
		progress = func(string) {}
	}
	for rep := range cfg.Repeats {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rp, err := PrepareRepeat([]*corpus.Speaker{in.Known, in.Interferer}, cfg, rep)
		if err != nil {
			return nil, err
		}
		row := Row{separation.NMF, cfg.K}
		ts := rp.TrainSettings(row, in.Workers)
		both, _, err := rp.set.Train(ctx, ts)
		if err != nil {
			return nil, err
		}
		one := *both
		one.Speakers = both.Speakers[:1]
		var shares []float64
		universalAt := map[float64]*separation.Model{}
		withUniversal := func(pr float64) *separation.Model {
			if m, ok := universalAt[pr]; ok {
				return m
			}
			m := one
			m.Universal = in.Universal
			if pr > 0 {
				m.Universal = separation.PruneUniversal(in.Universal, shares, pr)
			}
			universalAt[pr] = &m
			return &m
		}
		if in.Universal != nil && slices.ContainsFunc(prune, func(p float64) bool { return p > 0 }) {
			known := separation.SpeakerData{Name: in.Known.Name}
			for _, u := range rp.Train[0] {
				known.Utterances = append(known.Utterances, u.Samples)
			}
			// The first separation.ShareSeconds, as dlnmf train measures.
			clean := separation.ShareAudio([]separation.SpeakerData{known}, cfg.SampleRate)
			s := separation.SeparateSettings{}
			s.NMF.MaxIter, s.NMF.Tol, s.NMF.Workers = cfg.InferIters, cfg.Tol, in.Workers
			if shares, err = separation.UniversalShares(withUniversal(0), clean, s); err != nil {
				return nil, fmt.Errorf("repeat %d: %w", rep+1, err)
			}
			res.Shares = append(res.Shares, shares)
			progress(fmt.Sprintf("repeat %d: shares of %s's training utterances taken by each universal speaker: %.3f", rep+1, in.Known.Name, shares))
		}
		seps := []*separation.Separator{nil}
		add := func(m *separation.Model, s separation.SeparateSettings, iters int) error {
			s.NMF.MaxIter, s.NMF.Tol, s.NMF.Workers, s.NMF.Seed = iters, cfg.Tol, in.Workers, rp.Seed
			sep, err := separation.NewSeparator(m, s)
			seps = append(seps, sep)
			return err
		}
		if err := add(both, separation.SeparateSettings{}, cfg.InferIters); err != nil {
			return nil, err
		}
		for _, row := range rows[2:] {
			var err error
			if row.Free > 0 {
				s := separation.SeparateSettings{Free: row.Free}
				s.NMF.FreeStart, s.NMF.FreeL1 = row.FreeStart, in.FreeL1
				err = add(&one, s, row.Iters)
			} else {
				err = add(withUniversal(row.Prune), separation.SeparateSettings{UniversalWeight: row.UniversalWeight}, row.Iters)
			}
			if err != nil {
				return nil, err
			}
		}
		mixtures := rp.Tests
		if on == ScoreValidation {
			if mixtures, err = corpus.Pair(rp.Disc, cfg.SNR); err != nil {
				return nil, fmt.Errorf("repeat %d, validation mixtures: %w", rep+1, err)
			}
		}
		for j, tm := range mixtures {
			base, err := knownSDR(tm.Sources, [][]float64{tm.Mixture, tm.Mixture})
			if err != nil {
				return nil, fmt.Errorf("repeat %d, mixture %s: %w", rep+1, tm.Name(), err)
			}
			for i, sep := range seps {
				sdr := base
				if sep != nil {
					est, err := sep.Separate(tm.Mixture)
					if err != nil {
						return nil, fmt.Errorf("repeat %d, %s, mixture %d: %w", rep+1, rows[i].Label, j+1, err)
					}
					if sdr, err = knownSDR(tm.Sources, est); err != nil {
						return nil, fmt.Errorf("repeat %d, %s, mixture %s: %w", rep+1, rows[i].Label, tm.Name(), err)
					}
				}
				rows[i].SDR = append(rows[i].SDR, sdr)
				rows[i].SDRi = append(rows[i].SDRi, sdr-base)
			}
		}
		res.Mixtures += len(mixtures)
		progress(fmt.Sprintf("repeat %d of %d: %d %s mixtures", rep+1, cfg.Repeats, len(mixtures), on))
	}
	for i := range rows {
		s := stats.Summarize(rows[i].SDRi)
		rows[i].MeanSDR = stats.Summarize(rows[i].SDR).Mean
		rows[i].MeanSDRi, rows[i].CI95 = s.Mean, s.CI95
	}
	res.Rows = rows
	pair := func(a, b int) {
		d, ci, p := stats.PairedT(rows[a].SDR, rows[b].SDR)
		res.Pairs = append(res.Pairs, InterferencePair{A: rows[a].Label, B: rows[b].Label, MeanDiff: d, CI95: ci, P: p})
	}
	for i := 2; i < len(rows); i++ {
		pair(i, 1) // against supervised
	}
	for u := 2 + nfree; u < len(rows); u++ {
		for i := 2; i < 2+nfree; i++ {
			pair(u, i) // each universal row against each free row
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// Picked is the settings of the best free row and of the best universal
// row of a run (highest mean SDRi, the first on a tie); zero without such
// rows. Scored on validation mixtures, they choose the test run's.
type Picked struct {
	Free            int           `json:"free,omitempty"`
	FreeIters       int           `json:"free_iters,omitempty"`
	FreeStart       nmf.FreeStart `json:"free_start"`
	FreeSDRi        float64       `json:"free_sdri,omitempty"` // the row's mean SDRi
	UniversalWeight float64       `json:"universal_weight,omitempty"`
	Prune           float64       `json:"prune,omitempty"`
	UniversalIters  int           `json:"universal_iters,omitempty"`
	UniversalSDRi   float64       `json:"universal_sdri,omitempty"`
}

// Picked returns the best rows' settings.
func (r *InterferenceResults) Picked() Picked {
	var p Picked
	var bf, bu *InterferenceRow
	for i := range r.Rows {
		row := &r.Rows[i]
		switch {
		case row.Free > 0 && (bf == nil || row.MeanSDRi > bf.MeanSDRi):
			bf = row
		case row.Free == 0 && row.Iters > 0 && (bu == nil || row.MeanSDRi > bu.MeanSDRi):
			bu = row
		}
	}
	if bf != nil {
		p.Free, p.FreeIters, p.FreeStart, p.FreeSDRi = bf.Free, bf.Iters, bf.FreeStart, bf.MeanSDRi
	}
	if bu != nil {
		p.UniversalWeight, p.Prune, p.UniversalIters, p.UniversalSDRi = bu.UniversalWeight, bu.Prune, bu.Iters, bu.MeanSDRi
	}
	return p
}

// Text returns the settings one per line as "name value" (free,
// free_iters, free_init (random or quiet), free_sdri, sparsity, prune,
// universal_iters, universal_sdri; those of a missing row left out), for
// scripts.
func (p Picked) Text() string {
	var s string
	if p.Free > 0 {
		s += fmt.Sprintf("free %d\nfree_iters %d\nfree_init %s\nfree_sdri %.2f\n", p.Free, p.FreeIters, p.FreeStart, p.FreeSDRi)
	}
	if p.UniversalIters > 0 {
		s += fmt.Sprintf("universal_weight %g\nprune %g\nuniversal_iters %d\nuniversal_sdri %.2f\n", p.UniversalWeight, p.Prune, p.UniversalIters, p.UniversalSDRi)
	}
	return s
}

// knownSDR is the SDR of the first estimate against the first reference,
// BSS Eval v3 with every reference (no permutation). The other estimates
// do not enter the first one's SDR; they are replaced by the first so that
// a silent one (a universal model that the penalty switched off) cannot
// make the scoring fail.
func knownSDR(refs, ests [][]float64) (float64, error) {
	same := make([][]float64, len(refs))
	for i := range same {
		same[i] = ests[0]
	}
	r, err := bsseval.Sources(refs, same, bsseval.Options{})
	if err != nil {
		return math.NaN(), err
	}
	return r.SDR[0], nil
}

// Markdown returns the results as a table with the paired tests.
func (r *InterferenceResults) Markdown() string {
	on := r.ScoredOn
	if on == "" {
		on = ScoreTest
	}
	s := fmt.Sprintf("%s + %s at %g dB: %s, %s, NMF K = %d; %s's SDR (BSS Eval v3) and its improvement over the mixture.\n\n",
		r.Known, r.Interferer, r.SNR, plural.Count(r.Repeats, "repeat"), plural.Count(r.Mixtures, string(on)+" mixture"), r.K, r.Known)
	s += "| row | SDR (dB) | SDRi (dB) |\n|---|---|---|\n"
	for _, row := range r.Rows {
		s += fmt.Sprintf("| %s | %.2f | %+.2f ± %.2f |\n", row.Label, row.MeanSDR, row.MeanSDRi, row.CI95)
	}
	if len(r.Pairs) > 0 {
		s += "\n| paired test (SDR) | mean difference (dB) | 95% CI | p |\n|---|---|---|---|\n"
		for _, p := range r.Pairs {
			s += fmt.Sprintf("| %s − %s | %+.2f | ± %.2f | %.2g |\n", p.A, p.B, p.MeanDiff, p.CI95, p.P)
		}
	}
	if len(r.Shares) > 0 {
		s += fmt.Sprintf("\nShares of %s's training audio that each universal speaker takes (separation.UniversalShares; the pruned rows drop those above the ratio times the least), per repeat:\n\n", r.Known)
		for i, sh := range r.Shares {
			s += fmt.Sprintf("- repeat %d: %.3f\n", i+1, sh)
		}
	}
	return s
}
