package experiment

import (
	"context"
	"fmt"
	"time"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/stft"
)

// Score is one separated speaker of one test mixture, in dB.
type Score struct {
	Repeat  int    `json:"repeat"`
	Mixture string `json:"mixture"` // "r01-m3"
	Files   string `json:"files"`   // the utterances mixed, "FA01_03+MC13_07"
	Method  string `json:"method"`  // "NMF", "L-NMF", "DL-NMF"
	Layers  []int  `json:"layers"`
	Speaker string `json:"speaker"`
	SDR     Number `json:"sdr"`
	SIR     Number `json:"sir"`
	SAR     Number `json:"sar"`
	SISDR   Number `json:"si_sdr"` // scale-invariant SDR (bsseval.SISDR, mean removed)
	// Config is the chosen grid point of a "Selected" score
	// ("context=5 sparsity=0.5"); "" for the experiment's own rows.
	Config string `json:"config,omitempty"`
}

// Curve is a cost history: training cost per speaker, or the DL-NMF
// discriminative cost per round.
type Curve struct {
	Row     string     `json:"row"`     // the row label, e.g. "L-NMF 180,20"
	Name    string     `json:"name"`    // the speaker, or "discriminative"
	Iter    []int      `json:"iter"`    // iteration (or round) of each cost
	Cost    []float64  `json:"cost"`    // cost values
	Stage   CurveStage `json:"stage"`   // CurveTraining or CurveDiscriminative
	Seconds float64    `json:"seconds"` // wall time of this training
}

// Example is one test mixture kept as audio for the report.
type Example struct {
	Name      string                 `json:"name"`
	Mixture   []float64              `json:"-"`
	Sources   [][]float64            `json:"-"` // scaled clean sources, speaker order
	Estimates map[string][][]float64 `json:"-"` // by row label
}

// CurveStage says what a Curve's costs measure.
type CurveStage string

// The stages of a curve.
const (
	CurveTraining       CurveStage = "training"       // one speaker's training cost per iteration
	CurveDiscriminative CurveStage = "discriminative" // DL-NMF's discriminative cost per round
)

// RepeatResult is everything one repeat produced.
type RepeatResult struct {
	Repeat   int       `json:"repeat"`
	Seconds  float64   `json:"seconds"`
	Scores   []Score   `json:"scores"`
	Curves   []Curve   `json:"curves"`
	Examples []Example `json:"-"`
}

// RepeatSeed is the seed of repeat (0-based) of an experiment with seed
// seed: every model of the repeat is trained with it (speaker i from
// separation.SpeakerSeed(RepeatSeed(seed, repeat), i)), so `dlnmf train
// --seed` with this value on the repeat's files builds the repeat's models.
// The splits use seed and repeat directly (corpus.SplitSpeaker).
func RepeatSeed(seed uint64, repeat int) uint64 { return seed*1_000_003 + uint64(repeat)*1009 }

// Repeat is one repeat's shared work, done once by PrepareRepeat and used
// by every row: each speaker's split, the test mixtures, and the training
// set (spectrograms; layer-1 pretraining and the L-NMF layers shared by the
// rows that need them).
type Repeat struct {
	Index int    // 0-based
	Seed  uint64 // RepeatSeed(cfg.Seed, Index)
	// Train, Disc and Test are each speaker's utterances of the split, in
	// the order used: training spectrograms side by side in this order,
	// and mixtures paired by corpus.Pair in this order.
	Train, Disc, Test [][]corpus.Utterance
	Tests             []corpus.Mixture // the test mixtures
	// Model, when set, is called with every model Run trains.
	Model func(Row, *separation.Model)

	cfg      Config
	speakers []string
	set      *separation.TrainingSet
}

// PrepareRepeat splits every speaker for repeat (0-based), pairs the test
// and discriminative mixtures and computes the training set's
// spectrograms.
func PrepareRepeat(speakers []*corpus.Speaker, cfg Config, repeat int) (*Repeat, error) {
	cfg, err := cfg.Defaults()
	if err != nil {
		return nil, err
	}
	if len(speakers) < 2 {
		return nil, fmt.Errorf("the experiment needs at least 2 speakers, got %d", len(speakers))
	}
	names := speakerNames(speakers)
	train, disc, test, err := splitSpeakers(speakers, cfg, repeat)
	if err != nil {
		return nil, err
	}
	return newRepeat(cfg, repeat, names, train, disc, test)
}

// splitSpeakers splits every speaker's utterances for repeat by the
// protocol (corpus.SplitSpeaker): training, discriminative and test shares,
// each in the repeat's shuffled order. cfg has its defaults.
func splitSpeakers(speakers []*corpus.Speaker, cfg Config, repeat int) (train, disc, test [][]corpus.Utterance, err error) {
	for i, sp := range speakers {
		split, err := corpus.SplitSpeaker(len(sp.Utterances), cfg.Seed, repeat, i, cfg.TrainFraction, cfg.DiscFraction)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("speaker %s: %w", sp.Name, err)
		}
		train = append(train, pick(sp.Utterances, split.Train))
		disc = append(disc, pick(sp.Utterances, split.Disc))
		test = append(test, pick(sp.Utterances, split.Test))
	}
	return train, disc, test, nil
}

