package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Live streams: a WAV stream whose length is not known when its header is
// written (a microphone through `sox -d -t wav -` or `arecord -t wav`), raw
// PCM, and WAV output whose header is completed when the stream ends.

// StreamReader reads a live mono or multichannel stream piece by piece,
// returning whatever has arrived (it blocks only until one whole sample
// frame is there), down-mixed to mono.
type StreamReader struct {
	r        io.Reader
	prefix   string
	rate, nc int
	enc      Encoding
	left     int64 // bytes of audio still announced, or -1: until the end
	buf      []byte
	part     int // bytes of an incomplete frame at the start of buf
}

// unknownLength reports whether a data chunk's size is one of the values
// that writers put in a stream's header when they do not know its length:
// 0, or nearly 4 GiB (sox, arecord and ffmpeg write 0x7ffff000, 0x7fffffff
// or 0xffffffff).
func unknownLength(size int64) bool { return size == 0 || size >= 0x7fff0000 }

// NewStreamReader reads the header of the WAV stream r (FLAC is not taken:
// live input is WAV or raw PCM). When the header's data size is a
// placeholder (see above) the audio runs to the end of the stream; else it
// is the announced size. Errors start with "wav:".
func NewStreamReader(r io.Reader) (*StreamReader, error) {
	var head [4]byte
	n, err := io.ReadFull(r, head[:])
	if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
		return nil, errors.New("wav: the stream is empty")
	}
	if isFLAC(head[:n]) {
		return nil, errors.New("wav: a FLAC stream: live input takes WAV or raw PCM (--raw); convert with `flac -d -c - ` or `sox -t flac - -t wav -`")
	}
	h, err := readHeader(io.MultiReader(bytes.NewReader(head[:n]), r))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = errors.New("the stream ended inside the WAV header")
		}
		return nil, fmt.Errorf("wav: %w", err)
	}
	left := h.dataSize
	if unknownLength(h.dataSize) {
		left = -1
	}
	return &StreamReader{r: r, prefix: "wav", rate: h.rate, nc: h.channels, enc: h.enc, left: left}, nil
}

// MaxRawChannels is the most channels a raw stream may declare.
const MaxRawChannels = 64

// CheckRaw rejects what NewRawReader would refuse: a rate outside 1 to
// MaxRate Hz, a channel count outside 1 to MaxRawChannels.
func CheckRaw(rate, nc int) error {
	if rate <= 0 || rate > MaxRate || nc < 1 || nc > MaxRawChannels {
		return fmt.Errorf("raw: want a rate of 1 to %d Hz and 1 to %d channels, not %d Hz and %d", MaxRate, MaxRawChannels, rate, nc)
	}
	return nil
}

// NewRawReader reads raw PCM with no header: little-endian samples of enc,
// nc channels interleaved, at rate.
func NewRawReader(r io.Reader, enc Encoding, rate, nc int) (*StreamReader, error) {
	if enc.Bits() == 0 {
		return nil, fmt.Errorf("raw: want an encoding (got %v)", enc)
	}
	if err := CheckRaw(rate, nc); err != nil {
		return nil, err
	}
	return &StreamReader{r: r, prefix: "raw", rate: rate, nc: nc, enc: enc, left: -1}, nil
}

// Rate returns the sample rate in Hz.
func (sr *StreamReader) Rate() int { return sr.rate }

// Channels returns the number of channels of the stream.
func (sr *StreamReader) Channels() int { return sr.nc }

// Read decodes into dst the whole sample frames that have arrived, at most
// len(dst), waiting for at least one, down-mixed to mono (the mean of the
// channels, as Reader). At the end of the stream it returns 0, io.EOF; a
// stream that ends inside a sample frame is an error.
func (sr *StreamReader) Read(dst []float64) (int, error) {
	fb := sr.nc * sr.enc.Bits() / 8
	if len(dst) == 0 {
		return 0, nil
	}
	want := len(dst) * fb
	if sr.left >= 0 {
		want = int(min(int64(want), sr.left+int64(sr.part)))
	}
	if cap(sr.buf) < want {
		nb := make([]byte, want)
		copy(nb, sr.buf[:sr.part])
		sr.buf = nb
	}
	b := sr.buf[:max(want, sr.part)]
	have := sr.part
	for have < fb {
		if sr.left == 0 {
			if have > 0 {
				return 0, fmt.Errorf("%s: the stream ended in the middle of a sample (%d of a %d-byte frame)", sr.prefix, have, fb)
			}
			return 0, io.EOF
		}
		k, err := sr.r.Read(b[have:want])
		have += k
		if sr.left > 0 {
			sr.left -= int64(k)
		}
		if err == io.EOF {
			if have%fb != 0 {
				return 0, fmt.Errorf("%s: the stream ended in the middle of a sample (%d of a %d-byte frame)", sr.prefix, have%fb, fb)
			}
			if sr.left > 0 {
				return 0, fmt.Errorf("%s: the stream ended %d bytes before the end its header announced", sr.prefix, sr.left)
			}
			sr.left = 0
			if have == 0 {
				return 0, io.EOF
			}
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", sr.prefix, err)
		}
	}
	n := have / fb
	bps := sr.enc.Bits() / 8
	inv := 1 / float64(sr.nc)
	for i := range n {
		if sr.nc == 1 {
			dst[i] = sample(b[i*bps:], sr.enc)
			continue
		}
		var s float64
		for c := range sr.nc {
			s += sample(b[(i*sr.nc+c)*bps:], sr.enc)
		}
		dst[i] = s * inv
	}
	sr.part = copy(b, b[n*fb:have])
	return n, nil
}

