package separation_test

import (
	"context"
	"math"
	"testing"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/separation"
)

// TestFullBandTSP separates TSP FA + MC mixtures at their native 48 kHz
// with a 16 kHz L-NMF model: the mean SDR against the 48 kHz references is
// at least the 16 kHz separation's SDR against the 16 kHz references minus
// 0.5 dB, the estimates add up to the mixture (at least 100 dB below it),
// and the default upper-band rule scores no lower than the alternatives.
func TestFullBandTSP(t *testing.T) {
	sps16, sps48 := loadTSP(t, 16000, "FA", "MC"), loadTSP(t, 48000, "FA", "MC")
	speakers := firstUtterances(sps16, 20)
	m, _, err := separation.Train(context.Background(), speakers, nil, separation.TrainSettings{
		Method: separation.LNMF, Sizes: []int{180, 20}, NMF: nmf.Settings{MaxIter: 60, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ns := nmf.Settings{MaxIter: 60, Tol: -1}
	sep16, err := separation.NewSeparator(m, separation.SeparateSettings{NMF: ns})
	if err != nil {
		t.Fatal(err)
	}
	rules := []struct {
		name string
		rule separation.UpperBand
	}{{"smoothed top quarter (default)", separation.UpperSmoothed}, {"top bin", separation.UpperTopBin}, {"even", separation.UpperEven}}
	full := make([]*separation.Separator, len(rules))
	for i, r := range rules {
		if full[i], err = separation.NewSeparator(m, separation.SeparateSettings{NMF: ns, Rate: 48000, Upper: r.rule}); err != nil {
			t.Fatal(err)
		}
	}
	var sdr16, sdrDown float64
	sdr48 := make([]float64, len(rules))
	n := 0
	for j := 55; j < 60; j++ {
		mix48, src48, err := corpus.Mix([][]float64{sps48[0].Utterances[j].Samples, sps48[1].Utterances[j].Samples}, 0)
		if err != nil {
			t.Fatal(err)
		}
		mix16, src16, err := corpus.Mix([][]float64{sps16[0].Utterances[j].Samples, sps16[1].Utterances[j].Samples}, 0)
		if err != nil {
			t.Fatal(err)
		}
		est16, err := sep16.Separate(mix16)
		if err != nil {
			t.Fatal(err)
		}
		r16, err := bsseval.Sources(src16, est16, bsseval.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, sep := range full {
			est, err := sep.Separate(mix48)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				if r := residual(mix48, est); r < 100 {
					t.Errorf("mixture %d: the estimates add up to the mixture only %.1f dB below it", j, r)
				}
				// The full-band estimates brought down to 16 kHz, against
				// the 16 kHz references: how much of the gap is the band
				// below 8 kHz.
				var down, refs [][]float64
				for k, e := range est {
					d, err := corpus.ToRate(e, 48000, 16000)
					if err != nil {
						t.Fatal(err)
					}
					l := min(len(d), len(src16[k]))
					down, refs = append(down, d[:l]), append(refs, src16[k][:l])
				}
				r, err := bsseval.Sources(refs, down, bsseval.Options{})
				if err != nil {
					t.Fatal(err)
				}
				sdrDown += r.SDR[0] + r.SDR[1]
			}
			r, err := bsseval.Sources(src48, est, bsseval.Options{})
			if err != nil {
				t.Fatal(err)
			}
			sdr48[i] += r.SDR[0] + r.SDR[1]
		}
		sdr16 += r16.SDR[0] + r16.SDR[1]
		n += 2
	}
	sdr16 /= float64(n)
	t.Logf("mean SDR over %d estimates: 16 kHz %.2f dB; the full-band estimates resampled to 16 kHz %.2f dB", n, sdr16, sdrDown/float64(n))
	for i := range rules {
		sdr48[i] /= float64(n)
		t.Logf("mean SDR at 48 kHz, upper band %s: %.2f dB", rules[i].name, sdr48[i])
	}
	if sdr48[0] < sdr16-0.5 {
		t.Errorf("full-band SDR %.2f dB, 16 kHz SDR %.2f dB", sdr48[0], sdr16)
	}
	for i := 1; i < len(rules); i++ {
		if sdr48[i] > sdr48[0] {
			t.Errorf("upper band %s scores %.2f dB, above the default's %.2f dB", rules[i].name, sdr48[i], sdr48[0])
		}
	}
}

func residual(mix []float64, est [][]float64) float64 {
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
