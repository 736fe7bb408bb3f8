package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unicode/utf8"

	"github.com/dlnmf/dlnmf/internal/inputfile"
)

// maxFileBytes bounds how much Decode reads: a RIFF file cannot be larger
// (its sizes are 32-bit), and the bound keeps a broken stream from filling
// memory.
const maxFileBytes = 1<<32 + 8

// ReadFile decodes the WAV file at path. Every error names the file. A path
// that is not a regular file (a named pipe, a device, a folder) is refused
// before it is opened.
func ReadFile(path string) (*Audio, error) {
	f, _, err := inputfile.Open(path)
	if err != nil {
		return nil, err // names the file
	}
	defer f.Close()
	data, err := readAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	a, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Decode reads a whole WAV or FLAC stream from r. Errors start with "wav:",
// or "flac:" for a FLAC stream, and say what is wrong with the data.
func Decode(r io.Reader) (*Audio, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	a, err := decode(data)
	if err != nil {
		if isFLAC(data) {
			return nil, fmt.Errorf("flac: %w", err)
		}
		return nil, fmt.Errorf("wav: %w", err)
	}
	return a, nil
}

func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileBytes {
		return nil, errors.New("larger than 4 GiB, the most a RIFF/WAVE file can hold")
	}
	return data, nil
}

// format is the content of the fmt chunk that matters for decoding.
type format struct {
	enc      Encoding
	channels int
	rate     int
}

// The tail of the KSDATAFORMAT_SUBTYPE GUIDs: the first two bytes of the
// SubFormat GUID are the plain format tag.
var guidTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

const (
	tagPCM        = 0x0001
	tagFloat      = 0x0003
	tagExtensible = 0xFFFE
)

func decode(data []byte) (*Audio, error) {
	if isFLAC(data) {
		return decodeFLAC(bytes.NewReader(data))
	}
	h, err := readHeader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return samples(data[h.dataStart:h.dataStart+h.dataSize], &h.format), nil
}

// header is what a WAV stream says about its audio.
type header struct {
	format
	dataStart int64 // byte offset of the data chunk's body
	dataSize  int64 // bytes in the data chunk, a whole number of frames
	// toEnd: the audio runs to the end of a stream that cannot seek, whose
	// header gives a placeholder size (see unknownLength); dataSize is then
	// not the audio's length.
	toEnd bool
}

// chunkReader reads RIFF chunks, skipping by seeking when it can.
type chunkReader struct {
	r     io.Reader
	s     io.Seeker // nil when r cannot seek
	off   int64     // bytes consumed from the start of the file
	start int64     // the file's first byte as an offset of s
	size  int64     // the file's length, when s is not nil
}

// skip skips n bytes and returns how many there were (fewer at the end).
func (c *chunkReader) skip(n int64) (int64, error) {
	if c.s != nil {
		n = min(n, c.size-c.off)
		if _, err := c.s.Seek(n, io.SeekCurrent); err != nil {
			return 0, err
		}
		c.off += n
		return n, nil
	}
	k, err := io.CopyN(io.Discard, c.r, n)
	c.off += k
	if err == io.EOF {
		err = nil
	}
	return k, err
}

