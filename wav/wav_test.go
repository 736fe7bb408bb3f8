package wav

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/internal/sharedcorpus"
)

// encodeBytes encodes channels or fails the test.
func encodeBytes(t testing.TB, channels [][]float64, rate int, enc Encoding) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := Encode(&b, channels, rate, enc); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTripEveryEncoding(t *testing.T) {
	left := []float64{0, 0.5, -0.5, 0.25, -1, 0.999, 1e-3, -0.123456}
	right := []float64{0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8}
	for _, enc := range []Encoding{PCM8, PCM16, PCM24, PCM32, Float32, Float64} {
		t.Run(enc.String(), func(t *testing.T) {
			b := encodeBytes(t, [][]float64{left, right}, 22050, enc)
			a, err := Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if a.Rate != 22050 || a.Encoding != enc || len(a.Channels) != 2 || a.Len() != len(left) {
				t.Fatalf("got rate %d, %v, %d channels, %d samples", a.Rate, a.Encoding, len(a.Channels), a.Len())
			}
			tol := map[Encoding]float64{PCM8: 1.0 / 128, PCM16: 1.0 / 65536, PCM24: 1.0 / (1 << 24), PCM32: 1.0 / (1 << 32), Float32: 1e-7, Float64: 0}[enc]
			for c, want := range [][]float64{left, right} {
				for i, w := range want {
					if d := math.Abs(a.Channels[c][i] - w); d > tol {
						t.Errorf("channel %d sample %d: got %v want %v", c, i, a.Channels[c][i], w)
					}
				}
			}
			mono := a.Mono()
			if d := mono[3] - (a.Channels[0][3]+a.Channels[1][3])/2; math.Abs(d) > 1e-15 {
				t.Errorf("mono down-mix is not the mean of the channels")
			}
		})
	}
}

func TestExactIntegerCodes(t *testing.T) {
	// Full scale: -32768 decodes to exactly -1, and -1 encodes back to it.
	b := encodeBytes(t, [][]float64{{-1, 1, 2, -3, math.NaN(), 0.5}}, 16000, PCM16)
	codes := b[len(b)-12:]
	want := []int16{-32768, 32767, 32767, -32768, 0, 16384}
	for i, w := range want {
		if got := int16(binary.LittleEndian.Uint16(codes[2*i:])); got != w {
			t.Errorf("sample %d: code %d, want %d", i, got, w)
		}
	}
	var buf bytes.Buffer
	clipped, err := Encode(&buf, [][]float64{{-1, 1, 2, -3, math.NaN(), 0.5}}, 16000, PCM16)
	if err != nil || clipped != 3 {
		t.Errorf("clipped %d (err %v), want 3", clipped, err)
	}
	clipped, err = Encode(&buf, [][]float64{{2, -3}}, 16000, Float32)
	if err != nil || clipped != 0 {
		t.Errorf("float clipped %d (err %v), want 0", clipped, err)
	}
}

func TestMonoIsTheChannelItself(t *testing.T) {
	a := &Audio{Rate: 8000, Channels: [][]float64{{1, 2, 3}}}
	if m := a.Mono(); &m[0] != &a.Channels[0][0] {
		t.Error("Mono copied a mono channel")
	}
	if a.Seconds() != 3.0/8000 {
		t.Errorf("Seconds = %v", a.Seconds())
	}
}

