package inputfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.wav")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	regular := filepath.Join(dir, "a.wav")
	if err := os.WriteFile(regular, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.wav")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{fifo, "is a named pipe, not a file"},
		{link, "is a named pipe, not a file"},
		{dir, "is a folder, not a file"},
		{"/dev/null", "is a character device, not a file"},
	} {
		// A named pipe without a writer would block os.Open forever: the
		// test would hang, not fail, on code that opens before checking.
		f, _, err := Open(tc.path)
		if err == nil {
			f.Close()
			t.Fatalf("%s: opened", tc.path)
		}
		var nr *NotRegularError
		if !errors.As(err, &nr) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), tc.path) {
			t.Errorf("%s: got %v, want %q", tc.path, err, tc.want)
		}
	}
	f, size, err := Open(regular)
	if err != nil || size != 3 {
		t.Fatalf("regular file: %v, size %d", err, size)
	}
	f.Close()
	if _, _, err := Open(filepath.Join(dir, "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
