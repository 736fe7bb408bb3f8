package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/internal/csvtext"
	"github.com/dlnmf/dlnmf/internal/parallel"
)

// evalBatch is what eval --ref-dir --est-dir writes to scores.json.
type evalBatch struct {
	RefDir  string        `json:"ref_dir"`
	EstDir  string        `json:"est_dir"`
	Permute bool          `json:"permute"`
	Window  int           `json:"window,omitempty"`
	Hop     int           `json:"hop,omitempty"`
	Sets    []*evalSet    `json:"sets"`
	Failed  []evalFailure `json:"failed"`
	// Mean is the mean of every reference source of every set scored, of
	// the finite scores (whole signals only).
	Mean *evalMean `json:"mean,omitempty"`
}

type evalFailure struct {
	Item  string `json:"item"`
	Error string `json:"error"`
}

type evalMean struct {
	SDR   jsonDB `json:"sdr"`
	SIR   jsonDB `json:"sir"`
	SAR   jsonDB `json:"sar"`
	SISDR jsonDB `json:"si_sdr"`
	// Over the sets with a mixture, when some have one.
	SDRi   *jsonDB `json:"sdri,omitempty"`
	SISDRi *jsonDB `json:"si_sdri,omitempty"`
}

// pairDirs pairs the audio files of refDir and estDir by their path
// relative to the folder, without the extension, and groups them into sets
// by the rule eval -h states, with their mixtures (mixtureSets). A set
// with a file missing on either side is returned as a failure.
func pairDirs(refDir, estDir string) ([]evalSet, []evalFailure, error) {
	list := func(dir string) (map[string]string, error) {
		rels, err := corpus.AudioFiles(dir)
		if err != nil {
			return nil, err
		}
		m := make(map[string]string, len(rels))
		for _, r := range rels {
			key := strings.TrimSuffix(r, path.Ext(r))
			if prev, dup := m[key]; dup {
				return nil, fmt.Errorf("%s and %s in %s differ only by extension: which one to score?", prev, r, dir)
			}
			m[key] = r
		}
		return m, nil
	}
	refs, err := list(refDir)
	if err != nil {
		return nil, nil, err
	}
	ests, err := list(estDir)
	if err != nil {
		return nil, nil, err
	}
	if len(refs) == 0 {
		return nil, nil, fmt.Errorf("no .wav or .flac files in %s or its sub-folders", refDir)
	}
	mixtures := mixtureSets([]string{estDir, refDir}, []map[string]string{ests, refs})
	type member struct{ source, key string }
	items := map[string][]member{}
	missing := map[string][]string{}
	for key := range refs {
		item, source := setOf(key)
		items[item] = append(items[item], member{source, key})
		if _, ok := ests[key]; !ok {
			missing[item] = append(missing[item], "no estimate for "+filepath.Join(refDir, refs[key]))
		}
	}
	for key, rel := range ests {
		if _, ok := refs[key]; !ok {
			item, _ := setOf(key)
			missing[item] = append(missing[item], "no reference for "+filepath.Join(estDir, rel))
		}
	}
	names := make([]string, 0, len(items))
	for item := range items {
		names = append(names, item)
	}
	for item := range missing {
		if _, ok := items[item]; !ok {
			names = append(names, item)
		}
	}
	sort.Strings(names)
	var sets []evalSet
	var failed []evalFailure
	for _, item := range names {
		if m := missing[item]; len(m) > 0 {
			sort.Strings(m)
			failed = append(failed, evalFailure{Item: item, Error: strings.Join(m, "; ")})
			continue
		}
		ms := items[item]
		sort.Slice(ms, func(i, j int) bool { return ms[i].source < ms[j].source })
		set := evalSet{Item: item, Mixture: mixtures[item]}
		for _, m := range ms {
			set.Sources = append(set.Sources, m.source)
			set.References = append(set.References, filepath.Join(refDir, refs[m.key]))
			set.Estimates = append(set.Estimates, filepath.Join(estDir, ests[m.key]))
		}
		sets = append(sets, set)
	}
	return sets, failed, nil
}

