package main

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/dlnmf/dlnmf/corpus"
)

func init() {
	register(&command{
		name:    "mix",
		summary: "mix two or more recordings at a given SNR, with the scaled references beside the mixture",
		usage: `Usage: dlnmf mix -o OUT.wav [--snr DB] [--names A,B,...] A.wav B.wav [C.flac ...]

Makes the test case a separation paper describes: the mixture of the
recordings, with the first SNR dB above each of the others in energy (0:
equal energy), cut to the shortest; the rule of the experiment's mixtures.
It writes the mixture to OUT.wav and, beside it, each source scaled as in
the mixture to OUT.NAME.wav: the references, which add up to the mixture.
NAME is the input's file name without its extension, or the --names given.
Every input is down-mixed to mono and resampled to the first input's
sample rate; the files take the first input's encoding (OUT.flac writes
FLAC). When the mixture or a source would peak above -1 dBFS, all are
scaled down by one gain, which is printed. The files appear all together
or not at all.

The layout is the one "dlnmf eval --ref-dir" reads, the mixture included:
separate OUT.wav into a folder, then score the estimates with their SDR
improvement over the mixture.

Examples:
  dlnmf mix -o test/mix1.wav --snr 0 FA01_01.wav MC13_07.wav
      # test/mix1.wav, test/mix1.FA01_01.wav, test/mix1.MC13_07.wav
  dlnmf mix -o test/mix1.wav --names FA,MC FA/FA01_01.wav MC/MC13_07.wav
  dlnmf separate -m fa-mc.npz -o est test/mix1.wav    # est/mix1.FA.wav, est/mix1.MC.wav
  dlnmf eval --ref-dir test --est-dir est --perm -o scores`,
		run: runMix,
	})
}

func runMix(ctx context.Context, cmd *command, env *environment, args []string) error {
	fs := newFlagSet(env, cmd)
	out := fs.String("o", "", "the mixture's file, OUT.wav or OUT.flac (required)")
	snr := fs.Float64("snr", 0, "dB of the first recording over each of the others, in energy")
	nameList := fs.String("names", "", "comma-separated names of the sources in their files' names (default: the inputs' names)")
	quiet := fs.Bool("quiet", false, "print nothing on success")
	inputs, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	var names []string
	if *nameList != "" {
		names = splitList(*nameList)
	}
	switch {
	case *out == "":
		return usagef("give the mixture's file with -o OUT.wav")
	case len(inputs) < 2:
		return usagef("give at least two WAV or FLAC files to mix")
	case math.IsNaN(*snr) || math.IsInf(*snr, 0):
		return usagef("--snr must be a finite number of dB")
	}
	if names != nil {
		if err := corpus.CheckSourceNames(names, len(inputs)); err != nil {
			return usagef("--names: %v", err)
		}
	}
	if err := makeParentDir(*out); err != nil {
		return err
	}
	res, err := corpus.MixFiles(*out, inputs, *snr, names)
	if err != nil {
		return err
	}
	for _, in := range res.DownMixed {
		logf(env.stderr, *quiet, "%s has more than one channel: mixed as their mean (a down-mix)", in)
	}
	for _, in := range res.Resampled {
		logf(env.stderr, *quiet, "%s resampled to %d Hz, the first recording's rate", in, res.Rate)
	}
	if !*quiet {
		gain := ""
		if res.GainDB < 0 {
			gain = fmt.Sprintf(", all scaled by %.1f dB to peak at -1 dBFS", res.GainDB)
		}
		fmt.Fprintf(env.stdout, "%s: %.2f s at %d Hz, %s at %g dB over %s%s; references %s\n",
			res.Mixture, float64(res.Samples)/float64(res.Rate), res.Rate, res.Names[0], *snr,
			strings.Join(res.Names[1:], ", "), gain, strings.Join(res.References, ", "))
	}
	return nil
}
