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
	"github.com/dlnmf/dlnmf/internal/atomicfile"
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

// runInterference runs experiment.Interference and writes
// OUTDIR/results.md and OUTDIR/results.json.
func runInterference(ctx context.Context, env *environment, speakers speakerFlags, exclude excludeFlags, f *interferenceFlags, cfg experiment.Config, out string, quiet bool) error {
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
	known, err := loadSpeaker(speakers[0], exclude)
	if err != nil {
		return err
	}
	var other *corpus.Speaker
	if len(f.unknown) == 1 {
		if other, err = loadSpeaker(f.unknown[0], exclude); err != nil {
			return err
		}
	} else {
		nd := f.noise[0]
		var raw *corpus.Speaker
		if fi, err := os.Stat(nd.dir); err == nil && !fi.IsDir() {
			raw, err = corpus.Load(nd.name, []corpus.File{{Path: nd.dir}}, separation.DefaultSampleRate)
			if err != nil {
				return err
			}
		} else if raw, err = loadSpeaker(nd, exclude); err != nil {
			return err
		}
		var signals [][]float64
		for _, u := range raw.Utterances {
			signals = append(signals, u.Samples)
		}
		if other, err = experiment.NoiseSpeaker(nd.name, signals, separation.DefaultSampleRate, *f.chunk); err != nil {
			return err
		}
	}
	logf(env.stderr, quiet, "known %s: %d files; interferer %s: %d files or chunks", known.Name, len(known.Utterances), other.Name, len(other.Utterances))
	in := &experiment.Interference{Known: known, Interferer: other, Free: free, UniversalWeights: weights, Config: cfg,
		SemiIters: semiIters, Prune: prune, ScoreOn: *f.scoreOn, FreeStarts: freeStarts, FreeL1: *f.freeL1,
		Progress: func(s string) { logf(env.stderr, quiet, "%s", s) }}
	if f.universal.name != "" {
		f.universal.avoid([]string{known.Name, other.Name})
		d, _ := cfg.Defaults()
		div, beta := nmf.ForBeta(*d.Beta)
		ts := separation.TrainSettings{Method: separation.NMF, Sizes: d.K[:1], SampleRate: d.SampleRate,
			NMF: nmf.Settings{Divergence: div, Beta: beta, MaxIter: d.Iters, Tol: d.Tol, Seed: d.Seed}}
		if in.Universal, err = trainUniversal(ctx, env, f.universal, exclude, ts, quiet); err != nil {
			return err
		}
	}
	res, err := in.Run(ctx)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	md := "# dlnmf experiment: " + known.Name + " + " + other.Name + "\n\n" + res.Markdown()
	if res.ScoredOn == experiment.ScoreValidation {
		// The settings chosen on validation, one per line, for the test
		// run (scripts/semi-results.sh reads them).
		p := res.Picked()
		if err := atomicfile.WriteBytes(filepath.Join(out, "picked.txt"), []byte(p.Text())); err != nil {
			return err
		}
		md += "\nPicked on validation (highest mean SDRi; picked.txt):\n\n```\n" + p.Text() + "```\n"
	}
	if err := atomicfile.WriteBytes(filepath.Join(out, "results.md"), []byte(md)); err != nil {
		return err
	}
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(out, "results.json"), js); err != nil {
		return err
	}
	fmt.Fprint(env.stdout, strings.TrimPrefix(md, "# "))
	logf(env.stderr, quiet, "wrote %s in %.0f s", filepath.Join(out, "results.md"), res.Seconds)
	return nil
}

// parseFreeInit reads --free-init.
func parseFreeInit(v string) (nmf.FreeStart, error) {
	st, err := nmf.ParseFreeStart(v)
	if err != nil {
		return 0, usagef("--free-init: %v", err)
	}
	return st, nil
}
