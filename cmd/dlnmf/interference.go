package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/experiment"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/separation"
)

// interferenceFlags are experiment's flags for sources without a model
// --unknown NAME=DIR or --noise NAME=FILE_OR_DIR against one
// --speaker, scored with free bases and a universal model.
type interferenceFlags struct {
	unknown, noise speakerFlags
	free           *string
	universal      universalFlag
	weight         *string
	prune          *string
	chunk          *float64
	semiIters      *string
	scoreOn        *string
	freeInit       *string
	freeL1         *float64
}

func bindInterferenceFlags(fs *flag.FlagSet) *interferenceFlags {
	f := &interferenceFlags{}
	fs.Var(&f.unknown, "unknown", "a talker no model is trained on, as NAME=DIR: mixed with the one --speaker at --snr, scored with free bases, a universal model and a supervised model of both")
	fs.Var(&f.noise, "noise", "noise as NAME=FILE or NAME=DIR, cut into chunks and used as --unknown is")
	f.free = fs.String("free", "10,20,40", "with --unknown or --noise: free bases of each semi-supervised row, comma-separated")
	f.universal.bind(fs, "with --unknown or --noise: a universal speech model as NAME=DIR,DIR,... (trained once, all files) for one more row")
	f.weight = fs.String("universal-weight", "0", fmt.Sprintf("the universal model's group-sparsity weights relative to the mixture, comma-separated: one row each; 0: separate's default (%g for several universal speakers, %g for one)", separation.DefaultUniversalWeight, separation.DefaultUniversalWeightOne))
	f.prune = fs.String("universal-prune", fmt.Sprint(separation.DefaultUniversalPrune), "with --universal: drop the universal speakers that take more than this many times the least share of the known speaker's training audio (train's --universal-prune), comma-separated: one row each; 0: keep all")
	f.chunk = fs.Float64("noise-chunk", 3, "--noise: seconds per chunk (chunks are split 70/20/10 like utterances)")
	f.semiIters = fs.String("semi-iters", "", "with --unknown or --noise: inference iterations of the free and universal rows, comma-separated: one row each (default: --infer-iters)")
	f.freeInit = fs.String("free-init", nmf.FreeQuiet.String(), "with --unknown or --noise: how the free bases start, random or quiet (the mixture's quietest frames), comma-separated: one row each")
	f.freeL1 = fs.Float64("free-l1", 0, "with --unknown or --noise: L1 penalty on the free bases' activations")
	f.scoreOn = fs.String("score-on", experiment.ScoreTest, "with --unknown or --noise: the mixtures scored, test (the 10% test share) or validation (the 20% held-back share, which no row trains on): choose --free, --universal-weight and --semi-iters on validation (OUTDIR/picked.txt), then run once on test")
	return f
}

func (f *interferenceFlags) active() bool { return len(f.unknown)+len(f.noise) > 0 }