// StreamWriter writes a mono WAV stream whose length is not known in
// advance: the header's sizes are placeholders (0xffffffff, as ffmpeg writes
// to a pipe) until Close, which fills them in when the destination can seek
// (a file). The samples written so far can be read while it grows.
type StreamWriter struct {
	w       io.Writer
	enc     Encoding
	scale   float64
	hdr     int // header bytes
	written int64
	clipped int
	buf     []byte
	err     error
}

// NewStreamWriter writes the header of a mono WAV stream at rate in enc to
// w.
func NewStreamWriter(w io.Writer, rate int, enc Encoding) (*StreamWriter, error) {
	hdr, err := encodeHeader(1, 0, rate, enc)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	le := binary.LittleEndian
	le.PutUint32(hdr[4:], math.MaxUint32)
	le.PutUint32(hdr[len(hdr)-4:], math.MaxUint32)
	if _, err := w.Write(hdr); err != nil {
		return nil, err
	}
	return &StreamWriter{w: w, enc: enc, scale: math.Ldexp(1, enc.Bits()-1), hdr: len(hdr)}, nil
}

// Write encodes samples and passes them on at once.
func (sw *StreamWriter) Write(samples []float64) error {
	if sw.err != nil {
		return sw.err
	}
	sw.buf = sw.buf[:0]
	for _, v := range samples {
		var clip bool
		sw.buf, clip = appendSample(sw.buf, v, sw.enc, sw.scale)
		if clip {
			sw.clipped++
		}
	}
	if _, err := sw.w.Write(sw.buf); err != nil {
		sw.err = err
		return err
	}
	sw.written += int64(len(samples))
	return nil
}

// Clipped returns how many samples clipped so far (integer encodings).
func (sw *StreamWriter) Clipped() int { return sw.clipped }

// Samples returns how many samples were written.
func (sw *StreamWriter) Samples() int64 { return sw.written }

// Close completes the stream: the pad byte of an odd-sized data chunk, and
// when w is a file that can seek, the header's true sizes (the fact chunk's
// sample count too for float), so the file is an ordinary WAV file. It does
// not close w.
func (sw *StreamWriter) Close() error {
	if sw.err != nil {
		return sw.err
	}
	data := sw.written * int64(sw.enc.Bits()/8)
	if data%2 == 1 {
		if _, err := sw.w.Write([]byte{0}); err != nil {
			return err
		}
	}
	f, ok := sw.w.(*os.File)
	if !ok {
		return nil
	}
	if _, err := f.Seek(0, io.SeekCurrent); err != nil {
		return nil // a pipe: the placeholders stay, as for any live stream
	}
	if data+int64(sw.hdr)+data%2-8 > math.MaxUint32 {
		return nil // too long for the sizes of a WAV header: leave the placeholders
	}
	hdr, err := encodeHeader(1, int(sw.written), 1, sw.enc)
	if err != nil {
		return err
	}
	// Only the sizes change (the rate was written with the header).
	le := binary.LittleEndian
	var b [4]byte
	le.PutUint32(b[:], le.Uint32(hdr[4:]))
	if _, err := f.WriteAt(b[:], 4); err != nil {
		return err
	}
	if sw.enc.isFloat() {
		le.PutUint32(b[:], uint32(sw.written))
		if _, err := f.WriteAt(b[:], int64(len(hdr)-12)); err != nil {
			return err
		}
	}
	le.PutUint32(b[:], uint32(data))
	_, err = f.WriteAt(b[:], int64(len(hdr)-4))
	return err
}
