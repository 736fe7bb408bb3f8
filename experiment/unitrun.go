package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/internal/openblas"
)

// Computing a shard's units: Run schedules them on the machine's cores
// (its own pool, one core per unit with single-threaded BLAS).

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
		if n == s.perRepeat[k[0]] {
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
		ir  *interferenceRepeat
		err error
	)
	switch {
	case job.interference != nil:
		ir, err = job.interference.repeat(ctx, u.repeat, cores, step)
		rr = &RepeatResult{Repeat: u.repeat}
	case u.selection:
		rr, sel, err = runSelection(ctx, job.Speakers, s.cfgs[u.job], u.repeat, keep, cores, step)
	default:
		rr, err = RunRepeat(ctx, job.Speakers, u.config, u.repeat, keep, cores, step)
	}
	if err != nil {
		return nil, err
	}
	f := &unitFile{Unit: u.index, Experiment: job.name(), Family: u.label, Repeat: u.repeat + 1,
		Fingerprint: s.fps[u.job], Scores: rr.Scores, Curves: rr.Curves, Selection: sel, Interference: ir, Examples: rr.Examples}
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
