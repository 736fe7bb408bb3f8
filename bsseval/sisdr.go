package bsseval

import (
	"fmt"
	"math"
)

// SISDR returns the scale-invariant signal-to-distortion ratio of est
// against ref in dB (Le Roux, Wisdom, Erdogan and Hershey, "SDR - half-baked
// or well done?", ICASSP 2019, eqs. 1-2):
//
//	alpha = <est, ref> / |ref|^2,  SI-SDR = 10 log10(|alpha ref|^2 / |alpha ref - est|^2).
//
// With zeroMean, both signals have their mean removed first, as in the
// paper's experiments (and asteroid, torchmetrics); without it they are used
// as given. A perfect estimate gives +Inf. Different lengths, empty or
// non-finite signals and a silent reference or estimate (after mean removal
// when zeroMean) are errors.
func SISDR(ref, est []float64, zeroMean bool) (float64, error) {
	if len(ref) != len(est) {
		return 0, fmt.Errorf("bsseval: SI-SDR of signals of different lengths (%d and %d)", len(ref), len(est))
	}
	if len(ref) == 0 {
		return 0, fmt.Errorf("bsseval: SI-SDR of empty signals")
	}
	var mr, me float64
	for t := range ref {
		if math.IsNaN(ref[t]) || math.IsInf(ref[t], 0) || math.IsNaN(est[t]) || math.IsInf(est[t], 0) {
			return 0, fmt.Errorf("bsseval: SI-SDR: non-finite sample at index %d", t)
		}
		mr += ref[t]
		me += est[t]
	}
	if zeroMean {
		mr /= float64(len(ref))
		me /= float64(len(est))
	} else {
		mr, me = 0, 0
	}
	var rr, re, ee float64
	for t := range ref {
		r, e := ref[t]-mr, est[t]-me
		rr += r * r
		re += r * e
		ee += e * e
	}
	if rr == 0 {
		return 0, fmt.Errorf("bsseval: SI-SDR: reference is %w", ErrSilent)
	}
	if ee == 0 {
		return 0, fmt.Errorf("bsseval: SI-SDR: estimate is %w", ErrSilent)
	}
	alpha := re / rr
	// Residual energy measured directly (not as |est|^2 - alpha <est,ref>)
	// so that good estimates do not lose digits to cancellation.
	var tt, nn float64
	for t := range ref {
		s := alpha * (ref[t] - mr)
		d := s - (est[t] - me)
		tt += s * s
		nn += d * d
	}
	return safeDB(tt, nn), nil
}
