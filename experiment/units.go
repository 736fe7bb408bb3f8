package experiment

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/internal/openblas"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// Work units. An experiment (or every experiment of a sweep) is cut into
// units that are independent and idempotent: one unit is one repeat of one
// configuration family of one experiment, where a family is the rows that
// share work inside a repeat (Config.Families). Each finished unit is saved
// as DIR/units/uNNNNN.json with the fingerprint of the experiment that made
// it and a checksum of its content; its wall time goes to a separate
// uNNNNN.time.json, so computing a unit twice gives the same bytes.
//
// Units are numbered experiment by experiment, family by family, repeat by
// repeat: unit u of a run sharded N ways belongs to shard u mod N, which
// deals every family's repeats round-robin over the shards (the long
// layered family of 15 repeats splits 8/7 over two shards, not 15/0).

// Job is one experiment of a run: a set of speakers (a pair, in a sweep)
// and its configuration.
type Job struct {
	Name     string // names the experiment in messages and tables; "": the speakers joined by "+"
	Label    string // names the configuration in messages (a sweep's grid point); "": its rows
	Speakers []*corpus.Speaker
	Config   Config
}

// Units computes the units of a list of experiments that belong to one
// shard (Run) and gathers every unit into results (Collect).
type Units struct {
	Dir      string // units go to Dir/units; "" keeps them in memory only
	Jobs     []Job
	Shard    Shard
	Workers  int // units run at once, one core each; 0: GOMAXPROCS
	Progress func(done, total int, what string)

	plan []unitRef
	fps  []fingerprint
	cfgs []Config
	mem  map[int]*unitFile // units computed or read by this process
}

// UnitStats counts what Run did.
type UnitStats struct {
	Units    int     // units of the whole run
	Owned    int     // units of this shard
	Computed int     // computed here
	Loaded   int     // of this shard, already there
	Resumed  int     // repeats (whole, every family) of this shard already there
	Seconds  float64 // wall time of the computed units
}

type unitRef struct {
	index, job, family, repeat int // repeat 0-based
	config                     Config
	label                      string // the family's rows, or selectFamily
	selection                  bool   // the repeat's selection on validation data (Config.Select)
	rows                       int    // rows trained and scored, for progress
}

// fingerprint identifies what a unit was computed from: the experiment's
// whole configuration (defaults applied) and its speakers' files.
type fingerprint struct {
	Config   Config   `json:"config"`
	Speakers []string `json:"speakers"`
	Files    []int    `json:"files"`
	Content  string   `json:"content"` // SHA-256 over every file's name and length, speaker by speaker
}

// unitFile is the saved form of a unit. Sum is the SHA-256 of the file's
// JSON with Sum empty: a truncated or altered file fails it.
type unitFile struct {
	Unit        int         `json:"unit"`
	Experiment  string      `json:"experiment"`
	Family      string      `json:"family"`
	Repeat      int         `json:"repeat"` // 1-based
	Fingerprint fingerprint `json:"fingerprint"`
	Scores      []Score     `json:"scores"`
	Curves      []Curve     `json:"curves"` // their Seconds are zero: timing is in uNNNNN.time.json
	// Selection is a selection unit's validation scores and choice.
	Selection *SelectionRepeat `json:"selection,omitempty"`
	Sum       string           `json:"sum"`
	Examples  []Example        `json:"-"`
}

// Families splits c (defaults applied) into the groups of rows that share
// work inside a repeat: one per NMF size, and one per first-layer size K1
// holding every L-NMF and DL-NMF row on it (they share layer-1 pretraining,
// and each DL-NMF row starts from its L-NMF model). Every row of c is in
// exactly one family, and a family computes its rows exactly as c does:
// seeds and splits depend on the repeat and the speaker, not on the rows.
func (c Config) Families() []Config {
	var out []Config
	c.Select = nil // a selection is a family of its own (Units)
	if c.has(separation.NMF) {
		for _, k := range c.K {
			f := c
			f.Methods = []separation.Method{separation.NMF}
			f.K = []int{k}
			out = append(out, f)
		}
	}
	var layered []separation.Method
	for _, m := range c.Methods {
		if m != separation.NMF {
			layered = append(layered, m)
		}
	}
	if len(layered) == 0 {
		return out
	}
	seen := map[int]bool{}
	for _, l := range c.Layers {
		if seen[l[0]] {
			continue
		}
		seen[l[0]] = true
		f := c
		f.Methods = layered
		f.Layers = nil
		for _, m := range c.Layers {
			if m[0] == l[0] {
				f.Layers = append(f.Layers, m)
			}
		}
		out = append(out, f)
	}
	return out
}

