package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noSeek hides a reader's Seek method.
type noSeek struct{ io.Reader }

// readStream decodes r with a Reader in pieces of random sizes.
func readStream(r io.Reader, rng *rand.Rand) ([]float64, *Reader, error) {
	rd, err := NewReader(r)
	if err != nil {
		return nil, nil, err
	}
	var out []float64
	buf := make([]float64, 700)
	for {
		n, err := rd.Read(buf[:rng.IntN(len(buf)+1)])
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, rd, rd.Close()
		}
		if err != nil {
			rd.Close()
			return nil, rd, err
		}
	}
}

// agree checks that a Reader decodes b as Decode does: the same mono
// samples, or the same error when the reader can seek (a reader that cannot
// stops at the audio, so it may accept what Decode rejects after it).
func agree(t *testing.T, b []byte, rng *rand.Rand) {
	t.Helper()
	a, derr := Decode(bytes.NewReader(b))
	for _, seekable := range []bool{true, false} {
		var r io.Reader = bytes.NewReader(b)
		if !seekable {
			r = noSeek{r}
		}
		got, rd, err := readStream(r, rng)
		switch {
		case derr != nil && seekable:
			if err == nil || err.Error() != derr.Error() {
				t.Fatalf("Decode: %v; Reader: %v", derr, err)
			}
		case derr != nil:
			if err == nil && !strings.Contains(derr.Error(), "after") && !strings.Contains(derr.Error(), "chunk") {
				t.Fatalf("Decode: %v; Reader without Seek: no error", derr)
			}
		case err != nil:
			if seekable || !strings.Contains(err.Error(), "follows the audio") {
				t.Fatalf("Decode succeeded; Reader (seekable %v): %v", seekable, err)
			}
		default:
			want := a.Mono()
			if len(got) != len(want) || rd.Frames() != len(want) || rd.Rate() != a.Rate || rd.Channels() != len(a.Channels) || rd.Encoding() != a.Encoding {
				t.Fatalf("Reader: %d samples (Frames %d), %d Hz, %d channels, %v; Decode: %d, %d Hz, %d, %v",
					len(got), rd.Frames(), rd.Rate(), rd.Channels(), rd.Encoding(), len(want), a.Rate, len(a.Channels), a.Encoding)
			}
			for i := range want {
				if got[i] != want[i] && !(got[i] != got[i] && want[i] != want[i]) {
					t.Fatalf("sample %d: Reader %v, Decode %v", i, got[i], want[i])
				}
			}
		}
	}
}

func TestReaderEqualsDecode(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 2001)
	for i := range x {
		x[i] = rng.Float64()*2 - 1
	}
	le := binary.LittleEndian
	for _, enc := range []Encoding{PCM8, PCM16, PCM24, PCM32, Float32, Float64} {
		mono := encodeBytes(t, [][]float64{x}, 16000, enc)
		agree(t, mono, rng)
		agree(t, encodeBytes(t, [][]float64{x[:667], x[667:1334], x[1334:]}, 44100, enc), rng)
		agree(t, extensible(t, [][]float64{x[:1000], x[1000:2000]}, enc), rng)
		odd := withChunk(withChunk(mono, "LIST", []byte("odd")), "junk", make([]byte, 10))
		agree(t, append(odd, "cue \x04\x00\x00\x00abcd"...), rng)
		// The fmt chunk after the audio: fine for a file, not for a pipe.
		i := bytes.Index(mono, []byte("data"))
		fmtChunk := mono[12:i]
		late := append(append(append([]byte{}, mono[:12]...), mono[i:]...), fmtChunk...)
		agree(t, late, rng)
		// Malformed: cut short, a huge data size (a placeholder: the
		// audio runs to the end), a second fmt chunk after the audio.
		agree(t, mono[:len(mono)-3], rng)
		agree(t, mono[:40], rng)
		huge := append([]byte{}, mono...)
		le.PutUint32(huge[40:44], 0xfffffff0)
		agree(t, huge, rng)
		agree(t, append(append([]byte{}, mono...), fmtChunk...), rng)
	}
	for _, b := range [][]byte{nil, []byte("hello, this is a text file\n"), []byte("RIFF\x10\x00"), []byte("RIFF\x04\x00\x00\x00WAVE")} {
		agree(t, b, rng)
	}
}

// FuzzReader checks that the streaming Reader agrees with Decode on any
// input: the same samples or, for a reader that seeks, the same error.
func FuzzReader(f *testing.F) {
	x := []float64{0, 0.5, -0.5, 1, -1, 0.25}
	for _, enc := range []Encoding{PCM8, PCM16, PCM24, Float32, Float64} {
		good := encodeBytes(f, [][]float64{x}, 16000, enc)
		f.Add(good)
		f.Add(good[:len(good)-1])
		f.Add(encodeBytes(f, [][]float64{x[:3], x[3:]}, 48000, enc))
		f.Add(withChunk(good, "LIST", []byte("abc")))
	}
	f.Add([]byte("RIFF\x04\x00\x00\x00WAVE"))
	fl := flacBytes(f, [][]int32{speechLike(300, 16, 1), speechLike(300, 16, 2)}, 48000, 16, 64)
	f.Add(fl)
	f.Add(fl[:len(fl)/2])
	rng := rand.New(rand.NewPCG(3, 4))
	f.Fuzz(func(t *testing.T, b []byte) { agree(t, b, rng) })
}