// mixtureSets takes out of the listings (relative path without extension
// -> file, one per folder of dirs, in order of preference) the sets'
// mixtures, and returns them by set: a file ITEM beside ITEM.SOURCE
// files, or ITEM/mixture beside ITEM/SOURCE files, is the mixture of set
// ITEM, not a source; the first folder's wins.
func mixtureSets(dirs []string, lists []map[string]string) map[string]string {
	members := map[string]bool{}
	for _, l := range lists {
		for key := range l {
			if dir, base := path.Split(key); dir != "" && base == "mixture" {
				continue
			}
			item, _ := setOf(key)
			members[item] = true
		}
	}
	mixtureOf := func(key string) (string, bool) {
		if members[key] {
			return key, true
		}
		if dir, base := path.Split(key); dir != "" && base == "mixture" && members[path.Clean(dir)] {
			return path.Clean(dir), true
		}
		return "", false
	}
	mixtures := map[string]string{}
	for i, l := range lists {
		for key, rel := range l {
			if item, ok := mixtureOf(key); ok {
				if _, have := mixtures[item]; !have {
					mixtures[item] = filepath.Join(dirs[i], rel)
				}
				delete(l, key)
			}
		}
	}
	return mixtures
}

// setOf splits a file's path (relative, without extension) into its set
// and source: "sub/mix1.FA" is source FA of set sub/mix1, "mix1/vocals" is
// source vocals of set mix1, "a" is source a of the set ".".
func setOf(key string) (item, source string) {
	dir, base := path.Split(key)
	if i := strings.LastIndex(base, "."); i > 0 {
		return dir + base[:i], base[i+1:]
	}
	return path.Clean(dir), base
}

