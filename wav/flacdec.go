package wav

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// Why a FLAC decoder of our own: github.com/mewkiz/flac (which writes our
// FLAC files) decodes by reading its bit stream through io.Reader calls of
// a byte or two, about 60 ns per sample here: 11 s of CPU per hour of 48
// kHz audio. This one reads 64 bits at a time from a buffer and decodes the
// same hour in well under the 5 s we allow (BenchmarkDecodeFLAC); both are
// checked against each other and against Debian's flac in the tests.

// flacDecoder reads the audio of a FLAC stream frame by frame (a frame is at
// most 65535 samples per channel, so memory does not grow with the file).
type flacDecoder struct {
	br     flacBits
	f      format
	bits   int     // bits per sample of the stream (4 to 32)
	scale  float64 // 2^-(bits-1): full scale 1.0, as for WAV
	total  int64   // samples per channel that STREAMINFO announces
	done   int64   // samples per channel decoded so far
	block  [][]int32
	n      int       // samples per channel in block
	pos    int       // next sample of block to deliver
	frames int       // frames decoded, for errors
	raw    [][]int64 // each subframe's samples, before decorrelation
	coefs  [32]int64
}

// flacBits reads a FLAC stream MSB first, 64 bits at a time, keeping the
// CRC-16 of the bytes it consumes (the frame's checksum).
type flacBits struct {
	r      io.Reader
	buf    []byte
	i, n   int    // buf[i:n] is unread
	acc    uint64 // the next bits, left-aligned
	nbits  uint   // how many bits of acc are valid
	crc    uint16
	hist   [8]uint16 // crc after each of the last 8 bytes loaded into acc
	loaded uint      // bytes loaded into acc, modulo anything
	err    error     // the reader's error once buf runs dry
	eof    bool      // ran out of data inside a frame
}

// The CRC tables of FLAC's frame checksums: CRC-16 (polynomial 0x8005)
// over the frame, CRC-8 (0x07) over its header, both MSB first from 0.
var (
	crc16Table = crcTable[uint16](0x8005, 16)
	crc8Table  = crcTable[uint8](0x07, 8)
)

