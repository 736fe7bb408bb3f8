//go:build !cgo || noopenblas

package openblas

// Enabled reports whether this build uses OpenBLAS.
const Enabled = false

// CoreName returns "pure-go": this build uses gonum's native BLAS.
func CoreName() string { return "pure-go" }

// threads returns 1: gonum's native BLAS parallelises on its own.
func threads() int { return 1 }

func setThreads(int) {}