func TestReaderTruncatedPipe(t *testing.T) {
	b := encodeBytes(t, [][]float64{make([]float64, 100)}, 16000, PCM16)
	rd, err := NewReader(noSeek{bytes.NewReader(b[:len(b)-11])})
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(readerAdapter{rd})
	if err == nil || !strings.Contains(err.Error(), "wav: truncated data: the data chunk claims 200 bytes but only 189 remain") {
		t.Errorf("error %v", err)
	}
}

// readerAdapter lets io.ReadAll drain a Reader.
type readerAdapter struct{ rd *Reader }

func (a readerAdapter) Read(p []byte) (int, error) {
	buf := make([]float64, max(len(p)/8, 1))
	n, err := a.rd.Read(buf)
	return n, err
}

func TestWriterEqualsEncode(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([]float64, 3001)
	for i := range x {
		x[i] = rng.NormFloat64() * 0.6 // some clip
	}
	for _, enc := range []Encoding{PCM8, PCM16, PCM24, PCM32, Float32, Float64} {
		var want bytes.Buffer
		clipped, err := Encode(&want, [][]float64{x}, 22050, enc)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		w, err := NewWriter(&got, 22050, enc, len(x))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(x); {
			k := min(rng.IntN(500), len(x)-i)
			if err := w.Write(x[i : i+k]); err != nil {
				t.Fatal(err)
			}
			i += k
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) || w.Clipped() != clipped {
			t.Errorf("%v: Writer's bytes differ from Encode's (clipped %d vs %d)", enc, w.Clipped(), clipped)
		}
	}
}

func TestWriterCounts(t *testing.T) {
	var b bytes.Buffer
	w, _ := NewWriter(&b, 16000, PCM16, 3)
	if err := w.Write([]float64{0, 0, 0, 0}); err == nil || !strings.Contains(err.Error(), "more than the 3 announced") {
		t.Errorf("too many: %v", err)
	}
	w, _ = NewWriter(&b, 16000, PCM16, 3)
	w.Write([]float64{0, 0})
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "2 samples written, 3 announced") {
		t.Errorf("too few: %v", err)
	}
	if _, err := NewWriter(&b, 0, PCM16, 3); err == nil || !strings.Contains(err.Error(), "wav: invalid sample rate") {
		t.Errorf("bad rate: %v", err)
	}
}

func TestCreateIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.wav")
	x := []float64{0.1, -0.2, 0.3}
	w, err := Create(path, 16000, PCM24, 3)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(x)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("file visible before Close")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Abort() // no effect after Close
	a, err := ReadFile(path)
	if err != nil || a.Len() != 3 {
		t.Fatalf("%v, %v", a, err)
	}
	// A short write, an Abort: the earlier file stays, nothing else is left.
	w, _ = Create(path, 16000, PCM24, 5)
	w.Write(x)
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("short Close: %v", err)
	}
	w, _ = Create(path, 16000, PCM24, 5)
	w.Write(x)
	w.Abort()
	if a, err := ReadFile(path); err != nil || a.Len() != 3 {
		t.Errorf("target changed: %v %v", a, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	// Open reads it back and names the file in errors.
	rd, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	buf := make([]float64, 10)
	if n, err := rd.Read(buf); n != 3 || err != nil {
		t.Errorf("Read: %d, %v", n, err)
	}
	if _, err := rd.Read(buf); err != io.EOF {
		t.Errorf("Read at the end: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "text.wav"), []byte("hello\n"), 0o644)
	if _, err := Open(filepath.Join(dir, "text.wav")); err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, "text.wav")+": not a WAV file") {
		t.Errorf("Open of text: %v", err)
	}
}

// TestReadInterleaved checks that ReadInterleaved gives every channel of a
// WAV and of a FLAC file as Decode does, in pieces of odd sizes.
func TestReadInterleaved(t *testing.T) {
	chans := make([][]int32, 3)
	for c := range chans {
		chans[c] = speechLike(5000, 16, uint64(c+1))
	}
	var wavBuf bytes.Buffer
	floats := make([][]float64, 3)
	for c, ch := range chans {
		for _, v := range ch {
			floats[c] = append(floats[c], float64(v)/32768)
		}
	}
	if _, err := Encode(&wavBuf, floats, 16000, PCM16); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"wav": wavBuf.Bytes(), "flac": flacBytes(t, chans, 16000, 16, 1152)} {
		want, err := Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		rd, err := NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]float64, 3*700+2) // not a whole number of frames
		i := 0
		for {
			n, err := rd.ReadInterleaved(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for k := range n {
				for c := range 3 {
					if buf[k*3+c] != want.Channels[c][i+k] {
						t.Fatalf("%s: frame %d channel %d: %v, want %v", name, i+k, c, buf[k*3+c], want.Channels[c][i+k])
					}
				}
			}
			i += n
		}
		if i != 5000 {
			t.Fatalf("%s: %d frames, want 5000", name, i)
		}
	}
}
