package main

/*
#include <stdint.h>
*/
import "C"

import (
	"fmt"
	"math"

	"github.com/dlnmf/dlnmf/nmf"
)

// dlnmf_nmf_fit factorizes X (m x n float32, row-major) as W H with k
// components by the nmf package's multiplicative updates of the
// beta-divergence. With custom != 0 the solver starts from W (m x k) and H
// (k x n) as given (nmf.Update); otherwise from its seeded random start
// (nmf.Factorize). The result is written to W and H; *iters gets the
// iterations done and *cost the final beta-divergence D(X | W H).
// maxIter and tol are nmf.Settings' MaxIter and Tol, used as they are (the
// caller maps its own conventions).
//
//export dlnmf_nmf_fit
func dlnmf_nmf_fit(x *C.float, m, n, k C.int64_t, beta C.double, maxIter C.int64_t, tol C.double, seed C.uint64_t, custom C.int,
	w, h *C.float, iters *C.int64_t, cost *C.double) *C.char {
	return call(func() error {
		s, err := nmfSettings(m, n, k, beta, maxIter, tol)
		if err != nil {
			return err
		}
		s.Seed = uint64(seed)
		mm, nn, kk := int(m), int(n), int(k)
		X := nmf.NewDense(mm, nn, floats(x, mm*nn))
		W, H := floats(w, mm*kk), floats(h, kk*nn)
		var f *nmf.Factorization[float32]
		var res nmf.Result
		if custom != 0 {
			// nmf.Update trusts the factors it is given; these come from outside.
			if err := nonNegative("W", W); err != nil {
				return err
			}
			if err := nonNegative("H", H); err != nil {
				return err
			}
			f = &nmf.Factorization[float32]{
				Layers: []*nmf.Dense[float32]{nmf.NewDense(mm, kk, append([]float32(nil), W...))},
				H:      nmf.NewDense(kk, nn, append([]float32(nil), H...)),
			}
			res, err = nmf.Update(X, f, nmf.Freeze{}, s)
		} else {
			f, res, err = nmf.Factorize(X, kk, s)
		}
		if err != nil {
			return err
		}
		copy(W, f.Layers[0].Data)
		copy(H, f.H.Data)
		*iters = C.int64_t(res.Iterations)
		*cost = C.double(nmf.Cost(X, f.Reconstruct(nil), s))
		return nil
	})
}

// dlnmf_nmf_infer learns H (k x n) for X (m x n) with the basis (m x k)
// fixed (nmf.Infer) and writes it to h; *iters gets the iterations done.
//
//export dlnmf_nmf_infer
func dlnmf_nmf_infer(x *C.float, m, n, k C.int64_t, basis *C.float, beta C.double, maxIter C.int64_t, tol C.double,
	h *C.float, iters *C.int64_t) *C.char {
	return call(func() error {
		s, err := nmfSettings(m, n, k, beta, maxIter, tol)
		if err != nil {
			return err
		}
		mm, nn, kk := int(m), int(n), int(k)
		B := nmf.NewDense(mm, kk, floats(basis, mm*kk))
		H, res, err := nmf.Infer(nil, nmf.NewDense(mm, nn, floats(x, mm*nn)), B, s)
		if err != nil {
			return err
		}
		copy(floats(h, kk*nn), H.Data)
		*iters = C.int64_t(res.Iterations)
		return nil
	})
}

// nmfSettings checks the sizes of an m x n matrix and k components and
// returns the solver's settings.
func nmfSettings(m, n, k C.int64_t, beta C.double, maxIter C.int64_t, tol C.double) (nmf.Settings, error) {
	if err := checkSize(m, n); err != nil {
		return nmf.Settings{}, err
	}
	if err := checkSize(k, m+n); err != nil {
		return nmf.Settings{}, err
	}
	if k < 1 || maxIter < 1 {
		return nmf.Settings{}, fmt.Errorf("nmf: %d components and %d iterations: want at least 1 of each", k, maxIter)
	}
	b := float64(beta)
	if math.IsNaN(b) || math.IsInf(b, 0) {
		return nmf.Settings{}, fmt.Errorf("nmf: beta %v is not a number", b)
	}
	s := nmf.Settings{MaxIter: int(maxIter), Tol: float64(tol)}
	s.Divergence, s.Beta = nmf.ForBeta(b)
	return s, nil
}

// nonNegative checks a starting factor the caller supplies.
func nonNegative(what string, x []float32) error {
	for i, v := range x {
		if !(v >= 0) || math.IsInf(float64(v), 1) {
			return fmt.Errorf("nmf: %s has a negative or non-finite entry (%v at index %d)", what, v, i)
		}
	}
	return nil
}
