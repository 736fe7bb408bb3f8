package separation

import (
	"bytes"
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/nmf"
)

// TestStepExponent: a step exponent (SeparateSettings.NMF.StepExponent)
// brings a few iterations nearer to the converged estimates than as many
// of the usual update, on bands and every bin; a Live with it equals
// Separate; out-of-range exponents, free bases and deep-unfolded models
// refuse it before any work.
func TestStepExponent(t *testing.T) {
	m := trainSyntheticWith(t, TrainSettings{Method: NMF, Sizes: []int{6}, Context: 5, Sparsity: 0.5, MaskPower: 2})
	mix := mixOf(synthVoice(lowNotes, 3, 100), synthVoice(highNotes, 3, 200))
	for _, bands := range []int{0, 64} {
		converged := separateWith(t, m, SeparateSettings{Bands: bands, NMF: nmf.Settings{MaxIter: 1000, Tol: -1}}, mix)
		few := func(e float64) [][]float64 {
			return separateWith(t, m, SeparateSettings{Bands: bands, NMF: nmf.Settings{MaxIter: 20, Tol: -1, StepExponent: e}}, mix)
		}
		plain, stepped := few(1), few(1.5)
		checkSum(t, stepped, mix)
		p, s := distanceDB(plain, converged), distanceDB(stepped, converged)
		t.Logf("bands %d: 20 iterations %.1f dB from convergence with the step exponent 1.5, %.1f with the usual update", bands, s, p)
		if s < p+2 {
			t.Errorf("bands %d: 20 iterations with the step exponent 1.5 are %.1f dB from convergence, with the usual update %.1f; want 2 dB nearer", bands, s, p)
		}
		if z := few(0); !slices.Equal(z[0], plain[0]) || !slices.Equal(z[1], plain[1]) {
			t.Errorf("bands %d: the step exponent 0 is not the usual update", bands)
		}
	}
	liveEqualsSeparate(t, m, mix, SeparateSettings{Bands: 64, LiveBatch: 4, NMF: nmf.Settings{MaxIter: 5, Tol: -1, Workers: 1, StepExponent: 1.5}})
	// One frame at a time: the one-column kernel on AVX-512 machines.
	liveEqualsSeparate(t, m, mix, SeparateSettings{Bands: 64, LiveBatch: 1, NMF: nmf.Settings{MaxIter: 5, Tol: -1, Workers: 1, StepExponent: 1.5}})
	liveEqualsSeparate(t, m, mix, SeparateSettings{CoarseBands: 16, CoarseIters: 20, NMF: nmf.Settings{MaxIter: 5, Tol: -1, Workers: 1, StepExponent: 1.8}})

	for _, bad := range []SeparateSettings{
		{NMF: nmf.Settings{StepExponent: 0.5}}, {NMF: nmf.Settings{StepExponent: 2}}, {NMF: nmf.Settings{StepExponent: math.NaN()}},
		{Free: 4, NMF: nmf.Settings{StepExponent: 1.5}},
	} {
		if _, err := NewSeparator(m, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := NewSeparator(randomPatchModel(4, 3, 1), SeparateSettings{NMF: nmf.Settings{StepExponent: 1.5}}); err == nil {
		t.Error("a step exponent with a deep-unfolded model accepted")
	}
}

// TestModelDefaultStep: a model's default step exponent and iterations
// (Model.StepExponent, SeparateIters) are what Separate runs where its
// settings leave them 0, and nowhere else (not a Live); the model file keeps them, and
// a file whose values are out of range, or of a version before them, is
// refused.
func TestModelDefaultStep(t *testing.T) {
	m := trainSyntheticWith(t, TrainSettings{Method: NMF, Sizes: []int{6}, Context: 5, Sparsity: 0.5, MaskPower: 2, Bands: 32, StepExponent: 1.5, SeparateIters: 20})
	if m.StepExponent != 1.5 || m.SeparateIters != 20 {
		t.Fatalf("trained with step exponent 1.5 and 20 iterations, the model has %v and %d", m.StepExponent, m.SeparateIters)
	}
	plain := *m
	plain.StepExponent, plain.SeparateIters = 0, 0
	mix := mixOf(synthVoice(lowNotes, 3, 100), synthVoice(highNotes, 3, 200))
	same := func(what string, a, b [][]float64, want bool) {
		t.Helper()
		if eq := slices.Equal(a[0], b[0]) && slices.Equal(a[1], b[1]); eq != want {
			t.Errorf("%s: equal %v, want %v", what, eq, want)
		}
	}
	def := separateWith(t, m, SeparateSettings{NMF: nmf.Settings{Tol: -1}}, mix)
	same("the model's default", def, separateWith(t, &plain, SeparateSettings{NMF: nmf.Settings{Tol: -1, MaxIter: 20, StepExponent: 1.5}}, mix), true)
	same("the step exponent 1", separateWith(t, m, SeparateSettings{NMF: nmf.Settings{Tol: -1, StepExponent: 1}}, mix),
		separateWith(t, &plain, SeparateSettings{NMF: nmf.Settings{Tol: -1, MaxIter: 20}}, mix), true)
	same("30 iterations", separateWith(t, m, SeparateSettings{NMF: nmf.Settings{Tol: -1, MaxIter: 30}}, mix),
		separateWith(t, &plain, SeparateSettings{NMF: nmf.Settings{Tol: -1, MaxIter: 30, StepExponent: 1.5}}, mix), true)
	coarse := SeparateSettings{CoarseBands: 8, CoarseIters: 10, NMF: nmf.Settings{Tol: -1}}
	same("a coarse start", separateWith(t, m, coarse, mix), separateWith(t, &plain, coarse, mix), true)
	same("the usual update", def, separateWith(t, &plain, SeparateSettings{NMF: nmf.Settings{Tol: -1}}, mix), false)

	sep, err := NewSeparator(m, SeparateSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if off, live := sep.inferSettings(false), sep.inferSettings(true); off.StepExponent != 1.5 || off.MaxIter != 20 || live.StepExponent > 1 || live.MaxIter != DefaultLiveIters {
		t.Errorf("the separator runs step exponent %v for %d iterations, live %v for %d; want 1.5 for 20, live the usual update for %d",
			off.StepExponent, off.MaxIter, live.StepExponent, live.MaxIter, DefaultLiveIters)
	}
	if sep, err := NewSeparator(m, SeparateSettings{NMF: nmf.Settings{StepExponent: 1.8}}); err != nil || sep.inferSettings(true).StepExponent != 1.8 {
		t.Errorf("a Live does not take the settings' step exponent: %v", err)
	}
	one := *m
	one.Speakers = m.Speakers[:1]
	if sep, err := NewSeparator(&one, SeparateSettings{}); err != nil || sep.settings.StepExponent > 1 || sep.settings.MaxIter != DefaultFreeIters {
		t.Errorf("a model of one speaker, with its default free bases: %v", err)
	}

	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || got.StepExponent != 1.5 || got.SeparateIters != 20 {
		t.Fatalf("read back: %v, %v", got, err)
	}
	in, _ := metaOf(t, buf.Bytes())["inference"].(map[string]any)
	if in["step_exponent"] != 1.5 || in["iterations"] != float64(20) || !strings.Contains(in["update"].(string), "^step_exponent") {
		t.Errorf("the meta's inference entry: %v", in)
	}
	var plainFile bytes.Buffer
	if err := plain.Encode(&plainFile); err != nil {
		t.Fatal(err)
	}
	if in := metaOf(t, plainFile.Bytes())["inference"].(map[string]any); in["step_exponent"] != nil || in["iterations"] != float64(nmf.DefaultMaxIter) {
		t.Errorf("a model of the usual update: inference %v", in)
	}
	for _, c := range []struct{ from, to, want string }{
		{`"version":7,`, `"version":5,`, "came with version 6"},
		{`"step_exponent":1.5`, `"step_exponent":2.5`, "step exponent 2.5"},
		{`"iterations":20,`, `"iterations":20000,`, "iterations 20000"},
		{`"iterations":20,`, `"iterations":-3,`, "iterations -3"},
	} {
		b := rewriteMeta(t, buf.Bytes(), c.from, c.to)
		if _, err := Decode(bytes.NewReader(b), int64(len(b))); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s -> %s: %v, want %q", c.from, c.to, err, c.want)
		}
	}
	// Version 5 wrote the default count whatever the model: a version 5
	// file's iterations are not the model's default.
	v5 := rewriteMeta(t, rewriteMeta(t, plainFile.Bytes(), `"version":7,`, `"version":5,`), `"iterations":200,`, `"iterations":20,`)
	if got, err := Decode(bytes.NewReader(v5), int64(len(v5))); err != nil || got.SeparateIters != 0 || got.StepExponent != 0 {
		t.Errorf("a version 5 file: %v, %v", got, err)
	}

	deep := randomPatchModel(4, 3, 1)
	deep.StepExponent = 1.5
	if err := deep.Validate(); err == nil {
		t.Error("a default step exponent on a deep-unfolded model accepted")
	}
	deep.StepExponent, deep.SeparateIters = 0, 20
	if err := deep.Validate(); err == nil {
		t.Error("default iterations on a deep-unfolded model accepted")
	}
	for _, s := range []TrainSettings{{StepExponent: 3}, {StepExponent: 0.5}, {SeparateIters: -1}, {SeparateIters: MaxSeparateIters + 1}} {
		if _, _, err := Train(context.Background(), []SpeakerData{{Name: "a", Utterances: [][]float64{mix}}, {Name: "b", Utterances: [][]float64{mix}}}, nil, s); err == nil {
			t.Errorf("training with %+v accepted", s)
		}
	}
}
