package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/wav"
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

// evalScores is the --json output for whole signals.
type evalScores struct {
	SDR   []jsonDB `json:"sdr"`
	SIR   []jsonDB `json:"sir"`
	SAR   []jsonDB `json:"sar"`
	SISDR []jsonDB `json:"si_sdr"`
	Perm  []int    `json:"perm"`
	// With the mixture: the improvements over it.
	SDRi   []jsonDB `json:"sdri,omitempty"`
	SISDRi []jsonDB `json:"si_sdri,omitempty"`
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
	if *window > 0 && *hop == 0 {
		*hop = max(1, *window/2)
	}
	sc := scorer{permute: *perm, window: *window, hop: *hop}
	if batch {
		return evalDirs(ctx, env, sc, *refDir, *estDir, *outDir, *jobs, *asJSON)
	}
	set, err := sc.score(ctx, evalSet{References: refFiles, Estimates: estFiles, Mixture: *mixFile})
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
	fmt.Fprintf(tw, "source\treference\testimate\tSDR dB\tSIR dB\tSAR dB\tSI-SDR dB\t%s\n", out.improvementHeader())
	for i, k := range out.Perm {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i, refFiles[i], estFiles[k],
			fmtDB(float64(out.SDR[i])), fmtDB(float64(out.SIR[i])), fmtDB(float64(out.SAR[i])), fmtDB(float64(out.SISDR[i])), out.improvement(i))
	}
	fmt.Fprintf(tw, "mean\t\t\t%s\t%s\t%s\t%s\t%s\n", fmtDB(meanDB(out.SDR)), fmtDB(meanDB(out.SIR)), fmtDB(meanDB(out.SAR)), fmtDB(meanDB(out.SISDR)), out.meanImprovement())
	return tw.Flush()
}

// scorer scores one set of sources: whole signals, or frames when window
// is set.
type scorer struct {
	permute     bool
	window, hop int
	atOnce      int // sets scored at the same time (0 or 1: one)
}

// checkMemory estimates, from the files' headers, the memory that scoring
// them takes (the signals, one file's decoding, and bsseval.Memory for
// the whole signals or one frame), times the sets scored at once, and
// refuses it with one line when the machine does not have it: BSS Eval's
// memory grows with the square of the sources and with the signals'
// length, and Go cannot recover from running out of it.
func (sc scorer) checkMemory(files []string, nsrc int) error {
	var frames, decode uint64
	for _, f := range files {
		rd, err := wav.Open(f)
		if err != nil {
			return err
		}
		n, nc, format := uint64(max(rd.Frames(), 0)), uint64(rd.Channels()), rd.Format()
		rd.Close()
		size := uint64(0)
		if st, err := os.Stat(f); err == nil {
			size = uint64(st.Size())
		}
		if format == wav.WAV {
			n = min(n, size) // a WAV holds at least a byte per sample (FLAC compresses)
		}
		frames = max(frames, n)
		decode = max(decode, size+8*n*(nc+1))
	}
	n := int(min(frames, math.MaxInt32))
	if sc.window > 0 {
		n = min(n, sc.window)
	}
	need := uint64(len(files))*8*frames + decode + bsseval.Memory(nsrc, n, bsseval.Options{Permute: sc.permute})
	what := fmt.Sprintf("scoring %d sources of %d samples", nsrc, frames)
	if sc.atOnce > 1 {
		need *= uint64(sc.atOnce)
		what = fmt.Sprintf("scoring %d sets like this one at once (--jobs %d)", sc.atOnce, sc.atOnce)
	}
	return checkMemory(what, need)
}

// evalSet is one set of sources to score and, after scoring, its scores.
type evalSet struct {
	Item       string      `json:"item,omitempty"`
	Sources    []string    `json:"sources,omitempty"`
	References []string    `json:"references"`
	Estimates  []string    `json:"estimates"`
	Mixture    string      `json:"mixture,omitempty"` // the estimates were separated from it
	Rate       int         `json:"sample_rate"`
	Scores     *evalScores `json:"scores,omitempty"`
	Frames     *evalFrames `json:"frames,omitempty"`
}

