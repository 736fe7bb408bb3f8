package corpus

import (
	"fmt"
	"strings"

	"github.com/dlnmf/dlnmf/separation"
)

// Mixture is one mixture of utterances, one per speaker, with the scaled
// sources that add up to it.
type Mixture struct {
	Files   []string    // the utterances' names, in speaker order
	Mixture []float64   // the sum of Sources
	Sources [][]float64 // each speaker's utterance, cut and scaled as Mix does
}

// Name returns the utterances' names joined by "+", e.g. "FA01_03+MC13_07".
func (m *Mixture) Name() string { return strings.Join(m.Files, "+") }

// Pair is the one rule by which speakers' utterances become mixtures, for
// DL-NMF's discriminative mixtures and for test mixtures alike: mixture j
// mixes the j-th utterance of every speaker's set (sets[i] is speaker i's,
// in the order given) at snrDB with Mix, as many mixtures as the smallest
// set has utterances.
//
// Speakers who read the same prompt list (CMU ARCTIC: the same file names)
// must not say the same sentence at once: where a later speaker's j-th
// utterance has the first speaker's j-th name, it trades places with the
// next one of its set, until no two names meet (or every position was
// tried). The sets themselves are not modified.
func Pair(sets [][]Utterance, snrDB float64) ([]Mixture, error) {
	if len(sets) < 2 {
		return nil, fmt.Errorf("pairing needs at least 2 speakers, got %d", len(sets))
	}
	n := len(sets[0])
	for _, s := range sets {
		n = min(n, len(s))
	}
	order := make([][]Utterance, len(sets))
	order[0] = sets[0]
	for i := 1; i < len(sets); i++ {
		s := append([]Utterance(nil), sets[i]...)
		for pass, clash := 0, n > 1; clash && pass < n; pass++ {
			clash = false
			for j := range n {
				if s[j].Name == sets[0][j].Name {
					k := (j + 1) % n
					s[j], s[k] = s[k], s[j]
					clash = true
				}
			}
		}
		order[i] = s
	}
	out := make([]Mixture, n)
	for j := range n {
		srcs := make([][]float64, len(sets))
		names := make([]string, len(sets))
		for i, s := range order {
			srcs[i] = s[j].Samples
			names[i] = s[j].Name
		}
		mix, scaled, err := Mix(srcs, snrDB)
		if err != nil {
			return nil, fmt.Errorf("mixing %s: %w", strings.Join(names, "+"), err)
		}
		out[j] = Mixture{Files: names, Mixture: mix, Sources: scaled}
	}
	return out, nil
}

// DiscMixtures builds the discriminative mixtures of DL-NMF, deep
// unfolding and reconstruction bases from each speaker's held-back
// utterances (sets[i] is speaker i's, in model order) by the pairing rule
// of Pair, in the form separation.Train takes. pairings is how many
// mixtures each held-back utterance of the first speaker makes: pairing p
// (0-based) mixes it with the utterance p places further on in every other
// speaker's set (cyclically), so that the same utterances make more,
// different mixtures. 0 or 1: the protocol's one pairing; at most the
// smallest set's size counts (more would repeat mixtures).
func DiscMixtures(sets [][]Utterance, snrDB float64, pairings int) ([]separation.MixtureData, error) {
	if pairings < 0 {
		return nil, fmt.Errorf("%d pairings of the discriminative utterances: want 1 or more (0: 1)", pairings)
	}
	if len(sets) < 2 {
		return nil, fmt.Errorf("pairing needs at least 2 speakers, got %d", len(sets))
	}
	n := len(sets[0])
	for _, s := range sets {
		n = min(n, len(s))
	}
	var out []separation.MixtureData
	for p := range min(max(pairings, 1), max(n, 1)) {
		shifted := make([][]Utterance, len(sets))
		shifted[0] = sets[0]
		for i := 1; i < len(sets); i++ {
			shifted[i] = append(append([]Utterance(nil), sets[i][p:]...), sets[i][:p]...)
		}
		ms, err := Pair(shifted, snrDB)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			out = append(out, separation.MixtureData{Mixture: m.Mixture, Sources: m.Sources})
		}
	}
	return out, nil
}
