package parallel

import (
	"context"
	"sync/atomic"
	"testing"
)

func TestForCallsEveryIndexOnce(t *testing.T) {
	const n = 50
	var calls [n]atomic.Int32
	var running, most atomic.Int32
	For(context.Background(), n, 3, func(i int) {
		r := running.Add(1)
		for {
			m := most.Load()
			if r <= m || most.CompareAndSwap(m, r) {
				break
			}
		}
		calls[i].Add(1)
		running.Add(-1)
	})
	for i := range calls {
		if c := calls[i].Load(); c != 1 {
			t.Errorf("work(%d) called %d times", i, c)
		}
	}
	if m := most.Load(); m > 3 {
		t.Errorf("%d calls at once, want at most 3", m)
	}
}

func TestForStopsStartingOnceDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var started atomic.Int32
	For(ctx, 100, 1, func(i int) {
		started.Add(1)
		if i == 4 {
			cancel()
		}
	})
	// One worker: index 5 may already sit in the channel when ctx ends.
	if s := started.Load(); s < 5 || s > 6 {
		t.Errorf("%d calls started after cancelling at the fifth", s)
	}
}

func TestForNoWork(t *testing.T) {
	For(context.Background(), 0, 4, func(int) { t.Error("called with n = 0") })
}