func crcTable[T uint8 | uint16](poly T, width uint) (t [256]T) {
	top := T(1) << (width - 1)
	for i := range t {
		c := T(i) << (width - 8)
		for range 8 {
			if c&top != 0 {
				c = c<<1 ^ poly
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}

// fill tops acc up to at least 57 bits while there are bytes.
func (b *flacBits) fill() {
	for b.nbits <= 56 {
		if b.i == b.n {
			if b.err != nil {
				return // the caller finds too few bits
			}
			k, err := io.ReadFull(b.r, b.buf)
			b.i, b.n = 0, k
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			if err != nil {
				b.err = err
				if k == 0 {
					return
				}
			}
		}
		c := b.buf[b.i]
		b.i++
		b.crc = b.crc<<8 ^ crc16Table[byte(b.crc>>8)^c]
		b.loaded++
		b.hist[b.loaded&7] = b.crc
		b.acc |= uint64(c) << (56 - b.nbits)
		b.nbits += 8
	}
}

// restartCRC starts the CRC-16 at the next unread byte (b byte-aligned):
// the bytes already loaded into acc are fed again.
func (b *flacBits) restartCRC() {
	k := b.nbits / 8
	b.crc = 0
	b.hist[(b.loaded-k)&7] = 0
	for j := range k {
		b.crc = b.crc<<8 ^ crc16Table[byte(b.crc>>8)^byte(b.acc>>(56-8*j))]
		b.hist[(b.loaded-k+j+1)&7] = b.crc
	}
}

// consumedCRC returns the CRC-16 of the bytes read since restartCRC (b
// byte-aligned): acc's unread bytes were loaded after them.
func (b *flacBits) consumedCRC() uint16 { return b.hist[(b.loaded-b.nbits/8)&7] }

// read returns the next n bits (n <= 40) as an unsigned number; past the end
// of the data it returns zeros and sets eof.
func (b *flacBits) read(n uint) uint64 {
	if n == 0 {
		return 0
	}
	if b.nbits < n {
		b.fill()
		if b.nbits < n {
			b.eof = true
			b.acc, b.nbits = 0, 0
			return 0
		}
	}
	v := b.acc >> (64 - n)
	b.acc <<= n
	b.nbits -= n
	return v
}

// signed returns the next n bits as a two's complement number.
func (b *flacBits) signed(n uint) int64 {
	if n == 0 {
		return 0
	}
	v := b.read(n)
	return int64(v<<(64-n)) >> (64 - n)
}

// unary counts zero bits up to the next one bit, consuming all of them. It
// gives up (setting eof) past limit zeros or at the end of the data.
func (b *flacBits) unary(limit int) int {
	q := 0
	for {
		if b.nbits == 0 {
			b.fill()
			if b.nbits == 0 {
				b.eof = true
				return 0
			}
		}
		z := uint(bits.LeadingZeros64(b.acc))
		if z < b.nbits {
			b.acc <<= z + 1
			b.nbits -= z + 1
			return q + int(z)
		}
		q += int(b.nbits)
		b.acc, b.nbits = 0, 0
		if q > limit {
			b.eof = true
			return 0
		}
	}
}

// align drops the bits up to the next byte boundary.
func (b *flacBits) align() { b.read(b.nbits % 8) }

// bytes returns the next n bytes (byte-aligned) into dst.
func (b *flacBits) bytes(dst []byte) {
	for i := range dst {
		dst[i] = byte(b.read(8))
	}
}

// newFLAC reads the STREAMINFO of the FLAC stream r and skips its other
// metadata (and an ID3v2 tag before it), leaving r at the first audio frame.
func newFLAC(r io.Reader) (*flacDecoder, error) {
	d := &flacDecoder{br: flacBits{r: r, buf: make([]byte, 1<<16)}}
	b := &d.br
	var sig [4]byte
	b.bytes(sig[:3])
	if string(sig[:3]) == "ID3" {
		var h [7]byte
		b.bytes(h[:])
		size := int(h[3]&0x7f)<<21 | int(h[4]&0x7f)<<14 | int(h[5]&0x7f)<<7 | int(h[6]&0x7f)
		if h[2]&0x10 != 0 {
			size += 10 // a footer
		}
		for range size {
			b.read(8)
		}
		b.bytes(sig[:3])
	}
	sig[3] = byte(b.read(8))
	if b.eof {
		return nil, errors.New("corrupt FLAC header: the file ends before its STREAMINFO")
	}
	if string(sig[:]) != "fLaC" {
		// An ID3 tag not followed by FLAC is almost always an MP3.
		return nil, unsupportedFormat("MP3 (an ID3 tag not followed by FLAC)", "mp3", true)
	}
	var info []byte
	for last := false; !last; {
		last = b.read(1) == 1
		typ := b.read(7)
		size := int(b.read(24))
		if b.eof {
			return nil, errors.New("corrupt FLAC header: the file ends inside its metadata")
		}
		switch {
		case info == nil && typ != 0:
			return nil, fmt.Errorf("corrupt FLAC header: the first metadata block is of type %d, not STREAMINFO", typ)
		case typ == 0 && info != nil:
			return nil, errors.New("corrupt FLAC header: two STREAMINFO blocks")
		case typ == 0 && size != 34:
			return nil, fmt.Errorf("corrupt FLAC header: a STREAMINFO of %d bytes, not 34", size)
		case typ == 0:
			info = make([]byte, 34)
			b.bytes(info)
		case typ == 127:
			return nil, errors.New("corrupt FLAC header: a metadata block of the invalid type 127")
		default:
			for range size {
				b.read(8)
			}
		}
		if b.eof {
			return nil, errors.New("corrupt FLAC header: the file ends inside its metadata")
		}
	}
	rate := int(info[10])<<12 | int(info[11])<<4 | int(info[12])>>4
	channels := int(info[12]>>1&7) + 1
	depth := int(info[12]&1)<<4 | int(info[13]>>4) + 1
	total := int64(info[13]&15)<<32 | int64(info[14])<<24 | int64(info[15])<<16 | int64(info[16])<<8 | int64(info[17])
	switch {
	case rate == 0 || depth < 4:
		return nil, fmt.Errorf("corrupt FLAC header: %d channels, %d Hz, %d bits per sample", channels, rate, depth)
	case rate > MaxRate:
		return nil, fmt.Errorf("sample rate %d Hz in the FLAC header, above the %d Hz read", rate, MaxRate)
	case total == 0:
		return nil, errors.New("unsupported FLAC: the stream does not say how many samples it holds (re-encode it with `flac`, or convert it with `sox in.flac out.wav`)")
	}
	var enc Encoding
	switch {
	case depth <= 8:
		enc = PCM8
	case depth <= 16:
		enc = PCM16
	case depth <= 24:
		enc = PCM24
	default:
		enc = PCM32
	}
	d.f = format{enc: enc, channels: channels, rate: rate}
	d.bits, d.total = depth, total
	d.scale = 1 / float64(int64(1)<<(depth-1))
	d.block = make([][]int32, channels)
	return d, nil
}

// header describes the stream as readHeader describes a WAV file, so that
// Reader's accessors serve both.
func (d *flacDecoder) header() *header {
	return &header{format: d.f, dataSize: d.total * int64(d.f.channels*d.f.enc.Bits()/8)}
}

// corrupt is the error for frame d.frames.
func (d *flacDecoder) corrupt(format string, args ...any) error {
	return fmt.Errorf("corrupt FLAC: frame %d (from sample %d): %s", d.frames, d.done, fmt.Sprintf(format, args...))
}

// next decodes the next frame into d.block and checks it against
// STREAMINFO and its checksums. At the end of the announced samples it
// returns io.EOF.
func (d *flacDecoder) next() error {
	if d.done >= d.total {
		return io.EOF
	}
	b := &d.br
	b.restartCRC()
	var crc8 uint8
	head := func(n uint) uint64 { // header bits, fed to the CRC-8 too
		v := b.read(n)
		for k := int(n) - 8; k >= 0; k -= 8 {
			crc8 = crc8Table[crc8^byte(v>>k)]
		}
		return v
	}
	if sync := head(16); b.eof || sync>>2 != 0x3ffe || sync&2 != 0 {
		if b.eof && b.err == io.EOF {
			return fmt.Errorf("truncated FLAC: the stream announces %d samples but ends after %d", d.total, d.done)
		}
		if b.eof {
			return fmt.Errorf("truncated FLAC: %v after %d samples", b.err, d.done)
		}
		return d.corrupt("no frame sync code where a frame should start")
	}
	codes := head(16)
	bsCode, rateCode, chCode, depthCode := codes>>12, codes>>8&15, codes>>4&15, codes>>1&7
	if codes&1 != 0 {
		return d.corrupt("a reserved bit of the frame header is set")
	}
	// The frame or sample number, UTF-8 coded: only checked for length.
	first := head(8)
	extra := bits.LeadingZeros8(^uint8(first))
	if extra == 1 || extra > 7 {
		return d.corrupt("a bad frame number")
	}
	for i := 1; i < extra; i++ {
		if head(8)>>6 != 2 {
			return d.corrupt("a bad frame number")
		}
	}
	n := 0
	switch {
	case bsCode == 0:
		return d.corrupt("a reserved block size code")
	case bsCode == 1:
		n = 192
	case bsCode <= 5:
		n = 576 << (bsCode - 2)
	case bsCode == 6:
		n = int(head(8)) + 1
	case bsCode == 7:
		n = int(head(16)) + 1
	default:
		n = 256 << (bsCode - 8)
	}
	switch rateCode {
	case 12:
		head(8)
	case 13, 14:
		head(16)
	case 15:
		return d.corrupt("an invalid sample rate code")
	}
	depth := d.bits
	switch depthCode {
	case 0:
	case 3:
		return d.corrupt("a reserved sample size code")
	default:
		depth = []int{0, 8, 12, 0, 16, 20, 24, 32}[depthCode]
	}
	nc := int(chCode) + 1
	if chCode >= 8 {
		nc = 2
	}
	want := crc8
	if got := uint8(b.read(8)); b.eof || got != want {
		if b.eof {
			return fmt.Errorf("truncated FLAC: the stream announces %d samples but ends after %d", d.total, d.done)
		}
		return d.corrupt("header checksum mismatch")
	}
	switch {
	case chCode > 10:
		return d.corrupt("a reserved channel assignment")
	case nc != d.f.channels:
		return d.corrupt("%d channels, the stream %d", nc, d.f.channels)
	case depth != d.bits:
		return d.corrupt("%d bits per sample, the stream %d", depth, d.bits)
	case int64(n) > d.total-d.done:
		return d.corrupt("%d samples run past the %d the stream announces", n, d.total)
	}
	if len(d.raw) < nc {
		d.raw = make([][]int64, nc)
	}
	for c := range nc {
		bps := uint(depth)
		if (chCode == 8 || chCode == 10) && c == 1 || chCode == 9 && c == 0 {
			bps++ // the side channel
		}
		if cap(d.raw[c]) < n {
			d.raw[c] = make([]int64, n)
		}
		d.raw[c] = d.raw[c][:n]
		if err := d.subframe(d.raw[c], bps); err != nil {
			return err
		}
	}
	b.align()
	want16 := b.consumedCRC()
	if got := uint16(b.read(16)); b.eof || got != want16 {
		if b.eof {
			return fmt.Errorf("truncated FLAC: the stream announces %d samples but ends after %d", d.total, d.done)
		}
		return d.corrupt("checksum mismatch")
	}
	d.store(chCode, n)
	d.n, d.pos = n, 0
	d.done += int64(n)
	d.frames++
	return nil
}

// store undoes the stereo decorrelation of channel assignment chCode and
// keeps the frame's n samples per channel in d.block.
func (d *flacDecoder) store(chCode uint64, n int) {
	for c := range d.block {
		if cap(d.block[c]) < n {
			d.block[c] = make([]int32, n)
		}
		d.block[c] = d.block[c][:n]
	}
	switch chCode {
	case 8: // left, side
		l, s, L, R := d.raw[0], d.raw[1], d.block[0], d.block[1]
		for i := range n {
			L[i], R[i] = int32(l[i]), int32(l[i]-s[i])
		}
	case 9: // side, right
		s, r, L, R := d.raw[0], d.raw[1], d.block[0], d.block[1]
		for i := range n {
			L[i], R[i] = int32(s[i]+r[i]), int32(r[i])
		}
	case 10: // mid, side
		m, s, L, R := d.raw[0], d.raw[1], d.block[0], d.block[1]
		for i := range n {
			mid := m[i]<<1 | s[i]&1
			L[i], R[i] = int32((mid+s[i])>>1), int32((mid-s[i])>>1)
		}
	default:
		for c, blk := range d.block {
			for i, v := range d.raw[c][:n] {
				blk[i] = int32(v)
			}
		}
	}
}

// subframe decodes one channel's subframe of len(s) samples of bps bits.
func (d *flacDecoder) subframe(s []int64, bps uint) error {
	b := &d.br
	if b.read(1) != 0 {
		return d.corrupt("a subframe's padding bit is set")
	}
	typ := b.read(6)
	wasted := uint(0)
	if b.read(1) == 1 {
		wasted = uint(b.unary(int(bps))) + 1
		if wasted >= bps {
			return d.corrupt("%d wasted bits in %d-bit samples", wasted, bps)
		}
		bps -= wasted
	}
	n := len(s)
	switch {
	case typ == 0: // constant
		v := b.signed(bps)
		for i := range s {
			s[i] = v
		}
	case typ == 1: // verbatim
		for i := range s {
			s[i] = b.signed(bps)
		}
	case typ >= 8 && typ <= 12: // fixed predictor
		order := int(typ - 8)
		if order > n {
			return d.corrupt("a predictor of order %d in a block of %d", order, n)
		}
		for i := range order {
			s[i] = b.signed(bps)
		}
		if err := d.residual(s, order); err != nil {
			return err
		}
		switch order {
		case 1:
			for i := 1; i < n; i++ {
				s[i] += s[i-1]
			}
		case 2:
			for i := 2; i < n; i++ {
				s[i] += 2*s[i-1] - s[i-2]
			}
		case 3:
			for i := 3; i < n; i++ {
				s[i] += 3*s[i-1] - 3*s[i-2] + s[i-3]
			}
		case 4:
			for i := 4; i < n; i++ {
				s[i] += 4*s[i-1] - 6*s[i-2] + 4*s[i-3] - s[i-4]
			}
		}
	case typ >= 32: // LPC
		order := int(typ - 31)
		if order > n {
			return d.corrupt("a predictor of order %d in a block of %d", order, n)
		}
		for i := range order {
			s[i] = b.signed(bps)
		}
		prec := uint(b.read(4)) + 1
		if prec == 16 {
			return d.corrupt("an invalid LPC precision")
		}
		shift := b.signed(5)
		if shift < 0 {
			return d.corrupt("a negative LPC shift")
		}
		c := d.coefs[:order]
		for j := range c {
			c[j] = b.signed(prec)
		}
		if err := d.residual(s, order); err != nil {
			return err
		}
		for i := order; i < n; i++ {
			var sum int64
			for j, cj := range c {
				sum += cj * s[i-1-j]
			}
			s[i] += sum >> shift
		}
	default:
		return d.corrupt("a reserved subframe type %d", typ)
	}
	if b.eof {
		return fmt.Errorf("truncated FLAC: the stream announces %d samples but ends after %d", d.total, d.done)
	}
	if wasted > 0 {
		for i := range s {
			s[i] <<= wasted
		}
	}
	return nil
}

// residual decodes the Rice-coded residual of s after its order warm-up
// samples into s[order:].
func (d *flacDecoder) residual(s []int64, order int) error {
	b := &d.br
	method := b.read(2)
	if method > 1 {
		return d.corrupt("a reserved residual coding method")
	}
	pbits, esc := uint(4), uint64(15)
	if method == 1 {
		pbits, esc = 5, 31
	}
	po := uint(b.read(4))
	n := len(s)
	if n%(1<<po) != 0 || n>>po < order {
		return d.corrupt("a residual of %d partitions in a block of %d", 1<<po, n)
	}
	i := order
	for p := 0; p < 1<<po; p++ {
		end := i + n>>po
		if p == 0 {
			end -= order
		}
		k := b.read(pbits)
		if k == esc {
			raw := uint(b.read(5))
			for ; i < end; i++ {
				s[i] = b.signed(raw)
			}
		} else {
			kk := uint(k)
			for ; i < end; i++ {
				v := uint64(b.unary(1<<32))<<kk | b.read(kk)
				s[i] = int64(v>>1) ^ -int64(v&1)
			}
		}
		if b.eof {
			return fmt.Errorf("truncated FLAC: the stream announces %d samples but ends after %d", d.total, d.done)
		}
	}
	return nil
}
