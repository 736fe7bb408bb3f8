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
