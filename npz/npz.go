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

// Read parses an .npz archive of size bytes from r and returns its arrays by
// name (without the ".npy" suffix).
func Read(r io.ReaderAt, size int64) (map[string]*Array, error) {
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
	arrays := make(map[string]*Array, len(zr.File))
	for _, f := range zr.File {
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			return nil, fmt.Errorf("archive member %q is not an .npy array", f.Name)
		}
		if f.UncompressedSize64 > maxArchiveBytes {
			return nil, fmt.Errorf("array %q is too large (%d bytes)", name, f.UncompressedSize64)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("array %q: %w", name, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("array %q: %w", name, err)
		}
		a, err := parseNPY(data)
		if err != nil {
			return nil, fmt.Errorf("array %q: %w", name, err)
		}
		arrays[name] = a
	}
	return arrays, nil
}

var (
	descrRe   = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	fortranRe = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	shapeRe   = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

func parseNPY(data []byte) (*Array, error) {
	if len(data) < 10 || string(data[:6]) != "\x93NUMPY" {
		return nil, errors.New("not an .npy array (bad magic)")
	}
	var hlen, start int
	switch data[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(data[8:10])), 10
	case 2, 3:
		if len(data) < 12 {
			return nil, errors.New("truncated .npy header")
		}
		hlen, start = int(binary.LittleEndian.Uint32(data[8:12])), 12
	default:
		return nil, fmt.Errorf("unsupported .npy version %d", data[6])
	}
	if hlen > len(data)-start {
		return nil, errors.New("truncated .npy header")
	}
	dict := string(data[start : start+hlen])
	payload := data[start+hlen:]
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
	switch {
	case a.Descr == "<f4":
		if len(payload) != 4*n {
			return nil, fmt.Errorf("holds %d bytes for %d float32 values", len(payload), n)
		}
		a.Float32 = make([]float32, n)
		for i := range a.Float32 {
			a.Float32[i] = math.Float32frombits(binary.LittleEndian.Uint32(payload[4*i:]))
		}
	case a.Descr == "<f8":
		if len(payload) != 8*n {
			return nil, fmt.Errorf("holds %d bytes for %d float64 values", len(payload), n)
		}
		a.Float64 = make([]float64, n)
		for i := range a.Float64 {
			a.Float64[i] = math.Float64frombits(binary.LittleEndian.Uint64(payload[8*i:]))
		}
	case strings.HasPrefix(a.Descr, "<U"):
		width, err := strconv.Atoi(a.Descr[2:])
		if err != nil || width < 0 || n != 1 || len(payload) != 4*width {
			return nil, fmt.Errorf("unsupported text array %q with shape %v", a.Descr, a.Shape)
		}
		var sb strings.Builder
		for i := 0; i < width; i++ {
			r := rune(binary.LittleEndian.Uint32(payload[4*i:]))
			if r == 0 {
				break // numpy pads short strings with NULs
			}
			if !utf8.ValidRune(r) {
				return nil, errors.New("text array holds an invalid character")
			}
			sb.WriteRune(r)
		}
		a.Text = sb.String()
	default:
		return nil, fmt.Errorf("unsupported dtype %q", a.Descr)
	}
	return a, nil
}
