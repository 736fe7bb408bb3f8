package report

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// TestStreamSpectrogramEqualsWholeSTFT checks that the spectrogram
// computed block by block from a source handing out odd-sized pieces is,
// cell for cell, the dB level of the whole signal's STFT: bit for bit while
// every frame has its own column, the RMS of the frames of each column
// beyond maxColumns frames.
func TestStreamSpectrogramEqualsWholeSTFT(t *testing.T) {
	p, ref, err := defaultPlan()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{100, 1024, 200_003, 256*(maxColumns+300) + 17} {
		x := make([]float64, n)
		for i := range x {
			x[i] = 0.3*math.Sin(float64(i)*0.05) + 0.1*rng.NormFloat64()
		}
		rest := x
		src := func(dst []float64) (int, error) {
			if len(rest) == 0 {
				return 0, nil // io.EOF is not needed: n is known
			}
			k := copy(dst[:min(len(dst), 1+rng.IntN(5000))], rest)
			rest = rest[k:]
			return k, nil
		}
		got, err := streamSpectrogram(src, n, 16000)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		whole := p.Forward(nil, x)
		T, cols := whole.Frames, min(whole.Frames, maxColumns)
		if got.frames != cols || got.bins != whole.Bins {
			t.Fatalf("n=%d: %d x %d, want %d x %d", n, got.bins, got.frames, whole.Bins, cols)
		}
		for b := range whole.Bins {
			for c := range cols {
				// Frame t goes to column t*cols/T (rounded down).
				lo, hi := (c*T+cols-1)/cols, ((c+1)*T+cols-1)/cols
				var pw float64
				for f := lo; f < hi; f++ {
					v := cmplx.Abs(whole.At(b, f))
					pw += v * v
				}
				want := 20*math.Log10(math.Sqrt(pw/float64(hi-lo))+1e-12) - ref
				if hi-lo == 1 {
					want = 20*math.Log10(cmplx.Abs(whole.At(b, lo))+1e-12) - ref // the formula before streaming
				}
				d := got.db[b*cols+c] - want
				if (T == cols && d != 0) || math.Abs(d) > 1e-9 {
					t.Fatalf("n=%d: bin %d column %d: %v, want %v", n, b, c, got.db[b*cols+c], want)
				}
			}
		}
	}
}
