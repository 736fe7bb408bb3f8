package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/experiment"
	"github.com/dlnmf/dlnmf/internal/openblas"
	"github.com/dlnmf/dlnmf/internal/plural"
	"github.com/dlnmf/dlnmf/report"
	"github.com/dlnmf/dlnmf/separation"
)

func init() {
	register(&command{
		name:    "experiment",
		summary: "run the paper's whole protocol (Table 1) on your speakers",
		usage: `Usage: dlnmf experiment --speaker NAME=DIR --speaker NAME=DIR [...] -o OUTDIR [flags]

Runs the protocol of the paper (docs/protocol.md) on the speakers: every
repeat shuffles each speaker's files with its own seed, trains on 70%, uses
20% as discriminative mixtures for DL-NMF and 10% as test mixtures (0 dB,
the longer utterance cut to the shorter), and scores every separated speaker
with BSS Eval v3. By default: 15 repeats, NMF with K = 10, 20, 30, L-NMF and
DL-NMF with K1 = 180 and K2 = 10, 20, 30, 200 iterations, 5 DL-NMF rounds.

Writes to OUTDIR: results.json, scores.csv (every test mixture's scores),
results.md (Table 1 with 95% confidence intervals and paired tests) and
report/index.html (figures and audio). The work is cut into units (one
repeat of the rows that share training); each finished unit is saved in
OUTDIR/units, so the same command resumes an interrupted run. An OUTDIR
holding units of other settings is an error.

Choosing on validation data: --select GRID adds the row "Selected". GRID
(a JSON file, or inline JSON) is one object, or a list of objects, mapping
a setting to the values to try, as a sweep's grid: "method", "layers", "k"
or any field of results.json's "config" (context, sparsity, mask_power,
bands, coarse_bands, coarse_iters, step_exponent, unfold, untied, deep_epochs,
iters, rounds,
...); settings it does not name
are the command line's, and
every grid point must be one row, e.g. with --methods dlnmf --layers 180,20:
  {"context": [1, 5], "sparsity": [0, 0.5, 1], "mask_power": [1, 2]}
  [{"layers": [[180, 20], [180, 40]]}, {"layers": [[300, 40]], "sparsity": [0.5]}]
In every repeat (the same split as the rows), --validation of each
speaker's training utterances are held out and mixed like the test
mixtures; every grid point is trained on the rest (DL-NMF with the same
discriminative share) and scored on them; the best mean validation SDR
(ties: the first point) is trained again on the whole training part and
scored on the test mixtures. results.md gets a section "Selected on
validation data": the choice of every repeat, the selected row's test
scores beside the rows' and paired tests of Selected minus each row. Each
repeat's selection is one unit (it resumes and shards as the rows do).

Sources without a model: with one --speaker and --unknown NAME=DIR (a talker
no model is trained on) or --noise NAME=FILE_OR_DIR (cut into --noise-chunk
pieces, split like utterances), every repeat mixes the speaker's test files
with the interferer's at --snr and scores the speaker's SDR and its
improvement over the mixture (SDRi) for: the mixture itself, a supervised
model of both, the speaker's model with --free K bases (each K), and with a
--universal NAME=DIR,DIR,... model (each --sparsity and --universal-prune
ratio, pruned in every repeat with the speaker's training files as train
does); NMF with the first --k (the universal model: --universal-k per
speaker, or the first --k). Writes OUTDIR/results.md and results.json.
Each repeat is one unit in OUTDIR/units: the run resumes, and --shard and
--summarize split it over a scheduler's tasks as they do the protocol.
--score-on validation scores the held-back 20% share instead (no row trains
on it) and writes OUTDIR/picked.txt, the best free and universal rows'
--free, --free-init, --sparsity, --universal-prune and --semi-iters: choose
them there, then run once on test.

` + speakerHelp + `

Examples:
  dlnmf experiment --speaker FA=../shared/corpus/tsp/FA --speaker MC=../shared/corpus/tsp/MC -o out/tsp
  dlnmf experiment --speaker slt=arctic/slt --speaker bdl=arctic/bdl \
      --repeats 5 --layers 180,20 --k 20 --methods lnmf,dlnmf -o out/arctic
  dlnmf experiment --speaker FA=tsp/FA --speaker MC=tsp/MC --methods dlnmf --layers 180,20 \
      --select grid.json -o out/selected
  dlnmf experiment --speaker FA=tsp/FA --unknown MC=tsp/MC --k 20 --free 10,20,40 \
      --universal speech=arctic/slt,arctic/bdl -o out/unknown
  dlnmf experiment --speaker FA=tsp/FA --noise pink=pink.wav --snr 5 --k 20 -o out/pink5`,
		run: runExperiment,
	})
}

