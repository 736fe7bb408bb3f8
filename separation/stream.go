package separation

import (
	"errors"
	"fmt"
	"io"

	"github.com/dlnmf/dlnmf/internal/openblas"
)

// maxEmptyReads is how many times in a row a source may return no samples
// and no error before SeparateStream gives up on it (as bufio does).
const maxEmptyReads = 100

// SeparateStream separates a mixture of n samples (at the separator's Rate) that
// it pulls from src, in memory that does not depend on n: one block of the
// separator's BlockSeconds plus a margin of one window on each side. src
// fills dst with up to len(dst) samples and returns how many, like
// io.Reader.Read; io.EOF before n samples is an error. sink receives each
// speaker's estimate in order, block by block: for every block, speaker 0,
// 1, ... get the block's samples (sink must not keep the slice). Altogether
// each speaker gets n samples, exactly what Separate returns for the whole
// signal (both run this code).
//
// Bad samples (NaN, infinite) stop the separation when they arrive; a silent
// signal is only known at the end, after every block went to sink. So on an
// error the caller must discard what sink received.
func (sp *Separator) SeparateStream(src func(dst []float64) (int, error), n int, sink func(speaker int, samples []float64) error) error {
	defer openblas.HoldSingle()() // see blas.go
	if n < 0 {
		panic("separation: negative signal length")
	}
	if n == 0 {
		return errors.New("the signal is empty")
	}
	w := sp.work()
	defer sp.works.Put(w)

	// A signal that fits in one block with its margins is one segment;
	// longer ones go in blocks of sp.block with sp.margin of context on
	// each side, clipped at the ends of the signal.
	step, margin := sp.block, sp.margin
	if sp.oneSegment(n) {
		step, margin = n, 0
	}
	win := grow(w.win, min(n, step+2*margin))[:0] // samples lo, lo+1, ...
	defer func() { w.win = win }()
	lo := 0
	if len(w.out) != sp.sources() {
		w.out = make([][]float64, sp.sources())
	}
	out := w.out
	for i := range out {
		out[i] = grow(out[i], step)
	}
	silent := true
	empty := 0
	for a := 0; a < n; a += step {
		b := min(a+step, n)
		segLo, segHi := max(a-margin, 0), min(b+margin, n)
		// Keep the overlap with the previous segment, pull the rest.
		if drop := segLo - lo; drop > 0 {
			win = win[:copy(win, win[drop:])]
			lo = segLo
		}
		for lo+len(win) < segHi {
			got := lo + len(win)
			k, err := src(win[len(win) : segHi-lo])
			fresh := win[len(win) : len(win)+k]
			bad, sound := scanSamples(fresh)
			if bad >= 0 {
				return fmt.Errorf("sample %d is %v", got+bad, fresh[bad])
			}
			silent = silent && !sound
			win = win[:len(win)+k]
			switch {
			case err == io.EOF && lo+len(win) < n:
				return fmt.Errorf("the signal ended after %d of %d samples", lo+len(win), n)
			case err != nil && err != io.EOF:
				return err
			case k == 0:
				if empty++; empty >= maxEmptyReads {
					return io.ErrNoProgress
				}
			default:
				empty = 0
			}
		}
		for i := range out {
			out[i] = out[i][:b-a]
		}
		if err := sp.separateSegment(w, out, win, a-segLo, b-segLo); err != nil {
			return err
		}
		for i := range out {
			if err := sink(i, out[i]); err != nil {
				return err
			}
		}
	}
	if silent {
		return errSilent
	}
	return nil
}
