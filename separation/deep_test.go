package separation

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/stft"
)

// tinyDeepModel returns a model of two speakers with 3-frame patches of 5
// bins, 2 bases each, sparsity and the power-ratio mask, and training
// mixtures of frames (each mixture the sum of its sources).
func tinyDeepModel(frames ...int) (*Model, []DiscData) {
	rng := rand.New(rand.NewPCG(7, 8))
	pos := func(r, c int) *nmf.Dense[float32] {
		d := nmf.NewDense[float32](r, c, nil)
		for i := range d.Data {
			d.Data[i] = float32(0.2 + rng.Float64())
		}
		return d
	}
	m := &Model{Method: NMF, SampleRate: 1000, STFT: stft.Settings{FFTSize: 8, WindowSize: 8, Hop: 2},
		Context: 3, Sparsity: 0.5, MaskPower: 2}
	for _, name := range []string{"a", "b"} {
		m.Speakers = append(m.Speakers, Speaker{Name: name, Layers: []*nmf.Dense[float32]{pos(15, 2)}})
	}
	var data []DiscData
	for _, f := range frames {
		s1, s2 := pos(5, f), pos(5, f)
		mix := nmf.NewDense[float32](5, f, nil)
		for i := range mix.Data {
			mix.Data[i] = s1.Data[i] + s2.Data[i]
		}
		data = append(data, DiscData{Mixture: mix, Sources: []*nmf.Dense[float32]{s1, s2}})
	}
	return m, data
}

// TestDeepGradientMatchesFiniteDifferences checks the back-propagated
// gradient of the SA cost (both parts, P - Q) with respect to every
// untied basis and reconstruction basis entry against central finite
// differences, on two mixtures (so the patches fold per mixture).
func TestDeepGradientMatchesFiniteDifferences(t *testing.T) {
	m, data := tinyDeepModel(4, 3)
	for _, u := range []int{0, 2} {
		net, err := newDeepNet(m, data, DeepSettings{Unfold: 3, Untied: u, MaxFrames: 100})
		if err != nil {
			t.Fatal(err)
		}
		// Move the parameters away from the analysis bases, so that the
		// layers differ.
		rng := rand.New(rand.NewPCG(1, 2))
		for _, p := range net.params {
			for i := range p.Data {
				p.Data[i] *= 0.5 + rng.Float64()
			}
		}
		worst := checkDeepGradient(t, net, fmt.Sprintf("untied %d", u), 1e-5)
		t.Logf("untied %d: worst relative disagreement %.2g", u, worst)
	}
}

// checkDeepGradient compares the back-propagated gradient (P - Q) of every
// parameter entry of net with central finite differences of its cost,
// reports the entries whose relative disagreement exceeds tol, and
// returns the worst.
func checkDeepGradient(t *testing.T, net *deepNet, what string, tol float64) float64 {
	t.Helper()
	net.forward()
	net.backward()
	var worst float64
	for j, p := range net.params {
		for i := range p.Data {
			grad := net.grads[j][0].Data[i] - net.grads[j][1].Data[i]
			v, h := p.Data[i], 1e-6*p.Data[i]
			p.Data[i] = v + h
			up := net.forward()
			p.Data[i] = v - h
			down := net.forward()
			p.Data[i] = v
			fd := (up - down) / (2 * h)
			rel := math.Abs(grad-fd) / max(math.Abs(fd), 1e-3)
			worst = max(worst, rel)
			if rel > tol {
				t.Errorf("%s, parameter %d entry %d: gradient %.9g, finite differences %.9g", what, j, i, grad, fd)
			}
		}
	}
	return worst
}

