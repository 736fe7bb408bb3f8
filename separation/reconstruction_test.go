package separation

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/nmf"
)

// TestReconstructionGradientMatchesFiniteDifferences checks the SA cost's
// gradient with respect to the reconstruction bases on fixed activations
// (TrainReconstruction's net: no unfolded layers) against central finite
// differences, on two mixtures.
func TestReconstructionGradientMatchesFiniteDifferences(t *testing.T) {
	m, data := tinyDeepModel(4, 3)
	net, err := newDeepNet(m, data, DeepSettings{MaxFrames: 100})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range net.H[0].Data {
		net.H[0].Data[i] = 0.1 + rng.Float64()
	}
	net.fixedH = true
	for _, p := range net.params {
		for i := range p.Data {
			p.Data[i] *= 0.5 + rng.Float64()
		}
	}
	worst := checkDeepGradient(t, net, "reconstruction bases", 1e-6)
	t.Logf("worst relative disagreement %.2g", worst)
}

// TestTrainReconstruction trains reconstruction bases for a tiny model's
// own inference: the cost falls at every kept step, the analysis bases and
// the inference stay as they were, the Separator's gains are the masks
// the training computed, and the bases survive the model file.
func TestTrainReconstruction(t *testing.T) {
	m, data := tinyDeepModel(9, 5)
	analysis := slices.Clone(m.Speakers[0].Layers[0].Data)
	m.StepExponent, m.SeparateIters = 1.5, 30
	res, err := TrainReconstruction(context.Background(), m, data, DeepSettings{Epochs: 20})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(res.Cost); i++ {
		if res.Cost[i] > res.Cost[i-1] {
			t.Fatalf("cost rose at step %d: %v", i, res.Cost)
		}
	}
	if res.Accepted == 0 || !(res.Cost[len(res.Cost)-1] < res.Cost[0]) || res.Frames != 14 {
		t.Fatalf("no step lowered the cost, or frames %d: %v", res.Frames, res.Cost)
	}
	if m.Unfold != 0 || m.Speakers[1].Reconstruction == nil || m.StepExponent != 1.5 || m.SeparateIters != 30 ||
		!slices.Equal(m.Speakers[0].Layers[0].Data, analysis) || m.Training.DeepAccepted != res.Accepted {
		t.Fatalf("model after training: unfold %d, step %g, iterations %d", m.Unfold, m.StepExponent, m.SeparateIters)
	}
	if slices.Equal(m.Speakers[0].Reconstruction.Data, analysis) {
		t.Fatal("the reconstruction bases did not move")
	}

	// The training's masks, from the trained bases on the separator's
	// activations.
	sp, err := NewSeparator(m, SeparateSettings{})
	if err != nil {
		t.Fatal(err)
	}
	net, err := newDeepNet(m, data, DeepSettings{MaxFrames: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.inferFixed(context.Background(), sp, data); err != nil {
		t.Fatal(err)
	}
	copy(net.recon().Data, to64(nmf.HConcat(nil, m.Speakers[0].Reconstruction, m.Speakers[1].Reconstruction)).Data)
	net.forward()
	gains, err := sp.Gains(data[0].Mixture)
	if err != nil {
		t.Fatal(err)
	}
	for s, g := range gains {
		for i := range g.Rows {
			for j := range g.Cols {
				// The first mixture's frames are the first columns of
				// the training's.
				v, want := g.Data[i*g.Stride+j], net.M[s].Data[i*net.M[s].Stride+j]
				if math.Abs(float64(v)-want) > 1e-4 {
					t.Fatalf("speaker %d bin %d frame %d: separator's gain %v, training's mask %v", s, i, j, v, want)
				}
			}
		}
	}

	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Unfold != 0 || !slices.Equal(got.Speakers[1].Reconstruction.Data, m.Speakers[1].Reconstruction.Data) ||
		got.StepExponent != 1.5 || got.SeparateIters != 30 {
		t.Fatalf("read back: unfold %d, step %g, iterations %d", got.Unfold, got.StepExponent, got.SeparateIters)
	}
	for _, c := range []struct{ from, to, want string }{
		{`"version":7,`, `"version":6,`, "reconstruction entry in a format version 6 file"},
		{`"reconstruction":{`, `"unfold":{"iterations":2,"untied":0},"reconstruction":{`, "both an unfold and a reconstruction entry"},
	} {
		b := rewriteMeta(t, buf.Bytes(), c.from, c.to)
		if _, err := Decode(bytes.NewReader(b), int64(len(b))); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s -> %s: %v, want %q", c.from, c.to, err, c.want)
		}
	}
}

// TestReconstructionBadInput: one speaker, unfolded iterations, a model
// that has reconstruction bases already, bases for one speaker only or of
// the wrong size, and the training settings that contradict each other
// fail with one line before any work; beside free bases the gains use the
// analysis bases.
func TestReconstructionBadInput(t *testing.T) {
	m, data := tinyDeepModel(5)
	one := *m
	one.Speakers = one.Speakers[:1]
	if _, err := TrainReconstruction(context.Background(), &one, data, DeepSettings{}); err == nil || !strings.Contains(err.Error(), "2 speakers") {
		t.Errorf("one speaker: %v", err)
	}
	if _, err := TrainReconstruction(context.Background(), m, data, DeepSettings{Unfold: 3}); err == nil || !strings.Contains(err.Error(), "no unfolded") {
		t.Errorf("unfolded: %v", err)
	}
	if _, err := TrainReconstruction(context.Background(), m, nil, DeepSettings{}); err == nil || !strings.Contains(err.Error(), "needs training mixtures") {
		t.Errorf("no mixtures: %v", err)
	}
	if _, err := TrainReconstruction(context.Background(), m, data, DeepSettings{Epochs: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := TrainReconstruction(context.Background(), m, data, DeepSettings{Epochs: 2}); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("trained twice: %v", err)
	}
	plain := *m
	plain.Speakers = slices.Clone(m.Speakers)
	for i := range plain.Speakers {
		plain.Speakers[i].Reconstruction = nil
	}
	mix := make([]float64, 8000)
	for i := range mix {
		mix[i] = math.Sin(float64(i)*0.05) + 0.5*math.Sin(float64(i)*0.31)
	}
	var outs [2][][]float64
	for j, mm := range []*Model{m, &plain} {
		sep, err := NewSeparator(mm, SeparateSettings{Free: 2, NMF: nmf.Settings{MaxIter: 20}})
		if err != nil {
			t.Fatalf("free bases: %v", err)
		}
		if outs[j], err = sep.Separate(mix); err != nil {
			t.Fatal(err)
		}
	}
	for i := range outs[0] {
		if !slices.Equal(outs[0][i], outs[1][i]) {
			t.Errorf("free bases: source %d differs from the model without reconstruction bases", i)
		}
	}
	half := *m
	half.Speakers = slices.Clone(m.Speakers)
	half.Speakers[1].Reconstruction = nil
	if err := half.Validate(); err == nil || !strings.Contains(err.Error(), "speaker b has no reconstruction bases") {
		t.Errorf("one speaker's bases: %v", err)
	}
	half.Speakers[1].Reconstruction = nmf.NewDense[float32](15, 3, nil)
	if err := half.Validate(); err == nil || !strings.Contains(err.Error(), "reconstruction bases are 15x3, its analysis bases 15x2") {
		t.Errorf("wrong size: %v", err)
	}
	half.Speakers[1].Reconstruction = m.Speakers[1].Reconstruction
	half.Speakers[1].Untied = []*nmf.Dense[float32]{m.Speakers[1].Reconstruction}
	if err := half.Validate(); err == nil || !strings.Contains(err.Error(), "unfolds no iterations") {
		t.Errorf("untied without unfolding: %v", err)
	}

	two := []SpeakerData{{Name: "a", Utterances: [][]float64{make([]float64, 4000)}}, {Name: "b", Utterances: [][]float64{make([]float64, 4000)}}}
	two[0].Utterances[0][10], two[1].Utterances[0][20] = 1, 1
	for _, c := range []struct {
		s    TrainSettings
		n    int
		want string
	}{
		{TrainSettings{ReconstructionBases: ReconstructionTrained, Unfold: 3}, 2, "trains its own reconstruction bases"},
		{TrainSettings{ReconstructionBases: ReconstructionTrained}, 1, "at least 2 speakers, got 1"},
		{TrainSettings{ReconstructionBases: ReconstructionTrained}, 2, "need discriminative mixtures"},
	} {
		if _, _, err := Train(context.Background(), two[:c.n], nil, c.s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.s, err, c.want)
		}
	}
}

// TestPresetReconstruction: the validated preset trains reconstruction
// bases where there are mixtures of speakers to train them on and nothing
// else claims the gains; an explicit request is refused where it cannot
// be met, and an explicit refusal holds with the preset.
func TestPresetReconstruction(t *testing.T) {
	// iters is the settled SeparateIters: a zero count with longer steps
	// is the validated count for the model, with or without the bases.
	for _, c := range []struct {
		s         TrainSettings
		speakers  int
		universal bool
		want      Reconstruction
		iters     int
	}{
		{TrainSettings{}, 2, false, ReconstructionTrained, ValidatedReconstructionIters},
		{TrainSettings{}, 3, false, ReconstructionTrained, ValidatedReconstructionIters},
		{TrainSettings{}, 1, false, ReconstructionNone, ValidatedSeparateIters},
		{TrainSettings{}, 2, true, ReconstructionNone, ValidatedSeparateIters},
		{TrainSettings{Unfold: 3}, 2, false, ReconstructionNone, 0},
		{TrainSettings{ReconstructionBases: ReconstructionNone}, 2, false, ReconstructionNone, ValidatedSeparateIters},
		{TrainSettings{SeparateIters: 100}, 2, false, ReconstructionTrained, 100},
		{TrainSettings{StepExponent: 1}, 2, false, ReconstructionTrained, 0},
		{TrainSettings{Method: NMF}, 2, false, ReconstructionNone, 0},
		{MethodSettings(NMF), 2, false, ReconstructionNone, 0},
		{TrainSettings{Method: NMF, StepExponent: 1.5}, 2, false, ReconstructionNone, ValidatedSeparateIters},
		{TrainSettings{Method: NMF, ReconstructionBases: ReconstructionBetweenSpeakers}, 2, false, ReconstructionTrained, 0},
		{TrainSettings{ReconstructionBases: ReconstructionTrained}, 1, false, ReconstructionTrained, ValidatedReconstructionIters},
		{TrainSettings{ReconstructionBases: ReconstructionTrained}, 2, true, ReconstructionTrained, ValidatedReconstructionIters},
	} {
		got := c.s.ForModel(c.speakers, c.universal)
		if got.ReconstructionBases != c.want || got.Discriminative() != (c.want == ReconstructionTrained || c.s.Unfold > 0) || got.SeparateIters != c.iters {
			t.Errorf("%+v for %d speakers, universal %v: %d (discriminative %v), %d iterations, want %d, %d iterations", c.s, c.speakers, c.universal, got.ReconstructionBases, got.Discriminative(), got.SeparateIters, c.want, c.iters)
		}
	}
	// The preset as a door takes it (every field explicit, then settled)
	// is the zero value's settling.
	p, err := Preset(PresetValidated)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2} {
		if a, b := p.ForModel(n, false), (TrainSettings{}).ForModel(n, false); !reflect.DeepEqual(a, b) {
			t.Errorf("%d speakers: the preset settles to %+v, the zero value to %+v", n, a, b)
		}
	}
	if p.ReconstructionBases != ReconstructionBetweenSpeakers {
		t.Errorf("the validated preset: %d", p.ReconstructionBases)
	}
	if err := (TrainSettings{ReconstructionBases: ReconstructionTrained}).ForModel(1, false).CheckSpeakers(1); err == nil {
		t.Error("reconstruction bases asked for one speaker accepted")
	}
	if _, err := (TrainSettings{ReconstructionBases: 9}).withDefaults(2); err == nil {
		t.Error("an unknown reconstruction choice accepted")
	}
}

