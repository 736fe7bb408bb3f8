//go:build cgo && !noopenblas

package openblas

// #cgo LDFLAGS: -lopenblas
// #include <stdlib.h>
// char* openblas_get_corename(void);
// void openblas_set_num_threads(int);
// int openblas_get_num_threads(void);
// // A DYNAMIC_ARCH OpenBLAS (Debian's) picks its kernel table when it
// // loads; these two re-run that choice. Weak, so that a build without
// // DYNAMIC_ARCH still links (and keeps the one table it has).
// extern void gotoblas_dynamic_init(void) __attribute__((weak));
// extern void gotoblas_dynamic_quit(void) __attribute__((weak));
// static int dlnmf_select_core(const char *name) {
//   if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) return 0;
//   setenv("OPENBLAS_CORETYPE", name, 1);
//   gotoblas_dynamic_quit();
//   gotoblas_dynamic_init();
//   unsetenv("OPENBLAS_CORETYPE");
//   return 1;
// }
import "C"

import (
	"unsafe"

	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// Enabled reports whether this build uses OpenBLAS.
const Enabled = true

func init() {
	blas32.Use(netlib.Implementation{})
	blas64.Use(netlib.Implementation{})
	// Every program that imports the library gets the same kernels, and so
	// the same bytes, as the command line: the choice is made here, at
	// package initialisation, before any BLAS call, not by an environment
	// variable that only a launcher could set.
	if hint := CoreTypeHint(); hint != "" && selectCore(hint) {
		selected = hint
	}
}

// selectCore makes OpenBLAS use the kernel table named (as
// OPENBLAS_CORETYPE names it) and reports whether it could. It must run
// before any BLAS call: the table's buffers are sized for it.
func selectCore(name string) bool {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return C.dlnmf_select_core(cs) != 0
}

// CoreName returns the kernel set OpenBLAS selected, such as "SkylakeX".
func CoreName() string { return C.GoString(C.openblas_get_corename()) }

func threads() int { return int(C.openblas_get_num_threads()) }

// setThreads sets the number of threads OpenBLAS uses; only HoldSingle
// calls it.
func setThreads(n int) { C.openblas_set_num_threads(C.int(n)) }
