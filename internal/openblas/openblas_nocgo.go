//go:build !cgo || noopenblas

package openblas

// Enabled reports whether this build uses OpenBLAS.
const Enabled = false

// CoreName returns "pure-go": this build uses gonum's native BLAS.
func CoreName() string { return "pure-go" }

// Threads returns 1: gonum's native BLAS parallelises on its own.
func Threads() int { return 1 }

// SetThreads does nothing in a build without OpenBLAS.
func SetThreads(int) {}
