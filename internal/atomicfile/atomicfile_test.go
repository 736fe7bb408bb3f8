package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteLeavesTargetOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	if err := WriteBytes(path, []byte("first")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != "first" {
		t.Fatalf("target changed to %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary file left behind: %v", entries)
	}
}

func TestFileCommitAndAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("piece 1, "))
	f.Write([]byte("piece 2"))
	if _, err := os.Stat(path); err == nil {
		t.Fatal("target visible before Commit")
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort() // no effect after Commit
	if got, _ := os.ReadFile(path); string(got) != "piece 1, piece 2" {
		t.Fatalf("target holds %q", got)
	}
	if err := f.Commit(); err == nil {
		t.Error("second Commit succeeded")
	}

	g, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	g.Write([]byte("half"))
	g.Abort()
	if got, _ := os.ReadFile(path); string(got) != "piece 1, piece 2" {
		t.Fatalf("target changed to %q", got)
	}
	if _, err := g.Write([]byte("x")); err == nil {
		t.Error("Write after Abort succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary file left behind: %v", entries)
	}
}

func TestInside(t *testing.T) {
	dir := filepath.Join("out", "sub")
	for _, name := range []string{"mix.alice.wav", "a/b.wav", "..x.wav", "...alice.wav"} {
		p, err := Inside(dir, name)
		if err != nil || p != filepath.Join(dir, name) {
			t.Errorf("%q: %q, %v", name, p, err)
		}
	}
	for _, name := range []string{"mix.x/../../../evil.wav", "../evil.wav", "/tmp/evil.wav", "..", "", "a/../../b"} {
		if p, err := Inside(dir, name); err == nil {
			t.Errorf("%q: accepted as %q", name, p)
		}
	}
}

// deadPID returns the id of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run a child process: %v", err)
	}
	return cmd.Process.Pid
}

// TestCreateRemovesStaleTemporaries checks that the temporary files a
// killed process left for a target go at the next write of that target,
// and that those of running processes, of other targets and of other
// naming stay.
func TestCreateRemovesStaleTemporaries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "results.json")
	touch := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dead := deadPID(t)
	stale := touch(fmt.Sprintf(".results.json.tmp-%d-123", dead))
	ownOld := touch(fmt.Sprintf(".results.json.tmp-%d-456", os.Getpid())) // an earlier process with our id
	alive := touch(fmt.Sprintf(".results.json.tmp-%d-789", os.Getppid()))
	other := touch(fmt.Sprintf(".scores.csv.tmp-%d-123", dead))
	foreign := touch(".results.json.tmp-abc")
	if err := WriteBytes(path, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{stale, ownOld} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left", filepath.Base(p))
		}
	}
	for _, p := range []string{alive, other, foreign, path} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed", filepath.Base(p))
		}
	}
}

func TestRemoveTemporaries(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(filepath.Join(dir, "a.wav"))
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("part"))
	g, err := Create(filepath.Join(dir, "b.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Commit(); err != nil {
		t.Fatal(err)
	}
	RemoveTemporaries()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "b.wav" {
		t.Errorf("left %v, want only b.wav", entries)
	}
	if err := f.Commit(); err == nil {
		t.Error("Commit after RemoveTemporaries succeeded")
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	if err := CheckWritable(filepath.Join(dir, "m.npz")); err != nil {
		t.Errorf("writable: %v", err)
	}
	if err := CheckWritable(dir); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("folder: %v", err)
	}
	if err := CheckWritable(filepath.Join(dir, "no", "m.npz")); err == nil || !strings.Contains(err.Error(), "cannot write there") {
		t.Errorf("missing folder: %v", err)
	}
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	if os.Getuid() != 0 { // root writes anywhere
		if err := CheckWritable(filepath.Join(ro, "m.npz")); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("read-only folder: %v", err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left %v", entries)
	}
}

// CreateInPlace replaces a symbolic link at its path instead of writing
// through it, and refuses a directory.
func TestCreateInPlaceReplacesLink(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(outside, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "live.a.wav")
	if err := os.Symlink(outside, path); err != nil {
		t.Fatal(err)
	}
	f, err := CreateInPlace(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new")
	f.Close()
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Errorf("the link's target was written: %q", b)
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("%s is not a regular file: %v", path, err)
	}
	if _, err := CreateInPlace(dir); err == nil {
		t.Error("a directory was accepted")
	}
}

func TestReplaceBytes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	for _, content := range []string{"first", "second"} {
		if err := ReplaceBytes(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != content {
			t.Errorf("after ReplaceBytes(%q): %q %v", content, b, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the folder, want the target only", len(entries))
	}
}
