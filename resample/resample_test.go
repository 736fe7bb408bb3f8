package resample

import (
	"fmt"
	"math"
	"testing"
)

func tone(freq float64, rate, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Sin(2*math.Pi*freq*float64(i)/float64(rate) + 0.3)
	}
	return x
}

// compare returns the level of y relative to want and the error energy
// relative to want's, both in dB, over the middle of the signals (away from
// the edges, where the zero extension outside x shows).
func compare(y, want []float64, edge int) (levelDB, errDB float64) {
	var ey, ew, ee float64
	for i := edge; i < len(want)-edge; i++ {
		ey += y[i] * y[i]
		ew += want[i] * want[i]
		d := y[i] - want[i]
		ee += d * d
	}
	return 10 * math.Log10(ey/ew), 10 * math.Log10(ee/ew)
}

// edgeOut is how many output samples near each end the filter's zero
// extension reaches, plus a margin.
func edgeOut(r *Resampler) int {
	return r.taps*r.up/r.down + 10
}

func TestResampleLevelAndError(t *testing.T) {
	r, err := New(48000, 16000)
	if err != nil {
		t.Fatal(err)
	}
	// A 1 kHz sine keeps its level within 0.01 dB, the error 90 dB below.
	y := r.Apply(nil, tone(1000, 48000, 48000))
	level, errDB := compare(y, tone(1000, 16000, 16000), edgeOut(r))
	t.Logf("1 kHz 48->16 kHz: level %+.6f dB, error %.1f dB", level, errDB)
	if math.Abs(level) > 0.01 || errDB > -90 {
		t.Errorf("1 kHz 48->16 kHz: level %+.4f dB (want within 0.01), error %.1f dB (want <= -90)", level, errDB)
	}
	// A 9 kHz tone, above the new Nyquist frequency, comes out 80 dB down.
	y = r.Apply(y, tone(9000, 48000, 48000)) // reuses y
	level, _ = compare(y, tone(9000, 16000, 16000), edgeOut(r))
	t.Logf("9 kHz 48->16 kHz: %.1f dB", level)
	if level > -80 {
		t.Errorf("9 kHz 48->16 kHz: %.1f dB, want <= -80", level)
	}
}

// TestPassbandAndStopband checks ripple (level within 0.01 dB, error 80 dB
// down) up to 0.9 of the lower Nyquist frequency, and stop-band rejection
// (90 dB) above it, down and up.
func TestPassbandAndStopband(t *testing.T) {
	for _, c := range [][2]int{{44100, 16000}, {48000, 16000}, {16000, 48000}, {16000, 44100}, {8000, 22050}} {
		from, to := c[0], c[1]
		t.Run(fmt.Sprintf("%d-%d", from, to), func(t *testing.T) {
			r, err := New(from, to)
			if err != nil {
				t.Fatal(err)
			}
			nyq := float64(min(from, to)) / 2
			n := from / 2
			worst := 0.0
			for _, f := range []float64{50, 0.1 * nyq, 0.37 * nyq, 0.6 * nyq, 0.8 * nyq, 0.9 * nyq} {
				y := r.Apply(nil, tone(f, from, n))
				level, errDB := compare(y, tone(f, to, len(y)), edgeOut(r))
				worst = max(worst, math.Abs(level))
				if math.Abs(level) > 0.01 || errDB > -80 {
					t.Errorf("%.0f Hz: level %+.4f dB, error %.1f dB", f, level, errDB)
				}
			}
			t.Logf("passband worst level deviation %.2g dB", worst)
			if from > to { // down: everything above the new Nyquist must go
				for _, f := range []float64{1.02 * nyq, 1.3 * nyq, 2.5 * nyq, 0.98 * float64(from) / 2} {
					y := r.Apply(nil, tone(f, from, n))
					var e float64
					for _, v := range y[edgeOut(r) : len(y)-edgeOut(r)] {
						e += v * v
					}
					db := 10 * math.Log10(e/float64(len(y)-2*edgeOut(r))/0.5)
					if db > -90 {
						t.Errorf("%.0f Hz: %.1f dB, want <= -90", f, db)
					}
				}
			} else { // up: no images, the output is the band-limited tone
				for _, f := range []float64{0.5 * nyq, 0.85 * nyq} {
					y := r.Apply(nil, tone(f, from, n))
					_, errDB := compare(y, tone(f, to, len(y)), edgeOut(r))
					if errDB > -90 {
						t.Errorf("%.0f Hz: images %.1f dB, want <= -90", f, errDB)
					}
				}
			}
		})
	}
}

