package npz

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Array is one array of an archive.
type Array struct {
	Descr string // numpy dtype string: "<f4", "<f8" or "<U<n>"
	Shape []int
	// Exactly one of these holds the data, by Descr.
	Float32 []float32
	Float64 []float64
	Text    string
}

// Len returns the number of elements the shape implies.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Writer writes arrays into an .npz archive.
type Writer struct {
	zw *zip.Writer
}

// NewWriter returns a Writer that writes the archive to w. Close finishes it.
func NewWriter(w io.Writer) *Writer { return &Writer{zw: zip.NewWriter(w)} }

// Float32 adds a float32 array of the given shape; len(data) must match it.
func (w *Writer) Float32(name string, shape []int, data []float32) error {
	if product(shape) != len(data) {
		panic(fmt.Sprintf("npz: %s: shape %v does not hold %d values", name, shape, len(data)))
	}
	buf := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	return w.add(name, "<f4", shape, buf)
}

// Float64 adds a float64 array of the given shape; len(data) must match it.
func (w *Writer) Float64(name string, shape []int, data []float64) error {
	if product(shape) != len(data) {
		panic(fmt.Sprintf("npz: %s: shape %v does not hold %d values", name, shape, len(data)))
	}
	buf := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(v))
	}
	return w.add(name, "<f8", shape, buf)
}

// Text adds a string as a 0-d unicode array.
func (w *Writer) Text(name, s string) error {
	runes := []rune(s)
	n := max(len(runes), 1)
	buf := make([]byte, 4*n)
	for i, r := range runes {
		binary.LittleEndian.PutUint32(buf[4*i:], uint32(r))
	}
	return w.add(name, "<U"+strconv.Itoa(n), nil, buf)
}

// Close finishes the archive. It does not close the underlying writer.
func (w *Writer) Close() error { return w.zw.Close() }

func (w *Writer) add(name, descr string, shape []int, payload []byte) error {
	// Stored, not deflated, as numpy.savez does: float data barely
	// compresses, and readers can map arrays straight from the file.
	f, err := w.zw.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Store})
	if err != nil {
		return err
	}
	if _, err := f.Write(header(descr, shape)); err != nil {
		return err
	}
	_, err = f.Write(payload)
	return err
}

// header returns a version 1.0 .npy header, padded so that the data starts
// at a multiple of 64 bytes as numpy does.
func header(descr string, shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	dict += strings.Repeat(" ", pad) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(dict)))
	b.WriteString(dict)
	return b.Bytes()
}

func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// maxElements bounds the size an array header may claim, so that a corrupt
// header cannot make Read allocate without limit (256 Mi elements).
const maxElements = 1 << 28

// maxArchiveBytes bounds what Read decompresses from one archive: one
// array of maxElements float32 values with its header.
const maxArchiveBytes = 4*maxElements + 1<<16

// Archive is an opened .npz archive whose arrays are read one at a time:
// Header reads an array's dtype and shape only, so that a caller can refuse
// a shape it does not expect before the data is decoded (up to 1 GiB).
type Archive struct {
	members map[string]*zip.File
	names   []string
}

// Open opens the .npz archive of size bytes in r, checking the sizes it
// declares; nothing is decompressed yet.
func Open(r io.ReaderAt, size int64) (*Archive, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not an .npz archive: %w", err)
	}
	// The sizes the archive declares bound it as a whole, before anything
	// is read: many members that each stay under the bound (a deflate
	// "zip bomb" compresses 1 GiB of zeros to 1 MB) must not add up to
	// more than one array may hold.
	var total uint64
	for _, f := range zr.File {
		total += min(f.UncompressedSize64, 1<<62)
		if total > maxArchiveBytes {
			return nil, fmt.Errorf("the archive's arrays are too large together (more than %d bytes)", uint64(maxArchiveBytes))
		}
	}
	ar := &Archive{members: make(map[string]*zip.File, len(zr.File))}
	for _, f := range zr.File {
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			return nil, fmt.Errorf("archive member %q is not an .npy array", f.Name)
		}
		if _, dup := ar.members[name]; !dup {
			ar.names = append(ar.names, name)
		}
		ar.members[name] = f
	}
	return ar, nil
}

// Names returns the names of the archive's arrays, in archive order.
func (ar *Archive) Names() []string { return ar.names }

// Header returns the dtype and shape of the array name, without its data,
// or nil, nil when the archive has no such array.
func (ar *Archive) Header(name string) (*Array, error) {
	a, _, err := ar.open(name)
	return a, err
}

// Array reads the array name whole, or returns nil, nil when the archive
// has no such array.
func (ar *Archive) Array(name string) (*Array, error) {
	a, rc, err := ar.open(name)
	if a == nil || err != nil {
		return nil, err
	}
	defer rc.Close()
	if err := a.decode(rc); err != nil {
		return nil, fmt.Errorf("array %q: %w", name, err)
	}
	return a, nil
}

// open reads the header of the array name and leaves rc at its data.
func (ar *Archive) open(name string) (*Array, io.ReadCloser, error) {
	f := ar.members[name]
	if f == nil {
		return nil, nil, nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("array %q: %w", name, err)
	}
	a, err := parseHeader(rc)
	if err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("array %q: %w", name, err)
	}
	return a, rc, nil
}