// extensible builds a WAVE_FORMAT_EXTENSIBLE file around a plain file's data.
func extensible(t testing.TB, channels [][]float64, enc Encoding) []byte {
	plain := encodeBytes(t, channels, 48000, enc)
	le := binary.LittleEndian
	data := plain[bytes.Index(plain, []byte("data")):]
	tag := plain[20:22]
	fmtBody := append([]byte{}, plain[20:36]...)
	le.PutUint16(fmtBody[0:2], tagExtensible)
	fmtBody = le.AppendUint16(fmtBody, 22)
	fmtBody = le.AppendUint16(fmtBody, uint16(enc.Bits())) // valid bits
	fmtBody = le.AppendUint32(fmtBody, 0x4)                // channel mask
	fmtBody = append(fmtBody, tag...)
	fmtBody = append(fmtBody, guidTail...)
	var out []byte
	out = append(out, "RIFF\x00\x00\x00\x00WAVEfmt "...)
	out = le.AppendUint32(out, uint32(len(fmtBody)))
	out = append(out, fmtBody...)
	out = append(out, data...)
	le.PutUint32(out[4:8], uint32(len(out)-8))
	return out
}

func TestExtensible(t *testing.T) {
	x := []float64{0.25, -0.5, 0.75}
	for _, enc := range []Encoding{PCM16, PCM24, Float32, Float64} {
		a, err := Decode(bytes.NewReader(extensible(t, [][]float64{x}, enc)))
		if err != nil {
			t.Fatalf("%v: %v", enc, err)
		}
		if a.Encoding != enc || a.Len() != 3 || a.Channels[0][1] != -0.5 {
			t.Errorf("%v: got %v %v", enc, a.Encoding, a.Channels)
		}
	}
}

// withChunk inserts a chunk with the given body before the data chunk.
func withChunk(b []byte, id string, body []byte) []byte {
	i := bytes.Index(b, []byte("data"))
	var out []byte
	out = append(out, b[:i]...)
	out = append(out, id...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body)))
	out = append(out, body...)
	if len(body)%2 == 1 {
		out = append(out, 0)
	}
	out = append(out, b[i:]...)
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	return out
}

func TestSkipsUnknownAndOddChunks(t *testing.T) {
	b := encodeBytes(t, [][]float64{{0.5, -0.5}}, 16000, PCM16)
	b = withChunk(b, "LIST", []byte("odd"))      // odd size, padded
	b = withChunk(b, "junk", make([]byte, 10))   // even size
	b = append(b, "cue \x04\x00\x00\x00abcd"...) // a chunk after the data
	a, err := Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 2 || a.Channels[0][0] != 0.5 {
		t.Errorf("got %v", a.Channels)
	}
}