// layerFlags collects repeated --layers flags.
type layerFlags [][]int

func (l *layerFlags) String() string { return fmt.Sprint([][]int(*l)) }

func (l *layerFlags) Set(v string) error {
	sizes, err := parseInts(v)
	if err != nil {
		return err
	}
	*l = append(*l, sizes)
	return nil
}

func runExperiment(ctx context.Context, cmd *command, env *environment, args []string) error {
	fs := newFlagSet(env, cmd)
	var speakers speakerFlags
	fs.Var(&speakers, "speaker", "a speaker as NAME=DIR (a folder of .wav and .flac files, sub-folders included) or NAME=@LIST (a file naming one WAV or FLAC file a line); repeat for each speaker, at least 2")
	var exclude excludeFlags
	fs.Var(&exclude, "exclude", "leave out the speakers' files whose name or path matches this glob; repeatable")
	cfg, opts := protocolFlags(fs, experiment.Config{})
	out := fs.String("o", "", "output folder, created if missing (required)")
	sf := bindShardFlags(fs)
	inter := bindInterferenceFlags(fs)
	renameFlag(env, fs, "sparsity", "universal-weight")
	selectGrid := fs.String("select", "", "add the row Selected: a configuration chosen in every repeat on validation data from GRID, a JSON file or inline JSON (see above)")
	validation := fs.Float64("validation", experiment.DefaultValidation, "with --select: the share of each speaker's training utterances held out for validation")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("-o OUTDIR is required")
	}
	if inter.active() && *selectGrid != "" {
		return usagef("--select is for the protocol's rows, not with --unknown or --noise")
	}
	if inter.active() {
		config, err := cfg()
		if err != nil {
			return err
		}
		return runInterference(ctx, env, speakers, exclude, inter, config, *out, sf, opts)
	}
	if len(speakers) < 2 {
		return usagef("give at least 2 speakers with --speaker NAME=DIR")
	}
	config, err := cfg()
	if err != nil {
		return err
	}
	if config.Select, err = parseSelect(*selectGrid, *validation); err != nil {
		return err
	}
	if config.Select != nil {
		if _, err := config.Defaults(); err != nil {
			return usageError{err.Error()}
		}
	}
	shard, err := sf.parse(*out)
	if err != nil {
		return err
	}
	var sps []*corpus.Speaker
	for _, sd := range speakers {
		sp, err := loadSpeaker(sd, exclude)
		if err != nil {
			return err
		}
		logf(env.stderr, *opts.quiet, "speaker %s: %s, %.1f s", sp.Name, plural.Count(len(sp.Utterances), "file"), sp.Seconds(separation.DefaultSampleRate))
		sps = append(sps, sp)
	}
	if err := experiment.CheckValidation(sps, config); err != nil {
		return usagef("--validation: %v", err)
	}
	title := "dlnmf experiment: " + strings.Join(names(sps), " + ")
	intro := "The paper's protocol (Hsu, Chi, Chien, Interspeech 2016, Table 1) on these speakers: " +
		"NMF, layered NMF and discriminative layered NMF, scored with BSS Eval v3 on held-out 0 dB mixtures."
	jobs := []experiment.Job{{Speakers: sps, Config: config}}
	switch {
	case shard.Sharded():
		return runShard(ctx, env, jobs, *out, shard, opts)
	case *sf.summarize:
		res, err := summarizeUnits(env, jobs, *out, opts)
		if err != nil {
			return err
		}
		return writeProtocol(env, *out, res[0], title, intro, []string{
			fmt.Sprintf("summary of the units in %s", filepath.Join(*out, "units")),
			"iterations are not given in the paper: these are the protocol's defaults",
		}, opts)
	}
	return runProtocol(ctx, env, sps, config, *out, title, intro, opts)
}

// parseSelect reads --select GRID (a JSON file, or inline JSON starting
// with "{" or "[") and --validation into a selection; "" is none.
func parseSelect(grid string, validation float64) (*experiment.Selection, error) {
	if grid == "" {
		if validation != experiment.DefaultValidation {
			return nil, usagef("--validation is for --select")
		}
		return nil, nil
	}
	if validation <= 0 || validation >= 1 {
		return nil, usagef("--validation %g: want a fraction between 0 and 1", validation)
	}
	g, err := experiment.ReadGrid(grid)
	if err != nil {
		return nil, usagef("--select: %v", err)
	}
	return &experiment.Selection{Grid: g, Validation: validation}, nil
}