// newRepeat builds repeat (0-based) from each speaker's shares: the models
// train on train, DL-NMF's mixtures pair disc, and the test mixtures pair
// test (a selection's validation repeat passes the validation share as
// test). cfg has its defaults.
func newRepeat(cfg Config, repeat int, speakers []string, train, disc, test [][]corpus.Utterance) (*Repeat, error) {
	rp := &Repeat{Index: repeat, Seed: RepeatSeed(cfg.Seed, repeat), cfg: cfg, speakers: speakers, Train: train, Disc: disc, Test: test}
	data := make([]separation.SpeakerData, len(speakers))
	for i, name := range speakers {
		data[i] = separation.SpeakerData{Name: name}
		for _, u := range train[i] {
			data[i].Utterances = append(data[i].Utterances, u.Samples)
		}
	}
	var (
		mixtures []separation.MixtureData
		err      error
	)
	if cfg.discriminative() {
		if mixtures, err = corpus.DiscMixtures(disc, cfg.SNR, cfg.DiscPairings); err != nil {
			return nil, err
		}
	}
	if rp.Tests, err = corpus.Pair(test, cfg.SNR); err != nil {
		return nil, err
	}
	if rp.set, err = separation.NewTrainingSet(data, mixtures, cfg.SampleRate, stft.Settings{}); err != nil {
		return nil, err
	}
	rp.set.ShareLayers = true
	return rp, nil
}

// TrainSettings returns the settings of row's model in this repeat, the
// engine on the given number of cores.
func (rp *Repeat) TrainSettings(row Row, cores int) separation.TrainSettings {
	return rp.cfg.TrainSettings(row, rp.Seed, cores)
}

// TrainSettings returns the settings of row's model under c (its defaults
// applied), seeded with seed, the engine on the given number of cores: what
// a repeat trains, and what its memory estimate counts.
func (c Config) TrainSettings(row Row, seed uint64, cores int) separation.TrainSettings {
	div, beta := c.divergence()
	ts := separation.TrainSettings{
		Method: row.Method, Sizes: row.Sizes, SampleRate: c.SampleRate,
		NMF:       nmf.Settings{Divergence: div, Beta: beta, MaxIter: c.Iters, Tol: c.Tol, Seed: seed, Workers: max(cores, 1)},
		InferIter: c.InferIters, Rounds: c.Rounds, DiscIter: c.DiscIters,
		Context: c.Context, Sparsity: c.Sparsity, MaskPower: c.MaskPower,
		Unfold: c.Unfold, Untied: c.Untied, DeepEpochs: c.DeepEpochs,
	}
	if c.ReconstructionBases {
		// The bases are trained for the inference the rows separate with
		// (runRepeat's separator): the model records it as its own.
		ts.ReconstructionBases = separation.ReconstructionTrained
		ts.Bands, ts.StepExponent, ts.SeparateIters = c.Bands, c.StepExponent, c.InferIters
	}
	return ts
}

// RunRepeat runs repeat number repeat (0-based) of the protocol on the
// speakers, with the NMF engine on the given number of cores. step is called after each trained method with its
// label (it may be nil). keep is the number of test mixtures whose audio is
// returned as Examples.
func RunRepeat(ctx context.Context, speakers []*corpus.Speaker, cfg Config, repeat, keep, cores int, step func(string)) (*RepeatResult, error) {
	rp, err := PrepareRepeat(speakers, cfg, repeat)
	if err != nil {
		return nil, err
	}
	return rp.Run(ctx, keep, cores, step)
}

