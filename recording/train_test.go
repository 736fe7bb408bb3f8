package recording_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/democorpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// demoSpeakers returns the first n utterances of each demo speaker, named,
// as Train takes them.
func demoSpeakers(t *testing.T, n int) []recording.TrainSpeaker {
	t.Helper()
	var out []recording.TrainSpeaker
	for _, sp := range democorpus.Speakers() {
		ts := recording.TrainSpeaker{Name: sp.Name}
		for _, f := range sp.Files[:n] {
			a, err := wav.Decode(bytes.NewReader(f.Data))
			if err != nil {
				t.Fatal(err)
			}
			ts.Utterances = append(ts.Utterances, corpus.Utterance{Name: f.Name, Samples: a.Mono()})
		}
		out = append(out, ts)
	}
	return out
}

// TestTrainPresetReconstruction: the validated preset holds back files and
// trains reconstruction bases on ReconstructionPairings mixtures of each
// for a model of two speakers, and for one speaker trains every file into
// its layers; an explicit refusal trains none with the preset; with a
// universal model an explicit request is refused before any work.
func TestTrainPresetReconstruction(t *testing.T) {
	speakers := demoSpeakers(t, 10)
	uni := &recording.UniversalSettings{Name: "speech", Prune: -1,
		Speakers: []separation.SpeakerData{{Name: "x", Utterances: [][]float64{speakers[0].Utterances[0].Samples}}}}
	small := separation.TrainSettings{Sizes: []int{8}, NMF: nmf.Settings{MaxIter: 10}, DeepEpochs: 2} // the preset, small
	for _, c := range []struct {
		what       string
		speakers   []recording.TrainSpeaker
		recon      separation.Reconstruction
		universal  *recording.UniversalSettings
		wantRecon  bool
		trainFiles []int
		mixtures   int
	}{
		{"the preset, 2 speakers", speakers, separation.ReconstructionDefault, nil, true, []int{5, 5}, 5 * recording.ReconstructionPairings},
		{"the preset without them", speakers, separation.ReconstructionNone, nil, false, []int{10, 10}, 0},
		{"the preset, 1 speaker", speakers[:1], separation.ReconstructionDefault, nil, false, []int{10}, 0},
		{"the preset with a universal model", speakers, separation.ReconstructionDefault, uni, false, []int{10, 10}, 0},
	} {
		s := small
		s.ReconstructionBases = c.recon
		m, rep, err := recording.Train(context.Background(), c.speakers, recording.TrainSettings{TrainSettings: s, DiscShare: 0.5, Universal: c.universal})
		if err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		if m.HasReconstructionBases() != c.wantRecon || !slices.Equal(rep.TrainFiles, c.trainFiles) || rep.DiscMixtures != c.mixtures {
			t.Errorf("%s: reconstruction bases %v, training files %v, %d mixtures; want %v, %v, %d",
				c.what, m.HasReconstructionBases(), rep.TrainFiles, rep.DiscMixtures, c.wantRecon, c.trainFiles, c.mixtures)
		}
		if m.Context != 5 || m.Bands != separation.ValidatedBands {
			t.Errorf("%s: not the preset's model: %d-frame patches, %d bands", c.what, m.Context, m.Bands)
		}
	}
	s := small
	s.ReconstructionBases = separation.ReconstructionTrained
	if _, _, err := recording.Train(context.Background(), speakers, recording.TrainSettings{TrainSettings: s, Universal: uni}); err == nil || !strings.Contains(err.Error(), "universal model") {
		t.Errorf("reconstruction bases with a universal model: %v", err)
	}
}
