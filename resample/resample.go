package resample

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Filter design, relative to the Nyquist frequency of the lower of the two
// rates (see the package comment).
const (
	passEdge    = 0.92  // passband ends here
	stopEdge    = 0.994 // stop band starts here (see the package comment)
	attenuation = 100.0 // dB, the Kaiser design target for the stop band
	maxFactor   = 4096  // largest reduced up or down factor: bounds the table size
)

// Resampler converts signals from one sample rate to another. It holds the
// polyphase filter designed for the ratio; Apply only reads it.
type Resampler struct {
	from, to int
	up, down int       // to/from = up/down, reduced
	taps     int       // taps per phase
	center   int       // (prototype length - 1) / 2: the delay compensated for
	table    []float64 // phase φ's taps, reversed, at table[φ*taps:(φ+1)*taps]
}

// New designs a Resampler from rate from to rate to (in Hz). Both must be
// positive; the reduced ratio to/from = up/down must have up and down at most
// 4096 (every pair of common audio rates does).
func New(from, to int) (*Resampler, error) {
	if from <= 0 || to <= 0 {
		return nil, fmt.Errorf("resample: invalid rates %d Hz -> %d Hz (both must be positive)", from, to)
	}
	g := gcd(from, to)
	r := &Resampler{from: from, to: to, up: to / g, down: from / g}
	if r.up > maxFactor || r.down > maxFactor {
		return nil, fmt.Errorf("resample: %d Hz -> %d Hz reduces to %d/%d, too large a ratio for a polyphase filter (factors up to %d)", from, to, r.up, r.down, maxFactor)
	}
	if r.up == 1 && r.down == 1 {
		return r, nil
	}
	r.design()
	return r, nil
}

// design builds the Kaiser-windowed sinc low-pass at the prototype rate
// up*from and splits it into up phases.
func (r *Resampler) design() {
	L := r.up
	proto := float64(r.from) * float64(L) // prototype rate, Hz
	nyq := float64(min(r.from, r.to)) / 2
	fc := (passEdge + stopEdge) / 2 * nyq / proto // cycles per prototype sample
	dw := 2 * math.Pi * (stopEdge - passEdge) * nyq / proto
	// Kaiser's formulas (Oppenheim & Schafer, 7.2.5) for the window's beta
	// and the filter length that meets the attenuation over the transition.
	beta := 0.1102 * (attenuation - 8.7)
	n := int(math.Ceil((attenuation-7.95)/(2.285*dw))) + 1
	if n%2 == 0 {
		n++ // odd length: the centre tap sits on a sample, the delay is whole
	}
	c := (n - 1) / 2
	h := make([]float64, n)
	i0b := besselI0(beta)
	sum := 0.0
	for i := range h {
		t := float64(i - c)
		u := t / float64(c)
		w := besselI0(beta*math.Sqrt(max(0, 1-u*u))) / i0b
		h[i] = 2 * fc * sinc(2*fc*t) * w
		sum += h[i]
	}
	// Unit gain at DC for the up-sampled stream: each phase then sums to
	// about 1 and a constant passes unchanged.
	scale := float64(L) / sum
	r.taps = (n + L - 1) / L
	r.center = c
	r.table = make([]float64, L*r.taps)
	for phase := 0; phase < L; phase++ {
		row := r.table[phase*r.taps : (phase+1)*r.taps]
		for k := 0; k < r.taps; k++ {
			if idx := phase + k*L; idx < n {
				row[r.taps-1-k] = h[idx] * scale
			}
		}
	}
}

// From returns the input rate in Hz.
func (r *Resampler) From() int { return r.from }

// To returns the output rate in Hz.
func (r *Resampler) To() int { return r.to }

// TapsPerOutput returns the filter taps each output sample costs.
func (r *Resampler) TapsPerOutput() int { return r.taps }

// OutputLen returns the number of output samples for n input samples,
// ceil(n*to/from).
func (r *Resampler) OutputLen(n int) int {
	if n < 0 {
		panic("resample: negative length")
	}
	return int((int64(n)*int64(r.up) + int64(r.down) - 1) / int64(r.down))
}

