package experiment

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dlnmf/dlnmf/stats"
)

// SpeakerRow is one configuration's line for one speaker of a pair in a
// sweep: SDR, SIR and SAR (mean and 95% CI over the test mixtures) and
// their paired differences from the baseline over the same mixtures, each
// with the p-value of a two-sided paired t-test. Every speaker gets its own
// test, as Table 1 does: a configuration beats the baseline for a speaker
// when that speaker's ΔSDR is positive with a small p.
type SpeakerRow struct {
	Pair     string    `json:"pair"`
	Config   string    `json:"config"`
	Row      string    `json:"row"`
	Speaker  string    `json:"speaker"`
	Baseline bool      `json:"baseline"`
	N        int       `json:"n"`
	Mean     [3]Number `json:"mean"` // SDR, SIR, SAR
	CI95     [3]Number `json:"ci95"`
	Diff     [3]Number `json:"diff"` // minus the baseline, NaN for the baseline
	DiffCI95 [3]Number `json:"diff_ci95"`
	P        [3]Number `json:"p"`
}

// SpeakerTables returns, pair by pair, every configuration's line for
// every speaker (speakers in the pair's order, configurations in grid
// order). res is as for SweepTables.
func SpeakerTables(pairs []string, configs []SweepConfig, baseline int, res []*Results) []SpeakerRow {
	var out []SpeakerRow
	for p, pair := range pairs {
		// byConfig[c][speaker][mixture] = (SDR, SIR, SAR)
		byConfig := make([]map[string]map[string][3]float64, len(configs))
		var speakers []string
		for c := range configs {
			byConfig[c] = map[string]map[string][3]float64{}
			for _, s := range res[p*len(configs)+c].Scores {
				m := byConfig[c][s.Speaker]
				if m == nil {
					m = map[string][3]float64{}
					byConfig[c][s.Speaker] = m
					if c == 0 && !slices.Contains(speakers, s.Speaker) {
						speakers = append(speakers, s.Speaker)
					}
				}
				m[s.Mixture] = [3]float64{float64(s.SDR), float64(s.SIR), float64(s.SAR)}
			}
		}
		for _, sp := range speakers {
			base := byConfig[baseline][sp]
			for c := range configs {
				m := byConfig[c][sp]
				r := SpeakerRow{Pair: pair, Config: configs[c].Label, Speaker: sp, Baseline: c == baseline, N: len(m)}
				if d, err := configs[c].Config.Defaults(); err == nil {
					r.Row = d.Rows()[0].Label()
				}
				mixtures := make([]string, 0, len(m))
				for k := range m {
					mixtures = append(mixtures, k)
				}
				sort.Strings(mixtures)
				for i := range 3 {
					var x, a, b []float64
					for _, k := range mixtures {
						x = append(x, m[k][i])
						if v, ok := base[k]; ok {
							a, b = append(a, m[k][i]), append(b, v[i])
						}
					}
					s := stats.Summarize(x)
					r.Mean[i], r.CI95[i] = Number(s.Mean), Number(s.CI95)
					r.Diff[i], r.DiffCI95[i], r.P[i] = Number(math.NaN()), Number(math.NaN()), Number(math.NaN())
					if c != baseline && len(a) >= 2 {
						d, ci, pv := stats.PairedT(a, b)
						r.Diff[i], r.DiffCI95[i], r.P[i] = Number(d), Number(ci), Number(pv)
					}
				}
				out = append(out, r)
			}
		}
	}
	return out
}

// SpeakerMarkdown renders SpeakerTables' rows: one table per pair and
// speaker.
func SpeakerMarkdown(rows []SpeakerRow) string {
	var b strings.Builder
	if len(rows) == 0 {
		return ""
	}
	b.WriteString("\n## Per speaker\n\nSDR, SIR and SAR in dB (mean ± 95% CI over the test mixtures) and the paired difference of each from the baseline's over the same mixtures (± 95% CI, p of a two-sided paired t-test).\n")
	last := ""
	for _, r := range rows {
		if k := r.Pair + "\x00" + r.Speaker; k != last {
			last = k
			fmt.Fprintf(&b, "\n### %s, speaker %s\n\n", r.Pair, r.Speaker)
			b.WriteString("| configuration | row | SDR | SIR | SAR | ΔSDR | p | ΔSIR | p | ΔSAR | p | n |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |", r.Config, r.Row, pm(r.Mean[0], r.CI95[0]), pm(r.Mean[1], r.CI95[1]), pm(r.Mean[2], r.CI95[2]))
		for i := range 3 {
			if r.Baseline {
				b.WriteString(" baseline | |")
				continue
			}
			fmt.Fprintf(&b, " %s | %s |", pm(r.Diff[i], r.DiffCI95[i]), pval(r.P[i]))
		}
		fmt.Fprintf(&b, " %d |\n", r.N)
	}
	return b.String()
}

// TradeOff is a family of a sweep's configurations that differ only in
// one numeric setting (Key, e.g. "sparsity"): for a figure of the scores
// against that setting.
type TradeOff struct {
	Key     string    // the setting that varies
	Fixed   string    // the other settings, "k=100 method=nmf"
	Values  []float64 // the setting's values, ascending
	Configs []int     // the configurations, in the order of Values
}

// TradeOffs finds, for the setting key, every group of at least three
// configurations that share all their other grid values and differ in
// key; a configuration without key counts as key = 0 (every numeric
// setting's zero is its default, see Config).
func TradeOffs(configs []SweepConfig, key string) []TradeOff { return tradeOffs(configs, key, 3) }

// tradeOffs is TradeOffs with groups of at least least configurations.
func tradeOffs(configs []SweepConfig, key string, least int) []TradeOff {
	groups := map[string]*TradeOff{}
	var order []string
	for i, c := range configs {
		var fixed []string
		for k, v := range c.point {
			if k != key {
				fixed = append(fixed, k+"="+strings.Trim(strings.ReplaceAll(v, `"`, ""), "[]"))
			}
		}
		sort.Strings(fixed)
		x := 0.0
		if v, ok := c.point[key]; ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			x = f
		}
		f := strings.Join(fixed, " ")
		g := groups[f]
		if g == nil {
			g = &TradeOff{Key: key, Fixed: f}
			groups[f] = g
			order = append(order, f)
		}
		if slices.Contains(g.Values, x) {
			continue // the same value twice (with and without the key): keep the first
		}
		g.Values = append(g.Values, x)
		g.Configs = append(g.Configs, i)
	}
	var out []TradeOff
	for _, f := range order {
		g := groups[f]
		if len(g.Values) < least {
			continue
		}
		idx := make([]int, len(g.Values))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return g.Values[idx[a]] < g.Values[idx[b]] })
		t := TradeOff{Key: key, Fixed: f}
		for _, i := range idx {
			t.Values = append(t.Values, g.Values[i])
			t.Configs = append(t.Configs, g.Configs[i])
		}
		out = append(out, t)
	}
	return out
}
