package report_test

import (
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/dlnmf/dlnmf/report"
)

func ExampleWrite() {
	dir, err := os.MkdirTemp("", "report-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	const rate = 16000
	tone := func(f float64) []float64 {
		x := make([]float64, rate)
		for i := range x {
			x[i] = 0.3 * math.Sin(2*math.Pi*f*float64(i)/rate)
		}
		return x
	}
	a, b := tone(220), tone(880)
	mix := make([]float64, rate)
	for i := range mix {
		mix[i] = a[i] + b[i]
	}
	r := &report.Report{
		Title:  "Two tones",
		Config: [][2]string{{"Iterations", "200"}},
		Methods: []report.Method{{Name: "NMF K=20", Scores: []report.Score{
			{Mixture: "m1", Speaker: "low", SDR: 7.1, SIR: 11.0, SAR: 9.2},
			{Mixture: "m1", Speaker: "high", SDR: 6.4, SIR: 10.2, SAR: 8.8},
		}}},
		Examples: []report.Example{{
			Name: "m1", Rate: rate, Mixture: mix,
			Sources:   []report.Track{{Name: "low", Samples: a}, {Name: "high", Samples: b}},
			Estimates: []report.Estimate{{Method: "NMF K=20", Tracks: []report.Track{{Name: "low", Samples: a}, {Name: "high", Samples: b}}}},
		}},
		Curves: []report.Curve{{Title: "Training cost", XLabel: "iteration", YLabel: "KL",
			Series: []report.Series{{Name: "low", X: []float64{1, 2, 3}, Y: []float64{9, 5, 4}}}}},
	}
	if err := report.Write(filepath.Join(dir, "report"), r); err != nil {
		log.Fatal(err)
	}
	audio, _ := filepath.Glob(filepath.Join(dir, "report", "audio", "*.wav"))
	figures, _ := filepath.Glob(filepath.Join(dir, "report", "figures", "*.png"))
	fmt.Println(len(audio), "audio files,", len(figures), "figures")
	// Output: 5 audio files, 9 figures
}
