package bsseval_test

import (
	"fmt"
	"log"
	"math"

	"github.com/dlnmf/dlnmf/bsseval"
)

// Score two estimates of two sources, given in swapped order: Permute finds
// the pairing. Each estimate holds some of the other source (interference)
// and a little of a signal neither source has (an artifact).
func Example() {
	const n = 8000
	a, b, noise := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		t := float64(i) / 8000
		a[i] = math.Sin(2*math.Pi*220*t) + 0.5*math.Sin(2*math.Pi*330*t)
		b[i] = math.Sin(2*math.Pi*1250*t) * math.Sin(2*math.Pi*3*t)
		noise[i] = 0.05 * math.Sin(2*math.Pi*2917*t+1)
	}
	estA, estB := make([]float64, n), make([]float64, n)
	for i := range n {
		estA[i] = a[i] + 0.1*b[i] + noise[i]
		estB[i] = b[i] + 0.2*a[i] - noise[i]
	}
	r, err := bsseval.Sources([][]float64{a, b}, [][]float64{estB, estA}, bsseval.Options{Permute: true})
	if err != nil {
		log.Fatal(err)
	}
	for i, name := range []string{"a", "b"} {
		est := [][]float64{estB, estA}[r.Perm[i]]
		si, err := bsseval.SISDR([][]float64{a, b}[i], est, true)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("source %s: estimate %d, SDR %.1f dB, SIR %.1f dB, SAR %.1f dB, SI-SDR %.1f dB\n", name, r.Perm[i], r.SDR[i], r.SIR[i], r.SAR[i], si)
	}
	// Output:
	// source a: estimate 1, SDR 22.3 dB, SIR 24.1 dB, SAR 27.1 dB, SI-SDR 22.2 dB
	// source b: estimate 0, SDR 9.9 dB, SIR 10.2 dB, SAR 23.6 dB, SI-SDR 9.8 dB
}
