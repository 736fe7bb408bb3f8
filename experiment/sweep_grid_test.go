package experiment

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/dlnmf/dlnmf/separation"
)

// TestExpandGridKeepsPointsApart: every point of a grid keeps its own
// method and sizes when the prototype (the command line of --select) has
// its own: decoding a point into a shallow copy once wrote every point's
// method into one shared backing array, so that every point became the
// last one's DL-NMF.
func TestExpandGridKeepsPointsApart(t *testing.T) {
	beta := 1.0
	proto := Config{Methods: []separation.Method{separation.DLNMF}, Layers: [][]int{{180, 20}}, K: []int{20}, Beta: &beta}
	var grid []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(`[{"method": ["nmf"], "k": [100], "beta": [2]}, {"method": ["dlnmf"], "layers": [[60, 10]]}, {"method": ["lnmf"], "layers": [[90, 30]], "beta": [0.5]}]`), &grid); err != nil {
		t.Fatal(err)
	}
	points, err := ExpandGrid(proto, grid)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"NMF K=100", "DL-NMF 60,10", "L-NMF 90,30"}
	wantBeta := []float64{2, 1, 0.5}
	for i, p := range points {
		d, err := p.Config.Defaults()
		if err != nil {
			t.Fatal(err)
		}
		if rows := d.Rows(); len(rows) != 1 || rows[0].Label() != want[i] || *d.Beta != wantBeta[i] {
			t.Errorf("point %d (%s): rows %v, beta %g; want %s, beta %g", i, p.Label, rows, *d.Beta, want[i], wantBeta[i])
		}
	}
	if proto.Methods[0] != separation.DLNMF || proto.Layers[0][0] != 180 || proto.K[0] != 20 || beta != 1 {
		t.Errorf("the prototype changed: %+v, beta %g", proto, beta)
	}
}

// TestCommittedGridsExpand: every selection grid in docs/sweeps expands,
// and each of its points is a valid configuration of one row, so a grid
// written down before its run does not fail only when the run starts.
func TestCommittedGridsExpand(t *testing.T) {
	files, err := filepath.Glob("../docs/sweeps/*-grid.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no grids in docs/sweeps: %v", err)
	}
	for _, f := range files {
		grid, err := ReadGrid(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		points, err := ExpandGrid(Config{}, grid)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for _, p := range points {
			d, err := p.Config.Defaults()
			if err != nil {
				t.Errorf("%s, %s: %v", f, p.Label, err)
			} else if len(d.Rows()) != 1 {
				t.Errorf("%s, %s: %d rows, want 1", f, p.Label, len(d.Rows()))
			}
		}
	}
}
