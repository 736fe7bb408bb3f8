package experiment

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlnmf/dlnmf/report"
	"github.com/dlnmf/dlnmf/stats"
)

// selectionFigurePath is where WriteFiles draws a selection's validation
// SDR against the inference iterations, relative to the output folder.
const selectionFigurePath = "figures/selection-infer-iters.png"

// selectionFigure returns the figure of a selection whose grid points
// differ in their inference iterations: each point's mean validation SDR
// over the repeats against its infer_iters, one line for every group of
// at least two points equal in all their other settings. ok is false when
// the grid has no such group.
func selectionFigure(res *Results) (c report.Curve, ok bool) {
	if res.Config.Select == nil || len(res.Selection) == 0 {
		return c, false
	}
	points, err := res.Config.SelectPoints()
	if err != nil {
		return c, false
	}
	c = report.Curve{Title: "mean validation SDR against the inference iterations", XLabel: "inference iterations (at most)", YLabel: "dB (mean over validation mixtures and repeats)"}
	groups := tradeOffs(points, "infer_iters", 2)
	// A line is named by the settings in which the groups differ.
	common := map[string]int{}
	for _, g := range groups {
		for _, kv := range strings.Fields(g.Fixed) {
			common[kv]++
		}
	}
	for _, g := range groups {
		var name []string
		for _, kv := range strings.Fields(g.Fixed) {
			if common[kv] < len(groups) {
				name = append(name, kv)
			}
		}
		s := report.Series{Name: cmp.Or(strings.Join(name, " "), g.Fixed)}
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
	return c, len(c.Series) > 0
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
