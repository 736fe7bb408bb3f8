package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/experiment"
	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/internal/inputfile"
	"github.com/dlnmf/dlnmf/internal/plural"
	"github.com/dlnmf/dlnmf/separation"
)

func init() {
	register(&command{
		name:    "sweep",
		summary: "run a grid of configurations on several speaker pairs, optionally as shards of a cluster job",
		usage: `Usage: dlnmf sweep SPEC.json -o OUTDIR [--shard I/N|auto [--shards N]] [--summarize] [flags]

Runs the experiment's protocol for every configuration of a grid on every
speaker pair of SPEC (JSON), cut into units (one repeat of one configuration
of one pair) saved in OUTDIR/units, and writes sweep.md and sweep.json (one
table per pair and one across pairs: mean SDR with its 95% confidence
interval and the paired difference of every configuration from the
baseline) and scores.csv. A sweep of one pair and one configuration computes
exactly what "dlnmf experiment" does with those settings.

SPEC:
  {
    "pairs": [{"speakers": ["FA=tsp/FA", "MC=tsp/MC"]},
              {"name": "arctic", "speakers": ["slt=arctic/slt", "bdl=arctic/bdl"]}],
    "protocol": {"repeats": 15, "seed": 1, "snr": 0, "iters": 200},
    "grid": [{"method": ["lnmf", "dlnmf"], "layers": [[180, 20], [180, 30]]},
             {"method": ["nmf"], "k": [20]}],
    "baseline": {"method": "dlnmf", "layers": [180, 20]}
  }
Speaker folders are relative to the spec's folder. "protocol" takes the
fields of results.json's "config" (repeats, seed, snr, iters, infer_iters,
rounds, disc_iters, beta, tol, train_fraction, disc_fraction, examples).
Each grid object is a cross product: "method", "layers" and "k" make the
row, every other key is a protocol field with the values to try. Every
point must be one method with one size. The baseline is the point whose
values include all of its values.

On a cluster, run the same command in every task of an array with --shard
(see deploy/slurm and deploy/k8s), then once with --summarize.

Examples:
  dlnmf sweep grid.json -o out/grid
  dlnmf sweep grid.json -o out/grid --shard 3/8
  dlnmf sweep grid.json -o out/grid --summarize`,
		run: runSweep,
	})
}

