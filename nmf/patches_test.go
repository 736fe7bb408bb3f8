package nmf

import (
	"math"
	"testing"
)

// Unfold stacks the frames around each frame, the edges repeated; Fold
// averages the copies of each frame back, so Fold(Unfold(X)) is X; and
// Fold averages the different values that patches hold for a frame.
func TestPatches(t *testing.T) {
	X := randDense[float64](4, 7, 0, 1)
	for _, w := range []int{1, 3, 5, 15} {
		P := Unfold(nil, X, w)
		if P.Rows != 4*w || P.Cols != 7 {
			t.Fatalf("w %d: patches %dx%d", w, P.Rows, P.Cols)
		}
		c := (w - 1) / 2
		for tau := 0; tau < w; tau++ {
			for m := 0; m < 4; m++ {
				for j := 0; j < 7; j++ {
					src := min(max(j+tau-c, 0), 6)
					if P.At(tau*4+m, j) != X.At(m, src) {
						t.Fatalf("w %d: patch row %d col %d = %v, want X(%d, %d)", w, tau*4+m, j, P.At(tau*4+m, j), m, src)
					}
				}
			}
		}
		back := Fold(nil, P, w)
		if d := maxRelDiff(toRows(X), back); d > 1e-15 {
			t.Errorf("w %d: Fold(Unfold(X)) differs from X by %g", w, d)
		}
	}
	// Frame 1 of a 3-frame signal with w = 3 is held by columns 0 (tau 2),
	// 1 (tau 1) and 2 (tau 0).
	P := NewDense[float64](3, 3, []float64{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	})
	got := Fold(nil, P, 3)
	want := []float64{(2 + 4) / 2.0, (3 + 5 + 7) / 3.0, (6 + 8) / 2.0}
	for j, v := range want {
		if math.Abs(got.At(0, j)-v) > 1e-15 {
			t.Errorf("frame %d folds to %v, want %v", j, got.At(0, j), v)
		}
	}
}
