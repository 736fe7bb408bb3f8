//go:build !unix

package nmf

func cpuSeconds() float64 { return 0 }
