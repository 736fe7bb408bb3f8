package stft

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

type golden struct {
	s      Settings
	x      []float64
	bins   int
	frames int
	z      []complex128
}

func readGolden(t *testing.T, path string) golden {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	hdr := make([]int, 6)
	for i := range hdr {
		hdr[i] = int(le.Uint64(b[8*i:]))
	}
	b = b[48:]
	g := golden{s: Settings{FFTSize: hdr[1], WindowSize: hdr[2], Hop: hdr[3]}, bins: hdr[4], frames: hdr[5]}
	g.x = make([]float64, hdr[0])
	for i := range g.x {
		g.x[i] = math.Float64frombits(le.Uint64(b[8*i:]))
	}
	b = b[8*len(g.x):]
	g.z = make([]complex128, g.bins*g.frames)
	for i := range g.z {
		g.z[i] = complex(math.Float64frombits(le.Uint64(b[16*i:])), math.Float64frombits(le.Uint64(b[16*i+8:])))
	}
	return g
}

// TestMatchesScipy compares Forward with scipy.signal.stft (times the window
// sum) from testdata/gen_golden.py, to 1e-9 of the largest magnitude.
func TestMatchesScipy(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden_*.bin")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, f := range files {
		g := readGolden(t, f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, err := NewPlan(g.s)
			if err != nil {
				t.Fatal(err)
			}
			if p.Bins() != g.bins || p.Frames(len(g.x)) != g.frames {
				t.Fatalf("plan gives %d x %d, scipy %d x %d", p.Bins(), p.Frames(len(g.x)), g.bins, g.frames)
			}
			s := p.Forward(nil, g.x)
			var peak, diff float64
			for i, v := range g.z {
				peak = max(peak, cmplx.Abs(v))
				diff = max(diff, cmplx.Abs(s.Data[i]-v))
			}
			t.Logf("max difference %.3g of the peak", diff/peak)
			if diff > 1e-9*peak {
				t.Errorf("max difference %.3g, peak %.3g: relative %.3g > 1e-9", diff, peak, diff/peak)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	settings := []Settings{{}, {FFTSize: 512, WindowSize: 400, Hop: 100}, {FFTSize: 256, WindowSize: 255, Hop: 64},
		{FFTSize: 256, Hop: 128}, {FFTSize: 256, Hop: 192}, {FFTSize: 64, WindowSize: 64, Hop: 1}}
	for _, st := range settings {
		p, err := NewPlan(st)
		if err != nil {
			t.Fatalf("%+v: %v", st, err)
		}
		for _, n := range []int{0, 1, 5, 255, 256, 1023, 1024, 1025, 16007, 40961} {
			x := make([]float64, n)
			for i := range x {
				x[i] = rng.NormFloat64()
			}
			y := p.Inverse(nil, p.Forward(nil, x), n)
			if len(y) != n {
				t.Fatalf("%+v n=%d: %d samples back", p.Settings(), n, len(y))
			}
			var ex, ee float64
			for i := range x {
				ex += x[i] * x[i]
				ee += (y[i] - x[i]) * (y[i] - x[i])
			}
			if n > 0 && math.Sqrt(ee/ex) > 1e-9 {
				t.Errorf("%+v n=%d: relative error %.3g", p.Settings(), n, math.Sqrt(ee/ex))
			}
		}
	}
}

func TestDefaultsAndErrors(t *testing.T) {
	p, err := NewPlan(Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Settings(); s != (Settings{1024, 1024, 256}) || p.Bins() != 513 {
		t.Errorf("defaults %+v, %d bins", s, p.Bins())
	}
	if p.Frames(0) != 1 || p.Frames(1) != 2 || p.Frames(256) != 2 || p.Frames(257) != 3 {
		t.Errorf("Frames(0, 1, 256, 257) = %d %d %d %d", p.Frames(0), p.Frames(1), p.Frames(256), p.Frames(257))
	}
	for _, s := range []Settings{{FFTSize: 1024, Hop: 1024}, {FFTSize: 512, WindowSize: 1024}, {FFTSize: -1}, {FFTSize: 1024, Hop: 2000}, {FFTSize: 1, WindowSize: 1}} {
		if _, err := NewPlan(s); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
}

func TestMagnitude(t *testing.T) {
	s := &Spectrogram{Bins: 1, Frames: 2, Data: []complex128{3 + 4i, -1}}
	m := s.Magnitude(nil)
	if m[0] != 5 || m[1] != 1 {
		t.Errorf("Magnitude = %v", m)
	}
}

func TestSineLandsInItsBin(t *testing.T) {
	// A sine at bin 32 of a 1024-point DFT: the middle frames peak there,
	// with magnitude sum(w)/2 = 256 (no scaling).
	p, _ := NewPlan(Settings{})
	x := make([]float64, 8192)
	for i := range x {
		x[i] = math.Cos(2 * math.Pi * 32 * float64(i) / 1024)
	}
	s := p.Forward(nil, x)
	if got := cmplx.Abs(s.At(32, s.Frames/2)); math.Abs(got-256) > 1e-9 {
		t.Errorf("bin 32 magnitude %v, want 256", got)
	}
}

func TestNoAllocationsPerFrame(t *testing.T) {
	p, _ := NewPlan(Settings{})
	x := make([]float64, 16000*5)
	s := p.Forward(nil, x)
	y := make([]float64, len(x))
	if a := testing.AllocsPerRun(5, func() { p.Forward(s, x) }); a > 4 {
		t.Errorf("Forward: %v allocations per call of %d frames", a, s.Frames)
	}
	if a := testing.AllocsPerRun(5, func() { p.Inverse(y, s, len(x)) }); a > 4 {
		t.Errorf("Inverse: %v allocations per call", a)
	}
}

func TestSizePanics(t *testing.T) {
	p, _ := NewPlan(Settings{})
	for name, f := range map[string]func(){
		"forward dst": func() {
			p.Forward(&Spectrogram{Bins: 513, Frames: 3, Data: make([]complex128, 513*3)}, make([]float64, 5000))
		},
		"inverse frames": func() { p.Inverse(nil, p.Forward(nil, make([]float64, 100)), 5000) },
		"inverse dst":    func() { p.Inverse(make([]float64, 3), p.Forward(nil, make([]float64, 100)), 100) },
		"mask size": func() {
			s := p.Forward(nil, make([]float64, 100))
			p.InverseMasked(nil, s, Mask{Bins: s.Bins, Frames: s.Frames - 1, Stride: s.Frames, Data: make([]float32, s.Bins*s.Frames)}, 100)
		},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", name)
				} else if s := fmt.Sprint(r); s[:6] != "stft: " {
					t.Errorf("%s: panic %q without the package tag", name, s)
				}
			}()
			f()
		}()
	}
}

// TestInverseMasked checks that the masked inverse equals the inverse of
// the spectrogram multiplied by the mask, bit for bit, on a signal long
// enough for the two-goroutine path and one short enough for the other,
// with a mask whose stride is wider than its frames.
func TestInverseMasked(t *testing.T) {
	p, _ := NewPlan(Settings{})
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{3000, 48000} {
		x := make([]float64, n)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		s := p.Forward(nil, x)
		m := Mask{Bins: s.Bins, Frames: s.Frames, Stride: s.Frames + 5}
		m.Data = make([]float32, s.Bins*m.Stride)
		prod := &Spectrogram{Bins: s.Bins, Frames: s.Frames, Data: make([]complex128, len(s.Data))}
		for b := 0; b < s.Bins; b++ {
			for j := 0; j < s.Frames; j++ {
				g := rng.Float32()
				m.Data[b*m.Stride+j] = g
				prod.Data[b*s.Frames+j] = s.Data[b*s.Frames+j] * complex(float64(g), 0)
			}
		}
		want := p.Inverse(nil, prod, n)
		got := p.InverseMasked(nil, s, m, n)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("n=%d: sample %d is %v masked, %v from the product", n, i, got[i], want[i])
			}
		}
	}
}

func benchSignal() []float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 60*16000)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// BenchmarkForward: STFT of 60 s at 16 kHz, default settings.
func BenchmarkForward(b *testing.B) {
	p, _ := NewPlan(Settings{})
	x := benchSignal()
	s := p.Forward(nil, x)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Forward(s, x)
	}
}

// BenchmarkInverse: inverse STFT of 60 s at 16 kHz, default settings.
func BenchmarkInverse(b *testing.B) {
	p, _ := NewPlan(Settings{})
	x := benchSignal()
	s := p.Forward(nil, x)
	y := make([]float64, len(x))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Inverse(y, s, len(x))
	}
}
