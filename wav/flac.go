package wav

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"strings"

	"github.com/mewkiz/flac"
	"github.com/mewkiz/flac/frame"
	"github.com/mewkiz/flac/meta"
)

// isFLAC reports whether head starts a FLAC stream: the "fLaC" signature,
// or an ID3v2 tag, which some taggers put in front of it.
func isFLAC(head []byte) bool {
	return bytes.HasPrefix(head, []byte("fLaC")) || bytes.HasPrefix(head, []byte("ID3"))
}

// read decodes up to len(dst) samples per channel into dst, down-mixed to
// mono as Audio.Mono does (the channels summed in order, times 1/channels);
// interleaved, up to len(dst)/channels frames with every channel kept.
func (d *flacDecoder) read(dst []float64, interleaved bool) (int, error) {
	frames := len(dst)
	if interleaved {
		frames /= d.f.channels
	}
	got := 0
	for got < frames {
		if d.pos == d.n {
			if err := d.next(); err == io.EOF {
				break
			} else if err != nil {
				return 0, err
			}
		}
		sub := d.block
		k := min(frames-got, d.n-d.pos)
		if interleaved {
			nc := len(sub)
			for c, sf := range sub {
				for i, v := range sf[d.pos : d.pos+k] {
					dst[(got+i)*nc+c] = float64(v) * d.scale
				}
			}
			d.pos += k
			got += k
			continue
		}
		out := dst[got : got+k]
		if len(sub) == 1 {
			for i, v := range sub[0][d.pos : d.pos+k] {
				out[i] = float64(v) * d.scale
			}
		} else {
			inv := 1 / float64(len(sub))
			for i := range out {
				var s float64
				for _, sf := range sub {
					s += float64(sf[d.pos+i]) * d.scale
				}
				out[i] = s * inv
			}
		}
		d.pos += k
		got += k
	}
	if got == 0 && frames > 0 {
		return 0, io.EOF
	}
	return got, nil
}

// decodeFLAC decodes a whole FLAC stream, one slice per channel. The slices
// grow with what the frames hold, never to what a header claims up front.
func decodeFLAC(r io.Reader) (*Audio, error) {
	d, err := newFLAC(r)
	if err != nil {
		return nil, err
	}
	chans := make([][]float64, d.f.channels)
	for {
		if err := d.next(); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		for c, sf := range d.block {
			for _, v := range sf[:d.n] {
				chans[c] = append(chans[c], float64(v)*d.scale)
			}
		}
	}
	return &Audio{Rate: d.f.rate, Encoding: d.f.enc, Channels: chans}, nil
}

// flacReason drops the Go function name that the flac package puts in front
// of its messages ("frame.Frame.Parse: CRC-16 checksum mismatch; ...").
func flacReason(err error) string {
	// The FLAC library's errors carry terminal colour codes and its own
	// source position ("\x1b[35;1mgithub.com/mewkiz/flac.f\x1b[0m
	// (file.go:340): error: ..."): keep the plain reason.
	msg := ansiCodes.ReplaceAllString(err.Error(), "")
	if i := strings.LastIndex(msg, "error: "); i >= 0 {
		msg = msg[i+len("error: "):]
	}
	if i := strings.Index(msg, ": "); i > 0 && !strings.Contains(msg[:i], " ") {
		return msg[i+2:]
	}
	return msg
}

// ansiCodes matches terminal colour codes.
var ansiCodes = regexp.MustCompile("\x1b\\[[0-9;]*m")

// Format is a container that Writer writes.
type Format int

// The containers Writer writes.
const (
	WAV  Format = iota // RIFF/WAVE, any Encoding
	FLAC               // FLAC, integer PCM only (8, 16, 24 bits)
)

// ParseFormat parses "wav" or "flac".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "wav":
		return WAV, nil
	case "flac":
		return FLAC, nil
	}
	return 0, fmt.Errorf("unknown format %q (want wav or flac)", s)
}

// String returns the container's name: "WAV" or "FLAC".
func (f Format) String() string {
	if f == FLAC {
		return "FLAC"
	}
	return "WAV"
}

