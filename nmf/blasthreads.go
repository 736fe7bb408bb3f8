package nmf

import (
	"sync"

	"github.com/dlnmf/dlnmf/internal/openblas"
)

// blasThreads switches OpenBLAS to one thread while any KL solver runs its
// own goroutines over column blocks (two BLAS thread pools fighting over the
// same cores are slower than either alone), and restores the previous count
// when the last such solver ends. The setting is process-wide: other BLAS
// users running meanwhile get single-threaded products (correct, slower).
var blasThreads threadHold

type threadHold struct {
	mu    sync.Mutex
	holds int
	saved int
}

func (h *threadHold) acquire() {
	if !openblas.Enabled {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.holds == 0 {
		h.saved = openblas.Threads()
		openblas.SetThreads(1)
	}
	h.holds++
}

func (h *threadHold) release() {
	if !openblas.Enabled {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.holds--
	if h.holds == 0 {
		openblas.SetThreads(h.saved)
	}
}
