package recording

import (
	"context"
	"errors"
	"fmt"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/separation"
)

// DefaultDiscShare is the share of each speaker's recordings that Train
// holds back for DL-NMF's discriminative mixtures unless told otherwise:
// the protocol's (corpus.DiscFraction).
const DefaultDiscShare = corpus.DiscFraction

// ReconstructionPairings is the discriminative mixtures each held-back
// recording of the first speaker makes for reconstruction bases when
// TrainSettings.DiscPairings is 0: validation chose 4 pairings over the
// protocol's one on TSP FA+MC (docs/RESULTS.md, "Reconstruction bases");
// with the protocol's few held-back recordings the bases overfit. DL-NMF
// and deep unfolding keep the protocol's one.
const ReconstructionPairings = 4

// TrainSpeaker is one speaker's recordings, at the training rate, named
// (corpus.Utterance.Name: two speakers' recordings of one name are taken to
// say the same sentence, and are not mixed together for DL-NMF).
type TrainSpeaker struct {
	Name       string
	Utterances []corpus.Utterance
	// Disc, when not nil, are the recordings that DL-NMF mixes for its
	// discriminative rounds, and all of Utterances train; nil: a seeded
	// share of Utterances is held back for them (TrainSettings.DiscShare).
	Disc []corpus.Utterance
}

// TrainSettings control Train; zero values mean the defaults.
type TrainSettings struct {
	separation.TrainSettings
	// DiscShare is the share of each speaker's recordings held back for
	// DL-NMF's discriminative mixtures when TrainSpeaker.Disc is nil: the
	// first files of a shuffle seeded by NMF.Seed. 0: DefaultDiscShare.
	DiscShare float64
	// DiscSNR is the level of the first speaker over each other one in
	// the discriminative mixtures, dB (0: equal energy).
	DiscSNR float64
	// DiscPairings is how many discriminative mixtures each held-back
	// recording of the first speaker makes (corpus.DiscMixtures); 0: 1,
	// the protocol's, but ReconstructionPairings for reconstruction bases.
	DiscPairings int
	// Universal, when not nil, trains a universal speech model into the
	// model (see UniversalSettings).
	Universal *UniversalSettings
	// Progress, when not nil, receives a line for each stage.
	Progress func(string)
}

// UniversalSettings say how Train trains a universal speech model: the
// speakers' bases side by side, for talkers nobody trained.
type UniversalSettings struct {
	Name     string
	Speakers []separation.SpeakerData // at the training rate
	// K is the number of NMF bases per speaker; 0: the model's method and
	// sizes.
	K int
	// Prune drops the universal speakers that take more than Prune times
	// the least share of the model's speakers' training audio
	// (separation.PruneUniversalOn); 0: separation.DefaultUniversalPrune,
	// negative: keep all.
	Prune float64
}

// TrainReport is what Train did.
type TrainReport struct {
	*separation.TrainReport
	TrainFiles   []int // per speaker: the recordings that trained its bases
	DiscMixtures int
	// UniversalShares are the shares of the speakers' training audio that
	// each universal speaker took, by name (with pruning).
	UniversalShares map[string]float64
}

