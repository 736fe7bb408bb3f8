package stft

import (
	"fmt"
	"math"
	"math/cmplx"
	"runtime"
	"sync"

	"github.com/dlnmf/dlnmf/internal/fft"
)

// Settings are the STFT sizes in samples. The zero value of a field means
// its default: FFTSize 1024, WindowSize = FFTSize, Hop = WindowSize/4.
type Settings struct {
	FFTSize    int // DFT length; Bins = FFTSize/2 + 1
	WindowSize int // periodic Hann window length, at most FFTSize
	Hop        int // frame advance, at most WindowSize
}

// withDefaults fills the zero fields.
func (s Settings) withDefaults() Settings {
	if s.FFTSize == 0 {
		s.FFTSize = 1024
	}
	if s.WindowSize == 0 {
		s.WindowSize = s.FFTSize
	}
	if s.Hop == 0 {
		s.Hop = s.WindowSize / 4
	}
	return s
}

// Spectrogram is a complex STFT, frequency x time, row-major: bin b of
// frame t is Data[b*Frames+t].
type Spectrogram struct {
	Bins, Frames int
	Data         []complex128
}

// At returns bin b of frame t.
func (s *Spectrogram) At(b, t int) complex128 { return s.Data[b*s.Frames+t] }

// Magnitude returns |X| in the same layout as s.Data. It allocates dst when
// dst is nil and panics when its length differs from len(s.Data).
func (s *Spectrogram) Magnitude(dst []float64) []float64 {
	if dst == nil {
		dst = make([]float64, len(s.Data))
	} else if len(dst) != len(s.Data) {
		panic(fmt.Sprintf("stft: Magnitude dst has length %d, want %d", len(dst), len(s.Data)))
	}
	for i, v := range s.Data {
		dst[i] = cmplx.Abs(v)
	}
	return dst
}

// minDenominator is how small, relative to its peak, the overlap-add of the
// squared window may get before NewPlan refuses the window/hop pair: below
// it the inverse would amplify rounding errors (or divide by zero).
const minDenominator = 1e-3

// block is how many frames a worker transforms before it moves them between
// the frame-major work space and the row-major Spectrogram, so that those
// strided copies touch whole cache lines.
const block = 16

// Plan is a reusable STFT set-up: the window, FFT plans and work space for
// one Settings. A Plan is not safe for concurrent use.
type Plan struct {
	s       Settings
	bins    int
	window  []float64
	steady  []float64 // overlap-add of the squared window, by position mod Hop
	overlap []float64 // Inverse's seam between its two goroutines, WindowSize
	workers [2]*worker
}

// worker is one goroutine's buffers and the (shared, concurrency-safe) FFT
// plan.
type worker struct {
	fft   *fft.Real
	frame []float64    // FFTSize real samples
	coef  []complex128 // block frames of Bins coefficients, frame-major
}

// NewPlan returns a Plan for s (zero fields take their defaults). It returns
// an error when a size is invalid or the window/hop pair cannot reconstruct
// a signal: the overlap-add of the squared window nearly vanishes somewhere.
func NewPlan(s Settings) (*Plan, error) {
	s = s.withDefaults()
	switch {
	case s.FFTSize < 2:
		return nil, fmt.Errorf("stft: FFT size %d, want at least 2", s.FFTSize)
	case s.WindowSize < 2 || s.WindowSize > s.FFTSize:
		return nil, fmt.Errorf("stft: window size %d, want 2 to the FFT size %d", s.WindowSize, s.FFTSize)
	case s.Hop < 1 || s.Hop > s.WindowSize:
		return nil, fmt.Errorf("stft: hop %d, want 1 to the window size %d", s.Hop, s.WindowSize)
	}
	p := &Plan{s: s, bins: s.FFTSize/2 + 1}
	W := s.WindowSize
	p.window = make([]float64, W)
	for k := range p.window {
		// Periodic Hann: the DFT-even window of scipy's get_window('hann', W).
		p.window[k] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(k)/float64(W))
	}
	p.steady = make([]float64, s.Hop)
	for k, w := range p.window {
		p.steady[k%s.Hop] += w * w
	}
	lo, hi := math.Inf(1), 0.0
	for _, v := range p.steady {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < minDenominator*hi {
		return nil, fmt.Errorf("stft: a %d-sample Hann window with hop %d cannot reconstruct: the overlap-add of the squared window falls to %.3g of its peak (use a hop of at most 3/4 of the window)", W, s.Hop, lo/hi)
	}
	p.overlap = make([]float64, W)
	plan := fft.NewReal(s.FFTSize)
	for i := range p.workers {
		p.workers[i] = &worker{
			fft:   plan,
			frame: make([]float64, s.FFTSize),
			coef:  make([]complex128, block*p.bins),
		}
	}
	return p, nil
}

