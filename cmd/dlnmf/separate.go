package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/internal/openblas"
	"github.com/dlnmf/dlnmf/nmf"
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

Examples:
  dlnmf separate -m dlnmf.npz -o separated mix1.wav mix2.wav
  dlnmf separate -m dlnmf.npz -o out --float --iters 100 recordings/*.wav`,
		run: runSeparate,
	})
}

func runSeparate(ctx context.Context, env *environment, args []string) error {
	c := commands["separate"]
	fs := newFlagSet(env, c)
	modelPath := fs.String("m", "", "model file written by dlnmf train")
	outDir := fs.String("o", "", "output folder (created if missing)")
	iters := fs.Int("iters", separation.DefaultIterations, "inference iterations")
	jobs := fs.Int("jobs", runtime.GOMAXPROCS(0), "files separated at once")
	float := fs.Bool("float", false, "write 32-bit float WAV instead of 16-bit PCM")
	quiet := fs.Bool("quiet", false, "print nothing but errors")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || *outDir == "" {
		return usagef("-m model.npz and -o OUTDIR are required")
	}
	if fs.NArg() == 0 {
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
	files := fs.Args()
	workers := min(*jobs, len(files))
	ns := nmf.Settings{MaxIter: *iters}
	if workers > 1 {
		// Whole files in parallel: each keeps to one core.
		ns.Workers = 1
		openblas.SetThreads(1)
	}
	sep, err := separation.NewSeparator(model, separation.SeparateSettings{NMF: ns})
	if err != nil {
		return fmt.Errorf("%s: %w", *modelPath, err)
	}
	enc := wav.PCM16
	if *float {
		enc = wav.Float32
	}
	bar := newProgress(env, *quiet, len(files), "separating")
	var (
		mu     sync.Mutex
		failed int
		wg     sync.WaitGroup
		next   = make(chan string)
	)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for path := range next {
				msg, err := separateFile(sep, path, *outDir, enc)
				mu.Lock()
				if err != nil {
					failed++
					fmt.Fprintf(env.stderr, "dlnmf separate: %v (skipped)\n", err)
				} else if !*quiet && bar == nil {
					fmt.Fprintln(env.stderr, msg)
				}
				progressAdd(bar, 1)
				mu.Unlock()
			}
		}()
	}
feed:
	for _, f := range files {
		select {
		case next <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	progressDone(bar)
	if err := ctx.Err(); err != nil {
		return err
	}
	logf(env.stderr, *quiet, "separated %d of %d files into %s in %s", len(files)-failed, len(files), *outDir, time.Since(start).Round(time.Millisecond))
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed", failed, len(files))
	}
	return nil
}

// separateFile separates one recording and writes one file per speaker.
func separateFile(sep *separation.Separator, path, outDir string, enc wav.Encoding) (string, error) {
	a, err := wav.ReadFile(path)
	if err != nil {
		return "", err
	}
	model := sep.Model()
	x, err := corpus.ToRate(a.Mono(), a.Rate, model.SampleRate)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	est, err := sep.Separate(x)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	clipped := 0
	var outs []string
	for i, e := range est {
		y, err := corpus.ToRate(e, model.SampleRate, a.Rate)
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		y = fitLength(y, a.Len())
		out := filepath.Join(outDir, base+"."+model.Speakers[i].Name+".wav")
		n, err := wav.WriteFile(out, y, a.Rate, enc)
		if err != nil {
			return "", err
		}
		clipped += n
		outs = append(outs, filepath.Base(out))
	}
	msg := fmt.Sprintf("%s -> %s", path, strings.Join(outs, ", "))
	if clipped > 0 {
		msg += fmt.Sprintf(" (%d samples clipped; use --float to keep them)", clipped)
	}
	return msg, nil
}

// fitLength cuts or zero-pads y to n samples (resampling may round the
// length by a sample).
func fitLength(y []float64, n int) []float64 {
	if len(y) >= n {
		return y[:n]
	}
	return append(y, make([]float64, n-len(y))...)
}
