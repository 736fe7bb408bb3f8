package separation

import (
	"context"
	"fmt"
	"math"
	"slices"

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

// DefaultUniversalWeight and DefaultUniversalWeightOne are the default weights of the
// universal model's group penalty, relative to the mixture's magnitude
// (SeparateSettings.UniversalWeight 0): a speaker of the universal model that
// explains a share s of the mixture gets rho / s added to the denominators
// of its activations, against 1 for the data term. DefaultUniversalWeight is for
// a universal model of several speakers, where the penalty chooses among
// them; DefaultUniversalWeightOne for one speaker (a pruned model,
// PruneUniversal), where there is nothing to choose and the penalty only
// shrinks the universal source. Chosen on the validation mixtures of TSP FA
// + MC with an ARCTIC slt + bdl universal model (docs/RESULTS.md,
// docs/results/semi15/unknown-MC-0dB.validation*.md): with both speakers
// 0.01 is best at K = 20 per speaker (+4.76 dB SDRi, against +2.67 at 0.001
// and +1.47 at 0.03); pruned to bdl, 0.0001, the grid's smallest, is best
// at K = 20 and 40 (+5.60 and +6.13 dB, against +5.31 and +5.99 at 0.01).
const (
	DefaultUniversalWeight    = 0.01
	DefaultUniversalWeightOne = 0.0001
)

// TrainUniversal trains a universal speech model from the speakers' clean
// utterances: each speaker's layers as Train trains a model's (layered NMF
// with s.Sizes; DL-NMF's discriminative rounds, deep unfolding and
// reconstruction bases do not apply and are skipped), speaker i initialised from SpeakerSeed(s.NMF.Seed+1000, i), apart
// from the model's own speakers.
func TrainUniversal(ctx context.Context, name string, speakers []SpeakerData, s TrainSettings) (*Universal, *TrainReport, error) {
	if err := CheckName(name); err != nil {
		return nil, nil, fmt.Errorf("universal model: %w", err)
	}
	if len(speakers) == 0 {
		return nil, nil, fmt.Errorf("universal model %s has no speakers", name)
	}
	s = s.ForModel(len(speakers), false) // the preset's layers
	if s.Method == DLNMF {
		s.Method = LNMF
	}
	s.Unfold, s.Untied, s.ReconstructionBases = 0, 0, ReconstructionNone
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

// UniversalShares measures how much of the model's own voices each speaker
// of its universal model would take: share i is the energy share of the
// universal source's estimate when the known speakers' clean utterances
// (recordings of the model's speakers alone, such as their training files)
// are separated with universal speaker i alone as the universal model, with
// settings s (group weight s.UniversalWeight, or shareWeight if 0). A universal
// speaker that explains the known voices (a woman's voice for a model of a
// woman) takes their energy at separation as well as the unknown
// talker's; PruneUniversal removes such speakers. It costs one separation
// of the utterances per universal speaker.
func UniversalShares(m *Model, utterances [][]float64, s SeparateSettings) ([]float64, error) {
	if m.Universal == nil {
		return nil, fmt.Errorf("the model has no universal model")
	}
	var total float64
	for _, x := range utterances {
		for _, v := range x {
			total += v * v
		}
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return nil, fmt.Errorf("universal model %s: the known speakers' utterances are silent or not finite", m.Universal.Name)
	}
	if s.UniversalWeight == 0 {
		s.UniversalWeight = shareWeight
	}
	shares := make([]float64, len(m.Universal.Speakers))
	for i, us := range m.Universal.Speakers {
		one := *m
		one.Universal = &Universal{Name: m.Universal.Name, Speakers: []Speaker{us}}
		sep, err := NewSeparator(&one, s)
		if err != nil {
			return nil, err
		}
		var taken float64
		for _, x := range utterances {
			est, err := sep.Separate(x)
			if err != nil {
				return nil, fmt.Errorf("universal speaker %s: %w", us.Name, err)
			}
			for _, v := range est[len(est)-1] {
				taken += v * v
			}
		}
		shares[i] = taken / total
	}
	return shares, nil
}

// CheckPrune rejects a PruneUniversal ratio that is neither 0 (keep all)
// nor a finite ratio of at least 1.
func CheckPrune(ratio float64) error {
	if !(ratio == 0 || ratio >= 1) || math.IsInf(ratio, 0) {
		return fmt.Errorf("prune ratio %v: want 0 (keep all) or a finite ratio of at least 1", ratio)
	}
	return nil
}

// shareWeight is UniversalShares's group weight unless set: the weight
// that PruneUniversal's DefaultUniversalPrune was chosen with. One speaker
// alone is one group, and the penalty a scaled L1 on its activations.
const shareWeight = 0.01

// PruneUniversal returns u without the speakers whose share
// (UniversalShares) is more than ratio times the smallest share: the
// universal speakers that explain the known voices markedly better than the
// least confusable one, whose bases would take the known voices' energy at
// separation. The speaker of the smallest share always stays; ratio 0
// keeps them all. Shares rather than a fixed threshold, because they grow
// with the universal speakers' bases (K = 20 per speaker: 10 to 12% for
// ARCTIC slt and 1.4 to 1.6% for bdl of TSP FA's training audio; K = 40:
// 29 to 31% and 12 to 14%).
func PruneUniversal(u *Universal, shares []float64, ratio float64) *Universal {
	if ratio <= 0 {
		return u
	}
	least := slices.Min(shares)
	out := &Universal{Name: u.Name}
	for i, sp := range u.Speakers {
		if shares[i] <= ratio*least {
			out.Speakers = append(out.Speakers, sp)
		}
	}
	return out
}

// ShareSeconds is how much of each speaker's training audio
// PruneUniversalOn measures the universal speakers' shares on: the shares
// settle long before (TSP FA's whole 70% share, about 100 s, chose
// DefaultUniversalPrune), and an hour-long folder would cost one separation
// of the hour per universal speaker.
const ShareSeconds = 300

// PruneUniversalOn measures the share of the speakers' training audio (each
// speaker's first ShareSeconds, in order) that each of m's universal
// speakers takes (UniversalShares, with the model's default inference),
// drops those above ratio times the least (PruneUniversal) from m, and
// returns every universal speaker's share, in the order m had them.
func PruneUniversalOn(m *Model, speakers []SpeakerData, ratio float64) ([]float64, error) {
	shares, err := UniversalShares(m, ShareAudio(speakers, m.SampleRate), SeparateSettings{})
	if err != nil {
		return nil, err
	}
	m.Universal = PruneUniversal(m.Universal, shares, ratio)
	return shares, nil
}

// ShareAudio returns the utterances that the universal speakers' shares are
// measured on: each speaker's first ShareSeconds (at rate), in order.
func ShareAudio(speakers []SpeakerData, rate int) [][]float64 {
	var clean [][]float64
	for _, d := range speakers {
		n := 0
		for _, u := range d.Utterances {
			if n >= ShareSeconds*rate {
				break
			}
			clean = append(clean, u)
			n += len(u)
		}
	}
	return clean
}

// DefaultUniversalPrune is dlnmf train's --universal-prune ratio
// (PruneUniversal), chosen on the validation mixtures of TSP FA + MC
// (docs/RESULTS.md, "Sources without a model"): 1.5 and 2 both drop ARCTIC
// slt (2 to 8 times bdl's share of FA's training audio) and tie at +6.13 dB
// SDRi, against +4.99 dB for the best unpruned row; 1.5 is the picked one
// (the grid's first on the tie). On the test repeats the ratio was 2.01
// to 2.34: 2 would have dropped slt too, narrowly.
const DefaultUniversalPrune = 1.5
