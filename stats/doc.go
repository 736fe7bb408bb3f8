// Package stats summarises scores over test mixtures: mean, standard
// deviation and a 95% confidence interval of the mean (Student's t), and a
// two-sided paired t-test between two methods scored on the same mixtures.
//
// Conventions: standard deviations use the n-1 (sample) denominator, as
// numpy's std(ddof=1); a confidence interval is given by its half-width, so
// the interval is Mean ± CI95. Quantities that need more observations than
// given (a spread from one value) are NaN, never a panic; inputs of
// different lengths where pairs are required are programmer errors and
// panic. The package does no I/O.
package stats