// Ext returns the file extension of f with its dot: ".wav" or ".flac".
func (f Format) Ext() string {
	if f == FLAC {
		return ".flac"
	}
	return ".wav"
}

// flacBlock is the number of samples per FLAC frame that Writer writes,
// the reference encoder's default.
const flacBlock = 4096

// flacWriter encodes a mono FLAC stream block by block.
type flacWriter struct {
	bw    *bufio.Writer
	enc   *flac.Encoder
	info  *meta.StreamInfo
	block []int32
	md5   hash.Hash // of the unencoded samples, as STREAMINFO holds it
	code  []byte
}

// flacMD5Offset is where STREAMINFO's MD5 of the audio starts in a FLAC
// file: after "fLaC" (4 bytes), the metadata block header (4), the block
// and frame sizes (10) and the rate, channels, bits and sample count (8).
const flacMD5Offset = 26

// writeOnly hides the Seek and Close of what it wraps from flac.Encoder,
// which would otherwise rewrite STREAMINFO and close the file itself: the
// header written first is final but for the MD5 of the audio, which a file
// gets at the end (Writer.Close writes it in place, flacMD5Offset) and a
// stream leaves zero (FLAC reads that as "not computed").
type writeOnly struct{ io.Writer }

func newFLACWriter(w io.Writer, rate int, enc Encoding, frames int) (*flacWriter, error) {
	switch {
	case enc.isFloat() || enc.Bits() == 0:
		return nil, fmt.Errorf("FLAC holds integer PCM only, not %v", enc)
	case enc == PCM32:
		return nil, errors.New("32-bit PCM in FLAC is not written (use 24-bit, or WAV)")
	case rate <= 0 || rate > 655350:
		return nil, fmt.Errorf("sample rate %d Hz cannot be stored in FLAC", rate)
	}
	bw := bufio.NewWriterSize(writeOnly{w}, 1<<16)
	info := &meta.StreamInfo{
		BlockSizeMin:  flacBlock,
		BlockSizeMax:  flacBlock,
		SampleRate:    uint32(rate),
		NChannels:     1,
		BitsPerSample: uint8(enc.Bits()),
		NSamples:      uint64(frames),
	}
	fe, err := flac.NewEncoder(bw, info)
	if err != nil {
		return nil, fmt.Errorf("FLAC header: %s", flacReason(err))
	}
	return &flacWriter{bw: bw, enc: fe, info: info, block: make([]int32, 0, flacBlock), md5: md5.New(), code: make([]byte, 0, 4)}, nil
}

// add appends one sample code, writing a frame when a block is full. The
// MD5 runs over the codes as FLAC defines it: signed, little-endian, in
// bytes of the bits per sample rounded up.
func (f *flacWriter) add(code int32) error {
	f.code = f.code[:0]
	for b := 0; b < int(f.info.BitsPerSample); b += 8 {
		f.code = append(f.code, byte(code>>b))
	}
	f.md5.Write(f.code)
	f.block = append(f.block, code)
	if len(f.block) == flacBlock {
		return f.writeFrame()
	}
	return nil
}

func (f *flacWriter) writeFrame() error {
	if len(f.block) == 0 {
		return nil
	}
	fr := &frame.Frame{
		Header: frame.Header{
			HasFixedBlockSize: true,
			BlockSize:         uint16(len(f.block)),
			SampleRate:        f.info.SampleRate,
			Channels:          frame.ChannelsMono,
			BitsPerSample:     f.info.BitsPerSample,
		},
		Subframes: []*frame.Subframe{{
			SubHeader: frame.SubHeader{Pred: frame.PredVerbatim},
			Samples:   f.block,
			NSamples:  len(f.block),
		}},
	}
	if err := f.enc.WriteFrame(fr); err != nil {
		return fmt.Errorf("FLAC frame: %s", flacReason(err))
	}
	f.block = f.block[:0]
	return nil
}

// close writes the last, shorter block and flushes.
func (f *flacWriter) close() error {
	if err := f.writeFrame(); err != nil {
		return err
	}
	return f.bw.Flush()
}

// sum returns the MD5 of the samples added.
func (f *flacWriter) sum() []byte { return f.md5.Sum(nil) }
