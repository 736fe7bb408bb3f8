package separation

import (
	"flag"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dlnmf/dlnmf/internal/openblas"
	"github.com/dlnmf/dlnmf/nmf"
)

// BenchmarkLive200 pushes a 3-second 16 kHz mixture into a Live one hop
// (16 ms) at a time, as a microphone delivers it, with a two-speaker DL-NMF
// model (K1 = 180, K2 = 20) and 200 inference iterations per frame, on one
// core. Its x-realtime metric is how many such streams one core keeps up
// with.
func BenchmarkLive200(b *testing.B) { benchLive(b, 200) }

// BenchmarkLive50 is BenchmarkLive200 with 50 inference iterations.
func BenchmarkLive50(b *testing.B) { benchLive(b, 50) }

// BenchmarkLive20 is BenchmarkLive200 with 20 inference iterations, which
// lose little SDR on TSP test mixtures (docs/RESULTS.md, "Live separation").
func BenchmarkLive20(b *testing.B) { benchLive(b, 20) }

func benchLive(b *testing.B, iters int) { benchLiveWith(b, iters, 0) }

func benchLiveWith(b *testing.B, iters, free int) {
	benchLiveSeparator(b, liveBenchSeparator(b, iters, free))
}

// BenchmarkLiveDeep is BenchmarkLive200 with a deep-unfolded model of
// PresetValidated's shape at K = 100 (randomDeepModel: 2 x 100 bases of 5 x 513 rows,
// the last 2 layers untied), which runs exactly its N iterations per
// frame, one frame at a time and in batches of 8 (SeparateSettings.LiveBatch).
func BenchmarkLiveDeep(b *testing.B) {
	for _, n := range []int{8, 10, 25} {
		for _, batch := range []int{1, 8} {
			b.Run(fmt.Sprintf("N=%d/batch=%d", n, batch), func(b *testing.B) {
				benchLiveModel(b, randomDeepModel(n, 2), SeparateSettings{LiveBatch: batch})
			})
		}
	}
}

// BenchmarkLiveValidated is BenchmarkLive200 with models of
// PresetValidated's shape (no unfolding) at K = 100 and K = 400 bases per
// speaker, at the Live default, DefaultLiveIters iterations per frame, one
// frame at a time and in batches of 4, 8 and 16 frames; K = 400 also
// inferred on 128 mel-spaced bands (SeparateSettings.Bands), from a coarse
// start on 32, and with the step exponent 1.5 for DefaultLiveIters and 25
// iterations per batch (nmf.Settings.StepExponent).
func BenchmarkLiveValidated(b *testing.B) {
	for _, c := range []struct {
		k, bands, coarse, iters int
		step                    float64
	}{{100, 0, 0, 0, 0}, {400, 0, 0, 0, 0}, {400, 128, 0, 0, 0}, {400, 128, 32, 0, 0}, {400, 128, 0, DefaultLiveIters, 1.5}, {400, 128, 0, 25, 1.5}} {
		m := randomPatchModel(c.k, 0, 0)
		for _, batch := range []int{1, 4, 8, 16} {
			name := fmt.Sprintf("K=%d/bands=%d", c.k, c.bands)
			if c.coarse > 0 {
				name += fmt.Sprintf("/coarse=%d", c.coarse)
			}
			if c.step > 0 {
				name += fmt.Sprintf("/step=%g/iters=%d", c.step, c.iters)
			}
			name += fmt.Sprintf("/batch=%d", batch)
			s := SeparateSettings{LiveBatch: batch, Bands: c.bands, CoarseBands: c.coarse, NMF: nmf.Settings{MaxIter: c.iters, StepExponent: c.step}}
			b.Run(name, func(b *testing.B) { benchLiveModel(b, m, s) })
		}
	}
}

// benchLiveModel runs BenchmarkLive200's stream through m with s on one
// worker (0 iterations: the default).
func benchLiveModel(b *testing.B, m *Model, s SeparateSettings) {
	s.NMF.Workers = 1
	sep, err := NewSeparator(m, s)
	if err != nil {
		b.Fatal(err)
	}
	benchLiveSeparator(b, sep)
}

