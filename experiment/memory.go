package experiment

import (
	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/separation"
)

// Memory estimates the experiment's peak need with
// separation.TrainMemory: up to jobs repeats at once, each training its
// rows one after the other on a split like the first repeat's (the largest
// row counts). cfg has its defaults filled in.
func Memory(sps []*corpus.Speaker, cfg Config, jobs int) uint64 {
	speakers := make([][]int, len(sps))
	var disc []int
	for i, sp := range sps {
		split, err := corpus.SplitSpeaker(len(sp.Utterances), cfg.Seed, 0, i, cfg.TrainFraction, cfg.DiscFraction)
		if err != nil {
			return 0 // reported by the caller's split check
		}
		for _, j := range split.Train {
			speakers[i] = append(speakers[i], len(sp.Utterances[j].Samples))
		}
		if i == 0 { // the mixtures are cut to the shorter source: at most these
			for _, j := range split.Disc {
				disc = append(disc, len(sp.Utterances[j].Samples))
			}
		}
	}
	var perRepeat uint64
	// A selection's grid points train on the same split (less the
	// validation share): its largest row counts too.
	cfgs := []Config{cfg}
	points, _ := cfg.SelectPoints()
	for _, p := range points {
		if d, err := p.Config.Defaults(); err == nil {
			cfgs = append(cfgs, d)
		}
	}
	for _, c := range cfgs {
		for _, row := range c.Rows() {
			if need, err := separation.TrainMemory(speakers, disc, c.TrainSettings(row, 0, 1)); err == nil {
				perRepeat = max(perRepeat, need)
			}
		}
	}
	return perRepeat * uint64(max(1, min(jobs, cfg.Repeats)))
}
