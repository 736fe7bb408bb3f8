package openblas

import (
	"os"

	"golang.org/x/sys/cpu"
)

// CoreTypeHint returns the OpenBLAS kernel table this package selects at
// initialisation, or "" when it keeps OpenBLAS's own choice: the
// OPENBLAS_CORETYPE variable is set (by the user or the machine; it is never
// overridden), OpenBLAS is not in use, or OpenBLAS recognised the processor.
// It returns "SkylakeX" when OpenBLAS fell back to its generic "Prescott"
// kernels on a processor with AVX-512, whose SkylakeX kernels it runs
// correctly (checked against a naive product in this package's tests).
func CoreTypeHint() string {
	if !Enabled || os.Getenv("OPENBLAS_CORETYPE") != "" {
		return ""
	}
	if CoreName() != "Prescott" {
		return ""
	}
	x := cpu.X86
	if x.HasAVX512F && x.HasAVX512DQ && x.HasAVX512CD && x.HasAVX512BW && x.HasAVX512VL {
		return "SkylakeX"
	}
	return ""
}

// selected is the kernel table init selected, "" for OpenBLAS's own choice.
var selected string

// SelectedCore returns the OPENBLAS_CORETYPE value that names the kernels
// this package selected at initialisation, or "" when it kept OpenBLAS's
// choice: what a test or script sets for another program that loads
// OpenBLAS (numpy) to run the same kernels.
func SelectedCore() string { return selected }
