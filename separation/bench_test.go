package separation

import (
	"math/rand/v2"
	"testing"

	"github.com/dlnmf/dlnmf/internal/openblas"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/stft"
)

// randomModel returns a two-speaker layered model with the paper's sizes
// and random non-negative layers: separation costs the same whatever the
// values.
func randomModel(method Method, sizes []int) *Model {
	rng := rand.New(rand.NewPCG(1, 2))
	m := &Model{Method: method, SampleRate: 16000}
	for _, name := range []string{"a", "b"} {
		sp := Speaker{Name: name}
		rows := 513
		for _, k := range sizes {
			w := nmf.NewDense[float32](rows, k, nil)
			for i := range w.Data {
				w.Data[i] = rng.Float32()
			}
			sp.Layers = append(sp.Layers, w)
			rows = k
		}
		m.Speakers = append(m.Speakers, sp)
	}
	return m
}

// BenchmarkSeparate3s separates a 3-second 16 kHz mixture with a
// two-speaker DL-NMF model (K1 = 180, K2 = 20), from decoded samples to
// output samples, with 200 inference iterations, on one core.
func BenchmarkSeparate3s(b *testing.B) { benchSeparate3s(b, 0, 200, nmf.FreeRandom) }

// BenchmarkSeparateFree3s is BenchmarkSeparate3s with 20 free bases
// learned on the mixture (semi-supervised, a third source) at the free
// bases' default inference (DefaultFreeIters from DefaultFreeStart).
func BenchmarkSeparateFree3s(b *testing.B) { benchSeparate3s(b, 20, 0, DefaultFreeStart) }

// BenchmarkSeparateFree3s200 is BenchmarkSeparateFree3s at the supervised
// default of 200 iterations (random start): the cost of one joint
// iteration against BenchmarkSeparate3s's.
func BenchmarkSeparateFree3s200(b *testing.B) { benchSeparate3s(b, 20, 200, nmf.FreeRandom) }

// benchSeparate3s runs the benchmarks above: iters 0 is the default.
func benchSeparate3s(b *testing.B, free, iters int, start nmf.FreeStart) {
	defer openblas.HoldSingle()()
	m := randomModel(DLNMF, []int{180, 20})
	sep, err := NewSeparator(m, SeparateSettings{Free: free, NMF: nmf.Settings{MaxIter: iters, Tol: -1, Workers: 1, FreeStart: start}})
	if err != nil {
		b.Fatal(err)
	}
	x := mixOf(synthVoice(lowNotes, 3, 1), synthVoice(highNotes, 3, 2))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuSeconds()
	for range b.N {
		if _, err := sep.Separate(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(3/(b.Elapsed().Seconds()/float64(b.N)), "x-realtime")
	b.ReportMetric(3/((cpuSeconds()-cpu)/float64(b.N)), "x-realtime-cpu")
}

// BenchmarkSeparate3sFullBand is BenchmarkSeparate3s with the same mixture
// at 48 kHz, separated full band with the same 16 kHz model: what full band
// adds to the separation of the same file at 16 kHz.
func BenchmarkSeparate3sFullBand(b *testing.B) {
	defer openblas.HoldSingle()()
	m := randomModel(DLNMF, []int{180, 20})
	sep, err := NewSeparator(m, SeparateSettings{NMF: nmf.Settings{MaxIter: 200, Tol: -1, Workers: 1}, Rate: 48000})
	if err != nil {
		b.Fatal(err)
	}
	x := mixOf(synthVoiceAt(48000, 20000, lowNotes, 3, 1), synthVoiceAt(48000, 20000, highNotes, 3, 2))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for range b.N {
		if _, err := sep.Separate(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(3/(b.Elapsed().Seconds()/float64(b.N)), "x-realtime")
	b.ReportMetric(3/((cpuSeconds()-cpu0)/float64(b.N)), "x-realtime-cpu")
}

// BenchmarkSTFT3s isolates the front end's share of BenchmarkSeparate3s.
func BenchmarkSTFT3s(b *testing.B) {
	plan, _ := stft.NewPlan(stft.Settings{})
	x := synthVoice(lowNotes, 3, 1)
	s := plan.Forward(nil, x)
	y := make([]float64, len(x))
	for range b.N {
		plan.Forward(s, x)
		plan.Inverse(y, s, len(x))
	}
}
