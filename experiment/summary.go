package experiment

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/stats"
)

// Number is a float64 that encodes NaN and infinities as JSON null (a
// confidence interval from one mixture is NaN; JSON has no NaN).
type Number float64

// MarshalJSON writes finite values as numbers and the rest as null.
func (n Number) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

// UnmarshalJSON reads a number, or null as NaN.
func (n *Number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Number(math.NaN())
		return nil
	}
	var f float64
	err := json.Unmarshal(b, &f)
	*n = Number(f)
	return err
}

// SummaryRow is one method row and speaker of Table 1: means over the test
// mixtures with the half-width of their 95% confidence interval.
type SummaryRow struct {
	Method  string `json:"method"` // "NMF", "L-NMF", "DL-NMF"
	Layers  []int  `json:"layers"`
	Label   string `json:"label"` // "DL-NMF 180,20"
	Speaker string `json:"speaker"`
	SDR     Number `json:"sdr"`
	SIR     Number `json:"sir"`
	SAR     Number `json:"sar"`
	SDRCI95 Number `json:"sdr_ci95"`
	SIRCI95 Number `json:"sir_ci95"`
	SARCI95 Number `json:"sar_ci95"`
	SDRStd  Number `json:"sdr_std"`
	SIRStd  Number `json:"sir_std"`
	SARStd  Number `json:"sar_std"`
	N       int    `json:"n"`
}

// Paired compares two rows over the same test mixtures and speaker: the
// mean of A minus B, its 95% interval and a two-sided paired t-test.
type Paired struct {
	A       string `json:"a"`
	B       string `json:"b"`
	Speaker string `json:"speaker"`
	Metric  string `json:"metric"`
	Diff    Number `json:"diff"`
	CI95    Number `json:"ci95"`
	P       Number `json:"p"`
	N       int    `json:"n"`
}

// metrics of a score, in table order.
var metricNames = []string{"sdr", "sir", "sar"}

func metricOf(s Score, m int) float64 {
	switch m {
	case 0:
		return float64(s.SDR)
	case 1:
		return float64(s.SIR)
	}
	return float64(s.SAR)
}

// summarise builds the summary rows (Table 1's order, then the selected
// row, speakers in order) and the paired differences DL-NMF minus L-NMF
// (same layers), L-NMF minus NMF (K equal to the last layer size) and the
// selected row minus each of the experiment's rows, over the same mixtures.
func summarise(cfg Config, speakers []string, scores []Score) ([]SummaryRow, []Paired) {
	type key struct{ row, speaker string }
	byKey := map[key][]Score{}
	for _, s := range scores {
		row := labelOf(s)
		byKey[key{row, s.Speaker}] = append(byKey[key{row, s.Speaker}], s)
	}
	var rows []SummaryRow
	summary := func(method string, sizes []int, label string) {
		for _, sp := range speakers {
			ss := byKey[key{label, sp}]
			sr := SummaryRow{Method: method, Layers: sizes, Label: label, Speaker: sp, N: len(ss)}
			for m := range metricNames {
				x := make([]float64, len(ss))
				for i, s := range ss {
					x[i] = metricOf(s, m)
				}
				sum := stats.Summarize(x)
				switch m {
				case 0:
					sr.SDR, sr.SDRCI95, sr.SDRStd = Number(sum.Mean), Number(sum.CI95), Number(sum.Std)
				case 1:
					sr.SIR, sr.SIRCI95, sr.SIRStd = Number(sum.Mean), Number(sum.CI95), Number(sum.Std)
				case 2:
					sr.SAR, sr.SARCI95, sr.SARStd = Number(sum.Mean), Number(sum.CI95), Number(sum.Std)
				}
			}
			rows = append(rows, sr)
		}
	}
	for _, r := range cfg.Rows() {
		summary(r.Method.Label(), r.Sizes, r.Label())
	}
	if cfg.Select != nil {
		summary(SelectedLabel, nil, SelectedLabel)
	}
	var pairs [][2]string
	for _, l := range cfg.Layers {
		if cfg.has(separation.DLNMF) && cfg.has(separation.LNMF) {
			pairs = append(pairs, [2]string{Row{separation.DLNMF, l}.Label(), Row{separation.LNMF, l}.Label()})
		}
	}
	for _, l := range cfg.Layers {
		k := l[len(l)-1]
		if cfg.has(separation.LNMF) && cfg.has(separation.NMF) && contains(cfg.K, k) {
			pairs = append(pairs, [2]string{Row{separation.LNMF, l}.Label(), Row{separation.NMF, []int{k}}.Label()})
		}
	}
	if cfg.Select != nil {
		for _, r := range cfg.Rows() {
			pairs = append(pairs, [2]string{SelectedLabel, r.Label()})
		}
	}
	var paired []Paired
	for _, p := range pairs {
		for _, sp := range speakers {
			a, b := byKey[key{p[0], sp}], byKey[key{p[1], sp}]
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
				paired = append(paired, Paired{A: p[0], B: p[1], Speaker: sp, Metric: name, Diff: Number(d), CI95: Number(ci), P: Number(pv), N: len(xa)})
			}
		}
	}
	return rows, paired
}

func labelOf(s Score) string {
	if s.Method == SelectedLabel {
		return SelectedLabel
	}
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
