package main

import (
	"fmt"

	"github.com/dlnmf/dlnmf/internal/sysmem"
)

// checkMemory refuses, with one line naming both numbers, a run whose
// estimated need (bytes, a lower bound from the run's sizes and data) is
// more than this machine has available. It is called before the run
// allocates: Go cannot recover from running out of memory. Where the
// available memory cannot be read, it lets the run go.
func checkMemory(what string, need uint64) error {
	have, source, ok := sysmem.Available()
	if !ok || need <= have {
		return nil
	}
	return fmt.Errorf("%s needs at least %s of memory; this machine has %s available (%s): use smaller sizes or less data", what, fmtBytes(need), fmtBytes(have), source)
}

// fmtBytes formats n bytes with a binary unit, to three digits.
func fmtBytes(n uint64) string {
	v, unit := float64(n), "B"
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	if unit == "B" {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.3g %s", v, unit)
}
