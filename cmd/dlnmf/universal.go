package main

import (
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dlnmf/dlnmf/internal/plural"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
)

// universalFlag is --universal NAME=DIR,DIR,...: a universal speech model,
// with --universal-k.
type universalFlag struct {
	name string
	dirs []speakerDir
	k    int // --universal-k: NMF bases per speaker; 0: the model's method and sizes
}

// bind registers --universal (usage) and --universal-k on fs.
func (u *universalFlag) bind(fs *flag.FlagSet, usage string) {
	fs.Var(u, "universal", usage)
	fs.IntVar(&u.k, "universal-k", 0, "with --universal: NMF bases per speaker of the universal model (default: the model's method and sizes)")
}

// avoid renames "<NAME><i>" the universal speakers whose folder name is
// taken: by the universal model, a speaker of the model, or an earlier
// folder. Two sources must not share a name (they name output files);
// train and experiment call it before loading the folders.
func (u *universalFlag) avoid(speakers []string) {
	taken := map[string]bool{separation.NameKey(u.name): true}
	for _, n := range speakers {
		taken[separation.NameKey(n)] = true
	}
	for i := range u.dirs {
		if taken[separation.NameKey(u.dirs[i].name)] {
			u.dirs[i].name = fmt.Sprintf("%s%d", u.name, i+1)
		}
		taken[separation.NameKey(u.dirs[i].name)] = true
	}
}

// check reports a --universal-k that is negative or has no --universal,
// and a --universal-prune ratio that separation.CheckPrune refuses.
func (u *universalFlag) check(prune ...float64) error {
	for _, r := range prune {
		if err := separation.CheckPrune(r); err != nil {
			return usagef("--universal-prune: %v", err)
		}
	}
	if u.k < 0 {
		return usagef("--universal-k must be positive")
	}
	if u.k > 0 && u.name == "" {
		return usagef("--universal-k sets the universal model's size: it needs --universal")
	}
	return nil
}

func (u *universalFlag) String() string { return u.name }

// Set takes NAME=DIR,DIR,...; each folder's speaker is named after the
// folder ("<NAME><i>" where that is not a valid name; avoid makes the names
// unique).
func (u *universalFlag) Set(v string) error {
	if u.name != "" {
		return fmt.Errorf("one --universal model only")
	}
	name, list, ok := strings.Cut(v, "=")
	if !ok || name == "" || list == "" {
		return fmt.Errorf("want NAME=DIR,DIR,..., got %q", v)
	}
	if err := separation.CheckName(name); err != nil {
		return err
	}
	for i, dir := range strings.Split(list, ",") {
		if dir == "" {
			return fmt.Errorf("an empty folder in %q", v)
		}
		sp := filepath.Base(filepath.Clean(dir))
		if separation.CheckName(sp) != nil {
			sp = fmt.Sprintf("%s%d", name, i+1)
		}
		u.dirs = append(u.dirs, speakerDir{sp, dir})
	}
	u.name = name
	return nil
}

// loadUniversal loads the universal model's folders (every file but the
// excluded ones) at rate, as recording.Train takes them.
func loadUniversal(env *environment, u universalFlag, exclude excludeFlags, rate int, quiet bool) (*recording.UniversalSettings, error) {
	out := &recording.UniversalSettings{Name: u.name, K: u.k}
	for _, sd := range u.dirs {
		sp, err := loadSpeakerAt(sd, exclude, rate)
		if err != nil {
			return nil, err
		}
		d := separation.SpeakerData{Name: sd.name}
		for _, x := range sp.Utterances {
			d.Utterances = append(d.Utterances, x.Samples)
		}
		out.Speakers = append(out.Speakers, d)
		logf(env.stderr, quiet, "universal model %s: speaker %s, %s, %.1f s", u.name, sd.name, plural.Count(len(sp.Utterances), "file"), sp.Seconds(rate))
	}
	return out, nil
}
