package resample

// Stream resamples a signal that arrives in pieces, keeping only the filter's
// history: its memory does not grow with the signal. The concatenation of
// everything Append and Finish return equals Apply on the whole signal, to the
// last bit: the same length, ceil(n*to/from), and zero delay. The signal is
// taken as zero before its first sample and after the last one Append got.
//
// A Stream is not safe for concurrent use; many Streams may share one
// Resampler.
type Stream struct {
	r        *Resampler
	buf      []float64 // input samples base, base+1, ... still needed
	base     int       // index of buf[0] in the input
	in       int       // input samples received
	next     int       // index of the next output sample
	finished bool
}

// NewStream returns a Stream that resamples with r.
func (r *Resampler) NewStream() *Stream { return &Stream{r: r} }

// Append feeds the input samples x and appends every output sample that they
// complete to dst, returning the extended slice (as append does: pass
// dst[:0] to reuse a buffer). Output lags input by about half the filter
// (TapsPerOutput/2 input samples); Finish returns the rest. Append panics
// after Finish.
func (s *Stream) Append(dst, x []float64) []float64 {
	if s.finished {
		panic("resample: Stream.Append after Finish")
	}
	s.in += len(x)
	if s.r.table == nil { // same rate: nothing to filter
		s.next += len(x)
		return append(dst, x...)
	}
	s.buf = append(s.buf, x...)
	for s.newest(s.next) < s.in {
		dst = append(dst, s.r.output(s.buf, s.base, -1, s.next))
		s.next++
	}
	// Drop the samples no later output needs (outputs need ever later
	// inputs), keeping the buffer at about one filter length.
	if drop := min(s.newest(s.next)-s.r.taps+1-s.base, len(s.buf)); drop > 0 {
		n := copy(s.buf, s.buf[drop:])
		s.buf = s.buf[:n]
		s.base += drop
	}
	return dst
}

// Finish ends the input and appends the remaining output samples to dst,
// those that reach past the last input sample, returning the extended slice.
// After Finish the Stream has returned OutputLen(n) samples for the n input
// samples it got. A second Finish returns dst unchanged.
func (s *Stream) Finish(dst []float64) []float64 {
	if s.finished {
		return dst
	}
	s.finished = true
	total := s.r.OutputLen(s.in)
	if s.r.table == nil {
		return dst
	}
	for ; s.next < total; s.next++ {
		dst = append(dst, s.r.output(s.buf, s.base, s.in, s.next))
	}
	s.buf = nil
	return dst
}

// newest returns the newest input sample that output j needs.
func (s *Stream) newest(j int) int {
	return (j*s.r.down + s.r.center) / s.r.up
}
