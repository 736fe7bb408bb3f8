package experiment

import (
	"testing"

	"github.com/dlnmf/dlnmf/separation"
)

// The settings beyond the paper are plain fields of the config: checked by
// Defaults, passed to every row's training, and zero for the paper's setup.
func TestBeyondSettings(t *testing.T) {
	for _, c := range []Config{{Context: 2}, {Context: -1}, {Sparsity: -1}, {MaskPower: -0.5}} {
		if _, err := c.Defaults(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	c, err := Config{Context: 5, Sparsity: 0.5, MaskPower: 2}.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	rp := &Repeat{cfg: c}
	s := rp.TrainSettings(Row{separation.DLNMF, []int{180, 20}}, 1)
	if s.Context != 5 || s.Sparsity != 0.5 || s.MaskPower != 2 {
		t.Errorf("training settings carry context %d, sparsity %v, mask power %v", s.Context, s.Sparsity, s.MaskPower)
	}
	if d, _ := (Config{}).Defaults(); d.Context != 0 || d.Sparsity != 0 || d.MaskPower != 0 {
		t.Errorf("the paper's config has context %d, sparsity %v, mask power %v; want all zero (its fingerprint unchanged)", d.Context, d.Sparsity, d.MaskPower)
	}
}

// Inference on bands is checked before any work: at least
// separation.MinBands, at most the model's bins, and not with deep
// unfolding; a coarse start on fewer bands than inference reads.
func TestBandsSettings(t *testing.T) {
	for _, c := range []Config{{Bands: -2}, {Bands: 1}, {Bands: 514}, {Bands: 128, Unfold: 10},
		{CoarseBands: 128, Bands: 128}, {CoarseIters: 50}, {CoarseBands: 32, Unfold: 10}, {CoarseBands: 32, CoarseIters: -1}} {
		if _, err := c.Defaults(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if d, err := (Config{Bands: 128}).Defaults(); err != nil || d.Bands != 128 {
		t.Errorf("128 bands: %v, bands %d", err, d.Bands)
	}
	if d, err := (Config{Bands: 128, CoarseBands: 32}).Defaults(); err != nil || d.CoarseBands != 32 {
		t.Errorf("128 bands from 32: %v, coarse bands %d", err, d.CoarseBands)
	}
}

// Deep unfolding is a plain field too, which a selection grid may vary.
func TestUnfoldSettings(t *testing.T) {
	for _, c := range []Config{{Unfold: -1}, {Unfold: 3, Untied: 4}, {Untied: 1}, {Unfold: 2, DeepEpochs: -1}} {
		if _, err := c.Defaults(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	grid, err := ParseGrid([]byte(`[{"method": ["nmf"], "k": [4]}, {"method": ["nmf"], "k": [4], "unfold": [10], "untied": [0, 2]}]`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Config{Select: &Selection{Grid: grid}}.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	points, err := c.SelectPoints()
	if err != nil {
		t.Fatal(err)
	}
	var deep []string
	for _, p := range points {
		pc, err := p.Config.Defaults()
		if err != nil {
			t.Fatal(err)
		}
		if pc.Unfold > 0 {
			s := pc.TrainSettings(pc.Rows()[0], 1, 1)
			if s.Unfold != pc.Unfold || s.Untied != pc.Untied || !pc.discriminative() {
				t.Errorf("%s: training settings unfold %d untied %d", p.Label, s.Unfold, s.Untied)
			}
			deep = append(deep, p.Label)
		}
	}
	t.Logf("deep points: %v", deep)
	if len(deep) != 2 {
		t.Errorf("deep points %v, want unfold=10 with untied 0 and 2", deep)
	}
}
