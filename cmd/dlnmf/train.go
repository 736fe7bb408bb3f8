package main

import (
	"context"
	"fmt"
	"time"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/internal/plural"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
)

func init() {
	register(&command{
		name:    "train",
		summary: "train speaker models (NMF, L-NMF or DL-NMF) into a model file",
		usage: `Usage: dlnmf train [--preset validated|paper | --method nmf|lnmf|dlnmf] --speaker NAME=DIR --speaker NAME=DIR [...] -o model.npz

Trains one model per speaker on the WAV and FLAC files of its folder (any
sample rate; resampled to 16 kHz) and writes every speaker's layers, with
the settings needed to use them, to one .npz model file (numpy.load opens
it).

What it trains: with no --method, the preset. --preset validated (the
default) is the configuration chosen on validation data on TSP and
confirmed on CMU ARCTIC: NMF with K = 400 bases of 5-frame spectral
patches, sparsity 1 and the power-ratio mask (docs/RESULTS.md, "Chosen on
validation data" and "A larger dictionary"), whose activations separate
infers on 128 mel-spaced bands ("Inference on bands") in longer steps
(step exponent 1.5, "Longer steps"), and, for 2 speakers or more, the
Wiener gains' bases trained for that inference on mixtures of held-back
files ("Reconstruction bases", below) and at most 50 iterations ("Fewer
iterations with reconstruction bases"; at most 100 without them); it
separates 2.3 to 3.1 dB better than the paper's DL-NMF but takes longer
to separate. --k 100 gives the earlier default, 0.5 to 0.9 dB lower and
four times less work per inference iteration. --preset paper is the paper's
DL-NMF 180,20, for reproducing its Table 1. --method chooses a method with
the paper's settings instead; --k, --layers, --context, --sparsity, --mask-power,
--bands, --step-exponent, --separate-iters and --reconstruction-bases
override either.

--unfold N turns the model (any preset or method) into deep NMF (Le Roux,
Hershey and Weninger 2015): its N inference iterations become layers, the
last --untied U of them and the Wiener gains' reconstruction bases get their
own bases, trained on mixtures of the speakers (as for dlnmf, below) by
back-propagation for the signal-approximation error of the separated
magnitudes; separation then runs exactly N iterations. --untied 0 trains
the reconstruction bases only (discriminative NMF, Weninger et al. 2014)
for those N iterations.

--reconstruction-bases trains the Wiener gains' bases of the model (any
preset or method; the validated preset's default for 2 speakers or more
without --unfold or --universal, and --reconstruction-bases=false trains
none, every file then training the layers) for its own inference, as
Weninger et al. 2014 do: the activations separation infers on each
mixture of the speakers (with the model's bands, step exponent and
iterations) stay fixed, and bases of the gains, started from the
speakers' bases, are trained for the same signal-approximation error for
--deep-epochs steps. Inference, and its
speed, stay the model's (docs/RESULTS.md, "Reconstruction bases").
--disc-pairings P mixes each held-back file of the first speaker with P of
the others' (the i-th with the i-th, the (i+1)-th, ...): P times the
mixtures from the same files; the default is 4 with reconstruction bases
(validation's choice: from the few held-back files one pairing overfits)
and the protocol's 1 for dlnmf and --unfold.

For dlnmf, --unfold and reconstruction bases, a held-back share of each
speaker's files (--disc-share, default 20%) does not train the layers: after a seeded shuffle per speaker,
the i-th held-back file of every speaker is mixed with the others' i-th at
--snr dB (0: equal energy; the longer cut to the shortest), the experiment's
rule (corpus.Pair: two speakers never say the same file name at once), and
these mixtures with their clean sources drive the discriminative rounds.
With --disc NAME=DIR or NAME=@LIST for every speaker, those files make the
mixtures instead, in that order. The files not held back train, in the
order given: the files of one experiment repeat, listed in its order, with
its seed (experiment.RepeatSeed) give the very models that repeat trained.

One speaker is enough for nmf and lnmf: such a model separates that voice
from anything else (speech enhancement) with free bases (dlnmf separate
--free) or with a universal speech model: --universal NAME=DIR,DIR,...
trains every folder as a speaker of a universal model (Sun and Mysore 2013)
stored in the model file, whose group-sparse activations explain a talker
nobody trained; its estimate is written as <mix>.NAME.wav. It takes the
model's method and sizes (dlnmf: lnmf, there are no mixtures to
discriminate), or NMF with --universal-k bases per speaker, and all of each
folder's files. Universal speakers that sound like the model's own are
dropped: each one alone takes a share of the speakers' training audio when
it is separated, and --universal-prune R (default ` + fmt.Sprint(separation.DefaultUniversalPrune) + `; 0 keeps all) drops
those whose share is above R times the least one (on TSP FA, ARCTIC slt
takes 2 to 8 times bdl's share and is dropped; docs/RESULTS.md).

` + speakerHelp + `

Examples:
  dlnmf train --speaker FA=tsp/FA --speaker MC=tsp/MC -o model.npz
  dlnmf train --preset paper --speaker FA=tsp/FA --speaker MC=tsp/MC -o dlnmf.npz
  dlnmf train --method nmf --k 20 --speaker FA=tsp/FA --speaker MC=tsp/MC -o nmf.npz
  dlnmf train --method nmf --k 20 --speaker FA=tsp/FA --universal speech=arctic/slt,arctic/bdl -o fa.npz
  dlnmf train --method lnmf --layers 180,20 --speaker FA=tsp/FA --speaker MC=tsp/MC -o lnmf.npz
  dlnmf train --method dlnmf --layers 180,20 --rounds 5 --seed 1 \
      --speaker FA=tsp/FA --speaker MC=tsp/MC -o dlnmf.npz
  dlnmf train --unfold 10 --untied 2 --speaker FA=tsp/FA --speaker MC=tsp/MC -o deep.npz
  dlnmf train --method nmf --speaker FA=@fa-train.txt --speaker MC=tsp/MC --exclude 'MC01_*' -o nmf.npz`,
		run: runTrain,
	})
}

