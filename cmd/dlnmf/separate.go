package main

import (
	"context"
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
		usage: `Usage: dlnmf separate -m model.npz -o OUTDIR MIX.wav [MIX2.wav ...]

Writes OUTDIR/<mix>.<speaker>.wav for every speaker of the model: the same
length and sample rate as the input (resampled to the model's rate for the
separation and back). The estimates of one mixture add up to it. Many files
run in parallel on all cores; a file that fails is reported and skipped, the
others are still done, and the exit code is 1 at the end if any failed.

Sources without a model: --free K learns K more bases on each mixture (each
30 s block of a long one) beside the model's fixed ones, for whatever its
speakers do not explain (noise, music, another voice), written as
OUTDIR/<mix>.other.wav. A model with one speaker (speech enhancement) needs
another source: --free K, or a universal speech model trained into it (dlnmf
train --universal), written as <mix>.<its name>.wav; given neither, separate
says so and uses --free 20.

An archive: --list FILE names the recordings, one a line (relative to the
list's folder); --shard I/N (or auto, from the scheduler, as for
"dlnmf experiment") separates only the files i with i mod N = I, and
--skip-existing skips a recording whose outputs are all there, so a
requeued task does only what is left.

Examples:
  dlnmf separate -m dlnmf.npz -o separated mix1.wav mix2.wav
  dlnmf separate -m dlnmf.npz -o /shared/out --list archive.txt --shard auto --skip-existing
  dlnmf separate -m dlnmf.npz -o out --float --iters 100 recordings/*.wav
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
	iters := fs.Int("iters", nmf.DefaultMaxIter, "inference iterations")
	jobs := fs.Int("jobs", runtime.GOMAXPROCS(0), "files separated at once")
	float := fs.Bool("float", false, "write 32-bit float WAV instead of 16-bit PCM")
	quiet := fs.Bool("quiet", false, "print nothing but errors")
	asJSON := fs.Bool("json", false, "print a JSON summary on stdout: every input with its outputs or its error")
	free := fs.Int("free", 0, "learn this many more bases on each mixture for what the model's speakers do not explain (written as <mix>.other.wav)")
	sparsity := fs.Float64("sparsity", separation.DefaultSparsity, "weight of the group penalty of a universal model's activations, relative to the mixture")
	arc := bindArchiveFlags(fs)
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
	if *sparsity < 0 {
		return usagef("--sparsity must not be negative")
	}
	if *modelPath == "" || *outDir == "" {
		return usagef("-m model.npz and -o OUTDIR are required")
	}
	if len(files) == 0 && !arc.sharded() {
		return usagef("give at least one mixture WAV file")
	}
	if *iters < 1 || *jobs < 1 {
		return usagef("--iters and --jobs must be at least 1")
	}
	model, err := separation.ReadFile(*modelPath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	workers := min(*jobs, len(files))
	ns := nmf.Settings{MaxIter: *iters}
	if workers > 1 {
		// Whole files in parallel: each keeps to one core.
		ns.Workers = 1
		defer openblas.HoldSingle()()
	}
	if len(model.Speakers) == 1 && model.Universal == nil && !freeSet {
		*free = defaultFree
		logf(env.stderr, *quiet, "%s has one speaker (%s) and no universal model: separating %[2]s from everything else with --free %d bases learned on each mixture, written as <mix>.%s.wav",
			*modelPath, model.Speakers[0].Name, *free, separation.OtherName)
	}
	sep, err := separation.NewSeparator(model, separation.SeparateSettings{NMF: ns, Free: *free, Sparsity: *sparsity})
	if err != nil {
		return fmt.Errorf("%s: %w", *modelPath, err)
	}
	enc := wav.PCM16
	if *float {
		enc = wav.Float32
	}
	if *arc.skipExisting {
		files = skipSeparated(env, *quiet, files, *outDir, sep.Sources())
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
		r, err := separateFile(sep, files[i], *outDir, enc)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed++
			fmt.Fprintf(env.stderr, "dlnmf separate: %v (skipped)\n", err)
			r = &separateResult{Input: files[i], Error: oneLine(err)}
		} else if !*quiet && bar == nil {
			fmt.Fprintln(env.stderr, r.message())
		}
		done[i] = *r
		progressAdd(bar, 1)
	})
	progressDone(bar)
	if err := ctx.Err(); err != nil {
		return err
	}
	logf(env.stderr, *quiet, "separated %d of %d files into %s in %s", len(files)-failed, len(files), *outDir, time.Since(start).Round(time.Millisecond))
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
	Clipped int      `json:"clipped_samples"` // 16-bit output only
	Error   string   `json:"error,omitempty"`
}

// message is the line separate prints for a separated file.
func (r *separateResult) message() string {
	names := make([]string, len(r.Outputs))
	for i, o := range r.Outputs {
		names[i] = filepath.Base(o)
	}
	msg := fmt.Sprintf("%s -> %s", r.Input, strings.Join(names, ", "))
	if r.Clipped > 0 {
		msg += fmt.Sprintf(" (%d samples clipped; use --float to keep them)", r.Clipped)
	}
	return msg
}

// separateFile separates one recording and writes one file per speaker. It
// streams: the file is decoded, resampled, separated, resampled back and
// encoded block by block, so memory does not grow with its length. The
// outputs appear only when all of them are complete; on any error none is
// left behind.
func separateFile(sep *separation.Separator, path, outDir string, enc wav.Encoding) (res *separateResult, err error) {
	in, err := wav.Open(path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	model := sep.Model()
	rate, n := in.Rate(), in.Frames()
	var down, up *resample.Resampler // nil: the file is at the model's rate
	if rate != model.SampleRate {
		if down, err = resample.New(rate, model.SampleRate); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if up, err = resample.New(model.SampleRate, rate); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}

	// The source: decoded samples, resampled to the model's rate.
	m := n
	var toModel *resample.Stream
	if down != nil {
		m = down.OutputLen(n)
		toModel = down.NewStream()
	}
	raw := make([]float64, 1<<15)
	var pending []float64 // samples at the model's rate not yet pulled
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

	// The sinks: each speaker's estimate, resampled back, cut to the
	// input's length, into its own atomic output file.
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	sources := sep.Sources()
	outs := make([]*wav.Writer, len(sources))
	names := make([]string, len(outs))
	back := make([]*resample.Stream, len(outs))
	written := make([]int, len(outs))
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
		if names[i], err = atomicfile.Inside(outDir, base+"."+sources[i]+".wav"); err != nil {
			return nil, err
		}
		if outs[i], err = wav.Create(names[i], rate, enc, n); err != nil {
			return nil, err
		}
		if up != nil {
			back[i] = up.NewStream()
		}
	}
	var buf []float64
	// write cuts y at the input's length: resampling there and back may
	// give a sample or two more.
	write := func(i int, y []float64) error {
		y = y[:min(len(y), n-written[i])]
		written[i] += len(y)
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
	for i, w := range outs {
		if back[i] != nil {
			if err = write(i, back[i].Finish(buf[:0])); err != nil {
				return nil, err
			}
		}
		if err = w.Write(make([]float64, n-written[i])); err != nil {
			return nil, err
		}
		clipped += w.Clipped()
	}
	// Commit all outputs together; if one fails, remove those already in
	// place, so a mixture never gets part of its outputs.
	for i, w := range outs {
		if err = w.Close(); err != nil {
			for _, name := range names[:i] {
				os.Remove(name)
			}
			return nil, err
		}
	}
	return &separateResult{Input: path, Outputs: names, Clipped: clipped}, nil
}