// TestDeepUnfoldLowersCostAndSeparatorAgrees trains a tiny deep model and
// checks that the recorded cost falls, and that a Separator's gains on a
// training mixture are the masks the training computed.
func TestDeepUnfoldLowersCostAndSeparatorAgrees(t *testing.T) {
	m, data := tinyDeepModel(9)
	res, err := DeepUnfold(context.Background(), m, data, DeepSettings{Unfold: 4, Untied: 2, Epochs: 20})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(res.Cost); i++ {
		if res.Cost[i] > res.Cost[i-1] {
			t.Fatalf("cost rose at step %d: %v", i, res.Cost)
		}
	}
	if res.Accepted == 0 || !(res.Cost[len(res.Cost)-1] < res.Cost[0]) {
		t.Fatalf("no step lowered the cost: %v", res.Cost)
	}
	if m.Unfold != 4 || len(m.Speakers[1].Untied) != 2 || m.Speakers[0].Reconstruction == nil {
		t.Fatalf("model not deep: unfold %d, untied %d", m.Unfold, len(m.Speakers[1].Untied))
	}
	net, err := newDeepNet(m, data, DeepSettings{Unfold: 4, Untied: 2, MaxFrames: 100})
	if err != nil {
		t.Fatal(err)
	}
	// newDeepNet starts from the analysis bases: load the trained ones.
	for u := range 2 {
		copy(net.params[u].Data, to64(nmf.HConcat(nil, m.Speakers[0].Untied[u], m.Speakers[1].Untied[u])).Data)
	}
	copy(net.recon().Data, to64(nmf.HConcat(nil, m.Speakers[0].Reconstruction, m.Speakers[1].Reconstruction)).Data)
	net.forward()
	sp, err := NewSeparator(m, SeparateSettings{NMF: nmf.Settings{MaxIter: 200, Tol: 1e-4}})
	if err != nil {
		t.Fatal(err)
	}
	gains, err := sp.Gains(data[0].Mixture)
	if err != nil {
		t.Fatal(err)
	}
	for s, g := range gains {
		for i, v := range g.Data {
			if want := net.M[s].Data[i]; math.Abs(float64(v)-want) > 1e-4 {
				t.Fatalf("speaker %d entry %d: separator's gain %v, training's mask %v", s, i, v, want)
			}
		}
	}
}

func TestDeepBadInput(t *testing.T) {
	for _, c := range []struct{ n, u int }{{-1, 0}, {MaxUnfold + 1, 0}, {3, 4}, {3, -1}, {0, 1}} {
		if err := CheckUnfold(c.n, c.u); err == nil {
			t.Errorf("unfold %d untied %d accepted", c.n, c.u)
		}
	}
	m, data := tinyDeepModel(5)
	one := *m
	one.Speakers = one.Speakers[:1]
	if _, err := DeepUnfold(context.Background(), &one, data, DeepSettings{Unfold: 2}); err == nil || !strings.Contains(err.Error(), "2 speakers") {
		t.Errorf("one speaker: %v", err)
	}
	m.Bands = MinBands // default bands, which an unfolded model drops
	if _, err := DeepUnfold(context.Background(), m, data, DeepSettings{Unfold: 2, Untied: 1, Epochs: 1}); err != nil {
		t.Fatal(err)
	}
	if m.Bands != 0 {
		t.Errorf("the unfolded model kept default bands (%d)", m.Bands)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	m.Speakers[1].Reconstruction = nmf.NewDense[float32](15, 3, nil)
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "reconstruction bases are 15x3, its analysis bases 15x2") {
		t.Errorf("reconstruction of the wrong size: %v", err)
	}
	m.Speakers[1].Reconstruction = m.Speakers[0].Reconstruction
	m.Speakers[0].Untied[0] = nmf.NewDense[float32](10, 2, nil)
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "untied layer 1 are 10x2") {
		t.Errorf("untied layer of the wrong size: %v", err)
	}
}

// TestTrainUnfoldBadInput: an untied count above the unfold count, and
// deep unfolding of one speaker, fail before any training.
func TestTrainUnfoldBadInput(t *testing.T) {
	one := []SpeakerData{{Name: "a", Utterances: [][]float64{make([]float64, 4000)}}}
	one[0].Utterances[0][10] = 1
	for _, c := range []struct {
		s    TrainSettings
		want string
	}{
		{TrainSettings{Unfold: 3, Untied: 4}, "untied 4"},
		{TrainSettings{Unfold: -1}, "unfold -1"},
		{TrainSettings{Unfold: 3}, "at least 2 speakers, got 1"},
	} {
		if _, _, err := Train(context.Background(), one, nil, c.s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.s, err, c.want)
		}
	}
}

