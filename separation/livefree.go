package separation

import (
	"fmt"

	"github.com/dlnmf/dlnmf/nmf"
)

// Free bases in live separation (Duan, Mysore and Smaragdis 2012, "Online
// PLCA for real-time semi-supervised source separation"). Offline, the
// free bases are learned on the whole mixture (nmf.InferFree); a Live has
// only the past, so it learns them online:
//
//   - each new frame's activations are inferred with the model's bases and
//     the current free bases, all fixed (nmf.Infer), and its gains formed
//     as for any other frame: the free bases' part is the other source;
//   - the frame's magnitude and activations join a buffer of the last
//     Buffer seconds of frames (the oldest frame leaves);
//   - every Every frames, Updates multiplicative updates of the free bases
//     AND of the buffer's activations run on the buffer, the model's bases
//     fixed (nmf.Update with Freeze.Cols: the very solver of InferFree),
//     starting from the buffer's activations as they are.
//
// The buffer's activations are re-estimated, not kept from their frames'
// inference: a frame was inferred with the free bases of its time, so while
// those are still poor (the first frames, or a new noise) the model's
// speakers absorb part of the noise and the free bases' activations are too
// small; with H fixed, an update could reshape the free bases but never
// move that energy over to them. Re-estimating the activations with them
// lets each update act like a few iterations of the offline InferFree on
// the buffer, warm started; the activations it leaves are the next
// update's start. On TSP FA in white and pink noise at 0 dB (3 mixtures
// each) it scored 5.0 dB, kept activations 3.2.
//
// Only frames already inferred (and sent) enter the buffer, so the update
// uses no future sample: the latency stays Live.Latency. The free bases
// start as InferFree's (nmf.FreeBasis, seeded by the inference seed), and
// frames are inferred one at a time, so the estimates depend on the
// samples and the seed only, not on how the stream was cut into pushes:
// the same stream and seed give the same bits.

// OnlineFree sets how a Live learns free bases (SeparateSettings.Free > 0);
// zero values mean the defaults. Separate does not use it.
type OnlineFree struct {
	// Buffer is the span of recent frames the free bases are learned on,
	// in seconds; 0: DefaultOnlineBuffer.
	Buffer float64
	// Every is the number of frames between two updates of the free
	// bases; 0: DefaultOnlineEvery.
	Every int
	// Updates is the number of multiplicative updates each time; 0:
	// DefaultOnlineUpdates.
	Updates int
}

// The defaults of OnlineFree, chosen on TSP FA + white and pink noise at
// 0 dB (scripts/livefreesdr; the README's live section): 2 s hold enough
// frames of a stationary noise for 20 bases and forget a noise that changed
// within seconds (1 s scored 0.3 dB less, 3 and 4 s the same); updates
// every 4 frames (64 ms at the paper's settings) of 5 iterations each
// scored within 0.1 dB of every 8 or 16 frames and of 10 iterations, 0.6 dB
// above 2 iterations. With 20 free bases beside a DL-NMF 180,20 model of two
// speakers they leave 0.84 of the throughput at 200 inference iterations
// per frame and 0.39 at 20 (scripts/bench-live.sh with FREE=20).
const (
	DefaultOnlineBuffer  = 2.0
	DefaultOnlineEvery   = 4
	DefaultOnlineUpdates = 5
)

// MaxOnlineBuffer is the longest OnlineFree.Buffer, in seconds. The buffer
// holds its frames' patches and activations, as offline separation holds a
// recording's: a minute costs what separating a one-minute file costs, 30
// times the default's 2 s, and an online update over it already takes as
// long as offline free bases on that minute. Without a bound a buffer of
// 1e9 s would be sized before the first frame (62.5 G columns at 16 kHz).
const MaxOnlineBuffer = 60.0

// Check rejects settings resolve would refuse: a negative or non-finite
// buffer or one above MaxOnlineBuffer, a negative update interval or
// number of updates.
func (o OnlineFree) Check() error {
	if !(o.Buffer >= 0) || o.Every < 0 || o.Updates < 0 {
		return fmt.Errorf("online free bases: negative buffer (%g s), update interval (%d frames) or updates (%d)", o.Buffer, o.Every, o.Updates)
	}
	if o.Buffer > MaxOnlineBuffer {
		return fmt.Errorf("online free bases: a buffer of %g s, above the %g s allowed", o.Buffer, MaxOnlineBuffer)
	}
	return nil
}

