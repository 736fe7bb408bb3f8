package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/wav"
)

func init() {
	register(&command{
		name:    "eval",
		summary: "score separated sources with BSS Eval (SDR, SIR, SAR) and SI-SDR",
		usage: `Usage: dlnmf eval --ref R1.wav,R2.wav --est E1.wav,E2.wav [--perm] [--json] [--window N [--hop N]]

Scores the estimated sources against the reference sources with BSS Eval
v3, the numbers of mir_eval.separation.bss_eval_sources (512-tap distortion
filter, no mean removal): SDR, SIR and SAR in dB, plus the scale-invariant
SDR (Le Roux et al. 2019, with mean removal). Rows are reference sources;
without --perm estimate i is scored against reference i, with --perm the
pairing that maximises the mean SIR is used (mir_eval's compute_permutation)
and printed. Multichannel files are down-mixed to mono. All files must
have the same sample rate and length.

With --window, scores are computed on frames of N samples every --hop
samples (default N/2), as mir_eval's bss_eval_sources_framewise; frames in
which a reference or estimate is silent are reported as undefined.

With --json, one object indexed by reference source is printed:
  {"sdr":[...],"sir":[...],"sar":[...],"si_sdr":[...],"perm":[...]}
(framewise: arrays of arrays [source][frame], plus "window" and "hop").
JSON cannot hold infinities: null stands for +Inf (the SIR of a single
source, or a perfect estimate) or an undefined score.

Examples:
  dlnmf eval --ref s1.wav,s2.wav --est out/s1.wav,out/s2.wav
  dlnmf eval --ref s1.wav,s2.wav --est out/b.wav,out/a.wav --perm --json
  dlnmf eval --ref s1.wav,s2.wav --est e1.wav,e2.wav --window 16000 --hop 8000`,
		run: runEval,
	})
}

// evalScores is the --json output for whole signals.
type evalScores struct {
	SDR   []jsonDB `json:"sdr"`
	SIR   []jsonDB `json:"sir"`
	SAR   []jsonDB `json:"sar"`
	SISDR []jsonDB `json:"si_sdr"`
	Perm  []int    `json:"perm"`
}

// evalFrames is the --json output with --window.
type evalFrames struct {
	Window int        `json:"window"`
	Hop    int        `json:"hop"`
	SDR    [][]jsonDB `json:"sdr"`
	SIR    [][]jsonDB `json:"sir"`
	SAR    [][]jsonDB `json:"sar"`
	SISDR  [][]jsonDB `json:"si_sdr"`
	Perm   [][]*int   `json:"perm"`
}

// jsonDB is a score in dB; non-finite values become null.
type jsonDB float64

