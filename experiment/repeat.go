package experiment

import (
	"context"
	"fmt"
	"strings"
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
}

// Curve is a cost history: training cost per speaker, or the DL-NMF
// discriminative cost per round.
type Curve struct {
	Row     string    `json:"row"`     // the row label, e.g. "L-NMF 180,20"
	Name    string    `json:"name"`    // the speaker, or "discriminative"
	Iter    []int     `json:"iter"`    // iteration (or round) of each cost
	Cost    []float64 `json:"cost"`    // cost values
	Stage   string    `json:"stage"`   // "training" or "discriminative"
	Seconds float64   `json:"seconds"` // wall time of this training
}

// Example is one test mixture kept as audio for the report.
type Example struct {
	Name      string                 `json:"name"`
	Mixture   []float64              `json:"-"`
	Sources   [][]float64            `json:"-"` // scaled clean sources, speaker order
	Estimates map[string][][]float64 `json:"-"` // by row label
}

// RepeatResult is everything one repeat produced.
type RepeatResult struct {
	Repeat   int       `json:"repeat"`
	Seconds  float64   `json:"seconds"`
	Scores   []Score   `json:"scores"`
	Curves   []Curve   `json:"curves"`
	Examples []Example `json:"-"`
}

// testMixture is one scored test mixture.
type testMixture struct {
	name, files string
	mix         []float64
	sources     [][]float64
}

