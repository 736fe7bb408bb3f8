package wav

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mewkiz/flac"
	"github.com/mewkiz/flac/frame"
	"github.com/mewkiz/flac/meta"
	"github.com/mewkiz/pkg/errutil"
)

// flacBytes encodes integer channels (codes of bits bits) as a FLAC stream
// with the flac package's own encoder, in blocks of block samples, the way
// other encoders write stereo and multichannel files (independent channels).
func flacBytes(t testing.TB, chans [][]int32, rate, bits, block int) []byte {
	t.Helper()
	n := len(chans[0])
	var buf bytes.Buffer
	info := &meta.StreamInfo{BlockSizeMin: uint16(block), BlockSizeMax: uint16(block), SampleRate: uint32(rate),
		NChannels: uint8(len(chans)), BitsPerSample: uint8(bits), NSamples: uint64(n)}
	enc, err := flac.NewEncoder(&buf, info)
	if err != nil {
		t.Fatal(err)
	}
	layout := []frame.Channels{frame.ChannelsMono, frame.ChannelsLR, frame.ChannelsLRC, frame.ChannelsLRLsRs,
		frame.ChannelsLRCLsRs, frame.ChannelsLRCLfeLsRs}[len(chans)-1]
	for at := 0; at < n; at += block {
		k := min(block, n-at)
		fr := &frame.Frame{Header: frame.Header{HasFixedBlockSize: true, BlockSize: uint16(k), SampleRate: uint32(rate),
			Channels: layout, BitsPerSample: uint8(bits)}}
		for _, ch := range chans {
			fr.Subframes = append(fr.Subframes, &frame.Subframe{SubHeader: frame.SubHeader{Pred: frame.PredVerbatim},
				Samples: append([]int32(nil), ch[at:at+k]...), NSamples: k})
		}
		if err := enc.WriteFrame(fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// speechLike returns n codes of a bits-bit signal: two drifting tones in
// noise, at about a quarter of full scale.
func speechLike(n, bits int, seed uint64) []int32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	full := math.Ldexp(1, bits-1)
	x := make([]int32, n)
	for i := range x {
		t := float64(i) / 16000
		v := 0.15*math.Sin(2*math.Pi*(180+40*math.Sin(t))*t) + 0.08*math.Sin(2*math.Pi*1200*t) + 0.02*rng.NormFloat64()
		x[i] = int32(math.Round(v * full))
	}
	return x
}

func TestFLACDecodesEveryDepthAndLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, bits := range []int{8, 12, 16, 20, 24} {
		for _, nc := range []int{1, 2, 6} {
			chans := make([][]int32, nc)
			for c := range chans {
				chans[c] = speechLike(5000, bits, uint64(c+1))
			}
			b := flacBytes(t, chans, 48000, bits, 1152)
			a, err := Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%d bits, %d channels: %v", bits, nc, err)
			}
			if a.Rate != 48000 || len(a.Channels) != nc || a.Len() != 5000 || a.Encoding.Bits() < bits {
				t.Fatalf("%d bits, %d channels: got %d Hz, %d channels, %d samples, %v", bits, nc, a.Rate, len(a.Channels), a.Len(), a.Encoding)
			}
			for c := range chans {
				for i, code := range chans[c] {
					if want := float64(code) / math.Ldexp(1, bits-1); a.Channels[c][i] != want {
						t.Fatalf("%d bits, channel %d sample %d: %v, want %v", bits, c, i, a.Channels[c][i], want)
					}
				}
			}
			// The Reader down-mixes exactly as Audio.Mono, seeking or not.
			agree(t, b, rng)
		}
	}
}

