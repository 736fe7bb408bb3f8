package buildinfo

import (
	"runtime"
	"testing"
)

func TestGet(t *testing.T) {
	i := Get()
	t.Logf("%+v", i)
	if i.Go != runtime.Version() {
		t.Errorf("Go = %q, want %q", i.Go, runtime.Version())
	}
	// A test binary's main module is dlnmf, built locally.
	if i.Version != "(devel)" {
		t.Errorf("Version = %q, want (devel) for a local build", i.Version)
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		in   Info
		want string
	}{
		{Info{Version: "(devel)", Go: "go1.26.0"}, "dlnmf (devel), go1.26.0"},
		{Info{Version: "v1.2.0", Commit: "4d89161deadbeef0123456789", Go: "go1.26.0"}, "dlnmf v1.2.0, commit 4d89161deadb, go1.26.0"},
		{Info{Version: "(devel)", Commit: "4d89161deadbeef0123456789", Modified: true, Go: "go1.26.0"}, "dlnmf (devel), commit 4d89161deadb+dirty, go1.26.0"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.in, got, tc.want)
		}
	}
}