// Settings returns the plan's settings, defaults filled in.
func (p *Plan) Settings() Settings { return p.s }

// Bins returns the number of frequency bins, FFTSize/2 + 1.
func (p *Plan) Bins() int { return p.bins }

// Window returns the analysis window (do not modify it).
func (p *Plan) Window() []float64 { return p.window }

// Frames returns the number of frames of a signal of n samples.
func (p *Plan) Frames(n int) int { return p.s.Frames(n) }

// Frames returns the number of frames of a signal of n samples with the
// settings s (their defaults applied, as Plan.Settings returns them).
func (s Settings) Frames(n int) int {
	if n < 0 {
		panic("stft: negative signal length")
	}
	ext := n + 2*(s.WindowSize/2) - s.WindowSize // extended length minus one window
	if ext <= 0 {
		return 1
	}
	return 1 + (ext+s.Hop-1)/s.Hop
}

// Forward computes the STFT of x into dst and returns dst. When dst is nil or
// empty (no bins and no frames) it is allocated (an empty dst reuses its
// Data's capacity); otherwise its sizes must be Bins() x Frames(len(x)) or
// Forward panics.
func (p *Plan) Forward(dst *Spectrogram, x []float64) *Spectrogram {
	T := p.Frames(len(x))
	size := p.bins * T
	switch {
	case dst == nil:
		dst = &Spectrogram{Bins: p.bins, Frames: T, Data: make([]complex128, size)}
	case dst.Bins == 0 && dst.Frames == 0:
		if cap(dst.Data) >= size {
			dst.Data = dst.Data[:size]
		} else {
			dst.Data = make([]complex128, size)
		}
		dst.Bins, dst.Frames = p.bins, T
	case dst.Bins != p.bins || dst.Frames != T || len(dst.Data) != size:
		panic(fmt.Sprintf("stft: Forward dst is %d x %d (%d values), want %d x %d", dst.Bins, dst.Frames, len(dst.Data), p.bins, T))
	}
	// Two goroutines when there is enough work and a second CPU.
	if runtime.GOMAXPROCS(0) > 1 && T >= 8*block {
		mid := (T / 2) / block * block
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.forwardFrames(p.workers[1], dst, x, mid, T)
		}()
		p.forwardFrames(p.workers[0], dst, x, 0, mid)
		wg.Wait()
	} else {
		p.forwardFrames(p.workers[0], dst, x, 0, T)
	}
	return dst
}

// forwardFrames transforms frames [t0, t1) of x into dst.
func (p *Plan) forwardFrames(w *worker, dst *Spectrogram, x []float64, t0, t1 int) {
	W, hop, half := p.s.WindowSize, p.s.Hop, p.s.WindowSize/2
	bins, T := p.bins, dst.Frames
	for tb := t0; tb < t1; tb += block {
		nb := min(block, t1-tb)
		for j := 0; j < nb; j++ {
			start := (tb+j)*hop - half // first input sample of the frame
			fr := w.frame
			if start >= 0 && start+W <= len(x) {
				windowFrame(fr[:W], p.window, x[start:start+W])
			} else {
				for k, wk := range p.window {
					if i := start + k; i >= 0 && i < len(x) {
						fr[k] = wk * x[i]
					} else {
						fr[k] = 0
					}
				}
			}
			clear(fr[W:])
			w.fft.Forward(w.coef[j*bins:(j+1)*bins], fr)
		}
		transposeFrames(dst.Data[tb:], T, w.coef, bins, nb)
	}
}

// inverseFrames overlap-adds the windowed inverse DFTs of frames [t0, t1)
// of s: into dst, except that samples before split go to
// p.overlap[i-base].
func (p *Plan) inverseFrames(w *worker, dst []float64, s *Spectrogram, m *Mask, t0, t1, split, base int) {
	W, hop, half := p.s.WindowSize, p.s.Hop, p.s.WindowSize/2
	bins, T, n := p.bins, s.Frames, len(dst)
	scale := 1 / float64(p.s.FFTSize) // the inverse FFT is unnormalised
	for tb := t0; tb < t1; tb += block {
		nb := min(block, t1-tb)
		gatherFrames(w.coef, bins, s.Data[tb:], T, m, tb, nb)
		for j := 0; j < nb; j++ {
			fr := w.fft.Inverse(w.frame, w.coef[j*bins:(j+1)*bins])
			start := (tb+j)*hop - half
			k0, k1 := max(0, -start), min(W, n-start)
			if ks := min(max(split-start, k0), k1); ks > k0 {
				overlapAdd(p.overlap[start+k0-base:start+ks-base], p.window[k0:ks], scale, fr[k0:ks])
				k0 = ks
			}
			if k1 > k0 {
				overlapAdd(dst[start+k0:start+k1], p.window[k0:k1], scale, fr[k0:k1])
			}
		}
	}
}

