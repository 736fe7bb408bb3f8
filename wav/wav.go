package wav

import "fmt"

// MaxRate is the highest sample rate read, in Hz: a WAV or FLAC header, or
// a raw stream's rate, above it is refused before anything is sized from
// it. 768 kHz is the highest rate audio interfaces offer (four times 192
// kHz); a header above it is broken or hostile, and resampling or an STFT
// sized from it would need memory in proportion.
const MaxRate = 768000

// Encoding is the sample format of a WAV file.
type Encoding int

// The sample encodings Decode understands and Encode writes.
const (
	PCM8 Encoding = iota + 1
	PCM16
	PCM24
	PCM32
	Float32
	Float64
)

// String returns a description such as "16-bit PCM" or "32-bit float".
func (e Encoding) String() string {
	switch e {
	case PCM8, PCM16, PCM24, PCM32:
		return fmt.Sprintf("%d-bit PCM", e.Bits())
	case Float32, Float64:
		return fmt.Sprintf("%d-bit float", e.Bits())
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// Bits returns the bits per sample of e, or 0 for an unknown encoding.
func (e Encoding) Bits() int {
	switch e {
	case PCM8:
		return 8
	case PCM16:
		return 16
	case PCM24:
		return 24
	case PCM32, Float32:
		return 32
	case Float64:
		return 64
	}
	return 0
}

func (e Encoding) isFloat() bool { return e == Float32 || e == Float64 }

// Audio is decoded audio: Channels[c][i] is sample i of channel c, full
// scale 1.0. All channels have the same length.
type Audio struct {
	Rate     int      // samples per second per channel
	Encoding Encoding // the file's sample encoding
	Channels [][]float64
}

// Len returns the number of samples per channel.
func (a *Audio) Len() int {
	if len(a.Channels) == 0 {
		return 0
	}
	return len(a.Channels[0])
}

// Seconds returns the duration in seconds.
func (a *Audio) Seconds() float64 {
	if a.Rate <= 0 {
		return 0
	}
	return float64(a.Len()) / float64(a.Rate)
}

// Mono returns the down-mix of a to one channel, the mean of its channels.
// For mono audio it returns the channel itself, not a copy.
func (a *Audio) Mono() []float64 {
	switch len(a.Channels) {
	case 0:
		return nil
	case 1:
		return a.Channels[0]
	}
	n := a.Len()
	out := make([]float64, n)
	for _, ch := range a.Channels {
		for i, v := range ch[:n] {
			out[i] += v
		}
	}
	inv := 1 / float64(len(a.Channels))
	for i := range out {
		out[i] *= inv
	}
	return out
}