func (v jsonDB) MarshalJSON() ([]byte, error) {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

func runEval(ctx context.Context, cmd *command, env *environment, args []string) error {
	fs := newFlagSet(env, cmd)
	refList := fs.String("ref", "", "comma-separated reference WAV files, one per source")
	estList := fs.String("est", "", "comma-separated estimated WAV files, as many as --ref")
	perm := fs.Bool("perm", false, "search the estimate-to-reference pairing that maximises the mean SIR")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	window := fs.Int("window", 0, "frame length in samples for framewise scores (0: whole signals)")
	hop := fs.Int("hop", 0, "frame step in samples with --window (0: window/2)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	refFiles, estFiles := splitList(*refList), splitList(*estList)
	switch {
	case len(refFiles) == 0:
		return usagef("give the reference files with --ref")
	case len(estFiles) == 0:
		return usagef("give the estimated files with --est")
	case len(refFiles) != len(estFiles):
		return usagef("%d reference files but %d estimated files: give one estimate per reference", len(refFiles), len(estFiles))
	case *window < 0 || *hop < 0:
		return usagef("--window and --hop must not be negative")
	case *hop > 0 && *window == 0:
		return usagef("--hop needs --window")
	}
	if *window > 0 && *hop == 0 {
		*hop = max(1, *window/2)
	}

	files := append(append([]string(nil), refFiles...), estFiles...)
	signals := make([][]float64, len(files))
	rate := 0
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		a, err := wav.ReadFile(f)
		if err != nil {
			return err
		}
		if i == 0 {
			rate = a.Rate
		} else if a.Rate != rate {
			return fmt.Errorf("%s is at %d Hz but %s is at %d Hz: all files must have the same sample rate", f, a.Rate, files[0], rate)
		}
		signals[i] = a.Mono()
		if len(signals[i]) != len(signals[0]) {
			return fmt.Errorf("%s has %d samples but %s has %d: all files must have the same length", f, len(signals[i]), files[0], len(signals[0]))
		}
		if isSilentSignal(signals[i]) {
			return fmt.Errorf("%s is silent (all zeros): BSS Eval is undefined for a silent source", f)
		}
	}
	nsrc := len(refFiles)
	refs, ests := signals[:nsrc], signals[nsrc:]
	opt := bsseval.Options{Permute: *perm}

	if *window > 0 {
		r, err := bsseval.SourcesFramewise(refs, ests, *window, *hop, opt)
		if err != nil {
			return err
		}
		return printFrames(env.stdout, r, refs, ests, refFiles, estFiles, rate, *asJSON)
	}
	r, err := bsseval.Sources(refs, ests, opt)
	if err != nil {
		return err
	}
	out := evalScores{Perm: r.Perm}
	for i, k := range r.Perm {
		si, err := bsseval.SISDR(refs[i], ests[k], true)
		if err != nil {
			return fmt.Errorf("SI-SDR of %s against %s: %w", estFiles[k], refFiles[i], err)
		}
		out.SDR = append(out.SDR, jsonDB(r.SDR[i]))
		out.SIR = append(out.SIR, jsonDB(r.SIR[i]))
		out.SAR = append(out.SAR, jsonDB(r.SAR[i]))
		out.SISDR = append(out.SISDR, jsonDB(si))
	}
	if *asJSON {
		return writeJSON(env.stdout, out)
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "source\treference\testimate\tSDR dB\tSIR dB\tSAR dB\tSI-SDR dB\t")
	for i, k := range r.Perm {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", i, refFiles[i], estFiles[k],
			fmtDB(r.SDR[i]), fmtDB(r.SIR[i]), fmtDB(r.SAR[i]), fmtDB(float64(out.SISDR[i])))
	}
	fmt.Fprintf(tw, "mean\t\t\t%s\t%s\t%s\t%s\t\n", fmtDB(meanDB(out.SDR)), fmtDB(meanDB(out.SIR)), fmtDB(meanDB(out.SAR)), fmtDB(meanDB(out.SISDR)))
	return tw.Flush()
}

func printFrames(w io.Writer, r *bsseval.FramewiseResult, refs, ests [][]float64, refFiles, estFiles []string, rate int, asJSON bool) error {
	nsrc, frames := len(refs), r.Frames()
	out := evalFrames{Window: r.Window, Hop: r.Hop}
	for i := 0; i < nsrc; i++ {
		var sdr, sir, sar, si []jsonDB
		var perm []*int
		for f := 0; f < frames; f++ {
			sdr, sir, sar = append(sdr, jsonDB(r.SDR[i][f])), append(sir, jsonDB(r.SIR[i][f])), append(sar, jsonDB(r.SAR[i][f]))
			k := r.Perm[i][f]
			if k < 0 {
				perm, si = append(perm, nil), append(si, jsonDB(math.NaN()))
				continue
			}
			perm = append(perm, &k)
			start := f * r.Hop
			v, err := bsseval.SISDR(refs[i][start:start+r.Window], ests[k][start:start+r.Window], true)
			if err != nil {
				v = math.NaN() // a frame silent after mean removal
			}
			si = append(si, jsonDB(v))
		}
		out.SDR, out.SIR, out.SAR, out.SISDR, out.Perm = append(out.SDR, sdr), append(out.SIR, sir), append(out.SAR, sar), append(out.SISDR, si), append(out.Perm, perm)
	}
	if asJSON {
		return writeJSON(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for i := 0; i < nsrc; i++ {
		fmt.Fprintf(tw, "source %d: reference %s\t\t\t\t\t\t\t\n", i, refFiles[i])
		fmt.Fprintln(tw, "frame\tstart s\testimate\tSDR dB\tSIR dB\tSAR dB\tSI-SDR dB\t")
		for f := 0; f < frames; f++ {
			est := "-"
			if p := out.Perm[i][f]; p != nil {
				est = filepath.Base(estFiles[*p])
			}
			fmt.Fprintf(tw, "%d\t%.3f\t%s\t%s\t%s\t%s\t%s\t\n", f, float64(f*r.Hop)/float64(rate), est,
				fmtDB(r.SDR[i][f]), fmtDB(r.SIR[i][f]), fmtDB(r.SAR[i][f]), fmtDB(float64(out.SISDR[i][f])))
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

func isSilentSignal(x []float64) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
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

func meanDB(v []jsonDB) float64 {
	s := 0.0
	for _, x := range v {
		s += float64(x)
	}
	return s / float64(len(v))
}