// evalDirs scores every set of refDir and estDir, jobs at once, writes
// scores.json and scores.csv to outDir and prints the scores.
func evalDirs(ctx context.Context, env *environment, sc scorer, refDir, estDir, outDir string, jobs int, asJSON bool) error {
	sets, failed, err := pairDirs(refDir, estDir)
	if err != nil {
		return err
	}
	if err := makeParentDir(filepath.Join(outDir, "scores.json")); err != nil {
		return err
	}
	sc.atOnce = min(jobs, len(sets))
	done := make([]*evalSet, len(sets))
	errs := make([]error, len(sets))
	parallel.For(ctx, len(sets), jobs, func(i int) { done[i], errs[i] = sc.score(ctx, sets[i]) })
	if err := ctx.Err(); err != nil {
		return err
	}
	b := evalBatch{RefDir: refDir, EstDir: estDir, Permute: sc.permute, Window: sc.window, Hop: sc.hop, Sets: []*evalSet{}, Failed: failed}
	for i, s := range done {
		if errs[i] != nil {
			b.Failed = append(b.Failed, evalFailure{Item: sets[i].Item, Error: oneLine(errs[i])})
			continue
		}
		b.Sets = append(b.Sets, s)
	}
	sort.Slice(b.Failed, func(i, j int) bool { return b.Failed[i].Item < b.Failed[j].Item })
	if b.Failed == nil {
		b.Failed = []evalFailure{}
	}
	if sc.window == 0 {
		var sdr, sir, sar, si []jsonDB
		for _, s := range b.Sets {
			sdr, sir, sar, si = append(sdr, s.Scores.SDR...), append(sir, s.Scores.SIR...), append(sar, s.Scores.SAR...), append(si, s.Scores.SISDR...)
		}
		b.Mean = &evalMean{SDR: jsonDB(meanDB(sdr)), SIR: jsonDB(meanDB(sir)), SAR: jsonDB(meanDB(sar)), SISDR: jsonDB(meanDB(si))}
		var sdri, sisdri []jsonDB
		for _, s := range b.Sets {
			sdri, sisdri = append(sdri, s.Scores.SDRi...), append(sisdri, s.Scores.SISDRi...)
		}
		if sdri != nil {
			m, mi := jsonDB(meanDB(sdri)), jsonDB(meanDB(sisdri))
			b.Mean.SDRi, b.Mean.SISDRi = &m, &mi
		}
	}
	js, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	js = append(js, '\n')
	if err := atomicfile.WriteBytes(filepath.Join(outDir, "scores.json"), js); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(outDir, "scores.csv"), func(w io.Writer) error { return writeBatchCSV(w, b) }); err != nil {
		return err
	}
	for _, f := range b.Failed {
		fmt.Fprintf(env.stderr, "dlnmf eval: %s: %s (not scored)\n", f.Item, f.Error)
	}
	if asJSON {
		_, err = env.stdout.Write(js)
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

// writeBatchCSV writes one row per reference source of every set (and per
// frame with --window).
func writeBatchCSV(w io.Writer, b evalBatch) error {
	cw := csv.NewWriter(w)
	// Names from input are text cells a spreadsheet does not run
	// (csvtext). Undefined scores are empty cells; infinities are +Inf and -Inf,
	// which Python's float() and pandas read.
	cell := func(v jsonDB) string {
		if math.IsNaN(float64(v)) {
			return ""
		}
		return strconv.FormatFloat(float64(v), 'f', 4, 64)
	}
	if b.Window == 0 {
		// SDRi and SI-SDRi columns when some set has its mixture: empty
		// for the others.
		improved := b.Mean != nil && b.Mean.SDRi != nil
		head := []string{"item", "source", "reference", "estimate", "perm", "sdr", "sir", "sar", "si_sdr"}
		if improved {
			head = append(head, "sdri", "si_sdri")
		}
		cw.Write(head)
		for _, s := range b.Sets {
			for i, k := range s.Scores.Perm {
				r := s.Scores
				rec := append(csvtext.Cells(s.Item, s.Sources[i], s.References[i], s.Estimates[k]), strconv.Itoa(k), cell(r.SDR[i]), cell(r.SIR[i]), cell(r.SAR[i]), cell(r.SISDR[i]))
				if improved && r.SDRi != nil {
					rec = append(rec, cell(r.SDRi[i]), cell(r.SISDRi[i]))
				} else if improved {
					rec = append(rec, "", "")
				}
				cw.Write(rec)
			}
		}
	} else {
		cw.Write([]string{"item", "source", "reference", "frame", "start_s", "estimate", "perm", "sdr", "sir", "sar", "si_sdr"})
		for _, s := range b.Sets {
			r := s.Frames
			for i := range r.SDR {
				for f := range r.SDR[i] {
					est, perm := "", ""
					if p := r.Perm[i][f]; p != nil {
						est, perm = s.Estimates[*p], strconv.Itoa(*p)
					}
					start := strconv.FormatFloat(float64(f*r.Hop)/float64(s.Rate), 'f', 3, 64)
					cw.Write([]string{csvtext.Cell(s.Item), csvtext.Cell(s.Sources[i]), csvtext.Cell(s.References[i]), strconv.Itoa(f), start, csvtext.Cell(est), perm, cell(r.SDR[i][f]), cell(r.SIR[i][f]), cell(r.SAR[i][f]), cell(r.SISDR[i][f])})
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// printBatch prints one line per reference source: its scores, or with
// --window the median of its defined frames (as museval summarises).
func printBatch(w io.Writer, b evalBatch) error {
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
				cells := r.improvement(i)
				if improved && cells == "" {
					cells = "\t\t"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Item, s.Sources[i], filepath.Base(s.Estimates[k]),
					fmtDB(float64(r.SDR[i])), fmtDB(float64(r.SIR[i])), fmtDB(float64(r.SAR[i])), fmtDB(float64(r.SISDR[i])), cells)
				continue
			}
			r := s.Frames
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Item, s.Sources[i], "-",
				fmtDB(medianDB(r.SDR[i])), fmtDB(medianDB(r.SIR[i])), fmtDB(medianDB(r.SAR[i])), fmtDB(medianDB(r.SISDR[i])))
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

// medianDB is the median of the defined (not NaN) values, NaN if none.
func medianDB(v []jsonDB) float64 {
	var d []float64
	for _, x := range v {
		if !math.IsNaN(float64(x)) {
			d = append(d, float64(x))
		}
	}
	if len(d) == 0 {
		return math.NaN()
	}
	sort.Float64s(d)
	if n := len(d); n%2 == 1 {
		return d[n/2]
	} else {
		return (d[n/2-1] + d[n/2]) / 2
	}
}
