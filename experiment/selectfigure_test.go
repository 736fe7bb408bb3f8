package experiment

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSelectionFigure: a selection whose grid points differ in their
// inference iterations gets a figure of each point's mean validation SDR
// against them, one line per group of points equal in their other
// settings, a lone point for a group of one; WriteFiles draws it and
// results.md shows it; a grid without a group of two gets none.
func TestSelectionFigure(t *testing.T) {
	cfg := selectConfig(t, `[{"step_exponent": [0], "infer_iters": [200, 50]}, {"step_exponent": [1.5], "infer_iters": [100, 50, 25]}, {"k": [6]}]`)
	cfg, err := cfg.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	res := &Results{Config: cfg, Speakers: []string{"a", "b"}}
	for r, sdrs := range [][]float64{{9, 8, 9.5, 9, 8.5, 7}, {10, 9, 10.5, 10, 9.5, 8}} {
		sel := SelectionRepeat{Repeat: r + 1, Chosen: 2}
		for _, v := range sdrs {
			sel.Points = append(sel.Points, ValidationScore{SDR: Number(v)})
		}
		res.Selection = append(res.Selection, sel)
	}
	c, ok := selectionFigure(res)
	if !ok || len(c.Series) != 2 {
		t.Fatalf("figure %v (%+v), want two lines", ok, c)
	}
	for i, want := range []struct{ x, y []float64 }{{[]float64{50, 200}, []float64{8.5, 9.5}}, {[]float64{25, 50, 100}, []float64{9, 9.5, 10}}} {
		s := c.Series[i]
		if !slices.Equal(s.X, want.x) || !slices.Equal(s.Y, want.y) || s.Name != []string{"step_exponent=0", "step_exponent=1.5"}[i] {
			t.Errorf("line %d (%s): %v against %v, want %v against %v", i, s.Name, s.Y, s.X, want.y, want.x)
		}
	}
	dir := t.TempDir()
	if err := WriteFiles(dir, res, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(selectionFigurePath))); err != nil || fi.Size() == 0 {
		t.Fatalf("the figure was not written: %v", err)
	}
	if md, _ := os.ReadFile(filepath.Join(dir, "results.md")); !strings.Contains(string(md), "]("+selectionFigurePath+")") {
		t.Error("results.md does not show the figure")
	}

	// A point alone at its count is drawn as a point, named by what the
	// line's points add; a lone line has no name.
	res.Config = mustDefaults(t, selectConfig(t, `[{"infer_iters": [100]}, {"infer_iters": [100, 50], "deep_epochs": [3], "reconstruction_bases": [true]}]`))
	res.Selection = []SelectionRepeat{{Repeat: 1, Points: []ValidationScore{{SDR: 9}, {SDR: 10}, {SDR: 9.5}}}}
	c, ok = selectionFigure(res)
	if !ok || len(c.Series) != 2 {
		t.Fatalf("figure %v (%+v), want a point and a line", ok, c)
	}
	for i, want := range []struct {
		name string
		x, y []float64
	}{{"without deep_epochs, reconstruction_bases", []float64{100}, []float64{9}}, {"deep_epochs=3 reconstruction_bases=true", []float64{50, 100}, []float64{9.5, 10}}} {
		if s := c.Series[i]; s.Name != want.name || !slices.Equal(s.X, want.x) || !slices.Equal(s.Y, want.y) {
			t.Errorf("series %d %q: %v against %v, want %q: %v against %v", i, s.Name, s.Y, s.X, want.name, want.y, want.x)
		}
	}
	// Points scored as a stream are drawn against their live_iters.
	res.Config = mustDefaults(t, selectConfig(t, `[{"live_iters": [50]}, {"live_iters": [50, 25], "live_step_exponent": [1.5]}]`))
	c, ok = selectionFigure(res)
	if !ok || len(c.Series) != 2 || !strings.HasPrefix(c.XLabel, "live") || c.Series[0].Name != "without live_step_exponent" || !slices.Equal(c.Series[1].X, []float64{25, 50}) {
		t.Errorf("live points: %v %+v", ok, c)
	}
	res.Config = mustDefaults(t, selectConfig(t, `{"infer_iters": [100, 50]}`))
	if c, ok = selectionFigure(res); !ok || len(c.Series) != 1 || c.Series[0].Name != "" {
		t.Errorf("one line: %v %+v, want it without a name", ok, c)
	}

	res.Config = mustDefaults(t, selectConfig(t, `{"bands": [0, 16], "k": [4]}`))
	if _, ok := selectionFigure(res); ok {
		t.Error("a grid without inference iterations got a figure")
	}
}
