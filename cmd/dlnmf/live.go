package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// liveUsage is the part of separate -h about --live.
const liveUsage = `Live: --live separates a stream as it arrives, from standard input ("-"):
a WAV stream of unknown length (as "sox -d -t wav -" or "arecord -f S16_LE
-t wav" write it) or raw PCM (--raw s16le|f32le --rate R --channels C). A
stream above the model's rate is separated full band, as a file at that
rate (the band above the model's shared by the gains of its top quarter,
smoothed over 5 frames), with estimates at the stream's rate that add up
to it; a stream below is resampled to the model's rate. Every source goes
to OUTDIR/<--name>.<source>.wav (written as they grow, headers completed
when the stream ends or on Ctrl-C), or one source to standard output as a
WAV stream (--stdout NAME). Latency: one window of the model minus one
sample (64 ms for the paper's 16 kHz models, 1024-sample window); full band,
two hops more for the smoothing (96 ms); resampled, plus the resampler's
half filter; a model of T-frame patches (the default preset's, T = 5),
T-1 hops more, as each frame waits for the patches around it; plus
--live-batch - 1 hops; plus compute. The exact figure is printed when the
stream starts.
Batches: --live-batch B infers B frames at a time (in batches that start
at multiples of B, so the bits do not depend on how the stream arrives),
which reads the model's bases once per batch rather than once per frame:
more streams per core at B-1 hops more latency. Default 1; 4 for a model
of patches, whose large bases make one frame at a time too slow for one
core; 8 when its bases hold more than 2 x 128 of 5 x 513 rows, as the
default preset's 2 x 400 do on every bin (--bands -1), which do not keep
up at 4; on the 128 bands such a model infers on by default, 4
(docs/RESULTS.md, "Live separation", "A larger dictionary" and "Inference
on bands"); at most 64.
Iterations: exactly 50 per frame unless --iters says otherwise (on TSP
test mixtures 50 score the SDR of 200 at well over twice the throughput:
docs/RESULTS.md, "Live separation").
With --free K the K free bases are learned online (Duan, Mysore and
Smaragdis 2012) from a buffer of the last --free-buffer seconds of frames
(default 2 s), every --free-every frames (default 4: 64 ms with a 16 ms hop) by
--free-updates multiplicative updates (default 5) of the free bases and the
buffer's activations, the model's bases fixed; each new frame is inferred
with the free bases as they are. The learning uses past frames only: the
latency is the same. The extra source is <--name>.other.wav (--stdout
other); the estimates add up to the mixture. The free bases start from a
fixed seed: the same stream gives the same bits, however it is cut.
  sox -d -t wav - | dlnmf separate --live -m m.npz --stdout alice - | play -t wav -
  arecord -f S16_LE -r 16000 -t wav | dlnmf separate --live -m m.npz -o live -
  arecord -f S16_LE -r 16000 -t wav | dlnmf separate --live -m fa.npz --free 20 --stdout FA - | play -t wav -`

// liveOptions are separate's flags for --live.
type liveOptions struct {
	stdout   string // the source written to standard output, or ""
	outDir   string
	name     string // output file prefix
	raw      string // "", "s16le" or "f32le"
	rate, nc int    // of a raw stream
	float    bool
	quiet    bool
}

