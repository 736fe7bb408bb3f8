package scoring

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/internal/csvtext"
	"github.com/dlnmf/dlnmf/internal/parallel"
)

// Batch is what ScoreDirs scored: the contents of scores.json.
type Batch struct {
	RefDir  string    `json:"ref_dir"`
	EstDir  string    `json:"est_dir"`
	Permute bool      `json:"permute"`
	Window  int       `json:"window,omitempty"`
	Hop     int       `json:"hop,omitempty"`
	Sets    []*Set    `json:"sets"`   // the sets scored, by name
	Failed  []Failure `json:"failed"` // the sets not scored, by name
	// Mean is the mean of every reference source of every set scored, of
	// the finite scores (whole signals only).
	Mean *Mean `json:"mean,omitempty"`
}

// Failure is a set that could not be scored, and why.
type Failure struct {
	Item  string `json:"item"`
	Error string `json:"error"`
}

// Mean is a batch's mean scores.
type Mean struct {
	SDR   DB `json:"sdr"`
	SIR   DB `json:"sir"`
	SAR   DB `json:"sar"`
	SISDR DB `json:"si_sdr"`
	// Over the sets with a mixture, when some have one.
	SDRi   *DB `json:"sdri,omitempty"`
	SISDRi *DB `json:"si_sdri,omitempty"`
}

// PairDirs pairs the audio files of refDir and estDir by their path
// relative to the folder, without the extension, and groups them into sets
// with their mixtures, by the rules of the package doc. The sets come in
// order of their names, their sources in order of theirs. A set with a
// file missing on either side is returned as a failure.
func PairDirs(refDir, estDir string) ([]Set, []Failure, error) {
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
	var sets []Set
	var failed []Failure
	for _, item := range names {
		if m := missing[item]; len(m) > 0 {
			sort.Strings(m)
			failed = append(failed, Failure{Item: item, Error: strings.Join(m, "; ")})
			continue
		}
		ms := items[item]
		sort.Slice(ms, func(i, j int) bool { return ms[i].source < ms[j].source })
		set := Set{Item: item, Mixture: mixtures[item]}
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

// ScoreDirs scores every set of refDir and estDir (PairDirs), s.Jobs at
// once. When outDir is not empty, it is created, with its parents, before
// any scoring, and receives scores.json (Batch.JSON) and scores.csv
// (Batch.WriteCSV), each whole or not at all. A set that could not be
// paired or scored is in the batch's Failed, with the error on one line;
// the error returned is for the batch as a whole.
func ScoreDirs(ctx context.Context, refDir, estDir, outDir string, s Settings) (*Batch, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	sets, failed, err := PairDirs(refDir, estDir)
	if err != nil {
		return nil, err
	}
	if outDir != "" {
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return nil, fmt.Errorf("%s: cannot write there: %w", filepath.Join(outDir, "scores.json"), err)
		}
	}
	jobs := s.Jobs
	if jobs == 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	atOnce := min(jobs, len(sets))
	done := make([]*Set, len(sets))
	errs := make([]error, len(sets))
	parallel.For(ctx, len(sets), jobs, func(i int) { done[i], errs[i] = score(ctx, sets[i], s, atOnce) })
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := &Batch{RefDir: refDir, EstDir: estDir, Permute: s.Permute, Window: s.Window, Hop: s.hop(), Sets: []*Set{}, Failed: failed}
	for i, set := range done {
		if errs[i] != nil {
			b.Failed = append(b.Failed, Failure{Item: sets[i].Item, Error: strings.Join(strings.Fields(errs[i].Error()), " ")})
			continue
		}
		b.Sets = append(b.Sets, set)
	}
	sort.Slice(b.Failed, func(i, j int) bool { return b.Failed[i].Item < b.Failed[j].Item })
	if b.Failed == nil {
		b.Failed = []Failure{}
	}
	if s.Window == 0 {
		b.Mean = mean(b.Sets)
	}
	if outDir != "" {
		js, err := b.JSON()
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteBytes(filepath.Join(outDir, "scores.json"), js); err != nil {
			return nil, err
		}
		if err := atomicfile.Write(filepath.Join(outDir, "scores.csv"), b.WriteCSV); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// mean is the mean scores of sets scored over whole signals.
func mean(sets []*Set) *Mean {
	var sdr, sir, sar, si, sdri, sisdri []DB
	for _, s := range sets {
		sdr, sir, sar, si = append(sdr, s.Scores.SDR...), append(sir, s.Scores.SIR...), append(sar, s.Scores.SAR...), append(si, s.Scores.SISDR...)
		sdri, sisdri = append(sdri, s.Scores.SDRi...), append(sisdri, s.Scores.SISDRi...)
	}
	m := &Mean{SDR: DB(MeanDB(sdr)), SIR: DB(MeanDB(sir)), SAR: DB(MeanDB(sar)), SISDR: DB(MeanDB(si))}
	if sdri != nil {
		d, di := DB(MeanDB(sdri)), DB(MeanDB(sisdri))
		m.SDRi, m.SISDRi = &d, &di
	}
	return m
}

// JSON returns what scores.json holds: b, indented, and a newline.
func (b *Batch) JSON() ([]byte, error) {
	js, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(js, '\n'), nil
}

// WriteCSV writes what scores.csv holds: one row per reference source of
// every set, and per frame with a window.
func (b *Batch) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	// Names from input are text cells a spreadsheet does not run
	// (csvtext). Undefined scores are empty cells; infinities are +Inf and -Inf,
	// which Python's float() and pandas read.
	cell := func(v DB) string {
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
