package experiment

import (
	"encoding/json"
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