// TestDeepModelFile: a deep-unfolded model's bases survive the file, it
// separates as before, and a file whose unfolded or reconstruction bases
// disagree in size with its analysis bases is refused.
func TestDeepModelFile(t *testing.T) {
	m, data := tinyDeepModel(6)
	if _, err := DeepUnfold(context.Background(), m, data, DeepSettings{Unfold: 3, Untied: 1, Epochs: 3}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Unfold != 3 || len(got.Speakers[1].Untied) != 1 || !slices.Equal(got.Speakers[1].Reconstruction.Data, m.Speakers[1].Reconstruction.Data) ||
		!slices.Equal(got.Speakers[0].Untied[0].Data, m.Speakers[0].Untied[0].Data) || got.Training.DeepAccepted != m.Training.DeepAccepted {
		t.Fatalf("read back: unfold %d, untied %d", got.Unfold, len(got.Speakers[1].Untied))
	}
	for _, c := range []struct{ from, to, want string }{
		{`"untied":1,`, `"untied":2,`, "s0_U2 is missing"},
		{`"iterations":3,"untied"`, `"iterations":0,"untied"`, "untied 1: want 0 to the unfolded iterations (0)"},
		{`"version":7,`, `"version":3,`, "unfold entry in a format version 3 file"},
	} {
		b := rewriteMeta(t, buf.Bytes(), c.from, c.to)
		if _, err := Decode(bytes.NewReader(b), int64(len(b))); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s -> %s: %v, want %q", c.from, c.to, err, c.want)
		}
	}
	// Reconstruction bases of another size than the analysis bases.
	bad := *m
	bad.Speakers = slices.Clone(m.Speakers)
	bad.Speakers[0].Reconstruction = nmf.NewDense[float32](15, 3, nil)
	var bb bytes.Buffer
	if err := bad.Encode(&bb); err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(bytes.NewReader(bb.Bytes()), int64(bb.Len())); err == nil || !strings.Contains(err.Error(), "s0_R has type <f4 and shape [15 3], want float32 of 15 x 2") {
		t.Errorf("reconstruction 15x3: %v", err)
	}
}

// DL-NMF's rounds run on one layer at a validated-like size with patches,
// sparsity and the power-ratio mask, and deep unfolding runs on top of the
// same training (the held-back mixtures), through Train; the deep model
// separates live as offline.
func TestDLNMFOneLayerSparsePatchesAndDeep(t *testing.T) {
	for _, s := range []TrainSettings{
		{Method: DLNMF, Sizes: []int{100}, Context: 5, Sparsity: 1, MaskPower: 2},
		{Method: NMF, Sizes: []int{100}, Context: 5, Sparsity: 1, MaskPower: 2, Unfold: 5, Untied: 1, DeepEpochs: 3},
		// Single frames for the live comparison: a Live infers each frame
		// alone, so a model of patches sees other neighbours live.
		{Method: NMF, Sizes: []int{8}, Sparsity: 1, MaskPower: 2, Unfold: 5, Untied: 1, DeepEpochs: 3},
	} {
		m := trainSyntheticWith(t, s)
		if s.Method == DLNMF && (m.Training.Rounds != 2 || len(m.Training.DiscCost) < 1) {
			t.Errorf("DL-NMF one layer: rounds %d, cost %v", m.Training.Rounds, m.Training.DiscCost)
		}
		if s.Unfold > 0 && (m.Unfold != 5 || len(m.Training.DeepCost) < 1) {
			t.Errorf("deep: unfold %d, cost %v", m.Unfold, m.Training.DeepCost)
		}
		if m.Speakers[0].Layers[0].Rows != m.context()*513 {
			t.Errorf("%s: %d rows", s.Method, m.Speakers[0].Layers[0].Rows)
		}
		if s.Unfold == 0 || s.Context > 1 {
			continue
		}
		// Live runs the same N iterations frame by frame, whatever its
		// iteration setting: its estimates are Separate's.
		mix := mixOf(synthVoice(lowNotes, 2, 100), synthVoice(highNotes, 2, 200))
		liveEqualsSeparate(t, m, mix, SeparateSettings{NMF: nmf.Settings{MaxIter: 40, Workers: 1}})
	}
}
