package bsseval

import (
	"fmt"
	"math"
)

// FramewiseResult holds framewise scores in dB, indexed [reference][frame]
// like mir_eval's bss_eval_sources_framewise. In a frame where some
// reference or estimate is silent, the scores are NaN and Perm is -1.
type FramewiseResult struct {
	SDR, SIR, SAR [][]float64
	Perm          [][]int
	// Window and Hop are the frame length and step in samples; when the
	// signals hold fewer than two frames, the whole signals were scored as
	// one frame, as mir_eval does, and Window is their length.
	Window, Hop int
}

// Frames returns the number of frames.
func (r *FramewiseResult) Frames() int {
	if len(r.SDR) == 0 {
		return 0
	}
	return len(r.SDR[0])
}

// SourcesFramewise computes Sources on frames of window samples every hop
// samples, as mir_eval.separation.bss_eval_sources_framewise: the whole
// signals are validated first; frames start at 0, hop, 2 hop, ... and only
// whole frames are scored; if that leaves fewer than two frames, the whole
// signals are scored as one frame. Frames are scored one at a time, so
// memory is bounded by the window, not the signal length.
func SourcesFramewise(refs, ests [][]float64, window, hop int, opt Options) (*FramewiseResult, error) {
	if window <= 0 || hop <= 0 {
		return nil, fmt.Errorf("bsseval: window (%d) and hop (%d) must be positive", window, hop)
	}
	flen := opt.filterLen()
	if err := checkSignals("reference", refs, flen); err != nil {
		return nil, err
	}
	if err := checkSignals("estimate", ests, flen); err != nil {
		return nil, err
	}
	if len(refs) != len(ests) {
		return nil, fmt.Errorf("bsseval: %d estimated sources for %d reference sources", len(ests), len(refs))
	}
	nsrc, n := len(refs), len(refs[0])
	if len(ests[0]) != n {
		return nil, fmt.Errorf("bsseval: estimates have %d samples, references %d: lengths must match", len(ests[0]), n)
	}
	nwin := 0
	if n-window+hop > 0 {
		nwin = (n - window + hop) / hop
	}
	if nwin < 2 {
		r, err := Sources(refs, ests, opt)
		if err != nil {
			return nil, err
		}
		out := newFramewise(nsrc, 1, n, hop)
		for i := 0; i < nsrc; i++ {
			out.SDR[i][0], out.SIR[i][0], out.SAR[i][0], out.Perm[i][0] = r.SDR[i], r.SIR[i], r.SAR[i], r.Perm[i]
		}
		return out, nil
	}
	if window < flen {
		return nil, fmt.Errorf("bsseval: window of %d samples is shorter than the %d-tap distortion filter", window, flen)
	}
	out := newFramewise(nsrc, nwin, window, hop)
	rs := make([][]float64, nsrc)
	es := make([][]float64, nsrc)
	for k := 0; k < nwin; k++ {
		silent := false
		for i := 0; i < nsrc; i++ {
			rs[i] = refs[i][k*hop : k*hop+window]
			es[i] = ests[i][k*hop : k*hop+window]
			silent = silent || isSilent(rs[i]) || isSilent(es[i])
		}
		if silent {
			for i := 0; i < nsrc; i++ {
				out.SDR[i][k], out.SIR[i][k], out.SAR[i][k], out.Perm[i][k] = math.NaN(), math.NaN(), math.NaN(), -1
			}
			continue
		}
		r, err := Sources(rs, es, opt)
		if err != nil {
			return nil, fmt.Errorf("frame %d (samples %d to %d): %w", k, k*hop, k*hop+window, err)
		}
		for i := 0; i < nsrc; i++ {
			out.SDR[i][k], out.SIR[i][k], out.SAR[i][k], out.Perm[i][k] = r.SDR[i], r.SIR[i], r.SAR[i], r.Perm[i]
		}
	}
	return out, nil
}

func newFramewise(nsrc, frames, window, hop int) *FramewiseResult {
	r := &FramewiseResult{Window: window, Hop: hop}
	r.SDR, r.SIR, r.SAR = make([][]float64, nsrc), make([][]float64, nsrc), make([][]float64, nsrc)
	r.Perm = make([][]int, nsrc)
	for i := 0; i < nsrc; i++ {
		r.SDR[i], r.SIR[i], r.SAR[i] = make([]float64, frames), make([]float64, frames), make([]float64, frames)
		r.Perm[i] = make([]int, frames)
	}
	return r
}

func isSilent(s []float64) bool {
	for _, v := range s {
		if v != 0 {
			return false
		}
	}
	return true
}
