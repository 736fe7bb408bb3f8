package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/internal/openblas"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/resample"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

func init() {
	register(&command{
		name:    "separate",
		summary: "separate the speakers of a model in one or more recordings",
		usage: `Usage: dlnmf separate -m model.npz -o OUTDIR MIX.wav [MIX2.flac ...]
       dlnmf separate -m model.npz --stdout SOURCE - < mix.wav > source.wav

Writes OUTDIR/<mix>.<speaker>.wav (or .flac with --format flac) for every
speaker of the model, with the input's length, sample rate and sample
format (16-bit in, 16-bit out; float in, float out) unless --encoding says
otherwise. The estimates of one mixture add up to it. Inputs are WAV or
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
train --universal), written as <mix>.<its name>.wav; given neither, separate
says so and uses --free 20.

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

// defaultFree is the number of free bases for a one-speaker model given
// no --free: the probe found K = 10-20 best for noise.
const defaultFree = 20

func runSeparate(ctx context.Context, cmd *command, env *environment, args []string) error {
	fs := newFlagSet(env, cmd)
	modelPath := fs.String("m", "", "model file written by dlnmf train (required)")
	outDir := fs.String("o", "", "output folder, created if missing (required)")
	iters := fs.Int("iters", nmf.DefaultMaxIter, fmt.Sprintf("inference iterations (with --free: %d, with --live: 50 unless given, see Live above)", separation.DefaultFreeIters))
	tol := fs.Float64("tol", nmf.DefaultTol, "stop inferring a block early when its cost falls by less than this fraction (negative: always --iters)")
	jobs := fs.Int("jobs", runtime.GOMAXPROCS(0), "files separated at once")
	float := fs.Bool("float", false, "the same as --encoding float32")
	encName := fs.String("encoding", "", "sample format of the outputs: pcm8, pcm16, pcm24, pcm32, float32 or float64 (default: the input's)")
	formatName := fs.String("format", "wav", "container of the outputs: wav or flac")
	toStdout := fs.String("stdout", "", "write this source's estimate (a speaker, or other with --free) to standard output (one input only)")
	maskPower := fs.Float64("mask-power", 0, "exponent P of the Wiener gains |V_s|^P / sum |V_j|^P (default: the model's)")
	quiet := fs.Bool("quiet", false, "print nothing but errors")
	asJSON := fs.Bool("json", false, "print a JSON summary on stdout: every input with its outputs or its error")
	free := fs.Int("free", 0, "learn this many more bases on each mixture for what the model's speakers do not explain (written as <mix>.other.wav)")
	sparsity := fs.Float64("sparsity", 0, fmt.Sprintf("weight of the group penalty of a universal model's activations, relative to the mixture (default: %g for a universal model of several speakers, %g for one)", separation.DefaultSparsity, separation.DefaultSparsityOne))
	arc := bindArchiveFlags(fs)
	live := fs.Bool("live", false, "separate standard input (-) as it arrives (see Live above)")
	raw := fs.String("raw", "", "with --live: standard input is raw PCM, s16le or f32le, not WAV")
	rawRate := fs.Int("rate", 0, "with --raw: the stream's sample rate in Hz")
	rawChannels := fs.Int("channels", 1, "with --raw: the stream's channels, interleaved")
	liveName := fs.String("name", "live", "with --live -o: outputs are OUTDIR/NAME.<source>.wav")
	freeBuffer := fs.Float64("free-buffer", separation.DefaultOnlineBuffer, "with --live --free: seconds of recent frames the free bases are learned on")
	freeEvery := fs.Int("free-every", separation.DefaultOnlineEvery, "with --live --free: frames between two updates of the free bases")
	freeUpdates := fs.Int("free-updates", separation.DefaultOnlineUpdates, "with --live --free: multiplicative updates of the free bases each time")
	freeInit := fs.String("free-init", freeStartNames[separation.DefaultFreeStart], "with --free: how the free bases start, random (seeded) or quiet (the mixture's quietest frames: in a noisy recording, the noise where the speech pauses); not with --live")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if files, err = arc.files(files, *outDir); err != nil {
		return err
	}
	freeSet := false
	fs.Visit(func(f *flag.Flag) { freeSet = freeSet || f.Name == "free" })
	if freeSet && *free < 1 {
		return usagef("--free must be at least 1 (it is %d): the number of bases learned on each mixture", *free)
	}
	if *sparsity < 0 || (*sparsity == 0 && flagSet(fs, "sparsity")) {
		return usagef("--sparsity must be positive (leave it out for the default)")
	}
	for _, name := range []string{"free-buffer", "free-every", "free-updates"} {
		if flagSet(fs, name) && !*live {
			return usagef("--%s sets how --live learns free bases: it needs --live", name)
		}
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
	if *modelPath == "" || (*outDir == "" && *toStdout == "") {
		return usagef("-m model.npz and -o OUTDIR (or --stdout SOURCE) are required")
	}
	if len(files) == 0 && !arc.sharded() {
		return usagef("give at least one mixture WAV or FLAC file (- for standard input)")
	}
	out := outputOptions{dir: *outDir}
	if out.format, err = wav.ParseFormat(*formatName); err != nil {
		return usagef("--format: %v", err)
	}
	if *float {
		if *encName != "" && *encName != "float32" {
			return usagef("--float and --encoding %s disagree", *encName)
		}
		*encName = "float32"
	}
	if *encName != "" {
		if out.enc, err = parseEncoding(*encName); err != nil {
			return usagef("--encoding: %v", err)
		}
		if out.format == wav.FLAC && (out.enc == wav.Float32 || out.enc == wav.Float64 || out.enc == wav.PCM32) {
			return usagef("--format flac holds 8, 16 or 24-bit PCM, not %v", out.enc)
		}
	}
	stdinUses := 0
	for _, f := range files {
		if f == "-" {
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
		out.stdout, out.stdoutName = env.stdout, *toStdout
	}
	if *iters < 1 || *jobs < 1 {
		return usagef("--iters and --jobs must be at least 1")
	}
	if flagSet(fs, "mask-power") {
		if err := separation.CheckMaskPower(*maskPower); err != nil {
			return usagef("--mask-power: %v", err)
		}
	}
	model, err := separation.ReadFile(*modelPath)
	if err != nil {
		return err
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return err
		}
	}
	workers := min(*jobs, len(files))
	if *live && !flagSet(fs, "iters") {
		*iters = liveIters
	}
	ns := nmf.Settings{MaxIter: *iters, Tol: *tol, FreeStart: freeStart}
	if workers > 1 {
		// Whole files in parallel: each keeps to one core.
		ns.Workers = 1
		defer openblas.HoldSingle()()
	}
	if len(model.Speakers) == 1 && model.Universal == nil && !freeSet {
		*free = defaultFree
		how, out := "learned on each mixture", "<mix>"
		if *live {
			how, out = "learned online", *liveName
		}
		logf(env.stderr, *quiet, "%s has one speaker (%s) and no universal model: separating %[2]s from everything else with --free %d bases %s, written as %s.%s.wav",
			*modelPath, model.Speakers[0].Name, *free, how, out, separation.OtherName)
	}
	if !*live && !flagSet(fs, "iters") {
		ns.MaxIter = 0 // the library's default: nmf.DefaultMaxIter, or DefaultFreeIters with free bases
	}
	if flagSet(fs, "free-init") && *free == 0 {
		return usagef("--free-init sets how free bases start: it needs --free K")
	}
	seps := &separators{model: model, settings: separation.SeparateSettings{NMF: ns, Free: *free, Sparsity: *sparsity, MaskPower: *maskPower,
		Online: separation.OnlineFree{Buffer: *freeBuffer, Every: *freeEvery, Updates: *freeUpdates}}, byRate: map[int]*separation.Separator{}}
	sep, err := seps.at(model.SampleRate)
	if err != nil {
		return fmt.Errorf("%s: %w", *modelPath, err)
	}
	if *toStdout != "" {
		out.stdoutSpeaker = -1
		for i, name := range sep.Sources() {
			if name == *toStdout {
				out.stdoutSpeaker = i
			}
		}
		if out.stdoutSpeaker < 0 {
			return fmt.Errorf("--stdout %s: the model has no such source (it has %s)", *toStdout, strings.Join(sep.Sources(), ", "))
		}
	}
	if *live {
		if len(files) != 1 || files[0] != "-" || arc.sharded() {
			return usagef("--live separates standard input: give - as the only input")
		}
		if *raw != "" && *raw != "s16le" && *raw != "f32le" {
			return usagef("--raw takes s16le or f32le, not %q", *raw)
		}
		if *raw != "" && *rawRate <= 0 {
			return usagef("--raw needs --rate R (and --channels C when not 1)")
		}
		return runLive(ctx, env, seps, liveOptions{
			stdout: *toStdout, outDir: *outDir, name: *liveName, raw: *raw, rate: *rawRate, nc: *rawChannels,
			float: out.enc == wav.Float32, quiet: *quiet,
		})
	}
	if *arc.skipExisting {
		files = skipSeparated(env, *quiet, files, *outDir, out.format.Ext(), sep.Sources())
	}
	if len(files) == 0 {
		logf(env.stderr, *quiet, "nothing to separate in this share")
		return nil
	}
	workers = min(workers, len(files))
	bar := newProgress(env, *quiet, len(files), "separating")
	var (
		mu     sync.Mutex
		failed int
		done   = make([]separateResult, len(files))
	)
	start := time.Now()
	forEach(ctx, len(files), workers, func(i int) {
		r, err := separateFile(seps, env, files[i], out)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed++
			fmt.Fprintf(env.stderr, "dlnmf separate: %v (skipped)\n", err)
			r = &separateResult{Input: files[i], Error: oneLine(err)}
		} else {
			if r.padded != "" {
				// A warning that a progress bar or --quiet must not hide.
				fmt.Fprintf(env.stderr, "dlnmf separate: warning: %s: %s\n", files[i], r.padded)
			}
			if !*quiet && bar == nil {
				fmt.Fprintln(env.stderr, r.message())
			} else if r.Clipped > 0 {
				// A warning that a progress bar or --quiet must not hide.
				fmt.Fprintf(env.stderr, "dlnmf separate: warning: %s: %d samples beyond full scale clipped; --encoding float32 keeps them\n", files[i], r.Clipped)
			}
		}
		done[i] = *r
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

// separateResult is one input: its outputs (one per speaker of the model,
// in the model's order) or why it failed.
type separateResult struct {
	Input   string   `json:"input"`
	Outputs []string `json:"outputs,omitempty"`
	Clipped int      `json:"clipped_samples"` // PCM outputs only
	Error   string   `json:"error,omitempty"`
	// padded, when set, says that the recording has fewer frames than
	// the model's patch width (a warning on stderr).
	padded string
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

// outputOptions say where and how separate writes the estimates.
type outputOptions struct {
	dir           string       // folder of the output files, "" for none
	enc           wav.Encoding // 0: the input's
	format        wav.Format
	stdout        io.Writer // nil, or where stdoutSpeaker's estimate goes
	stdoutName    string
	stdoutSpeaker int
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

// separators holds one Separator per sample rate met: full band above the
// model's rate, the model's own below and at it.
type separators struct {
	model    *separation.Model
	settings separation.SeparateSettings
	mu       sync.Mutex
	byRate   map[int]*separation.Separator
}

// at returns the separator for mixtures at rate; below the model's rate it
// is the model's own (the mixture is resampled up), and below half of it an
// error.
func (s *separators) at(rate int) (*separation.Separator, error) {
	mr := s.model.SampleRate
	if 2*rate < mr {
		return nil, fmt.Errorf("the recording is at %d Hz, below half the model's %d Hz: it holds nothing above %.1f kHz of the model's %.1f kHz band; train a model at its rate (dlnmf train --rate %d)",
			rate, mr, float64(rate)/2000, float64(mr)/2000, rate)
	}
	rate = max(rate, mr)
	s.mu.Lock()
	defer s.mu.Unlock()
	if sep := s.byRate[rate]; sep != nil {
		return sep, nil
	}
	st := s.settings
	st.Rate = rate
	sep, err := separation.NewSeparator(s.model, st)
	if err != nil {
		return nil, err
	}
	s.byRate[rate] = sep
	return sep, nil
}

// separateFile separates one recording and writes one file per speaker. It
// streams: the file is decoded, separated (resampled to the model's rate and
// back when below it) and encoded block by block, so memory does not grow
// with its length. The output files appear only when all of them are
// complete; on any error none is left behind. A stream to standard output
// cannot be taken back: on an error it stops short of the length its
// header announced, which readers report as truncated.
func separateFile(seps *separators, env *environment, path string, opt outputOptions) (res *separateResult, err error) {
	var in *wav.Reader
	if path == "-" {
		if env.stdin == nil {
			return nil, errors.New("-: no standard input")
		}
		in, err = wav.NewReader(env.stdin)
		if err != nil {
			return nil, fmt.Errorf("standard input: %w", err)
		}
	} else if in, err = wav.Open(path); err != nil {
		return nil, err
	}
	defer in.Close()
	model := seps.model
	rate, n := in.Rate(), in.Frames()
	sep, err := seps.at(rate)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var down, up *resample.Resampler // nil: separated at the file's rate
	if rate != sep.Rate() {
		if down, err = resample.New(rate, model.SampleRate); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if up, err = resample.New(model.SampleRate, rate); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	enc := opt.enc
	if enc == 0 {
		enc = in.Encoding()
		if opt.format == wav.FLAC && (enc == wav.Float32 || enc == wav.Float64 || enc == wav.PCM32) {
			enc = wav.PCM24
		}
	}

	// The source: decoded samples, resampled to the model's rate if needed.
	m := n
	var toModel *resample.Stream
	if down != nil {
		m = down.OutputLen(n)
		toModel = down.NewStream()
	}
	var padded string
	if frames, short := sep.ShortForContext(m); short {
		padded = fmt.Sprintf("%d frames, fewer than the model's patch width of %d (--context): padded by repeating its edge frames", frames, model.Context)
	}
	raw := make([]float64, 1<<15)
	var pending []float64 // samples at the separator's rate not yet pulled
	eof := false
	src := func(dst []float64) (int, error) {
		for len(pending) == 0 && !eof {
			k, err := in.Read(raw)
			switch {
			case err == io.EOF:
				eof = true
				if toModel != nil {
					pending = toModel.Finish(pending[:0])
				}
			case err != nil:
				return 0, err // names the file
			case toModel != nil:
				pending = toModel.Append(pending[:0], raw[:k])
			default:
				pending = raw[:k]
			}
		}
		if len(pending) == 0 {
			return 0, io.EOF
		}
		k := copy(dst, pending)
		pending = pending[k:]
		return k, nil
	}

	// The sinks: each source's estimate, resampled back if needed, cut to
	// the input's length, into its own atomic output file and/or standard
	// output.
	base := "stdin"
	if path != "-" {
		base = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	sources := sep.Sources()
	outs := make([]*wav.Writer, len(sources))
	var names []string
	back := make([]*resample.Stream, len(outs))
	written := make([]int, len(outs))
	var stream *wav.Writer
	defer func() {
		if err != nil {
			for _, w := range outs {
				if w != nil {
					w.Abort()
				}
			}
		}
	}()
	for i := range outs {
		if opt.dir != "" {
			name, err := atomicfile.Inside(opt.dir, base+"."+sources[i]+opt.format.Ext())
			if err != nil {
				return nil, err
			}
			if outs[i], err = wav.CreateFormat(name, opt.format, rate, enc, n); err != nil {
				return nil, err
			}
			names = append(names, name)
		}
		if up != nil {
			back[i] = up.NewStream()
		}
	}
	if opt.stdout != nil {
		if stream, err = wav.NewFormatWriter(opt.stdout, opt.format, rate, enc, n); err != nil {
			return nil, fmt.Errorf("standard output: %w", err)
		}
	}
	var buf []float64
	// write cuts y at the input's length: resampling there and back may
	// give a sample or two more.
	write := func(i int, y []float64) error {
		y = y[:min(len(y), n-written[i])]
		written[i] += len(y)
		if stream != nil && i == opt.stdoutSpeaker {
			if err := stream.Write(y); err != nil {
				return err
			}
		}
		if outs[i] == nil {
			return nil
		}
		return outs[i].Write(y)
	}
	sink := func(i int, y []float64) error {
		if back[i] != nil {
			buf = back[i].Append(buf[:0], y)
			y = buf
		}
		return write(i, y)
	}
	if err = sep.SeparateStream(src, m, sink); err != nil {
		if !strings.HasPrefix(err.Error(), path) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return nil, err
	}
	clipped := 0
	for i := range outs {
		if back[i] != nil {
			if err = write(i, back[i].Finish(buf[:0])); err != nil {
				return nil, err
			}
		}
		if err = write(i, make([]float64, n-written[i])); err != nil {
			return nil, err
		}
		if outs[i] != nil {
			clipped += outs[i].Clipped()
		}
	}
	if stream != nil {
		if outs[opt.stdoutSpeaker] == nil {
			clipped += stream.Clipped()
		}
		if err = stream.Close(); err != nil {
			return nil, fmt.Errorf("standard output: %w", err)
		}
		names = append(names, "standard output ("+opt.stdoutName+")")
	}
	// Commit all outputs together; if one fails, remove those already in
	// place, so a mixture never gets part of its outputs.
	for i, w := range outs {
		if w == nil {
			continue
		}
		if err = w.Close(); err != nil {
			for _, name := range names[:i] {
				os.Remove(name)
			}
			return nil, err
		}
	}
	return &separateResult{Input: path, Outputs: names, Clipped: clipped, padded: padded}, nil
}
