package main

/*
#include <stdint.h>
#include <stdlib.h>
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime/cgo"
	"strings"
	"sync"
	"unsafe"

	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// separateRequest is what dlnmf_separator_new reads from its JSON argument:
// the settings of dlnmf separate under its flags' names; a missing or zero
// field is the library's default, as there.
type separateRequest struct {
	Iters           int     `json:"iters"`
	Tol             float64 `json:"tol"`
	Free            int     `json:"free"`
	FreeInit        string  `json:"free_init"`
	UniversalWeight float64 `json:"universal_weight"`
	MaskPower       float64 `json:"mask_power"`
	// The online learning of free bases in a stream (--free-buffer,
	// --free-every, --free-updates).
	FreeBuffer  float64 `json:"free_buffer"`
	FreeEvery   int     `json:"free_every"`
	FreeUpdates int     `json:"free_updates"`
	// Frames a stream infers together (--live-batch).
	LiveBatch int `json:"live_batch"`
	// Mel-spaced bands the activations are inferred on (--bands), and the
	// coarse start's bands and iterations (--coarse-bands, --coarse-iters).
	Bands       int `json:"bands"`
	CoarseBands int `json:"coarse_bands"`
	CoarseIters int `json:"coarse_iters"`
	// The exponent of the activations' multiplicative steps (--step-exponent).
	StepExponent float64 `json:"step_exponent"`
}

func (r separateRequest) settings() (recording.Settings, error) {
	if r.Iters < 0 || r.Free < 0 || r.FreeEvery < 0 || r.FreeUpdates < 0 || r.FreeBuffer < 0 || r.UniversalWeight < 0 {
		return recording.Settings{}, errors.New("iters, free, free_buffer, free_every, free_updates and universal_weight must not be negative")
	}
	var start nmf.FreeStart
	if r.FreeInit != "" {
		var err error
		if start, err = nmf.ParseFreeStart(r.FreeInit); err != nil {
			return recording.Settings{}, err
		}
	}
	if r.MaskPower != 0 {
		if err := separation.CheckMaskPower(r.MaskPower); err != nil {
			return recording.Settings{}, err
		}
	}
	return recording.Settings{Separation: separation.SeparateSettings{
		NMF:  nmf.Settings{MaxIter: r.Iters, Tol: r.Tol, FreeStart: start, StepExponent: r.StepExponent},
		Free: r.Free, UniversalWeight: r.UniversalWeight, MaskPower: r.MaskPower,
		Online:    separation.OnlineFree{Buffer: r.FreeBuffer, Every: r.FreeEvery, Updates: r.FreeUpdates},
		LiveBatch: r.LiveBatch, Bands: r.Bands, CoarseBands: r.CoarseBands, CoarseIters: r.CoarseIters,
	}}, nil
}

// dlnmf_separator_new prepares the model behind handle model for
// separating recordings with the settings in JSON (separateRequest), as
// recording.New, and sets *handle and *sources (the sources' names, one a
// line, malloc'ed).
//
//export dlnmf_separator_new
func dlnmf_separator_new(model C.uintptr_t, settings *C.char, handle *C.uintptr_t, sources **C.char) *C.char {
	return call(func() error {
		m, err := modelOf(model)
		if err != nil {
			return err
		}
		var req separateRequest
		if err := json.Unmarshal([]byte(C.GoString(settings)), &req); err != nil {
			return fmt.Errorf("separate settings: %w", err)
		}
		s, err := req.settings()
		if err != nil {
			return err
		}
		sp, err := recording.New(m, s)
		if err != nil {
			return err
		}
		*handle, *sources = C.uintptr_t(cgo.NewHandle(sp)), C.CString(strings.Join(sp.Sources(), "\n"))
		return nil
	})
}

// dlnmf_separate separates a recording of nch channels of n samples
// (row-major) at rate Hz, as recording.Separator.Separate, and writes each
// source's estimate (n samples at rate) to out, nsrc x n, in the order of
// the separator's sources.
//
//export dlnmf_separate
func dlnmf_separate(separator C.uintptr_t, channels *C.double, nch, n, rate C.int64_t, out *C.double) *C.char {
	return call(func() error {
		sp, err := handleValue[*recording.Separator](separator, "separator")
		if err != nil {
			return err
		}
		if err := checkSize(nch, n); err != nil {
			return err
		}
		est, err := sp.Separate(rows(channels, int(nch), int(n)), int(rate))
		if err != nil {
			return err
		}
		dst := doubles(out, len(est)*int(n))
		for i, y := range est {
			if len(y) != int(n) {
				return fmt.Errorf("internal error: estimate of %d samples for %d", len(y), n)
			}
			copy(dst[i*int(n):], y)
		}
		return nil
	})
}

// stream is a recording.Live behind a lock: a Live is not safe for
// concurrent use, and Python threads may share one.
type stream struct {
	mu      sync.Mutex
	live    *recording.Live
	sources int
}

// dlnmf_stream_new starts a stream at rate Hz with the separator behind
// handle separator (recording.Separator.NewLive) and sets *handle, the
// estimates' rate and the latency in samples at that rate.
//
//export dlnmf_stream_new
func dlnmf_stream_new(separator C.uintptr_t, rate C.int64_t, handle *C.uintptr_t, outRate, latency *C.int64_t) *C.char {
	return call(func() error {
		sp, err := handleValue[*recording.Separator](separator, "separator")
		if err != nil {
			return err
		}
		live, err := sp.NewLive(int(rate))
		if err != nil {
			return err
		}
		*handle = C.uintptr_t(cgo.NewHandle(&stream{live: live, sources: len(sp.Sources())}))
		*outRate, *latency = C.int64_t(live.Rate()), C.int64_t(live.LatencySamples())
		return nil
	})
}

// dlnmf_stream_push adds n samples of nch channels (row-major; down-mixed
// as wav.Audio.Mono) to the stream, or ends it when finish is not 0 (then
// n must be 0), and returns every estimate sample that became final:
// counts[s] samples of source s, one after the other in *out (malloc'ed;
// nothing on an error).
//
//export dlnmf_stream_push
func dlnmf_stream_push(handle C.uintptr_t, channels *C.double, nch, n C.int64_t, finish C.int, counts *C.int64_t, out **C.double) *C.char {
	return call(func() error {
		st, err := handleValue[*stream](handle, "stream")
		if err != nil {
			return err
		}
		if err := checkSize(nch, n); err != nil {
			return err
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		got := make([][]float64, st.sources)
		sink := func(s int, y []float64) error {
			got[s] = append(got[s], y...)
			return nil
		}
		if finish != 0 {
			err = st.live.Finish(sink)
		} else if n > 0 {
			x := (&wav.Audio{Channels: rows(channels, int(nch), int(n))}).Mono()
			// A silent chunk is fine in a stream; a NaN is not.
			if err := separation.CheckSamples(x); err != nil && !errors.Is(err, separation.ErrSilent) {
				return err
			}
			err = st.live.Push(x, sink)
		}
		if err != nil {
			return err
		}
		c := unsafe.Slice((*int64)(unsafe.Pointer(counts)), st.sources)
		var all []float64
		for s, y := range got {
			c[s] = int64(len(y))
			all = append(all, y...)
		}
		*out = mallocDoubles(all)
		return nil
	})
}