// protocolOptions are the output options shared by experiment and demo.
type protocolOptions struct {
	quiet, json *bool
	jobs        *int
	// epilogue, when set, prints after the results table (not with --json).
	epilogue func(io.Writer, *experiment.Results)
	// verdict, when set, says what the run shows, on the report's page.
	verdict func(*experiment.Results) string
}

// protocolFlags binds the protocol's settings to fs. The returned function
// builds the Config after parsing.
func protocolFlags(fs *flag.FlagSet, def experiment.Config) (func() (experiment.Config, error), *protocolOptions) {
	d, _ := def.Defaults()
	var layers layerFlags
	fs.Var(&layers, "layers", fmt.Sprintf("layer sizes K1,K2 of an L-NMF/DL-NMF row; repeat for more rows (default %s)", layerList(d.Layers)))
	repeats := fs.Int("repeats", d.Repeats, "repeats of the split, each with its own shuffle")
	k := fs.String("k", joinIntsCLI(d.K), "NMF sizes K, comma-separated")
	iters := fs.Int("iters", d.Iters, "training iterations (each pretraining layer and fine-tuning)")
	inferIters := fs.Int("infer-iters", d.InferIters, "inference iterations")
	rounds := fs.Int("rounds", d.Rounds, "DL-NMF rounds")
	discIters := fs.Int("disc-iters", d.DiscIters, "DL-NMF basis iterations per round")
	snr := fs.Float64("snr", d.SNR, "level of the first speaker over each other in the mixtures, dB")
	seed := fs.Uint64("seed", separation.DefaultSeed, "seed of every shuffle and initialisation")
	methods := fs.String("methods", "nmf,lnmf,dlnmf", "methods to run, comma-separated")
	beta := fs.Float64("beta", *d.Beta, "beta-divergence: 1 Kullback-Leibler, 2 Euclidean, 0 Itakura-Saito")
	tol := fs.Float64("tol", d.Tol, "stop early when the cost falls by less than this fraction (negative: never)")
	examples := fs.Int("examples", 2, "test mixtures of the first repeat kept as audio in the report")
	contextT := fs.Int("context", 1, "frames per spectral patch T (odd) of every row's bases")
	// Not --sparsity: that is the universal model's group weights (--unknown).
	sparsity := fs.Float64("sparsity-l1", 0, "L1 penalty LAMBDA on the activations of every row, with unit-norm first-layer columns (train --sparsity)")
	maskPower := fs.Float64("mask-power", 1, "exponent P of every row's Wiener gains (1: the paper, 2: power ratio)")
	bands := fs.Int("bands", 0, "infer every row's activations on this many mel-spaced bands (separate --bands; 0: the models' default, every bin for the rows' models)")
	coarseBands := fs.Int("coarse-bands", 0, "start every row's activations from --coarse-iters iterations on this many mel-spaced bands (separate --coarse-bands; 0: none)")
	coarseIters := fs.Int("coarse-iters", 0, fmt.Sprintf("iterations of the coarse start (default %d with --coarse-bands)", separation.DefaultCoarseIters))
	stepExponent := fs.Float64("step-exponent", 1, "exponent of every row's multiplicative steps of the activations in inference (separate --step-exponent)")
	opts := &protocolOptions{}
	opts.jobs = fs.Int("jobs", runtime.GOMAXPROCS(0), "repeats run at once, one core each")
	opts.quiet = fs.Bool("quiet", false, "print nothing but errors and the results")
	opts.json = fs.Bool("json", false, "print results.json instead of the results table")
	build := func() (experiment.Config, error) {
		cfg := def
		// Zero means "default" in experiment.Config: a 0 typed on the
		// command line is a mistake, not a request for the default.
		if *repeats < 1 || *iters < 1 || *inferIters < 1 || *rounds < 1 || *discIters < 1 || *opts.jobs < 1 {
			return cfg, usagef("--repeats, --iters, --infer-iters, --rounds, --disc-iters and --jobs must be at least 1")
		}
		if *examples < 0 {
			return cfg, usagef("--examples must not be negative")
		}
		cfg.Repeats, cfg.Iters, cfg.InferIters, cfg.Rounds, cfg.DiscIters = *repeats, *iters, *inferIters, *rounds, *discIters
		cfg.SNR, cfg.Seed, cfg.Tol, cfg.Examples = *snr, *seed, *tol, *examples
		if err := separation.CheckContext(*contextT); err != nil {
			return cfg, usagef("--context: %v", err)
		}
		if err := separation.CheckSparsity(*sparsity); err != nil {
			return cfg, usagef("--sparsity-l1: %v", err)
		}
		if err := separation.CheckMaskPower(*maskPower); err != nil {
			return cfg, usagef("--mask-power: %v", err)
		}
		// The defaults stay zero in the config, so that its fingerprint
		// (and a resumed run's units) do not change for the paper's setup.
		if *contextT != 1 {
			cfg.Context = *contextT
		}
		if *maskPower != 1 {
			cfg.MaskPower = *maskPower
		}
		if *stepExponent != 1 {
			cfg.StepExponent = *stepExponent
		}
		cfg.Sparsity, cfg.Bands, cfg.CoarseBands, cfg.CoarseIters = *sparsity, *bands, *coarseBands, *coarseIters
		b := *beta
		cfg.Beta = &b
		if len(layers) > 0 {
			cfg.Layers = layers
		}
		var err error
		if cfg.K, err = parseInts(*k); err != nil {
			return cfg, usagef("--k: %v", err)
		}
		cfg.Methods = nil
		for _, m := range strings.Split(*methods, ",") {
			mm, err := separation.ParseMethod(strings.TrimSpace(m))
			if err != nil {
				return cfg, usageError{err.Error()}
			}
			cfg.Methods = append(cfg.Methods, mm)
		}
		if _, err := cfg.Defaults(); err != nil {
			return cfg, usageError{err.Error()}
		}
		return cfg, nil
	}
	return build, opts
}

