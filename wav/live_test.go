package wav

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// oneByteReader hands out its data a few bytes at a time, as a pipe may.
type trickle struct {
	b []byte
	k int
}

func (t *trickle) Read(p []byte) (int, error) {
	if len(t.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), t.k)], t.b)
	t.b = t.b[n:]
	return n, nil
}

func TestStreamWriterReaderRoundTrip(t *testing.T) {
	x := make([]float64, 1001)
	for i := range x {
		x[i] = 0.5 * math.Sin(float64(i)/7)
	}
	for _, enc := range []Encoding{PCM16, Float32} {
		var buf bytes.Buffer
		sw, err := NewStreamWriter(&buf, 16000, enc)
		if err != nil {
			t.Fatal(err)
		}
		if err := sw.Write(x[:500]); err != nil {
			t.Fatal(err)
		}
		if err := sw.Write(x[500:]); err != nil {
			t.Fatal(err)
		}
		if err := sw.Close(); err != nil {
			t.Fatal(err)
		}
		if got := binary.LittleEndian.Uint32(buf.Bytes()[4:]); got != math.MaxUint32 {
			t.Errorf("%v: RIFF size %#x in a pipe, want the placeholder", enc, got)
		}
		sr, err := NewStreamReader(&trickle{b: buf.Bytes(), k: 3})
		if err != nil {
			t.Fatal(err)
		}
		var got []float64
		dst := make([]float64, 64)
		for {
			n, err := sr.Read(dst)
			got = append(got, dst[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(got) != len(x) {
			t.Fatalf("%v: read %d samples, want %d", enc, len(got), len(x))
		}
		for i := range x {
			if math.Abs(got[i]-x[i]) > 1.0/32768 {
				t.Fatalf("%v: sample %d is %v, want %v", enc, i, got[i], x[i])
			}
		}
	}
}

// TestStreamWriterFileHeader checks that Close completes a file's header:
// the file then reads as an ordinary WAV file.
func TestStreamWriterFileHeader(t *testing.T) {
	for _, enc := range []Encoding{PCM16, Float32} {
		path := filepath.Join(t.TempDir(), "live.wav")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		sw, err := NewStreamWriter(f, 8000, enc)
		if err != nil {
			t.Fatal(err)
		}
		if err := sw.Write(make([]float64, 777)); err != nil {
			t.Fatal(err)
		}
		if err := sw.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		a, err := ReadFile(path)
		if err != nil {
			t.Fatalf("%v: %v", enc, err)
		}
		if a.Len() != 777 || a.Rate != 8000 {
			t.Errorf("%v: %d samples at %d Hz, want 777 at 8000", enc, a.Len(), a.Rate)
		}
	}
}

func TestStreamReaderBadStreams(t *testing.T) {
	var buf bytes.Buffer
	sw, _ := NewStreamWriter(&buf, 16000, PCM16)
	sw.Write(make([]float64, 10))
	whole := buf.Bytes()
	cases := map[string][]byte{
		"ended in the middle of a sample": whole[:len(whole)-1],
		"past the end":                    whole[:30],
		"empty":                           nil,
		"FLAC":                            []byte("fLaC\x00\x00\x00\x22"),
	}
	for want, data := range cases {
		sr, err := NewStreamReader(bytes.NewReader(data))
		if err == nil {
			_, err = io.ReadAll(readerOf(sr))
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error with %q, got %v", want, err)
		}
	}
	// A raw stream's rate is bounded as a header's.
	for _, rate := range []int{0, -1, MaxRate + 1, 1e9} {
		if _, err := NewRawReader(bytes.NewReader(nil), PCM16, rate, 1); err == nil || !strings.Contains(err.Error(), "a rate of 1 to 768000 Hz") {
			t.Errorf("raw stream at %d Hz: %v", rate, err)
		}
	}
	// A raw stream cut inside a 4-byte float.
	sr, err := NewRawReader(bytes.NewReader(make([]byte, 10)), Float32, 16000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(readerOf(sr)); err == nil || !strings.Contains(err.Error(), "middle of a sample") {
		t.Errorf("raw stream cut in a sample: %v", err)
	}
}

// readerOf drains a StreamReader through io.ReadAll (one byte per sample).
func readerOf(sr *StreamReader) io.Reader { return drain{sr} }

type drain struct{ sr *StreamReader }

func (d drain) Read(p []byte) (int, error) {
	dst := make([]float64, len(p))
	n, err := d.sr.Read(dst)
	return n, err
}
