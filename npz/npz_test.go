package npz

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.Float32("w", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6.5}); err != nil {
		t.Fatal(err)
	}
	if err := w.Float64("v", []int{2}, []float64{-1, 1e300}); err != nil {
		t.Fatal(err)
	}
	if err := w.Text("meta", `{"name":"Zoë"}`); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	arrays, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if a := arrays["w"]; a.Descr != "<f4" || len(a.Shape) != 2 || a.Shape[1] != 3 || a.Float32[5] != 6.5 {
		t.Fatalf("w: %+v", a)
	}
	if a := arrays["v"]; a.Float64[1] != 1e300 || a.Shape[0] != 2 {
		t.Fatalf("v: %+v", a)
	}
	if a := arrays["meta"]; a.Text != `{"name":"Zoë"}` {
		t.Fatalf("meta: %q", a.Text)
	}
}

func TestCorruptArchivesAreErrors(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Float32("w", []int{4, 4}, make([]float32, 16))
	w.Close()
	good := buf.Bytes()
	for _, n := range []int{0, 1, 10, len(good) / 2, len(good) - 1} {
		if _, err := Read(bytes.NewReader(good[:n]), int64(n)); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
	if _, err := parseHeader(strings.NewReader("\x93NUMPY\x01\x00\x50\x00{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999), }")); err == nil {
		t.Error("absurd shape: no error")
	}
	if _, err := parseHeader(strings.NewReader("hello world, not numpy")); err == nil {
		t.Error("text: no error")
	}
}

// numpy.load must open what Writer writes (skipped without Debian's numpy).
func TestNumpyLoadsArchive(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skip("skipping: /usr/bin/python3 with numpy is not installed (scripts/install-anchors.sh installs it)")
	}
	path := filepath.Join(t.TempDir(), "m.npz")
	f, _ := os.Create(path)
	w := NewWriter(f)
	w.Float32("layer", []int{3, 2}, []float32{1, 2, 3, 4, 5, 6})
	w.Float64("scalar", []int{}, []float64{2.5})
	w.Text("meta", "héllo")
	w.Close()
	f.Close()
	out, err := exec.Command(py, "-c", `import numpy as np, sys
z = np.load(sys.argv[1], allow_pickle=False)
print(z["layer"].dtype, z["layer"].shape, z["layer"][2,1], float(z["scalar"]), str(z["meta"]))`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy.load failed: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "float32 (3, 2) 6.0 2.5 héllo" {
		t.Fatalf("numpy saw %q", got)
	}
}

// TestArchiveBombIsRefused checks that members which each stay under the
// per-array bound but add up to more are refused from their declared
// sizes, before anything is decompressed.
func TestArchiveBombIsRefused(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range 5 {
		// A member that claims 600 MB of zeros; its (never read) data is a
		// few bytes.
		w, err := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("a%d.npy", i), Method: zip.Deflate,
			CompressedSize64: 2, UncompressedSize64: 600 << 20})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte{3, 0})
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err == nil || !strings.Contains(err.Error(), "too large together") {
		t.Fatalf("got %v, want the archive refused as too large", err)
	}
}

// Header reads an array's dtype and shape without decoding its data, so
// that a reader can refuse a shape it does not expect first (a 2^28-element
// array took 3.6 GB before its shape was refused).
func TestHeaderDecodesNothing(t *testing.T) {
	const rows, cols = 1 << 13, 1 << 13 // 64 Mi float32: 256 MiB, a few hundred kB compressed
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.Float32("big", []int{rows, cols}, make([]float32, rows*cols)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	b := buf.Bytes()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ar, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	h, err := ar.Header("big")
	runtime.ReadMemStats(&after)
	if err != nil || h.Descr != "<f4" || len(h.Shape) != 2 || h.Shape[0] != rows || h.Shape[1] != cols || h.Float32 != nil {
		t.Fatalf("Header: %+v, %v", h, err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("Open and Header allocated %d MB", got>>20)
	}
	if h, err := ar.Header("none"); h != nil || err != nil {
		t.Errorf("Header of a missing array: %v, %v", h, err)
	}
	// Array reads it whole, holding the values once (not the bytes too).
	runtime.ReadMemStats(&before)
	a, err := ar.Array("big")
	runtime.ReadMemStats(&after)
	if err != nil || len(a.Float32) != rows*cols {
		t.Fatalf("Array: %v", err)
	}
	if got, want := after.TotalAlloc-before.TotalAlloc, uint64(4*rows*cols); got > want+want/4 {
		t.Errorf("Array allocated %d MB for %d MB of values", got>>20, want>>20)
	}
}

// A payload longer or shorter than its shape is an error.
func TestPayloadLengthMustMatchShape(t *testing.T) {
	for _, extra := range []string{"", "\x00\x00\x00\x00\x00"} {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		f, _ := zw.Create("a.npy")
		hdr := "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
		fmt.Fprintf(f, "\x93NUMPY\x01\x00%c\x00%s\x00\x00\x80\x3f%s", len(hdr), hdr, extra)
		zw.Close()
		if _, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err == nil || !strings.Contains(err.Error(), "holds") {
			t.Errorf("payload of %d bytes for 2 float32: %v", 4+len(extra), err)
		}
	}
}

// A member whose data was damaged fails its CRC-32 check.
func TestDamagedDataIsAnError(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, _ := zw.CreateHeader(&zip.FileHeader{Name: "a.npy", Method: zip.Store})
	hdr := "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
	fmt.Fprintf(f, "\x93NUMPY\x01\x00%c\x00%s\x00\x00\x80\x3f\x00\x00\x80\x3f", len(hdr), hdr)
	zw.Close()
	b := buf.Bytes()
	i := bytes.Index(b, []byte("\x80\x3f\x00\x00\x80\x3f"))
	b[i] ^= 1
	if _, err := Read(bytes.NewReader(b), int64(len(b))); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("damaged data: %v", err)
	}
}
