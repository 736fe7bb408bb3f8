package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/internal/openblas"
	"github.com/dlnmf/dlnmf/wav"
)

// Runner runs an experiment's repeats, several at once, saving each finished
// repeat in Dir so that an interrupted run resumes where it stopped.
type Runner struct {
	Dir      string // where repeats are saved; "" keeps nothing on disk
	Config   Config
	Speakers []*corpus.Speaker
	Workers  int // repeats run at once, one core each; 0: GOMAXPROCS
	// Progress, when set, is called after every trained method of every
	// repeat (done counts them over the whole run) and for resumed repeats.
	Progress func(done, total int, what string)
}

// Results is a finished experiment.
type Results struct {
	Config   Config       `json:"config"`
	Speakers []string     `json:"speakers"`
	Rows     []SummaryRow `json:"rows"`
	Paired   []Paired     `json:"paired"`
	Seconds  float64      `json:"seconds"` // wall time of the repeats computed by this run
	Resumed  int          `json:"resumed"` // repeats loaded from an earlier run
	Scores   []Score      `json:"-"`
	Curves   []Curve      `json:"-"` // of the first repeat
	Examples []Example    `json:"-"` // of the first repeat
}

// fingerprint identifies what a saved repeat was computed from.
type fingerprint struct {
	Config   Config   `json:"config"`
	Speakers []string `json:"speakers"`
	Files    []int    `json:"files"`
}

type savedRepeat struct {
	Fingerprint fingerprint   `json:"fingerprint"`
	Result      *RepeatResult `json:"result"`
}

// Run runs every repeat not already saved in Dir and summarises them all.
func (r *Runner) Run(ctx context.Context) (*Results, error) {
	cfg, err := r.Config.Defaults()
	if err != nil {
		return nil, err
	}
	fp := fingerprint{Config: cfg}
	for _, sp := range r.Speakers {
		fp.Speakers = append(fp.Speakers, sp.Name)
		fp.Files = append(fp.Files, len(sp.Utterances))
	}
	if r.Dir != "" {
		if err := os.MkdirAll(filepath.Join(r.Dir, "repeats"), 0o755); err != nil {
			return nil, err
		}
	}
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, cfg.Repeats)
	if workers > 1 {
		// Whole repeats run in parallel, each on one core.
		prev := openblas.Threads()
		openblas.SetThreads(1)
		defer openblas.SetThreads(prev)
	}
	total := cfg.Repeats * len(cfg.Rows())
	var (
		mu      sync.Mutex
		done    int
		results = make([]*RepeatResult, cfg.Repeats)
		firstEr error
	)
	progress := func(what string) {
		mu.Lock()
		done++
		if r.Progress != nil {
			r.Progress(done, total, what)
		}
		mu.Unlock()
	}
	res := &Results{Config: cfg, Speakers: fp.Speakers}
	var todo []int
	for rep := range cfg.Repeats {
		if saved, ok := r.load(rep, fp); ok {
			results[rep] = saved
			res.Resumed++
			mu.Lock()
			done += len(cfg.Rows())
			if r.Progress != nil {
				r.Progress(done, total, fmt.Sprintf("repeat %d resumed", rep+1))
			}
			mu.Unlock()
			continue
		}
		todo = append(todo, rep)
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct{ rep, cores int }
	next := make(chan job)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				rep := j.rep
				keep := 0
				if rep == 0 {
					keep = cfg.Examples
				}
				rr, err := RunRepeat(ctx, r.Speakers, cfg, rep, keep, j.cores, func(what string) {
					progress(fmt.Sprintf("repeat %d: %s", rep+1, what))
				})
				if err == nil {
					err = r.save(rr, fp)
				}
				mu.Lock()
				if err != nil && firstEr == nil {
					firstEr = fmt.Errorf("repeat %d: %w", rep+1, err)
					cancel()
				}
				results[rep] = rr
				mu.Unlock()
			}
		}()
	}
	for i, rep := range todo {
		// A repeat runs on one core while others run beside it; the last
		// ones, fewer than the workers, share the cores that free up.
		cores := 1
		if left := len(todo) - i; left < workers {
			cores = workers / left
		}
		select {
		case next <- job{rep, cores}:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if firstEr == nil && ctx.Err() != nil {
		firstEr = ctx.Err() // interrupted before every repeat was handed out
	}
	if firstEr != nil {
		if errors.Is(firstEr, context.Canceled) && ctx.Err() != nil {
			return nil, context.Canceled
		}
		return nil, firstEr
	}
	res.Seconds = time.Since(start).Seconds()
	for _, rr := range results {
		res.Scores = append(res.Scores, rr.Scores...)
	}
	res.Curves = results[0].Curves
	res.Examples = results[0].Examples
	if res.Examples == nil && cfg.Examples > 0 {
		res.Examples = r.loadExamples(cfg)
	}
	res.Rows, res.Paired = summarise(cfg, fp.Speakers, res.Scores)
	return res, nil
}

func (r *Runner) repeatPath(rep int) string {
	return filepath.Join(r.Dir, "repeats", fmt.Sprintf("r%02d.json", rep+1))
}

// load returns the saved repeat rep if it was computed with fp.
func (r *Runner) load(rep int, fp fingerprint) (*RepeatResult, bool) {
	if r.Dir == "" {
		return nil, false
	}
	b, err := os.ReadFile(r.repeatPath(rep))
	if err != nil {
		return nil, false
	}
	var s savedRepeat
	if json.Unmarshal(b, &s) != nil || s.Result == nil {
		return nil, false
	}
	want, _ := json.Marshal(fp)
	got, _ := json.Marshal(s.Fingerprint)
	if string(want) != string(got) {
		return nil, false
	}
	return s.Result, true
}

// save writes a finished repeat (and the first repeat's example audio).
func (r *Runner) save(rr *RepeatResult, fp fingerprint) error {
	if r.Dir == "" {
		return nil
	}
	if len(rr.Examples) > 0 {
		if err := r.saveExamples(rr.Examples); err != nil {
			return err
		}
	}
	b, err := json.Marshal(savedRepeat{Fingerprint: fp, Result: rr})
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(r.repeatPath(rr.Repeat), b)
}

// Example audio is kept as 32-bit float WAV files beside the repeats, so a
// resumed run can still show and play the examples.
type exampleIndex struct {
	Name    string   `json:"name"`
	Sources int      `json:"sources"`
	Rows    []string `json:"rows"`
}

func (r *Runner) saveExamples(ex []Example) error {
	dir := filepath.Join(r.Dir, "repeats", "examples")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var index []exampleIndex
	write := func(name string, x []float64) error {
		_, err := wav.WriteFile(filepath.Join(dir, name), x, sampleRateOf(r.Config), wav.Float32)
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

func (r *Runner) loadExamples(cfg Config) []Example {
	dir := filepath.Join(r.Dir, "repeats", "examples")
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

func sampleRateOf(c Config) int {
	if c.SampleRate == 0 {
		return 16000
	}
	return c.SampleRate
}