// score reads the files of set and scores them, after checking from
// their headers that the machine has the memory it takes.
func (sc scorer) score(ctx context.Context, set evalSet) (*evalSet, error) {
	files := append(append([]string(nil), set.References...), set.Estimates...)
	if set.Mixture != "" {
		files = append(files, set.Mixture)
	}
	if err := sc.checkMemory(files, len(set.References)); err != nil {
		return nil, err
	}
	signals := make([][]float64, len(files))
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		a, err := wav.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			set.Rate = a.Rate
		} else if a.Rate != set.Rate {
			return nil, fmt.Errorf("%s is at %d Hz but %s is at %d Hz: all files must have the same sample rate", f, a.Rate, files[0], set.Rate)
		}
		signals[i] = a.Mono()
		if len(signals[i]) != len(signals[0]) {
			return nil, fmt.Errorf("%s has %d samples but %s has %d: all files must have the same length", f, len(signals[i]), files[0], len(signals[0]))
		}
		if isSilentSignal(signals[i]) {
			return nil, fmt.Errorf("%s is silent (all zeros): BSS Eval is undefined for a silent source", f)
		}
	}
	nsrc := len(set.References)
	refs, ests := signals[:nsrc], signals[nsrc:2*nsrc]
	opt := bsseval.Options{Permute: sc.permute}
	if sc.window > 0 {
		r, err := bsseval.SourcesFramewise(refs, ests, sc.window, sc.hop, opt)
		if err != nil {
			return nil, err
		}
		set.Frames = framesScores(r, refs, ests)
		return &set, nil
	}
	plan, err := bsseval.NewPlan(refs, opt)
	if err != nil {
		return nil, err
	}
	r, err := plan.Evaluate(ests)
	if err != nil {
		return nil, err
	}
	var mix, mixSDR []float64
	if set.Mixture != "" {
		mix = signals[2*nsrc]
		if mixSDR, err = plan.MixtureSDR(mix); err != nil {
			return nil, fmt.Errorf("%s: %w", set.Mixture, err)
		}
	}
	out := &evalScores{Perm: r.Perm}
	for i, k := range r.Perm {
		si, err := bsseval.SISDR(refs[i], ests[k], true)
		if err != nil {
			return nil, fmt.Errorf("SI-SDR of %s against %s: %w", set.Estimates[k], set.References[i], err)
		}
		out.SDR = append(out.SDR, jsonDB(r.SDR[i]))
		out.SIR = append(out.SIR, jsonDB(r.SIR[i]))
		out.SAR = append(out.SAR, jsonDB(r.SAR[i]))
		out.SISDR = append(out.SISDR, jsonDB(si))
		if mix != nil {
			mixSI, err := bsseval.SISDR(refs[i], mix, true)
			if err != nil {
				return nil, fmt.Errorf("SI-SDR of the mixture %s against %s: %w", set.Mixture, set.References[i], err)
			}
			out.SDRi = append(out.SDRi, jsonDB(r.SDR[i]-mixSDR[i]))
			out.SISDRi = append(out.SISDRi, jsonDB(si-mixSI))
		}
	}
	set.Scores = out
	return &set, nil
}

// framesScores adds SI-SDR per frame to bsseval's framewise scores.
func framesScores(r *bsseval.FramewiseResult, refs, ests [][]float64) *evalFrames {
	nsrc, frames := len(refs), r.Frames()
	out := &evalFrames{Window: r.Window, Hop: r.Hop}
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
	return out
}

func printFrames(w io.Writer, set *evalSet, refFiles, estFiles []string) error {
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

// meanDB is the mean of the finite values of v (an infinite SIR of a
// single source would swamp it), NaN if none.
func meanDB(v []jsonDB) float64 {
	s, n := 0.0, 0
	for _, x := range v {
		if f := float64(x); !math.IsNaN(f) && !math.IsInf(f, 0) {
			s += f
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// improvementHeader, improvement and meanImprovement are the table's SDRi
// and SI-SDRi cells, empty without a mixture.
func (s *evalScores) improvementHeader() string {
	if s.SDRi == nil {
		return ""
	}
	return "SDRi dB\tSI-SDRi dB\t"
}

func (s *evalScores) improvement(i int) string {
	if s.SDRi == nil {
		return ""
	}
	return fmtDB(float64(s.SDRi[i])) + "\t" + fmtDB(float64(s.SISDRi[i])) + "\t"
}

func (s *evalScores) meanImprovement() string {
	if s.SDRi == nil {
		return ""
	}
	return fmtDB(meanDB(s.SDRi)) + "\t" + fmtDB(meanDB(s.SISDRi)) + "\t"
}
