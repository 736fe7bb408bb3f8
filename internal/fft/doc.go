// Package fft computes discrete Fourier transforms of real signals of any
// length through reusable plans.
//
// Conventions, stated once:
//
//   - A Real plan of size n maps n real samples to the n/2+1 coefficients
//     X[k] = sum_t x[t] exp(-2 pi i k t / n), k = 0..n/2 (the convention of
//     gonum's fourier.FFT.Coefficients), and back. Neither direction
//     normalises: Inverse(Forward(x)) = n*x, as gonum's Sequence.
//   - Inverse reads only the real part of X[0] (and of X[n/2] when n is
//     even): the imaginary parts a Hermitian spectrum cannot have are
//     ignored, as FFTPACK and FFTW do.
//   - dst-first: Forward and Inverse allocate dst when it is nil and panic
//     when a length is wrong. Neither changes its input.
//   - A plan is read-only after NewReal and safe for concurrent use by any
//     number of goroutines; execution scratch comes from a pool.
//   - Two implementations: in the default cgo build FFTW 3 (double
//     precision, planned with FFTW_ESTIMATE, linked with -lfftw3), several
//     times faster than pure Go at every size; with CGO_ENABLED=0 or the
//     build tag noopenblas (the tag that also turns OpenBLAS off), gonum's
//     pure-Go FFTPACK port. The two agree to rounding (about 1e-15
//     relative to the signal's norm), not bit for bit.
package fft
