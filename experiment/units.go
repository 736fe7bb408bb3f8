package experiment

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/separation"
)

// Work units. An experiment (or every experiment of a sweep) is cut into
// units that are independent and idempotent: one unit is one repeat of one
// configuration family of one experiment, where a family is the rows that
// share work inside a repeat (Config.Families). Each finished unit is saved
// as DIR/units/uNNNNN.json with the fingerprint of the experiment that made
// it and a checksum of its content; its wall time goes to a separate
// uNNNNN.time.json, so computing a unit twice gives the same bytes.
//
// An interference experiment (Interference.Job) is a job too: its unit is
// one whole repeat (see Interference).
//
// Units are numbered experiment by experiment, family by family, repeat by
// repeat: unit u of a run sharded N ways belongs to shard u mod N, which
// deals every family's repeats round-robin over the shards (the long
// layered family of 15 repeats splits 8/7 over two shards, not 15/0).

// Job is one experiment of a run: a set of speakers (a pair, in a sweep)
// and its configuration.
type Job struct {
	Name     string // names the experiment in messages and tables; "": the speakers joined by "+"
	Label    string // names the configuration in messages (a sweep's grid point); "": its rows
	Speakers []*corpus.Speaker
	Config   Config

	interference *interferencePlan // set by Interference.Job
}

// Units computes the units of a list of experiments that belong to one
// shard (Run) and gathers every unit into results (Collect).
type Units struct {
	Dir      string // units go to Dir/units; "" keeps them in memory only
	Jobs     []Job
	Shard    Shard
	Workers  int // units run at once, one core each; 0: GOMAXPROCS
	Progress func(done, total int, what string)

	plan      []unitRef
	fps       []fingerprint
	cfgs      []Config
	perRepeat []int             // units of one repeat, job by job
	mem       map[int]*unitFile // units computed or read by this process
}

// UnitStats counts what Run did.
type UnitStats struct {
	Units    int     // units of the whole run
	Owned    int     // units of this shard
	Computed int     // computed here
	Loaded   int     // of this shard, already there
	Resumed  int     // repeats (whole, every family) of this shard already there
	Seconds  float64 // wall time of the computed units
}

type unitRef struct {
	index, job, family, repeat int // repeat 0-based
	config                     Config
	label                      string // the family's rows, selectFamily or interferenceFamily
	selection                  bool   // the repeat's selection on validation data (Config.Select)
	rows                       int    // rows trained and scored, for progress
}

// Families splits c (defaults applied) into the groups of rows that share
// work inside a repeat: one per NMF size, and one per first-layer size K1
// holding every L-NMF and DL-NMF row on it (they share layer-1 pretraining,
// and each DL-NMF row starts from its L-NMF model). Every row of c is in
// exactly one family, and a family computes its rows exactly as c does:
// seeds and splits depend on the repeat and the speaker, not on the rows.
func (c Config) Families() []Config {
	var out []Config
	c.Select = nil // a selection is a family of its own (Units)
	if c.has(separation.NMF) {
		for _, k := range c.K {
			f := c
			f.Methods = []separation.Method{separation.NMF}
			f.K = []int{k}
			out = append(out, f)
		}
	}
	var layered []separation.Method
	for _, m := range c.Methods {
		if m != separation.NMF {
			layered = append(layered, m)
		}
	}
	if len(layered) == 0 {
		return out
	}
	seen := map[int]bool{}
	for _, l := range c.Layers {
		if seen[l[0]] {
			continue
		}
		seen[l[0]] = true
		f := c
		f.Methods = layered
		f.Layers = nil
		for _, m := range c.Layers {
			if m[0] == l[0] {
				f.Layers = append(f.Layers, m)
			}
		}
		out = append(out, f)
	}
	return out
}

// unitsPerRepeat is the number of units of one repeat of c (defaults
// applied): its families and its selection.
func unitsPerRepeat(c Config) int {
	n := len(c.Families())
	if c.Select != nil {
		n++
	}
	return n
}

func familyLabel(f Config) string {
	rows := f.Rows()
	s := make([]string, len(rows))
	for i, r := range rows {
		s[i] = r.Label()
	}
	return strings.Join(s, ", ")
}

func (j Job) name() string {
	if j.Name != "" {
		return j.Name
	}
	return strings.Join(speakerNames(j.Speakers), "+")
}

func speakerNames(sps []*corpus.Speaker) []string {
	n := make([]string, len(sps))
	for i, s := range sps {
		n[i] = s.Name
	}
	return n
}

// prepare expands the jobs into units, once.
func (s *Units) prepare() error {
	if s.plan != nil {
		return nil
	}
	if s.mem == nil {
		s.mem = map[int]*unitFile{}
	}
	for j, job := range s.Jobs {
		cfg, err := job.Config.Defaults()
		if err != nil {
			return fmt.Errorf("%s: %w", job.name(), err)
		}
		if len(job.Speakers) < 2 {
			return fmt.Errorf("%s: the experiment needs at least 2 speakers, got %d", job.name(), len(job.Speakers))
		}
		s.cfgs = append(s.cfgs, cfg)
		fp := newFingerprint(cfg, job.Speakers)
		if in := job.interference; in != nil {
			fp.Interference = in.fingerprint()
			s.fps = append(s.fps, fp)
			s.perRepeat = append(s.perRepeat, 1)
			for rep := range cfg.Repeats {
				s.plan = append(s.plan, unitRef{index: len(s.plan), job: j, repeat: rep, config: cfg, label: interferenceFamily, rows: 1})
			}
			continue
		}
		s.fps = append(s.fps, fp)
		s.perRepeat = append(s.perRepeat, unitsPerRepeat(cfg))
		families := cfg.Families()
		for f, fc := range families {
			for rep := range cfg.Repeats {
				s.plan = append(s.plan, unitRef{index: len(s.plan), job: j, family: f, repeat: rep, config: fc, label: familyLabel(fc), rows: len(fc.Rows())})
			}
		}
		// A selection is one more family: its units follow the rows'.
		if cfg.Select != nil {
			points, err := cfg.SelectPoints()
			if err != nil {
				return fmt.Errorf("%s: %w", job.name(), err)
			}
			for rep := range cfg.Repeats {
				s.plan = append(s.plan, unitRef{index: len(s.plan), job: j, family: len(families), repeat: rep, config: cfg,
					label: selectFamily, selection: true, rows: len(points) + 1})
			}
		}
	}
	if len(s.plan) == 0 {
		return errors.New("the experiment has no rows to compute")
	}
	return nil
}

// Count is the number of units of the whole run.
func (s *Units) Count() (int, error) {
	if err := s.prepare(); err != nil {
		return 0, err
	}
	return len(s.plan), nil
}

func (s *Units) describe(u unitRef) string {
	what := u.label
	if l := s.Jobs[u.job].Label; l != "" {
		what = l
	}
	return fmt.Sprintf("unit %d (%s, %s, repeat %d)", u.index, s.Jobs[u.job].name(), what, u.repeat+1)
}
