// Package parallel runs independent pieces of work on a bounded number of
// goroutines, for the command and the library packages that process many
// files at once.
package parallel

import (
	"context"
	"sync"
)

// For calls work(i) for every i in [0, n), on up to workers goroutines at
// once, in order of i; once ctx is done no further i is started (but the
// one being handed out as it ends). It returns when every started call
// has returned.
func For(ctx context.Context, n, workers int, work func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				work(i)
			}
		}()
	}
feed:
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
}
