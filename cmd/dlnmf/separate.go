package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dlnmf/dlnmf/internal/openblas"
	"github.com/dlnmf/dlnmf/internal/parallel"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

func init() {
	register(&command{
		name:    "separate",
		summary: "separate the speakers of a model in one or more recordings",
		usage: `Usage: dlnmf separate -m model.npz -o OUTDIR MIX.wav [MIX2.flac ...]
       dlnmf separate -m model.npz --stdout SOURCE - < mix.wav > source.wav

Writes OUTDIR/<mix>.<speaker>.wav (.flac for a FLAC input, or as --format
says) for every speaker of the model, with the input's length, sample rate
and sample format (16-bit in, 16-bit out; float in, float out) unless
--encoding says otherwise. The estimates of one mixture add up to it. Two
inputs whose outputs would have the same names (sub/mix.wav and
other/mix.wav) are refused before any work. Inputs are WAV or
FLAC; "-" reads one mixture from standard input (a stream whose header
states its length, as files have), and --stdout SOURCE writes that
source's estimate to standard output as a WAV (or FLAC) stream (-o is then
optional; on an error the stream stops short of the length its header
announced).

Sample rates: a mixture at the model's rate is separated as it is. Above it
(a 44.1 or 48 kHz recording, a 16 kHz model) the separation is full band:
the STFT runs at the recording's rate with the model's 64 ms / 16 ms
window and hop, the model separates its own band, and the band above it is
shared by each speaker's part of the model's top quarter band (6-8 kHz for
a 16 kHz model) smoothed over 80 ms; the estimates keep the whole band.
Below the model's rate the mixture is resampled up and back (down to half
the model's rate; lower is refused: train a model at that rate with
dlnmf train --rate).

Inference: a model of the validated preset (dlnmf train's default) infers
the activations on the mixture summed over ` + fmt.Sprint(separation.ValidatedBands) + ` mel-spaced bands, recorded in
the model file, which validation chose over every bin on TSP and CMU
ARCTIC at about a quarter of the cost (docs/RESULTS.md, "Inference on
bands"); the gains keep every bin. --bands -1 infers on every bin, as
other models do. Such a model also records its iterations: at most ` + fmt.Sprint(separation.ValidatedSeparateIters) + `
with each multiplicative step raised to the power ` + fmt.Sprint(separation.ValidatedStepExponent) + `, which reach what
200 of the usual update reach, in about half the time (docs/RESULTS.md,
"Longer steps"), and at most ` + fmt.Sprint(separation.ValidatedReconstructionIters) + ` with the reconstruction bases
the preset trains for them, at the same validation SDR (docs/RESULTS.md,
"Fewer iterations with reconstruction bases"); --iters and
--step-exponent 1 override them; --live, a coarse start, free bases or a
universal model run the usual defaults.

Samples beyond full scale in PCM outputs are clipped (never wrapped) and
reported; float outputs never clip. FLAC holds integers: float or 32-bit
inputs are written as 24-bit FLAC.

Many files run in parallel on all cores; a file that fails is reported and
skipped, the others are still done, and the exit code is 1 at the end if
any failed.

Sources without a model: --free K learns K more bases on each mixture (each
30 s block of a long one) beside the model's fixed ones, for whatever its
speakers do not explain (noise, music, another voice), written as
OUTDIR/<mix>.other.wav. They start from the mixture's quietest frames and
take ` + fmt.Sprint(separation.DefaultFreeIters) + ` iterations unless --free-init and --iters say otherwise: on
validation mixtures (docs/RESULTS.md) more iterations let them learn the
known voice too. A model with one speaker (speech enhancement) needs
another source: --free K, or a universal speech model trained into it (dlnmf
train --universal), written as <mix>.<its name>.wav; given neither (or
--free 0), separate says so and learns ` + fmt.Sprint(separation.DefaultFree) + ` free bases.

An archive: --list FILE names the recordings, one a line (relative to the
list's folder); --shard I/N (or auto, from the scheduler, as for
"dlnmf experiment") separates only the files i with i mod N = I, and
--skip-existing skips a recording whose outputs are all there, so a
requeued task does only what is left.

` + liveUsage + `

Examples:
  dlnmf separate -m dlnmf.npz -o separated mix1.wav mix2.flac
  dlnmf separate -m dlnmf.npz -o /shared/out --list archive.txt --shard auto --skip-existing
  dlnmf separate -m dlnmf.npz -o out --encoding float32 --iters 100 recordings/*.wav
  dlnmf separate -m dlnmf.npz -o out --format flac meeting-48k.flac
  dlnmf separate -m dlnmf.npz --stdout alice - < meeting.flac > alice.wav
  dlnmf separate -m fa.npz --free 20 -o enhanced noisy.wav      # noisy.FA.wav, noisy.other.wav`,
		run: runSeparate,
	})
}

