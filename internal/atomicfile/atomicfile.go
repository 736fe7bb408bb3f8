// Package atomicfile writes files so that a reader never sees a half-written
// one: the content goes to a temporary file in the same directory, which is
// synced and renamed over the target only when everything succeeded.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Inside returns the path of name inside the output folder dir, or an error
// when name would leave it: an absolute name, or one that climbs out with
// "..". A writer whose file names come from data (speaker names read from a
// model file, input file names) builds its paths with Inside, so that no
// name, however crafted, writes outside the folder the user chose. A
// symbolic link already at the final path is replaced, not followed (the
// rename replaces the link itself).
func Inside(dir, name string) (string, error) {
	if !filepath.IsLocal(name) {
		return "", fmt.Errorf("%q would be written outside the output folder %s", name, dir)
	}
	return filepath.Join(dir, name), nil
}

// Write creates path with the bytes that write produces. On any error from
// write or from the file system, the target is left as it was and the
// temporary file is removed.
func Write(path string, write func(w io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// WriteBytes creates path holding b, atomically.
func WriteBytes(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// File is a file being written atomically, for writers that produce their
// content piece by piece: it appears at its path only when Commit succeeds,
// and Abort (or a failed Commit) removes every trace of it.
type File struct {
	path   string
	tmp    *os.File // nil once committed or aborted
	bw     *bufio.Writer
	closed bool
}

// Create starts writing path: a temporary file in the same directory.
func Create(path string) (*File, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &File{path: path, tmp: tmp, bw: bufio.NewWriterSize(tmp, 1<<16)}, nil
}

// Path returns the target path.
func (f *File) Path() string { return f.path }

// Write writes p to the temporary file (buffered). Its errors name the
// target.
func (f *File) Write(p []byte) (int, error) {
	if f.tmp == nil {
		return 0, fmt.Errorf("%s: write after Commit or Abort", f.path)
	}
	n, err := f.bw.Write(p)
	if err != nil {
		err = fmt.Errorf("%s: %w", f.path, err)
	}
	return n, err
}

// Commit flushes, syncs and closes the temporary file and renames it to the
// target. On failure the target is left as it was and the temporary file is
// removed. Commit after Commit or Abort is an error.
func (f *File) Commit() (err error) {
	if f.tmp == nil {
		return fmt.Errorf("%s: Commit after Commit or Abort", f.path)
	}
	defer func() {
		if err != nil {
			f.Abort()
			err = fmt.Errorf("%s: %w", f.path, err)
		}
	}()
	if err = f.bw.Flush(); err != nil {
		return err
	}
	if err = f.tmp.Sync(); err != nil {
		return err
	}
	f.closed = true
	if err = f.tmp.Close(); err != nil {
		return err
	}
	if err = os.Chmod(f.tmp.Name(), 0o644); err != nil {
		return err
	}
	if err = os.Rename(f.tmp.Name(), f.path); err != nil {
		return err
	}
	f.tmp = nil
	return nil
}

// Abort discards the temporary file. It does nothing after Commit or Abort,
// so `defer f.Abort()` is safe.
func (f *File) Abort() {
	if f.tmp == nil {
		return
	}
	if !f.closed {
		f.tmp.Close()
	}
	os.Remove(f.tmp.Name())
	f.tmp = nil
}
