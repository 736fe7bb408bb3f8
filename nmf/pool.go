package nmf

import (
	"runtime"
	"sync"
)

// pool runs row ranges of one elementwise pass on persistent goroutines, so
// a pass allocates nothing. Each solver owns one; stop ends its goroutines.
type pool struct {
	workers int
	tasks   chan task
	wg      sync.WaitGroup
}

// task is rows [lo, hi) of a pass; part indexes per-worker partial sums.
type task struct {
	run          func(lo, hi, part int)
	lo, hi, part int
}

func newPool(workers int) *pool {
	p := &pool{workers: workers}
	if workers > 1 {
		tasks := make(chan task, workers)
		p.tasks = tasks
		for w := 0; w < workers; w++ {
			go func() {
				// Subnormals flushed on this worker's thread, as on the
				// solver's (see flushDenormals).
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				defer restoreFP(flushDenormals())
				for t := range tasks {
					t.run(t.lo, t.hi, t.part)
					p.wg.Done()
				}
			}()
		}
	}
	return p
}

// parallel calls run on [0, n) split into at most workers contiguous ranges
// of at least minRows rows each, and waits. run must be a func value made
// once (a method value stored in the solver), not a fresh closure.
func (p *pool) parallel(n, minRows int, run func(lo, hi, part int)) {
	parts := min(p.workers, max(1, n/max(minRows, 1)))
	if parts <= 1 {
		run(0, n, 0)
		return
	}
	p.wg.Add(parts - 1)
	for w := 1; w < parts; w++ {
		p.tasks <- task{run: run, lo: w * n / parts, hi: (w + 1) * n / parts, part: w}
	}
	run(0, n/parts, 0)
	p.wg.Wait()
}

// stop ends the goroutines; the pool must not be used afterwards.
func (p *pool) stop() {
	if p.tasks != nil {
		close(p.tasks)
		p.tasks = nil
		p.workers = 1
	}
}