// readHeader reads the RIFF/WAVE header and chunks of r and leaves r at the
// first byte of the audio (the body of the first data chunk). When r is an
// io.Seeker it walks every chunk, as a whole-file decoder does, so that the
// fmt chunk may also follow the audio; otherwise it stops at the audio. A
// data chunk that claims more bytes than the file holds is an error here
// when the file's length is known (r seeks), else when the audio is read.
func readHeader(r io.Reader) (*header, error) {
	c := &chunkReader{r: r}
	if s, ok := r.(io.Seeker); ok {
		cur, err1 := s.Seek(0, io.SeekCurrent)
		end, err2 := s.Seek(0, io.SeekEnd)
		_, err3 := s.Seek(cur, io.SeekStart)
		if err := errors.Join(err1, err2, err3); err == nil {
			c.s, c.start, c.size = s, cur, end-cur
		}
	}
	var head [12]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, err
	}
	c.off = int64(n)
	if n == 0 {
		return nil, errors.New("empty file")
	}
	if n < 12 || string(head[0:4]) != "RIFF" || string(head[8:12]) != "WAVE" {
		return nil, notWAV(head[:n])
	}
	var (
		fmtc     *format
		haveData bool
		h        header
	)
	le := binary.LittleEndian
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err == io.EOF || err == io.ErrUnexpectedEOF {
			break // fewer than 8 bytes left: no further chunk
		} else if err != nil {
			return nil, err
		}
		pos := c.off
		c.off += 8
		id := string(ch[0:4])
		size := int64(le.Uint32(ch[4:8]))
		if c.s != nil && id == "data" && !haveData && fmtc != nil {
			// A file left with a stream's placeholder size (a live
			// writer killed before it could write the true one) is read
			// as the stream it was: its audio runs to the end of the file.
			placeholder, err := c.placeholder(size)
			if err != nil {
				return nil, err
			}
			if placeholder {
				frame := int64(fmtc.channels * fmtc.enc.Bits() / 8)
				remain := c.size - c.off
				haveData = true
				h.dataStart, h.dataSize = c.off, remain-remain%frame
				goto done
			}
		}
		if c.s != nil && size > c.size-c.off {
			remain := c.size - c.off
			switch {
			case id == "data":
				return nil, truncatedData(size, remain)
			case haveData && fmtc != nil:
				// A broken trailing chunk after all the audio: ignore it.
				goto done
			default:
				return nil, pastEnd(ch[0:4], pos, size, remain)
			}
		}
		switch {
		case id == "fmt ":
			if fmtc != nil {
				return nil, errors.New("two fmt chunks")
			}
			// Read what arrives, not what the header claims: a lying
			// size cannot make us allocate.
			b, err := io.ReadAll(io.LimitReader(r, size))
			c.off += int64(len(b))
			if err != nil {
				return nil, err
			}
			if int64(len(b)) < size {
				return nil, pastEnd(ch[0:4], pos, size, int64(len(b)))
			}
			if fmtc, err = parseFormat(b); err != nil {
				return nil, err
			}
		case id == "data" && !haveData: // the first data chunk is the audio
			haveData = true
			h.dataStart, h.dataSize = c.off, size
			h.toEnd = c.s == nil && unknownLength(size)
			if c.s == nil {
				if fmtc == nil {
					return nil, errors.New("the fmt chunk follows the audio, which needs a file that can seek")
				}
				goto done
			}
			if _, err := c.skip(size); err != nil {
				return nil, err
			}
		default:
			k, err := c.skip(size)
			if err != nil {
				return nil, err
			}
			if k < size {
				return nil, pastEnd(ch[0:4], pos, size, k)
			}
		}
		if size%2 == 1 {
			// RIFF pads odd-sized chunks to an even length.
			if _, err := c.skip(1); err != nil {
				return nil, err
			}
		}
	}
