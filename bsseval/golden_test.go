package bsseval

import (
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"testing"
)

// The golden file is written by testdata/gen_golden.py with mir_eval 0.7.

// jfloat reads the golden file's numbers: "+Inf"/"-Inf" strings and null
// (NaN) stand for the values JSON cannot hold.
type jfloat float64

func (f *jfloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "null":
		*f = jfloat(math.NaN())
	case `"+Inf"`:
		*f = jfloat(math.Inf(1))
	case `"-Inf"`:
		*f = jfloat(math.Inf(-1))
	default:
		var v float64
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*f = jfloat(v)
	}
	return nil
}

type goldenCase struct {
	Name          string
	Nsrc, Samples int
	Offset        int
	Permute       bool
	SDR, SIR, SAR []jfloat
	Perm          []int
	Framewise     *struct {
		Window, Hop   int
		SDR, SIR, SAR [][]jfloat
		Perm          [][]jfloat
	}
}

type golden struct {
	Scale float64
	Cases []goldenCase
	data  []int16
}

func loadGolden(t testing.TB) *golden {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/signals.i16.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	g.data = make([]int16, len(raw)/2)
	for i := range g.data {
		g.data[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return &g
}

// signals returns the references and estimates of case c.
func (g *golden) signals(c goldenCase) (refs, ests [][]float64) {
	at := c.Offset
	read := func() [][]float64 {
		s := make([][]float64, c.Nsrc)
		for i := range s {
			s[i] = make([]float64, c.Samples)
			for t := range s[i] {
				s[i][t] = float64(g.data[at+t]) / g.Scale
			}
			at += c.Samples
		}
		return s
	}
	refs = read()
	ests = read()
	return refs, ests
}

// goldenTol is the agreement required with mir_eval, in dB.
const goldenTol = 1e-6

func sameDB(got, want float64) bool {
	if math.IsInf(want, 0) || math.IsNaN(want) {
		return got == want || (math.IsNaN(got) && math.IsNaN(want))
	}
	return math.Abs(got-want) <= goldenTol
}

func TestGoldenMirEval(t *testing.T) {
	g := loadGolden(t)
	if len(g.Cases) < 20 {
		t.Fatalf("golden file has %d cases, want at least 20", len(g.Cases))
	}
	worst := 0.0
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			refs, ests := g.signals(c)
			r, err := Sources(refs, ests, Options{Permute: c.Permute})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < c.Nsrc; i++ {
				for _, m := range []struct {
					name      string
					got, want float64
				}{{"SDR", r.SDR[i], float64(c.SDR[i])}, {"SIR", r.SIR[i], float64(c.SIR[i])}, {"SAR", r.SAR[i], float64(c.SAR[i])}} {
					if !sameDB(m.got, m.want) {
						t.Errorf("source %d: %s = %.12g, mir_eval %.12g (diff %.3g dB)", i, m.name, m.got, m.want, m.got-m.want)
					}
					if d := math.Abs(m.got - m.want); d > worst && !math.IsInf(m.want, 0) {
						worst = d
					}
				}
				if r.Perm[i] != c.Perm[i] {
					t.Errorf("perm = %v, mir_eval %v", r.Perm, c.Perm)
				}
			}
		})
	}
	t.Logf("largest difference from mir_eval: %.3g dB", worst)
}

func TestGoldenFramewise(t *testing.T) {
	g := loadGolden(t)
	n := 0
	for _, c := range g.Cases {
		if c.Framewise == nil {
			continue
		}
		n++
		fw := c.Framewise
		t.Run(c.Name, func(t *testing.T) {
			refs, ests := g.signals(c)
			r, err := SourcesFramewise(refs, ests, fw.Window, fw.Hop, Options{Permute: c.Permute})
			if err != nil {
				t.Fatal(err)
			}
			if r.Frames() != len(fw.SDR[0]) {
				t.Fatalf("%d frames, mir_eval %d", r.Frames(), len(fw.SDR[0]))
			}
			for i := range fw.SDR {
				for k := range fw.SDR[i] {
					if !sameDB(r.SDR[i][k], float64(fw.SDR[i][k])) || !sameDB(r.SIR[i][k], float64(fw.SIR[i][k])) ||
						!sameDB(r.SAR[i][k], float64(fw.SAR[i][k])) || float64(r.Perm[i][k]) != float64(fw.Perm[i][k]) {
						t.Errorf("source %d frame %d: got %v %v %v %v, mir_eval %v %v %v %v", i, k,
							r.SDR[i][k], r.SIR[i][k], r.SAR[i][k], r.Perm[i][k], fw.SDR[i][k], fw.SIR[i][k], fw.SAR[i][k], fw.Perm[i][k])
					}
				}
			}
		})
	}
	if n == 0 {
		t.Fatal("no framewise cases in the golden file")
	}
}
