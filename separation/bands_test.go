package separation

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/nmf"
)

// TestBandEdges: bands cover every bin once, each at least one bin wide,
// narrow at low frequencies and wide at high ones; as many bands as bins
// is every bin alone.
func TestBandEdges(t *testing.T) {
	for _, c := range []struct{ bins, bands int }{{513, 128}, {513, 64}, {513, 256}, {513, 512}, {20, 7}, {4, 1}} {
		e := BandEdges(c.bins, c.bands, testRate)
		if len(e) != c.bands+1 || e[0] != 0 || e[c.bands] != c.bins {
			t.Fatalf("%d bands of %d bins: edges %v", c.bands, c.bins, e)
		}
		for b := 0; b < c.bands; b++ {
			if e[b+1] <= e[b] {
				t.Fatalf("%d bands of %d bins: band %d is empty (%v)", c.bands, c.bins, b, e)
			}
		}
		if c.bands >= 8 && e[1]-e[0] >= e[c.bands]-e[c.bands-1] {
			t.Errorf("%d bands of %d bins: the first band (%d bins) is not narrower than the last (%d)", c.bands, c.bins, e[1]-e[0], e[c.bands]-e[c.bands-1])
		}
	}
	// 128 bands at 16 kHz: one bin each up to about 240 Hz (mel's
	// spacing there is about a bin), the last band about 170 Hz wide.
	e := BandEdges(513, 128, testRate)
	if e[1] != 1 || e[15] != 15 || e[128]-e[127] < 10 || e[128]-e[127] > 14 {
		t.Errorf("128 mel bands of 513 bins: edges %v", e)
	}
	if e := BandEdges(9, 9, testRate); !slices.Equal(e, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("9 bands of 9 bins: edges %v", e)
	}
}