func TestCommonRates(t *testing.T) {
	rates := []int{8000, 11025, 16000, 22050, 32000, 44100, 48000}
	for _, from := range rates {
		for _, to := range rates {
			r, err := New(from, to)
			if err != nil {
				t.Fatalf("%d->%d: %v", from, to, err)
			}
			x := make([]float64, 1001)
			for i := range x {
				x[i] = 0.5
			}
			y := r.Apply(nil, x)
			if want := int(math.Ceil(float64(len(x)) * float64(to) / float64(from))); len(y) != want {
				t.Errorf("%d->%d: %d samples, want %d", from, to, len(y), want)
			}
			// A constant passes unchanged, away from the ends.
			if mid := y[len(y)/2]; math.Abs(mid-0.5) > 1e-4 {
				t.Errorf("%d->%d: DC 0.5 became %v", from, to, mid)
			}
		}
	}
}

func TestZeroDelayImpulse(t *testing.T) {
	// An impulse at input sample 3000 (= output 1000 at 48->16 kHz) peaks
	// exactly there, and the response is symmetric around it.
	r, _ := New(48000, 16000)
	x := make([]float64, 6000)
	x[3000] = 1
	y := r.Apply(nil, x)
	peak := 0
	for i := range y {
		if math.Abs(y[i]) > math.Abs(y[peak]) {
			peak = i
		}
	}
	if peak != 1000 {
		t.Fatalf("peak at %d, want 1000", peak)
	}
	for k := 1; k < 100; k++ {
		if math.Abs(y[1000+k]-y[1000-k]) > 1e-15 {
			t.Fatalf("response not symmetric at %d: %v vs %v", k, y[1000+k], y[1000-k])
		}
	}
}

func TestIdentityAndErrors(t *testing.T) {
	x := []float64{1, 2, 3}
	y, err := Resample(x, 16000, 16000)
	if err != nil || len(y) != 3 || y[2] != 3 || &y[0] == &x[0] {
		t.Errorf("same rate: %v %v (want a copy)", y, err)
	}
	for _, c := range [][2]int{{0, 16000}, {16000, -1}, {44101, 48000}} {
		if _, err := New(c[0], c[1]); err == nil {
			t.Errorf("New(%d, %d): no error", c[0], c[1])
		}
	}
	if y, _ := Resample(nil, 48000, 16000); len(y) != 0 {
		t.Errorf("empty input gave %d samples", len(y))
	}
	if y, _ := Resample([]float64{1}, 16000, 48000); len(y) != 3 {
		t.Errorf("one sample up 3x gave %d samples", len(y))
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic on a dst of the wrong length")
		}
	}()
	r, _ := New(48000, 16000)
	r.Apply(make([]float64, 5), make([]float64, 30))
}

func BenchmarkResample48to16(b *testing.B) {
	r, err := New(48000, 16000)
	if err != nil {
		b.Fatal(err)
	}
	x := tone(440, 48000, 60*48000)
	dst := make([]float64, r.OutputLen(len(x)))
	b.SetBytes(int64(8 * len(x)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Apply(dst, x)
	}
}

func BenchmarkNew44100to16000(b *testing.B) {
	for i := 0; i < b.N; i++ {
		New(44100, 16000)
	}
}

// TestLongSignalsMatchShortOnes checks the two-goroutine path and the
// symmetric dot product against the plain serial loop.
func TestLongSignalsMatchShortOnes(t *testing.T) {
	for _, c := range [][2]int{{48000, 16000}, {44100, 16000}, {16000, 48000}} {
		r, _ := New(c[0], c[1])
		x := tone(1234, c[0], 3*c[0])
		y := r.Apply(nil, x)
		want := make([]float64, len(y))
		r.applyRange(want, x, 0, len(want))
		for j := range y {
			if math.Abs(y[j]-want[j]) > 1e-13 {
				t.Fatalf("%v: output %d: %v vs %v", c, j, y[j], want[j])
			}
		}
		// A plain dot product over the middle agrees too.
		j := len(y) / 2
		p := j*r.down + r.center
		lo := p/r.up - r.taps + 1
		if d := dot(r.table[(p%r.up)*r.taps:(p%r.up+1)*r.taps], x[lo:lo+r.taps]); math.Abs(d-y[j]) > 1e-13 {
			t.Errorf("%v: symmetric %v, plain %v", c, y[j], d)
		}
	}
}
