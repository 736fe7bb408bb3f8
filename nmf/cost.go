package nmf

import (
	"fmt"
	"math"
)

// Cost returns the beta-divergence D(X | Xhat) selected by s, summed over
// all elements in float64. Xhat is floored at the epsilon of s where the
// divergence is singular at zero (beta < 2 with X > 0), and for beta <= 0 X
// is floored too, so finite non-negative input gives a finite cost. The L1
// penalty of s is not included. It panics when the shapes differ or when s is
// invalid.
func Cost[T Float](X, Xhat *Dense[T], s Settings) float64 {
	r, err := s.resolve()
	if err != nil {
		panic(err.Error())
	}
	if X.Rows != Xhat.Rows || X.Cols != Xhat.Cols {
		panic(fmt.Sprintf("nmf: Cost: X is %dx%d, Xhat %dx%d", X.Rows, X.Cols, Xhat.Rows, Xhat.Cols))
	}
	var sum float64
	for i := 0; i < X.Rows; i++ {
		sum += costRow(X.row(i), Xhat.row(i), r.beta, r.Epsilon)
	}
	return sum
}

// costRow is the beta-divergence of one row, accumulated in float64.
func costRow[T Float](x, v []T, beta, eps float64) float64 {
	v = v[:len(x)]
	var sum float64
	switch beta {
	case 1:
		for j, xj := range x {
			a, b := float64(xj), max(float64(v[j]), eps)
			if a > 0 {
				sum += a*math.Log(a/b) - a + b
			} else {
				sum += b
			}
		}
	case 2:
		for j, xj := range x {
			d := float64(xj) - float64(v[j])
			sum += 0.5 * d * d
		}
	case 0:
		for j, xj := range x {
			q := max(float64(xj), eps) / max(float64(v[j]), eps)
			sum += q - math.Log(q) - 1
		}
	default:
		c := 1 / (beta * (beta - 1))
		for j, xj := range x {
			a, b := float64(xj), float64(v[j])
			if beta < 2 {
				b = max(b, eps)
			}
			if beta <= 0 {
				a = max(a, eps)
			}
			sum += c * (math.Pow(a, beta) + (beta-1)*math.Pow(b, beta) - beta*a*math.Pow(b, beta-1))
		}
	}
	return sum
}
