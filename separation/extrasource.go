package separation

import (
	"fmt"

	"github.com/dlnmf/dlnmf/nmf"
)

// OtherName is the name of the source that free bases explain.
const OtherName = "other"

// DefaultFreeIters and DefaultFreeStart are the inference of free bases
// unless set (SeparateSettings.NMF.MaxIter 0 with Free; dlnmf separate's
// --free-init). Chosen on the validation mixtures of docs/RESULTS.md,
// "Sources without a model" (docs/results/semi15/*.validation.md: TSP FA
// with an unknown talker, and in white, pink and babble noise at 0 and
// 5 dB): free bases learn the known voice too as the iterations go on, so
// that few iterations from the quietest frames are best. Mean validation
// SDRi over the seven conditions, K = 20 free bases, quiet start: 4.59, 4.55,
// 4.46, 3.91 and 2.06 dB at 5, 10, 25, 50 and 200 iterations; 10 is within
// 0.04 dB of the best mean and has the best worst condition (+1.63 dB,
// against +1.21 at 5 iterations for the unknown talker); random starts
// are 0.6 to 0.9 dB below quiet ones at 5 to 25 iterations.
const (
	DefaultFreeIters = 10
	DefaultFreeStart = nmf.FreeQuiet // nmf.FreeStart's zero value
)

// DefaultFree is the number of free bases of a model of one speaker
// without a universal model when SeparateSettings.Free is 0: such a model
// needs another source, and on the validation mixtures of docs/RESULTS.md
// ("Sources without a model") K = 10 to 20 served noise best.
const DefaultFree = 20

// DefaultLiveIters are a Live's inference iterations per frame when
// SeparateSettings.NMF.MaxIter is 0: on TSP test mixtures 50 iterations
// scored the SDR of 200, at 2.5 times the throughput (docs/RESULTS.md,
// "Live separation").
const DefaultLiveIters = 50

// extraSource is the source a Separator adds to the model's speakers: free
// bases learned on each mixture, or the model's universal speech model.
type extraSource struct {
	name   string // "" when there is none
	free   int    // free bases per mixture
	groups []int  // the universal model's groups (columns per speaker)
	start  int    // its first column in the separator's basis
	weight float64
	bases  []*nmf.Dense[float32] // the speakers' bases and a slot for the free ones
}

// init sets the extra source from the settings and the model, appending
// the universal model's basis to sep.bases.
func (e *extraSource) init(sep *Separator, s SeparateSettings) error {
	m := sep.model
	switch {
	case s.Free < 0:
		return fmt.Errorf("%d free bases: want 1 or more (or 0 for none)", s.Free)
	case s.Free > 0 && m.Universal != nil:
		return fmt.Errorf("the model has a universal model (%s) for what its speakers do not explain: free bases would compete with it; use one or the other", m.Universal.Name)
	case s.UniversalWeight < 0:
		return fmt.Errorf("universal weight %g is negative", s.UniversalWeight)
	case s.Free > 0:
		e.name, e.free = OtherName, s.Free
		e.bases = append(append([]*nmf.Dense[float32](nil), sep.bases...), nil)
	case m.Universal != nil:
		basis, groups := m.Universal.Basis()
		for _, b := range sep.bases {
			e.start += b.Cols
		}
		e.name, e.groups = m.Universal.Name, groups
		sep.bases = append(sep.bases, basis)
		e.weight = s.UniversalWeight
		switch {
		case e.weight == 0 && len(groups) == 1:
			e.weight = DefaultUniversalWeightOne
		case e.weight == 0:
			e.weight = DefaultUniversalWeight
		}
	}
	for _, sp := range m.Speakers {
		if sp.Name == e.name {
			return fmt.Errorf("speaker %s has the name of the extra source", sp.Name)
		}
	}
	if len(sep.bases)+min(e.free, 1) < 2 {
		return fmt.Errorf("the model has one speaker (%s) and no universal model: separating needs another source, free bases learned on the mixture or a universal model", m.Speakers[0].Name)
	}
	return nil
}

// Free returns the number of free bases learned on each mixture: the
// settings', or DefaultFree for a model of one speaker without a universal
// model; 0 for none.
func (sp *Separator) Free() int { return sp.extra.free }

// sources returns the number of separated sources.
func (sp *Separator) sources() int { return len(sp.bases) + min(sp.extra.free, 1) }

// infer returns H for Y and the bases whose activations are its row blocks,
// in source order: the model's speakers' (and the universal model's, with
// its group penalty), then the free bases learned on Y. With start (a
// coarse start's H, fixed bases only) the iterations continue from it, in
// place, rather than from Infer's start.
func (e *extraSource) infer(sp *Separator, w *work, Y *nmf.Dense[float32], s nmf.Settings, start *nmf.Dense[float32]) (*nmf.Dense[float32], []*nmf.Dense[float32], error) {
	if e.free == 0 {
		if e.groups != nil {
			// The penalty's weight follows the mixture's scale, so that
			// the balance with the data term does not depend on the level.
			var sum float64
			for i := 0; i < Y.Rows; i++ {
				for _, v := range Y.Data[i*Y.Stride : i*Y.Stride+Y.Cols] {
					sum += float64(v)
				}
			}
			s.Groups = nmf.GroupSparsity{Start: e.start, Sizes: e.groups, Lambda: e.weight * sum, Epsilon: 1e-6 * sum}
			H, _, err := nmf.Infer(sized(&w.H, sp.basis.Cols, Y.Cols), Y, sp.basis, s)
			return H, sp.bases, err
		}
		// The basis and settings are the separator's for every call on w:
		// the inference is planned once per work (live separation infers
		// a frame at a time, and building a solver per frame cost more
		// than its iterations).
		if w.inferer == nil {
			in, err := nmf.NewInferer(sp.basis, s)
			if err != nil {
				return nil, nil, err
			}
			w.inferer = in
		}
		if start != nil {
			_, err := w.inferer.Resume(start, Y)
			return start, sp.bases, err
		}
		H, _, err := w.inferer.Infer(sized(&w.H, sp.basis.Cols, Y.Cols), Y)
		return H, sp.bases, err
	}
	if e.free > Y.Cols {
		return nil, nil, fmt.Errorf("%d free bases for %d frames: at most one per frame of the mixture", e.free, Y.Cols)
	}
	f, _, err := nmf.InferFree(Y, sp.basis, e.free, s)
	if err != nil {
		return nil, nil, err
	}
	W := f.Layers[0]
	K := sp.basis.Cols
	bases := e.bases
	if w.bases == nil {
		w.bases = append([]*nmf.Dense[float32](nil), bases...)
	}
	bases = w.bases // this call's own copy: the free slot differs per call
	bases[len(bases)-1] = &nmf.Dense[float32]{Rows: W.Rows, Cols: e.free, Stride: W.Stride, Data: W.Data[K:]}
	return f.H, bases, nil
}