// TestTrainReconstructionOnBands: the validated preset's shape (patches,
// sparsity, the power-ratio mask, inference on bands with the step
// exponent) trains reconstruction bases through Train, keeps its default
// inference, and separates live as offline (whole patches live).
func TestTrainReconstructionOnBands(t *testing.T) {
	for _, s := range []TrainSettings{
		{Method: NMF, Sizes: []int{40}, Context: 5, Sparsity: 1, MaskPower: 2, Bands: MinBands, StepExponent: 1.5, SeparateIters: 50,
			ReconstructionBases: ReconstructionTrained, DeepEpochs: 3},
		{Method: NMF, Sizes: []int{8}, Sparsity: 1, MaskPower: 2, ReconstructionBases: ReconstructionTrained, DeepEpochs: 3},
	} {
		m := trainSyntheticWith(t, s)
		if !m.HasReconstructionBases() || m.deep() || m.Bands != s.Bands || m.StepExponent != s.StepExponent || len(m.Training.DeepCost) < 2 {
			t.Fatalf("model: reconstruction bases %v, bands %d, step %g, cost %v", m.HasReconstructionBases(), m.Bands, m.StepExponent, m.Training.DeepCost)
		}
		mix := mixOf(synthVoice(lowNotes, 2, 100), synthVoice(highNotes, 2, 200))
		sep, err := NewSeparator(m, SeparateSettings{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sep.Separate(mix); err != nil {
			t.Fatal(err)
		}
		liveEqualsSeparate(t, m, mix, SeparateSettings{NMF: nmf.Settings{MaxIter: 40, Workers: 1}})
	}
}
