package stats

import (
	"fmt"
	"math"
	"testing"
)

// Reference values from scipy 1.10.1 (Debian), printed by
// testdata/reference.py: numpy std(ddof=1), scipy.stats.t.ppf(0.975, n-1)
// and scipy.stats.ttest_rel.
var (
	sampleA = []float64{6.76, 7.12, 5.98, 8.40, 6.05, 7.77, 6.31, 7.02}
	sampleB = []float64{6.28, 6.90, 6.10, 7.65, 5.50, 7.40, 6.33, 6.41}
)

const tol = 1e-9

func close(got, want float64) bool { return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want)) }

func TestSummarizeScipy(t *testing.T) {
	for _, c := range []struct {
		x             []float64
		mean, std, ci float64
	}{
		{sampleA, 6.92625, 0.8452208080056444, 0.7066222787154237},
		{sampleB, 6.57125, 0.7068327242000049, 0.5909269453781627},
		{[]float64{1, 3}, 2, 1.4142135623730951, 12.706204736432094},
	} {
		s := Summarize(c.x)
		if s.N != len(c.x) || !close(s.Mean, c.mean) || !close(s.Std, c.std) || !close(s.CI95, c.ci) {
			t.Errorf("Summarize(%v) = %+v, want mean %v std %v ci95 %v", c.x, s, c.mean, c.std, c.ci)
		}
	}
}

func TestSummarizeSmall(t *testing.T) {
	s := Summarize(nil)
	if s.N != 0 || !math.IsNaN(s.Mean) || !math.IsNaN(s.Std) || !math.IsNaN(s.CI95) {
		t.Errorf("Summarize(nil) = %+v, want N=0 and NaNs", s)
	}
	s = Summarize([]float64{4.5})
	if s.N != 1 || s.Mean != 4.5 || !math.IsNaN(s.Std) || !math.IsNaN(s.CI95) {
		t.Errorf("Summarize([4.5]) = %+v, want mean 4.5 and NaN spread", s)
	}
	s = Summarize([]float64{2, 2, 2})
	if s.Mean != 2 || s.Std != 0 || s.CI95 != 0 {
		t.Errorf("Summarize(constant) = %+v, want zero spread", s)
	}
}

func TestPairedTScipy(t *testing.T) {
	d, ci, p := PairedT(sampleA, sampleB)
	if !close(d, 0.35499999999999976) || !close(ci, 0.25659169592114095) || !close(p, 0.013645925276215934) {
		t.Errorf("PairedT = %v, %v, %v; want 0.355, 0.25659169592114095, 0.013645925276215934", d, ci, p)
	}
	// Swapping the samples flips the sign only.
	d2, ci2, p2 := PairedT(sampleB, sampleA)
	if !close(d2, -d) || !close(ci2, ci) || !close(p2, p) {
		t.Errorf("PairedT(b, a) = %v, %v, %v; want %v, %v, %v", d2, ci2, p2, -d, ci, p)
	}
}

func TestPairedTDegenerate(t *testing.T) {
	if _, _, p := PairedT(sampleA, sampleA); p != 1 {
		t.Errorf("identical samples: p = %v, want 1", p)
	}
	// Exact in binary, so the differences are exactly 1 and their spread 0.
	if d, ci, p := PairedT([]float64{2, 3, 5, 9}, []float64{1, 2, 4, 8}); d != 1 || ci != 0 || p != 0 {
		t.Errorf("constant shift: %v, %v, %v; want 1, 0, 0", d, ci, p)
	}
	if d, ci, p := PairedT([]float64{3}, []float64{1}); d != 2 || !math.IsNaN(ci) || !math.IsNaN(p) {
		t.Errorf("one pair: %v, %v, %v; want 2, NaN, NaN", d, ci, p)
	}
	defer func() {
		if recover() == nil {
			t.Error("PairedT with different lengths did not panic")
		}
	}()
	PairedT([]float64{1, 2}, []float64{1})
}

func ExampleSummarize() {
	s := Summarize([]float64{6.76, 7.12, 5.98, 8.40, 6.05, 7.77, 6.31, 7.02})
	fmt.Printf("%.2f ± %.2f dB (n=%d)\n", s.Mean, s.CI95, s.N)
	// Output: 6.93 ± 0.71 dB (n=8)
}
