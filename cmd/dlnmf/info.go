package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/dlnmf/dlnmf/internal/plural"
	"github.com/dlnmf/dlnmf/wav"
)

func init() {
	register(&command{
		name:    "info",
		summary: "print the format, sample rate, channels, encoding, duration and levels of WAV and FLAC files",
		usage: `Usage: dlnmf info [--json] FILE.wav [FILE2.flac ...]

Prints one line per file: format (WAV or FLAC), sample rate, channels,
sample encoding, duration, peak and RMS level in dBFS (0 dBFS is digital
full scale; over all channels). A file that cannot be read gets one error line on stderr, the
other files are still printed, and the exit code is 1 at the end (with
--json, its record holds "error" instead of the measurements). Levels are
over the finite samples; NaN and infinite samples of float files are
counted and reported. Files are read piece by piece: memory does not grow
with their length.

Examples:
  dlnmf info ../shared/corpus/tsp/FA/FA01_01.wav
  dlnmf info --json mix.wav separated/*.wav recording.flac`,
		run: runInfo,
	})
}

// fileInfo is one file's record: its measurements, or the error that
// stopped reading it (JSON shows one or the other).
type fileInfo struct {
	File  string `json:"file"`
	Error string `json:"error,omitempty"`
	*AudioInfo
}

// AudioInfo is what dlnmf info measures (exported so that encoding/json
// can fill it, embedded, when reading the output back). Levels are over the finite samples;
// they are null in JSON (-inf dBFS) when there is none that is not zero.
// NaN and infinite samples are counted, never folded into the levels.
type AudioInfo struct {
	Format   string   `json:"format"` // WAV or FLAC
	Rate     int      `json:"sample_rate"`
	Channels int      `json:"channels"`
	Encoding string   `json:"encoding"`
	Samples  int      `json:"samples"`
	Seconds  float64  `json:"seconds"`
	PeakDB   *float64 `json:"peak_dbfs"`
	RMSDB    *float64 `json:"rms_dbfs"`
	NaN      int      `json:"nan_samples"`
	Inf      int      `json:"infinite_samples"`
}

func runInfo(ctx context.Context, cmd *command, env *environment, args []string) error {
	fs := newFlagSet(env, cmd)
	asJSON := fs.Bool("json", false, "print a JSON array instead of text lines")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("give at least one WAV or FLAC file")
	}
	infos := []fileInfo{}
	failed := 0
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		in, err := measureFile(ctx, f)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			fmt.Fprintf(env.stderr, "dlnmf info: %s\n", oneLine(err))
			infos = append(infos, fileInfo{File: f, Error: oneLine(err)})
			failed++
			continue
		}
		if *asJSON {
			infos = append(infos, fileInfo{File: f, AudioInfo: in})
			continue
		}
		fmt.Fprintf(env.stdout, "%s: %s, %d Hz, %s, %s, %.3f s (%d samples), peak %s, RMS %s%s\n",
			f, in.Format, in.Rate, plural.Count(in.Channels, "channel"), in.Encoding, in.Seconds, in.Samples,
			in.dbfs(in.PeakDB), in.dbfs(in.RMSDB), in.nonFinite())
	}
	if *asJSON {
		b, err := json.MarshalIndent(infos, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%s\n", b)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %s could not be read", failed, plural.Count(len(files), "file"))
	}
	return nil
}

// measureFile reads path piece by piece, in memory that does not depend on
// its length: the peak is the largest |sample| and the RMS the root mean
// square over all channels, both relative to full scale 1.0 and over the
// finite samples only.
func measureFile(ctx context.Context, path string) (*AudioInfo, error) {
	rd, err := wav.Open(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	in := &AudioInfo{Format: rd.Format().String(), Rate: rd.Rate(), Channels: rd.Channels(), Encoding: rd.Encoding().String()}
	var peak, energy float64
	count := 0
	// About 64 Ki samples a read, whatever the channel count: a file of
	// 65535 channels must not make a buffer of a billion.
	buf := make([]float64, max(1<<16/rd.Channels(), 1)*rd.Channels())
	for {
		n, err := rd.ReadInterleaved(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err // names the file
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in.Samples += n
		for _, v := range buf[:n*rd.Channels()] {
			switch {
			case math.IsNaN(v):
				in.NaN++
			case math.IsInf(v, 0):
				in.Inf++
			default:
				peak = max(peak, math.Abs(v))
				energy += v * v
				count++
			}
		}
	}
	if in.Rate > 0 {
		in.Seconds = float64(in.Samples) / float64(in.Rate)
	}
	if peak > 0 {
		p := infoRound2(20 * math.Log10(peak))
		r := infoRound2(10 * math.Log10(energy/float64(count)))
		in.PeakDB, in.RMSDB = &p, &r
	}
	return in, nil
}

func infoRound2(v float64) float64 { return math.Round(v*100) / 100 }

// dbfs formats a level; -inf is "silent" only when every sample is zero.
func (in *AudioInfo) dbfs(v *float64) string {
	switch {
	case v != nil:
		return strings.Replace(fmt.Sprintf("%.2f dBFS", *v), "-0.00", "0.00", 1)
	case in.NaN+in.Inf > 0:
		return "-inf dBFS"
	}
	return "-inf dBFS (silent)"
}

// nonFinite describes the NaN and infinite samples, if any.
func (in *AudioInfo) nonFinite() string {
	if in.NaN+in.Inf == 0 {
		return ""
	}
	return fmt.Sprintf("; %d NaN and %d infinite samples (not in the levels)", in.NaN, in.Inf)
}
