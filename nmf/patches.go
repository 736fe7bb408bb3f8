package nmf

import "fmt"

// Spectral patches (the paper's conclusion: "the observation at time t
// contains several consecutive one-frame spectra, which is unfolded into a
// column vector"). A patch of width w (odd) centred on frame t stacks
// frames t-c ... t+c, c = (w-1)/2: row tau*M + m of the patch matrix is
// row m of X at frame t + tau - c, frames before the first or after the
// last replaced by the edge frame.

// Unfold sets dst (w*M x N) to the patches of width w of X (M x N),
// allocating dst when nil. It panics when w is not odd and positive or on
// a size mismatch.
func Unfold[T Float](dst, X *Dense[T], w int) *Dense[T] {
	if w < 1 || w%2 == 0 {
		panic(fmt.Sprintf("nmf: Unfold: patch width %d is not odd and positive", w))
	}
	M, N, c := X.Rows, X.Cols, (w-1)/2
	dst = reuse(dst, w*M, N, "Unfold")
	for tau := 0; tau < w; tau++ {
		for m := 0; m < M; m++ {
			src, out := X.row(m), dst.row(tau*M+m)
			for t := range out {
				out[t] = src[min(max(t+tau-c, 0), N-1)]
			}
		}
	}
	return dst
}

// Fold sets dst (M x N) to the average, for every frame t, of the rows
// that the patches of P (w*M x N) hold for t: the mean over the columns
// t' = t - tau + c in [0, N) of block tau of column t'. It undoes Unfold
// (Fold(Unfold(X)) = X) and turns patch reconstructions into one magnitude
// per frame. It allocates dst when nil and panics on a size mismatch.
func Fold[T Float](dst, P *Dense[T], w int) *Dense[T] {
	if w < 1 || w%2 == 0 || P.Rows%w != 0 {
		panic(fmt.Sprintf("nmf: Fold: patch width %d for %d rows", w, P.Rows))
	}
	M, N, c := P.Rows/w, P.Cols, (w-1)/2
	dst = reuse(dst, M, N, "Fold")
	for m := 0; m < M; m++ {
		out := dst.row(m)
		clear(out)
		for tau := 0; tau < w; tau++ {
			// Column t' holds frame t = t' + tau - c.
			src := P.row(tau*M + m)
			for t := max(0, tau-c); t < min(N, N+tau-c); t++ {
				out[t] += src[t-tau+c]
			}
		}
		for t := range out {
			// Patches covering frame t: those with t-tau+c in [0, N).
			n := min(t+c, N-1) - max(t-c, 0) + 1
			out[t] /= T(n)
		}
	}
	return dst
}