// Read parses an .npz archive of size bytes from r and returns its arrays by
// name (without the ".npy" suffix).
func Read(r io.ReaderAt, size int64) (map[string]*Array, error) {
	ar, err := Open(r, size)
	if err != nil {
		return nil, err
	}
	arrays := make(map[string]*Array, len(ar.names))
	for _, name := range ar.names {
		if arrays[name], err = ar.Array(name); err != nil {
			return nil, err
		}
	}
	return arrays, nil
}

var (
	descrRe   = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	fortranRe = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	shapeRe   = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// parseHeader reads the .npy header at the start of r: the dtype and
// shape, checked against maxElements, and nothing of the data.
func parseHeader(r io.Reader) (*Array, error) {
	var pre [12]byte
	if _, err := io.ReadFull(r, pre[:10]); err != nil || string(pre[:6]) != "\x93NUMPY" {
		return nil, errors.New("not an .npy array (bad magic)")
	}
	var hlen int
	switch pre[6] {
	case 1:
		hlen = int(binary.LittleEndian.Uint16(pre[8:10]))
	case 2, 3:
		if _, err := io.ReadFull(r, pre[10:12]); err != nil {
			return nil, errors.New("truncated .npy header")
		}
		hlen = int(binary.LittleEndian.Uint32(pre[8:12]))
	default:
		return nil, fmt.Errorf("unsupported .npy version %d", pre[6])
	}
	// Read what arrives, not what the header claims, and no more than a
	// header of a few fields can need.
	b, err := io.ReadAll(io.LimitReader(r, int64(min(hlen, maxHeaderBytes))))
	if err != nil {
		return nil, err
	}
	if len(b) < hlen {
		if hlen > maxHeaderBytes {
			return nil, fmt.Errorf("an .npy header of %d bytes (at most %d are read)", hlen, maxHeaderBytes)
		}
		return nil, errors.New("truncated .npy header")
	}
	dict := string(b)
	m := descrRe.FindStringSubmatch(dict)
	if m == nil {
		return nil, errors.New("the .npy header has no dtype")
	}
	a := &Array{Descr: m[1]}
	if f := fortranRe.FindStringSubmatch(dict); f == nil || f[1] != "False" {
		return nil, errors.New("only C-ordered arrays are supported")
	}
	s := shapeRe.FindStringSubmatch(dict)
	if s == nil {
		return nil, errors.New("the .npy header has no shape")
	}
	n := 1
	for _, field := range strings.Split(s[1], ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		d, err := strconv.Atoi(field)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("bad shape %q", s[1])
		}
		if d > 0 && n > maxElements/d {
			return nil, fmt.Errorf("shape %q is too large", s[1])
		}
		n *= d
		a.Shape = append(a.Shape, d)
	}
	return a, nil
}

// maxHeaderBytes bounds an .npy header: numpy writes 64 to a few hundred
// bytes.
const maxHeaderBytes = 1 << 16

// decode reads the data of a, whose header parseHeader read, from r, which
// must end with it: the values are decoded as they arrive, a block at a
// time, never held twice.
func (a *Array) decode(r io.Reader) error {
	n := a.Len()
	var size int // bytes per element
	switch {
	case a.Descr == "<f4":
		size, a.Float32 = 4, make([]float32, n)
	case a.Descr == "<f8":
		size, a.Float64 = 8, make([]float64, n)
	case strings.HasPrefix(a.Descr, "<U"):
		width, err := strconv.Atoi(a.Descr[2:])
		if err != nil || width < 0 || width > maxHeaderBytes || n != 1 {
			return fmt.Errorf("unsupported text array %q with shape %v", a.Descr, a.Shape)
		}
		size, n = 4, width
	default:
		return fmt.Errorf("unsupported dtype %q", a.Descr)
	}
	var sb strings.Builder
	ended := false // numpy pads short strings with NULs
	buf := make([]byte, min(n*size, 1<<16))
	le := binary.LittleEndian
	for at := 0; at < n; {
		k := min(n-at, len(buf)/size)
		if got, err := io.ReadFull(r, buf[:k*size]); err != nil {
			return fmt.Errorf("holds %d bytes for %d values of %d bytes", at*size+got, n, size)
		}
		for i := range k {
			b := buf[i*size:]
			switch {
			case a.Float32 != nil:
				a.Float32[at+i] = math.Float32frombits(le.Uint32(b))
			case a.Float64 != nil:
				a.Float64[at+i] = math.Float64frombits(le.Uint64(b))
			default:
				c := rune(le.Uint32(b))
				if ended = ended || c == 0; ended {
					continue
				}
				if !utf8.ValidRune(c) {
					return errors.New("text array holds an invalid character")
				}
				sb.WriteRune(c)
			}
		}
		at += k
	}
	a.Text = sb.String()
	// Reading to the end also has the zip reader check the member's CRC-32.
	var more [1]byte
	switch k, err := io.ReadFull(r, more[:]); {
	case k > 0:
		return fmt.Errorf("holds more bytes than its %d values of %d bytes", n, size)
	case err != io.EOF:
		return err
	}
	return nil
}