// unitsPerRepeat is the number of units of one repeat of c (defaults
// applied): its families and its selection.
func unitsPerRepeat(c Config) int {
	n := len(c.Families())
	if c.Select != nil {
		n++
	}
	return n
}

func familyLabel(f Config) string {
	rows := f.Rows()
	s := make([]string, len(rows))
	for i, r := range rows {
		s[i] = r.Label()
	}
	return strings.Join(s, ", ")
}

func (j Job) name() string {
	if j.Name != "" {
		return j.Name
	}
	return strings.Join(speakerNames(j.Speakers), "+")
}

func speakerNames(sps []*corpus.Speaker) []string {
	n := make([]string, len(sps))
	for i, s := range sps {
		n[i] = s.Name
	}
	return n
}

func newFingerprint(cfg Config, sps []*corpus.Speaker) fingerprint {
	fp := fingerprint{Config: cfg, Speakers: speakerNames(sps)}
	h := sha256.New()
	for _, sp := range sps {
		fp.Files = append(fp.Files, len(sp.Utterances))
		fmt.Fprintf(h, "%s\n", sp.Name)
		for _, u := range sp.Utterances {
			fmt.Fprintf(h, "%s %d\n", u.Name, len(u.Samples))
		}
	}
	fp.Content = hex.EncodeToString(h.Sum(nil))[:16]
	return fp
}

// prepare expands the jobs into units, once.
func (s *Units) prepare() error {
	if s.plan != nil {
		return nil
	}
	if s.mem == nil {
		s.mem = map[int]*unitFile{}
	}
	for j, job := range s.Jobs {
		cfg, err := job.Config.Defaults()
		if err != nil {
			return fmt.Errorf("%s: %w", job.name(), err)
		}
		if len(job.Speakers) < 2 {
			return fmt.Errorf("%s: the experiment needs at least 2 speakers, got %d", job.name(), len(job.Speakers))
		}
		s.cfgs = append(s.cfgs, cfg)
		s.fps = append(s.fps, newFingerprint(cfg, job.Speakers))
		families := cfg.Families()
		for f, fc := range families {
			for rep := range cfg.Repeats {
				s.plan = append(s.plan, unitRef{index: len(s.plan), job: j, family: f, repeat: rep, config: fc, label: familyLabel(fc), rows: len(fc.Rows())})
			}
		}
		// A selection is one more family: its units follow the rows'.
		if cfg.Select != nil {
			points, err := cfg.SelectPoints()
			if err != nil {
				return fmt.Errorf("%s: %w", job.name(), err)
			}
			for rep := range cfg.Repeats {
				s.plan = append(s.plan, unitRef{index: len(s.plan), job: j, family: len(families), repeat: rep, config: cfg,
					label: selectFamily, selection: true, rows: len(points) + 1})
			}
		}
	}
	if len(s.plan) == 0 {
		return errors.New("the experiment has no rows to compute")
	}
	return nil
}

// Count is the number of units of the whole run.
func (s *Units) Count() (int, error) {
	if err := s.prepare(); err != nil {
		return 0, err
	}
	return len(s.plan), nil
}

func (s *Units) path(u int) string {
	return filepath.Join(s.Dir, "units", fmt.Sprintf("u%05d.json", u))
}

func (s *Units) describe(u unitRef) string {
	what := u.label
	if l := s.Jobs[u.job].Label; l != "" {
		what = l
	}
	return fmt.Sprintf("unit %d (%s, %s, repeat %d)", u.index, s.Jobs[u.job].name(), what, u.repeat+1)
}

// errCorrupt marks a unit file that is truncated or altered.
var errCorrupt = errors.New("corrupt")

