package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dlnmf/dlnmf/report"
	"github.com/dlnmf/dlnmf/stats"
)

// selectionFigurePath is where WriteFiles draws a selection's validation
// SDR against the inference iterations, relative to the output folder.
const selectionFigurePath = "figures/selection-infer-iters.png"

// selectionFigure returns the figure of a selection whose grid points
// differ in their inference iterations: each point's mean validation SDR
// over the repeats against its infer_iters (its live_iters, when a point
// is scored as a stream), one line for every group of
// points equal in all their other settings, and a lone point for a group
// of one (such as the plain model beside models trained for fewer
// iterations). A line or point is named by the settings in which it
// differs from the others, or by the settings the others add ("without
// ..."); a lone line has no name. Points that leave the count to its
// default are not drawn. ok is false when no group has two points.
func selectionFigure(res *Results) (c report.Curve, ok bool) {
	if res.Config.Select == nil || len(res.Selection) == 0 {
		return c, false
	}
	points, err := res.Config.SelectPoints()
	if err != nil {
		return c, false
	}
	c = report.Curve{Title: "mean validation SDR against the inference iterations", XLabel: "inference iterations (at most)", YLabel: "dB (mean over validation mixtures and repeats)"}
	key := "infer_iters"
	if slices.ContainsFunc(points, func(p SweepConfig) bool { return p.Config.LiveIters > 0 }) {
		key, c.XLabel = "live_iters", "live inference iterations per frame (every one)"
	}
	var groups []TradeOff
	line := false
	for _, g := range tradeOffs(points, key, 1) {
		if len(g.Values) == 1 && g.Values[0] == 0 {
			continue // the key not given: the default, drawn nowhere
		}
		groups = append(groups, g)
		line = line || len(g.Values) >= 2
	}
	if !line {
		return c, false
	}
	// The settings every group shares name none of them.
	common := map[string]int{}
	for _, g := range groups {
		for _, kv := range strings.Fields(g.Fixed) {
			common[kv]++
		}
	}
	for _, g := range groups {
		var name, others []string
		for _, kv := range strings.Fields(g.Fixed) {
			if common[kv] < len(groups) {
				name = append(name, kv)
			}
		}
		if len(name) == 0 && len(groups) > 1 {
			// A subset of the others' settings: name what they add.
			for kv := range common {
				if k, _, _ := strings.Cut(kv, "="); !strings.Contains(" "+g.Fixed, " "+k+"=") && !slices.Contains(others, k) {
					others = append(others, k)
				}
			}
			slices.Sort(others)
			name = []string{"without " + strings.Join(others, ", ")}
		}
		s := report.Series{Name: strings.Join(name, " ")}
		for i, pi := range g.Configs {
			var x []float64
			for _, r := range res.Selection {
				if pi < len(r.Points) {
					x = append(x, float64(r.Points[pi].SDR))
				}
			}
			s.X = append(s.X, g.Values[i])
			s.Y = append(s.Y, stats.Summarize(x).Mean)
		}
		c.Series = append(c.Series, s)
	}
	return c, true
}

// writeSelectionFigure draws selectionFigure into dir, when there is one.
func writeSelectionFigure(dir string, res *Results) error {
	c, ok := selectionFigure(res)
	if !ok {
		return nil
	}
	path := filepath.Join(dir, filepath.FromSlash(selectionFigurePath))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := report.WriteCurvePNG(path, c); err != nil {
		return fmt.Errorf("the selection's figure: %w", err)
	}
	return nil
}
