package main

import "github.com/dlnmf/dlnmf/separation"

// checkMemory is separation.CheckMemory: a command refuses work beyond this
// machine's memory before it allocates.
func checkMemory(what string, need uint64) error { return separation.CheckMemory(what, need) }
