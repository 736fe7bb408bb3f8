package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/internal/inputfile"
	"github.com/dlnmf/dlnmf/separation"
)

// Selection chooses a configuration on validation data, inside every
// repeat (docs/protocol.md "Choosing on validation data"): a
// share of each speaker's training utterances is held out, every grid point
// is trained on the rest and scored on validation mixtures (paired by
// corpus.Pair at Config.SNR, like the test mixtures), and the point with
// the best mean validation SDR over every speaker and mixture (ties: the
// first in grid order) is trained again on the whole training part and
// scored on the test mixtures as the row "Selected". The test mixtures
// never take part in the choice. Grid points that differ only in how they
// separate (such as bands) train their models once.
//
// Grid is the sweep's grid language (ExpandGrid) over the experiment's
// configuration: with --methods dlnmf --layers 180,20, the grid
// {"context": [1, 5], "sparsity": [0, 0.5]} names four DL-NMF 180,20
// configurations. A grid point may vary the models' settings, not the
// protocol's (repeats, seed, snr, splits, sample rate).
type Selection struct {
	Grid       []map[string]json.RawMessage `json:"grid"`
	Validation float64                      `json:"validation"` // share of each speaker's training utterances held out; 0: DefaultValidation
}

// DefaultValidation is the share of each speaker's training utterances a
// selection holds out for validation.
const DefaultValidation = 0.2

// SelectedLabel labels the selected row's scores (Score.Method) and
// summary rows.
const SelectedLabel = "Selected"

// selectFamily labels a selection's units.
const selectFamily = "select"

// protocolKeys are the Config fields a selection grid may not vary: they
// define the protocol (the splits, the mixtures), not a model.
var protocolKeys = map[string]bool{"repeats": true, "seed": true, "snr": true, "train_fraction": true,
	"disc_fraction": true, "sample_rate": true, "examples": true, "select": true}

// ReadGrid reads experiment --select's GRID argument: inline JSON when it
// starts with "{" or "[", else the path of a JSON file, which must be a
// regular file of at most MaxSpecBytes (a device such as /dev/zero would
// never end).
func ReadGrid(arg string) ([]map[string]json.RawMessage, error) {
	if t := strings.TrimSpace(arg); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		return ParseGrid([]byte(arg))
	}
	f, _, err := inputfile.Open(arg)
	if err != nil {
		return nil, fmt.Errorf("%w (give a JSON file or inline JSON)", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSpecBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxSpecBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", arg, MaxSpecBytes)
	}
	return ParseGrid(b)
}

// ParseGrid reads a selection grid: one JSON object of setting -> list of
// values, or a list of such objects (as a sweep's "grid").
func ParseGrid(b []byte) ([]map[string]json.RawMessage, error) {
	b = bytes.TrimSpace(b)
	var grid []map[string]json.RawMessage
	switch {
	case len(b) > 0 && b[0] == '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			return nil, fmt.Errorf("grid: %w", err)
		}
		grid = append(grid, obj)
	case len(b) > 0 && b[0] == '[':
		if err := json.Unmarshal(b, &grid); err != nil {
			return nil, fmt.Errorf("grid: want a JSON object or a list of objects: %w", err)
		}
	default:
		return nil, errors.New(`grid: want a JSON object of setting -> values, e.g. {"sparsity": [0, 0.5]}, or a list of them`)
	}
	if len(grid) == 0 {
		return nil, errors.New("grid: an empty list")
	}
	return grid, nil
}

// checkSelection validates c.Select (its defaults applied) against c.
func (c Config) checkSelection() error {
	v := c.Select.Validation
	if v <= 0 || v >= 1 {
		return fmt.Errorf("--select: validation share %g: want a fraction between 0 and 1", v)
	}
	for g, obj := range c.Select.Grid {
		for k := range obj {
			if protocolKeys[k] {
				return fmt.Errorf("--select grid %d: %q is a setting of the protocol, not of a model: it cannot be selected", g+1, k)
			}
		}
	}
	_, err := c.SelectPoints()
	return err
}

// SelectPoints expands the selection grid of c (defaults applied) over c's
// own settings: one configuration, one row, per grid point.
func (c Config) SelectPoints() ([]SweepConfig, error) {
	if c.Select == nil {
		return nil, nil
	}
	proto := c
	proto.Select = nil
	proto.Examples = 0
	points, err := ExpandGrid(proto, c.Select.Grid)
	if err != nil {
		return nil, fmt.Errorf("--select %w", err)
	}
	return points, nil
}

