package resample

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestStreamEqualsApply feeds signals in random pieces (empty ones, single
// samples, pieces longer than the filter) and checks that the stream's
// output is Apply's, bit for bit, for up- and down-sampling, odd ratios,
// equal rates and signals shorter than the filter.
func TestStreamEqualsApply(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 1))
	for _, c := range [][2]int{{48000, 16000}, {16000, 48000}, {44100, 16000}, {16000, 44100}, {8000, 16000}, {16000, 16000}, {22050, 16000}} {
		r, err := New(c[0], c[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, 7, 300, 5000, 37011} {
			t.Run(fmt.Sprintf("%d-%d/%d", c[0], c[1], n), func(t *testing.T) {
				x := make([]float64, n)
				for i := range x {
					x[i] = rng.NormFloat64()
				}
				want := r.Apply(nil, x)
				s := r.NewStream()
				var got []float64
				for i := 0; i < n; {
					var k int
					switch rng.IntN(4) {
					case 0:
						k = 0
					case 1:
						k = 1
					case 2:
						k = rng.IntN(50)
					default:
						k = rng.IntN(3000)
					}
					k = min(k, n-i)
					got = s.Append(got, x[i:i+k])
					i += k
				}
				got = s.Finish(got)
				got = s.Finish(got) // a second Finish adds nothing
				if len(got) != len(want) {
					t.Fatalf("stream gave %d samples, Apply %d", len(got), len(want))
				}
				for j := range want {
					if got[j] != want[j] {
						t.Fatalf("output %d: stream %v, Apply %v", j, got[j], want[j])
					}
				}
				if len(s.buf) != 0 {
					t.Errorf("buffer of %d samples kept after Finish", len(s.buf))
				}
			})
		}
	}
}

// TestStreamMemoryStaysBounded checks that the stream keeps about one
// filter's worth of input, however long the signal.
func TestStreamMemoryStaysBounded(t *testing.T) {
	r, _ := New(48000, 16000)
	s := r.NewStream()
	x := make([]float64, 4800)
	var out []float64
	for range 500 {
		out = s.Append(out[:0], x)
		if len(s.buf) > r.taps+len(x) {
			t.Fatalf("stream holds %d input samples, filter %d taps", len(s.buf), r.taps)
		}
	}
}

func TestStreamAppendAfterFinishPanics(t *testing.T) {
	r, _ := New(48000, 16000)
	s := r.NewStream()
	s.Finish(nil)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	s.Append(nil, []float64{1})
}