func TestFLACWriterRoundTrip(t *testing.T) {
	x := make([]float64, 10000)
	for i := range x {
		x[i] = 0.5 * math.Sin(float64(i)*0.01)
	}
	x[10], x[20] = 1.5, -3 // clip
	for _, enc := range []Encoding{PCM8, PCM16, PCM24} {
		var viaWAV, viaFLAC bytes.Buffer
		if _, err := Encode(&viaWAV, [][]float64{x}, 44100, enc); err != nil {
			t.Fatal(err)
		}
		w, err := NewFormatWriter(&viaFLAC, FLAC, 44100, enc, len(x))
		if err != nil {
			t.Fatal(err)
		}
		for at := 0; at < len(x); at += 777 {
			if err := w.Write(x[at:min(at+777, len(x))]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if w.Clipped() != 2 {
			t.Errorf("%v: %d clipped, want 2", enc, w.Clipped())
		}
		wavBytes := viaWAV.Len()
		want, err := Decode(&viaWAV)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(bytes.NewReader(viaFLAC.Bytes()))
		if err != nil {
			t.Fatalf("%v: %v", enc, err)
		}
		if got.Encoding != enc || got.Rate != 44100 || got.Len() != len(x) {
			t.Fatalf("%v: read back %v, %d Hz, %d samples", enc, got.Encoding, got.Rate, got.Len())
		}
		for i := range x {
			if got.Channels[0][i] != want.Channels[0][i] {
				t.Fatalf("%v sample %d: FLAC %v, WAV %v", enc, i, got.Channels[0][i], want.Channels[0][i])
			}
		}
		if enc == PCM16 && viaFLAC.Len() >= wavBytes/2 {
			t.Errorf("FLAC %d bytes, WAV %d: a smooth sine should compress at least 2:1", viaFLAC.Len(), wavBytes)
		}
	}
	if _, err := NewFormatWriter(io.Discard, FLAC, 16000, Float32, 10); err == nil || !strings.Contains(err.Error(), "integer PCM") {
		t.Errorf("float FLAC: %v", err)
	}
}

func TestFLACTruncatedAndCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	b := flacBytes(t, [][]int32{speechLike(20000, 16, 1)}, 16000, 16, 4096)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"cut in a frame", b[:len(b)/2], "truncated FLAC: the stream announces 20000 samples but ends after"},
		{"cut in the header", b[:20], "corrupt FLAC header"},
		{"signature only", b[:4], "corrupt FLAC header"},
		{"flipped byte", flip(b, len(b)/2), "corrupt FLAC: frame 2 (from sample 8192)"},
		{"rate 1 MHz", flacRate(b, 1000000), "sample rate 1000000 Hz in the FLAC header, above the 768000 Hz read"},
		{"id3 then mp3", append([]byte("ID3\x04\x00\x00\x00\x00\x00\x02xx"), 0xFF, 0xFB, 0x90, 0x00), "unsupported format: MP3"},
	}
	for _, c := range cases {
		_, err := Decode(bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line with %q", c.name, err, c.want)
		}
		agree(t, c.data, rng)
	}
}

// flacRate returns a copy of the FLAC stream b whose STREAMINFO (right
// after the signature and its block header) claims rate Hz.
func flacRate(b []byte, rate int) []byte {
	c := append([]byte(nil), b...)
	c[18], c[19] = byte(rate>>12), byte(rate>>4)
	c[20] = c[20]&0x0f | byte(rate&0xf)<<4
	return c
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x5a
	return c
}

