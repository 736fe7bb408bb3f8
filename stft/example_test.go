package stft_test

import (
	"fmt"
	"math"

	"github.com/dlnmf/dlnmf/stft"
)

func Example() {
	p, err := stft.NewPlan(stft.Settings{}) // 1024-point FFT, Hann 1024, hop 256
	if err != nil {
		panic(err)
	}
	x := make([]float64, 16000) // one second at 16 kHz
	for i := range x {
		x[i] = math.Sin(2 * math.Pi * 1000 * float64(i) / 16000)
	}
	s := p.Forward(nil, x)
	mag := s.Magnitude(nil)
	fmt.Printf("%d bins x %d frames\n", s.Bins, s.Frames)
	fmt.Printf("|X| at 1 kHz (bin 64), frame 30: %.1f\n", mag[64*s.Frames+30])

	y := p.Inverse(nil, s, len(x))
	worst := 0.0
	for i := range x {
		worst = math.Max(worst, math.Abs(y[i]-x[i]))
	}
	fmt.Println(len(y), "samples back, exact:", worst < 1e-12)
	// Output:
	// 513 bins x 64 frames
	// |X| at 1 kHz (bin 64), frame 30: 256.0
	// 16000 samples back, exact: true
}