done:
	switch {
	case fmtc == nil && !haveData:
		return nil, errors.New("no fmt chunk and no data chunk")
	case fmtc == nil:
		return nil, errors.New("no fmt chunk (the sample format is unknown)")
	case !haveData:
		return nil, errors.New("no data chunk")
	}
	h.format = *fmtc
	frame := int64(fmtc.channels * fmtc.enc.Bits() / 8)
	// A stream's placeholder size (see unknownLength) need not be whole frames.
	if h.dataSize%frame != 0 && !h.toEnd {
		return nil, fmt.Errorf("truncated data: the data chunk at byte %d holds %d bytes, not a whole number of %d-byte frames", h.dataStart-8, h.dataSize, frame)
	}
	if c.s != nil {
		if _, err := c.s.Seek(c.start+h.dataStart, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return &h, nil
}

// placeholder reports whether a data chunk of size bytes, whose 8-byte
// header c has just read, carries a stream's placeholder size rather than
// its true one: nearly 4 GiB where fewer bytes remain, or 0 where what
// follows is not a chunk (fewer than 8 bytes, an id that is not four
// printable characters, or a size past the end). It leaves c where it was.
func (c *chunkReader) placeholder(size int64) (bool, error) {
	remain := c.size - c.off
	switch {
	case remain <= 0 || !unknownLength(size):
		return false, nil
	case size != 0:
		return size > remain, nil
	case remain < 8:
		return true, nil
	}
	var next [8]byte
	if _, err := io.ReadFull(c.r, next[:]); err != nil {
		return false, err
	}
	if _, err := c.s.Seek(-8, io.SeekCurrent); err != nil {
		return false, err
	}
	for _, b := range next[:4] {
		if b < 0x20 || b > 0x7e {
			return true, nil
		}
	}
	return int64(binary.LittleEndian.Uint32(next[4:])) > remain-8, nil
}

func truncatedData(size, remain int64) error {
	return fmt.Errorf("truncated data: the data chunk claims %d bytes but only %d remain in the file", size, remain)
}

func pastEnd(id []byte, pos, size, remain int64) error {
	return fmt.Errorf("chunk %s at byte %d claims %d bytes, past the end of the file (%d bytes remain)", chunkName(id), pos, size, remain)
}

func parseFormat(b []byte) (*format, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("fmt chunk too short (%d bytes, need at least 16)", len(b))
	}
	le := binary.LittleEndian
	tag := le.Uint16(b[0:2])
	channels := int(le.Uint16(b[2:4]))
	rate := int(le.Uint32(b[4:8]))
	blockAlign := int(le.Uint16(b[12:14]))
	bits := int(le.Uint16(b[14:16]))
	if tag == tagExtensible {
		if len(b) < 40 || le.Uint16(b[16:18]) < 22 {
			return nil, fmt.Errorf("WAVE_FORMAT_EXTENSIBLE fmt chunk too short (%d bytes, need 40)", len(b))
		}
		if !bytes.Equal(b[26:40], guidTail) {
			return nil, fmt.Errorf("unsupported encoding: WAVE_FORMAT_EXTENSIBLE with an unknown SubFormat GUID % x", b[24:40])
		}
		tag = le.Uint16(b[24:26])
	}
	if channels == 0 {
		return nil, errors.New("zero channels in the fmt chunk")
	}
	if rate == 0 {
		return nil, errors.New("zero sample rate in the fmt chunk")
	}
	if rate > MaxRate {
		return nil, fmt.Errorf("sample rate %d Hz in the fmt chunk, above the %d Hz read", rate, MaxRate)
	}
	var enc Encoding
	switch {
	case tag == tagPCM && bits == 8:
		enc = PCM8
	case tag == tagPCM && bits == 16:
		enc = PCM16
	case tag == tagPCM && bits == 24:
		enc = PCM24
	case tag == tagPCM && bits == 32:
		enc = PCM32
	case tag == tagFloat && bits == 32:
		enc = Float32
	case tag == tagFloat && bits == 64:
		enc = Float64
	case tag == tagPCM || tag == tagFloat:
		return nil, fmt.Errorf("unsupported encoding: %d-bit %s", bits, map[uint16]string{tagPCM: "PCM", tagFloat: "float"}[tag])
	default:
		return nil, fmt.Errorf("unsupported encoding: format tag 0x%04x (%s); only PCM and IEEE float are read", tag, tagName(tag))
	}
	if want := channels * bits / 8; blockAlign != want {
		return nil, fmt.Errorf("inconsistent fmt chunk: block align %d, but %d channels of %d bits need %d", blockAlign, channels, bits, want)
	}
	return &format{enc: enc, channels: channels, rate: rate}, nil
}

// samples converts interleaved little-endian frames to per-channel float64.
func samples(pcm []byte, f *format) *Audio {
	nc := f.channels
	bps := f.enc.Bits() / 8
	n := len(pcm) / (nc * bps)
	backing := make([]float64, n*nc)
	chans := make([][]float64, nc)
	for c := range chans {
		chans[c] = backing[c*n : (c+1)*n : (c+1)*n]
	}
	for i := 0; i < n; i++ {
		for c := 0; c < nc; c++ {
			chans[c][i] = sample(pcm[(i*nc+c)*bps:], f.enc)
		}
	}
	return &Audio{Rate: f.rate, Encoding: f.enc, Channels: chans}
}