func TestOtherFormatsNameTheirConversion(t *testing.T) {
	cases := map[string]string{
		"OggS\x00\x02\x00\x00\x00\x00\x00\x00":             "Ogg",
		"\xff\xfb\x90\x00\x00\x00\x00\x00\x00\x00\x00\x00": "MP3",
		"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00":         "MP4",
		"FORM\x00\x00\x00\x00AIFF":                         "AIFF",
	}
	for head, name := range cases {
		_, err := Decode(strings.NewReader(head + strings.Repeat("\x00", 100)))
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "ffmpeg -i") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestDebianFLAC reads what the reference encoder writes (LPC subframes,
// mid/side stereo), when Debian's flac is installed.
func TestDebianFLAC(t *testing.T) {
	bin, err := exec.LookPath("flac")
	if err != nil {
		t.Skip("the reference encoder flac is not installed (apt-get install flac)")
	}
	dir := t.TempDir()
	l, r := speechLike(30000, 24, 1), speechLike(30000, 24, 2)
	x := [][]float64{make([]float64, len(l)), make([]float64, len(r))}
	for i := range l {
		x[0][i], x[1][i] = float64(l[i])/(1<<23), float64(r[i])/(1<<23)
	}
	in := filepath.Join(dir, "in.wav")
	var buf bytes.Buffer
	if _, err := Encode(&buf, x, 48000, PCM24); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-s", "-8", "-o", filepath.Join(dir, "in.flac"), in).CombinedOutput(); err != nil {
		t.Fatalf("flac: %v: %s", err, out)
	}
	a, err := ReadFile(filepath.Join(dir, "in.flac"))
	if err != nil {
		t.Fatal(err)
	}
	for c := range x {
		for i := range x[c] {
			if a.Channels[c][i] != x[c][i] {
				t.Fatalf("channel %d sample %d: %v, want %v", c, i, a.Channels[c][i], x[c][i])
			}
		}
	}
	rd, err := Open(filepath.Join(dir, "in.flac"))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if rd.Frames() != len(l) || rd.Channels() != 2 || rd.Encoding() != PCM24 {
		t.Fatalf("Reader: %d frames, %d channels, %v", rd.Frames(), rd.Channels(), rd.Encoding())
	}
}

// A FLAC file written by CreateFormat carries the MD5 of its audio in
// STREAMINFO, as FLAC defines it (the sample codes, signed little-endian, in
// whole bytes), for 8, 16 and 24 bits; Debian's flac -t verifies it where
// installed. A stream (NewFormatWriter) leaves it zero: not computed.
func TestFLACWriterMD5(t *testing.T) {
	for _, enc := range []Encoding{PCM8, PCM16, PCM24} {
		path := filepath.Join(t.TempDir(), "x.flac")
		n := 3*flacBlock + 17
		w, err := CreateFormat(path, FLAC, 16000, enc, n)
		if err != nil {
			t.Fatal(err)
		}
		bits := enc.Bits()
		h := md5.New()
		x := make([]float64, n)
		for i := range x {
			code := int64((i*7919)%(1<<bits)) - 1<<(bits-1)
			x[i] = float64(code) / float64(int64(1)<<(bits-1))
			for b := 0; b < bits; b += 8 {
				h.Write([]byte{byte(code >> b)})
			}
		}
		if err := w.Write(x); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := b[flacMD5Offset:flacMD5Offset+16], h.Sum(nil); !bytes.Equal(got, want) {
			t.Errorf("%v: STREAMINFO MD5 %x, want %x", enc, got, want)
		}
		if flacBin, err := exec.LookPath("flac"); err == nil {
			if out, err := exec.Command(flacBin, "-t", "-s", path).CombinedOutput(); err != nil {
				t.Errorf("%v: flac -t: %v\n%s", enc, err, out)
			}
		}
		var stream bytes.Buffer
		sw, err := NewFormatWriter(&stream, FLAC, 16000, enc, n)
		if err != nil {
			t.Fatal(err)
		}
		sw.Write(x)
		if err := sw.Close(); err != nil {
			t.Fatal(err)
		}
		if got := stream.Bytes()[flacMD5Offset : flacMD5Offset+16]; !bytes.Equal(got, make([]byte, 16)) {
			t.Errorf("%v: a stream's MD5 is %x, want zero (not computed)", enc, got)
		}
	}
}

// The FLAC library's errors reach users as plain text: no terminal colour
// codes, no source position of the library.
func TestFLACReasonIsPlain(t *testing.T) {
	err := errutil.Err(errors.New("write /out/.x.flac.tmp-1: no space left on device"))
	got := flacReason(err)
	if strings.Contains(got, "\x1b") || strings.Contains(got, "mewkiz") || strings.Contains(got, ".go:") || !strings.Contains(got, "no space left on device") {
		t.Errorf("flacReason(%q) = %q", err.Error(), got)
	}
}
