package separation

import (
	"slices"
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

	for _, bad := range []int{-1, 1, 514} {
		if _, err := NewSeparator(m, SeparateSettings{Bands: bad}); err == nil {
			t.Errorf("%d bands accepted", bad)
		}
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
