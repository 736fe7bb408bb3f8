package experiment

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Shard is the share of an experiment's units that one worker computes:
// unit u belongs to shard u mod Count. The zero Shard is the whole
// experiment in one process.
type Shard struct {
	Index int // 0-based
	Count int // 0: not sharded
}

// Sharded tells whether s is a share rather than the whole experiment.
func (s Shard) Sharded() bool { return s.Count > 0 }

// Owns tells whether unit u is this shard's.
func (s Shard) Owns(u int) bool { return s.Count == 0 || u%s.Count == s.Index }

// String gives s as "I/N", or "all" for the whole experiment.
func (s Shard) String() string {
	if s.Count == 0 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// ParseShard reads a shard spec: "I/N" (0-based), or "auto", which takes
// the index from the scheduler's environment (getenv, normally os.Getenv):
//
//   - Slurm job arrays: SLURM_ARRAY_TASK_ID, with the count from
//     SLURM_ARRAY_TASK_COUNT or from SLURM_ARRAY_TASK_MIN/MAX (the index is
//     counted from MIN, so --array=1-4 works as well as 0-3);
//   - Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX, with the count given
//     as shards, which Kubernetes does not export.
//
// shards, when positive, also sets the count for a Slurm array and must
// agree with the array's size. An empty value is the whole experiment.
// Errors name what is wrong in those words (spec, count, the scheduler's
// variables); a command prefixes its own flags' names.
func ParseShard(value string, shards int, getenv func(string) string) (Shard, error) {
	if shards < 0 {
		return Shard{}, fmt.Errorf("shard count %d: must be at least 1", shards)
	}
	switch value {
	case "":
		if shards > 0 {
			return Shard{}, errors.New("a shard count is for automatic shards (auto)")
		}
		return Shard{}, nil
	case "auto":
		return autoShard(shards, getenv)
	}
	if shards > 0 {
		return Shard{}, errors.New("a shard count is for automatic shards (auto); I/N already gives the count")
	}
	is, ns, ok := strings.Cut(value, "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want I/N (0-based, e.g. 0/4) or auto", value)
	}
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want I/N with whole numbers (0-based, e.g. 0/4) or auto", value)
	}
	return checkShard(Shard{i, n}, "shard "+value)
}

func checkShard(s Shard, from string) (Shard, error) {
	switch {
	case s.Count < 1:
		return Shard{}, fmt.Errorf("%s: the shard count must be at least 1, got %d", from, s.Count)
	case s.Index < 0 || s.Index >= s.Count:
		return Shard{}, fmt.Errorf("%s: shard index %d is out of range 0..%d", from, s.Index, s.Count-1)
	}
	return s, nil
}

func autoShard(shards int, getenv func(string) string) (Shard, error) {
	envInt := func(name string) (int, bool, error) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, true, fmt.Errorf("automatic shard: %s=%q is not a whole number", name, v)
		}
		return n, true, nil
	}
	if id, ok, err := envInt("SLURM_ARRAY_TASK_ID"); err != nil {
		return Shard{}, err
	} else if ok {
		lo, okLo, err := envInt("SLURM_ARRAY_TASK_MIN")
		if err != nil {
			return Shard{}, err
		}
		hi, okHi, err := envInt("SLURM_ARRAY_TASK_MAX")
		if err != nil {
			return Shard{}, err
		}
		count, okCount, err := envInt("SLURM_ARRAY_TASK_COUNT")
		if err != nil {
			return Shard{}, err
		}
		if !okLo {
			lo = 0
		}
		s := Shard{Index: id - lo}
		switch {
		case okCount:
			s.Count = count
		case okLo && okHi:
			s.Count = hi - lo + 1
		case shards > 0:
			s.Count = shards
		default:
			return Shard{}, errors.New("automatic shard: SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MIN/MAX; give the shard count")
		}
		if shards > 0 && shards != s.Count {
			return Shard{}, fmt.Errorf("automatic shard: a shard count of %d but the Slurm array has %d tasks", shards, s.Count)
		}
		return checkShard(s, fmt.Sprintf("automatic shard (SLURM_ARRAY_TASK_ID=%d)", id))
	}
	if id, ok, err := envInt("JOB_COMPLETION_INDEX"); err != nil {
		return Shard{}, err
	} else if ok {
		if shards < 1 {
			return Shard{}, errors.New("automatic shard: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but not the count: give the shard count, the Job's completions")
		}
		return checkShard(Shard{id, shards}, fmt.Sprintf("automatic shard (JOB_COMPLETION_INDEX=%d)", id))
	}
	return Shard{}, errors.New("automatic shard: no scheduler index in the environment (SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX); give the shard as I/N")
}