func runSeparate(ctx context.Context, cmd *command, env *environment, args []string) error {
	fs := newFlagSet(env, cmd)
	modelPath := fs.String("m", "", "model file written by dlnmf train (required)")
	outDir := fs.String("o", "", "output folder, created if missing (required)")
	iters := fs.Int("iters", 0, fmt.Sprintf("inference iterations (default: the model's, or %d; with --free: %d; with --live: %d per frame; after --coarse-bands: %d)", nmf.DefaultMaxIter, separation.DefaultFreeIters, separation.DefaultLiveIters, separation.DefaultFineIters))
	tol := fs.Float64("tol", nmf.DefaultTol, "stop inferring a block early when its cost falls by less than this fraction (negative: always --iters)")
	jobs := fs.Int("jobs", runtime.GOMAXPROCS(0), "files separated at once")
	float := fs.Bool("float", false, "the same as --encoding float32")
	encName := fs.String("encoding", "", "sample format of the outputs: pcm8, pcm16, pcm24, pcm32, float32 or float64 (default: the input's)")
	formatName := fs.String("format", "", "container of the outputs: wav or flac (default: the input's)")
	toStdout := fs.String("stdout", "", "write this source's estimate (a speaker, or other with --free) to standard output (one input only)")
	maskPower := fs.Float64("mask-power", 0, "exponent P of the Wiener gains |V_s|^P / sum |V_j|^P (default: the model's)")
	bands := fs.Int("bands", 0, fmt.Sprintf("infer the activations on the magnitude summed over this many mel-spaced bands (%d to the model's bins), each iteration cheaper by about bins / bands; the gains keep every bin; %d: every bin (default 0: the model's, %d for the validated preset's models, every bin for others and beside free bases or a universal model)", separation.MinBands, separation.EveryBin, separation.ValidatedBands))
	coarseBands := fs.Int("coarse-bands", 0, "start the activations from --coarse-iters iterations on this many mel-spaced bands (fewer than inference reads: --bands or the model's, or the bins), cheaper still; --iters iterations then continue from there (default 0: no coarse start)")
	coarseIters := fs.Int("coarse-iters", 0, fmt.Sprintf("iterations of the coarse start (default %d with --coarse-bands)", separation.DefaultCoarseIters))
	stepExponent := fs.Float64("step-exponent", 0, fmt.Sprintf("raise each multiplicative step of the activations to this power: longer steps to the same activations, so that fewer --iters reach them (at least 1, below %d; 1: the usual update; default 0: the model's, or 1 with --live, --free, --coarse-bands or a model that records none; not with --free or a deep-unfolded model)", nmf.StepExponentLimit))
	quiet := fs.Bool("quiet", false, "print nothing but errors")
	asJSON := fs.Bool("json", false, "print a JSON summary on stdout: every input with its outputs or its error")
	free := fs.Int("free", 0, fmt.Sprintf("learn this many more bases on each mixture for what the model's speakers do not explain, written as <mix>.other.wav (0: none, or %d for a model of one speaker without a universal model)", separation.DefaultFree))
	universalWeight := fs.Float64("universal-weight", 0, fmt.Sprintf("weight of the group-sparsity penalty of a universal model's activations, relative to the mixture (default: %g for a universal model of several speakers, %g for one)", separation.DefaultUniversalWeight, separation.DefaultUniversalWeightOne))
	renameFlag(env, fs, "sparsity", "universal-weight")
	arc := bindArchiveFlags(fs)
	live := fs.Bool("live", false, "separate standard input (-) as it arrives (see Live above)")
	raw := fs.String("raw", "", "with --live: standard input is raw PCM, s16le or f32le, not WAV")
	rawRate := fs.Int("rate", 0, "with --raw: the stream's sample rate in Hz")
	rawChannels := fs.Int("channels", 1, "with --raw: the stream's channels, interleaved")
	liveName := fs.String("name", "live", "with --live -o: outputs are OUTDIR/NAME.<source>.wav")
	liveBatch := fs.Int("live-batch", 0, fmt.Sprintf("with --live: frames inferred together (default %d; for a model of patches %d, or %d when its bases hold more than 2 x 128 of 5 x 513 rows, as the default preset's do on every bin; at most %d)", separation.DefaultLiveBatch, separation.DefaultPatchLiveBatch, separation.DefaultLargePatchLiveBatch, separation.MaxLiveBatch))
	freeBuffer := fs.Float64("free-buffer", separation.DefaultOnlineBuffer, "with --live --free: seconds of recent frames the free bases are learned on, at most "+fmt.Sprint(separation.MaxOnlineBuffer))
	freeEvery := fs.Int("free-every", separation.DefaultOnlineEvery, "with --live --free: frames between two updates of the free bases")
	freeUpdates := fs.Int("free-updates", separation.DefaultOnlineUpdates, "with --live --free: multiplicative updates of the free bases each time")
	freeInit := fs.String("free-init", separation.DefaultFreeStart.String(), "with --free: how the free bases start, random (seeded) or quiet (the mixture's quietest frames: in a noisy recording, the noise where the speech pauses); not with --live")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if files, err = arc.files(files, *outDir); err != nil {
		return err
	}
	if *free < 0 {
		return usagef("--free must be 0 or more (it is %d): the number of bases learned on each mixture", *free)
	}
	if *universalWeight < 0 || (*universalWeight == 0 && (flagSet(fs, "universal-weight") || flagSet(fs, "sparsity"))) {
		return usagef("--universal-weight must be positive (leave it out for the default)")
	}
	for _, name := range []string{"free-buffer", "free-every", "free-updates"} {
		if flagSet(fs, name) && !*live {
			return usagef("--%s sets how --live learns free bases: it needs --live", name)
		}
	}
	if flagSet(fs, "live-batch") && (!*live || *liveBatch < 1 || *liveBatch > separation.MaxLiveBatch) {
		return usagef("--live-batch takes 1 to %d frames, with --live", separation.MaxLiveBatch)
	}
	freeStart, err := parseFreeInit(*freeInit)
	if err != nil {
		return err
	}
	if flagSet(fs, "free-init") && *live {
		return usagef("--free-init sets how offline free bases start: --live learns them online from a seeded random start")
	}
	if !(*freeBuffer > 0) || *freeEvery < 1 || *freeUpdates < 1 {
		return usagef("--free-buffer must be positive, --free-every and --free-updates at least 1")
	}
	online := separation.OnlineFree{Buffer: *freeBuffer, Every: *freeEvery, Updates: *freeUpdates}
	if err := online.Check(); err != nil {
		return usagef("--free-buffer: %v", err)
	}
	if *modelPath == "" || (*outDir == "" && *toStdout == "") {
		return usagef("-m model.npz and -o OUTDIR (or --stdout SOURCE) are required")
	}
	if len(files) == 0 && !arc.sharded() {
		return usagef("give at least one mixture WAV or FLAC file (- for standard input)")
	}
	settings := recording.Settings{Format: *formatName}
	if *float {
		if *encName != "" && *encName != "float32" {
			return usagef("--float and --encoding %s disagree", *encName)
		}
		*encName = "float32"
	}
	if *encName != "" {
		if settings.Encoding, err = parseEncoding(*encName); err != nil {
			return usagef("--encoding: %v", err)
		}
	}
	if err := settings.CheckOutputs(); err != nil {
		return usagef("--format %s --encoding %s: %v", *formatName, *encName, err)
	}
	stdinUses := 0
	for _, f := range files {
		if f == recording.Stdin {
			stdinUses++
		}
	}
	if stdinUses > 1 {
		return usagef("- (standard input) can be given once")
	}
	if *toStdout != "" {
		if len(files) != 1 {
			return usagef("--stdout writes one stream: give one input")
		}
		if *asJSON {
			return usagef("--stdout and --json both write to standard output")
		}
	}
	if (flagSet(fs, "iters") && *iters < 1) || *jobs < 1 {
		return usagef("--iters and --jobs must be at least 1")
	}
	if flagSet(fs, "mask-power") {
		if err := separation.CheckMaskPower(*maskPower); err != nil {
			return usagef("--mask-power: %v", err)
		}
	}
	if err := nmf.CheckStepExponent(*stepExponent); err != nil {
		return usagef("--step-exponent: %v", err)
	}
	if flagSet(fs, "free-init") && *free == 0 {
		return usagef("--free-init sets how free bases start: it needs --free K")
	}
	if *live {
		if len(files) != 1 || files[0] != recording.Stdin || arc.sharded() {
			return usagef("--live separates standard input: give - as the only input")
		}
		if *raw != "" && *raw != "s16le" && *raw != "f32le" {
			return usagef("--raw takes s16le or f32le, not %q", *raw)
		}
		if *raw != "" && *rawRate <= 0 {
			return usagef("--raw needs --rate R (and --channels C when not 1)")
		}
		if *raw != "" {
			if err := wav.CheckRaw(*rawRate, *rawChannels); err != nil {
				return usagef("--rate, --channels: %v", err)
			}
		}
	}
	model, err := separation.ReadFile(*modelPath)
	if err != nil {
		return err
	}
	settings.Separation = separation.SeparateSettings{
		NMF:  nmf.Settings{MaxIter: *iters, Tol: *tol, FreeStart: freeStart, StepExponent: *stepExponent},
		Free: *free, UniversalWeight: *universalWeight, MaskPower: *maskPower,
		Online: online, LiveBatch: *liveBatch, Bands: *bands,
		CoarseBands: *coarseBands, CoarseIters: *coarseIters,
	}
	workers := min(*jobs, len(files))
	if workers > 1 {
		// Whole files in parallel: each keeps to one core.
		settings.Separation.NMF.Workers = 1
		defer openblas.HoldSingle()()
	}
	seps, err := recording.New(model, settings)
	if err != nil {
		return fmt.Errorf("%s: %w", *modelPath, err)
	}
	if *free == 0 && seps.Free() > 0 {
		how, out := "learned on each mixture", "<mix>"
		if *live {
			how, out = "learned online", *liveName
		}
		logf(env.stderr, *quiet, "%s has one speaker (%s) and no universal model: separating %[2]s from everything else with %d free bases %s, written as %s.%s.wav",
			*modelPath, model.Speakers[0].Name, seps.Free(), how, out, separation.OtherName)
	}
	if *toStdout != "" && indexOf(seps.Sources(), *toStdout) < 0 {
		return fmt.Errorf("--stdout %s: the model has no such source (it has %s)", *toStdout, strings.Join(seps.Sources(), ", "))
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return err
		}
	}
	if *toStdout != "" {
		// A reader that goes away gives EPIPE on the next write and one
		// line, not a silent death by SIGPIPE.
		signal.Ignore(syscall.SIGPIPE)
	}
	if *live {
		return runLive(ctx, env, seps, liveOptions{
			stdout: *toStdout, outDir: *outDir, name: *liveName, raw: *raw, rate: *rawRate, nc: *rawChannels,
			float: settings.Encoding == wav.Float32, quiet: *quiet,
		})
	}
	if err := seps.Collisions(files); err != nil {
		return usagef("%v", err)
	}
	if *arc.skipExisting {
		files = skipSeparated(env, *quiet, files, *outDir, seps)
	}
	if len(files) == 0 {
		logf(env.stderr, *quiet, "nothing to separate in this share")
		return nil
	}
	out := recording.Outputs{Dir: *outDir}
	if *toStdout != "" {
		out.Stream, out.StreamSource = env.stdout, *toStdout
	}
	workers = min(workers, len(files))
	bar := newProgress(env, *quiet, len(files), "separating")
	var (
		mu     sync.Mutex
		failed int
		mixed  bool // a down-mix was reported
		done   = make([]separateResult, len(files))
	)
	start := time.Now()
	parallel.For(ctx, len(files), workers, func(i int) {
		res, err := seps.SeparateFile(files[i], env.stdin, out)
		mu.Lock()
		defer mu.Unlock()
		r := separateResult{Result: recording.Result{Input: files[i]}}
		if err != nil {
			failed++
			if isBrokenPipe(err) {
				err = errors.New("standard output was closed by its reader")
			}
			fmt.Fprintf(env.stderr, "dlnmf separate: %v (skipped)\n", err)
			r.Error = oneLine(err)
		} else {
			r.Result = *res
			if *toStdout != "" {
				r.Outputs = append(r.Outputs, "standard output ("+*toStdout+")")
			}
			if r.Padded != "" {
				// A warning that a progress bar or --quiet must not hide.
				fmt.Fprintf(env.stderr, "dlnmf separate: warning: %s: %s\n", files[i], r.Padded)
			}
			if r.Channels > 1 && !mixed {
				mixed = true
				logf(env.stderr, *quiet, "%s has %d channels: separated as their mean (a down-mix), as every recording of more than one channel", files[i], r.Channels)
			}
			if !*quiet && bar == nil {
				fmt.Fprintln(env.stderr, r.message())
			} else if r.Clipped > 0 {
				// A warning that a progress bar or --quiet must not hide.
				fmt.Fprintf(env.stderr, "dlnmf separate: warning: %s: %d samples beyond full scale clipped; --encoding float32 keeps them\n", files[i], r.Clipped)
			}
		}
		done[i] = r
		progressAdd(bar, 1)
	})
	progressDone(bar)
	if err := ctx.Err(); err != nil {
		return err
	}
	where := *outDir
	if where == "" {
		where = "standard output"
	}
	logf(env.stderr, *quiet, "separated %d of %d files into %s in %s", len(files)-failed, len(files), where, time.Since(start).Round(time.Millisecond))
	if *asJSON {
		sum := separateSummary{Model: *modelPath, OutDir: *outDir, Files: done, Separated: len(files) - failed, Failed: failed, Seconds: time.Since(start).Seconds()}
		if err := writeJSON(env.stdout, sum); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed", failed, len(files))
	}
	return nil
}

