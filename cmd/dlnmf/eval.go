package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/dlnmf/dlnmf/scoring"
)

func init() {
	register(&command{
		name:    "eval",
		summary: "score separated sources with BSS Eval (SDR, SIR, SAR) and SI-SDR",
		usage: `Usage: dlnmf eval --ref R1.wav,R2.wav --est E1.wav,E2.wav [--mix MIX.wav] [--perm] [--json] [--window N [--hop N]]
       dlnmf eval --ref-dir REF --est-dir EST -o OUTDIR [--perm] [--json] [--window N [--hop N]]

Scores the estimated sources against the reference sources with BSS Eval
v3, the numbers of mir_eval.separation.bss_eval_sources (512-tap distortion
filter, no mean removal): SDR, SIR and SAR in dB, plus the scale-invariant
SDR (Le Roux et al. 2019, with mean removal). Rows are reference sources;
without --perm estimate i is scored against reference i, with --perm the
pairing that maximises the mean SIR is used (mir_eval's compute_permutation)
and printed. Multichannel files are down-mixed to mono. All files must
have the same sample rate and length.

With --mix, the mixture the estimates were separated from, the
improvements over it are added, as separation papers report them: SDRi =
SDR - the mixture's SDR, the mixture taken as the estimate of every source
(mir_eval's bss_eval_sources(refs, [mix]*n), no permutation), and SI-SDRi
likewise; --json adds "sdri" and "si_sdri". Whole signals only: not with
--window.

With --window, scores are computed on frames of N samples every --hop
samples (default N/2), as mir_eval's bss_eval_sources_framewise; frames in
which a reference or estimate is silent are reported as undefined.

With --json, one object indexed by reference source is printed:
  {"sdr":[...],"sir":[...],"sar":[...],"si_sdr":[...],"perm":[...]}
(framewise: arrays of arrays [source][frame], plus "window" and "hop").
JSON cannot hold infinities: null stands for +Inf (the SIR of a single
source, or a perfect estimate) or an undefined score.

With --ref-dir and --est-dir, every set of sources is scored, in parallel
(--jobs), like museval's eval_dir. Files are paired by name: EST/P is the
estimate of REF/P, for every .wav or .flac file P under REF (sub-folders
included; the extension may differ, mix1.FA.flac pairs with mix1.FA.wav).
Files are grouped into sets, one per mixture, by their name: ITEM.SOURCE.wav
(the names "dlnmf separate" writes, e.g. mix1.FA.wav and mix1.MC.wav form
the set "mix1") or, for a name without a dot, ITEM/SOURCE.wav (the set is
the folder, as museval's layout: mix1/vocals.wav). The sources of a set are
scored together, in the order of their names. A reference without its
estimate, or an estimate without its reference, is reported and its set is
not scored (exit code 1); the other sets still are. A set's mixture, found
beside its estimates (or else beside its references), adds SDRi and
SI-SDRi to its scores (without --window): ITEM.wav or ITEM.flac beside ITEM.SOURCE files
(dlnmf mix writes that layout), ITEM/mixture.wav beside ITEM/SOURCE files
(museval's); such a file is a mixture, never a source. It writes
OUTDIR/scores.json and OUTDIR/scores.csv: one row per reference source (and
frame, with --window) naming the set, the source, the reference file and the
estimate file paired with it (after --perm), with SDR, SIR, SAR, SI-SDR and
the estimate's index in the set (perm). CSV writes an undefined score as an
empty cell and infinities as +Inf; JSON writes both as null. A name that
starts with =, +, - or @ is written to CSV after a single quote, so that a
spreadsheet shows it as text instead of running it. It prints one
line per source (with --window, the median of its frames) and the means.

Examples:
  dlnmf eval --ref s1.wav,s2.wav --est out/s1.wav,out/s2.wav
  dlnmf eval --ref s1.wav,s2.wav --est out/s1.wav,out/s2.wav --mix mix.wav
  dlnmf eval --ref s1.wav,s2.wav --est out/b.wav,out/a.wav --perm --json
  dlnmf eval --ref s1.wav,s2.wav --est e1.wav,e2.wav --window 16000 --hop 8000
  dlnmf eval --ref-dir test/clean --est-dir separated --perm -o scores`,
		run: runEval,
	})
}

