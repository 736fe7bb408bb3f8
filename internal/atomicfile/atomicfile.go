// Package atomicfile writes files so that a reader never sees a half-written
// one: the content goes to a temporary file in the same directory, which is
// synced and renamed over the target only when everything succeeded.
//
// Temporary files are named ".<target>.tmp-<pid>-<random>". A process killed
// outright (SIGKILL, power loss) cannot remove its own: the next Create of
// the same target removes those whose process is gone. RemoveTemporaries
// removes the current process's, for an interrupt that cannot wait for the
// writers to abort.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// live holds the temporary files this process is writing now.
var live = struct {
	sync.Mutex
	names map[string]bool
}{names: map[string]bool{}}

func track(name string, on bool) {
	live.Lock()
	defer live.Unlock()
	if on {
		live.names[name] = true
	} else {
		delete(live.names, name)
	}
}

// RemoveTemporaries removes every temporary file that this process is
// writing: the targets stay as they were. It is for the last moment before
// an interrupted process exits; a writer still running afterwards fails.
func RemoveTemporaries() {
	live.Lock()
	defer live.Unlock()
	for name := range live.names {
		os.Remove(name)
		delete(live.names, name)
	}
}

// tempPrefix is the start of the temporary file names for target base.
func tempPrefix(base string) string { return "." + base + ".tmp-" }

// removeStale removes the temporary files left for path by processes that
// no longer run. Files of live processes, of other naming, or that cannot
// be read are left alone: this is housekeeping, never an error.
func removeStale(path string) {
	dir, prefix := filepath.Dir(path), tempPrefix(filepath.Base(path))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 {
			continue
		}
		name := filepath.Join(dir, e.Name())
		live.Lock()
		mine := live.names[name]
		live.Unlock()
		// This process's own name but not in the live set: a killed
		// earlier process that had the same id (containers reuse them).
		if (pid == os.Getpid() && !mine) || (pid != os.Getpid() && !running(pid)) {
			os.Remove(name)
		}
	}
}

// running reports whether process pid exists on this machine. Any doubt
// (another user's process, a system that cannot tell) counts as running.
func running(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return !errors.Is(err, os.ErrProcessDone) && !errors.Is(err, syscall.ESRCH)
}

// CheckWritable reports, before any work is done, an output path that could
// not be written: a folder where the file should go, a missing folder, or
// one without write permission (it creates and removes a temporary file
// there).
func CheckWritable(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a folder; give a file name", path)
	}
	f, err := Create(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the temporary file's name would only confuse
		}
		return fmt.Errorf("%s: cannot write there: %w", path, err)
	}
	f.Abort()
	return nil
}

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

// ReplaceBytes is WriteBytes without the sync: a process killed at any
// moment still leaves the old content or the new, never a mix, but a
// machine that loses power may keep either, or an empty file, so it is for
// state whose loss is recovered from (a job's progress, which reruns the
// job), where a sync per change would cost more than it saves.
func ReplaceBytes(path string, b []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	f.unsynced = true
	if _, err := f.Write(b); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// File is a file being written atomically, for writers that produce their
// content piece by piece: it appears at its path only when Commit succeeds,
// and Abort (or a failed Commit) removes every trace of it.
type File struct {
	path   string
	tmp    *os.File // nil once committed or aborted
	bw     *bufio.Writer
	closed bool
	// unsynced skips the sync of Commit (ReplaceBytes).
	unsynced bool
}

// Create starts writing path: a temporary file in the same directory. It
// first removes the temporary files of path that killed processes left.
func Create(path string) (*File, error) {
	removeStale(path)
	tmp, err := os.CreateTemp(filepath.Dir(path), tempPrefix(filepath.Base(path))+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	track(tmp.Name(), true)
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

// WriteAt writes p at offset off of what was written so far (a header
// completed at the end, as a FLAC file's MD5), flushing first. Its errors
// name the target.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	if f.tmp == nil {
		return 0, fmt.Errorf("%s: write after Commit or Abort", f.path)
	}
	if err := f.bw.Flush(); err != nil {
		return 0, fmt.Errorf("%s: %w", f.path, err)
	}
	n, err := f.tmp.WriteAt(p, off)
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
	if !f.unsynced {
		if err = f.tmp.Sync(); err != nil {
			return err
		}
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
	track(f.tmp.Name(), false)
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
	track(f.tmp.Name(), false)
	f.tmp = nil
}

// CreateInPlace creates path for a file that is read while it grows (a live
// output), where Create's temporary file cannot serve. Whatever is at path
// is replaced, never followed: a file or a symbolic link there is removed
// first, and the new file is created exclusively, so a link put there
// meanwhile makes it fail rather than write through the link. A directory
// at path is an error.
func CreateInPlace(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.IsDir() {
			return nil, fmt.Errorf("%s is a directory", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}