// Run trains and scores every row of the experiment on the repeat, with
// the NMF engine on the given number of cores. step is called after each
// trained method with its label (it may be nil). keep is the number of test
// mixtures whose audio is returned as Examples.
func (rp *Repeat) Run(ctx context.Context, keep, cores int, step func(string)) (*RepeatResult, error) {
	if step == nil {
		step = func(string) {}
	}
	start := time.Now()
	cfg := rp.cfg
	res := &RepeatResult{Repeat: rp.Index}
	for j := range min(keep, len(rp.Tests)) {
		t := &rp.Tests[j]
		res.Examples = append(res.Examples, Example{Name: rp.testName(j) + " (" + t.Name() + ")", Mixture: t.Mixture,
			Sources: t.Sources, Estimates: map[string][][]float64{}})
	}
	train := func(row Row) (*separation.Model, *separation.TrainReport, error) {
		m, rep, err := rp.set.Train(ctx, rp.TrainSettings(row, cores))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", row.Label(), err)
		}
		if rp.Model != nil {
			rp.Model(row, m)
		}
		return m, rep, nil
	}
	curves := func(row Row, rep *separation.TrainReport) {
		for i, r := range rep.Speakers {
			c := Curve{Row: row.Label(), Name: rp.speakers[i], Stage: CurveTraining, Seconds: rep.Seconds[i], Cost: r.Cost}
			c.Iter = append(c.Iter, r.CostIter...)
			res.Curves = append(res.Curves, c)
		}
	}
	evaluate := func(row Row, m *separation.Model) error {
		if err := rp.score(res, row, m, cores); err != nil {
			return err
		}
		step(row.Label())
		return ctx.Err()
	}
	if cfg.has(separation.NMF) {
		for _, k := range cfg.K {
			row := Row{separation.NMF, []int{k}}
			m, rep, err := train(row)
			if err != nil {
				return nil, err
			}
			curves(row, rep)
			if err := evaluate(row, m); err != nil {
				return nil, err
			}
		}
	}
	if cfg.has(separation.LNMF) || cfg.has(separation.DLNMF) {
		for _, sizes := range cfg.Layers {
			// The L-NMF layers are trained once (layer 1 once per K1) and
			// kept in the training set for the DL-NMF row.
			row := Row{separation.LNMF, sizes}
			m, rep, err := train(row)
			if err != nil {
				return nil, err
			}
			curves(row, rep)
			if cfg.has(separation.LNMF) {
				if err := evaluate(row, m); err != nil {
					return nil, err
				}
			}
			if !cfg.has(separation.DLNMF) {
				continue
			}
			drow := Row{separation.DLNMF, sizes}
			dl, drep, err := train(drow)
			if err != nil {
				return nil, err
			}
			c := Curve{Row: drow.Label(), Name: "discriminative", Stage: CurveDiscriminative, Cost: drep.DiscCost, Seconds: drep.DiscSeconds}
			for r := range drep.DiscCost {
				c.Iter = append(c.Iter, r)
			}
			res.Curves = append(res.Curves, c)
			if err := evaluate(drow, dl); err != nil {
				return nil, err
			}
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// separateSettings returns how c's rows separate, the engine on the given
// number of cores: offline, or as a stream (LiveIters).
func (c Config) separateSettings(cores int) separation.SeparateSettings {
	s := separation.SeparateSettings{NMF: nmf.Settings{MaxIter: c.InferIters, Tol: c.Tol, Workers: max(cores, 1), StepExponent: c.StepExponent},
		Bands: c.Bands, CoarseBands: c.CoarseBands, CoarseIters: c.CoarseIters}
	if c.LiveIters > 0 {
		// Exponent 1 rather than 0, which would take the model's own.
		s.NMF.MaxIter, s.NMF.Tol, s.NMF.StepExponent = c.LiveIters, -1, max(c.LiveStepExponent, 1)
	}
	return s
}

// testName names test mixture j, e.g. "r01-m3".
func (rp *Repeat) testName(j int) string { return fmt.Sprintf("r%02d-m%d", rp.Index+1, j+1) }

// score separates every test mixture with model and adds the scores to res
// (and the estimates to its examples).
func (rp *Repeat) score(res *RepeatResult, row Row, model *separation.Model, cores int) error {
	cfg := rp.cfg
	sep, err := separation.NewSeparator(model, cfg.separateSettings(cores))
	if err != nil {
		return err
	}
	for j, tm := range rp.Tests {
		name := rp.testName(j)
		est, err := sep.Separate(tm.Mixture)
		if err != nil {
			return fmt.Errorf("%s, test mixture %s: %w", row.Label(), name, err)
		}
		r, err := bsseval.Sources(tm.Sources, est, bsseval.Options{})
		if err != nil {
			return fmt.Errorf("%s, scoring %s: %w", row.Label(), name, err)
		}
		for i, sp := range rp.speakers {
			si, err := bsseval.SISDR(tm.Sources[i], est[i], true)
			if err != nil {
				return fmt.Errorf("%s, SI-SDR of %s: %w", row.Label(), name, err)
			}
			res.Scores = append(res.Scores, Score{Repeat: rp.Index + 1, Mixture: name, Files: tm.Name(),
				Method: row.Method.Label(), Layers: row.Sizes, Speaker: sp, SDR: Number(r.SDR[i]), SIR: Number(r.SIR[i]), SAR: Number(r.SAR[i]), SISDR: Number(si)})
		}
		if j < len(res.Examples) {
			res.Examples[j].Estimates[row.Label()] = est
		}
	}
	return nil
}

func pick(us []corpus.Utterance, idx []int) []corpus.Utterance {
	out := make([]corpus.Utterance, len(idx))
	for i, j := range idx {
		out[i] = us[j]
	}
	return out
}
