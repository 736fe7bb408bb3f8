package wav

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/internal/inputfile"
)

// Reader decodes a WAV or FLAC stream piece by piece, as mono samples (the mean of
// the channels, as Audio.Mono), in memory that does not depend on the
// stream's length. It accepts what Decode accepts and gives the same errors.
type Reader struct {
	r       io.Reader
	closer  io.Closer // the file Open opened, or nil
	prefix  string    // "wav" or the file name, for errors
	h       *header
	fl      *flacDecoder // the FLAC decoder, nil for WAV
	read    int64        // bytes of the data chunk read so far
	buf     []byte
	closeOK bool
}

// NewReader reads the header of the WAV or FLAC stream r, up to its audio.
// When r can seek (a file; an *os.File on a pipe cannot), every chunk is
// checked as Decode checks them, and a fmt chunk that follows the audio is
// found; otherwise reading stops at the audio, and a data chunk cut short
// shows as an error from Read at its end. Either way the samples are those
// of the same bytes read as a file.
//
// A WAV stream whose data size is a placeholder (0, or nearly 4 GiB, as
// sox, arecord and ffmpeg write to a pipe) runs to the end of r: as Frames
// must be known up front, NewReader copies its audio, at most 4 GiB, into
// an unnamed temporary file (in os.TempDir) that Close removes. (A file
// carrying such a size is read in place, to its end.) Errors start with
// "wav:", or "flac:" for a FLAC stream.
func NewReader(r io.Reader) (*Reader, error) {
	return newReader(r, "wav")
}

// Open opens the WAV file at path for reading piece by piece. Every error,
// from Open and later from Read, names the file. A path that is not a
// regular file is refused, as ReadFile does. Close the Reader when done.
func Open(path string) (*Reader, error) {
	f, _, err := inputfile.Open(path)
	if err != nil {
		return nil, err // names the file
	}
	rd, err := newReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	rd.closer = f
	return rd, nil
}

// readOnly hides the Seek method of what it wraps.
type readOnly struct{ io.Reader }

