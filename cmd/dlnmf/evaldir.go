package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"github.com/dlnmf/dlnmf/scoring"
)

// evalDirs scores every set of refDir and estDir, writes scores.json and
// scores.csv to outDir and prints the scores.
func evalDirs(ctx context.Context, env *environment, s scoring.Settings, refDir, estDir, outDir string, asJSON bool) error {
	b, err := scoring.ScoreDirs(ctx, refDir, estDir, outDir, s)
	if err != nil {
		return err
	}
	for _, f := range b.Failed {
		fmt.Fprintf(env.stderr, "dlnmf eval: %s: %s (not scored)\n", f.Item, f.Error)
	}
	if asJSON {
		var js []byte
		if js, err = b.JSON(); err == nil {
			_, err = env.stdout.Write(js)
		}
	} else {
		err = printBatch(env.stdout, b)
	}
	if err != nil {
		return err
	}
	if len(b.Failed) > 0 {
		return fmt.Errorf("%d of %d sets could not be scored", len(b.Failed), len(b.Failed)+len(b.Sets))
	}
	return nil
}

// printBatch prints one line per reference source: its scores, or with
// --window the median of its defined frames (as museval summarises).
func printBatch(w io.Writer, b *scoring.Batch) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	what := ""
	if b.Window > 0 {
		what = " (median of frames)"
	}
	improved := b.Mean != nil && b.Mean.SDRi != nil
	extra := ""
	if improved {
		extra = "SDRi dB\tSI-SDRi dB\t"
	}
	fmt.Fprintf(tw, "set\tsource\testimate\tSDR dB\tSIR dB\tSAR dB\tSI-SDR dB%s\t%s\n", what, extra)
	for _, s := range b.Sets {
		for i := range s.Sources {
			if s.Scores != nil {
				r, k := s.Scores, s.Scores.Perm[i]
				cells := improvement(r, i)
				if improved && cells == "" {
					cells = "\t\t"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Item, s.Sources[i], filepath.Base(s.Estimates[k]),
					fmtDB(float64(r.SDR[i])), fmtDB(float64(r.SIR[i])), fmtDB(float64(r.SAR[i])), fmtDB(float64(r.SISDR[i])), cells)
				continue
			}
			r := s.Frames
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Item, s.Sources[i], "-",
				fmtDB(scoring.MedianDB(r.SDR[i])), fmtDB(scoring.MedianDB(r.SIR[i])), fmtDB(scoring.MedianDB(r.SAR[i])), fmtDB(scoring.MedianDB(r.SISDR[i])))
		}
	}
	if m := b.Mean; m != nil {
		if improved {
			extra = fmtDB(float64(*m.SDRi)) + "\t" + fmtDB(float64(*m.SISDRi)) + "\t"
		}
		fmt.Fprintf(tw, "mean\t\t\t%s\t%s\t%s\t%s\t%s\n", fmtDB(float64(m.SDR)), fmtDB(float64(m.SIR)), fmtDB(float64(m.SAR)), fmtDB(float64(m.SISDR)), extra)
	}
	return tw.Flush()
}
