package resample

import (
	"bufio"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/wav"
)

// TestCompareWithSox is the Go half of scripts/compare-resample-sox.sh: it
// runs only when DLNMF_SOX_MANIFEST names a file of "source<TAB>sox-output"
// lines, resamples each source to the sox output's rate and reports how far
// below the signal the difference lies, in dB.
func TestCompareWithSox(t *testing.T) {
	manifest := os.Getenv("DLNMF_SOX_MANIFEST")
	if manifest == "" {
		t.Skip("set DLNMF_SOX_MANIFEST (scripts/compare-resample-sox.sh does)")
	}
	f, err := os.Open(manifest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var dbs []float64
	worst, worstFile := math.Inf(1), ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		src, ref, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		in, err := wav.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		want, err := wav.ReadFile(ref)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Resample(in.Mono(), in.Rate, want.Rate)
		if err != nil {
			t.Fatal(err)
		}
		w := want.Mono()
		n := min(len(got), len(w))
		var es, ed float64
		for i := 0; i < n; i++ {
			es += w[i] * w[i]
			d := got[i] - w[i]
			ed += d * d
		}
		db := 10 * math.Log10(es/ed)
		if len(got) != len(w) {
			t.Logf("%s: %d samples, sox %d", src, len(got), len(w))
		}
		dbs = append(dbs, db)
		if db < worst {
			worst, worstFile = db, src
		}
	}
	if len(dbs) == 0 {
		t.Fatal("empty manifest")
	}
	sort.Float64s(dbs)
	mean := 0.0
	for _, v := range dbs {
		mean += v
	}
	mean /= float64(len(dbs))
	t.Logf("RESULT files=%d difference below signal: min %.1f dB, median %.1f dB, mean %.1f dB, max %.1f dB (worst %s)",
		len(dbs), dbs[0], dbs[len(dbs)/2], mean, dbs[len(dbs)-1], worstFile)
	if dbs[0] < 50 {
		t.Errorf("worst file %.1f dB below the signal, want at least 50", dbs[0])
	}
}
