// Command livefreesdr measures free bases learned online (separate --live
// --free) against free bases learned on the whole mixture (separate
// --free) on TSP: a one-speaker NMF model of FA (K = 20, trained on FA's
// first 40 sentences; cached in -model) and FA's sentences 50, 51, ...
// mixed at 0 dB with each noise (segments 5 s apart; scripts/make-noise.sh
// makes the noises). The live separation is the library's Live fed one
// hop at a time, as dlnmf separate --live runs it; it prints FA's SDR per
// mixture and the means.
//
//	scripts/make-noise.sh /tmp/dlnmf-noise
//	go run ./scripts/livefreesdr -n 3
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/stft"
	"github.com/dlnmf/dlnmf/wav"
)

const rate = 16000

type options struct {
	tsp, noiseDir, noises, model string
	free, iters, n               int
	online                       separation.OnlineFree
}

func main() {
	var o options
	flag.StringVar(&o.tsp, "tsp", "../shared/corpus/tsp", "TSP corpus folder (FA inside)")
	flag.StringVar(&o.noiseDir, "noise", "/tmp/dlnmf-noise", "folder of the noises (scripts/make-noise.sh)")
	flag.StringVar(&o.noises, "noises", "white,pink", "comma-separated noises")
	flag.StringVar(&o.model, "model", "/tmp/livefreesdr-fa.npz", "the FA model: read if present, else trained and written")
	flag.IntVar(&o.free, "free", 20, "free bases")
	flag.IntVar(&o.iters, "iters", 200, "inference iterations")
	flag.IntVar(&o.n, "n", 3, "mixtures per noise")
	flag.Float64Var(&o.online.Buffer, "buffer", 0, "live: buffer in seconds (0: the default)")
	flag.IntVar(&o.online.Every, "every", 0, "live: frames between updates (0: the default)")
	flag.IntVar(&o.online.Updates, "updates", 0, "live: updates each time (0: the default)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "livefreesdr:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	fa, err := corpus.LoadDir("FA", filepath.Join(o.tsp, "FA"), rate)
	if err != nil {
		return err
	}
	if len(fa.Utterances) < 50+o.n {
		return fmt.Errorf("FA has %d sentences: want %d", len(fa.Utterances), 50+o.n)
	}
	m, err := separation.ReadFile(o.model)
	if err != nil {
		var data [][]float64
		for _, u := range fa.Utterances[:40] {
			data = append(data, u.Samples)
		}
		m, _, err = separation.Train(context.Background(), []separation.SpeakerData{{Name: "FA", Utterances: data}}, nil,
			separation.TrainSettings{Method: separation.NMF, Sizes: []int{20}, NMF: nmf.Settings{MaxIter: 200}})
		if err != nil {
			return err
		}
		if err := m.WriteFile(o.model); err != nil {
			return err
		}
	}
	sep, err := separation.NewSeparator(m, separation.SeparateSettings{Free: o.free, NMF: nmf.Settings{MaxIter: o.iters, Workers: 1}, Online: o.online})
	if err != nil {
		return err
	}
	var sumMix, sumLive, sumOff float64
	count := 0
	fmt.Printf("free %d, iters %d, online %+v (zero: defaults)\n", o.free, o.iters, o.online)
	fmt.Println("mixture          mixture SDR  live  offline (FA's SDR, dB)")
	for _, noise := range strings.Split(o.noises, ",") {
		a, err := wav.ReadFile(filepath.Join(o.noiseDir, noise+".wav"))
		if err != nil {
			return err
		}
		nz := a.Mono()
		for j := range o.n {
			u := fa.Utterances[50+j]
			off := j * 5 * rate
			if off+len(u.Samples) > len(nz) {
				return fmt.Errorf("the %s noise is too short", noise)
			}
			mix, refs, err := corpus.Mix([][]float64{u.Samples, nz[off : off+len(u.Samples)]}, 0)
			if err != nil {
				return err
			}
			live, err := separateLive(sep, mix)
			if err != nil {
				return err
			}
			offline, err := sep.Separate(mix)
			if err != nil {
				return err
			}
			// The mixture's SDR: FA's energy over the noise's (0 dB by
			// construction).
			var ev, en float64
			for i := range mix {
				ev += refs[0][i] * refs[0][i]
				en += refs[1][i] * refs[1][i]
			}
			sdrLive, err := sdr(refs, live)
			if err != nil {
				return err
			}
			sdrOff, err := sdr(refs, offline)
			if err != nil {
				return err
			}
			sdrMix := 10 * math.Log10(ev/en)
			fmt.Printf("FA%02d+%-10s %8.2f  %6.2f  %6.2f\n", 50+j, noise, sdrMix, sdrLive, sdrOff)
			sumMix += sdrMix
			sumLive += sdrLive
			sumOff += sdrOff
			count++
		}
	}
	c := float64(count)
	fmt.Printf("mean of %d       %8.2f  %6.2f  %6.2f\n", count, sumMix/c, sumLive/c, sumOff/c)
	return nil
}

// separateLive pushes mix into a Live one hop at a time.
func separateLive(sep *separation.Separator, mix []float64) ([][]float64, error) {
	l, err := sep.NewLive()
	if err != nil {
		return nil, err
	}
	est := make([][]float64, len(sep.Sources()))
	sink := func(s int, y []float64) error {
		est[s] = append(est[s], y...)
		return nil
	}
	plan, err := stft.NewPlan(sep.Model().STFT)
	if err != nil {
		return nil, err
	}
	hop := plan.Settings().Hop
	for i := 0; i < len(mix); i += hop {
		if err := l.Push(mix[i:min(i+hop, len(mix))], sink); err != nil {
			return nil, err
		}
	}
	return est, l.Finish(sink)
}

// sdr returns the SDR of est[0] against refs[0], the references being
// refs (BSS Eval, as mir_eval).
func sdr(refs, est [][]float64) (float64, error) {
	r, err := bsseval.Sources(refs, est, bsseval.Options{})
	if err != nil {
		return 0, err
	}
	return r.SDR[0], nil
}