func runSweep(ctx context.Context, cmd *command, env *environment, args []string) error {
	fs := newFlagSet(env, cmd)
	out := fs.String("o", "", "output folder (required)")
	sf := bindShardFlags(fs)
	opts := &protocolOptions{}
	opts.jobs = fs.Int("jobs", runtime.GOMAXPROCS(0), "units run at once, one core each")
	opts.quiet = fs.Bool("quiet", false, "print nothing but errors and the results")
	opts.json = fs.Bool("json", false, "print sweep.json instead of the tables")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give one SPEC.json")
	}
	if *out == "" {
		return usagef("-o OUTDIR is required")
	}
	if *opts.jobs < 1 {
		return usagef("--jobs must be at least 1")
	}
	f, _, err := inputfile.Open(pos[0])
	if err != nil {
		return err
	}
	spec, err := experiment.ParseSweepSpec(f)
	f.Close()
	if err != nil {
		return err
	}
	base := experiment.DefaultConfig()
	base.Examples = 2
	configs, baseline, err := spec.Configs(base)
	if err != nil {
		return err
	}
	shard, err := sf.parse(*out)
	if err != nil {
		return err
	}
	// Speakers, each folder loaded once however many pairs name it.
	loaded := map[string]*corpus.Speaker{}
	var pairs []string
	var jobs []experiment.Job
	for i, p := range spec.Pairs {
		var sps []*corpus.Speaker
		var flags speakerFlags
		for _, s := range p.Speakers {
			name, dir, _ := strings.Cut(s, "=")
			if dir != "" && !filepath.IsAbs(strings.TrimPrefix(dir, "@")) {
				at := strings.HasPrefix(dir, "@")
				dir = filepath.Join(filepath.Dir(pos[0]), strings.TrimPrefix(dir, "@"))
				if at {
					dir = "@" + dir
				}
			}
			if err := flags.Set(name + "=" + dir); err != nil {
				return fmt.Errorf("sweep spec: pair %d: %w", i+1, err)
			}
		}
		for _, sd := range flags {
			key := sd.name + "=" + sd.dir
			if loaded[key] == nil {
				sp, err := loadSpeaker(sd, nil)
				if err != nil {
					return err
				}
				logf(env.stderr, *opts.quiet, "speaker %s: %s, %.1f s", sp.Name, plural.Count(len(sp.Utterances), "file"), sp.Seconds(separation.DefaultSampleRate))
				loaded[key] = sp
			}
			sps = append(sps, loaded[key])
		}
		name := p.Name
		if name == "" {
			name = strings.Join(names(sps), "+")
		}
		pairs = append(pairs, name)
		for _, c := range configs {
			jobs = append(jobs, experiment.Job{Name: name, Label: c.Label, Speakers: sps, Config: c.Config})
		}
	}
	if !shard.Sharded() && !*sf.summarize {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
	}
	if err := keepSpec(*out, pairs, configs, baseline, jobs); err != nil {
		return err
	}
	if shard.Sharded() {
		return runShard(ctx, env, jobs, *out, shard, opts)
	}
	var res []*experiment.Results
	notes := []string{fmt.Sprintf("%d configurations x %d pairs; units in %s", len(configs), len(pairs), filepath.Join(*out, "units"))}
	if *sf.summarize {
		if res, err = summarizeUnits(env, jobs, *out, opts); err != nil {
			return err
		}
	} else {
		u := &experiment.Units{Dir: *out, Jobs: jobs, Workers: *opts.jobs}
		bar := newProgress(env, *opts.quiet, 0, "sweep")
		u.Progress = unitProgress(env, *opts.quiet, bar)
		start := time.Now()
		st, err := u.Run(ctx)
		progressDone(bar)
		if err != nil {
			return err
		}
		if res, err = u.Collect(); err != nil {
			return err
		}
		notes = append(notes, fmt.Sprintf("wall time %s for %d units computed here (%d already there), %d at once; BLAS: %s",
			time.Since(start).Round(time.Second), st.Computed, st.Loaded, *opts.jobs, blasName()))
	}
	tables := experiment.SweepTables(pairs, configs, baseline, res)
	d, _ := configs[baseline].Config.Defaults()
	speakers := experiment.SpeakerTables(pairs, configs, baseline, res)
	figs, err := experiment.WriteTradeOffFigures(*out, configs, speakers)
	if err != nil {
		return err
	}
	md := experiment.SweepMarkdown(tables, d.Repeats, experiment.SpeakerMarkdown(speakers)+figs, notes)
	js, err := json.MarshalIndent(struct {
		Pairs    []string                `json:"pairs"`
		Configs  []string                `json:"configs"`
		Baseline string                  `json:"baseline"`
		Tables   [][]experiment.SweepRow `json:"tables"`
		Speakers []experiment.SpeakerRow `json:"speakers"`
		Notes    []string                `json:"notes"`
	}{pairs, labels(configs), configs[baseline].Label, tables, speakers, notes}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(*out, "sweep.json"), append(js, '\n')); err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(*out, "sweep.md"), []byte(md)); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(*out, "scores.csv"), func(w io.Writer) error { return experiment.WriteSweepCSV(w, jobs, configs, res) }); err != nil {
		return err
	}
	if *opts.json {
		fmt.Fprintln(env.stdout, string(js))
	} else {
		fmt.Fprint(env.stdout, md)
	}
	logf(env.stderr, *opts.quiet, "wrote %s/sweep.md, sweep.json and scores.csv", *out)
	return nil
}

func labels(cs []experiment.SweepConfig) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Label
	}
	return out
}

// keepSpec saves the expanded sweep in OUTDIR/sweep-spec.json the first
// time, and refuses a sweep that differs from the one saved there: two
// specs never share an output folder.
func keepSpec(out string, pairs []string, configs []experiment.SweepConfig, baseline int, jobs []experiment.Job) error {
	type savedPair struct {
		Name     string   `json:"name"`
		Speakers []string `json:"speakers"`
	}
	type savedConfig struct {
		Label  string            `json:"label"`
		Config experiment.Config `json:"config"`
	}
	var saved struct {
		Pairs    []savedPair   `json:"pairs"`
		Configs  []savedConfig `json:"configs"`
		Baseline string        `json:"baseline"`
	}
	for i, p := range pairs {
		saved.Pairs = append(saved.Pairs, savedPair{p, names(jobs[i*len(configs)].Speakers)})
	}
	for _, c := range configs {
		saved.Configs = append(saved.Configs, savedConfig{c.Label, c.Config})
	}
	saved.Baseline = configs[baseline].Label
	b, err := json.MarshalIndent(saved, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	path := filepath.Join(out, "sweep-spec.json")
	old, err := os.ReadFile(path)
	switch {
	case err == nil && !bytes.Equal(old, b):
		return fmt.Errorf("%s holds another sweep (its spec is saved in %s): use another output folder", out, path)
	case err == nil:
		return nil
	case !os.IsNotExist(err):
		return err
	}
	if _, err := os.Stat(out); err != nil {
		return nil // a summary or a shard reports the missing folder itself
	}
	return atomicfile.WriteBytes(path, b)
}