// runProtocol runs the experiment and writes its files and report.
func runProtocol(ctx context.Context, env *environment, sps []*corpus.Speaker, cfg experiment.Config, out, title, intro string, opts *protocolOptions) error {
	// Interrupted while the speakers loaded: stop here. (experiment.Runner
	// dereferences a nil repeat when canceled before it starts one.)
	if err := ctx.Err(); err != nil {
		return err
	}
	cfgD, _ := cfg.Defaults()
	// A speaker with too few files for the split would fail only in the
	// first repeat, after the output folder was made: check it first.
	for i, sp := range sps {
		if _, err := corpus.SplitSpeaker(len(sp.Utterances), cfgD.Seed, 0, i, cfgD.TrainFraction, cfgD.DiscFraction); err != nil {
			return fmt.Errorf("speaker %s: %w", sp.Name, err)
		}
	}
	if err := checkMemory("the experiment", experiment.Memory(sps, cfgD, *opts.jobs)); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	runner := &experiment.Runner{Dir: out, Config: cfg, Speakers: sps, Workers: *opts.jobs}
	bar := newProgress(env, *opts.quiet, cfgD.Repeats*len(cfgD.Rows()), "training")
	runner.Progress = unitProgress(env, *opts.quiet, bar)
	start := time.Now()
	res, err := runner.Run(ctx)
	progressDone(bar)
	if err != nil {
		return err
	}
	notes := []string{
		fmt.Sprintf("wall time %s for %d repeats computed here (%d resumed from %s), %d at once, on %d cores; BLAS: %s",
			time.Since(start).Round(time.Second), cfgD.Repeats-res.Resumed, res.Resumed, filepath.Join(out, "units"), *opts.jobs, runtime.NumCPU(), blasName()),
		"iterations are not given in the paper: these are the protocol's defaults",
	}
	return writeProtocol(env, out, res, title, intro, notes, opts)
}

// writeProtocol writes an experiment's files and report into out and prints
// its table (or results.json).
func writeProtocol(env *environment, out string, res *experiment.Results, title, intro string, notes []string, opts *protocolOptions) error {
	if err := experiment.WriteFiles(out, res, notes); err != nil {
		return err
	}
	rep := experiment.Report(res, title, intro, notes)
	if opts.verdict != nil {
		rep.Verdict = opts.verdict(res)
	}
	if err := report.Write(filepath.Join(out, "report"), rep); err != nil {
		return err
	}
	if *opts.json {
		js, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(env.stdout, string(js))
	} else {
		fmt.Fprint(env.stdout, experiment.Markdown(res, notes))
		if opts.epilogue != nil {
			opts.epilogue(env.stdout, res)
		}
	}
	logf(env.stderr, *opts.quiet, "wrote %s/results.md, results.json, scores.csv and report/index.html", out)
	return nil
}

func blasName() string {
	if openblas.Enabled {
		return "OpenBLAS (" + openblas.CoreName() + "), float32"
	}
	return "pure Go (gonum), float32"
}

func names(sps []*corpus.Speaker) []string {
	n := make([]string, len(sps))
	for i, s := range sps {
		n[i] = s.Name
	}
	return n
}

func layerList(ls [][]int) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = joinIntsCLI(l)
	}
	return strings.Join(s, " ")
}

func joinIntsCLI(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}
