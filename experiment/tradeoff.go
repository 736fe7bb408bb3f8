package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlnmf/dlnmf/report"
)

// tradeOffKeys are the settings WriteTradeOffFigures draws against, with
// their axes' labels: the L1 penalty's trade-off of interference for
// artefacts, and the inference iterations' (those of a model inferred to
// its tolerance, and the unfolded iterations of deep NMF, each trained for
// its count).
var tradeOffKeys = []struct{ key, label string }{
	{"sparsity", "sparsity lambda"},
	{"infer_iters", "inference iterations (at most)"},
	{"unfold", "unfolded iterations N"},
}

// WriteTradeOffFigures draws, for every pair, every speaker and every group
// of at least three configurations that differ only in one of the keys
// above (TradeOffs), the speaker's mean SDR, SIR and SAR against that key
// as OUTDIR/figures/<pair>-<speaker>-<key>-N.png, and returns the markdown
// that shows them.
func WriteTradeOffFigures(out string, configs []SweepConfig, rows []SpeakerRow) (string, error) {
	byKey := map[string]SpeakerRow{}
	var order [][2]string
	for _, r := range rows {
		byKey[r.Pair+"\x00"+r.Speaker+"\x00"+r.Config] = r
		if n := len(order); n == 0 || order[n-1] != [2]string{r.Pair, r.Speaker} {
			order = append(order, [2]string{r.Pair, r.Speaker})
		}
	}
	var b strings.Builder
	for _, k := range tradeOffKeys {
		groups := TradeOffs(configs, k.key)
		if len(groups) == 0 {
			continue
		}
		if err := os.MkdirAll(filepath.Join(out, "figures"), 0o755); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n## SDR, SIR and SAR against %s\n\n", k.label)
		for gi, g := range groups {
			for _, ps := range order {
				c := report.Curve{Title: fmt.Sprintf("%s, %s:\n%s", ps[0], ps[1], g.Fixed), XLabel: k.label, YLabel: "dB (mean over test mixtures)"}
				for m, name := range []string{"SDR", "SIR", "SAR"} {
					s := report.Series{Name: name}
					for i, ci := range g.Configs {
						r, ok := byKey[ps[0]+"\x00"+ps[1]+"\x00"+configs[ci].Label]
						if !ok {
							continue
						}
						s.X = append(s.X, g.Values[i])
						s.Y = append(s.Y, float64(r.Mean[m]))
					}
					c.Series = append(c.Series, s)
				}
				rel := fmt.Sprintf("figures/%s-%s-%s-%d.png", report.Slug(ps[0]), report.Slug(ps[1]), strings.ReplaceAll(k.key, "_", "-"), gi+1)
				if err := report.WriteCurvePNG(filepath.Join(out, filepath.FromSlash(rel)), c); err != nil {
					return "", err
				}
				fmt.Fprintf(&b, "![%s](%s)\n\n", strings.ReplaceAll(c.Title, "\n", " "), rel)
			}
		}
	}
	return b.String(), nil
}
