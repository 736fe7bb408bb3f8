package main

import "github.com/dlnmf/dlnmf/internal/openblas"

// reexecForBLAS restarts dlnmf with OpenBLAS's fast kernels where OpenBLAS
// would otherwise fall back to its slow generic ones (see package openblas).
func reexecForBLAS() { openblas.ReexecWithCoreType() }