// benchLiveSeparator runs BenchmarkLive200's stream through sep.
func benchLiveSeparator(b *testing.B, sep *Separator) {
	defer openblas.HoldSingle()()
	x := mixOf(synthVoice(lowNotes, 3, 1), synthVoice(highNotes, 3, 2))
	hop := sep.st.Hop
	sink := func(int, []float64) error { return nil }
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuSeconds()
	for range b.N {
		l, err := sep.NewLive()
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(x); i += hop {
			if err := l.Push(x[i:min(i+hop, len(x))], sink); err != nil {
				b.Fatal(err)
			}
		}
		if err := l.Finish(sink); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(3/(b.Elapsed().Seconds()/float64(b.N)), "x-realtime")
	// CPU time: on a loaded machine wall time says little about one core.
	b.ReportMetric(3/((cpuSeconds()-cpu)/float64(b.N)), "x-realtime-cpu")
}

func liveBenchSeparator(b *testing.B, iters, free int) *Separator {
	m := randomModel(DLNMF, []int{180, 20})
	sep, err := NewSeparator(m, SeparateSettings{Free: free, NMF: nmf.Settings{MaxIter: iters, Tol: -1, Workers: 1}})
	if err != nil {
		b.Fatal(err)
	}
	return sep
}

// BenchmarkLivePaced feeds 3 s of mixture in 16 ms chunks at real-time pace
// (each chunk is pushed when its last sample would have arrived) and
// measures, for every chunk, the compute delay: from its arrival to the
// output of the samples it completes. It reports the median and the 99th
// percentile in ms (run with -benchtime 1x; scripts/bench-live.sh does).
// The algorithmic latency, Latency() samples, comes on top.
func BenchmarkLivePaced(b *testing.B) {
	defer openblas.HoldSingle()()
	sep := liveBenchSeparator(b, 200, 0)
	x := mixOf(synthVoice(lowNotes, 3, 1), synthVoice(highNotes, 3, 2))
	hop := sep.st.Hop
	rate := float64(sep.model.SampleRate)
	var delays []float64
	for range b.N {
		l, err := sep.NewLive()
		if err != nil {
			b.Fatal(err)
		}
		var pushed time.Time
		sink := func(s int, y []float64) error {
			if s == len(sep.Sources())-1 {
				delays = append(delays, float64(time.Since(pushed))/1e6)
			}
			return nil
		}
		start := time.Now()
		for i := 0; i < len(x); i += hop {
			end := min(i+hop, len(x))
			due := start.Add(time.Duration(float64(end) / rate * float64(time.Second)))
			time.Sleep(time.Until(due))
			pushed = time.Now()
			if err := l.Push(x[i:end], sink); err != nil {
				b.Fatal(err)
			}
		}
		if err := l.Finish(sink); err != nil {
			b.Fatal(err)
		}
	}
	slices.Sort(delays)
	b.ReportMetric(delays[len(delays)/2], "p50-ms")
	b.ReportMetric(delays[len(delays)*99/100], "p99-ms")
	b.ReportMetric(float64(sep.NewLiveLatency())/rate*1000, "latency-ms")
}

// benchFree is the number of free bases of BenchmarkLiveFree200 and
// BenchmarkLiveFree20 (scripts/bench-live.sh passes FREE as -live.free).
var benchFree = flag.Int("live.free", 20, "free bases of BenchmarkLiveFree*")

// BenchmarkLiveFree200 is BenchmarkLive200 with -live.free free bases
// learned online (the default OnlineFree: a 2 s buffer, updated every 4
// frames): its x-realtime against BenchmarkLive200's is the cost of
// learning them as the stream goes.
func BenchmarkLiveFree200(b *testing.B) { benchLiveWith(b, 200, *benchFree) }

// BenchmarkLiveFree20 is BenchmarkLiveFree200 with 20 inference iterations.
func BenchmarkLiveFree20(b *testing.B) { benchLiveWith(b, 20, *benchFree) }
