package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Summary describes a sample of scores.
type Summary struct {
	N    int
	Mean float64 // NaN when N == 0
	Std  float64 // sample standard deviation (n-1); NaN when N < 2
	CI95 float64 // half-width of the 95% confidence interval of the mean; NaN when N < 2
}

// Summarize returns the size, mean, standard deviation and 95% confidence
// half-width t(0.975, n-1) * std / sqrt(n) of x.
func Summarize(x []float64) Summary {
	s := Summary{N: len(x), Mean: math.NaN(), Std: math.NaN(), CI95: math.NaN()}
	if s.N == 0 {
		return s
	}
	s.Mean = mean(x)
	if s.N < 2 {
		return s
	}
	s.Std = math.Sqrt(sumSquares(x, s.Mean) / float64(s.N-1))
	s.CI95 = tQuantile975(s.N-1) * s.Std / math.Sqrt(float64(s.N))
	return s
}

// PairedT compares paired samples a and b (a[i] and b[i] measured on the
// same item, e.g. two methods on one mixture) with a two-sided paired
// t-test, as scipy.stats.ttest_rel does. It returns the mean of a-b, the
// half-width of its 95% confidence interval, and the p-value of the
// hypothesis that the mean difference is zero.
//
// With fewer than 2 pairs all three are NaN except meanDiff for one pair.
// When every difference is the same, the spread is zero: p is 1 if that
// difference is 0 and 0 otherwise (scipy returns NaN for the first case).
// PairedT panics if a and b differ in length.
func PairedT(a, b []float64) (meanDiff, ci95, p float64) {
	if len(a) != len(b) {
		panic("stats: PairedT: samples differ in length")
	}
	n := len(a)
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	var sum float64
	for i := range a {
		sum += a[i] - b[i]
	}
	meanDiff = sum / float64(n)
	if n < 2 {
		return meanDiff, math.NaN(), math.NaN()
	}
	var ss float64
	for i := range a {
		d := a[i] - b[i] - meanDiff
		ss += d * d
	}
	se := math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
	ci95 = tQuantile975(n-1) * se
	if se == 0 {
		if meanDiff == 0 {
			return meanDiff, ci95, 1
		}
		return meanDiff, ci95, 0
	}
	t := math.Abs(meanDiff / se)
	dist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}
	// Two-sided: twice the upper tail. Survival is accurate for large t,
	// where 1-CDF would round to 0 too early.
	p = 2 * dist.Survival(t)
	return meanDiff, ci95, math.Min(p, 1)
}

func tQuantile975(nu int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(nu)}.Quantile(0.975)
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func sumSquares(x []float64, m float64) float64 {
	var s float64
	for _, v := range x {
		d := v - m
		s += d * d
	}
	return s
}