// load reads unit u from disk: (nil, nil) when it is not there, errCorrupt
// when it is damaged (it is then computed again), and an error naming both
// configurations when it was made by another experiment.
func (s *Units) load(u unitRef) (*unitFile, error) {
	if f := s.mem[u.index]; f != nil {
		return f, nil
	}
	if s.Dir == "" {
		return nil, nil
	}
	b, err := os.ReadFile(s.path(u.index))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f unitFile
	if json.Unmarshal(b, &f) != nil {
		return nil, errCorrupt
	}
	sum := f.Sum
	f.Sum = ""
	if sum == "" || checksum(&f) != sum {
		return nil, errCorrupt
	}
	f.Sum = sum
	want := s.fps[u.job]
	if !sameFingerprint(f.Fingerprint, want) || f.Unit != u.index || f.Family != u.label || f.Repeat != u.repeat+1 {
		d := fingerprintDiff(f.Fingerprint, want)
		if d == "" {
			d = fmt.Sprintf("there unit %d is %s, repeat %d; here %s, repeat %d", f.Unit, f.Family, f.Repeat, u.label, u.repeat+1)
		}
		return nil, fmt.Errorf("%s holds a unit of another experiment (%s): use another output folder, or delete its units folder to start over", s.path(u.index), d)
	}
	if u.repeat == 0 && s.cfgs[u.job].Examples > 0 {
		f.Examples = readExamples(s.path(u.index) + ".examples")
	}
	return &f, nil
}

