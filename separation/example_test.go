package separation_test

import (
	"context"
	"fmt"
	"log"
	"math"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/separation"
)

// voice is a stand-in for a speaker: a sequence of harmonic notes (0.25 s
// each, 8 harmonics falling as 1/h) drawn from the speaker's pitch range.
func voice(f0s []float64, notes int, seed int) []float64 {
	const rate, noteLen = 16000, 4000
	x := make([]float64, notes*noteLen)
	for n := range notes {
		f0 := f0s[(n*7+seed*3)%len(f0s)]
		for i := range noteLen {
			t := float64(i) / rate
			env := math.Sin(math.Pi * float64(i) / noteLen)
			for h := 1.0; h <= 8; h++ {
				x[n*noteLen+i] += 0.1 / h * env * math.Sin(2*math.Pi*f0*h*t)
			}
		}
	}
	return x
}

// Train one model per speaker on a few recordings of each, then separate
// a mixture of new recordings of the two.
func Example() {
	low := []float64{110, 123, 138, 155, 165}
	high := []float64{880, 988, 1109, 1245, 1319}
	speakers := []separation.SpeakerData{
		{Name: "low", Utterances: [][]float64{voice(low, 8, 1), voice(low, 8, 2)}},
		{Name: "high", Utterances: [][]float64{voice(high, 8, 3), voice(high, 8, 4)}},
	}
	model, _, err := separation.Train(context.Background(), speakers, nil, separation.TrainSettings{
		Method: separation.NMF, Sizes: []int{10},
		NMF: nmf.Settings{MaxIter: 60, Seed: 1},
	})
	if err != nil {
		log.Fatal(err)
	}

	// A 0 dB mixture of recordings the models have not heard.
	a, b := voice(low, 6, 5), voice(high, 6, 6)
	mix := make([]float64, len(a))
	for i := range mix {
		mix[i] = a[i] + b[i]
	}
	sep, err := separation.NewSeparator(model, separation.SeparateSettings{NMF: nmf.Settings{MaxIter: 60}})
	if err != nil {
		log.Fatal(err)
	}
	est, err := sep.Separate(mix)
	if err != nil {
		log.Fatal(err)
	}

	// The estimates are in the model's speaker order and add up to the
	// mixture (the masks sum to one).
	var residual float64
	for i := range mix {
		residual = math.Max(residual, math.Abs(est[0][i]+est[1][i]-mix[i]))
	}
	scores, err := bsseval.Sources([][]float64{a, b}, est, bsseval.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for i, s := range model.Speakers {
		fmt.Printf("%s: %d samples, SDR above 10 dB: %v\n", s.Name, len(est[i]), scores.SDR[i] > 10)
	}
	fmt.Println("estimates add up to the mixture:", residual < 1e-4)
	// Output:
	// low: 24000 samples, SDR above 10 dB: true
	// high: 24000 samples, SDR above 10 dB: true
	// estimates add up to the mixture: true
}
