package openblas

import (
	"sync"
	"testing"
)

// Holds nest and overlap: one thread from the first hold to the last
// release, then the count from before; a second call of a release does
// nothing.
func TestHoldSingleNests(t *testing.T) {
	if !Enabled {
		t.Skip("skipping: no OpenBLAS in this build, HoldSingle does nothing")
	}
	before := threads()
	defer setThreads(before)
	setThreads(2)
	r1 := HoldSingle()
	r2 := HoldSingle()
	if got := Threads(); got != 1 {
		t.Fatalf("under two holds: %d threads, want 1", got)
	}
	r1()
	r1()
	if got := Threads(); got != 1 {
		t.Fatalf("one hold left (and a release called twice): %d threads, want 1", got)
	}
	r2()
	if got := Threads(); got != 2 {
		t.Fatalf("after the last release: %d threads, want the 2 from before", got)
	}
	// From many goroutines at once.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release := HoldSingle()
			if got := Threads(); got != 1 {
				t.Errorf("under a concurrent hold: %d threads, want 1", got)
			}
			release()
		}()
	}
	wg.Wait()
	if got := Threads(); got != 2 {
		t.Fatalf("after concurrent holds: %d threads, want 2", got)
	}
}