// RunRepeat runs repeat number repeat (0-based) of the protocol on the
// speakers, with the NMF engine on the given number of cores. step is called after each trained method with its
// label (it may be nil). keep is the number of test mixtures whose audio is
// returned as Examples.
func RunRepeat(ctx context.Context, speakers []*corpus.Speaker, cfg Config, repeat, keep, cores int, step func(string)) (*RepeatResult, error) {
	cfg, err := cfg.Defaults()
	if err != nil {
		return nil, err
	}
	if len(speakers) < 2 {
		return nil, fmt.Errorf("the experiment needs at least 2 speakers, got %d", len(speakers))
	}
	if step == nil {
		step = func(string) {}
	}
	start := time.Now()
	plan, err := stft.NewPlan(stft.Settings{})
	if err != nil {
		return nil, err
	}
	div, beta := cfg.divergence()
	base := nmf.Settings{Divergence: div, Beta: beta, MaxIter: cfg.Iters, Tol: cfg.Tol, Workers: max(cores, 1)}

	// Split every speaker and gather its training spectrogram.
	train := make([]*nmf.Dense[float32], len(speakers))
	var discSets, testSets [][]corpus.Utterance
	for i, sp := range speakers {
		split, err := corpus.SplitSpeaker(len(sp.Utterances), cfg.Seed, repeat, i, cfg.TrainFraction, cfg.DiscFraction)
		if err != nil {
			return nil, fmt.Errorf("speaker %s: %w", sp.Name, err)
		}
		mags := make([]*nmf.Dense[float32], len(split.Train))
		for j, idx := range split.Train {
			mags[j] = separation.Spectrogram(plan, sp.Utterances[idx].Samples)
		}
		train[i] = separation.Concat(mags)
		discSets = append(discSets, pick(sp.Utterances, split.Disc))
		testSets = append(testSets, pick(sp.Utterances, split.Test))
	}
	disc, err := mixtures(discSets, cfg.SNR, repeat, "d")
	if err != nil {
		return nil, err
	}
	tests, err := mixtures(testSets, cfg.SNR, repeat, "m")
	if err != nil {
		return nil, err
	}
	discData := make([]separation.DiscData, len(disc))
	for j, d := range disc {
		discData[j].Mixture = separation.Spectrogram(plan, d.mix)
		for _, s := range d.sources {
			discData[j].Sources = append(discData[j].Sources, separation.Spectrogram(plan, s))
		}
	}

	res := &RepeatResult{Repeat: repeat}
	for j := range min(keep, len(tests)) {
		res.Examples = append(res.Examples, Example{Name: tests[j].name + " (" + tests[j].files + ")", Mixture: tests[j].mix,
			Sources: tests[j].sources, Estimates: map[string][][]float64{}})
	}
	seed := func(i int) uint64 { return cfg.Seed*1_000_003 + uint64(repeat)*1009 + uint64(i) }

	// evaluate separates every test mixture with model and scores it.
	evaluate := func(row Row, model *separation.Model) error {
		sep, err := separation.NewSeparator(model, separation.SeparateSettings{NMF: nmf.Settings{MaxIter: cfg.InferIters, Tol: cfg.Tol, Workers: max(cores, 1)}})
		if err != nil {
			return err
		}
		for j, tm := range tests {
			est, err := sep.Separate(tm.mix)
			if err != nil {
				return fmt.Errorf("%s, test mixture %s: %w", row.Label(), tm.name, err)
			}
			r, err := bsseval.Sources(tm.sources, est, bsseval.Options{})
			if err != nil {
				return fmt.Errorf("%s, scoring %s: %w", row.Label(), tm.name, err)
			}
			for i, sp := range speakers {
				res.Scores = append(res.Scores, Score{Repeat: repeat + 1, Mixture: tm.name, Files: tm.files,
					Method: row.Method.Label(), Layers: row.Sizes, Speaker: sp.Name, SDR: Number(r.SDR[i]), SIR: Number(r.SIR[i]), SAR: Number(r.SAR[i])})
			}
			if j < len(res.Examples) {
				res.Examples[j].Estimates[row.Label()] = est
			}
		}
		step(row.Label())
		return ctx.Err()
	}
	newModel := func(m separation.Method) *separation.Model {
		return &separation.Model{Method: m, SampleRate: cfg.SampleRate, STFT: plan.Settings(), Divergence: div, Beta: beta,
			Training: separation.Training{Iterations: cfg.Iters, Seed: seed(0)}}
	}
	curve := func(row Row, name string, r nmf.Result, t time.Time) {
		c := Curve{Row: row.Label(), Name: name, Stage: "training", Seconds: time.Since(t).Seconds(), Cost: r.Cost}
		c.Iter = append(c.Iter, r.CostIter...)
		res.Curves = append(res.Curves, c)
	}

	if cfg.has(separation.NMF) {
		for _, k := range cfg.K {
			row := Row{separation.NMF, []int{k}}
			model := newModel(separation.NMF)
			for i, sp := range speakers {
				t := time.Now()
				s := base
				s.Seed = seed(i)
				f, r, err := nmf.Factorize(train[i], k, s)
				if err != nil {
					return nil, fmt.Errorf("%s, speaker %s: %w", row.Label(), sp.Name, err)
				}
				model.Speakers = append(model.Speakers, separation.Speaker{Name: sp.Name, Layers: f.Layers})
				curve(row, sp.Name, r, t)
			}
			if err := evaluate(row, model); err != nil {
				return nil, err
			}
		}
	}

	if cfg.has(separation.LNMF) || cfg.has(separation.DLNMF) {
		// Layer-1 pretraining depends only on K1: once per distinct K1.
		first := map[int][]*nmf.Factorization[float32]{}
		for _, sizes := range cfg.Layers {
			if _, ok := first[sizes[0]]; ok {
				continue
			}
			for i, sp := range speakers {
				s := base
				s.Seed = seed(i)
				f, _, err := nmf.Factorize(train[i], sizes[0], s)
				if err != nil {
					return nil, fmt.Errorf("layer-1 pretraining K1=%d, speaker %s: %w", sizes[0], sp.Name, err)
				}
				first[sizes[0]] = append(first[sizes[0]], f)
			}
		}
		for _, sizes := range cfg.Layers {
			row := Row{separation.LNMF, sizes}
			model := newModel(separation.LNMF)
			for i, sp := range speakers {
				t := time.Now()
				s := base
				s.Seed = seed(i)
				f := cloneFactorization(first[sizes[0]][i])
				for _, k := range sizes[1:] {
					if f, _, err = nmf.Stack(train[i], f, k, s); err != nil {
						return nil, fmt.Errorf("%s, speaker %s: %w", row.Label(), sp.Name, err)
					}
				}
				var r nmf.Result
				if len(sizes) > 1 {
					if r, err = nmf.FineTune(train[i], f, s); err != nil {
						return nil, fmt.Errorf("%s, speaker %s: %w", row.Label(), sp.Name, err)
					}
				}
				model.Speakers = append(model.Speakers, separation.Speaker{Name: sp.Name, Layers: f.Layers})
				curve(row, sp.Name, r, t)
			}
			if cfg.has(separation.LNMF) {
				if err := evaluate(row, model); err != nil {
					return nil, err
				}
			}
			if !cfg.has(separation.DLNMF) {
				continue
			}
			t := time.Now()
			drow := Row{separation.DLNMF, sizes}
			dl := newModel(separation.DLNMF)
			for _, sp := range model.Speakers {
				layers := make([]*nmf.Dense[float32], len(sp.Layers))
				for l, w := range sp.Layers {
					layers[l] = w.Clone()
				}
				dl.Speakers = append(dl.Speakers, separation.Speaker{Name: sp.Name, Layers: layers})
			}
			s := base
			s.Seed = seed(0)
			dr, err := separation.Discriminate(ctx, dl, discData, separation.DiscSettings{Rounds: cfg.Rounds, InferIter: cfg.InferIters, DiscIter: cfg.DiscIters, NMF: s})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", drow.Label(), err)
			}
			c := Curve{Row: drow.Label(), Name: "discriminative", Stage: "discriminative", Cost: dr.Cost, Seconds: time.Since(t).Seconds()}
			for r := range dr.Cost {
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

func cloneFactorization(f *nmf.Factorization[float32]) *nmf.Factorization[float32] {
	c := &nmf.Factorization[float32]{H: f.H.Clone()}
	for _, w := range f.Layers {
		c.Layers = append(c.Layers, w.Clone())
	}
	return c
}

func pick(us []corpus.Utterance, idx []int) []corpus.Utterance {
	out := make([]corpus.Utterance, len(idx))
	for i, j := range idx {
		out[i] = us[j]
	}
	return out
}

// mixtures pairs the i-th utterance of every speaker's set into mixture i.
// Speakers who read the same prompt list (CMU ARCTIC: the same file names)
// must not say the same sentence at once: where a later speaker's utterance
// has the first speaker's file name, it trades places with the next one of
// its set.
func mixtures(sets [][]corpus.Utterance, snr float64, repeat int, prefix string) ([]testMixture, error) {
	n := len(sets[0])
	for _, s := range sets {
		n = min(n, len(s))
	}
	for i := 1; i < len(sets) && n > 1; i++ {
		s := append([]corpus.Utterance(nil), sets[i]...)
		for pass, clash := 0, true; clash && pass < n; pass++ {
			clash = false
			for j := range n {
				if s[j].Name == sets[0][j].Name {
					k := (j + 1) % n
					s[j], s[k] = s[k], s[j]
					clash = true
				}
			}
		}
		sets[i] = s
	}
	out := make([]testMixture, n)
	for j := range n {
		srcs := make([][]float64, len(sets))
		names := make([]string, len(sets))
		for i, s := range sets {
			srcs[i] = s[j].Samples
			names[i] = s[j].Name
		}
		mix, scaled, err := corpus.Mix(srcs, snr)
		if err != nil {
			return nil, fmt.Errorf("mixing %s: %w", strings.Join(names, "+"), err)
		}
		out[j] = testMixture{name: fmt.Sprintf("r%02d-%s%d", repeat+1, prefix, j+1), files: strings.Join(names, "+"), mix: mix, sources: scaled}
	}
	return out, nil
}
