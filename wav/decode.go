package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"unicode/utf8"
)

// maxFileBytes bounds how much Decode reads: a RIFF file cannot be larger
// (its sizes are 32-bit), and the bound keeps a broken stream from filling
// memory.
const maxFileBytes = 1<<32 + 8

// ReadFile decodes the WAV file at path. Every error names the file.
func ReadFile(path string) (*Audio, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError already names the file
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

// Decode reads a whole WAV stream from r. Errors start with "wav:" and say
// what is wrong with the data.
func Decode(r io.Reader) (*Audio, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	a, err := decode(data)
	if err != nil {
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
	if len(data) == 0 {
		return nil, errors.New("empty file")
	}
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, notWAV(data)
	}
	var (
		fmtc      *format
		pcm       []byte
		haveData  bool
		dataStart int
	)
	le := binary.LittleEndian
	off := 12
	for off+8 <= len(data) {
		id := data[off : off+4]
		size := int64(le.Uint32(data[off+4 : off+8]))
		body := int64(off + 8)
		end := body + size
		if end > int64(len(data)) {
			remain := int64(len(data)) - body
			switch {
			case string(id) == "data":
				return nil, fmt.Errorf("truncated data: the data chunk claims %d bytes but only %d remain in the file", size, remain)
			case haveData && fmtc != nil:
				// A broken trailing chunk after all the audio: ignore it.
				off = len(data)
				continue
			default:
				return nil, fmt.Errorf("chunk %s at byte %d claims %d bytes, past the end of the file (%d bytes remain)", chunkName(id), off, size, remain)
			}
		}
		switch string(id) {
		case "fmt ":
			if fmtc != nil {
				return nil, errors.New("two fmt chunks")
			}
			f, err := parseFormat(data[body:end])
			if err != nil {
				return nil, err
			}
			fmtc = f
		case "data":
			if !haveData { // the first data chunk is the audio
				pcm = data[body:end]
				haveData = true
				dataStart = int(body)
			}
		}
		off = int(end)
		if size%2 == 1 && off < len(data) {
			off++ // RIFF pads odd-sized chunks to an even length
		}
	}
	switch {
	case fmtc == nil && !haveData:
		return nil, errors.New("no fmt chunk and no data chunk")
	case fmtc == nil:
		return nil, errors.New("no fmt chunk (the sample format is unknown)")
	case !haveData:
		return nil, errors.New("no data chunk")
	}
	frame := fmtc.channels * fmtc.enc.Bits() / 8
	if len(pcm)%frame != 0 {
		return nil, fmt.Errorf("truncated data: the data chunk at byte %d holds %d bytes, not a whole number of %d-byte frames", dataStart-8, len(pcm), frame)
	}
	return samples(pcm, fmtc), nil
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
	if rate > math.MaxInt32 {
		return nil, fmt.Errorf("absurd sample rate %d Hz in the fmt chunk", rate)
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
	le := binary.LittleEndian
	for i := 0; i < n; i++ {
		for c := 0; c < nc; c++ {
			b := pcm[(i*nc+c)*bps:]
			var v float64
			switch f.enc {
			case PCM8:
				v = (float64(b[0]) - 128) / 128
			case PCM16:
				v = float64(int16(le.Uint16(b))) / (1 << 15)
			case PCM24:
				u := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
				v = float64(u) / (1 << 23)
			case PCM32:
				v = float64(int32(le.Uint32(b))) / (1 << 31)
			case Float32:
				v = float64(math.Float32frombits(le.Uint32(b)))
			case Float64:
				v = math.Float64frombits(le.Uint64(b))
			}
			chans[c][i] = v
		}
	}
	return &Audio{Rate: f.rate, Encoding: f.enc, Channels: chans}
}

// notWAV describes data that does not start with a RIFF/WAVE header.
func notWAV(data []byte) error {
	head := data[:min(len(data), 12)]
	switch {
	case len(data) >= 4 && string(data[0:4]) == "RIFX":
		return errors.New("unsupported: big-endian RIFX file")
	case len(data) >= 4 && (string(data[0:4]) == "RF64" || string(data[0:4]) == "BW64"):
		return errors.New("unsupported: RF64 (64-bit WAV) file")
	case len(data) >= 12 && string(data[0:4]) == "RIFF":
		return fmt.Errorf("not a WAV file: a RIFF file of type %q", data[8:12])
	case len(data) < 12 && len(data) >= 4 && string(data[0:4]) == "RIFF":
		return fmt.Errorf("truncated: only %d bytes, too short for a RIFF/WAVE header", len(data))
	case utf8.Valid(data[:min(len(data), 64)]) && isText(data[:min(len(data), 64)]):
		return fmt.Errorf("not a WAV file: it looks like text (starts %q)", head)
	}
	return fmt.Errorf("not a WAV file: no RIFF/WAVE header (starts % x)", head)
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
