package separation

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/stft"
)

// Spectral patches, sparsity and the mask exponent for every
// method, L = 3 included: the bases model T x bins rows, the first layer's
// columns have unit norm, the model file keeps T, lambda and p, the
// estimates add up to the mixture and separate the voices.
func TestPatchesSparsityMaskPower(t *testing.T) {
	for _, tc := range []struct {
		method Method
		sizes  []int
	}{{NMF, []int{8}}, {LNMF, []int{24, 12, 8}}, {DLNMF, []int{24, 8}}} {
		t.Run(string(tc.method), func(t *testing.T) {
			m := trainSyntheticWith(t, TrainSettings{Method: tc.method, Sizes: tc.sizes, Context: 3, Sparsity: 0.5, MaskPower: 2})
			if m.Context != 3 || m.Sparsity != 0.5 || m.MaskPower != 2 {
				t.Fatalf("model records context %d, sparsity %v, mask power %v", m.Context, m.Sparsity, m.MaskPower)
			}
			for _, sp := range m.Speakers {
				W := sp.Layers[0]
				if W.Rows != 3*513 {
					t.Fatalf("speaker %s: W1 has %d rows, want 3 x 513", sp.Name, W.Rows)
				}
				for k := 0; k < W.Cols; k++ {
					var n float64
					for i := 0; i < W.Rows; i++ {
						n += float64(W.At(i, k)) * float64(W.At(i, k))
					}
					if math.Abs(math.Sqrt(n)-1) > 1e-4 {
						t.Fatalf("speaker %s: column %d of W1 has norm %v, want 1", sp.Name, k, math.Sqrt(n))
					}
				}
			}
			back := roundTrip(t, m)
			if back.Context != 3 || back.Sparsity != 0.5 || back.MaskPower != 2 {
				t.Fatalf("file gives context %d, sparsity %v, mask power %v", back.Context, back.Sparsity, back.MaskPower)
			}
			a, b := synthVoice(lowNotes, 3, 100), synthVoice(highNotes, 3, 200)
			mix := mixOf(a, b)
			var ests [][][]float64
			for _, model := range []*Model{m, back} {
				sep, err := NewSeparator(model, SeparateSettings{NMF: nmf.Settings{MaxIter: 100, Tol: -1}})
				if err != nil {
					t.Fatal(err)
				}
				est, err := sep.Separate(mix)
				if err != nil {
					t.Fatal(err)
				}
				ests = append(ests, est)
			}
			if !reflect.DeepEqual(ests[0], ests[1]) {
				t.Fatal("the model read back separates differently")
			}
			est := ests[0]
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
				if sdr < 15 {
					t.Errorf("source %d: SDR %.2f dB, want at least 15", i, sdr)
				}
			}
		})
	}
}

// With patches, block-wise separation equals whole-signal separation: the
// margin covers the frames a patch and its folding reach.
func TestBlocksEqualWholeSignalPatches(t *testing.T) {
	m := trainSyntheticWith(t, TrainSettings{Method: NMF, Sizes: []int{6}, Context: 5, Sparsity: 0.2})
	mix := mixOf(synthVoice(lowNotes, 5, 7), synthVoice(highNotes, 5, 8))
	run := func(seconds float64) [][]float64 {
		return separateWith(t, m, SeparateSettings{NMF: nmf.Settings{MaxIter: 50, Tol: -1}, BlockSeconds: seconds}, mix)
	}
	w, b := run(60), run(0.3)
	var worst float64
	for s := range w {
		for i := range w[s] {
			worst = math.Max(worst, math.Abs(w[s][i]-b[s][i]))
		}
	}
	if worst > 1e-4 {
		t.Fatalf("block-wise separation with 5-frame patches differs from whole-signal separation by %g", worst)
	}
}

// The mask exponent: p = 2 gives the power ratio of the same inference,
// and SeparateSettings.MaskPower overrides the model's.
func TestMaskPower(t *testing.T) {
	m := trainSynthetic(t, NMF, []int{6})
	Y := Spectrogram(mustPlan(t, m), mixOf(synthVoice(lowNotes, 1, 7), synthVoice(highNotes, 1, 8)))
	gains := func(model *Model, override float64) []*nmf.Dense[float32] {
		sep, err := NewSeparator(model, SeparateSettings{NMF: nmf.Settings{MaxIter: 30, Tol: -1}, MaskPower: override})
		if err != nil {
			t.Fatal(err)
		}
		g, err := sep.Gains(Y)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	g1, g2 := gains(m, 0), gains(m, 2)
	m2 := *m
	m2.MaskPower = 2
	if !reflect.DeepEqual(g2, gains(&m2, 0)) {
		t.Error("MaskPower 2 in the settings and in the model give different gains")
	}
	// With two speakers, g = v0/(v0+v1) gives v0/v1 = g/(1-g), and the power
	// ratio is (v0/v1)^2 / (1 + (v0/v1)^2).
	var worst float64
	for i, a := range g1[0].Data {
		if a <= 0.01 || a >= 0.99 {
			continue
		}
		q := float64(a) / (1 - float64(a))
		worst = math.Max(worst, math.Abs(float64(g2[0].Data[i])-q*q/(1+q*q)))
	}
	if worst > 1e-4 {
		t.Errorf("p = 2 gains differ from the power ratio by %g", worst)
	}
}

// Bad settings are one clear error before any work.
func TestBeyondBadSettings(t *testing.T) {
	for _, s := range []TrainSettings{
		{Method: NMF, Context: 2}, {Method: NMF, Context: -3}, {Method: NMF, Sparsity: -0.1},
		{Method: NMF, Sparsity: math.Inf(1)}, {Method: NMF, MaskPower: -1}, {Method: NMF, MaskPower: math.NaN()},
	} {
		if _, err := s.withDefaults(2); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
	m := trainSynthetic(t, NMF, []int{4})
	if _, err := NewSeparator(m, SeparateSettings{MaskPower: -2}); err == nil || !strings.Contains(err.Error(), "mask power") {
		t.Errorf("mask power -2 at separation: %v", err)
	}
	// A format-2 file can only hold exponent 1; format 3 any positive one.
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	v2 := rewriteMeta(t, rewriteMeta(t, buf.Bytes(), `"version":7,`, `"version":2,`), `"exponent":1,`, `"exponent":2,`)
	if _, err := Decode(bytes.NewReader(v2), int64(len(v2))); err == nil {
		t.Error("a version 2 file with mask exponent 2 loads")
	}
	v3 := rewriteMeta(t, buf.Bytes(), `"exponent":1,`, `"exponent":0.5,`)
	got, err := Decode(bytes.NewReader(v3), int64(len(v3)))
	if err != nil || got.MaskPower != 0.5 {
		t.Errorf("a version 3 file with mask exponent 0.5: %v, %v", got, err)
	}
}

func mustPlan(t *testing.T, m *Model) *stft.Plan {
	t.Helper()
	p, err := stft.NewPlan(m.STFT)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
