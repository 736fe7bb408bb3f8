//go:build unix

package separation

import "syscall"

// cpuSeconds returns the user+system CPU time of the process: on a shared
// machine it is steadier than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