// sample decodes the sample at the start of b.
func sample(b []byte, enc Encoding) float64 {
	le := binary.LittleEndian
	switch enc {
	case PCM8:
		return (float64(b[0]) - 128) / 128
	case PCM16:
		return float64(int16(le.Uint16(b))) / (1 << 15)
	case PCM24:
		u := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float64(u) / (1 << 23)
	case PCM32:
		return float64(int32(le.Uint32(b))) / (1 << 31)
	case Float32:
		return float64(math.Float32frombits(le.Uint32(b)))
	case Float64:
		return math.Float64frombits(le.Uint64(b))
	}
	panic("wav: unknown encoding")
}

// notWAV describes data that does not start with a RIFF/WAVE header.
func notWAV(data []byte) error {
	head := data[:min(len(data), 12)]
	switch {
	case len(data) >= 4 && string(data[0:4]) == "RIFX":
		return errors.New("unsupported: big-endian RIFX file")
	case len(data) >= 4 && (string(data[0:4]) == "RF64" || string(data[0:4]) == "BW64"):
		return errors.New("unsupported: RF64 (64-bit WAV) file; split it, e.g. `sox in.wav out.wav trim 0 3600 : newfile : restart`")
	case len(data) >= 4 && string(data[0:4]) == "OggS":
		return unsupportedFormat("Ogg (Vorbis, Opus, ...)", "ogg", true)
	case len(data) >= 2 && data[0] == 0xFF && data[1]&0xE0 == 0xE0:
		return unsupportedFormat("MP3 (or other MPEG audio)", "mp3", true)
	case len(data) >= 8 && string(data[4:8]) == "ftyp":
		return unsupportedFormat("MP4/M4A (AAC, ALAC, ...)", "m4a", false)
	case len(data) >= 12 && string(data[0:4]) == "FORM" && (string(data[8:12]) == "AIFF" || string(data[8:12]) == "AIFC"):
		return unsupportedFormat("AIFF", "aiff", true)
	case len(data) >= 4 && string(data[0:4]) == "caff":
		return unsupportedFormat("CAF (Core Audio)", "caf", false)
	case len(data) >= 4 && string(data[0:4]) == "\x1a\x45\xdf\xa3":
		return unsupportedFormat("Matroska/WebM", "webm", false)
	case len(data) >= 4 && string(data[0:4]) == "wvpk":
		return unsupportedFormat("WavPack", "wv", false)
	case len(data) >= 4 && string(data[0:4]) == "MAC ":
		return unsupportedFormat("Monkey's Audio (APE)", "ape", false)
	case len(data) >= 5 && string(data[0:5]) == "#!AMR":
		return unsupportedFormat("AMR", "amr", false)
	case len(data) >= 4 && string(data[0:4]) == ".snd":
		return unsupportedFormat("Sun/NeXT AU", "au", true)
	case len(data) >= 12 && string(data[0:4]) == "RIFF":
		return fmt.Errorf("not a WAV file: a RIFF file of type %q", data[8:12])
	case len(data) < 12 && len(data) >= 4 && string(data[0:4]) == "RIFF":
		return fmt.Errorf("truncated: only %d bytes, too short for a RIFF/WAVE header", len(data))
	case utf8.Valid(data[:min(len(data), 64)]) && isText(data[:min(len(data), 64)]):
		return fmt.Errorf("not a WAV file: it looks like text (starts %q)", head)
	}
	return fmt.Errorf("not a WAV file: no RIFF/WAVE header (starts % x)", head)
}

// unsupportedFormat names an audio format that is neither WAV nor FLAC and
// the command that converts it.
func unsupportedFormat(name, ext string, sox bool) error {
	cmd := fmt.Sprintf("`ffmpeg -i in.%s out.wav`", ext)
	if sox {
		cmd += fmt.Sprintf(" or `sox in.%s out.wav`", ext)
	}
	return fmt.Errorf("unsupported format: %s audio; only WAV and FLAC are read, convert it with %s", name, cmd)
}

func isText(b []byte) bool {
	for _, r := range string(b) {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

func chunkName(id []byte) string {
	for _, c := range id {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("% x", id)
		}
	}
	return fmt.Sprintf("%q", id)
}

func tagName(tag uint16) string {
	switch tag {
	case 0x0002:
		return "Microsoft ADPCM"
	case 0x0006:
		return "A-law"
	case 0x0007:
		return "mu-law"
	case 0x0011:
		return "IMA ADPCM"
	case 0x0055:
		return "MP3"
	}
	return "compressed or unknown"
}
