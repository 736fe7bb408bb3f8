package experiment

import (
	"context"
	"time"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/separation"
)

// Runner runs a whole experiment in one process, several units at once,
// saving each finished unit in Dir/units so that an interrupted run resumes
// where it stopped.
type Runner struct {
	Dir      string // where units are saved; "" keeps nothing on disk
	Config   Config
	Speakers []*corpus.Speaker
	Workers  int // units run at once, one core each; 0: GOMAXPROCS
	// Progress, when set, is called after every trained method of every
	// repeat (done counts them over the whole run) and for resumed units.
	Progress func(done, total int, what string)
}

// Results is a finished experiment.
type Results struct {
	Config   Config       `json:"config"`
	Speakers []string     `json:"speakers"`
	Rows     []SummaryRow `json:"rows"`
	Paired   []Paired     `json:"paired"`
	Seconds  float64      `json:"seconds"` // wall time of the units computed by this run
	Resumed  int          `json:"resumed"` // repeats (every unit of them) loaded from an earlier run
	// Selection is every repeat's choice on validation data (Config.Select),
	// with every grid point's validation score.
	Selection []SelectionRepeat `json:"selection,omitempty"`
	// Interference is an interference experiment's results
	// (Interference.Job); its Rows, Paired and Scores are then empty.
	Interference *InterferenceResults `json:"interference,omitempty"`
	Scores       []Score              `json:"-"`
	Curves       []Curve              `json:"-"` // of the first repeat
	Examples     []Example            `json:"-"` // of the first repeat
}

// Run computes every unit not already saved in Dir and summarises them all.
func (r *Runner) Run(ctx context.Context) (*Results, error) {
	u := &Units{Dir: r.Dir, Jobs: []Job{{Speakers: r.Speakers, Config: r.Config}}, Workers: r.Workers, Progress: r.Progress}
	start := time.Now()
	st, err := u.Run(ctx)
	if err != nil {
		return nil, err
	}
	all, err := u.Collect()
	if err != nil {
		return nil, err
	}
	res := all[0]
	res.Seconds = time.Since(start).Seconds()
	res.Resumed = st.Resumed
	return res, nil
}

func sampleRateOf(c Config) int {
	if c.SampleRate == 0 {
		return separation.DefaultSampleRate
	}
	return c.SampleRate
}
