package recording

import (
	"fmt"
	"strings"
	"time"

	"github.com/dlnmf/dlnmf/resample"
	"github.com/dlnmf/dlnmf/separation"
)

// Live separates a stream as it arrives, by the rate policy of SeparateFile:
// at the model's rate as it is, above it full band with estimates at the
// stream's rate, below it resampled up to the model's rate (the estimates
// stay at the model's rate: resampling them back would add the resampler's
// delay twice). Push samples in chunks of any size; each source's estimate
// goes to a sink as soon as it is final; Finish ends the stream. The same
// stream gives the same bits however it is cut into chunks. A Live is not
// safe for concurrent use.
type Live struct {
	live   *separation.Live
	down   *resample.Stream // nil: not resampled
	in     int              // the stream's rate
	rate   int              // the estimates' rate
	delay  int              // the resampler's delay in samples at rate
	full   bool
	frames int // the model's patch width (Context)
	batch  int // frames inferred together
	buf    []float64
	closed bool
}

// NewLive starts a stream at rate (Hz) by the rate policy. Its inference
// runs separation.DefaultLiveIters iterations per frame unless the
// settings give MaxIter.
func (sp *Separator) NewLive(rate int) (*Live, error) {
	sep, err := sp.at(rate)
	if err != nil {
		return nil, err
	}
	l := &Live{in: rate, rate: sep.Rate(), full: sep.Rate() != sp.model.SampleRate, frames: sp.model.Context, batch: sep.LiveBatch()}
	if rate != sep.Rate() {
		r, err := resample.New(rate, sep.Rate())
		if err != nil {
			return nil, err
		}
		l.down = r.NewStream()
		l.delay = r.TapsPerOutput() / 2
	}
	if l.live, err = sep.NewLive(); err != nil {
		return nil, err
	}
	return l, nil
}

// Rate returns the estimates' sample rate.
func (l *Live) Rate() int { return l.rate }

// FullBand reports whether the stream is above the model's rate and
// separated full band.
func (l *Live) FullBand() bool { return l.full }

// Resampled reports whether the stream is below the model's rate and
// resampled up to it.
func (l *Live) Resampled() bool { return l.down != nil }

// LatencySamples returns the algorithmic latency in samples at Rate: the
// separation's (separation.Live.Latency) plus the resampler's half filter
// when resampled; compute aside.
func (l *Live) LatencySamples() int { return l.live.Latency() + l.delay }

// Latency returns LatencySamples as a duration.
func (l *Live) Latency() time.Duration {
	return time.Duration(float64(l.LatencySamples()) / float64(l.rate) * float64(time.Second))
}

// ResamplerDelay returns the part of the latency due to resampling, in
// samples at Rate.
func (l *Live) ResamplerDelay() int { return l.delay }

// LatencyNote names what the latency is made of, for a log line: the
// model's window, the look-ahead of its patches (a T-frame patch model
// waits T-1 hops), batches of frames (B-1 hops), the upper band's
// smoothing (full band) or the resampler's delay.
func (l *Live) LatencyNote() string {
	parts := []string{"the model's window"}
	if l.frames > 1 {
		parts = append(parts, fmt.Sprintf("its %d-frame patches", l.frames))
	}
	if l.batch > 1 {
		parts = append(parts, fmt.Sprintf("batches of %d frames", l.batch))
	}
	switch {
	case l.full:
		parts = append(parts, "its upper band's smoothing")
	case l.down != nil:
		parts = append(parts, fmt.Sprintf("%.1f ms of resampling", float64(l.delay)/float64(l.rate)*1000))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// Push adds samples of the stream (mono, at the stream's rate) and sends
// every estimate sample that became final to sink, source by source (sink
// must not keep the slice).
func (l *Live) Push(x []float64, sink func(source int, y []float64) error) error {
	if l.down != nil {
		l.buf = l.down.Append(l.buf[:0], x)
		x = l.buf
	}
	return l.live.Push(x, sink)
}

// Finish ends the stream and sends the rest of each estimate to sink. A
// stream that was silent throughout gives separation.ErrSilent, after its
// samples were sent. Calling it again does nothing.
func (l *Live) Finish(sink func(source int, y []float64) error) error {
	if l.closed {
		return nil
	}
	l.closed = true
	if l.down != nil {
		if err := l.live.Push(l.down.Finish(l.buf[:0]), sink); err != nil {
			return err
		}
	}
	return l.live.Finish(sink)
}
