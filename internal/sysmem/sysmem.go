// Package sysmem tells how much memory this process can still use, so that
// a command can refuse a run that cannot fit before it allocates: Go's
// runtime cannot recover from running out of memory (it prints "fatal
// error: runtime: out of memory" and a dump of every goroutine).
package sysmem

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Available returns the bytes this process can still allocate: the
// smaller of the kernel's MemAvailable (/proc/meminfo) and the room left
// under the memory limit of the process's control group (cgroup v2
// memory.max minus memory.current, or v1 memory.limit_in_bytes minus
// memory.usage_in_bytes), and which of the two it is. ok is false where
// neither can be read (not Linux): callers then skip their check.
func Available() (bytes uint64, source string, ok bool) {
	return available("/")
}

// available reads the files under root, a file system tree in tests.
func available(root string) (uint64, string, bool) {
	best, source, ok := uint64(0), "", false
	if v, found := memAvailable(filepath.Join(root, "proc", "meminfo")); found {
		best, source, ok = v, "MemAvailable in /proc/meminfo", true
	}
	if v, found := cgroupRoom(root); found && (!ok || v < best) {
		best, source, ok = v, "left under this control group's memory limit", true
	}
	return best, source, ok
}

// memAvailable reads the MemAvailable line (in kB) of a meminfo file.
func memAvailable(path string) (uint64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}

// unlimited is the smallest limit treated as none: cgroup v1 writes "no
// limit" as a number near 2^63.
const unlimited = 1 << 60

// cgroupRoom returns limit minus usage of the process's memory control
// group, found from /proc/self/cgroup (v2 line "0::PATH", v1 line
// "N:memory:PATH"), looked up at that path and then at the mount's top
// (inside a container the group is often mounted there).
func cgroupRoom(root string) (uint64, bool) {
	b, err := os.ReadFile(filepath.Join(root, "proc", "self", "cgroup"))
	if err != nil {
		return 0, false
	}
	type place struct{ dir, limit, usage string }
	var places []place
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			for _, d := range []string{parts[2], "/"} {
				places = append(places, place{filepath.Join(root, "sys", "fs", "cgroup", d), "memory.max", "memory.current"})
			}
		case strings.Contains(","+parts[1]+",", ",memory,"):
			for _, d := range []string{parts[2], "/"} {
				places = append(places, place{filepath.Join(root, "sys", "fs", "cgroup", "memory", d), "memory.limit_in_bytes", "memory.usage_in_bytes"})
			}
		}
	}
	for _, p := range places {
		limit, ok1 := readNumber(filepath.Join(p.dir, p.limit))
		usage, ok2 := readNumber(filepath.Join(p.dir, p.usage))
		if !ok1 || !ok2 {
			continue
		}
		if limit >= unlimited {
			return 0, false
		}
		if usage >= limit {
			return 0, true
		}
		return limit - usage, true
	}
	return 0, false
}

// readNumber reads a file holding one number ("max" counts as no limit).
func readNumber(path string) (uint64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return unlimited, true
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}
