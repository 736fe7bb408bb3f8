package openblas

import "sync"

// The thread count of OpenBLAS is process-wide state: this file is its one
// owner. Code that needs single-threaded BLAS takes a hold; nothing else sets
// the count.
var hold struct {
	mu    sync.Mutex
	n     int // holds taken and not yet released
	saved int // the count before the first hold
}

// HoldSingle switches OpenBLAS to one thread until the returned release is
// called: for callers that run their own goroutines over independent blocks
// (two thread pools fighting over the same cores are slower than either
// alone), and for results that must not depend on the thread count (OpenBLAS
// blocks the inner dimension of a product differently with one thread and
// with several, so the roundings differ). Holds may overlap and nest, from
// any goroutine: the first sets one thread, the last release restores the
// count the process had before the first. Calling release again does
// nothing. Without OpenBLAS it does nothing.
func HoldSingle() (release func()) {
	if !Enabled {
		return func() {}
	}
	hold.mu.Lock()
	if hold.n == 0 {
		hold.saved = threads()
		setThreads(1)
	}
	hold.n++
	hold.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			hold.mu.Lock()
			defer hold.mu.Unlock()
			hold.n--
			if hold.n == 0 {
				setThreads(hold.saved)
			}
		})
	}
}

// Threads returns the number of threads OpenBLAS uses now (1 without
// OpenBLAS).
func Threads() int { return threads() }
