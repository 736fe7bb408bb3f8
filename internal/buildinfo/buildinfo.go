// Package buildinfo says which dlnmf wrote something: the module version, the
// VCS commit the binary was built from, and the Go version, as the Go
// toolchain stamps them into every binary (runtime/debug.ReadBuildInfo).
// Model files record it, so a file found later says what made it.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Module is dlnmf's module path.
const Module = "github.com/dlnmf/dlnmf"

// Info identifies a build of dlnmf. Empty fields are unknown: tests and
// builds outside a git checkout carry no commit.
type Info struct {
	Version  string `json:"version"`            // module version, "(devel)" for a local build
	Commit   string `json:"commit,omitempty"`   // vcs.revision
	Time     string `json:"time,omitempty"`     // vcs.time: the commit's time
	Modified bool   `json:"modified,omitempty"` // built from a tree with uncommitted changes
	Go       string `json:"go"`                 // Go toolchain, e.g. "go1.26.0"
}

// Get returns the running binary's build of dlnmf: the main module's when
// the binary is dlnmf itself, the dependency's when a program imports dlnmf.
func Get() Info {
	info := Info{Version: "unknown", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	if bi.Main.Path != Module {
		for _, d := range bi.Deps {
			if d.Path == Module {
				info.Version = d.Version
			}
		}
		return info
	}
	if bi.Main.Version != "" {
		info.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the build in one line: "dlnmf (devel), commit 4d89161+dirty, go1.26.0".
func (i Info) String() string {
	var b strings.Builder
	b.WriteString("dlnmf " + i.Version)
	if i.Commit != "" {
		b.WriteString(", commit " + i.Commit[:min(len(i.Commit), 12)])
		if i.Modified {
			b.WriteString("+dirty")
		}
	}
	b.WriteString(", " + i.Go)
	return b.String()
}