func runEval(ctx context.Context, cmd *command, env *environment, args []string) error {
	fs := newFlagSet(env, cmd)
	refList := fs.String("ref", "", "comma-separated reference WAV or FLAC files, one per source")
	estList := fs.String("est", "", "comma-separated estimated WAV or FLAC files, as many as --ref")
	mixFile := fs.String("mix", "", "the mixture the estimates were separated from: adds the improvements over it (SDRi, SI-SDRi)")
	refDir := fs.String("ref-dir", "", "batch: folder of reference files (with --est-dir and -o)")
	estDir := fs.String("est-dir", "", "batch: folder of estimated files, named as under --ref-dir")
	outDir := fs.String("o", "", "batch: folder for scores.json and scores.csv, created if missing")
	jobs := fs.Int("jobs", runtime.GOMAXPROCS(0), "batch: sets scored at once")
	perm := fs.Bool("perm", false, "search the estimate-to-reference pairing that maximises the mean SIR")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	window := fs.Int("window", 0, "frame length in samples for framewise scores (0: whole signals)")
	hop := fs.Int("hop", 0, "frame step in samples with --window (0: window/2)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	batch := *refDir != "" || *estDir != ""
	refFiles, estFiles := splitList(*refList), splitList(*estList)
	switch {
	case batch && (len(refFiles) > 0 || len(estFiles) > 0):
		return usagef("give either --ref and --est, or --ref-dir and --est-dir, not both")
	case batch && (*refDir == "" || *estDir == ""):
		return usagef("--ref-dir and --est-dir go together")
	case batch && *outDir == "":
		return usagef("give the folder for scores.json and scores.csv with -o")
	case batch && *jobs < 1:
		return usagef("--jobs must be at least 1")
	case !batch && *outDir != "":
		return usagef("-o is for --ref-dir and --est-dir; a single set prints its scores")
	case !batch && len(refFiles) == 0:
		return usagef("give the reference files with --ref (or folders with --ref-dir and --est-dir)")
	case !batch && len(estFiles) == 0:
		return usagef("give the estimated files with --est")
	case !batch && len(refFiles) != len(estFiles):
		return usagef("%d reference files but %d estimated files: give one estimate per reference", len(refFiles), len(estFiles))
	case *window < 0 || *hop < 0:
		return usagef("--window and --hop must not be negative")
	case *hop > 0 && *window == 0:
		return usagef("--hop needs --window")
	case *mixFile != "" && batch:
		return usagef("--mix is for --ref and --est: with folders, each set's mixture is found beside its files (see -h)")
	case *mixFile != "" && *window > 0:
		return usagef("--mix scores whole signals: leave out --window")
	}
	s := scoring.Settings{Permute: *perm, Window: *window, Hop: *hop, Jobs: *jobs}
	if batch {
		return evalDirs(ctx, env, s, *refDir, *estDir, *outDir, *asJSON)
	}
	set, err := scoring.Score(ctx, scoring.Set{References: refFiles, Estimates: estFiles, Mixture: *mixFile}, s)
	if err != nil {
		return err
	}
	if set.Frames != nil {
		if *asJSON {
			return writeJSON(env.stdout, set.Frames)
		}
		return printFrames(env.stdout, set, refFiles, estFiles)
	}
	out := set.Scores
	if *asJSON {
		return writeJSON(env.stdout, out)
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "source\treference\testimate\tSDR dB\tSIR dB\tSAR dB\tSI-SDR dB\t%s\n", improvementHeader(out))
	for i, k := range out.Perm {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i, refFiles[i], estFiles[k],
			fmtDB(float64(out.SDR[i])), fmtDB(float64(out.SIR[i])), fmtDB(float64(out.SAR[i])), fmtDB(float64(out.SISDR[i])), improvement(out, i))
	}
	fmt.Fprintf(tw, "mean\t\t\t%s\t%s\t%s\t%s\t%s\n", fmtDB(scoring.MeanDB(out.SDR)), fmtDB(scoring.MeanDB(out.SIR)), fmtDB(scoring.MeanDB(out.SAR)), fmtDB(scoring.MeanDB(out.SISDR)), meanImprovement(out))
	return tw.Flush()
}

func printFrames(w io.Writer, set *scoring.Set, refFiles, estFiles []string) error {
	out := set.Frames
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for i := range out.SDR {
		fmt.Fprintf(tw, "source %d: reference %s\t\t\t\t\t\t\t\n", i, refFiles[i])
		fmt.Fprintln(tw, "frame\tstart s\testimate\tSDR dB\tSIR dB\tSAR dB\tSI-SDR dB\t")
		for f := range out.SDR[i] {
			est := "-"
			if p := out.Perm[i][f]; p != nil {
				est = filepath.Base(estFiles[*p])
			}
			fmt.Fprintf(tw, "%d\t%.3f\t%s\t%s\t%s\t%s\t%s\t\n", f, float64(f*out.Hop)/float64(set.Rate), est,
				fmtDB(float64(out.SDR[i][f])), fmtDB(float64(out.SIR[i][f])), fmtDB(float64(out.SAR[i][f])), fmtDB(float64(out.SISDR[i][f])))
		}
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// fmtDB formats a score with two decimals; undefined scores print as "-".
func fmtDB(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return fmt.Sprintf("%.2f", v)
}

// improvementHeader, improvement and meanImprovement are the table's SDRi
// and SI-SDRi cells, empty without a mixture.
func improvementHeader(s *scoring.Scores) string {
	if s.SDRi == nil {
		return ""
	}
	return "SDRi dB\tSI-SDRi dB\t"
}

func improvement(s *scoring.Scores, i int) string {
	if s.SDRi == nil {
		return ""
	}
	return fmtDB(float64(s.SDRi[i])) + "\t" + fmtDB(float64(s.SISDRi[i])) + "\t"
}

func meanImprovement(s *scoring.Scores) string {
	if s.SDRi == nil {
		return ""
	}
	return fmtDB(scoring.MeanDB(s.SDRi)) + "\t" + fmtDB(scoring.MeanDB(s.SISDRi)) + "\t"
}
