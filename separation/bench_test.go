package separation

import (
	"fmt"
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
	benchSeparator3s(b, sep)
}

// benchSeparator3s times sep on the benchmarks' 3-second mixture and
// reports the real-time factors of wall and CPU time.
func benchSeparator3s(b *testing.B, sep *Separator) {
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

// randomDeepModel returns a two-speaker model of PresetValidated's shape
// at K = 100 (NMF, 5-frame patches, sparsity 1, mask power 2), deep-unfolded
// with n iterations of which the last u are untied, all bases random.
func randomDeepModel(n, u int) *Model { return randomPatchModel(100, n, u) }

// randomPatchModel is randomDeepModel with k bases per speaker; n = 0 is a
// model without unfolding.
func randomPatchModel(k, n, u int) *Model {
	rng := rand.New(rand.NewPCG(3, 4))
	random := func() *nmf.Dense[float32] {
		w := nmf.NewDense[float32](5*513, k, nil)
		for i := range w.Data {
			w.Data[i] = rng.Float32()
		}
		return w
	}
	m := &Model{Method: NMF, SampleRate: 16000, Context: 5, Sparsity: 1, MaskPower: 2, Unfold: n}
	for _, name := range []string{"a", "b"} {
		sp := Speaker{Name: name, Layers: []*nmf.Dense[float32]{random()}}
		if n > 0 {
			sp.Reconstruction = random()
		}
		for range u {
			sp.Untied = append(sp.Untied, random())
		}
		m.Speakers = append(m.Speakers, sp)
	}
	return m
}

// BenchmarkSeparate3sDeep is BenchmarkSeparate3s with a deep-unfolded model
// of PresetValidated's shape at K = 100 (2 x 100 bases of 5 x 513 rows), at N = 8,
// 10 and 25 unfolded iterations, the last 2 untied: run it beside
// BenchmarkSeparate3s (DL-NMF 180,20), the speed to match.
func BenchmarkSeparate3sDeep(b *testing.B) {
	for _, n := range []int{8, 10, 25} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			defer openblas.HoldSingle()()
			sep, err := NewSeparator(randomDeepModel(n, 2), SeparateSettings{NMF: nmf.Settings{Workers: 1}})
			if err != nil {
				b.Fatal(err)
			}
			benchSeparator3s(b, sep)
		})
	}
}

// BenchmarkSeparate3sPatches is BenchmarkSeparate3s with models of
// PresetValidated's shape at K = 100 and K = 400 bases per speaker (random
// bases), at the anchor's 200 inference iterations (separation's default
// maximum; a trained model stops earlier when its cost settles): run it
// beside BenchmarkSeparate3s (DL-NMF 180,20); bands=N infers on N
// mel-spaced bands (SeparateSettings.Bands), 0 on every bin; coarse=N
// starts from DefaultCoarseIters iterations on N bands and then runs
// DefaultFineIters (SeparateSettings.CoarseBands); step=E/iters=N runs N
// iterations with the step exponent E (nmf.Settings.StepExponent); /recon
// gives the model reconstruction bases (TrainReconstruction):
// K=400/bands=128/step=1.5/iters=50/recon is a default model of 2 speakers.
func BenchmarkSeparate3sPatches(b *testing.B) {
	for _, c := range []struct {
		k, bands, coarse, iters int
		step                    float64
		recon                   bool
	}{{100, 0, 0, 200, 1, false}, {400, 0, 0, 200, 1, false}, {400, 128, 0, 200, 1, false}, {400, 64, 0, 200, 1, false}, {400, 128, 32, DefaultFineIters, 1, false},
		{400, 128, 0, 200, 1.5, false}, {400, 128, 0, 100, 1.5, false}, {400, 128, 0, 100, 1.5, true}, {400, 128, 0, 50, 1.5, false}, {400, 128, 0, 50, 1.5, true}} {
		name := fmt.Sprintf("K=%d/bands=%d", c.k, c.bands)
		iters := c.iters
		if c.coarse > 0 {
			name += fmt.Sprintf("/coarse=%d", c.coarse)
		}
		if c.step != 1 {
			name += fmt.Sprintf("/step=%g/iters=%d", c.step, c.iters)
		}
		m := randomPatchModel(c.k, 0, 0)
		if c.recon {
			name += "/recon"
			for i := range m.Speakers {
				m.Speakers[i].Reconstruction = nmf.Convert[float32, float32](nil, m.Speakers[1-i].Layers[0])
			}
		}
		b.Run(name, func(b *testing.B) {
			defer openblas.HoldSingle()()
			sep, err := NewSeparator(m, SeparateSettings{NMF: nmf.Settings{MaxIter: iters, Tol: -1, Workers: 1, StepExponent: c.step}, Bands: c.bands, CoarseBands: c.coarse})
			if err != nil {
				b.Fatal(err)
			}
			benchSeparator3s(b, sep)
		})
	}
}