// Train trains a model of the speakers as dlnmf train does: for DL-NMF,
// deep unfolding and reconstruction bases (the validated preset's for 2
// speakers or more, separation.ReconstructionBetweenSpeakers) a seeded
// share of each speaker's recordings is held back (or Disc used) and
// mixed; the memory the work needs is checked first; a universal model is
// trained and pruned when asked for.
func Train(ctx context.Context, speakers []TrainSpeaker, s TrainSettings) (*separation.Model, *TrainReport, error) {
	// What to hold back for mixtures depends on the settings' choices
	// for this model.
	s.TrainSettings = s.ForModel(len(speakers), s.Universal != nil)
	if s.Universal != nil && (s.Unfold > 0 || s.ReconstructionBases == separation.ReconstructionTrained) {
		return nil, nil, errors.New("a universal model goes with neither deep unfolding nor reconstruction bases: their gains are trained for the speakers alone")
	}
	progress := s.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if s.DiscShare == 0 {
		s.DiscShare = DefaultDiscShare
	}
	if !(s.DiscShare > 0 && s.DiscShare < 1) {
		return nil, nil, fmt.Errorf("discriminative share %v: want a fraction between 0 and 1", s.DiscShare)
	}
	dl := s.Discriminative()
	if err := s.CheckSpeakers(len(speakers)); err != nil {
		return nil, nil, err
	}
	rep := &TrainReport{TrainFiles: make([]int, len(speakers))}
	data := make([]separation.SpeakerData, len(speakers))
	held := make([][]corpus.Utterance, len(speakers))
	for i, sp := range speakers {
		data[i] = separation.SpeakerData{Name: sp.Name}
		isHeld := make([]bool, len(sp.Utterances))
		switch {
		case sp.Disc != nil:
			held[i] = sp.Disc
		case dl:
			// The first files of a seeded shuffle are held back, paired in
			// that order.
			order := corpus.Shuffle(len(sp.Utterances), s.NMF.Seed, 0, i)
			nDisc := int(s.DiscShare*float64(len(order)) + 0.5)
			if nDisc < 1 || nDisc >= len(order) {
				return nil, nil, fmt.Errorf("speaker %s has %d files: too few to hold back %.0f%% for DL-NMF", sp.Name, len(order), 100*s.DiscShare)
			}
			for _, idx := range order[:nDisc] {
				held[i] = append(held[i], sp.Utterances[idx])
				isHeld[idx] = true
			}
		}
		for j, u := range sp.Utterances { // the rest trains, in the order given
			if !isHeld[j] {
				data[i].Utterances = append(data[i].Utterances, u.Samples)
			}
		}
		rep.TrainFiles[i] = len(data[i].Utterances)
	}
	var disc []separation.MixtureData
	if dl {
		var err error
		pairings := s.DiscPairings
		if pairings == 0 && s.ReconstructionBases == separation.ReconstructionTrained {
			pairings = ReconstructionPairings
		}
		if disc, err = corpus.DiscMixtures(held, s.DiscSNR, pairings); err != nil {
			return nil, nil, fmt.Errorf("discriminative mixtures: %w", err)
		}
		rep.DiscMixtures = len(disc)
		what := "DL-NMF"
		switch {
		case s.Unfold > 0:
			what = "deep unfolding"
		case s.ReconstructionBases == separation.ReconstructionTrained:
			what = "reconstruction bases"
		}
		progress(fmt.Sprintf("%s: %d discriminative mixtures at %g dB", what, len(disc), s.DiscSNR))
	}
	if err := checkTrainMemory("training", data, disc, s.TrainSettings); err != nil {
		return nil, nil, err
	}
	model, trep, err := separation.Train(ctx, data, disc, s.TrainSettings)
	if err != nil {
		return nil, nil, err
	}
	rep.TrainReport = trep
	if u := s.Universal; u != nil {
		progress(fmt.Sprintf("training the universal model %s (%d speakers)", u.Name, len(u.Speakers)))
		us := s.TrainSettings
		us.NMF.Recorder = nil
		if model.Universal, err = TrainUniversal(ctx, u, us); err != nil {
			return nil, nil, err
		}
		prune := u.Prune
		if prune == 0 {
			prune = separation.DefaultUniversalPrune
		}
		if prune > 0 {
			all := model.Universal
			shares, err := separation.PruneUniversalOn(model, data, prune)
			if err != nil {
				return nil, nil, err
			}
			rep.UniversalShares = map[string]float64{}
			for i, sp := range all.Speakers {
				rep.UniversalShares[sp.Name] = shares[i]
			}
		}
	}
	return model, rep, nil
}

// TrainUniversal trains u's universal speech model with the model's
// settings s (NMF with u.K bases per speaker when u.K is set), after
// checking the memory it needs. It does not prune: that needs the model.
func TrainUniversal(ctx context.Context, u *UniversalSettings, s separation.TrainSettings) (*separation.Universal, error) {
	if u.K > 0 {
		s.Method, s.Sizes = separation.NMF, []int{u.K}
	}
	if err := checkTrainMemory("training the universal model", u.Speakers, nil, s); err != nil {
		return nil, err
	}
	um, _, err := separation.TrainUniversal(ctx, u.Name, u.Speakers, s)
	return um, err
}

// checkTrainMemory refuses training whose memory (separation.TrainMemory)
// is beyond what the machine has.
func checkTrainMemory(what string, data []separation.SpeakerData, disc []separation.MixtureData, s separation.TrainSettings) error {
	speakers := make([][]int, len(data))
	for i, d := range data {
		for _, u := range d.Utterances {
			speakers[i] = append(speakers[i], len(u))
		}
	}
	var mixes []int
	for _, d := range disc {
		mixes = append(mixes, len(d.Mixture))
	}
	need, err := separation.TrainMemory(speakers, mixes, s)
	if err != nil {
		return nil // bad settings: Train reports them
	}
	return separation.CheckMemory(what, need)
}
