package experiment

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Collecting every unit of a run into its Results.

// MissingError lists the units that Collect did not find.
type MissingError struct {
	Units []string // descriptions, in unit order
	Total int
}

func (e *MissingError) Error() string {
	const show = 5
	names := e.Units
	more := ""
	if len(names) > show {
		more = fmt.Sprintf(" and %d more", len(names)-show)
		names = names[:show]
	}
	return fmt.Sprintf("%d of %d units are missing or damaged: %s%s; run their shards first", len(e.Units), e.Total, strings.Join(names, "; "), more)
}

// Collect gathers every unit of the run into one Results per job, in job
// order (an interference experiment's in its Interference). It computes
// nothing: a missing or damaged unit is a *MissingError naming them.
func (s *Units) Collect() ([]*Results, error) {
	if err := s.prepare(); err != nil {
		return nil, err
	}
	files := make([]*unitFile, len(s.plan))
	var missing []string
	for _, u := range s.plan {
		f, err := s.load(u)
		switch {
		case errors.Is(err, errCorrupt):
			missing = append(missing, s.describe(u)+" damaged")
		case err != nil:
			return nil, err
		case f == nil:
			missing = append(missing, s.describe(u))
		}
		files[u.index] = f
	}
	if len(missing) > 0 {
		return nil, &MissingError{Units: missing, Total: len(s.plan)}
	}
	out := make([]*Results, len(s.Jobs))
	for j, job := range s.Jobs {
		cfg := s.cfgs[j]
		res := &Results{Config: cfg, Speakers: speakerNames(job.Speakers)}
		var units []*unitFile
		for _, u := range s.plan {
			if u.job == j {
				units = append(units, files[u.index])
			}
		}
		// Scores repeat by repeat, families in order within a repeat.
		sort.SliceStable(units, func(a, b int) bool { return units[a].Repeat < units[b].Repeat })
		if job.interference != nil {
			ir, err := job.interference.collect(units)
			if err != nil {
				return nil, err
			}
			res.Interference = ir
			out[j] = res
			continue
		}
		for _, f := range units {
			res.Scores = append(res.Scores, f.Scores...)
			if f.Selection != nil {
				res.Selection = append(res.Selection, *f.Selection)
			}
			if f.Repeat == 1 {
				res.Curves = append(res.Curves, f.Curves...)
				res.Examples = mergeExamples(res.Examples, f.Examples)
			}
		}
		res.Rows, res.Paired = summarise(cfg, res.Speakers, res.Scores)
		out[j] = res
	}
	return out, nil
}

// mergeExamples adds the estimates of another family's first repeat to the
// same test mixtures.
func mergeExamples(into, from []Example) []Example {
	if into == nil {
		for _, e := range from {
			c := e
			c.Estimates = map[string][][]float64{}
			for k, v := range e.Estimates {
				c.Estimates[k] = v
			}
			into = append(into, c)
		}
		return into
	}
	for i := range min(len(into), len(from)) {
		for k, v := range from[i].Estimates {
			into[i].Estimates[k] = v
		}
	}
	return into
}
