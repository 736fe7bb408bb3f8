package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
)

// Encode writes channels as a WAV stream at rate with encoding enc. Channel
// c is channels[c]; all channels must have the same length. Integer
// encodings round to the nearest code and clamp samples outside [-1, 1];
// clipped counts them (NaN is written as 0 and counted too). Float
// encodings store the values as they are and never clip.
func Encode(w io.Writer, channels [][]float64, rate int, enc Encoding) (clipped int, err error) {
	clipped, err = encode(w, channels, rate, enc)
	if err != nil {
		err = fmt.Errorf("%w", err)
	}
	return clipped, err
}

func encode(w io.Writer, channels [][]float64, rate int, enc Encoding) (clipped int, err error) {
	nc := len(channels)
	if nc == 0 {
		return 0, errors.New("no channels to write")
	}
	n := len(channels[0])
	for c, ch := range channels {
		if len(ch) != n {
			return 0, fmt.Errorf("channel %d has %d samples, channel 0 has %d", c, len(ch), n)
		}
	}
	hdr, err := encodeHeader(nc, n, rate, enc)
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(hdr); err != nil {
		return 0, err
	}
	buf := make([]byte, 0, 1<<15)
	scale := math.Ldexp(1, enc.Bits()-1)
	for i := 0; i < n; i++ {
		for c := 0; c < nc; c++ {
			var clip bool
			buf, clip = appendSample(buf, channels[c][i], enc, scale)
			if clip {
				clipped++
			}
		}
		if len(buf) > cap(buf)-64 {
			if _, err := w.Write(buf); err != nil {
				return clipped, err
			}
			buf = buf[:0]
		}
	}
	if int64(n)*int64(nc)*int64(enc.Bits()/8)%2 == 1 {
		buf = append(buf, 0) // the pad byte of an odd-sized data chunk
	}
	if _, err := w.Write(buf); err != nil {
		return clipped, err
	}
	return clipped, nil
}

// encodeHeader returns the header of a WAV file of n frames of nc channels,
// up to the first byte of the audio.
func encodeHeader(nc, n, rate int, enc Encoding) ([]byte, error) {
	if nc > math.MaxUint16 {
		return nil, fmt.Errorf("%d channels, more than a WAV file can hold", nc)
	}
	if rate <= 0 || rate > math.MaxInt32 {
		return nil, fmt.Errorf("invalid sample rate %d", rate)
	}
	bits := enc.Bits()
	if bits == 0 {
		return nil, fmt.Errorf("unknown encoding %v", enc)
	}
	bps := bits / 8
	dataBytes := int64(n) * int64(nc) * int64(bps)
	tag, fmtSize, factSize := uint16(tagPCM), 16, 0
	if enc.isFloat() {
		// IEEE float files carry cbSize and a fact chunk (the WAVE spec).
		tag, fmtSize, factSize = tagFloat, 18, 12
	}
	riffSize := 4 + (8 + int64(fmtSize)) + int64(factSize) + 8 + dataBytes + dataBytes%2
	if riffSize > math.MaxUint32 {
		return nil, fmt.Errorf("%d bytes of audio do not fit in a WAV file (4 GiB at most)", dataBytes)
	}
	le := binary.LittleEndian
	hdr := make([]byte, 0, 64)
	hdr = append(hdr, "RIFF"...)
	hdr = le.AppendUint32(hdr, uint32(riffSize))
	hdr = append(hdr, "WAVEfmt "...)
	hdr = le.AppendUint32(hdr, uint32(fmtSize))
	hdr = le.AppendUint16(hdr, tag)
	hdr = le.AppendUint16(hdr, uint16(nc))
	hdr = le.AppendUint32(hdr, uint32(rate))
	hdr = le.AppendUint32(hdr, uint32(rate*nc*bps))
	hdr = le.AppendUint16(hdr, uint16(nc*bps))
	hdr = le.AppendUint16(hdr, uint16(bits))
	if enc.isFloat() {
		hdr = le.AppendUint16(hdr, 0) // cbSize
		hdr = append(hdr, "fact"...)
		hdr = le.AppendUint32(hdr, 4)
		hdr = le.AppendUint32(hdr, uint32(n))
	}
	hdr = append(hdr, "data"...)
	hdr = le.AppendUint32(hdr, uint32(dataBytes))
	return hdr, nil
}

// appendSample appends v in encoding enc (scale is 2^(bits-1)) and reports
// whether it clipped.
func appendSample(buf []byte, v float64, enc Encoding, scale float64) ([]byte, bool) {
	le := binary.LittleEndian
	switch enc {
	case Float32:
		return le.AppendUint32(buf, math.Float32bits(float32(v))), false
	case Float64:
		return le.AppendUint64(buf, math.Float64bits(v)), false
	}
	code, clipped := quantize(v, scale)
	switch enc {
	case PCM8:
		buf = append(buf, byte(code+128))
	case PCM16:
		buf = le.AppendUint16(buf, uint16(int16(code)))
	case PCM24:
		buf = append(buf, byte(code), byte(code>>8), byte(code>>16))
	case PCM32:
		buf = le.AppendUint32(buf, uint32(int32(code)))
	}
	return buf, clipped
}

// quantize rounds v to the nearest integer code of full scale scale
// (2^(bits-1)), clamping samples outside [-1, 1] (NaN becomes 0), and
// reports whether it clamped.
func quantize(v, scale float64) (code int64, clipped bool) {
	if !(v >= -1 && v <= 1) {
		clipped = true
		switch {
		case math.IsNaN(v):
			v = 0
		case v > 1:
			v = 1
		default:
			v = -1
		}
	}
	q := math.Round(v * scale)
	if q > scale-1 { // +1.0 is one code past the top
		q = scale - 1
	}
	return int64(q), clipped
}

// WriteFile writes mono samples to path as a WAV file, atomically: a reader
// never sees a half-written file. Errors name the file.
func WriteFile(path string, samples []float64, rate int, enc Encoding) (clipped int, err error) {
	err = atomicfile.Write(path, func(w io.Writer) error {
		var err error
		clipped, err = encode(w, [][]float64{samples}, rate, enc)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	})
	return clipped, err // atomicfile's own errors name the file
}