// runLive separates the stream on env.stdin with seps until it ends or ctx
// is cancelled; either way every output is completed.
func runLive(ctx context.Context, env *environment, seps *recording.Separator, o liveOptions) (err error) {
	var in *wav.StreamReader
	switch o.raw {
	case "":
		in, err = wav.NewStreamReader(env.stdin)
	case "s16le":
		in, err = wav.NewRawReader(env.stdin, wav.PCM16, o.rate, o.nc)
	case "f32le":
		in, err = wav.NewRawReader(env.stdin, wav.Float32, o.rate, o.nc)
	default:
		return usagef("--raw takes s16le or f32le, not %q", o.raw)
	}
	if err != nil {
		return fmt.Errorf("standard input: %w", err)
	}
	live, err := seps.NewLive(in.Rate())
	if err != nil {
		return fmt.Errorf("standard input: %w", err)
	}
	rate := live.Rate()
	logf(env.stderr, o.quiet, "live: %d Hz, %d channel(s) in; estimates at %d Hz; latency %.1f ms (%d samples: %s) plus compute",
		in.Rate(), in.Channels(), rate, live.Latency().Seconds()*1000, live.LatencySamples(), live.LatencyNote())

	// The outputs: one WAV stream per source, or the chosen one on stdout.
	sources := seps.Sources()
	enc := wav.PCM16
	if o.float {
		enc = wav.Float32
	}
	outs := make([]*wav.StreamWriter, len(sources))
	var files []*os.File
	defer func() {
		// Complete every output whatever happened: headers with their true
		// sizes, so what was written so far stays a valid file.
		for i, w := range outs {
			if w == nil {
				continue
			}
			if cerr := w.Close(); cerr != nil && err == nil && !isBrokenPipe(cerr) {
				err = cerr
			}
			if c := w.Clipped(); c > 0 {
				logf(env.stderr, o.quiet, "live: %s: %d samples clipped (use --float to keep them)", sources[i], c)
			}
		}
		for _, f := range files {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}()
	if o.stdout != "" {
		i := indexOf(sources, o.stdout)
		if i < 0 {
			return usagef("--stdout %s: the model's sources are %v", o.stdout, sources)
		}
		if outs[i], err = wav.NewStreamWriter(env.stdout, rate, enc); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(o.outDir, 0o755); err != nil {
			return err
		}
		for i, s := range sources {
			// Written in place, not through a temporary file: a live
			// output is read while it grows.
			path, err := atomicfile.Inside(o.outDir, o.name+"."+s+".wav")
			if err != nil {
				return err
			}
			f, err := atomicfile.CreateInPlace(path)
			if err != nil {
				return err
			}
			files = append(files, f)
			if outs[i], err = wav.NewStreamWriter(f, rate, enc); err != nil {
				return err
			}
		}
	}
	sink := func(s int, y []float64) error {
		if outs[s] == nil {
			return nil
		}
		if err := outs[s].Write(y); err != nil {
			if isBrokenPipe(err) {
				return errors.New("standard output was closed by its reader")
			}
			return err
		}
		return nil
	}

	// Reading blocks (a stall on input waits in the kernel, without
	// spinning), so it runs apart and Ctrl-C still ends the stream.
	type chunk struct {
		x   []float64
		err error
	}
	chunks := make(chan chunk)
	go func() {
		buf := make([]float64, 4096)
		for {
			n, err := in.Read(buf)
			x := append([]float64(nil), buf[:n]...)
			select {
			case chunks <- chunk{x, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	finish := func() error { return live.Finish(sink) }
	for {
		select {
		case <-ctx.Done():
			// Interrupted: what arrived is separated and written, the
			// outputs completed (the deferred Close), exit 130.
			if err := finish(); err != nil && !errors.Is(err, separation.ErrSilent) {
				return err
			}
			return ctx.Err()
		case c := <-chunks:
			if err := live.Push(c.x, sink); err != nil {
				return err
			}
			switch {
			case c.err == io.EOF:
				if err := finish(); err != nil {
					return fmt.Errorf("standard input: %w", err)
				}
				logf(env.stderr, o.quiet, "live: the stream ended; %s", describeOutputs(o, sources, outs))
				return nil
			case c.err != nil:
				return fmt.Errorf("standard input: %w (what was separated before is written)", c.err)
			}
		}
	}
}

// describeOutputs names what was written, for the closing line.
func describeOutputs(o liveOptions, sources []string, outs []*wav.StreamWriter) string {
	for i, w := range outs {
		if w != nil {
			if o.stdout != "" {
				return fmt.Sprintf("%d samples of %s to standard output", w.Samples(), sources[i])
			}
			return fmt.Sprintf("%d samples per source in %s", w.Samples(), filepath.Join(o.outDir, o.name+".*.wav"))
		}
	}
	return "nothing written"
}

func isBrokenPipe(err error) bool { return errors.Is(err, syscall.EPIPE) }

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
