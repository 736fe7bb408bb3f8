package experiment

import (
	"fmt"

	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/stats"
)

// SummaryRow is one method row and speaker of Table 1: means over the test
// mixtures with the half-width of their 95% confidence interval.
type SummaryRow struct {
	Method  string  `json:"method"` // "NMF", "L-NMF", "DL-NMF"
	Layers  []int   `json:"layers"`
	Label   string  `json:"label"` // "DL-NMF 180,20"
	Speaker string  `json:"speaker"`
	SDR     float64 `json:"sdr"`
	SIR     float64 `json:"sir"`
	SAR     float64 `json:"sar"`
	SDRCI95 float64 `json:"sdr_ci95"`
	SIRCI95 float64 `json:"sir_ci95"`
	SARCI95 float64 `json:"sar_ci95"`
	SDRStd  float64 `json:"sdr_std"`
	SIRStd  float64 `json:"sir_std"`
	SARStd  float64 `json:"sar_std"`
	N       int     `json:"n"`
}

// Paired compares two rows over the same test mixtures and speaker: the
// mean of A minus B, its 95% interval and a two-sided paired t-test.
type Paired struct {
	A       string  `json:"a"`
	B       string  `json:"b"`
	Speaker string  `json:"speaker"`
	Metric  string  `json:"metric"`
	Diff    float64 `json:"diff"`
	CI95    float64 `json:"ci95"`
	P       float64 `json:"p"`
	N       int     `json:"n"`
}

// metrics of a score, in table order.
var metricNames = []string{"sdr", "sir", "sar"}

func metricOf(s Score, m int) float64 {
	switch m {
	case 0:
		return s.SDR
	case 1:
		return s.SIR
	}
	return s.SAR
}

// summarise builds the summary rows (Table 1's order, speakers in order) and
// the paired differences DL-NMF minus L-NMF (same layers) and L-NMF minus
// NMF (K equal to the last layer size), over the same mixtures.
func summarise(cfg Config, speakers []string, scores []Score) ([]SummaryRow, []Paired) {
	type key struct{ row, speaker string }
	byKey := map[key][]Score{}
	for _, s := range scores {
		row := labelOf(s)
		byKey[key{row, s.Speaker}] = append(byKey[key{row, s.Speaker}], s)
	}
	var rows []SummaryRow
	for _, r := range cfg.Rows() {
		for _, sp := range speakers {
			ss := byKey[key{r.Label(), sp}]
			sr := SummaryRow{Method: r.Method.Label(), Layers: r.Sizes, Label: r.Label(), Speaker: sp, N: len(ss)}
			for m := range metricNames {
				x := make([]float64, len(ss))
				for i, s := range ss {
					x[i] = metricOf(s, m)
				}
				sum := stats.Summarize(x)
				switch m {
				case 0:
					sr.SDR, sr.SDRCI95, sr.SDRStd = sum.Mean, sum.CI95, sum.Std
				case 1:
					sr.SIR, sr.SIRCI95, sr.SIRStd = sum.Mean, sum.CI95, sum.Std
				case 2:
					sr.SAR, sr.SARCI95, sr.SARStd = sum.Mean, sum.CI95, sum.Std
				}
			}
			rows = append(rows, sr)
		}
	}
	var pairs [][2]Row
	for _, l := range cfg.Layers {
		if cfg.has(separation.DLNMF) && cfg.has(separation.LNMF) {
			pairs = append(pairs, [2]Row{{separation.DLNMF, l}, {separation.LNMF, l}})
		}
	}
	for _, l := range cfg.Layers {
		k := l[len(l)-1]
		if cfg.has(separation.LNMF) && cfg.has(separation.NMF) && contains(cfg.K, k) {
			pairs = append(pairs, [2]Row{{separation.LNMF, l}, {separation.NMF, []int{k}}})
		}
	}
	var paired []Paired
	for _, p := range pairs {
		for _, sp := range speakers {
			a, b := byKey[key{p[0].Label(), sp}], byKey[key{p[1].Label(), sp}]
			bm := map[string]Score{}
			for _, s := range b {
				bm[s.Mixture] = s
			}
			for m, name := range metricNames {
				var xa, xb []float64
				for _, s := range a {
					if t, ok := bm[s.Mixture]; ok {
						xa = append(xa, metricOf(s, m))
						xb = append(xb, metricOf(t, m))
					}
				}
				if len(xa) < 2 {
					continue
				}
				d, ci, pv := stats.PairedT(xa, xb)
				paired = append(paired, Paired{A: p[0].Label(), B: p[1].Label(), Speaker: sp, Metric: name, Diff: d, CI95: ci, P: pv, N: len(xa)})
			}
		}
	}
	return rows, paired
}

func labelOf(s Score) string {
	m, err := separation.ParseMethod(s.Method)
	if err != nil {
		return fmt.Sprintf("%s %v", s.Method, s.Layers)
	}
	return Row{m, s.Layers}.Label()
}

func contains(xs []int, v int) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}