func newReader(r io.Reader, prefix string) (*Reader, error) {
	// An *os.File is an io.Seeker even on a pipe, where Seek fails: find
	// out before relying on it.
	if s, ok := r.(io.Seeker); ok {
		if _, err := s.Seek(0, io.SeekCurrent); err != nil {
			r = readOnly{r}
		}
	}
	// Look at the first bytes for a FLAC signature, then put them back:
	// by seeking where r can (readHeader walks a seekable WAV file whole),
	// else in front of the rest of the stream.
	var head [4]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	if s, ok := r.(io.Seeker); ok {
		if _, err := s.Seek(int64(-n), io.SeekCurrent); err != nil {
			return nil, fmt.Errorf("%s: %w", prefix, err)
		}
	} else {
		r = io.MultiReader(bytes.NewReader(head[:n]), r)
	}
	if isFLAC(head[:n]) {
		if prefix == "wav" {
			prefix = "flac"
		}
		fl, err := newFLAC(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", prefix, err)
		}
		return &Reader{r: r, prefix: prefix, h: fl.header(), fl: fl}, nil
	}
	h, err := readHeader(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	rd := &Reader{r: r, prefix: prefix, h: h}
	if h.toEnd {
		if err := rd.spool(); err != nil {
			return nil, fmt.Errorf("%s: %w", prefix, err)
		}
	}
	return rd, nil
}

// spool copies the audio of a stream of unknown length into an unnamed
// temporary file and reads it from there, its length now known. The whole
// frames are the audio: a frame cut short at the end is not.
func (rd *Reader) spool() error {
	f, err := os.CreateTemp("", ".dlnmf-stream-*")
	if err != nil {
		return fmt.Errorf("a stream of unknown length needs a temporary file: %w", err)
	}
	// Unnamed at once where the system allows it: nothing is left behind,
	// whatever ends the process. Elsewhere Close removes it.
	unnamed := os.Remove(f.Name()) == nil
	rd.closer = spoolFile{f, unnamed}
	n, err := io.Copy(f, io.LimitReader(rd.r, maxFileBytes+1))
	if err == nil && n > maxFileBytes {
		err = errors.New("a WAV stream of unknown length longer than 4 GiB, the most a WAV file can hold")
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		rd.Close()
		return err
	}
	rd.r = f
	rd.h.toEnd = false
	rd.h.dataSize = n - n%rd.frameBytes()
	return nil
}

// spoolFile is the temporary file of a spooled stream.
type spoolFile struct {
	*os.File
	unnamed bool
}

func (s spoolFile) Close() error {
	err := s.File.Close()
	if !s.unnamed {
		os.Remove(s.File.Name())
	}
	return err
}

// Rate returns the sample rate in Hz.
func (rd *Reader) Rate() int { return rd.h.rate }

// Channels returns the number of channels in the file (Read down-mixes them).
func (rd *Reader) Channels() int { return rd.h.channels }

// Encoding returns the file's sample encoding.
func (rd *Reader) Encoding() Encoding { return rd.h.enc }

// Frames returns the number of samples per channel the data chunk holds.
func (rd *Reader) Frames() int { return int(rd.h.dataSize / rd.frameBytes()) }

// Format returns the file's container, WAV or FLAC.
func (rd *Reader) Format() Format {
	if rd.fl != nil {
		return FLAC
	}
	return WAV
}

func (rd *Reader) frameBytes() int64 {
	return int64(rd.h.channels * rd.h.enc.Bits() / 8)
}

// Read decodes up to len(dst) frames into dst, down-mixed to mono, and
// returns how many. At the end of the audio it returns 0, io.EOF. A data
// chunk that ends before the length it claims is an error.
func (rd *Reader) Read(dst []float64) (int, error) { return rd.decode(dst, false) }

// ReadInterleaved decodes up to len(dst)/Channels() frames into dst with
// every channel kept, interleaved (frame i, channel c at dst[i*Channels()+c]),
// and returns how many frames. Otherwise it is Read.
func (rd *Reader) ReadInterleaved(dst []float64) (int, error) { return rd.decode(dst, true) }

func (rd *Reader) decode(dst []float64, interleaved bool) (int, error) {
	nc := rd.h.channels
	frames := len(dst)
	if interleaved {
		frames /= nc
	}
	if rd.fl != nil {
		n, err := rd.fl.read(dst, interleaved)
		if err != nil && err != io.EOF {
			err = fmt.Errorf("%s: %w", rd.prefix, err)
		}
		return n, err
	}
	fb := rd.frameBytes()
	left := (rd.h.dataSize - rd.read) / fb
	if left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(frames), left))
	if n == 0 {
		return 0, nil
	}
	want := n * int(fb)
	if cap(rd.buf) < want {
		rd.buf = make([]byte, want)
	}
	b := rd.buf[:want]
	got, err := io.ReadFull(rd.r, b)
	rd.read += int64(got)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return 0, fmt.Errorf("%s: %w", rd.prefix, truncatedData(rd.h.dataSize, rd.read))
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", rd.prefix, err)
	}
	bps, enc := rd.h.enc.Bits()/8, rd.h.enc
	if interleaved {
		for i := range n * nc {
			dst[i] = sample(b[i*bps:], enc)
		}
		return n, nil
	}
	if nc == 1 {
		for i := range n {
			dst[i] = sample(b[i*bps:], enc)
		}
		return n, nil
	}
	// The mean of the channels, summed in order as Audio.Mono does.
	inv := 1 / float64(nc)
	for i := range n {
		var s float64
		for c := range nc {
			s += sample(b[(i*nc+c)*bps:], enc)
		}
		dst[i] = s * inv
	}
	return n, nil
}

// Close closes the file that Open opened, or removes the temporary file of a
// spooled stream (see NewReader); otherwise it does nothing.
func (rd *Reader) Close() error {
	if rd.closer == nil || rd.closeOK {
		return nil
	}
	rd.closeOK = true
	return rd.closer.Close()
}

// Writer encodes a mono WAV (or FLAC) stream piece by piece. The number of samples is
// fixed up front (the header comes first), and Close checks that exactly
// that many were written. Samples are encoded as Encode does: integer
// encodings round and clip, floats are stored as they are.
type Writer struct {
	w       io.Writer
	file    *atomicfile.File // for Create, else nil
	prefix  string
	enc     Encoding
	scale   float64
	frames  int64
	written int64
	clipped int
	buf     []byte
	fw      *flacWriter // for FLAC, else nil
	err     error       // the first error, repeated by later calls
}

// NewWriter writes the header of a mono WAV stream of frames samples at rate
// with encoding enc to w. Errors start with "wav:".
func NewWriter(w io.Writer, rate int, enc Encoding, frames int) (*Writer, error) {
	return newWriter(w, "wav", WAV, rate, enc, frames)
}

// NewFormatWriter is NewWriter for a container f: WAV, or FLAC (integer PCM
// of 8, 16 or 24 bits). Errors start with "wav:".
func NewFormatWriter(w io.Writer, f Format, rate int, enc Encoding, frames int) (*Writer, error) {
	return newWriter(w, "wav", f, rate, enc, frames)
}

