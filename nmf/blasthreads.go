package nmf

import (
	"sync"

	"github.com/dlnmf/dlnmf/internal/openblas"
)

// blasThreads keeps OpenBLAS on one thread while any solver runs: the KL
// path runs its own goroutines over column blocks (two BLAS thread pools
// fighting over the same cores are slower than either alone), and OpenBLAS
// rounds differently with one thread and with several, which would make
// results depend on the machine's parallelism. It goes through
// openblas.HoldSingle, the one owner of the process-wide thread count: the
// count before the first hold comes back when the last solver ends.
var blasThreads singleBLAS

// singleBLAS pairs acquire and release calls with holds of
// openblas.HoldSingle (which are counted, so any release ends one hold).
type singleBLAS struct {
	mu       sync.Mutex
	releases []func()
}

func (b *singleBLAS) acquire() {
	release := openblas.HoldSingle()
	b.mu.Lock()
	b.releases = append(b.releases, release)
	b.mu.Unlock()
}

func (b *singleBLAS) release() {
	b.mu.Lock()
	release := b.releases[len(b.releases)-1]
	b.releases = b.releases[:len(b.releases)-1]
	b.mu.Unlock()
	release()
}
