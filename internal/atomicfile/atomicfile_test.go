package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
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
