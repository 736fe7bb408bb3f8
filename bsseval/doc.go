// Package bsseval scores source separation with BSS Eval v3 (Vincent,
// Gribonval and Févotte 2006): SDR, SIR and SAR exactly as
// mir_eval.separation.bss_eval_sources of mir_eval 0.7 computes them, and
// the scale-invariant SDR of Le Roux et al. (2019).
//
// Conventions, stated once:
//
//   - Signals are []float64 sample slices; a set of sources is [][]float64
//     indexed by source. References and estimates must have the same number
//     of sources and every signal the same length. Results are indexed by
//     reference source: SDR[i] scores estimate Perm[i] against reference i.
//   - The decomposition is mir_eval's: the estimate is projected, by least
//     squares, on the delayed copies (delays 0..FilterLen-1, default 512) of
//     its own reference (the filtered target, s_true+e_spat) and of all the
//     references (adding e_interf); what is left is e_artif. Correlations
//     are linear (zero padding), there is no mean removal, and the error
//     terms span len+FilterLen-1 samples, as in mir_eval.
//     SDR = 10 log10(|s_filt|^2 / |e_interf+e_artif|^2),
//     SIR = 10 log10(|s_filt|^2 / |e_interf|^2),
//     SAR = 10 log10(|s_filt+e_interf|^2 / |e_artif|^2).
//   - Speed: the Gram matrix of the delayed references depends only on the
//     references, and with the delays outermost it is exactly block
//     Toeplitz (the correlations are linear). A Plan builds its blocks once
//     from FFT auto- and cross-correlations (2-3-5-smooth FFT lengths) and
//     solves with it by the block Levinson recursion, O(L^2 m^3) for L =
//     FilterLen taps and m sources instead of Cholesky's O(L^3 m^3) (for
//     two sources a C kernel that gcc vectorises, in the cgo build), checking
//     the residual against the explicit matrix (one refinement step when it
//     is above 1e-12 relative; the dense Cholesky/LU/least-squares path of
//     mir_eval's solve and lstsq when the recursion breaks down, as for
//     dependent references). All estimates share it, every solve takes all
//     right-hand sides at once, and energies are quadratic forms in the
//     filter coefficients (|A z|^2 = z'Gz), so no projection is ever
//     transformed back to samples; the artifact energy uses the expansion
//     |e|^2 - 2D'x + x'Gx, stationary in x, and is measured from the
//     residual spectrum instead when SAR exceeds about 60 dB. mir_eval
//     rebuilds and re-solves a dense system for every pair, which is where
//     the time goes. The FFTs run on GOMAXPROCS goroutines.
//   - Edge cases (each decided, documented and tested): no sources, a
//     different number of references and estimates, signals of different
//     lengths, signals shorter than the filter, NaN or Inf samples, and a
//     silent (all-zero) reference or estimate are errors, as in mir_eval's
//     validate where it has a rule (mir_eval accepts signals shorter than the
//     filter; the distortion filter can then absorb anything, so we refuse
//     them). With one source SIR is +Inf (there is nothing to interfere) and
//     SDR equals SAR, as in mir_eval. A zero error energy gives +Inf, as
//     mir_eval's _safe_db. An estimate that is its reference, or a filtered
//     copy of it, gives a very large SDR (about 250 to 320 dB, or +Inf):
//     that number is rounding noise in mir_eval as here, so the two agree
//     only in being huge.
//   - Permutation (Options.Permute): the estimate/reference assignment that
//     maximises the mean SIR, as mir_eval, but found as an assignment
//     problem (Hungarian algorithm, O(n^3)) rather than by enumerating n!
//     permutations. Ties go to the lexicographically first permutation, the
//     one mir_eval's argmax picks. If some SIR is +Inf, mir_eval's mean is
//     +Inf for every permutation using it, and the first such permutation
//     wins; that rule is reproduced.
//   - Library functions return errors for bad data and panic only on
//     programmer errors (such as a negative filter length); they never print.
package bsseval
