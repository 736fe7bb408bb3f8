// Package nmf factorizes a nonnegative matrix X (frequency x time, row-major)
// as X ≈ W1 W2 ... WL H by multiplicative updates (MU) of the
// beta-divergence: plain NMF is the layered model with one layer (paper,
// eqs. 1-8), and fixed-basis inference learns H alone (eq. 11).
//
// Conventions, stated once:
//
//   - Matrices are Dense[T], row-major with a stride, the layout of gonum's
//     blas32.General and blas64.General. float32 is the fast path (OpenBLAS
//     SGEMM in cgo builds, see internal/openblas); float64 is available.
//     Costs are always accumulated in float64.
//   - Functions taking a dst allocate it when dst is nil and panic with an
//     "nmf: ..." message on a size mismatch. Bad data (negative, NaN or Inf
//     entries, empty matrices, k < 1) is reported as an error, not a panic.
//   - The zero Settings value means the documented defaults: Kullback-Leibler,
//     200 iterations, tolerance 1e-4 checked every 10 iterations, epsilon
//     1.1920929e-7 (float32 machine epsilon, as scikit-learn), seed 0, all
//     cores.
//   - Update order within one iteration follows the paper: the layers W1..WL
//     (eq. 7), then H (eq. 8), each with a freshly formed reconstruction; the
//     reconstruction (W1...WL) H always forms the small product first.
//   - Multiplicative updates use the exponent gamma(beta) of Fevotte and Idier
//     (2011): 1/(2-beta) for beta < 1, 1 for 1 <= beta <= 2, 1/(beta-1) for
//     beta > 2, which keeps the cost non-increasing for every beta.
//   - Epsilon floors the reconstruction (for beta < 2, where it is raised to
//     a negative power) and every denominator, so finite non-negative input
//     never produces NaN or Inf; silent frames and silent frequency rows
//     simply drive their activations or basis entries to zero.
//   - Normalisation: after every iteration in which the layers are updated,
//     the columns of each layer are scaled to unit sum (L1) and the scale is
//     carried into the rows of the next factor (W(l+1), or H for the last
//     layer), so the model is unchanged. Then the columns of the basis
//     W1...WL also sum to one, which makes the L1 penalty on H meaningful.
//     MU is invariant under this rescaling (without an L1 penalty), so the
//     trajectory of the cost is the same as without normalisation.
//   - The engine never prints: progress goes to Settings.Recorder.
//
// Speed. The KL path (the default) runs each update as one fused pass over
// column blocks of X (BlockCols wide): per block, the reconstruction block
// (small product first), the ratio X/V (a C kernel vectorised by gcc in cgo
// builds, the same loop in Go otherwise) and that block's share of the
// numerator, so the M x N reconstruction never goes to memory and the KL
// denominators are just column sums of the left product and row sums of the
// right one. The blocks are spread over Settings.Workers goroutines, each
// calling single-threaded BLAS: while a KL solver runs, OpenBLAS is switched
// to one thread process-wide and restored when the last one ends. Other
// divergences use whole-matrix products (multithreaded BLAS) and Go loops.
// After the first iteration, iterations allocate nothing.
//
// Semi-supervised KL inference (InferFree) updates the free columns and H
// together from one ratio per iteration (iterateJoint in semi.go): one
// pass over the mixture, in which the one-pass H kernel also forms the free
// columns' numerator.
//
// Inference of one frame (live separation) runs the one-pass kernel's
// one-column form (klH1_32: the rows as vector lanes), all of a fixed
// number of iterations in one call; an Inferer keeps a basis' solver and
// its packed copy from call to call, so a frame costs its iterations only.
//
// Numeric contract of the C kernels (cgo builds), stated once. Every C
// kernel has a Go twin compiled in every build (kernels.go; klHNumGo for
// the one-pass kernel and its one-column form), and the tests run both on
// the same data in the same binary (TestKernelsMatchGoTwins,
// TestKLHNumMatchesNaive, TestKLH1MatchesNaive):
//
//   - bit-identical to Go: the KL multiply F num / max(ls rs + l1, eps)
//     (float32 and float64) without an L1 term (every layer update, and H
//     without sparsity), and its form with the step exponent 1.5 (the
//     quotient times its correctly rounded square root), the float64 ratio X / max(V, eps), the float32
//     ratio on machines without AVX-512, the sums of G's block parts and the
//     input check;
//   - within an ulp: the float32 ratio on AVX-512 (a reciprocal estimate
//     and one correction instead of a division), in the ratio pass and in
//     the one-pass H kernel (klHNum32 and klH1_32, whose products also run
//     in another order than BLAS's: their numerators of H and of free
//     columns within 1e-5 relative of the float64 twin; klH1_32's update
//     with the step exponent 1.5, q sqrt(q) with q = num rden, is
//     bit-identical to Go's); the
//     multiply's denominator with an L1 term on AVX-512, where gcc fuses
//     ls rs + l1 into one FMA (the updated factor within two ulps, four
//     with the step exponent 1.5);
//   - within 1e-5 relative: the float32 KL cost (a vectorised logarithm,
//     its polynomial fused into FMAs on AVX-512, and float partial sums per
//     row, against math.Log in float64).
//
// Matrix products go through OpenBLAS in cgo builds and gonum in pure-Go
// ones, which round differently. So the two builds give the same factors
// within floating-point tolerance, not bit for bit, and a cost that moves
// in its last digits can move a Tol early stop by CostEvery iterations
// between builds (or between machines with and without AVX-512); with
// Tol < 0 both run the same iterations.
package nmf
