package experiment

import (
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	none := env()
	for _, c := range []struct {
		value  string
		shards int
		getenv func(string) string
		want   Shard
		err    string // a part of the error; "" for none
	}{
		{"", 0, none, Shard{}, ""},
		{"0/4", 0, none, Shard{0, 4}, ""},
		{"3/4", 0, none, Shard{3, 4}, ""},
		{"4/4", 0, none, Shard{}, "out of range 0..3"},
		{"-1/4", 0, none, Shard{}, "out of range"},
		{"0/0", 0, none, Shard{}, "at least 1"},
		{"1", 0, none, Shard{}, "want I/N"},
		{"a/b", 0, none, Shard{}, "whole numbers"},
		{"0/2", 2, none, Shard{}, "a shard count is for automatic shards"},
		{"", 2, none, Shard{}, "a shard count is for automatic shards"},
		{"auto", 0, none, Shard{}, "no scheduler index"},
		{"auto", 0, env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_COUNT", "4"), Shard{2, 4}, ""},
		{"auto", 0, env("SLURM_ARRAY_TASK_ID", "4", "SLURM_ARRAY_TASK_MIN", "1", "SLURM_ARRAY_TASK_MAX", "4"), Shard{3, 4}, ""},
		{"auto", 0, env("SLURM_ARRAY_TASK_ID", "4", "SLURM_ARRAY_TASK_MIN", "1", "SLURM_ARRAY_TASK_COUNT", "4"), Shard{3, 4}, ""},
		{"auto", 0, env("SLURM_ARRAY_TASK_ID", "4", "SLURM_ARRAY_TASK_COUNT", "4"), Shard{}, "out of range 0..3"},
		{"auto", 0, env("SLURM_ARRAY_TASK_ID", "1"), Shard{}, "give the shard count"},
		{"auto", 3, env("SLURM_ARRAY_TASK_ID", "1"), Shard{1, 3}, ""},
		{"auto", 3, env("SLURM_ARRAY_TASK_ID", "1", "SLURM_ARRAY_TASK_COUNT", "4"), Shard{}, "array has 4 tasks"},
		{"auto", 0, env("SLURM_ARRAY_TASK_ID", "x", "SLURM_ARRAY_TASK_COUNT", "4"), Shard{}, "not a whole number"},
		{"auto", 5, env("JOB_COMPLETION_INDEX", "4"), Shard{4, 5}, ""},
		{"auto", 4, env("JOB_COMPLETION_INDEX", "4"), Shard{}, "out of range 0..3"},
		{"auto", 0, env("JOB_COMPLETION_INDEX", "0"), Shard{}, "give the shard count"},
		{"auto", -1, env("JOB_COMPLETION_INDEX", "0"), Shard{}, "at least 1"},
	} {
		got, err := ParseShard(c.value, c.shards, c.getenv)
		if c.err == "" {
			if err != nil || got != c.want {
				t.Errorf("ParseShard(%q, %d) = %v, %v; want %v", c.value, c.shards, got, err, c.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("ParseShard(%q, %d) error %v; want one containing %q", c.value, c.shards, err, c.err)
		}
	}
}

func TestShardOwnsEveryUnitOnce(t *testing.T) {
	for n := 1; n <= 5; n++ {
		for u := range 23 {
			owners := 0
			for i := range n {
				if (Shard{i, n}).Owns(u) {
					owners++
				}
			}
			if owners != 1 {
				t.Fatalf("unit %d of %d shards has %d owners", u, n, owners)
			}
		}
	}
	if !(Shard{}).Owns(7) {
		t.Fatal("the whole experiment does not own unit 7")
	}
}