func checksum(f *unitFile) string {
	b, _ := json.Marshal(f)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func sameFingerprint(a, b fingerprint) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// fingerprintDiff names the settings in which a and b differ, as
// "iters: 20 there, 200 here; ...", or returns "" when they agree.
func fingerprintDiff(there, here fingerprint) string {
	flat := func(fp fingerprint) map[string]string {
		b, _ := json.Marshal(fp)
		var m map[string]any
		json.Unmarshal(b, &m)
		out := map[string]string{}
		var walk func(prefix string, v any)
		walk = func(prefix string, v any) {
			if o, ok := v.(map[string]any); ok {
				for k, x := range o {
					walk(strings.TrimPrefix(prefix+"."+k, "."), x)
				}
				return
			}
			js, _ := json.Marshal(v)
			out[prefix] = string(js)
		}
		walk("", m)
		return out
	}
	a, b := flat(there), flat(here)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var diffs []string
	for k := range keys {
		if a[k] != b[k] {
			name := strings.TrimPrefix(k, "config.")
			diffs = append(diffs, fmt.Sprintf("%s: %s there, %s here", name, orNone(a[k]), orNone(b[k])))
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Run computes this shard's units that are not already in Dir (or are
// damaged there), several at once. Before computing anything it checks
// every unit already in Dir, so a folder of another experiment is an error
// and nothing in it is lost.
func (s *Units) Run(ctx context.Context) (UnitStats, error) {
	var st UnitStats
	if err := s.prepare(); err != nil {
		return st, err
	}
	st.Units = len(s.plan)
	if s.Dir != "" {
		dir := filepath.Join(s.Dir, "units")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return st, fmt.Errorf("output folder: %w", err)
		}
		probe, err := os.CreateTemp(dir, ".probe-*")
		if err != nil {
			return st, fmt.Errorf("output folder %s is not writable: %w", dir, err)
		}
		probe.Close()
		os.Remove(probe.Name())
	}
	var todo []unitRef
	done := map[[2]int]int{} // (job, repeat) -> families already there, of this shard
	rowsDone := 0
	total := 0
	for _, u := range s.plan {
		f, err := s.load(u)
		if err != nil && !errors.Is(err, errCorrupt) {
			return st, err
		}
		if !s.Shard.Owns(u.index) {
			continue
		}
		st.Owned++
		total += u.rows
		if f != nil {
			s.mem[u.index] = f
			st.Loaded++
			rowsDone += u.rows
			done[[2]int{u.job, u.repeat}]++
			continue
		}
		todo = append(todo, u)
	}
	for k, n := range done {
		if n == unitsPerRepeat(s.cfgs[k[0]]) {
			st.Resumed++
		}
	}
	var mu sync.Mutex
	if s.Progress != nil && st.Loaded > 0 {
		s.Progress(rowsDone, total, fmt.Sprintf("%d units already there", st.Loaded))
	}
	progress := func(what string) {
		mu.Lock()
		rowsDone++
		if s.Progress != nil {
			s.Progress(rowsDone, total, what)
		}
		mu.Unlock()
	}
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(todo)))
	// Whole units run in parallel, each on one core; BLAS stays on one
	// thread for the whole run, however many units run at once, so that the
	// scores do not depend on --jobs (the thread count changes OpenBLAS's
	// roundings).
	defer openblas.HoldSingle()()
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		u     unitRef
		cores int
	}
	next := make(chan job)
	var (
		wg      sync.WaitGroup
		firstEr error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				f, err := s.compute(ctx, j.u, j.cores, progress)
				mu.Lock()
				if err != nil && firstEr == nil {
					firstEr = fmt.Errorf("%s: %w", s.describe(j.u), err)
					cancel()
				}
				if err == nil {
					s.mem[j.u.index] = f
					st.Computed++
				}
				mu.Unlock()
			}
		}()
	}
	for i, u := range todo {
		// A unit runs on one core while others run beside it; the last
		// ones, fewer than the workers, share the cores that free up. The
		// engine's results do not depend on its number of cores, so a unit
		// gives the same bytes in any shard and any process.
		cores := 1
		if left := len(todo) - i; left < workers {
			cores = workers / left
		}
		select {
		case next <- job{u, cores}:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	st.Seconds = time.Since(start).Seconds()
	if firstEr == nil && ctx.Err() != nil {
		firstEr = ctx.Err()
	}
	if firstEr != nil {
		if errors.Is(firstEr, context.Canceled) {
			return st, context.Canceled
		}
		return st, firstEr
	}
	return st, nil
}

// compute runs one unit and saves it.
func (s *Units) compute(ctx context.Context, u unitRef, cores int, progress func(string)) (*unitFile, error) {
	job := s.Jobs[u.job]
	keep := 0
	if u.repeat == 0 {
		keep = u.config.Examples
	}
	t := time.Now()
	step := func(what string) {
		progress(fmt.Sprintf("%s repeat %d: %s", job.name(), u.repeat+1, what))
	}
	var (
		rr  *RepeatResult
		sel *SelectionRepeat
		err error
	)
	if u.selection {
		rr, sel, err = runSelection(ctx, job.Speakers, s.cfgs[u.job], u.repeat, keep, cores, step)
	} else {
		rr, err = RunRepeat(ctx, job.Speakers, u.config, u.repeat, keep, cores, step)
	}
	if err != nil {
		return nil, err
	}
	f := &unitFile{Unit: u.index, Experiment: job.name(), Family: u.label, Repeat: u.repeat + 1,
		Fingerprint: s.fps[u.job], Scores: rr.Scores, Curves: rr.Curves, Selection: sel, Examples: rr.Examples}
	for i := range f.Curves {
		f.Curves[i].Seconds = 0
	}
	computed := time.Since(t)
	if err := s.save(u, f); err != nil || s.Dir == "" {
		return f, err
	}
	host, _ := os.Hostname()
	var points []float64
	if sel != nil {
		points = sel.Seconds
	}
	tb, _ := json.Marshal(struct {
		Seconds     float64 `json:"seconds"`      // computing the unit
		SaveSeconds float64 `json:"save_seconds"` // checksumming and writing it (with its example audio)
		Shard       string  `json:"shard"`
		Host        string  `json:"host"`
		// A selection's: each grid point's training and validation, then
		// the chosen one's training and test.
		PointSeconds []float64 `json:"point_seconds,omitempty"`
	}{computed.Seconds(), (time.Since(t) - computed).Seconds(), s.Shard.String(), host, points})
	return f, atomicfile.WriteBytes(strings.TrimSuffix(s.path(u.index), ".json")+".time.json", append(tb, '\n'))
}

// save sets f's checksum and writes it (and its example audio) to Dir,
// atomically: the unit file is renamed into place last.
func (s *Units) save(u unitRef, f *unitFile) error {
	f.Sum = ""
	f.Sum = checksum(f)
	if s.Dir == "" {
		return nil
	}
	if len(f.Examples) > 0 {
		if err := writeExamples(s.path(u.index)+".examples", sampleRateOf(u.config), f.Examples); err != nil {
			return err
		}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(s.path(u.index), append(b, '\n'))
}

// MissingError lists the units that Collect did not find.
type MissingError struct {
	Units []string // descriptions, in unit order
	Total int
}

func (e *MissingError) Error() string {
	const show = 5
	names := e.Units
	more := ""
	if len(names) > show {
		more = fmt.Sprintf(" and %d more", len(names)-show)
		names = names[:show]
	}
	return fmt.Sprintf("%d of %d units are missing or damaged: %s%s; run their shards first", len(e.Units), e.Total, strings.Join(names, "; "), more)
}

// Collect gathers every unit of the run into one Results per job, in job
// order. It computes nothing: a missing or damaged unit is a *MissingError
// naming them.
func (s *Units) Collect() ([]*Results, error) {
	if err := s.prepare(); err != nil {
		return nil, err
	}
	files := make([]*unitFile, len(s.plan))
	var missing []string
	for _, u := range s.plan {
		f, err := s.load(u)
		switch {
		case errors.Is(err, errCorrupt):
			missing = append(missing, s.describe(u)+" damaged")
		case err != nil:
			return nil, err
		case f == nil:
			missing = append(missing, s.describe(u))
		}
		files[u.index] = f
	}
	if len(missing) > 0 {
		return nil, &MissingError{Units: missing, Total: len(s.plan)}
	}
	out := make([]*Results, len(s.Jobs))
	for j, job := range s.Jobs {
		cfg := s.cfgs[j]
		res := &Results{Config: cfg, Speakers: speakerNames(job.Speakers)}
		var units []*unitFile
		for _, u := range s.plan {
			if u.job == j {
				units = append(units, files[u.index])
			}
		}
		// Scores repeat by repeat, families in order within a repeat.
		sort.SliceStable(units, func(a, b int) bool { return units[a].Repeat < units[b].Repeat })
		for _, f := range units {
			res.Scores = append(res.Scores, f.Scores...)
			if f.Selection != nil {
				res.Selection = append(res.Selection, *f.Selection)
			}
			if f.Repeat == 1 {
				res.Curves = append(res.Curves, f.Curves...)
				res.Examples = mergeExamples(res.Examples, f.Examples)
			}
		}
		res.Rows, res.Paired = summarise(cfg, res.Speakers, res.Scores)
		out[j] = res
	}
	return out, nil
}

// mergeExamples adds the estimates of another family's first repeat to the
// same test mixtures.
func mergeExamples(into, from []Example) []Example {
	if into == nil {
		for _, e := range from {
			c := e
			c.Estimates = map[string][][]float64{}
			for k, v := range e.Estimates {
				c.Estimates[k] = v
			}
			into = append(into, c)
		}
		return into
	}
	for i := range min(len(into), len(from)) {
		for k, v := range from[i].Estimates {
			into[i].Estimates[k] = v
		}
	}
	return into
}

// Example audio of a first repeat is kept as 32-bit float WAV files beside
// its unit, so that a summary made later, or elsewhere, still shows and
// plays the examples.
type exampleIndex struct {
	Name    string   `json:"name"`
	Sources int      `json:"sources"`
	Rows    []string `json:"rows"`
}

func writeExamples(dir string, rate int, ex []Example) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var index []exampleIndex
	write := func(name string, x []float64) error {
		_, err := wav.WriteFile(filepath.Join(dir, name), x, rate, wav.Float32)
		return err
	}
	for j, e := range ex {
		idx := exampleIndex{Name: e.Name, Sources: len(e.Sources)}
		if err := write(fmt.Sprintf("e%d-mix.wav", j), e.Mixture); err != nil {
			return err
		}
		for i, s := range e.Sources {
			if err := write(fmt.Sprintf("e%d-src%d.wav", j, i), s); err != nil {
				return err
			}
		}
		for row := range e.Estimates {
			idx.Rows = append(idx.Rows, row)
		}
		sort.Strings(idx.Rows)
		for k, row := range idx.Rows {
			for i, s := range e.Estimates[row] {
				if err := write(fmt.Sprintf("e%d-row%d-est%d.wav", j, k, i), s); err != nil {
					return err
				}
			}
		}
		index = append(index, idx)
	}
	b, err := json.Marshal(index)
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "index.json"), b)
}

func readExamples(dir string) []Example {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil
	}
	var index []exampleIndex
	if json.Unmarshal(b, &index) != nil {
		return nil
	}
	read := func(name string) []float64 {
		a, err := wav.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil
		}
		return a.Mono()
	}
	var out []Example
	for j, idx := range index {
		e := Example{Name: idx.Name, Mixture: read(fmt.Sprintf("e%d-mix.wav", j)), Estimates: map[string][][]float64{}}
		for i := range idx.Sources {
			e.Sources = append(e.Sources, read(fmt.Sprintf("e%d-src%d.wav", j, i)))
		}
		for k, row := range idx.Rows {
			for i := range idx.Sources {
				e.Estimates[row] = append(e.Estimates[row], read(fmt.Sprintf("e%d-row%d-est%d.wav", j, k, i)))
			}
		}
		if e.Mixture == nil {
			return nil
		}
		out = append(out, e)
	}
	return out
}