// validationSplit holds back the last share v of a speaker's training
// utterances (in the repeat's shuffled order: a choice fixed by the seed
// and the repeat) for validation; the rest train.
func validationSplit(speaker string, train []corpus.Utterance, v float64) (rest, val []corpus.Utterance, err error) {
	n := len(train)
	nv := int(math.Round(v * float64(n)))
	if nv < 1 || n-nv < 1 {
		return nil, nil, fmt.Errorf("speaker %s: a validation share of %g of its %d training utterances leaves no training data for validation (%d to validate, %d to train; it needs at least 2 training utterances and 1 of each)", speaker, v, n, nv, n-nv)
	}
	return train[:n-nv], train[n-nv:], nil
}

// CheckValidation tells, before any work, whether every speaker's training
// share can give up c.Select.Validation of its utterances for validation
// and keep some to train on. The shares' sizes are the same in every
// repeat.
func CheckValidation(speakers []*corpus.Speaker, c Config) error {
	c, err := c.Defaults()
	if err != nil || c.Select == nil {
		return err
	}
	for i, sp := range speakers {
		split, err := corpus.SplitSpeaker(len(sp.Utterances), c.Seed, 0, i, c.TrainFraction, c.DiscFraction)
		if err != nil {
			return fmt.Errorf("speaker %s: %w", sp.Name, err)
		}
		if _, _, err := validationSplit(sp.Name, pick(sp.Utterances, split.Train), c.Select.Validation); err != nil {
			return err
		}
	}
	return nil
}

// SelectionRepeat is one repeat's selection: every grid point's validation
// score, in grid order, and the point chosen.
type SelectionRepeat struct {
	Repeat   int               `json:"repeat"` // 1-based
	Points   []ValidationScore `json:"points"`
	Chosen   int               `json:"chosen"` // index into Points
	Config   string            `json:"config"` // the chosen point's label
	Mixtures int               `json:"mixtures"`
	// Seconds is the wall time of each point's training and validation,
	// then of the chosen point's training and test: kept out of the unit
	// file (in uNNNNN.time.json), so a unit computed twice is the same.
	Seconds []float64 `json:"-"`
}

// ValidationScore is one grid point's mean validation SDR over every
// separated speaker of every validation mixture of a repeat.
type ValidationScore struct {
	Config string `json:"config"` // the grid point, "context=5 sparsity=0.5"
	Row    string `json:"row"`    // its method and sizes, "DL-NMF 180,20"
	SDR    Number `json:"sdr"`
	N      int    `json:"n"`
}

