package wav

import (
	"bytes"
	"testing"
)

// FuzzDecode checks that no input makes Decode panic or return an
// inconsistent Audio, and that what it decodes survives a re-encode.
func FuzzDecode(f *testing.F) {
	x := []float64{0, 0.5, -0.5, 1, -1, 0.25}
	for _, enc := range []Encoding{PCM8, PCM16, PCM24, PCM32, Float32, Float64} {
		good := encodeBytes(f, [][]float64{x}, 16000, enc)
		f.Add(good)
		f.Add(good[:len(good)-1])
		f.Add(good[:40])
		f.Add(encodeBytes(f, [][]float64{x[:3], x[3:]}, 48000, enc))
		f.Add(withChunk(good, "LIST", []byte("abc")))
	}
	f.Add(extensible(f, [][]float64{x}, PCM24))
	f.Add(extensible(f, [][]float64{x}, Float32))
	fl := flacBytes(f, [][]int32{{0, 100, -100, 32767, -32768, 5}, {1, 2, 3, 4, 5, 6}}, 48000, 16, 16)
	f.Add(fl)
	f.Add(fl[:len(fl)-3])
	f.Add(flacBytes(f, [][]int32{speechLike(100, 24, 1)}, 44100, 24, 32))
	f.Add([]byte{})
	f.Add([]byte("RIFF\x04\x00\x00\x00WAVE"))
	f.Add([]byte("hello world, not audio"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Decode(bytes.NewReader(b))
		if err != nil {
			if a != nil {
				t.Fatal("non-nil Audio with an error")
			}
			return
		}
		if a.Rate <= 0 || len(a.Channels) == 0 || a.Encoding.Bits() == 0 {
			t.Fatalf("accepted a bad header: rate %d, %d channels, %v", a.Rate, len(a.Channels), a.Encoding)
		}
		n := a.Len()
		for _, ch := range a.Channels {
			if len(ch) != n {
				t.Fatal("channels of different lengths")
			}
		}
		if !isFLAC(b) && n*len(a.Channels)*a.Encoding.Bits()/8 > len(b) {
			t.Fatalf("%d samples from %d bytes", n*len(a.Channels), len(b))
		}
		var buf bytes.Buffer
		if _, err := Encode(&buf, a.Channels, a.Rate, a.Encoding); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := Decode(&buf)
		if err != nil {
			t.Fatalf("decode of re-encoded file: %v", err)
		}
		for c := range a.Channels {
			for i, v := range a.Channels[c] {
				w := back.Channels[c][i]
				if v != w && !(v != v && w != w) {
					t.Fatalf("channel %d sample %d: %v became %v", c, i, v, w)
				}
			}
		}
	})
}