// Apply resamples x into dst and returns dst. dst must have length
// OutputLen(len(x)); Apply allocates it when dst is nil and panics on a
// length mismatch. dst and x must not overlap.
func (r *Resampler) Apply(dst, x []float64) []float64 {
	m := r.OutputLen(len(x))
	if dst == nil {
		dst = make([]float64, m)
	} else if len(dst) != m {
		panic(fmt.Sprintf("resample: dst has length %d, want %d for %d input samples", len(dst), m, len(x)))
	}
	if r.table == nil { // same rate
		copy(dst, x)
		return dst
	}
	// Two goroutines when there is enough work and a second CPU: the
	// outputs are independent and the Resampler is read-only.
	if m := len(dst); m >= parallelMin && runtime.GOMAXPROCS(0) > 1 {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.applyRange(dst, x, m/2, m)
		}()
		r.applyRange(dst, x, 0, m/2)
		wg.Wait()
		return dst
	}
	r.applyRange(dst, x, 0, len(dst))
	return dst
}

// parallelMin is the output length from which Apply uses two goroutines.
const parallelMin = 1 << 15

// applyRange computes outputs [j0, j1) of dst.
func (r *Resampler) applyRange(dst, x []float64, j0, j1 int) {
	for j := j0; j < j1; j++ {
		dst[j] = r.output(x, 0, len(x), j)
	}
}

// output computes output sample j of a signal of n input samples (n < 0:
// the length is not known yet, but every sample output j needs has
// arrived). x holds input samples base, base+1, ...: every sample from the
// oldest one output j needs (or 0) up to the newest one (or n-1). Apply and
// Stream both compute through here, so they agree to the last bit.
func (r *Resampler) output(x []float64, base, n, j int) float64 {
	K := r.taps
	// Output j sits at prototype sample j*down; the filter's centre is c
	// samples in, so the newest input it touches is p/up.
	p := j*r.down + r.center
	phase := p % r.up
	hi := p / r.up // newest input sample (inclusive)
	lo := hi - K + 1
	row := r.table[phase*K : (phase+1)*K]
	if lo >= 0 && (n < 0 || hi < n) {
		if r.up == 1 {
			// One phase: the whole linear-phase filter, symmetric, so
			// half the multiplications do.
			return dotSymmetric(row, x[lo-base:hi+1-base])
		}
		return dot(row, x[lo-base:hi+1-base])
	}
	// Near the ends the signal is zero outside x.
	a, b := max(lo, 0), hi
	if n >= 0 {
		b = min(hi, n-1)
	}
	if a > b {
		return 0
	}
	return dot(row[a-lo:b-lo+1], x[a-base:b+1-base])
}

// Resample returns x converted from rate from to rate to. When the rates are
// equal it returns a copy of x.
func Resample(x []float64, from, to int) ([]float64, error) {
	r, err := New(from, to)
	if err != nil {
		return nil, err
	}
	return r.Apply(nil, x), nil
}

// dot returns the dot product of a and b, of equal length, with four
// independent accumulators so the additions pipeline.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dotSymmetric returns dot(h, b) for a symmetric h of odd length
// (h[k] == h[len(h)-1-k]), pairing the samples that share a tap.
func dotSymmetric(h, b []float64) float64 {
	K := len(h)
	b = b[:K]
	mid := K / 2
	var s0, s1 float64
	k := 0
	for ; k+2 <= mid; k += 2 {
		s0 += h[k] * (b[k] + b[K-1-k])
		s1 += h[k+1] * (b[k+1] + b[K-2-k])
	}
	for ; k < mid; k++ {
		s0 += h[k] * (b[k] + b[K-1-k])
	}
	return s0 + s1 + h[mid]*b[mid]
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0, by
// its power series, which converges fast for the arguments a Kaiser window
// needs (up to beta, about 10).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 500; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
