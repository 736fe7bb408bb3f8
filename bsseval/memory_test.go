package bsseval

import (
	"runtime"
	"testing"
)

// TestMemoryCoversAllocations scores sets whose memory grows with the
// length (FFT buffers) and with the square of the sources (the dense
// fallback, taken for 6 sources of 1600 samples, whose 3072 unknowns
// outnumber the samples, and for a copied reference), and checks that
// Memory counts what Go allocated: at least 90% of it, and for the
// fallback at least its three dense copies (so the quadratic term is
// real, not a margin).
func TestMemoryCoversAllocations(t *testing.T) {
	for _, tc := range []struct {
		nsrc, n int
		copied  bool // reference 1 a copy of reference 0: dependent
		dense   bool // the Levinson recursion breaks down
	}{
		{2, 480000, false, false},
		{6, 1600, false, true},
		{3, 8000, true, true},
	} {
		refs, ests := make([][]float64, tc.nsrc), make([][]float64, tc.nsrc)
		for i := range refs {
			refs[i] = noise(uint64(i+1), tc.n)
			ests[i] = noise(uint64(i+100), tc.n)
			for j := range ests[i] {
				ests[i][j] += refs[i][j]
			}
		}
		if tc.copied {
			refs[1] = refs[0]
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := Sources(refs, ests, Options{}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		got, est := after.TotalAlloc-before.TotalAlloc, Memory(tc.nsrc, tc.n, Options{})
		dim := uint64(tc.nsrc * DefaultFilterLen)
		if 10*est < 9*got {
			t.Errorf("%d sources of %d samples: Memory %d MB, allocated %d MB", tc.nsrc, tc.n, est>>20, got>>20)
		}
		if tc.dense && got < 3*8*dim*dim {
			t.Errorf("%d sources of %d samples: allocated %d MB, less than the dense fallback's three copies (%d MB)", tc.nsrc, tc.n, got>>20, 3*8*dim*dim>>20)
		}
	}
	if Memory(MaxSources, 1000, Options{}) < 60e9 {
		t.Errorf("Memory of %d sources: %d, want the 63 GB of the dense fallback", MaxSources, Memory(MaxSources, 1000, Options{}))
	}
}