// separateSummary is what separate --json prints.
type separateSummary struct {
	Model     string           `json:"model"`
	OutDir    string           `json:"out_dir"`
	Files     []separateResult `json:"files"` // in the order of the command line
	Separated int              `json:"separated"`
	Failed    int              `json:"failed"`
	Seconds   float64          `json:"seconds"`
}

// separateResult is one input: what the library did with it, or why it
// failed.
type separateResult struct {
	recording.Result
	Error string `json:"error,omitempty"`
}

// message is the line separate prints for a separated file.
func (r *separateResult) message() string {
	names := make([]string, len(r.Outputs))
	for i, o := range r.Outputs {
		names[i] = filepath.Base(o)
	}
	msg := fmt.Sprintf("%s -> %s", r.Input, strings.Join(names, ", "))
	if r.Clipped > 0 {
		msg += fmt.Sprintf(" (%d samples beyond full scale clipped; --encoding float32 keeps them)", r.Clipped)
	}
	return msg
}

// parseEncoding parses --encoding.
func parseEncoding(s string) (wav.Encoding, error) {
	for _, e := range []wav.Encoding{wav.PCM8, wav.PCM16, wav.PCM24, wav.PCM32, wav.Float32, wav.Float64} {
		name := fmt.Sprintf("pcm%d", e.Bits())
		if e == wav.Float32 || e == wav.Float64 {
			name = fmt.Sprintf("float%d", e.Bits())
		}
		if strings.EqualFold(s, name) {
			return e, nil
		}
	}
	return 0, fmt.Errorf("unknown encoding %q (want pcm8, pcm16, pcm24, pcm32, float32 or float64)", s)
}
