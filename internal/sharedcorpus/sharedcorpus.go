// Package sharedcorpus finds the real speech corpora in ../shared/corpus (beside
// the repository) for integration tests and benchmarks, and skips the test
// with a clear message where they are absent, as in a user's fresh clone.
package sharedcorpus

import (
	"os"
	"path/filepath"
	"testing"
)

// Root returns the repository root: the nearest directory above the working
// directory that holds go.mod.
func Root() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// Path returns ../shared/corpus/<parts...> relative to the repository root,
// or "" when it does not exist.
func Path(parts ...string) string {
	root, ok := Root()
	if !ok {
		return ""
	}
	p := filepath.Join(append([]string{root, "..", "shared", "corpus"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// Require returns ../shared/corpus/<parts...>, or skips tb with a message
// saying what is missing.
func Require(tb testing.TB, parts ...string) string {
	tb.Helper()
	p := Path(parts...)
	if p == "" {
		tb.Skipf("skipping: the real speech corpus ../shared/corpus/%s is absent (it sits beside the repository only on the project's machines)", filepath.Join(parts...))
	}
	return p
}
