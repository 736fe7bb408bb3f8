package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/dlnmf/dlnmf/wav"
)

func init() {
	register(&command{
		name:    "info",
		summary: "print the sample rate, channels, encoding, duration and levels of WAV files",
		usage: `Usage: dlnmf info [--json] FILE.wav [FILE2.wav ...]

Prints one line per file: sample rate, channels, sample encoding, duration,
peak and RMS level in dBFS (0 dBFS is digital full scale; over all
channels). A file that cannot be read gets one error line on stderr, the
other files are still printed, and the exit code is 1 at the end.

Examples:
  dlnmf info ../shared/corpus/tsp/FA/FA01_01.wav
  dlnmf info --json mix.wav separated/*.wav`,
		run: runInfo,
	})
}

// fileInfo is what dlnmf info reports about one file. Levels of a silent
// file are -Inf, written as null in JSON.
type fileInfo struct {
	File     string   `json:"file"`
	Rate     int      `json:"sample_rate"`
	Channels int      `json:"channels"`
	Encoding string   `json:"encoding"`
	Samples  int      `json:"samples"`
	Seconds  float64  `json:"seconds"`
	PeakDB   *float64 `json:"peak_dbfs"`
	RMSDB    *float64 `json:"rms_dbfs"`
}

func runInfo(ctx context.Context, cmd *command, env *environment, args []string) error {
	fs := newFlagSet(env, cmd)
	asJSON := fs.Bool("json", false, "print a JSON array instead of text lines")
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("give at least one WAV file")
	}
	var infos []fileInfo
	failed := 0
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		a, err := wav.ReadFile(f)
		if err != nil {
			fmt.Fprintf(env.stderr, "dlnmf info: %s\n", oneLine(err))
			failed++
			continue
		}
		in := describeAudio(f, a)
		if *asJSON {
			infos = append(infos, in)
			continue
		}
		fmt.Fprintf(env.stdout, "%s: %d Hz, %d channel%s, %s, %.3f s (%d samples), peak %s, RMS %s\n",
			in.File, in.Rate, in.Channels, infoPlural(in.Channels), in.Encoding, in.Seconds, in.Samples, infoDBFS(in.PeakDB), infoDBFS(in.RMSDB))
	}
	if *asJSON {
		if infos == nil {
			infos = []fileInfo{}
		}
		b, err := json.MarshalIndent(infos, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%s\n", b)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d file%s could not be read", failed, len(files), infoPlural(len(files)))
	}
	return nil
}

// describe measures a: the peak is the largest |sample| and the RMS the
// root mean square over all channels, both relative to full scale 1.0.
func describeAudio(file string, a *wav.Audio) fileInfo {
	var peak, energy float64
	count := 0
	for _, ch := range a.Channels {
		for _, v := range ch {
			peak = max(peak, math.Abs(v))
			energy += v * v
		}
		count += len(ch)
	}
	in := fileInfo{File: file, Rate: a.Rate, Channels: len(a.Channels), Encoding: a.Encoding.String(), Samples: a.Len(), Seconds: a.Seconds()}
	if peak > 0 {
		p := infoRound2(20 * math.Log10(peak))
		r := infoRound2(10 * math.Log10(energy/float64(count)))
		in.PeakDB, in.RMSDB = &p, &r
	}
	return in
}

func infoRound2(v float64) float64 { return math.Round(v*100) / 100 }

func infoDBFS(v *float64) string {
	if v == nil {
		return "-inf dBFS (silent)"
	}
	return strings.Replace(fmt.Sprintf("%.2f dBFS", *v), "-0.00", "0.00", 1)
}

func infoPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