// TestBandsSeparate: inference on as many bands as bins gives every bit of
// inference on every bin; on fewer bands the estimates differ but still add
// up to the mixture and separate the voices, offline and live alike; bad
// band counts, and bands beside free bases or with a deep-unfolded model,
// are refused.
func TestBandsSeparate(t *testing.T) {
	m := trainSyntheticWith(t, TrainSettings{Method: NMF, Sizes: []int{6}, Context: 5, Sparsity: 0.5, MaskPower: 2})
	a, b := synthVoice(lowNotes, 3, 100), synthVoice(highNotes, 3, 200)
	mix := mixOf(a, b)
	s := SeparateSettings{NMF: nmf.Settings{MaxIter: 60, Tol: -1}}
	full := separateWith(t, m, s, mix)
	s.Bands = 513
	if same := separateWith(t, m, s, mix); !slices.Equal(same[0], full[0]) || !slices.Equal(same[1], full[1]) {
		t.Error("513 bands of 513 bins did not give inference on every bin's bits")
	}
	s.Bands = 32
	pooled := separateWith(t, m, s, mix)
	if slices.Equal(pooled[0], full[0]) {
		t.Error("32 bands gave inference on every bin's bits: nothing was pooled")
	}
	checkSum(t, pooled, mix)
	r, err := bsseval.Sources([][]float64{a, b}, pooled, bsseval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, sdr := range r.SDR {
		if sdr < 15 {
			t.Errorf("32 bands: source %d scored SDR %.2f dB, want at least 15", i, sdr)
		}
	}
	liveEqualsSeparate(t, m, mix, SeparateSettings{Bands: 32, LiveBatch: 4, NMF: nmf.Settings{MaxIter: 40, Tol: -1, Workers: 1}})

	for _, bad := range []int{-2, 1, 514} {
		if _, err := NewSeparator(m, SeparateSettings{Bands: bad}); err == nil {
			t.Errorf("%d bands accepted", bad)
		}
	}
	if every := separateWith(t, m, SeparateSettings{Bands: EveryBin, NMF: s.NMF}, mix); !slices.Equal(every[0], full[0]) {
		t.Error("EveryBin did not give inference on every bin's bits")
	}
	if _, err := NewSeparator(m, SeparateSettings{Bands: 64, Free: 4}); err == nil {
		t.Error("bands beside free bases accepted")
	}
	// A model whose STFT settings are the zero value (the default STFT)
	// has 513 bins too.
	if _, err := NewSeparator(randomPatchModel(4, 0, 0), SeparateSettings{Bands: 128}); err != nil {
		t.Errorf("128 bands of a model of the default STFT: %v", err)
	}
	if _, err := NewSeparator(randomPatchModel(4, 3, 1), SeparateSettings{Bands: 64}); err == nil {
		t.Error("bands with a deep-unfolded model accepted")
	}
}

// TestCoarseStart: a coarse start on 16 bands, then 1 iteration on 64
// bands, comes nearer to inference on 64 bands run to convergence than 1
// iteration alone, and its estimates still add up to the mixture, offline
// and live alike; its bad settings are refused.
func TestCoarseStart(t *testing.T) {
	m := trainSyntheticWith(t, TrainSettings{Method: NMF, Sizes: []int{6}, Context: 5, Sparsity: 0.5, MaskPower: 2})
	a, b := synthVoice(lowNotes, 3, 100), synthVoice(highNotes, 3, 200)
	mix := mixOf(a, b)
	s := SeparateSettings{Bands: 64, NMF: nmf.Settings{MaxIter: 400, Tol: -1}}
	converged := separateWith(t, m, s, mix)
	away := func(est [][]float64) float64 { return distanceDB(est, converged) }
	s.NMF.MaxIter = 1
	cold := separateWith(t, m, s, mix)
	s.CoarseBands, s.CoarseIters = 16, 60
	warm := separateWith(t, m, s, mix)
	checkSum(t, warm, mix)
	if w, c := away(warm), away(cold); w < c+3 {
		t.Errorf("1 iteration on 64 bands: %.1f dB from convergence after 60 on 16 bands, %.1f dB alone; want 3 dB nearer", w, c)
	}
	s.CoarseIters = 0 // DefaultCoarseIters
	if d := separateWith(t, m, s, mix); slices.Equal(d[0], warm[0]) {
		t.Error("0 coarse iterations ran 60, not DefaultCoarseIters")
	}
	sp, err := NewSeparator(m, SeparateSettings{Bands: 64, CoarseBands: 16})
	if err != nil {
		t.Fatal(err)
	}
	if sp.settings.MaxIter != DefaultFineIters || sp.liveIters != DefaultFineIters || sp.coarseIters != DefaultCoarseIters {
		t.Errorf("a coarse start's default iterations: %d (live %d) after %d; want %d after %d", sp.settings.MaxIter, sp.liveIters, sp.coarseIters, DefaultFineIters, DefaultCoarseIters)
	}
	liveEqualsSeparate(t, m, mix, SeparateSettings{Bands: 64, CoarseBands: 16, CoarseIters: 30, LiveBatch: 4, NMF: nmf.Settings{MaxIter: 5, Tol: -1, Workers: 1}})

	for _, bad := range []SeparateSettings{
		{CoarseBands: 1}, {CoarseBands: 513}, {Bands: 64, CoarseBands: 64}, {Bands: 64, CoarseBands: 100},
		{CoarseIters: 10}, {CoarseBands: 16, CoarseIters: -1}, {CoarseBands: 16, CoarseIters: MaxCoarseIters + 1},
		{CoarseBands: 16, Free: 4},
	} {
		if _, err := NewSeparator(m, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := NewSeparator(randomPatchModel(4, 3, 1), SeparateSettings{CoarseBands: 16}); err == nil {
		t.Error("a coarse start with a deep-unfolded model accepted")
	}
}

// TestModelDefaultBands: a model's default bands (Model.Bands) are what
// SeparateSettings.Bands 0 infers on and EveryBin overrides; a model file
// keeps them with their edges; free bases infer on every bin; the
// validated preset records ValidatedBands, a method or unfolding every bin;
// bad default bands are refused, in a model and in a file.
func TestModelDefaultBands(t *testing.T) {
	m := trainSyntheticWith(t, TrainSettings{Method: NMF, Sizes: []int{6}, Context: 5, Sparsity: 0.5, MaskPower: 2, Bands: 32})
	if m.Bands != 32 {
		t.Fatalf("trained with 32 bands, the model has %d", m.Bands)
	}
	plain := *m
	plain.Bands = 0
	mix := mixOf(synthVoice(lowNotes, 3, 100), synthVoice(highNotes, 3, 200))
	it := nmf.Settings{MaxIter: 30, Tol: -1}
	def := separateWith(t, m, SeparateSettings{NMF: it}, mix)
	if on32 := separateWith(t, &plain, SeparateSettings{Bands: 32, NMF: it}, mix); !slices.Equal(def[0], on32[0]) || !slices.Equal(def[1], on32[1]) {
		t.Error("the model's default of 32 bands did not give inference on 32 bands' bits")
	}
	every := separateWith(t, m, SeparateSettings{Bands: EveryBin, NMF: it}, mix)
	if full := separateWith(t, &plain, SeparateSettings{NMF: it}, mix); !slices.Equal(every[0], full[0]) || slices.Equal(every[0], def[0]) {
		t.Error("EveryBin did not give a model of default bands inference on every bin")
	}
	coarse := separateWith(t, m, SeparateSettings{CoarseBands: 8, CoarseIters: 10, NMF: it}, mix)
	if c := separateWith(t, &plain, SeparateSettings{Bands: 32, CoarseBands: 8, CoarseIters: 10, NMF: it}, mix); !slices.Equal(coarse[0], c[0]) {
		t.Error("a coarse start did not continue on the model's default bands")
	}
	if _, err := NewSeparator(m, SeparateSettings{CoarseBands: 32}); err == nil {
		t.Error("a coarse start on as many bands as the model's default accepted")
	}
	one := *m
	one.Speakers = m.Speakers[:1]
	if _, err := NewSeparator(&one, SeparateSettings{}); err != nil {
		t.Errorf("a model of one speaker and default bands, with its default free bases: %v", err)
	}

	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || got.Bands != 32 {
		t.Fatalf("read back: bands %v, %v", got, err)
	}
	in, _ := metaOf(t, buf.Bytes())["inference"].(map[string]any)
	if edges, _ := in["band_edges"].([]any); len(edges) != 33 || edges[1] != float64(BandEdges(513, 32, testRate)[1]) || !strings.Contains(in["on_bands"].(string), "band_edges[b]") {
		t.Errorf("the meta's inference entry: %v", in)
	}
	var noBands bytes.Buffer
	if err := plain.Encode(&noBands); err != nil {
		t.Fatal(err)
	}
	if _, ok := metaOf(t, noBands.Bytes())["inference"].(map[string]any)["bands"]; ok {
		t.Error("a model of every bin writes bands")
	}
	for _, c := range []struct{ from, to, want string }{
		{`"version":7,`, `"version":4,`, "came with version 5"},
		{`"bands":32,`, `"bands":600,`, "600 bands"},
		{`"bands":32,`, ``, "band edges but no bands"},
		{`"band_edges":[0,`, `"band_edges":[1,`, "band edges are not those of 32"},
	} {
		b := rewriteMeta(t, buf.Bytes(), c.from, c.to)
		if _, err := Decode(bytes.NewReader(b), int64(len(b))); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s -> %s: %v, want %q", c.from, c.to, err, c.want)
		}
	}

	deep := randomPatchModel(4, 3, 1)
	deep.Bands = 64
	if err := deep.Validate(); err == nil {
		t.Error("default bands on a deep-unfolded model accepted")
	}
	for _, c := range []struct {
		s    TrainSettings
		want int
	}{{TrainSettings{}, ValidatedBands}, {MethodSettings(NMF), 0}, {TrainSettings{Bands: 64}, 64}} {
		if s, err := c.s.withDefaults(1); err != nil || s.Bands != c.want {
			t.Errorf("%+v: %d bands (%v), want %d", c.s, s.Bands, err, c.want)
		}
	}
	// The preset's default inference goes with it, as its bands do.
	for _, c := range []struct {
		s     TrainSettings
		e     float64
		iters int
	}{{TrainSettings{}, ValidatedStepExponent, ValidatedSeparateIters}, {MethodSettings(NMF), 0, 0}, {TrainSettings{StepExponent: 1, SeparateIters: 30}, 1, 30}} {
		if s, err := c.s.withDefaults(1); err != nil || s.StepExponent != c.e || s.SeparateIters != c.iters {
			t.Errorf("%+v: step exponent %v, %d iterations (%v), want %v, %d", c.s, s.StepExponent, s.SeparateIters, err, c.e, c.iters)
		}
	}
	for _, bad := range []int{-1, 1, 514} {
		s := TrainSettings{Method: NMF, Sizes: []int{2}, Bands: bad}
		s.NMF.MaxIter = 1
		if _, _, err := Train(t.Context(), []SpeakerData{{Name: "a", Utterances: [][]float64{mix}}}, nil, s); err == nil {
			t.Errorf("training with %d default bands accepted", bad)
		}
	}
}

// distanceDB returns est's distance from ref, in dB below ref's energy.
func distanceDB(est, ref [][]float64) float64 {
	var d, e float64
	for i := range est {
		for k, v := range est[i] {
			d += (v - ref[i][k]) * (v - ref[i][k])
			e += ref[i][k] * ref[i][k]
		}
	}
	return 10 * math.Log10(e/d)
}
