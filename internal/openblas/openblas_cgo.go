//go:build cgo && !noopenblas

package openblas

// #cgo LDFLAGS: -lopenblas
// char* openblas_get_corename(void);
// void openblas_set_num_threads(int);
// int openblas_get_num_threads(void);
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// Enabled reports whether this build uses OpenBLAS.
const Enabled = true

func init() {
	blas32.Use(netlib.Implementation{})
	blas64.Use(netlib.Implementation{})
}

// CoreName returns the kernel set OpenBLAS selected, such as "SkylakeX".
func CoreName() string { return C.GoString(C.openblas_get_corename()) }

func threads() int { return int(C.openblas_get_num_threads()) }

// setThreads sets the number of threads OpenBLAS uses; only HoldSingle
// calls it.
func setThreads(n int) { C.openblas_set_num_threads(C.int(n)) }