// Create starts writing the mono WAV file path, atomically: the file appears
// only when Close succeeds; Abort, or a failed Write or Close, leaves the
// target as it was and no temporary file behind. Errors name the file.
func Create(path string, rate int, enc Encoding, frames int) (*Writer, error) {
	return CreateFormat(path, WAV, rate, enc, frames)
}

// CreateFormat is Create for a container f, as NewFormatWriter.
func CreateFormat(path string, ff Format, rate int, enc Encoding, frames int) (*Writer, error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	wr, err := newWriter(f, path, ff, rate, enc, frames)
	if err != nil {
		f.Abort()
		return nil, err
	}
	wr.file = f
	return wr, nil
}

func newWriter(w io.Writer, prefix string, f Format, rate int, enc Encoding, frames int) (*Writer, error) {
	if frames < 0 {
		return nil, fmt.Errorf("%s: negative sample count %d", prefix, frames)
	}
	if f == FLAC {
		fw, err := newFLACWriter(w, rate, enc, frames)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", prefix, err)
		}
		return &Writer{w: w, prefix: prefix, enc: enc, scale: math.Ldexp(1, enc.Bits()-1), frames: int64(frames), fw: fw}, nil
	}
	hdr, err := encodeHeader(1, frames, rate, enc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	if _, err := w.Write(hdr); err != nil {
		return nil, err
	}
	return &Writer{w: w, prefix: prefix, enc: enc, scale: math.Ldexp(1, enc.Bits()-1), frames: int64(frames), buf: make([]byte, 0, 1<<15)}, nil
}

// Write encodes samples. Writing more samples than the header announced is an
// error.
func (wr *Writer) Write(samples []float64) error {
	if wr.err != nil {
		return wr.err
	}
	if wr.written+int64(len(samples)) > wr.frames {
		return wr.fail(fmt.Errorf("%s: %d samples written, more than the %d announced", wr.prefix, wr.written+int64(len(samples)), wr.frames))
	}
	if wr.fw != nil {
		for _, v := range samples {
			code, clip := quantize(v, wr.scale)
			if clip {
				wr.clipped++
			}
			if err := wr.fw.add(int32(code)); err != nil {
				return wr.fail(fmt.Errorf("%s: %w", wr.prefix, err))
			}
		}
		wr.written += int64(len(samples))
		return nil
	}
	for _, v := range samples {
		var clip bool
		wr.buf, clip = appendSample(wr.buf, v, wr.enc, wr.scale)
		if clip {
			wr.clipped++
		}
		if len(wr.buf) > cap(wr.buf)-16 {
			if err := wr.flush(); err != nil {
				return err
			}
		}
	}
	wr.written += int64(len(samples))
	return nil
}

func (wr *Writer) flush() error {
	if _, err := wr.w.Write(wr.buf); err != nil {
		return wr.fail(err)
	}
	wr.buf = wr.buf[:0]
	return nil
}

func (wr *Writer) fail(err error) error {
	wr.err = err
	if wr.file != nil {
		wr.file.Abort()
	}
	return err
}

// Clipped returns how many samples clipped so far (integer encodings only;
// NaN counts as clipped and is written as 0).
func (wr *Writer) Clipped() int { return wr.clipped }

// Close finishes the stream: it checks that all the announced samples were
// written, writes the pad byte an odd-sized data chunk needs, and for Create
// renames the file into place. For NewWriter it does not close w.
func (wr *Writer) Close() error {
	if wr.err != nil {
		return wr.err
	}
	if wr.written != wr.frames {
		return wr.fail(fmt.Errorf("%s: %d samples written, %d announced", wr.prefix, wr.written, wr.frames))
	}
	if wr.fw != nil {
		if err := wr.fw.close(); err != nil {
			return wr.fail(fmt.Errorf("%s: %w", wr.prefix, err))
		}
		if wr.file != nil {
			if _, err := wr.file.WriteAt(wr.fw.sum(), flacMD5Offset); err != nil {
				return wr.fail(err)
			}
		}
	} else {
		if wr.frames*int64(wr.enc.Bits()/8)%2 == 1 {
			wr.buf = append(wr.buf, 0)
		}
		if err := wr.flush(); err != nil {
			return err
		}
	}
	wr.err = errors.New(wr.prefix + ": Writer already closed")
	if wr.file != nil {
		return wr.file.Commit()
	}
	return nil
}

// Abort discards a file from Create; it does nothing after a successful
// Close, or for a Writer from NewWriter.
func (wr *Writer) Abort() {
	if wr.file != nil {
		wr.file.Abort()
	}
	if wr.err == nil {
		wr.err = errors.New(wr.prefix + ": Writer aborted")
	}
}
