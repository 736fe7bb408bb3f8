package separation

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/npz"
)

const testRate = 16000

// synthVoice makes a seconds-long signal from a fixed set of "notes": each
// note is a harmonic tone with its own fundamental and spectral tilt, and
// notes switch on and off at random. Two voices with different fundamentals
// have different spectral bases, which is what supervised NMF separation
// needs.
func synthVoice(f0s []float64, seconds float64, seed uint64) []float64 {
	return synthVoiceAt(testRate, 0, f0s, seconds, seed)
}

// synthVoiceAt is synthVoice at rate, with harmonics up to top Hz (0: the
// usual 6 f0 + 1000 Hz); the notes and phases do not depend on rate.
func synthVoiceAt(rate int, top float64, f0s []float64, seconds float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 99))
	n := int(seconds * float64(rate))
	x := make([]float64, n)
	seg := rate / 8 // a note lasts 125 ms
	if top == 0 {
		top = 6*f0s[0] + 1000
	}
	for start := 0; start < n; start += seg {
		f0 := f0s[rng.IntN(len(f0s))]
		amp := 0.1 + 0.2*rng.Float64()
		for h := 1; float64(h)*f0 < top; h++ {
			a := amp / float64(h)
			ph := rng.Float64() * 2 * math.Pi
			for i := start; i < min(start+seg, n); i++ {
				// A raised-cosine envelope avoids clicks between notes.
				env := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i-start)/float64(seg))
				x[i] += env * a * math.Sin(2*math.Pi*f0*float64(h)*float64(i)/float64(rate)+ph)
			}
		}
	}
	return x
}

var (
	lowNotes  = []float64{110, 123, 138, 155}
	highNotes = []float64{1210, 1370, 1530, 1690}
)

func mixOf(a, b []float64) []float64 {
	m := make([]float64, min(len(a), len(b)))
	for i := range m {
		m[i] = a[i] + b[i]
	}
	return m
}

// separateWith separates x with m and settings s.
func separateWith(t *testing.T, m *Model, s SeparateSettings, x []float64) [][]float64 {
	t.Helper()
	sep, err := NewSeparator(m, s)
	if err != nil {
		t.Fatal(err)
	}
	est, err := sep.Separate(x)
	if err != nil {
		t.Fatal(err)
	}
	return est
}

// roundTrip encodes m as a model file and decodes it back.
func roundTrip(t *testing.T, m *Model) *Model {
	t.Helper()
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatalf("encode: %v", err)
	}
	back, err := Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return back
}

func trainSynthetic(t *testing.T, method Method, sizes []int) *Model {
	t.Helper()
	return trainSyntheticWith(t, TrainSettings{Method: method, Sizes: sizes})
}

