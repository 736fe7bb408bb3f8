package openblas

import (
	"os"
	"syscall"

	"golang.org/x/sys/cpu"
)

// CoreTypeHint returns the OPENBLAS_CORETYPE a process should be started
// with, or "" when nothing needs to change: the variable is already set (by
// the user or the machine; it is never overridden), OpenBLAS is not in use,
// or OpenBLAS recognised the processor. It returns "SkylakeX" when OpenBLAS
// fell back to its generic kernels on a processor with AVX-512, whose
// SkylakeX kernels it runs correctly (checked against a naive product in this
// package's tests).
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

// ReexecWithCoreType replaces the running process by itself with
// OPENBLAS_CORETYPE set, when CoreTypeHint asks for it. OpenBLAS picks its
// kernels when the library loads, before any Go code runs, so a fresh exec is
// the only way to change them. On any failure it returns and the process
// goes on with the kernels it has.
func ReexecWithCoreType() {
	hint := CoreTypeHint()
	if hint == "" || os.Getenv("DLNMF_REEXEC") != "" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	env := append(os.Environ(), "OPENBLAS_CORETYPE="+hint, "DLNMF_REEXEC=1")
	_ = syscall.Exec(exe, os.Args, env)
}
