//go:build !cgo || noopenblas

package bsseval

// solve2 is solve for m = 2: in Go in this build (levinson2_cgo.go has the
// C kernel).
func (lv *levinson) solve2(x, d []float64, nrhs int) bool { return lv.solve2Go(x, d, nrhs) }
