package recording

import (
	"fmt"
	"io"

	"github.com/dlnmf/dlnmf/resample"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// job is one recording's separation by the rate policy: n samples at rate
// in, each source's estimate at rate and of length n out.
type job struct {
	sep      *separation.Separator
	n, rate  int
	down, up *resample.Resampler // nil: separated at the recording's rate
	// Padded, when set, says that the recording has fewer frames than the
	// model's patch width (a warning for the user).
	padded string
}

// newJob applies the rate policy to a recording of n samples at rate.
func (sp *Separator) newJob(n, rate int) (*job, error) {
	sep, err := sp.at(rate)
	if err != nil {
		return nil, err
	}
	j := &job{sep: sep, n: n, rate: rate}
	if rate != sep.Rate() {
		mr := sp.model.SampleRate
		if j.down, err = resample.New(rate, mr); err != nil {
			return nil, err
		}
		if j.up, err = resample.New(mr, rate); err != nil {
			return nil, err
		}
	}
	m := n
	if j.down != nil {
		m = j.down.OutputLen(n)
	}
	if frames, short := sep.ShortForContext(m); short {
		j.padded = fmt.Sprintf("%d frames, fewer than the model's patch width of %d: padded by repeating its edge frames", frames, sp.model.Context)
	}
	return j, nil
}

// run pulls the recording's samples from read (at the recording's rate;
// io.EOF at the end) and pushes each source's estimate, block by block, to
// sink: resampled to the model's rate and back when below it, cut or padded
// to the recording's length. Memory does not grow with the recording.
func (j *job) run(read func(dst []float64) (int, error), sink func(source int, y []float64) error) error {
	m := j.n
	var toModel *resample.Stream
	if j.down != nil {
		m = j.down.OutputLen(j.n)
		toModel = j.down.NewStream()
	}
	raw := make([]float64, 1<<15)
	var pending []float64 // samples at the separator's rate not yet pulled
	eof := false
	src := func(dst []float64) (int, error) {
		for len(pending) == 0 && !eof {
			k, err := read(raw)
			switch {
			case err == io.EOF:
				eof = true
				if toModel != nil {
					pending = toModel.Finish(pending[:0])
				}
			case err != nil:
				return 0, err
			case toModel != nil:
				pending = toModel.Append(pending[:0], raw[:k])
			default:
				pending = raw[:k]
			}
		}
		if len(pending) == 0 {
			return 0, io.EOF
		}
		k := copy(dst, pending)
		pending = pending[k:]
		return k, nil
	}
	ns := len(j.sep.Sources())
	back := make([]*resample.Stream, ns)
	written := make([]int, ns)
	if j.up != nil {
		for i := range back {
			back[i] = j.up.NewStream()
		}
	}
	// write cuts y at the recording's length: resampling there and back
	// may give a sample or two more.
	write := func(i int, y []float64) error {
		y = y[:min(len(y), j.n-written[i])]
		written[i] += len(y)
		return sink(i, y)
	}
	var buf []float64
	err := j.sep.SeparateStream(src, m, func(i int, y []float64) error {
		if back[i] != nil {
			buf = back[i].Append(buf[:0], y)
			y = buf
		}
		return write(i, y)
	})
	if err != nil {
		return err
	}
	for i := range back {
		if back[i] != nil {
			if err := write(i, back[i].Finish(buf[:0])); err != nil {
				return err
			}
		}
		if err := write(i, make([]float64, j.n-written[i])); err != nil {
			return err
		}
	}
	return nil
}

// Separate separates a recording held in memory, one slice per channel
// (equal lengths) at rate, by the rate policy, and returns one signal per
// source (Sources), each at rate and as long as the recording, that add up
// to its down-mix. The samples are those SeparateFile writes as float64.
func (sp *Separator) Separate(channels [][]float64, rate int) ([][]float64, error) {
	x, err := downMix(channels)
	if err != nil {
		return nil, err
	}
	if err := separation.CheckSamples(x); err != nil {
		return nil, err
	}
	j, err := sp.newJob(len(x), rate)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(j.sep.Sources()))
	for i := range out {
		out[i] = make([]float64, 0, len(x))
	}
	rest := x
	read := func(dst []float64) (int, error) {
		if len(rest) == 0 {
			return 0, io.EOF
		}
		k := copy(dst, rest)
		rest = rest[k:]
		return k, nil
	}
	if err := j.run(read, func(i int, y []float64) error {
		out[i] = append(out[i], y...)
		return nil
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// downMix returns the mean of the channels, as wav.Reader makes it.
func downMix(channels [][]float64) ([]float64, error) {
	if len(channels) == 0 {
		return nil, fmt.Errorf("no channels")
	}
	for c, ch := range channels {
		if len(ch) != len(channels[0]) {
			return nil, fmt.Errorf("channel %d has %d samples, channel 0 %d", c, len(ch), len(channels[0]))
		}
	}
	return (&wav.Audio{Channels: channels}).Mono(), nil
}