func TestMalformed(t *testing.T) {
	good := encodeBytes(t, [][]float64{{0.1, 0.2, 0.3, 0.4}}, 16000, PCM16)
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte{}, good...)) }
	le := binary.LittleEndian
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"text", []byte("hello, this is a text file\n"), "looks like text"},
		{"binary junk", []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0}, "no RIFF/WAVE header"},
		{"short RIFF", []byte("RIFF\x10\x00"), "too short for a RIFF/WAVE header"},
		{"not WAVE", []byte("RIFF\x04\x00\x00\x00AVI "), `RIFF file of type "AVI "`},
		{"RIFX", []byte("RIFX\x04\x00\x00\x00WAVE"), "big-endian"},
		{"header only", []byte("RIFF\x04\x00\x00\x00WAVE"), "no fmt chunk and no data chunk"},
		{"truncated data", good[:len(good)-3], "truncated data"},
		{"odd frame", mod(func(b []byte) []byte { le.PutUint32(b[40:44], 7); return b[:len(b)-1] }), "whole number"},
		{"no data", good[:36], "no data chunk"},
		{"no fmt", append([]byte("RIFF\x0c\x00\x00\x00WAVE"), good[36:]...), "no fmt chunk"},
		{"zero channels", mod(func(b []byte) []byte { le.PutUint16(b[22:24], 0); return b }), "zero channels"},
		{"zero rate", mod(func(b []byte) []byte { le.PutUint32(b[24:28], 0); return b }), "zero sample rate"},
		{"mu-law", mod(func(b []byte) []byte { le.PutUint16(b[20:22], 7); return b }), "unsupported encoding"},
		{"12-bit", mod(func(b []byte) []byte { le.PutUint16(b[34:36], 12); return b }), "unsupported encoding: 12-bit PCM"},
		{"block align", mod(func(b []byte) []byte { le.PutUint16(b[32:34], 4); return b }), "block align"},
		{"huge fmt size", mod(func(b []byte) []byte { le.PutUint32(b[16:20], 0xfffffff0); return b }), "past the end"},
		{"rate 1e9", mod(func(b []byte) []byte { le.PutUint32(b[24:28], 1e9); return b }), "sample rate 1000000000 Hz in the fmt chunk, above the 768000 Hz read"},
		{"rate 2^31-1", mod(func(b []byte) []byte { le.PutUint32(b[24:28], 1<<31-1); return b }), "above the 768000 Hz read"},
		{"huge data size", mod(func(b []byte) []byte { le.PutUint32(b[40:44], 0x7ffe0000); return b }), "truncated data"},
		{"short fmt", mod(func(b []byte) []byte { le.PutUint32(b[16:20], 8); return b }), "fmt chunk too short"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Decode(bytes.NewReader(c.in))
			if err == nil {
				t.Fatalf("no error; decoded %+v", a)
			}
			if !strings.HasPrefix(err.Error(), "wav: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}

func TestFileErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "notes.wav")
	os.WriteFile(p, []byte("just some notes\n"), 0o644)
	_, err := ReadFile(p)
	if err == nil || !strings.HasPrefix(err.Error(), p+": ") {
		t.Errorf("error %v does not start with the file name", err)
	}
	_, err = ReadFile(filepath.Join(dir, "missing.wav"))
	if err == nil || !strings.Contains(err.Error(), "missing.wav") {
		t.Errorf("error %v does not name the file", err)
	}
	out := filepath.Join(dir, "out.wav")
	clipped, err := WriteFile(out, []float64{0, 0.5, 1.5}, 16000, PCM16)
	if err != nil || clipped != 1 {
		t.Fatalf("WriteFile: clipped %d, %v", clipped, err)
	}
	a, err := ReadFile(out)
	if err != nil || a.Len() != 3 || a.Channels[0][1] != 0.5 {
		t.Fatalf("read back: %v %v", a, err)
	}
	if _, err := WriteFile(filepath.Join(dir, "no", "such", "dir.wav"), []float64{0}, 16000, PCM16); err == nil || !strings.Contains(err.Error(), "dir.wav") {
		t.Errorf("error %v does not name the file", err)
	}
	if _, err := WriteFile(out, []float64{0}, 0, PCM16); err == nil || !strings.Contains(err.Error(), "out.wav: invalid sample rate") {
		t.Errorf("bad rate: error %v", err)
	}
}

// TestCorpora reads every TSP and ARCTIC file the machine has: TSP files are
// 48 kHz 16-bit with extra chunks; ARCTIC files are 16 kHz.
func TestCorpora(t *testing.T) {
	for _, c := range []struct {
		parts []string
		rate  int
	}{{[]string{"tsp", "FA"}, 48000}, {[]string{"tsp", "MC"}, 48000}, {[]string{"cmu-arctic", "slt"}, 16000}, {[]string{"cmu-arctic", "bdl"}, 16000}} {
		dir := sharedcorpus.Path(c.parts...)
		if dir == "" {
			t.Logf("skipping %s: corpus absent", filepath.Join(c.parts...))
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.wav"))
		if len(files) == 0 {
			t.Errorf("%s: no WAV files", dir)
		}
		for _, f := range files {
			a, err := ReadFile(f)
			if err != nil {
				t.Error(err)
				continue
			}
			if a.Rate != c.rate || len(a.Channels) != 1 || a.Encoding != PCM16 || a.Seconds() < 0.5 {
				t.Errorf("%s: %d Hz, %d channels, %v, %.2f s", f, a.Rate, len(a.Channels), a.Encoding, a.Seconds())
			}
		}
	}
}
