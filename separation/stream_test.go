package separation

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/nmf"
)

// chunkedSource serves x in pieces of random sizes (some empty) and io.EOF
// at the end.
func chunkedSource(x []float64, rng *rand.Rand) func([]float64) (int, error) {
	return func(dst []float64) (int, error) {
		if len(x) == 0 {
			return 0, io.EOF
		}
		k := min(rng.IntN(3000), len(dst), len(x))
		copy(dst, x[:k])
		x = x[k:]
		return k, nil
	}
}

// TestStreamEqualsSeparate checks that SeparateStream, fed in uneven pieces,
// hands each speaker exactly what Separate returns for the whole signal, in
// order, for signals of one block and of several (with a short last block).
func TestStreamEqualsSeparate(t *testing.T) {
	m := trainSynthetic(t, NMF, []int{6})
	mix := mixOf(synthVoice(lowNotes, 5, 7), synthVoice(highNotes, 5, 8))
	rng := rand.New(rand.NewPCG(9, 10))
	for _, blockSeconds := range []float64{60, 0.3, 1.1} {
		sep, err := NewSeparator(m, SeparateSettings{NMF: nmf.Settings{MaxIter: 30, Workers: 1}, BlockSeconds: blockSeconds})
		if err != nil {
			t.Fatal(err)
		}
		want, err := sep.Separate(mix)
		if err != nil {
			t.Fatal(err)
		}
		got := make([][]float64, len(want))
		calls, longest := 0, 0
		err = sep.SeparateStream(chunkedSource(mix, rng), len(mix), func(s int, y []float64) error {
			if s != calls%len(want) {
				t.Fatalf("sink call %d is for speaker %d", calls, s)
			}
			calls++
			longest = max(longest, len(y))
			got[s] = append(got[s], y...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if blockSeconds < 60 && longest != sep.block {
			t.Errorf("blocks of %d samples, want %d", longest, sep.block)
		}
		for s := range want {
			if len(got[s]) != len(want[s]) {
				t.Fatalf("speaker %d: %d samples, want %d", s, len(got[s]), len(want[s]))
			}
			for i := range want[s] {
				if got[s][i] != want[s][i] {
					t.Fatalf("block %gs, speaker %d, sample %d: stream %v, Separate %v", blockSeconds, s, i, got[s][i], want[s][i])
				}
			}
		}
	}
}

func TestStreamErrors(t *testing.T) {
	m := trainSynthetic(t, NMF, []int{4})
	sep, err := NewSeparator(m, SeparateSettings{NMF: nmf.Settings{MaxIter: 5}, BlockSeconds: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	x := synthVoice(lowNotes, 2, 3)
	discard := func(int, []float64) error { return nil }
	check := func(name string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, want)
		}
	}
	check("short source", sep.SeparateStream(chunkedSource(x[:20000], rng), len(x), discard), "ended after 20000 of 32000 samples")
	check("empty", sep.SeparateStream(chunkedSource(nil, rng), 0, discard), "empty")
	check("silent", sep.SeparateStream(chunkedSource(make([]float64, 30000), rng), 30000, discard), "silent")
	bad := append([]float64(nil), x...)
	bad[25001] = math.Inf(-1)
	check("inf", sep.SeparateStream(chunkedSource(bad, rng), len(bad), discard), "sample 25001 is -Inf")
	boom := errors.New("boom")
	err = sep.SeparateStream(func([]float64) (int, error) { return 0, boom }, len(x), discard)
	if !errors.Is(err, boom) {
		t.Errorf("source error: %v", err)
	}
	err = sep.SeparateStream(chunkedSource(x, rng), len(x), func(int, []float64) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("sink error: %v", err)
	}
	err = sep.SeparateStream(func([]float64) (int, error) { return 0, nil }, len(x), discard)
	if !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("stuck source: %v", err)
	}
}