// trainSyntheticWith trains on the synthetic voices with s, whose
// iteration counts and seed it sets.
func trainSyntheticWith(t *testing.T, s TrainSettings) *Model {
	t.Helper()
	speakers := []SpeakerData{
		{Name: "low", Utterances: [][]float64{synthVoice(lowNotes, 4, 1), synthVoice(lowNotes, 3, 2)}},
		{Name: "high", Utterances: [][]float64{synthVoice(highNotes, 4, 3), synthVoice(highNotes, 3, 4)}},
	}
	var disc []MixtureData
	for j := range 2 {
		a, b := synthVoice(lowNotes, 2, uint64(10+j)), synthVoice(highNotes, 2, uint64(20+j))
		disc = append(disc, MixtureData{Mixture: mixOf(a, b), Sources: [][]float64{a, b}})
	}
	s.NMF.MaxIter, s.NMF.Seed, s.Rounds, s.DiscIter = 60, 5, 2, 20
	m, _, err := Train(context.Background(), speakers, disc, s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSeparateSyntheticSources(t *testing.T) {
	for _, tc := range []struct {
		method Method
		sizes  []int
	}{{NMF, []int{8}}, {LNMF, []int{24, 8}}, {DLNMF, []int{24, 8}}} {
		t.Run(string(tc.method), func(t *testing.T) {
			m := trainSynthetic(t, tc.method, tc.sizes)
			a, b := synthVoice(lowNotes, 3, 100), synthVoice(highNotes, 3, 200)
			mix := mixOf(a, b)
			sep, err := NewSeparator(m, SeparateSettings{NMF: nmf.Settings{MaxIter: 100}})
			if err != nil {
				t.Fatal(err)
			}
			est, err := sep.Separate(mix)
			if err != nil {
				t.Fatal(err)
			}
			for i := range mix {
				if d := est[0][i] + est[1][i] - mix[i]; math.Abs(d) > 1e-4 {
					t.Fatalf("estimates do not add up to the mixture at %d: off by %g", i, d)
				}
			}
			r, err := bsseval.Sources([][]float64{a, b}, est, bsseval.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: SDR %.1f %.1f dB, SIR %.1f %.1f dB", tc.method, r.SDR[0], r.SDR[1], r.SIR[0], r.SIR[1])
			for i, sdr := range r.SDR {
				if sdr < 20 {
					t.Errorf("source %d: SDR %.2f dB, want at least 20", i, sdr)
				}
			}
		})
	}
}

// Separating block by block must give what separating the whole signal
// gives: frames are independent once the bases are fixed.
func TestBlocksEqualWholeSignal(t *testing.T) {
	m := trainSynthetic(t, NMF, []int{6})
	mix := mixOf(synthVoice(lowNotes, 5, 7), synthVoice(highNotes, 5, 8))
	whole, err := NewSeparator(m, SeparateSettings{NMF: nmf.Settings{MaxIter: 50}, BlockSeconds: 60})
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := NewSeparator(m, SeparateSettings{NMF: nmf.Settings{MaxIter: 50}, BlockSeconds: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	w, err := whole.Separate(mix)
	if err != nil {
		t.Fatal(err)
	}
	b, err := blocks.Separate(mix)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for s := range w {
		for i := range w[s] {
			worst = math.Max(worst, math.Abs(w[s][i]-b[s][i]))
		}
	}
	// float32 inference and a tolerance-based stop allow tiny differences.
	if worst > 1e-3 {
		t.Fatalf("block-wise separation differs from whole-signal separation by %g", worst)
	}
}

func TestDiscriminativeCostNeverRises(t *testing.T) {
	m := trainSynthetic(t, DLNMF, []int{16, 6})
	c := m.Training.DiscCost
	if len(c) < 1 {
		t.Fatal("no discriminative cost recorded")
	}
	for i := 1; i < len(c); i++ {
		if c[i] > c[i-1] {
			t.Fatalf("discriminative cost rose at round %d: %v", i, c)
		}
	}
}

func TestModelFileRoundTrip(t *testing.T) {
	m := trainSynthetic(t, LNMF, []int{12, 4})
	path := filepath.Join(t.TempDir(), "m.npz")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != LNMF || got.SampleRate != 16000 || strings.Join(got.Names(), ",") != "low,high" {
		t.Fatalf("read back %+v", got)
	}
	for i := range m.Speakers {
		for l := range m.Speakers[i].Layers {
			a, b := m.Speakers[i].Layers[l], got.Speakers[i].Layers[l]
			if a.Rows != b.Rows || a.Cols != b.Cols {
				t.Fatalf("layer %d/%d shape changed", i, l)
			}
			for r := 0; r < a.Rows; r++ {
				for c := 0; c < a.Cols; c++ {
					if a.At(r, c) != b.At(r, c) {
						t.Fatalf("layer %d/%d changed at %d,%d", i, l, r, c)
					}
				}
			}
		}
	}
}

func TestModelFileErrors(t *testing.T) {
	m := trainSynthetic(t, NMF, []int{4})
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	future := rewriteMeta(t, good, fmt.Sprintf(`"version":%d`, FileVersion), `"version":9`)
	cases := map[string]string{
		write("truncated.npz", good[:len(good)/2]): "not a dlnmf model file",
		write("text.npz", []byte("hello")):         "not a dlnmf model file",
		write("future.npz", future):                "version 9",
		filepath.Join(dir, "missing.npz"):          "no such file",
	}
	for path, want := range cases {
		_, err := ReadFile(path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error with %q", filepath.Base(path), err, want)
		}
	}
}

// rewriteMeta returns the model file archive with old replaced by new in
// its meta text.
func rewriteMeta(t *testing.T, archive []byte, old, new string) []byte {
	t.Helper()
	arrays, err := npz.Read(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := npz.NewWriter(&buf)
	for name, a := range arrays {
		if name == "meta" {
			if !strings.Contains(a.Text, old) {
				t.Fatalf("the meta holds no %s to rewrite", old)
			}
			w.Text(name, strings.Replace(a.Text, old, new, 1))
		} else {
			w.Float32(name, a.Shape, a.Float32)
		}
	}
	w.Close()
	return buf.Bytes()
}

func TestBadInputs(t *testing.T) {
	m := trainSynthetic(t, NMF, []int{4})
	sep, err := NewSeparator(m, SeparateSettings{})
	if err != nil {
		t.Fatal(err)
	}
	for name, x := range map[string][]float64{
		"empty":  {},
		"silent": make([]float64, 4000),
		"nan":    {0.1, math.NaN(), 0.2},
	} {
		if _, err := sep.Separate(x); err == nil {
			t.Errorf("%s input: no error", name)
		}
	}
	one := &Model{Method: NMF, SampleRate: 16000, Speakers: m.Speakers[:1]}
	if _, err := NewSeparator(one, SeparateSettings{Free: -1}); err == nil {
		t.Error("one-speaker model with negative free bases: no error")
	}
}

// A Separator serves concurrent calls (dlnmf separate runs files in
// parallel): each must get what a lone call gets.
func TestSeparateConcurrently(t *testing.T) {
	m := trainSynthetic(t, NMF, []int{6})
	sep, err := NewSeparator(m, SeparateSettings{NMF: nmf.Settings{MaxIter: 30, Tol: -1}})
	if err != nil {
		t.Fatal(err)
	}
	mixes := make([][]float64, 4)
	want := make([][][]float64, len(mixes))
	for i := range mixes {
		mixes[i] = mixOf(synthVoice(lowNotes, 1, uint64(40+i)), synthVoice(highNotes, 1, uint64(50+i)))
		if want[i], err = sep.Separate(mixes[i]); err != nil {
			t.Fatal(err)
		}
	}
	got := make([][][]float64, len(mixes))
	errs := make([]error, len(mixes))
	var wg sync.WaitGroup
	for i := range mixes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = sep.Separate(mixes[i])
		}()
	}
	wg.Wait()
	for i := range mixes {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for s := range want[i] {
			for j := range want[i][s] {
				if d := math.Abs(got[i][s][j] - want[i][s][j]); d > 1e-9 {
					t.Fatalf("mixture %d speaker %d sample %d: concurrent result differs by %g", i, s, j, d)
				}
			}
		}
	}
}
