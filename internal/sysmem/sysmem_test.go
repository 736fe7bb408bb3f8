package sysmem

import (
	"os"
	"path/filepath"
	"testing"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestAvailable(t *testing.T) {
	meminfo := "MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  uint64
		ok    bool
	}{
		{"meminfo only", map[string]string{"proc/meminfo": meminfo}, 20000000 * 1024, true},
		{"cgroup v2 limit below", map[string]string{"proc/meminfo": meminfo, "proc/self/cgroup": "0::/job/42\n",
			"sys/fs/cgroup/job/42/memory.max": "4294967296\n", "sys/fs/cgroup/job/42/memory.current": "1073741824\n"}, 3 << 30, true},
		{"cgroup v2 no limit", map[string]string{"proc/meminfo": meminfo, "proc/self/cgroup": "0::/\n",
			"sys/fs/cgroup/memory.max": "max\n", "sys/fs/cgroup/memory.current": "1073741824\n"}, 20000000 * 1024, true},
		{"cgroup v1 at the mount's top", map[string]string{"proc/meminfo": meminfo, "proc/self/cgroup": "4:memory:/process_api/ab\n0::/\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "2147483648\n", "sys/fs/cgroup/memory/memory.usage_in_bytes": "1073741824\n"}, 1 << 30, true},
		{"cgroup v1 unlimited", map[string]string{"proc/meminfo": meminfo, "proc/self/cgroup": "4:memory:/\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n", "sys/fs/cgroup/memory/memory.usage_in_bytes": "5\n"}, 20000000 * 1024, true},
		{"nothing", map[string]string{}, 0, false},
	} {
		got, source, ok := available(writeTree(t, tc.files))
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %d (%s), %v; want %d, %v", tc.name, got, source, ok, tc.want, tc.ok)
		}
	}
	if v, source, ok := Available(); ok && v == 0 {
		t.Errorf("this machine: 0 bytes available (%s)", source)
	}
}