// runSelection runs one repeat's selection (cfg has its defaults): every
// grid point trained on the training share less the validation share and
// scored on the validation mixtures, then the best trained on the whole
// training share and scored on the test mixtures, through the rows' own
// pipeline (Repeat.Run). Its scores carry the method SelectedLabel and the
// chosen point in Config; keep test mixtures are returned as Examples with
// the selected row's estimates.
func runSelection(ctx context.Context, speakers []*corpus.Speaker, cfg Config, repeat, keep, cores int, step func(string)) (*RepeatResult, *SelectionRepeat, error) {
	points, err := cfg.SelectPoints()
	if err != nil {
		return nil, nil, err
	}
	names := speakerNames(speakers)
	train, disc, test, err := splitSpeakers(speakers, cfg, repeat)
	if err != nil {
		return nil, nil, err
	}
	rest := make([][]corpus.Utterance, len(train))
	val := make([][]corpus.Utterance, len(train))
	for i := range train {
		if rest[i], val[i], err = validationSplit(names[i], train[i], cfg.Select.Validation); err != nil {
			return nil, nil, err
		}
	}
	sel := &SelectionRepeat{Repeat: repeat + 1, Chosen: -1, Points: make([]ValidationScore, len(points)), Seconds: make([]float64, len(points))}
	configs := make([]Config, len(points))
	for i, p := range points {
		if configs[i], err = p.Config.Defaults(); err != nil {
			return nil, nil, err
		}
	}
	// The points that train the same models (they differ only in how they
	// separate, such as bands) run on one validation Repeat,
	// whose training set keeps the models it trained (ShareLayers), so
	// those models train once; later groups on the same speech (they
	// differ in what follows the layers' training, such as reconstruction
	// bases or the discriminative mixtures) take the layers kept so far
	// (separation.TrainingSet.Keep). A kept model is bit-identical to one
	// trained again, so no score depends on this; one group's Repeat is
	// dropped before the next is built, so the memory need is a point's
	// (and the kept layers').
	var kept separation.KeptLayers
	for _, group := range sameTraining(configs) {
		var base *Repeat
		for _, i := range group {
			p, pc := points[i], configs[i]
			start := time.Now()
			if base == nil {
				if base, err = newRepeat(pc, repeat, names, rest, disc, val); err != nil {
					return nil, nil, fmt.Errorf("validation of %s: %w", p.Label, err)
				}
				base.set.Keep(kept)
			}
			vrp := *base
			vrp.cfg = pc
			rr, err := vrp.Run(ctx, 0, cores, func(string) { step("validation " + p.Label) })
			if err != nil {
				return nil, nil, fmt.Errorf("validation of %s: %w", p.Label, err)
			}
			sum := 0.0
			for _, s := range rr.Scores {
				sum += float64(s.SDR)
			}
			sel.Points[i] = ValidationScore{Config: p.Label, Row: pc.Rows()[0].Label(), SDR: Number(sum / float64(len(rr.Scores))), N: len(rr.Scores)}
			sel.Mixtures = len(vrp.Tests)
			sel.Seconds[i] = time.Since(start).Seconds()
		}
		kept = base.set.Kept()
	}
	best := math.Inf(-1)
	for i, v := range sel.Points {
		// A NaN mean (a failed scoring) never wins; the first best in grid
		// order does.
		if mean := float64(v.SDR); sel.Chosen < 0 || mean > best {
			sel.Chosen, best = i, mean
			if math.IsNaN(mean) {
				best = math.Inf(-1)
			}
		}
	}
	start := time.Now()
	chosen := points[sel.Chosen]
	sel.Config = chosen.Label
	cc, err := chosen.Config.Defaults()
	if err != nil {
		return nil, nil, err
	}
	rp, err := newRepeat(cc, repeat, names, train, disc, test)
	if err != nil {
		return nil, nil, err
	}
	rr, err := rp.Run(ctx, keep, cores, func(string) { step(SelectedLabel + " " + chosen.Label) })
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", SelectedLabel, chosen.Label, err)
	}
	sel.Seconds = append(sel.Seconds, time.Since(start).Seconds())
	for i := range rr.Scores {
		rr.Scores[i].Method, rr.Scores[i].Config = SelectedLabel, chosen.Label
	}
	for i := range rr.Curves {
		rr.Curves[i].Row = SelectedLabel + " (" + chosen.Label + ")"
	}
	for i, e := range rr.Examples {
		rr.Examples[i].Estimates = map[string][][]float64{SelectedLabel: e.Estimates[cc.Rows()[0].Label()]}
	}
	return rr, sel, nil
}

// sameTraining groups grid points (their configs, defaults applied) that
// train the same models, by their rows' training settings: the groups in
// order of their first point, each point's index in grid order. The
// settings of DL-NMF's rounds (the inference iterations of its H step,
// the rounds and their basis iterations) train nothing in a row that is
// not discriminative, whose models do not record them either, so points
// that differ only in the inference iterations share training there; the
// discriminative mixtures' pairings train only in discriminative rows.
func sameTraining(configs []Config) [][]int {
	var groups [][]int
	at := map[string]int{}
	for i, c := range configs {
		var key strings.Builder
		for _, row := range c.Rows() {
			ts := c.TrainSettings(row, 0, 1)
			if !ts.Discriminative() {
				ts.InferIter, ts.Rounds, ts.DiscIter = 0, 0, 0
			}
			fmt.Fprintf(&key, "%+v;", ts)
			if ts.Discriminative() { // and their mixtures
				fmt.Fprintf(&key, "pairings %d;", max(c.DiscPairings, 1))
			}
		}
		g, ok := at[key.String()]
		if !ok {
			g = len(groups)
			at[key.String()] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// selectionLabels lists a selection's grid points by label.
func selectionLabels(c Config) string {
	points, err := c.SelectPoints()
	if err != nil {
		return err.Error()
	}
	s := make([]string, len(points))
	for i, p := range points {
		s[i] = p.Label
		if s[i] == "" {
			s[i] = "(the experiment's own settings)"
		}
	}
	return strings.Join(s, "; ")
}
