package separation

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/resample"
	"github.com/dlnmf/dlnmf/stft"
)

// residualDB returns how far below the mixture, in dB, the difference
// between the sum of the estimates and the mixture lies.
func residualDB(mix []float64, est [][]float64) float64 {
	var e, r float64
	for i, v := range mix {
		d := -v
		for _, s := range est {
			d += s[i]
		}
		e += v * v
		r += d * d
	}
	return 10 * math.Log10(e/r)
}

// upperShare returns the fraction of x's energy above hz at rate.
func upperShare(t *testing.T, x []float64, rate int, hz float64) float64 {
	plan, err := stft.NewPlan(stft.Settings{FFTSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	s := plan.Forward(nil, x)
	var hi, all float64
	for b := range s.Bins {
		for f := range s.Frames {
			p := real(s.At(b, f))*real(s.At(b, f)) + imag(s.At(b, f))*imag(s.At(b, f))
			all += p
			if float64(b)*float64(rate)/4096 > hz {
				hi += p
			}
		}
	}
	return hi / all
}

func down(t *testing.T, x []float64, from, to int) []float64 {
	r, err := resample.New(from, to)
	if err != nil {
		t.Fatal(err)
	}
	return r.Apply(nil, x)
}

// TestFullBand separates a 48 kHz mixture with a 16 kHz model: the
// estimates are at 48 kHz, add up to the mixture, keep the band above
// 8 kHz (the high voice's harmonics reach 20 kHz), and score at 48 kHz no
// worse than the 16 kHz separation at 16 kHz; block by block equals whole.
func TestFullBand(t *testing.T) {
	m := trainSynthetic(t, NMF, []int{8})
	const rate = 48000
	a, b := synthVoiceAt(rate, 0, lowNotes, 3, 100), synthVoiceAt(rate, 20000, highNotes, 3, 200)
	mix := mixOf(a, b)
	settings := SeparateSettings{NMF: nmf.Settings{MaxIter: 100, Tol: -1}, Rate: rate}
	sep, err := NewSeparator(m, settings)
	if err != nil {
		t.Fatal(err)
	}
	if sep.Rate() != rate {
		t.Fatalf("Rate() = %d", sep.Rate())
	}
	est, err := sep.Separate(mix)
	if err != nil {
		t.Fatal(err)
	}
	if len(est[0]) != len(mix) {
		t.Fatalf("%d samples, want %d", len(est[0]), len(mix))
	}
	if r := residualDB(mix, est); r < 100 {
		t.Errorf("the estimates add up to the mixture only %.1f dB below it, want 100", r)
	}
	mixUpper, highUpper := upperShare(t, mix, rate, 8500), upperShare(t, est[1], rate, 8500)
	t.Logf("energy above 8.5 kHz: mixture %.3g, high voice's estimate %.3g, low's %.3g", mixUpper, highUpper, upperShare(t, est[0], rate, 8500))
	if highUpper < 0.5*upperShare(t, b, rate, 8500) {
		t.Errorf("the high voice's estimate keeps %.3g of its energy above 8.5 kHz, its reference %.3g", highUpper, upperShare(t, b, rate, 8500))
	}
	full, err := bsseval.Sources([][]float64{a, b}, est, bsseval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The same mixture at 16 kHz, separated at the model's rate.
	a16, b16 := down(t, a, rate, 16000), down(t, b, rate, 16000)
	sep16, err := NewSeparator(m, SeparateSettings{NMF: settings.NMF})
	if err != nil {
		t.Fatal(err)
	}
	est16, err := sep16.Separate(mixOf(a16, b16))
	if err != nil {
		t.Fatal(err)
	}
	low, err := bsseval.Sources([][]float64{a16, b16}, est16, bsseval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SDR at 48 kHz %.2f %.2f dB, at 16 kHz %.2f %.2f dB", full.SDR[0], full.SDR[1], low.SDR[0], low.SDR[1])
	for i := range full.SDR {
		if full.SDR[i] < low.SDR[i]-0.5 {
			t.Errorf("source %d: full-band SDR %.2f dB, 16 kHz SDR %.2f dB", i, full.SDR[i], low.SDR[i])
		}
	}

	// Block by block (with the upper band's smoothing across the seams)
	// equals whole-signal separation, and SeparateStream gives the same.
	settings.BlockSeconds = 0.3
	blocks, err := NewSeparator(m, settings)
	if err != nil {
		t.Fatal(err)
	}
	got := make([][]float64, 2)
	rng := rand.New(rand.NewPCG(1, 2))
	err = blocks.SeparateStream(chunkedSource(mix, rng), len(mix), func(s int, y []float64) error {
		got[s] = append(got[s], y...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for s := range est {
		for i := range est[s] {
			worst = math.Max(worst, math.Abs(est[s][i]-got[s][i]))
		}
	}
	if worst > 1e-3 {
		t.Errorf("block-wise full-band separation differs from whole-signal by %g", worst)
	}
}

func TestFullBandRateBelowModel(t *testing.T) {
	m := trainSynthetic(t, NMF, []int{4})
	for _, rate := range []int{8000, -1} {
		if _, err := NewSeparator(m, SeparateSettings{Rate: rate}); err == nil || !strings.Contains(err.Error(), "below the model's 16000 Hz") {
			t.Errorf("rate %d: %v", rate, err)
		}
	}
	if _, err := NewSeparator(m, SeparateSettings{Rate: 44100, Upper: UpperEven + 1}); err == nil {
		t.Error("an unknown upper-band rule: no error")
	}
}