// resolve checks o and fills in its defaults.
func (o OnlineFree) resolve() (OnlineFree, error) {
	if err := o.Check(); err != nil {
		return o, err
	}
	if o.Buffer == 0 {
		o.Buffer = DefaultOnlineBuffer
	}
	if o.Every == 0 {
		o.Every = DefaultOnlineEvery
	}
	if o.Updates == 0 {
		o.Updates = DefaultOnlineUpdates
	}
	return o, nil
}

// liveFree is a Live's free bases and the buffer they are learned on.
type liveFree struct {
	basis *nmf.Dense[float32] // rows x (K + free): the model's bases, then the free ones
	// inferer is the frames' inference with basis as it is now; nil after
	// learn changed it.
	inferer *nmf.Inferer[float32]
	bases   []*nmf.Dense[float32] // the sources' bases: the speakers', then a view of the free ones
	fixed   int                   // K, the model's columns
	X, H    *nmf.Dense[float32]   // the buffer: rows x size and (K + free) x size, frame t in column t mod size
	size    int                   // frames in the buffer when full
	every   int
	update  nmf.Settings
	frames  int // frames inferred so far
}

// newLiveFree starts the free bases of a Live on sp.
func newLiveFree(sp *Separator) *liveFree {
	o := sp.online
	K := sp.basis.Cols
	basis := nmf.FreeBasis(sp.basis, sp.extra.free, sp.settings.Seed)
	rows := basis.Rows
	size := max(int(o.Buffer*float64(sp.rate)/float64(sp.st.Hop)+0.5), 1)
	f := &liveFree{
		basis: basis, fixed: K, size: size, every: o.Every,
		X: nmf.NewDense[float32](rows, size, nil),
		H: nmf.NewDense[float32](basis.Cols, size, nil),
	}
	f.bases = append(append([]*nmf.Dense[float32](nil), sp.extra.bases[:len(sp.extra.bases)-1]...),
		&nmf.Dense[float32]{Rows: rows, Cols: sp.extra.free, Stride: basis.Stride, Data: basis.Data[K:]})
	f.update = sp.settings
	f.update.MaxIter, f.update.Tol, f.update.NoCost, f.update.Recorder = o.Updates, -1, true, nil
	return f
}

// reconstruct infers the activations of patch columns X with every basis
// fixed, returns each source's reconstruction of them (as
// Separator.products) and adds the columns to the buffer, updating the
// free bases when one is due.
func (f *liveFree) reconstruct(sp *Separator, w *work, X *nmf.Dense[float32]) ([]nmf.Dense[float32], error) {
	if f.inferer == nil { // planned again after each update of the free bases
		in, err := nmf.NewInferer(f.basis, sp.inferSettings(true))
		if err != nil {
			return nil, err
		}
		f.inferer = in
	}
	H, _, err := f.inferer.Infer(sized(&w.H, f.basis.Cols, X.Cols), X)
	if err != nil {
		return nil, err
	}
	recs := sp.products(w, X, H, f.bases)
	// The buffer takes the column only now: its own reconstruction used
	// the free bases of the columns before it.
	for j := range X.Cols {
		col := f.frames % f.size
		for i := 0; i < X.Rows; i++ {
			f.X.Data[i*f.X.Stride+col] = X.Data[i*X.Stride+j]
		}
		for i := 0; i < H.Rows; i++ {
			f.H.Data[i*f.H.Stride+col] = H.Data[i*H.Stride+j]
		}
		f.frames++
		if f.frames%f.every == 0 {
			if err := f.learn(); err != nil {
				return nil, err
			}
		}
	}
	return recs, nil
}

// learn runs the update of the free bases and the buffer's activations on
// the buffer, the model's bases fixed. A silent buffer teaches nothing
// (and would zero the free bases for good), so it is skipped.
func (f *liveFree) learn() error {
	n := min(f.frames, f.size)
	X := &nmf.Dense[float32]{Rows: f.X.Rows, Cols: n, Stride: f.X.Stride, Data: f.X.Data}
	var sum float64
	for i := 0; i < X.Rows; i++ {
		for _, v := range X.Data[i*X.Stride : i*X.Stride+n] {
			sum += float64(v)
		}
	}
	if sum == 0 {
		return nil
	}
	H := &nmf.Dense[float32]{Rows: f.H.Rows, Cols: n, Stride: f.H.Stride, Data: f.H.Data}
	fac := &nmf.Factorization[float32]{Layers: []*nmf.Dense[float32]{f.basis}, H: H}
	f.inferer = nil // the basis changes: the next frame plans its inference anew
	_, err := nmf.Update(X, fac, nmf.Freeze{Cols: f.fixed}, f.update)
	return err
}
