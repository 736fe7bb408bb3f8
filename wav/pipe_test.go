package wav

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/internal/testpipe"
)

// throughPipe decodes b with a Reader reading from a real pipe (an
// *os.File that cannot seek), as `cat file | dlnmf ... -` does.
func throughPipe(t *testing.T, b []byte) ([]float64, *Reader, error) {
	t.Helper()
	return readStream(testpipe.Reader(t, b), rand.New(rand.NewPCG(5, 6)))
}

// asFile decodes b with a Reader on a file holding it.
func asFile(t *testing.T, b []byte) ([]float64, *Reader) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, rd, err := readStream(f, rand.New(rand.NewPCG(5, 6)))
	if err != nil {
		t.Fatal(err)
	}
	return got, rd
}

// withDataSize returns a copy of the WAV b (canonical 44-byte header) with
// the RIFF and data sizes set to size, as a writer that does not know the
// length leaves them.
func withDataSize(b []byte, size uint32) []byte {
	c := append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(c[4:], size)
	binary.LittleEndian.PutUint32(c[40:], size)
	return c
}

func TestReaderThroughPipe(t *testing.T) {
	x := make([]float64, 3001)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range x {
		x[i] = 0.3 * math.Sin(float64(i)/7) * rng.Float64()
	}
	stereo := encodeBytes(t, [][]float64{x[:3000], x[1:]}, 16000, PCM16)
	wav24 := encodeBytes(t, [][]float64{x}, 22050, PCM24)
	codes := speechLike(5000, 16, 3)
	fl := flacBytes(t, [][]int32{codes, codes}, 16000, 16, 1152)
	cases := []struct {
		name string
		b    []byte
	}{
		{"WAV with its length", stereo},
		{"24-bit WAV with its length", wav24},
		{"FLAC", fl},
		{"WAV of unknown length (0)", withDataSize(stereo, 0)},
		{"WAV of unknown length (0xFFFFFFFF)", withDataSize(stereo, math.MaxUint32)},
		{"WAV of unknown length (0x7FFFF000), cut inside a frame", withDataSize(wav24[:len(wav24)-2], 0x7ffff000)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, frd := asFile(t, c.b)
			got, prd, err := throughPipe(t, c.b)
			if err != nil {
				t.Fatalf("through a pipe: %v", err)
			}
			if len(want) == 0 || len(got) != len(want) {
				t.Fatalf("through a pipe %d samples, from the file %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("sample %d: through a pipe %v, from the file %v", i, got[i], want[i])
				}
			}
			if frd.Frames() != len(want) {
				t.Errorf("file: Frames %d, want %d", frd.Frames(), len(want))
			}
			if prd.Frames() != len(want) {
				t.Errorf("pipe: Frames %d, want %d", prd.Frames(), len(want))
			}
			if prd.Rate() != frd.Rate() || prd.Channels() != frd.Channels() || prd.Format() != frd.Format() {
				t.Errorf("pipe: %d Hz, %d channels, format %v; file: %d Hz, %d channels, %v",
					prd.Rate(), prd.Channels(), prd.Format(), frd.Rate(), frd.Channels(), frd.Format())
			}
		})
	}
}

// A FLAC stream's errors say "flac:", not "wav:".
func TestReaderNamesFLAC(t *testing.T) {
	codes := speechLike(5000, 16, 3)
	fl := flacBytes(t, [][]int32{codes}, 16000, 16, 1152)
	_, rd, err := throughPipe(t, fl[:len(fl)/2])
	if err == nil || !strings.HasPrefix(err.Error(), "flac: truncated FLAC") {
		t.Errorf("a truncated FLAC stream: %v", err)
	}
	if rd == nil || rd.Format() != FLAC {
		t.Errorf("Format of a FLAC stream: not FLAC")
	}
	if _, _, err := throughPipe(t, fl[:30]); err == nil || !strings.HasPrefix(err.Error(), "flac: ") {
		t.Errorf("a FLAC stream cut in its header: %v", err)
	}
}

// A live output cut by SIGKILL keeps its placeholder sizes: the file is read
// as the stream it was, by ReadFile and Open alike, whole frames only.
func TestReadsFileWithPlaceholderSizes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := NewStreamWriter(f, 8000, PCM16)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, 777)
	for i := range x {
		x[i] = float64(i%100) / 128
	}
	if err := sw.Write(x); err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{1}) // half of a sample: the writer was killed inside a write
	f.Close()          // no sw.Close: the sizes stay 0xFFFFFFFF
	a, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 777 || a.Rate != 8000 {
		t.Fatalf("ReadFile: %d samples at %d Hz, want 777 at 8000", a.Len(), a.Rate)
	}
	for i, v := range a.Channels[0] {
		if v != x[i] {
			t.Fatalf("sample %d: %v, want %v", i, v, x[i])
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, rd := asFile(t, b)
	if rd.Frames() != 777 || len(got) != 777 {
		t.Errorf("Reader: Frames %d, %d samples read, want 777", rd.Frames(), len(got))
	}
}

// A data size of 0 is a placeholder only where no chunk follows: an empty
// data chunk followed by a LIST chunk is an empty recording.
func TestEmptyDataChunkBeforeAnotherChunk(t *testing.T) {
	b := encodeBytes(t, [][]float64{nil}, 16000, PCM16)
	b = append(b, "LIST\x10\x00\x00\x00INFOISFT\x04\x00\x00\x00sox\x00"...)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	a, err := Decode(bytes.NewReader(b))
	if err != nil || a.Len() != 0 {
		t.Fatalf("Decode: %v", err)
	}
}