func runTrain(ctx context.Context, cmd *command, env *environment, args []string) error {
	fs := newFlagSet(env, cmd)
	var speakers speakerFlags
	fs.Var(&speakers, "speaker", "a speaker as NAME=DIR (a folder of .wav and .flac files, sub-folders included) or NAME=@LIST (a file naming one WAV or FLAC file a line); repeat for each speaker (dlnmf: at least 2)")
	var discs speakerFlags
	fs.Var(&discs, "disc", "dlnmf, --unfold and reconstruction bases: a speaker's discriminative files as NAME=DIR or NAME=@LIST, instead of holding back --disc-share of its --speaker files; one for every speaker or none")
	var exclude excludeFlags
	fs.Var(&exclude, "exclude", "leave out the speakers' files whose name or path matches this glob; repeatable")
	preset := fs.String("preset", separation.PresetValidated, fmt.Sprintf("the configuration trained when --method is not given: %s (NMF K = 400, 5-frame patches, sparsity 1, mask power 2: chosen on validation data on TSP and CMU ARCTIC) or %s (the paper's DL-NMF 180,20)", separation.PresetValidated, separation.PresetPaper))
	method := fs.String("method", "", "nmf, lnmf or dlnmf, with the paper's sizes, single frames, no sparsity and mask power 1 unless the flags below say otherwise (default: the --preset's)")
	k := fs.Int("k", 20, "bases per speaker for nmf (default: the preset's, or 20 with --method nmf)")
	layers := fs.String("layers", "180,20", "layer sizes K1,K2,... for lnmf and dlnmf")
	iters := fs.Int("iters", nmf.DefaultMaxIter, "training iterations (pretraining of each layer and fine-tuning)")
	inferIters := fs.Int("infer-iters", nmf.DefaultMaxIter, "dlnmf: inference iterations of each round's H step")
	rounds := fs.Int("rounds", separation.DefaultRounds, "dlnmf: discriminative rounds")
	discIters := fs.Int("disc-iters", separation.DefaultDiscIter, "dlnmf: basis iterations per round")
	discShare := fs.Float64("disc-share", corpus.DiscFraction, "dlnmf, --unfold and reconstruction bases: share of each speaker's files held back for the discriminative mixtures")
	snr := fs.Float64("snr", 0, "dlnmf, --unfold and reconstruction bases: level of the first speaker over each other one in the discriminative mixtures, dB")
	discPairings := fs.Int("disc-pairings", 0, fmt.Sprintf("discriminative mixtures per held-back file of the first speaker: pairing p mixes it with the file p places further on in each other speaker's list (corpus.DiscMixtures; default: %d with reconstruction bases, 1 otherwise)", recording.ReconstructionPairings))
	beta := fs.Float64("beta", 1, "beta-divergence: 1 Kullback-Leibler, 2 Euclidean, 0 Itakura-Saito, or any other value")
	tol := fs.Float64("tol", nmf.DefaultTol, "stop training a layer early when the cost falls by less than this fraction (negative: never)")
	seed := fs.Uint64("seed", separation.DefaultSeed, "seed of every random choice (shuffles and initialisations)")
	contextT := fs.Int("context", 1, "frames per spectral patch T (odd): the bases model T consecutive spectra (default: the preset's, or 1 with --method)")
	sparsity := fs.Float64("sparsity", 0, "L1 penalty LAMBDA on the activations in training, DL-NMF and separation, with unit-norm first-layer columns (scale-free for beta 1; default: the preset's, or 0 with --method)")
	unfold := fs.Int("unfold", 0, fmt.Sprintf("deep NMF: unfold N inference iterations as layers and train them on mixtures of the speakers (as dlnmf's discriminative mixtures) for the Wiener-filtered estimate; separation then runs exactly N iterations (0: none; at most %d)", separation.MaxUnfold))
	untied := fs.Int("untied", 0, "with --unfold: the last U layers get their own bases (0: only the reconstruction bases are trained, discriminative NMF; at most N)")
	deepEpochs := fs.Int("deep-epochs", separation.DefaultDeepEpochs, "with --unfold or --reconstruction-bases: gradient steps")
	reconBases := fs.Bool("reconstruction-bases", false, "discriminative NMF for the model's own inference: train the Wiener gains' bases on mixtures of held-back files of the speakers (as dlnmf's discriminative mixtures) for the Wiener-filtered estimate, the activations inferred as separation infers them; not with --unfold or --universal (default: the preset's: validated trains them for 2 speakers or more without --unfold or --universal; =false trains none)")
	bands := fs.Int("bands", 0, fmt.Sprintf("record in the model that separate infers the activations on this many mel-spaced bands by default (%d to the bins; 0: every bin; default: the preset's, %d for validated, or 0 with --method)", separation.MinBands, separation.ValidatedBands))
	stepExponent := fs.Float64("step-exponent", 0, fmt.Sprintf("record in the model that separate raises each multiplicative step of the activations to this power by default (1 to below %d; 0: 1, the usual update; default: the preset's, %g for validated, or 0 with --method)", nmf.StepExponentLimit, separation.ValidatedStepExponent))
	separateIters := fs.Int("separate-iters", 0, fmt.Sprintf("record in the model the inference iterations separate runs by default, and reconstruction bases are trained for (1 to %d; 0: %d of the usual update, with a step exponent above 1 the counts validation chose: %d with reconstruction bases, else %d)", separation.MaxSeparateIters, nmf.DefaultMaxIter, separation.ValidatedReconstructionIters, separation.ValidatedSeparateIters))
	maskPower := fs.Float64("mask-power", 1, "exponent P of the Wiener gains |V_s|^P / sum |V_j|^P (1: the paper, 2: power ratio), recorded in the model (default: the preset's, or 1 with --method)")
	out := fs.String("o", "", "model file to write (.npz); its folder is created if missing (required)")
	quiet := fs.Bool("quiet", false, "print nothing but errors")
	asJSON := fs.Bool("json", false, "print a JSON summary on stdout: the model, each speaker's files and final cost, the training settings")
	var universal universalFlag
	universal.bind(fs, "a universal speech model as NAME=DIR,DIR,... (one folder per speaker) for talkers nobody trained")
	prune := fs.Float64("universal-prune", separation.DefaultUniversalPrune, "with --universal: drop the universal speakers that take more than this many times the least share of the speakers' training audio (separation.PruneUniversal); 0: keep all")
	rate := fs.Int("rate", separation.DefaultSampleRate, "sample rate to train at, Hz (files are resampled to it; the STFT stays 64 ms / 16 ms); the model separates at this rate")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("-o model.npz is required")
	}
	// The preset, or with --method that method's plain defaults; the
	// flags given override either.
	var base separation.TrainSettings
	var err error
	if flagSet(fs, "method") {
		if flagSet(fs, "preset") {
			return usagef("--preset and --method: give one (a preset names its method)")
		}
		m, err := separation.ParseMethod(*method)
		if err != nil {
			return usageError{err.Error()}
		}
		base = separation.MethodSettings(m)
	} else if base, err = separation.Preset(*preset); err != nil {
		return usagef("--preset: %v", err)
	}
	m := base.Method
	if flagSet(fs, "context") {
		base.Context = *contextT
	}
	if flagSet(fs, "sparsity") {
		base.Sparsity = *sparsity
	}
	if flagSet(fs, "mask-power") {
		base.MaskPower = *maskPower
	}
	if flagSet(fs, "bands") {
		base.Bands = *bands
	}
	if flagSet(fs, "step-exponent") {
		base.StepExponent = *stepExponent
	}
	if flagSet(fs, "separate-iters") {
		base.SeparateIters = *separateIters
	}
	if flagSet(fs, "reconstruction-bases") {
		base.ReconstructionBases = separation.ReconstructionNone
		if *reconBases {
			base.ReconstructionBases = separation.ReconstructionTrained
		}
	}
	*contextT, *sparsity, *maskPower = base.Context, base.Sparsity, base.MaskPower
	if err := separation.CheckUnfold(*unfold, *untied); err != nil {
		return usagef("--unfold, --untied: %v", err)
	}
	if *deepEpochs < 1 {
		return usagef("--deep-epochs must be at least 1")
	}
	if *reconBases && *unfold > 0 {
		return usagef("--reconstruction-bases and --unfold: an unfolded model trains its own reconstruction bases")
	}
	if *reconBases && universal.name != "" {
		return usagef("--reconstruction-bases and --universal: the gains' bases are trained for the speakers alone")
	}
	// The preset's reconstruction bases, settled for this model.
	discSettings := separation.TrainSettings{Method: m, Unfold: *unfold, ReconstructionBases: base.ReconstructionBases}.ForModel(len(speakers), universal.name != "")
	disc := discSettings.Discriminative()
	if len(speakers) < 1 {
		return usagef("give at least 1 speaker with --speaker NAME=DIR (dlnmf, --unfold and --reconstruction-bases: at least 2)")
	}
	if err := discSettings.CheckSpeakers(len(speakers)); err != nil {
		return usagef("%v: give another --speaker NAME=DIR", err)
	}
	if err := universal.check(*prune); err != nil {
		return err
	}
	var names []string
	for _, sd := range speakers {
		if separation.NameKey(sd.name) == separation.NameKey(universal.name) {
			return usagef("--universal %s has a speaker's name", universal.name)
		}
		names = append(names, sd.name)
	}
	universal.avoid(names)
	// --k sizes nmf, --layers the layered methods; each is ignored by the
	// other methods, so that one command line can train any of them.
	sizes := base.Sizes
	switch {
	case m == separation.NMF && flagSet(fs, "k"):
		sizes = []int{*k}
	case m != separation.NMF && flagSet(fs, "layers"):
		if sizes, err = parseInts(*layers); err != nil {
			return usagef("--layers: %v", err)
		}
	}
	if len(discs) > 0 && !disc {
		return usagef("--disc is for --method dlnmf, --unfold and --reconstruction-bases")
	}
	discOf := map[string]speakerDir{}
	for _, d := range discs {
		discOf[d.name] = d
	}
	for _, sd := range speakers {
		if _, ok := discOf[sd.name]; len(discs) > 0 && !ok {
			return usagef("--disc names speakers %s; give one for every --speaker (%s has none)", discs.String(), sd.name)
		}
	}
	if len(discs) > len(speakers) {
		return usagef("--disc names a speaker that no --speaker gives")
	}
	if flagSet(fs, "disc-pairings") && *discPairings < 1 {
		return usagef("--disc-pairings must be at least 1")
	}
	if !(*discShare > 0 && *discShare < 1) { // NaN too
		return usagef("--disc-share must lie between 0 and 1")
	}
	// Zero means "default" in the library's settings: a 0 typed on the
	// command line is a mistake, not a request for the default.
	if m == separation.NMF && sizes[0] < 1 {
		return usagef("--k must be at least 1")
	}
	if err := separation.CheckSampleRate(*rate); err != nil {
		return usagef("--rate: %v", err)
	}
	if *iters < 1 || *inferIters < 1 || *rounds < 1 || *discIters < 1 {
		return usagef("--iters, --infer-iters, --rounds and --disc-iters must be at least 1")
	}
	if err := separation.CheckContext(*contextT); err != nil {
		return usagef("--context: %v", err)
	}
	if err := separation.CheckSparsity(*sparsity); err != nil {
		return usagef("--sparsity: %v", err)
	}
	if err := separation.CheckMaskPower(*maskPower); err != nil {
		return usagef("--mask-power: %v", err)
	}
	if err := separation.CheckModelBands(base.Bands, *rate); err != nil {
		return usagef("--bands: %v", err)
	}
	if *bands != 0 && *unfold > 0 {
		return usagef("--bands and --unfold: a deep-unfolded model's layers are trained on every bin, and it records no bands")
	}
	if err := separation.CheckModelStep(base.StepExponent, base.SeparateIters); err != nil {
		return usagef("--step-exponent, --separate-iters: %v", err)
	}
	if (flagSet(fs, "step-exponent") || flagSet(fs, "separate-iters")) && *unfold > 0 {
		return usagef("--step-exponent or --separate-iters with --unfold: a deep-unfolded model runs exactly its --unfold iterations of the usual update")
	}
	if err := separation.CheckLayerSizes(sizes); err != nil {
		return usagef("--k or --layers: %v", err)
	}
	settings := separation.TrainSettings{
		Method: m, Sizes: sizes,
		NMF:        nmf.Settings{MaxIter: *iters, Tol: *tol, Seed: *seed},
		SampleRate: *rate,
		InferIter:  *inferIters, Rounds: *rounds, DiscIter: *discIters,
		Context: *contextT, Sparsity: *sparsity, MaskPower: *maskPower,
		Unfold: *unfold, Untied: *untied, DeepEpochs: *deepEpochs, ReconstructionBases: discSettings.ReconstructionBases,
		Bands: base.Bands, StepExponent: base.StepExponent, SeparateIters: base.SeparateIters,
	}
	settings.NMF.Divergence, settings.NMF.Beta = nmf.ForBeta(*beta)

	// Make the output folder, and find an output that cannot be written
	// (a folder, a read-only place), now, not after the training.
	if err := makeParentDir(*out); err != nil {
		return err
	}
	if err := atomicfile.CheckWritable(*out); err != nil {
		return err
	}
	start := time.Now()
	sum := trainSummary{Model: *out, Method: string(m), Sizes: sizes, Speakers: make([]trainSpeaker, len(speakers))}
	ts := recording.TrainSettings{TrainSettings: settings, DiscShare: *discShare, DiscSNR: *snr, DiscPairings: *discPairings,
		Progress: func(line string) { logf(env.stderr, *quiet, "%s", line) }}
	data := make([]recording.TrainSpeaker, len(speakers))
	for i, sd := range speakers {
		sp, err := loadSpeakerAt(sd, exclude, *rate)
		if err != nil {
			return err
		}
		data[i] = recording.TrainSpeaker{Name: sd.name, Utterances: sp.Utterances}
		if d, ok := discOf[sd.name]; ok {
			ds, err := loadSpeakerAt(d, exclude, *rate)
			if err != nil {
				return err
			}
			data[i].Disc = append([]corpus.Utterance{}, ds.Utterances...)
		}
		sum.Speakers[i] = trainSpeaker{Name: sd.name, Files: len(sp.Utterances), Seconds: sp.Seconds(*rate)}
	}
	if universal.name != "" {
		u, err := loadUniversal(env, universal, exclude, *rate, *quiet)
		if err != nil {
			return err
		}
		u.Prune = *prune
		if *prune == 0 {
			u.Prune = -1 // --universal-prune 0 keeps all
		}
		ts.Universal = u
	}
	bar := newProgress(env, *quiet, -1, "training")
	ts.NMF.Recorder = progressRecorder{bar}
	model, rep, err := recording.Train(ctx, data, ts)
	progressDone(bar)
	if err != nil {
		return err
	}
	for i := range sum.Speakers {
		sum.Speakers[i].TrainFiles = rep.TrainFiles[i]
		logf(env.stderr, *quiet, "speaker %s: %s, %.1f s (%d for training)", sum.Speakers[i].Name, plural.Count(sum.Speakers[i].Files, "file"), sum.Speakers[i].Seconds, rep.TrainFiles[i])
	}
	sum.UniversalShares = rep.UniversalShares
	if model.Universal != nil && rep.UniversalShares != nil {
		kept := map[string]bool{}
		for _, sp := range model.Universal.Speakers {
			kept[sp.Name] = true
		}
		for _, sp := range ts.Universal.Speakers {
			what := "kept"
			if !kept[sp.Name] {
				what = "dropped"
			}
			logf(env.stderr, *quiet, "universal model %s: speaker %s takes %.1f%% of the speakers' training audio: %s (--universal-prune %g)", universal.name, sp.Name, 100*rep.UniversalShares[sp.Name], what, *prune)
		}
	}
	if err := model.WriteFile(*out); err != nil {
		return err
	}
	for i, r := range rep.Speakers {
		sum.Speakers[i].Iterations = r.Iterations
		if len(r.Cost) > 0 {
			sum.Speakers[i].FinalCost = r.Cost[len(r.Cost)-1]
			logf(env.stderr, *quiet, "speaker %s: final training cost %.6g after %d iterations", model.Speakers[i].Name, r.Cost[len(r.Cost)-1], r.Iterations)
		}
	}
	if len(rep.DeepCost) > 0 && model.Unfold == 0 {
		logf(env.stderr, *quiet, "reconstruction bases: SA cost over the sources' energy %.5g -> %.5g (%d of %d steps kept) in %.1f s", rep.DeepCost[0], rep.DeepCost[len(rep.DeepCost)-1], model.Training.DeepAccepted, model.Training.DeepEpochs, rep.DeepSeconds)
	} else if len(rep.DeepCost) > 0 {
		logf(env.stderr, *quiet, "deep unfolding (%d iterations, %d untied): SA cost over the sources' energy %.5g -> %.5g (%d of %d steps kept) in %.1f s", model.Unfold, len(model.Speakers[0].Untied), rep.DeepCost[0], rep.DeepCost[len(rep.DeepCost)-1], model.Training.DeepAccepted, model.Training.DeepEpochs, rep.DeepSeconds)
	}
	if len(rep.DiscCost) > 0 {
		logf(env.stderr, *quiet, "DL-NMF discriminative cost per round: %v (%d of %d rounds kept)", fmtCosts(rep.DiscCost), model.Training.RoundsAccepted, model.Training.Rounds)
	}
	logf(env.stderr, *quiet, "wrote %s (%s, layers %v, %s) in %s", *out, m.Label(), sizes, plural.Count(len(model.Speakers), "speaker"), time.Since(start).Round(time.Millisecond))
	if *asJSON {
		sum.DiscMixtures, sum.Training, sum.WallSeconds = rep.DiscMixtures, model.Training, time.Since(start).Seconds()
		return writeJSON(env.stdout, sum)
	}
	return nil
}

// trainSummary is what train --json prints.
type trainSummary struct {
	Model        string         `json:"model"`
	Method       string         `json:"method"`
	Sizes        []int          `json:"sizes"`
	Speakers     []trainSpeaker `json:"speakers"`
	DiscMixtures int            `json:"disc_mixtures"`
	// UniversalShares are the shares of the speakers' training audio that
	// each universal speaker takes (--universal-prune), by name.
	UniversalShares map[string]float64  `json:"universal_shares,omitempty"`
	Training        separation.Training `json:"training"`
	WallSeconds     float64             `json:"wall_seconds"`
}

type trainSpeaker struct {
	Name       string  `json:"name"`
	Files      int     `json:"files"`
	Seconds    float64 `json:"seconds"`     // audio, at the working rate
	TrainFiles int     `json:"train_files"` // the rest is held back for DL-NMF's mixtures
	Iterations int     `json:"iterations"`
	FinalCost  float64 `json:"final_cost"`
}

func fmtCosts(c []float64) string {
	s := ""
	for i, v := range c {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%.5g", v)
	}
	return s
}