// Inverse returns the signal of n samples whose STFT is s, by weighted
// overlap-add: the inverse DFT of each frame, windowed, added at its place
// and divided by the overlap-add of the squared window. s must be Bins() x
// Frames(n), or Inverse panics. dst must have length n; Inverse allocates it
// when dst is nil and panics on a length mismatch. The imaginary parts of
// the DC and Nyquist bins are ignored (a real signal has none).
func (p *Plan) Inverse(dst []float64, s *Spectrogram, n int) []float64 {
	return p.inverse(dst, s, nil, n)
}

// Mask is a real gain per bin and frame (Bins x Frames, row-major with
// Stride), such as a Wiener gain.
type Mask struct {
	Bins, Frames, Stride int
	Data                 []float32
}

// InverseMasked is Inverse of s multiplied bin by bin by the mask m, without
// forming that product: separation resynthesises each source from the
// mixture's STFT this way.
func (p *Plan) InverseMasked(dst []float64, s *Spectrogram, m Mask, n int) []float64 {
	if m.Bins != s.Bins || m.Frames != s.Frames || m.Stride < m.Frames || len(m.Data) < (m.Bins-1)*m.Stride+m.Frames {
		panic(fmt.Sprintf("stft: InverseMasked with a %d x %d mask (stride %d, %d values) for a %d x %d spectrogram", m.Bins, m.Frames, m.Stride, len(m.Data), s.Bins, s.Frames))
	}
	return p.inverse(dst, s, &m, n)
}

func (p *Plan) inverse(dst []float64, s *Spectrogram, m *Mask, n int) []float64 {
	T := p.Frames(n)
	if s.Bins != p.bins || s.Frames != T || len(s.Data) != p.bins*T {
		panic(fmt.Sprintf("stft: Inverse of a %d x %d spectrogram, want %d x %d for %d samples", s.Bins, s.Frames, p.bins, T, n))
	}
	if dst == nil {
		dst = make([]float64, n)
	} else if len(dst) != n {
		panic(fmt.Sprintf("stft: Inverse dst has length %d, want %d", len(dst), n))
	}
	clear(dst)
	W, hop, half := p.s.WindowSize, p.s.Hop, p.s.WindowSize/2
	if runtime.GOMAXPROCS(0) > 1 && T >= 8*block {
		// Two goroutines: the first adds frames [0, mid) into dst below
		// split; the second adds frames [mid, T) into dst from split on and
		// the part of its first frames that reaches below split into
		// p.overlap, added once both are done. No sample has two writers.
		mid := (T / 2) / block * block
		base := mid*hop - half // first sample the second half touches
		split := min((mid-1)*hop-half+W, n)
		clear(p.overlap)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.inverseFrames(p.workers[1], dst, s, m, mid, T, split, base)
		}()
		p.inverseFrames(p.workers[0], dst, s, m, 0, mid, 0, 0)
		wg.Wait()
		for i := max(base, 0); i < split; i++ {
			dst[i] += p.overlap[i-base]
		}
	} else {
		p.inverseFrames(p.workers[0], dst, s, m, 0, T, 0, 0)
	}
	// Divide by the overlap-add of the squared window: the periodic steady
	// value in the middle, summed frame by frame near the ends where frames
	// are missing.
	// Samples i in [i0, i1) have pos = i + half in [W-1, T hop): the
	// steady part, walked with a running phase instead of a division per
	// sample.
	i0 := min(max(W-1-half, 0), n)
	i1 := max(min(T*hop-half, n), i0)
	for i := range i0 {
		p.normaliseEdge(dst, i, T)
	}
	ph := (i0 + half) % hop
	for i := i0; i < i1; i++ {
		if d := p.steady[ph]; d > 1e-10 {
			dst[i] /= d
		}
		if ph++; ph == hop {
			ph = 0
		}
	}
	for i := i1; i < n; i++ {
		p.normaliseEdge(dst, i, T)
	}
	return dst
}

// normaliseEdge divides sample i of a T-frame inverse, near an end where
// frames are missing, by the overlap-add of the squared window there.
func (p *Plan) normaliseEdge(dst []float64, i, T int) {
	W, hop := p.s.WindowSize, p.s.Hop
	pos := i + W/2 // position in the zero-extended signal
	var d float64
	for t := max(0, (pos-W+hop)/hop); t <= min(T-1, pos/hop); t++ {
		if k := pos - t*hop; k >= 0 && k < W {
			d += p.window[k] * p.window[k]
		}
	}
	if d > 1e-10 {
		dst[i] /= d
	}
}
