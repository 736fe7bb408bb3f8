package experiment

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/stats"
)

// Interference scores a known speaker's separation from something no model
// of the known speaker's was trained with (issue 13): an unknown talker or
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
type Interference struct {
	Known, Interferer *corpus.Speaker
	Universal         *separation.Universal // nil: no universal row
	Free              []int                 // free bases of each free row
	Sparsity          []float64             // the universal model's, one row each; nil: separation.DefaultSparsity
	Config            Config                // Repeats, K[0], Iters, InferIters, Tol, SNR, Seed, splits
	Workers           int                   // cores of the engine; 0: all
	Progress          func(string)
}

// InterferenceRow is one row's scores of the known speaker, test mixture by
// test mixture in the same order for every row (so rows pair).
type InterferenceRow struct {
	Label    string    `json:"label"`
	SDR      []float64 `json:"sdr"`
	SDRi     []float64 `json:"sdri"`
	MeanSDR  float64   `json:"mean_sdr"`
	MeanSDRi float64   `json:"mean_sdri"`
	CI95     float64   `json:"ci95_sdri"` // half-width of the 95% interval of the mean SDRi
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
	SNR               float64
	Repeats, Mixtures int
	K                 int
	Rows              []InterferenceRow
	Pairs             []InterferencePair
	Seconds           float64
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
	start := time.Now()
	res := &InterferenceResults{Known: in.Known.Name, Interferer: in.Interferer.Name, SNR: cfg.SNR, Repeats: cfg.Repeats, K: cfg.K[0]}
	labels := []string{"mixture", "supervised"}
	for _, k := range in.Free {
		labels = append(labels, fmt.Sprintf("free K=%d", k))
	}
	sparsity := in.Sparsity
	if in.Universal != nil && len(sparsity) == 0 {
		sparsity = []float64{separation.DefaultSparsity}
	}
	if in.Universal == nil {
		sparsity = nil
	}
	for _, rho := range sparsity {
		labels = append(labels, fmt.Sprintf("universal %s, sparsity %g", in.Universal.Name, rho))
	}
	rows := make([]InterferenceRow, len(labels))
	for i := range rows {
		rows[i].Label = labels[i]
	}
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
		withUniversal := one
		withUniversal.Universal = in.Universal
		ns := nmf.Settings{MaxIter: cfg.InferIters, Tol: cfg.Tol, Workers: in.Workers, Seed: rp.Seed}
		seps := []*separation.Separator{nil}
		add := func(m *separation.Model, s separation.SeparateSettings) error {
			s.NMF = ns
			sep, err := separation.NewSeparator(m, s)
			seps = append(seps, sep)
			return err
		}
		if err := add(both, separation.SeparateSettings{}); err != nil {
			return nil, err
		}
		for _, k := range in.Free {
			if err := add(&one, separation.SeparateSettings{Free: k}); err != nil {
				return nil, err
			}
		}
		for _, rho := range sparsity {
			if err := add(&withUniversal, separation.SeparateSettings{Sparsity: rho}); err != nil {
				return nil, err
			}
		}
		for j, tm := range rp.Tests {
			base, err := knownSDR(tm.Sources, [][]float64{tm.Mixture, tm.Mixture})
			if err != nil {
				return nil, fmt.Errorf("repeat %d, mixture %s: %w", rep+1, tm.Name(), err)
			}
			for i, sep := range seps {
				sdr := base
				if sep != nil {
					est, err := sep.Separate(tm.Mixture)
					if err != nil {
						return nil, fmt.Errorf("repeat %d, %s, mixture %d: %w", rep+1, labels[i], j+1, err)
					}
					if sdr, err = knownSDR(tm.Sources, est); err != nil {
						return nil, fmt.Errorf("repeat %d, %s, mixture %s: %w", rep+1, labels[i], tm.Name(), err)
					}
				}
				rows[i].SDR = append(rows[i].SDR, sdr)
				rows[i].SDRi = append(rows[i].SDRi, sdr-base)
			}
		}
		res.Mixtures += len(rp.Tests)
		progress(fmt.Sprintf("repeat %d of %d: %d mixtures", rep+1, cfg.Repeats, len(rp.Tests)))
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
	nfree := len(in.Free)
	for u := 2 + nfree; u < len(rows); u++ {
		for i := 2; i < 2+nfree; i++ {
			pair(u, i) // each universal row against each free row
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
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
	s := fmt.Sprintf("%s + %s at %g dB: %d repeats, %d test mixtures, NMF K = %d; %s's SDR (BSS Eval v3) and its improvement over the mixture.\n\n",
		r.Known, r.Interferer, r.SNR, r.Repeats, r.Mixtures, r.K, r.Known)
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
	return s
}
