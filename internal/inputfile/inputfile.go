// Package inputfile opens the files dlnmf reads and refuses anything that is
// not a regular file: a named pipe, a device or a socket would make a read
// block forever or never end (/dev/zero), and a folder cannot be decoded.
// Every input path goes through Open or Check: WAV files (info, separate,
// eval, spectrogram, the files of a speaker folder) and model files (-m).
package inputfile

import (
	"fmt"
	"io/fs"
	"os"
)

// NotRegularError is the error for a path that exists but is not a regular
// file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a file", e.Path, kind(e.Mode))
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file (" + m.Type().String() + ")"
}

// Check returns an error unless path (after following symbolic links) is a
// regular file. It never opens path, so it cannot block on a named pipe.
func Check(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err // *PathError names the file
	}
	return checkMode(path, fi.Mode())
}

func checkMode(path string, m fs.FileMode) error {
	if !m.IsRegular() {
		return &NotRegularError{Path: path, Mode: m}
	}
	return nil
}

// Open opens path for reading after Check. The opened file is checked
// again (a path replaced between the two is still refused, though opening a
// named pipe put there in that instant would block until the interrupt
// guard of cmd/dlnmf ends the process); the size of the file is returned
// too.
func Open(path string) (*os.File, int64, error) {
	if err := Check(path); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkMode(path, fi.Mode())
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}
