package separation

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/stft"
)

// liveRun pushes x into a Live in chunks of the given sizes (cycled) and
// returns what each source received, checking that no output sample left
// later than Latency samples after its input sample arrived.
func liveRun(t *testing.T, sep *Separator, x []float64, chunks []int) [][]float64 {
	t.Helper()
	l, err := sep.NewLive()
	if err != nil {
		t.Fatal(err)
	}
	got := make([][]float64, len(sep.Sources()))
	pushed := 0
	sink := func(s int, y []float64) error {
		got[s] = append(got[s], y...)
		return nil
	}
	for c := 0; pushed < len(x); c++ {
		k := min(chunks[c%len(chunks)], len(x)-pushed)
		if err := l.Push(x[pushed:pushed+k], sink); err != nil {
			t.Fatal(err)
		}
		pushed += k
		// Every sample that arrived Latency or more samples ago is out.
		if want := pushed - l.Latency(); len(got[0]) < want {
			t.Fatalf("after %d samples only %d are out: more than the stated latency of %d samples", pushed, len(got[0]), l.Latency())
		}
	}
	if err := l.Finish(sink); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestLiveEqualsSeparate feeds a mixture to Live in hop-sized and uneven
// chunks: with a fixed number of iterations the estimates are Separate's on
// the whole signal to float32 rounding of the inference (the same frames,
// inferred in other batches), and they arrive within the stated latency.
func TestLiveEqualsSeparate(t *testing.T) {
	m := trainSynthetic(t, NMF, []int{6})
	mix := mixOf(synthVoice(lowNotes, 3, 7), synthVoice(highNotes, 3, 8))
	liveEqualsSeparate(t, m, mix, SeparateSettings{NMF: nmf.Settings{MaxIter: 40, Tol: -1, Workers: 1}})
}

// TestLivePatchesEqualSeparate: a model of 5-frame patches with sparsity
// and the power mask (the default preset's kind) separates live as
// Separate does, its patches complete (2 hops of look-ahead each way), at
// the model's rate and full band, with a stated latency of 4 hops more
// one frame at a time (and DefaultPatchLiveBatch-1 more by default, or
// DefaultLargePatchLiveBatch-1 for the default preset's size).
func TestLivePatchesEqualSeparate(t *testing.T) {
	m := trainSyntheticWith(t, TrainSettings{Method: NMF, Sizes: []int{6}, Context: 5, Sparsity: 0.5, MaskPower: 2})
	mix := mixOf(synthVoice(lowNotes, 3, 7), synthVoice(highNotes, 3, 8))
	s := SeparateSettings{LiveBatch: 1, NMF: nmf.Settings{MaxIter: 40, Tol: -1, Workers: 1}}
	liveEqualsSeparate(t, m, mix, s)
	sep, _ := NewSeparator(m, s)
	if want := sep.st.WindowSize - 1 + 4*sep.st.Hop; sep.NewLiveLatency() != want {
		t.Errorf("latency %d samples, want %d", sep.NewLiveLatency(), want)
	}
	// The default batch: 4 frames for a model of patches, 8 when the
	// basis inference reads is larger than 2 x 128 bases of 5 x 513 rows
	// (the default preset's 2 x 400 on every bin, but not on 128 bands).
	for _, c := range []struct {
		k, bands, want int
	}{{128, 0, DefaultPatchLiveBatch}, {129, 0, DefaultLargePatchLiveBatch}, {400, 0, DefaultLargePatchLiveBatch}, {400, 128, DefaultPatchLiveBatch}, {400, 256, DefaultLargePatchLiveBatch}} {
		def, err := NewSeparator(randomPatchModel(c.k, 0, 0), SeparateSettings{Bands: c.bands})
		if err != nil {
			t.Fatal(err)
		}
		if got := def.LiveBatch(); got != c.want {
			t.Errorf("2 x %d bases of patches on %d bands: the default batch is %d frames, want %d", c.k, c.bands, got, c.want)
		}
	}
	if def, _ := NewSeparator(m, SeparateSettings{}); def.LiveBatch() != DefaultPatchLiveBatch {
		t.Errorf("a small patch model's default batch is %d frames, want %d", def.LiveBatch(), DefaultPatchLiveBatch)
	}
	const rate = 48000
	mix = mixOf(synthVoiceAt(rate, 20000, lowNotes, 2, 7), synthVoiceAt(rate, 20000, highNotes, 2, 8))
	s.Rate = rate
	if got := liveEqualsSeparate(t, m, mix, s); residualDB(mix, got) < 250 {
		t.Errorf("full band: the live estimates do not add up to the stream")
	}
	// Shorter than a patch: the edge frames stand in, as offline.
	liveEqualsSeparate(t, m, mix[:3000], s)
}

// TestLiveBatchEqualsSeparate: frames inferred in batches
// (SeparateSettings.LiveBatch) give Separate's estimates, the same bits
// however the stream is cut, at LiveBatch-1 hops more latency; bad batch
// sizes are refused.
func TestLiveBatchEqualsSeparate(t *testing.T) {
	m := trainSyntheticWith(t, TrainSettings{Method: NMF, Sizes: []int{6}, Context: 3, Sparsity: 0.5, MaskPower: 2})
	mix := mixOf(synthVoice(lowNotes, 3, 7), synthVoice(highNotes, 3, 8))
	s := SeparateSettings{LiveBatch: 8, NMF: nmf.Settings{MaxIter: 40, Tol: -1, Workers: 1}}
	first := liveEqualsSeparate(t, m, mix, s)
	sep, _ := NewSeparator(m, s)
	for _, chunks := range [][]int{{1, 999, 7}, {len(mix)}} {
		got := liveRun(t, sep, mix, chunks)
		for i := range got {
			if !slices.Equal(got[i], first[i]) {
				t.Errorf("chunks %v: source %d differs from the hop-sized run's bits", chunks, i)
			}
		}
	}
	if want := sep.st.WindowSize - 1 + (2+7)*sep.st.Hop; sep.NewLiveLatency() != want {
		t.Errorf("latency %d samples, want %d", sep.NewLiveLatency(), want)
	}
	for _, b := range []int{-1, MaxLiveBatch + 1} {
		if _, err := NewSeparator(m, SeparateSettings{LiveBatch: b}); err == nil {
			t.Errorf("live batch %d accepted", b)
		}
	}
}

// TestLiveFullBandEqualsSeparate: a 48 kHz stream with a 16 kHz model is
// separated full band as Separate separates the file, under every rule of
// the upper band (the smoothed one waits upperRadius more hops, which the
// stated latency includes), and the estimates add up to the stream.
func TestLiveFullBandEqualsSeparate(t *testing.T) {
	m := trainSynthetic(t, NMF, []int{6})
	const rate = 48000
	mix := mixOf(synthVoiceAt(rate, 20000, lowNotes, 2, 7), synthVoiceAt(rate, 20000, highNotes, 2, 8))
	for _, up := range []UpperBand{UpperSmoothed, UpperTopBin, UpperEven} {
		t.Run([]string{"smoothed", "top-bin", "even"}[up], func(t *testing.T) {
			s := SeparateSettings{Rate: rate, Upper: up, NMF: nmf.Settings{MaxIter: 40, Tol: -1, Workers: 1}}
			got := liveEqualsSeparate(t, m, mix, s)
			if r := residualDB(mix, got); r < 250 {
				t.Errorf("the live estimates add up to the stream only %.1f dB below it", r)
			}
			sep, _ := NewSeparator(m, s)
			want := sep.st.WindowSize - 1
			if up == UpperSmoothed {
				want += upperRadius * sep.st.Hop
			}
			if l, _ := sep.NewLive(); l.Latency() != want || sep.NewLiveLatency() != want {
				t.Errorf("latency %d samples, want %d", l.Latency(), want)
			}
		})
	}
	// With free bases learned online: other estimates than Separate's,
	// but full band and adding up to the stream.
	sep, err := NewSeparator(m, SeparateSettings{Rate: rate, Free: 4, NMF: nmf.Settings{MaxIter: 20, Tol: -1, Workers: 1}})
	if err != nil {
		t.Fatal(err)
	}
	got := liveRun(t, sep, mix, []int{sep.st.Hop})
	if len(got) != 3 || len(got[2]) != len(mix) {
		t.Fatalf("%d sources, %d samples: want 3 and %d", len(got), len(got[0]), len(mix))
	}
	if r := residualDB(mix, got); r < 250 {
		t.Errorf("with free bases the live estimates add up to the stream only %.1f dB below it", r)
	}
}

// liveEqualsSeparate checks Live against Separate on mix with settings s,
// for three ways of cutting the stream, and returns the hop-sized run's
// estimates.
func liveEqualsSeparate(t *testing.T, m *Model, mix []float64, s SeparateSettings) [][]float64 {
	t.Helper()
	sep, err := NewSeparator(m, s)
	if err != nil {
		t.Fatal(err)
	}
	want, err := sep.Separate(mix)
	if err != nil {
		t.Fatal(err)
	}
	hop := sep.st.Hop
	rng := rand.New(rand.NewPCG(3, 4))
	uneven := []int{1, 700, 3, hop, 5000, 17}
	for range 20 {
		uneven = append(uneven, rng.IntN(3*hop))
	}
	var first [][]float64
	for _, chunks := range [][]int{{hop}, uneven, {len(mix)}} {
		got := liveRun(t, sep, mix, chunks)
		if first == nil {
			first = got
		}
		for s := range want {
			if len(got[s]) != len(want[s]) {
				t.Fatalf("chunks %v: source %d has %d samples, want %d", chunks[:1], s, len(got[s]), len(want[s]))
			}
			var e, p float64
			for i := range want[s] {
				d := got[s][i] - want[s][i]
				e += d * d
				p += want[s][i] * want[s][i]
			}
			snr := 10 * math.Log10(p/e)
			t.Logf("chunks %v...: source %d: live - Separate is %.1f dB below Separate", chunks[:1], s, snr)
			if e > 0 && snr < 90 {
				t.Errorf("chunks %v: source %d differs from Separate: %.1f dB below it, want at least 90", chunks[:1], s, snr)
			}
		}
	}
	return first
}

// TestFrameByFrameSTFT checks the per-frame STFT against Forward and
// Inverse bit for bit (a short signal: Inverse runs on one goroutine).
func TestFrameByFrameSTFT(t *testing.T) {
	p, err := stft.NewPlan(stft.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	x := synthVoice(lowNotes, 0.5, 1)
	spec := p.Forward(nil, x)
	W, hop := p.Settings().WindowSize, p.Settings().Hop
	coef := make([]complex128, p.Bins())
	out := make([]float64, len(x)+2*W)
	frame := make([]float64, W)
	for j := range spec.Frames {
		start := j*hop - W/2
		for i := range frame {
			frame[i] = 0
			if s := start + i; s >= 0 && s < len(x) {
				frame[i] = x[s]
			}
		}
		p.ForwardFrame(coef, frame)
		for b, c := range coef {
			if c != spec.At(b, j) {
				t.Fatalf("frame %d bin %d: %v, Forward %v", j, b, c, spec.At(b, j))
			}
		}
		p.InverseFrameAdd(out[W+start:W+start+W], coef, nil)
	}
	want := p.Inverse(nil, spec, len(x))
	for i := range want {
		y := out[W+i]
		if d := p.Denominator(i, len(x)); d > 1e-10 {
			y /= d
		}
		if y != want[i] {
			t.Fatalf("sample %d: %v, Inverse %v", i, y, want[i])
		}
	}
}

// TestLiveFree: with free bases learned online, a known voice and an
// unknown one are separated as the stream goes: the estimates add up to
// the mixture, the known voice's SDR rises well above the mixture's, within
// the stated latency, and the bits depend on the samples and the seed only,
// not on how the stream was cut into pushes.
func TestLiveFree(t *testing.T) {
	m := trainOne(t)
	a, b := synthVoice(lowNotes, 3, 100), synthVoice(highNotes, 3, 200)
	mix := mixOf(a, b)
	sep, err := NewSeparator(m, SeparateSettings{Free: 8, NMF: nmf.Settings{MaxIter: 30, Seed: 3, Workers: 1}})
	if err != nil {
		t.Fatal(err)
	}
	hop := sep.st.Hop
	est := liveRun(t, sep, mix, []int{hop})
	if len(est) != 2 || len(est[1]) != len(mix) {
		t.Fatalf("%d estimates", len(est))
	}
	checkSum(t, est, mix)
	sdr, base := sdrOf(t, [][]float64{a, b}, est)
	offline, err := sep.Separate(mix)
	if err != nil {
		t.Fatal(err)
	}
	off, _ := sdrOf(t, [][]float64{a, b}, offline)
	t.Logf("live free bases: SDR %.1f dB (offline %.1f dB), mixture %.1f dB", sdr, off, base)
	// 16.4 dB better when written; free bases that learn nothing give 4.2.
	if sdr < base+10 {
		t.Errorf("SDR %.1f dB, mixture %.1f dB: want at least 10 dB better", sdr, base)
	}
	for _, chunks := range [][]int{{1, 700, 3, hop, 5000, 17}, {len(mix)}} {
		got := liveRun(t, sep, mix, chunks)
		for s := range est {
			if !slices.Equal(got[s], est[s]) {
				t.Fatalf("chunks %v: source %d differs from hop-sized pushes", chunks, s)
			}
		}
	}
	// Another seed starts other free bases.
	sep2, err := NewSeparator(m, SeparateSettings{Free: 8, NMF: nmf.Settings{MaxIter: 30, Seed: 4, Workers: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if got := liveRun(t, sep2, mix, []int{hop}); slices.Equal(got[0], est[0]) {
		t.Error("seeds 3 and 4 gave the same estimate")
	}
	if _, err := NewSeparator(m, SeparateSettings{Free: 8, Online: OnlineFree{Every: -1}}); err == nil {
		t.Error("a negative update interval was accepted")
	}
	// The buffer is sized from its seconds when a Live starts: bounded.
	for _, buffer := range []float64{MaxOnlineBuffer * 1.01, 1e9, math.Inf(1), math.NaN()} {
		if _, err := NewSeparator(m, SeparateSettings{Free: 8, Online: OnlineFree{Buffer: buffer}}); err == nil {
			t.Errorf("a buffer of %g s was accepted", buffer)
		}
	}
	if _, err := NewSeparator(m, SeparateSettings{Free: 8, Online: OnlineFree{Buffer: MaxOnlineBuffer}}); err != nil {
		t.Errorf("a buffer of MaxOnlineBuffer: %v", err)
	}
}
