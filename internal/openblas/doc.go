// Package openblas makes OpenBLAS, through cgo and gonum.org/v1/netlib, the
// implementation behind gonum's blas32 and blas64 on import.
//
// In a build without cgo (CGO_ENABLED=0), or with the build tag noopenblas,
// importing it changes nothing and gonum's pure-Go BLAS stays in use: the
// results agree within floating-point tolerance, only slower.
//
// OpenBLAS 0.3.21 (Debian 12) does not recognise some newer AVX-512
// processors (Sapphire Rapids) and falls back to its generic "Prescott"
// kernels, about 5 times slower for SGEMM. On import this package asks
// OpenBLAS again for the kernels CoreTypeHint names (through OpenBLAS's own
// dynamic-architecture initialisation, in process), so that a command, a Go
// program, the Python package and the server all run the same kernels and
// give the same bytes, with no environment variable set.
package openblas
