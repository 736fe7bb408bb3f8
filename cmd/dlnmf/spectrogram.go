package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/report"
	"github.com/dlnmf/dlnmf/wav"
)

func init() {
	register(&command{
		name:    "spectrogram",
		summary: "draw the log-magnitude spectrogram of a WAV or FLAC file as a PNG picture",
		usage: `Usage: dlnmf spectrogram IN.wav -o OUT.png [--title TITLE] [--quiet]

Draws the log-magnitude spectrogram of IN.wav or IN.flac (down-mixed to
mono) as a PNG picture: time in seconds across, frequency in kHz up to half
the sample rate, level in dBFS as colour (0 dBFS is the peak of a
full-scale sine), 80 dB of range below the loudest part, with a colour
scale. --range LO,HI sets the scale's levels instead (--range -100,-20):
pictures drawn with one --range share a colour scale, so that a separated
source compares with its mixture by colour. The STFT is the
one separation uses: 1024-point periodic Hann window, hop 256. OUT.png is
written atomically: it appears complete or not at all.

Examples:
  dlnmf spectrogram mixture.wav -o mixture.png
  dlnmf spectrogram out/mixture.FA.wav -o fa.png --range -100,-20
  dlnmf spectrogram ../shared/corpus/tsp/FA/FA01_01.wav -o fa.png --title "TSP FA01_01"`,
		run: runSpectrogram,
	})
}

func runSpectrogram(ctx context.Context, cmd *command, env *environment, args []string) error {
	fs := newFlagSet(env, cmd)
	out := fs.String("o", "", "the PNG file to write (required)")
	title := fs.String("title", "", "the picture's title (default: the input file's name)")
	quiet := fs.Bool("quiet", false, "print nothing on success")
	levelRange := fs.String("range", "", "LO,HI: the colour scale's levels in dBFS, the same for every picture drawn with it (default: 80 dB below the loudest part)")
	inputs, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	var levels report.Levels
	if *levelRange != "" {
		if levels, err = parseLevels(*levelRange); err != nil {
			return usagef("--range: %v", err)
		}
	}
	switch {
	case len(inputs) == 0:
		return usagef("give the WAV or FLAC file to draw")
	case len(inputs) > 1:
		return usagef("give one WAV or FLAC file, not %d (%s)", len(inputs), strings.Join(inputs, " "))
	case *out == "":
		return usagef("give the output picture with -o OUT.png")
	}
	in := inputs[0]
	if *title == "" {
		*title = filepath.Base(in)
	}
	// Streamed: memory does not grow with the file's length.
	rd, err := wav.Open(in)
	if err != nil {
		return err // wav's errors name the file and the problem
	}
	defer rd.Close()
	n, rate := rd.Frames(), rd.Rate()
	if n == 0 {
		return fmt.Errorf("%s: no samples to draw", in)
	}
	if err := makeParentDir(*out); err != nil {
		return err
	}
	src := func(dst []float64) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return rd.Read(dst) // errors name the file
	}
	err = atomicfile.Write(*out, func(w io.Writer) error {
		if err := report.SpectrogramPNGFrom(w, src, n, rate, *title, levels); err != nil {
			if errors.Is(err, context.Canceled) || strings.HasPrefix(err.Error(), in) {
				return err
			}
			return fmt.Errorf("%s: %w", in, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprintf(env.stdout, "%s: %.2f s at %d Hz drawn to %s\n", in, float64(n)/float64(rate), rate, *out)
	}
	return nil
}

// parseLevels parses --range LO,HI (dBFS) and checks it by report's rule.
func parseLevels(s string) (report.Levels, error) {
	lo, hi, ok := strings.Cut(s, ",")
	var l report.Levels
	var errLo, errHi error
	l.Lo, errLo = strconv.ParseFloat(strings.TrimSpace(lo), 64)
	l.Hi, errHi = strconv.ParseFloat(strings.TrimSpace(hi), 64)
	if !ok || errLo != nil || errHi != nil {
		return l, fmt.Errorf("want LO,HI in dBFS, such as -100,-20, not %q", s)
	}
	if l == (report.Levels{}) {
		return l, fmt.Errorf("levels 0 to 0 dBFS: want LO below HI")
	}
	return l, l.Check()
}
