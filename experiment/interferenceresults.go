package experiment

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/internal/plural"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/stats"
)

// An interference experiment's results: its units gathered into rows with
// statistics, the settings picked on validation mixtures, and its files.

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
	Seconds float64     // wall time of the run (Interference.Run); 0 for a summary of units
}

// collect gathers the units of every repeat, in repeat order, into the
// rows and their statistics.
func (p *interferencePlan) collect(units []*unitFile) (*InterferenceResults, error) {
	cfg := p.cfg
	res := &InterferenceResults{Known: p.in.Known.Name, Interferer: p.in.Interferer.Name, ScoredOn: p.on, SNR: cfg.SNR, Repeats: cfg.Repeats, K: cfg.K[0]}
	rows := make([]InterferenceRow, len(p.rows))
	copy(rows, p.rows)
	for _, f := range units {
		ir := f.Interference
		if ir == nil || len(ir.SDR) != len(rows) {
			return nil, fmt.Errorf("unit %d (%s, repeat %d) holds no interference rows of this experiment", f.Unit, f.Experiment, f.Repeat)
		}
		for i := range rows {
			if len(ir.SDR[i]) != len(ir.Mixtures) {
				return nil, fmt.Errorf("unit %d (%s, repeat %d): %d scores of %s for %d mixtures", f.Unit, f.Experiment, f.Repeat, len(ir.SDR[i]), rows[i].Label, len(ir.Mixtures))
			}
			for j, sdr := range ir.SDR[i] {
				// Row 0 is the mixture's own SDR, the base of every SDRi.
				rows[i].SDR = append(rows[i].SDR, float64(sdr))
				rows[i].SDRi = append(rows[i].SDRi, float64(sdr)-float64(ir.SDR[0][j]))
			}
		}
		res.Mixtures += len(ir.Mixtures)
		if len(ir.Shares) > 0 {
			shares := make([]float64, len(ir.Shares))
			for i, v := range ir.Shares {
				shares[i] = float64(v)
			}
			res.Shares = append(res.Shares, shares)
		}
	}
	for i := range rows {
		s := stats.Summarize(rows[i].SDRi)
		rows[i].MeanSDR = stats.Summarize(rows[i].SDR).Mean
		rows[i].MeanSDRi, rows[i].CI95 = s.Mean, s.CI95
	}
	res.Rows = rows
	pair := func(a, b int) {
		d, ci, pv := stats.PairedT(rows[a].SDR, rows[b].SDR)
		res.Pairs = append(res.Pairs, InterferencePair{A: rows[a].Label, B: rows[b].Label, MeanDiff: d, CI95: ci, P: pv})
	}
	for i := 2; i < len(rows); i++ {
		pair(i, 1) // against supervised
	}
	for u := 2 + p.nfree; u < len(rows); u++ {
		for i := 2; i < 2+p.nfree; i++ {
			pair(u, i) // each universal row against each free row
		}
	}
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

// Markdown returns the results as a table with the paired tests, and for
// a run on validation mixtures the settings picked (Picked).
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
	if r.ScoredOn == ScoreValidation {
		s += "\nPicked on validation (highest mean SDRi; picked.txt):\n\n```\n" + r.Picked().Text() + "```\n"
	}
	return s
}

// WriteInterference writes the results into dir: results.md (a heading
// with the title, then Markdown), results.json and, for a run on
// validation mixtures, picked.txt (Picked.Text, which a test run's script
// reads). It returns results.md's text.
func WriteInterference(dir, title string, r *InterferenceResults) (string, error) {
	md := "# " + title + "\n\n" + r.Markdown()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if r.ScoredOn == ScoreValidation {
		if err := atomicfile.WriteBytes(filepath.Join(dir, "picked.txt"), []byte(r.Picked().Text())); err != nil {
			return "", err
		}
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "results.md"), []byte(md)); err != nil {
		return "", err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	return md, atomicfile.WriteBytes(filepath.Join(dir, "results.json"), js)
}