// runInterference runs experiment.Interference, or one shard of its units
// (--shard), or gathers them (--summarize), and writes OUTDIR/results.md,
// results.json and, on validation mixtures, picked.txt.
func runInterference(ctx context.Context, env *environment, speakers speakerFlags, exclude excludeFlags, f *interferenceFlags, cfg experiment.Config, out string, sf *shardFlags, opts *protocolOptions) error {
	quiet := *opts.quiet
	if len(speakers) != 1 || len(f.unknown)+len(f.noise) != 1 {
		return usagef("--unknown or --noise takes exactly one --speaker and one --unknown or --noise")
	}
	free, err := parseInts(*f.free)
	if err != nil {
		return usagef("--free: %v", err)
	}
	var weights []float64
	for _, v := range strings.Split(*f.weight, ",") {
		rho, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || rho < 0 {
			return usagef("--universal-weight: %q is not a non-negative number", v)
		}
		weights = append(weights, rho)
	}
	if *f.chunk <= 0 {
		return usagef("--noise-chunk must be positive")
	}
	var semiIters []int
	if *f.semiIters != "" {
		if semiIters, err = parseInts(*f.semiIters); err != nil {
			return usagef("--semi-iters: %v", err)
		}
	}
	var freeStarts []nmf.FreeStart
	for _, v := range strings.Split(*f.freeInit, ",") {
		st, err := parseFreeInit(strings.TrimSpace(v))
		if err != nil {
			return err
		}
		freeStarts = append(freeStarts, st)
	}
	if !(*f.freeL1 >= 0) || math.IsInf(*f.freeL1, 0) {
		return usagef("--free-l1 must be a non-negative number")
	}
	var prune []float64
	for _, v := range strings.Split(*f.prune, ",") {
		p, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return usagef("--universal-prune: %q is not a number", v)
		}
		prune = append(prune, p)
	}
	if err := f.universal.check(prune...); err != nil {
		return err
	}
	if *f.scoreOn != experiment.ScoreTest && *f.scoreOn != experiment.ScoreValidation {
		return usagef("--score-on %q: want %s or %s", *f.scoreOn, experiment.ScoreTest, experiment.ScoreValidation)
	}
	shard, err := sf.parse(out)
	if err != nil {
		return err
	}
	known, err := loadSpeaker(speakers[0], exclude)
	if err != nil {
		return err
	}
	var other *corpus.Speaker
	if len(f.unknown) == 1 {
		other, err = loadSpeaker(f.unknown[0], exclude)
	} else {
		other, err = loadNoise(f.noise[0], exclude, *f.chunk)
	}
	if err != nil {
		return err
	}
	logf(env.stderr, quiet, "known %s: %d files; interferer %s: %d files or chunks", known.Name, len(known.Utterances), other.Name, len(other.Utterances))
	in := &experiment.Interference{Known: known, Interferer: other, Free: free, UniversalWeights: weights, Config: cfg,
		SemiIters: semiIters, Prune: prune, ScoreOn: *f.scoreOn, FreeStarts: freeStarts, FreeL1: *f.freeL1, Dir: out, Workers: *opts.jobs}
	if f.universal.name != "" {
		f.universal.avoid([]string{known.Name, other.Name})
		if in.Universal, err = loadUniversal(env, f.universal, exclude, separation.DefaultSampleRate, quiet); err != nil {
			return err
		}
	}
	job, err := in.Job()
	if err != nil {
		return err
	}
	jobs := []experiment.Job{job}
	var res *experiment.InterferenceResults
	switch {
	case shard.Sharded():
		return runShard(ctx, env, jobs, out, shard, opts)
	case *sf.summarize:
		all, err := summarizeUnits(env, jobs, out, opts)
		if err != nil {
			return err
		}
		res = all[0].Interference
	default:
		if err := checkMemory("the experiment", experiment.Memory(job.Speakers, job.Config, *opts.jobs)); err != nil {
			return err
		}
		bar := newProgress(env, quiet, job.Config.Repeats, "repeats")
		in.Progress = unitProgress(env, quiet, bar)
		res, err = in.Run(ctx)
		progressDone(bar)
		if err != nil {
			return err
		}
	}
	md, err := experiment.WriteInterference(out, "dlnmf experiment: "+known.Name+" + "+other.Name, res)
	if err != nil {
		return err
	}
	if *opts.json {
		js, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(env.stdout, string(js))
	} else {
		fmt.Fprint(env.stdout, strings.TrimPrefix(md, "# "))
	}
	logf(env.stderr, quiet, "wrote %s in %.0f s", filepath.Join(out, "results.md"), res.Seconds)
	return nil
}

// loadNoise reads --noise NAME=FILE (one recording) or NAME=DIR (as
// --speaker reads a folder) and cuts it into chunks of the given seconds.
func loadNoise(nd speakerDir, exclude excludeFlags, seconds float64) (*corpus.Speaker, error) {
	var (
		raw *corpus.Speaker
		err error
	)
	if fi, serr := os.Stat(nd.dir); serr == nil && !fi.IsDir() {
		raw, err = corpus.Load(nd.name, []corpus.File{{Path: nd.dir}}, separation.DefaultSampleRate)
	} else {
		raw, err = loadSpeaker(nd, exclude)
	}
	if err != nil {
		return nil, err
	}
	return experiment.NoiseSpeaker(raw, separation.DefaultSampleRate, seconds)
}

// parseFreeInit reads --free-init.
func parseFreeInit(v string) (nmf.FreeStart, error) {
	st, err := nmf.ParseFreeStart(v)
	if err != nil {
		return 0, usagef("--free-init: %v", err)
	}
	return st, nil
}
