// Package testpipe gives tests a real pipe to read from: an *os.File that
// cannot seek, as standard input is under `cat file | dlnmf ... -`. Tests
// of stream handling use it instead of a bytes.Reader, which can seek.
package testpipe

import (
	"os"
	"testing"
)

// Reader returns the read end of a pipe through which b arrives, then the
// end of the stream. The pipe is closed when the test ends.
func Reader(t testing.TB, b []byte) *os.File {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close() })
	go func() {
		pw.Write(b)
		pw.Close()
	}()
	return pr
}
