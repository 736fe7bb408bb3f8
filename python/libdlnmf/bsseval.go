package main

/*
#include <stdint.h>
*/
import "C"

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/dlnmf/dlnmf/bsseval"
)

// dlnmf_bss_eval_sources scores nsrc estimates against nsrc references of n
// samples each (row-major) as bsseval.Sources; sdr, sir, sar and perm hold
// nsrc values each. filterLen 0 is bsseval.DefaultFilterLen.
//
//export dlnmf_bss_eval_sources
func dlnmf_bss_eval_sources(refs, ests *C.double, nsrc, n C.int64_t, permute C.int, filterLen C.int64_t,
	sdr, sir, sar *C.double, perm *C.int64_t) *C.char {
	return call(func() error {
		rs, es, opt, err := sources(refs, ests, nsrc, n, permute, filterLen)
		if err != nil {
			return err
		}
		ns := len(rs)
		r, err := bsseval.Sources(rs, es, opt)
		if err != nil {
			return err
		}
		copy(doubles(sdr, ns), r.SDR)
		copy(doubles(sir, ns), r.SIR)
		copy(doubles(sar, ns), r.SAR)
		p := unsafe.Slice((*int64)(unsafe.Pointer(perm)), ns)
		for i, v := range r.Perm {
			p[i] = int64(v)
		}
		return nil
	})
}

// dlnmf_bss_eval_sources_framewise scores frames of window samples every hop
// as bsseval.SourcesFramewise. It sets *frames and *out to 4 * nsrc * frames
// doubles (malloc'ed): SDR, SIR, SAR and the permutation (NaN in a silent
// frame), each nsrc x frames.
//
//export dlnmf_bss_eval_sources_framewise
func dlnmf_bss_eval_sources_framewise(refs, ests *C.double, nsrc, n, window, hop C.int64_t, permute C.int, filterLen C.int64_t,
	frames *C.int64_t, out **C.double) *C.char {
	return call(func() error {
		rs, es, opt, err := sources(refs, ests, nsrc, n, permute, filterLen)
		if err != nil {
			return err
		}
		ns := len(rs)
		r, err := bsseval.SourcesFramewise(rs, es, int(window), int(hop), opt)
		if err != nil {
			return err
		}
		nf := r.Frames()
		all := make([]float64, 0, 4*ns*nf)
		for _, m := range [][][]float64{r.SDR, r.SIR, r.SAR} {
			for _, row := range m {
				all = append(all, row...)
			}
		}
		for _, row := range r.Perm {
			for _, p := range row {
				if p < 0 {
					all = append(all, math.NaN())
				} else {
					all = append(all, float64(p))
				}
			}
		}
		*frames, *out = C.int64_t(nf), mallocDoubles(all)
		return nil
	})
}

// dlnmf_si_sdr writes to sdr the SI-SDR of each of nsrc estimates against
// its reference (bsseval.SISDR), n samples each.
//
//export dlnmf_si_sdr
func dlnmf_si_sdr(refs, ests *C.double, nsrc, n C.int64_t, zeroMean C.int, sdr *C.double) *C.char {
	return call(func() error {
		if err := checkSize(nsrc, n, 2); err != nil {
			return err
		}
		ns, nn := int(nsrc), int(n)
		rs, es, out := rows(refs, ns, nn), rows(ests, ns, nn), doubles(sdr, ns)
		for i := range rs {
			v, err := bsseval.SISDR(rs[i], es[i], zeroMean != 0)
			if err != nil {
				return err
			}
			out[i] = v
		}
		return nil
	})
}

// sources views the references and estimates (nsrc x n each) and makes the
// options of a BSS Eval call.
func sources(refs, ests *C.double, nsrc, n C.int64_t, permute C.int, filterLen C.int64_t) (rs, es [][]float64, opt bsseval.Options, err error) {
	if err := checkSize(nsrc, n, 2); err != nil {
		return nil, nil, opt, err
	}
	if filterLen < 0 {
		return nil, nil, opt, fmt.Errorf("bsseval: negative filter length %d", filterLen)
	}
	ns, nn := int(nsrc), int(n)
	return rows(refs, ns, nn), rows(ests, ns, nn), bsseval.Options{Permute: permute != 0, FilterLen: int(filterLen)}, nil
}
