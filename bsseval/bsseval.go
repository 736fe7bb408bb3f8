package bsseval

import (
	"errors"
	"fmt"
	"math"
)

// DefaultFilterLen is the length, in samples, of the time-invariant
// distortion filter that BSS Eval v3 allows (mir_eval's 512).
const DefaultFilterLen = 512

// MaxSources is the largest number of sources accepted, mir_eval's
// MAX_SOURCES. The Gram matrix has (nsrc*FilterLen)^2 entries, so large
// counts cost memory quadratically.
const MaxSources = 100

// Options selects how sources are scored. The zero value means a 512-tap
// filter and no permutation search (estimate i is scored against reference
// i).
type Options struct {
	// FilterLen is the number of taps of the allowed distortion filter;
	// 0 means DefaultFilterLen.
	FilterLen int
	// Permute searches the estimate-to-reference assignment that maximises
	// the mean SIR, as mir_eval's compute_permutation=True.
	Permute bool
}

func (o Options) filterLen() int {
	switch {
	case o.FilterLen == 0:
		return DefaultFilterLen
	case o.FilterLen < 0:
		panic(fmt.Sprintf("bsseval: negative filter length %d", o.FilterLen))
	}
	return o.FilterLen
}

// Result holds the scores of one evaluation, in dB, indexed by reference
// source: SDR[i], SIR[i] and SAR[i] score estimate Perm[i] against reference
// i. Without Options.Permute, Perm is the identity.
type Result struct {
	SDR, SIR, SAR []float64
	Perm          []int
}

// ErrSilent is wrapped by the errors for an all-zero reference or estimate:
// BSS Eval is undefined there (mir_eval refuses them too).
var ErrSilent = errors.New("silent (all zeros)")

// Sources computes BSS Eval v3 SDR, SIR and SAR of the estimates against the
// references, exactly as mir_eval.separation.bss_eval_sources (mir_eval 0.7)
// with compute_permutation=opt.Permute. See the package documentation for
// the edge cases.
func Sources(refs, ests [][]float64, opt Options) (*Result, error) {
	p, err := NewPlan(refs, opt)
	if err != nil {
		return nil, err
	}
	return p.Evaluate(ests)
}

// checkSignals validates one set of sources: non-empty, equal lengths of at
// least minLen samples, finite, and not silent.
func checkSignals(what string, sig [][]float64, minLen int) error {
	if len(sig) == 0 {
		return fmt.Errorf("bsseval: no %s sources", what)
	}
	if len(sig) > MaxSources {
		return fmt.Errorf("bsseval: %d %s sources, more than the maximum %d", len(sig), what, MaxSources)
	}
	n := len(sig[0])
	for i, s := range sig {
		if len(s) != n {
			return fmt.Errorf("bsseval: %s source %d has %d samples, source 0 has %d: all signals must have the same length", what, i, len(s), n)
		}
	}
	if n < minLen {
		return fmt.Errorf("bsseval: %s signals have %d samples, fewer than the %d-tap distortion filter", what, n, minLen)
	}
	for i, s := range sig {
		// Branch-free scan: v*0 is NaN exactly for a NaN or infinite v, and
		// the sum of |v| is zero only for a silent signal.
		var nonFinite, mag [4]float64
		t := 0
		for ; t+4 <= len(s); t += 4 {
			for j := range 4 {
				nonFinite[j] += s[t+j] * 0
				mag[j] += math.Abs(s[t+j])
			}
		}
		for ; t < len(s); t++ {
			nonFinite[0] += s[t] * 0
			mag[0] += math.Abs(s[t])
		}
		if math.IsNaN(nonFinite[0] + nonFinite[1] + nonFinite[2] + nonFinite[3]) {
			for t, v := range s {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("bsseval: %s source %d has a non-finite sample (%v) at index %d", what, i, v, t)
				}
			}
		}
		if mag[0]+mag[1]+mag[2]+mag[3] == 0 {
			return fmt.Errorf("bsseval: %s source %d is %w", what, i, ErrSilent)
		}
	}
	return nil
}

// safeDB is mir_eval's _safe_db: +Inf when the denominator is exactly zero.
func safeDB(num, den float64) float64 {
	if den == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(num/den)
}
