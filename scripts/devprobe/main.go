// Command devprobe is the development probe behind the grids of
// docs/sweeps (size-select-grid.json): quick single-split measurements
// that suggest which configurations are worth a selection on validation
// data, never a result by themselves. Models are trained on the first
// -train sentences of TSP FA and MC at 16 kHz and scored on the 0 dB
// mixtures of their next -mixtures sentences (the i-th of FA with the i-th
// of MC); it prints the mean SDR of both speakers for each variant of the
// set -set names. The set k100 (the default):
//
//   - dictionary sizes K and patch widths T (sparsity 1, mask exponent 2);
//   - the mask exponent P and the inference sparsity on one K = 100, T = 5
//     model;
//   - an ensemble: the mean of the gains of three such models (seeds 0,
//     the zero value of the settings, 2 and 3);
//   - consistent phase reconstruction: Gunawan and Sen's multiple input
//     spectrogram inversion (MISI), which keeps each estimate's magnitude
//     and iterates its phase towards estimates that add up to the mixture.
//
// The set k400: around the K = 400, T = 5 model, K = 800 bases, patches of
// 3 and 7 frames, and the sparsity 0.5 and 2 in training and inference.
// The set pooled: the K = 400, T = 5 model inferred on every bin and on
// 513 to 64 mel-spaced bands (separation.SeparateSettings.Bands), for at
// most 200 and 50 iterations.
// The set coarse: that model on 128 bands (and 64, and every bin) from a
// coarse start of 50 to 200 iterations on 16 to 64 bands
// (separation.SeparateSettings.CoarseBands).
//
// The set recon: that model with discriminative reconstruction bases
// (separation.TrainReconstruction), trained on mixtures of the last fifth of
// the training sentences, the model on the rest (reconVariants has the
// sets reconiters, reconshare and reconlive, its live inference).
// A set takes 4 (pooled, coarse) to 20 minutes on two cores with OpenBLAS:
//
//	env $(scripts/cgo-env.sh) go run ./scripts/devprobe -tsp ../shared/corpus/tsp [-set k400|pooled|coarse|recon|reconiters|reconshare|reconlive]
package main

import (
	"context"
	"flag"
	"fmt"
	"math/cmplx"
	"os"
	"path/filepath"
	"slices"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/stft"
)

const rate = 16000

// variant is one row of the probe: the gains of its models are averaged.
type variant struct {
	name      string
	models    []*separation.Model
	power, l1 float64 // the mask exponent and the inference sparsity
	misi      int     // MISI iterations after the gains
	seps      []*separation.Separator
	bands     int // separation.SeparateSettings.Bands
	iters     int // the most inference iterations; 0: the default
	// separation.SeparateSettings.NMF's StepExponent (0: the model's) and
	// Tol (0: the default; negative: every iteration, as live runs them)
	step, tol float64
	// separation.SeparateSettings.CoarseBands and CoarseIters
	coarse, coarseIters int
}

func main() {
	tsp := flag.String("tsp", "../shared/corpus/tsp", "the TSP folder, with FA and MC inside")
	ntrain := flag.Int("train", 40, "training sentences per speaker")
	nmix := flag.Int("mixtures", 10, "mixtures scored")
	set := flag.String("set", "k100", "the variants: k100 (around K = 100), k400 (around K = 400), pooled (K = 400 inferred on bands), coarse (K = 400 on bands from a coarse start), recon (the validated preset with discriminative reconstruction bases) or reconiters (those for fewer iterations) or reconshare (the model on every training sentence, the bases on some of them)")
	flag.Parse()
	if err := run(*tsp, *ntrain, *nmix, *set); err != nil {
		fmt.Fprintln(os.Stderr, "devprobe:", err)
		os.Exit(1)
	}
}

func run(tsp string, ntrain, nmix int, set string) error {
	var sps []*corpus.Speaker
	for _, name := range []string{"FA", "MC"} {
		sp, err := corpus.LoadDir(name, filepath.Join(tsp, name), rate)
		if err != nil {
			return err
		}
		if len(sp.Utterances) < ntrain+nmix {
			return fmt.Errorf("%s has %d sentences, the probe needs %d", name, len(sp.Utterances), ntrain+nmix)
		}
		sps = append(sps, sp)
	}
	data := make([]separation.SpeakerData, len(sps))
	for i, sp := range sps {
		data[i].Name = sp.Name
		for _, u := range sp.Utterances[:ntrain] {
			data[i].Utterances = append(data[i].Utterances, u.Samples)
		}
	}
	train := func(k, patch int, l1 float64, seed uint64) (*separation.Model, error) {
		s := separation.TrainSettings{Method: separation.NMF, Sizes: []int{k}, Context: patch, Sparsity: l1, MaskPower: 2}
		s.NMF.Seed = seed
		fmt.Fprintf(os.Stderr, "training K = %d, T = %d, sparsity %g, seed %d\n", k, patch, l1, seed)
		m, _, err := separation.Train(context.Background(), data, nil, s)
		return m, err
	}
	variants := map[string]func(trainer) ([]variant, error){"k100": k100Variants, "k400": k400Variants, "pooled": pooledVariants, "coarse": coarseVariants}[set]
	var vs []variant
	var err error
	switch {
	case set == "recon" || set == "reconiters" || set == "reconshare" || set == "reconlive":
		vs, err = reconVariants(sps, ntrain, set)
	case variants == nil:
		return fmt.Errorf("no variant set %q: want k100, k400, pooled, coarse, recon, reconiters, reconshare or reconlive", set)
	default:
		vs, err = variants(train)
	}
	if err != nil {
		return err
	}

	// Each variant's separators are built once, for every mixture.
	for q := range vs {
		for _, m := range vs[q].models {
			mm := *m
			mm.Sparsity = vs[q].l1
			sp, err := separation.NewSeparator(&mm, separation.SeparateSettings{MaskPower: vs[q].power, Bands: vs[q].bands,
				CoarseBands: vs[q].coarse, CoarseIters: vs[q].coarseIters, NMF: nmf.Settings{MaxIter: vs[q].iters, StepExponent: vs[q].step, Tol: vs[q].tol}})
			if err != nil {
				return err
			}
			vs[q].seps = append(vs[q].seps, sp)
		}
	}
	plan, err := stft.NewPlan(separation.STFTAt(rate))
	if err != nil {
		return err
	}
	sum := make([]float64, len(vs))
	for i := ntrain; i < ntrain+nmix; i++ {
		mix, refs, err := corpus.Mix([][]float64{sps[0].Utterances[i].Samples, sps[1].Utterances[i].Samples}, 0)
		if err != nil {
			return err
		}
		spec := plan.Forward(nil, mix)
		Y := nmf.NewDense[float32](spec.Bins, spec.Frames, nil)
		for k, v := range spec.Data {
			Y.Data[k] = float32(cmplx.Abs(v))
		}
		bp, err := bsseval.NewPlan(refs, bsseval.Options{})
		if err != nil {
			return err
		}
		for q, v := range vs {
			gains, err := meanGains(v, Y)
			if err != nil {
				return err
			}
			r, err := bp.Evaluate(misi(plan, spec, mix, gains, v.misi))
			if err != nil {
				return err
			}
			sum[q] += (r.SDR[0] + r.SDR[1]) / 2
		}
		fmt.Fprintf(os.Stderr, "mixture %d of %d scored\n", i-ntrain+1, nmix)
	}
	fmt.Printf("mean SDR of FA and MC, %d mixtures of 0 dB; models trained on %d sentences each\n", nmix, ntrain)
	for q, v := range vs {
		fmt.Printf("%6.2f dB  %s\n", sum[q]/float64(nmix), v.name)
	}
	return nil
}

// trainer trains NMF with K bases of T-frame patches, sparsity l1 and the
// mask exponent 2, with the seed.
type trainer func(k, patch int, l1 float64, seed uint64) (*separation.Model, error)

// k100Variants is the probe behind size-select-grid.json: around the
// K = 100 configuration, the mask exponent, the inference sparsity, MISI,
// an ensemble of seeds, dictionary sizes and patch widths.
func k100Variants(train trainer) ([]variant, error) {
	var vs []variant
	base, err := train(100, 5, 1, 0)
	if err != nil {
		return nil, err
	}
	for _, p := range []float64{1.5, 2, 2.5, 3} {
		for _, l1 := range []float64{0.5, 1, 2} {
			vs = append(vs, variant{name: fmt.Sprintf("K = 100, T = 5, P = %g, inference lambda = %g", p, l1), models: []*separation.Model{base}, power: p, l1: l1})
		}
	}
	for _, it := range []int{1, 2, 5, 10, 25, 50} {
		vs = append(vs, variant{name: fmt.Sprintf("K = 100, T = 5, MISI %d iterations", it), models: []*separation.Model{base}, power: 2, l1: 1, misi: it})
	}
	ens := []*separation.Model{base}
	for seed := uint64(2); seed <= 3; seed++ {
		m, err := train(100, 5, 1, seed)
		if err != nil {
			return nil, err
		}
		ens = append(ens, m)
		vs = append(vs, variant{name: fmt.Sprintf("K = 100, T = 5, seed %d", seed), models: []*separation.Model{m}, power: 2, l1: 1})
	}
	vs = append(vs, variant{name: "K = 100, T = 5, ensemble of seeds 0, 2 and 3", models: ens, power: 2, l1: 1})
	for _, c := range []struct{ k, t int }{{100, 7}, {200, 5}, {400, 5}, {100, 1}, {200, 1}, {400, 1}, {800, 1}} {
		m, err := train(c.k, c.t, 1, 0)
		if err != nil {
			return nil, err
		}
		vs = append(vs, variant{name: fmt.Sprintf("K = %d, T = %d", c.k, c.t), models: []*separation.Model{m}, power: 2, l1: 1})
	}

	return vs, nil
}

// k400Variants is the probe around K = 400, T = 5: twice the bases, other
// patch widths and the training sparsity.
func k400Variants(train trainer) ([]variant, error) {
	var vs []variant
	for _, c := range []struct {
		k, t int
		l1   float64
	}{{400, 5, 1}, {800, 5, 1}, {400, 3, 1}, {400, 7, 1}, {400, 5, 0.5}, {400, 5, 2}} {
		m, err := train(c.k, c.t, c.l1, 0)
		if err != nil {
			return nil, err
		}
		vs = append(vs, variant{name: fmt.Sprintf("K = %d, T = %d, sparsity %g", c.k, c.t, c.l1), models: []*separation.Model{m}, power: 2, l1: c.l1})
	}
	return vs, nil
}

// pooledVariants is the probe of inference on bands
// (separation.SeparateSettings.Bands): the K = 400, T = 5 model's H
// inferred on the magnitude summed over bands evenly spaced on the mel
// scale, at most 200 or 50 iterations.
func pooledVariants(train trainer) ([]variant, error) {
	m, err := train(400, 5, 1, 0)
	if err != nil {
		return nil, err
	}
	var vs []variant
	for _, bands := range []int{0, 513, 256, 128, 64} {
		for _, iters := range []int{200, 50} {
			name := fmt.Sprintf("K = 400, T = 5, inferred on %d bands, at most %d iterations", bands, iters)
			if bands == 0 {
				name = fmt.Sprintf("K = 400, T = 5, inferred on every bin, at most %d iterations", iters)
			}
			vs = append(vs, variant{name: name, models: []*separation.Model{m}, power: 2, l1: 1, bands: bands, iters: iters})
		}
	}
	return vs, nil
}

// coarseVariants is the probe of a coarse start
// (separation.SeparateSettings.CoarseBands): the K = 400, T = 5 model
// inferred on 128 bands, from no start or from iterations on 32 to 64
// bands, and on every bin from 32.
func coarseVariants(train trainer) ([]variant, error) {
	m, err := train(400, 5, 1, 0)
	if err != nil {
		return nil, err
	}
	var vs []variant
	for _, c := range []struct{ coarse, coarseIters, bands, iters int }{
		{0, 0, 128, 200}, {0, 0, 128, 50}, {0, 0, 128, 25},
		{32, 100, 128, 25}, {32, 150, 128, 50}, {32, 200, 128, 25}, {32, 50, 128, 25}, {32, 100, 128, 10},
		{16, 100, 128, 25}, {48, 100, 128, 25}, {64, 100, 128, 25}, {32, 100, 64, 25}, {32, 100, 0, 25},
	} {
		name := fmt.Sprintf("K = 400, T = 5, %d iterations on %d bands", c.iters, c.bands)
		if c.bands == 0 {
			name = fmt.Sprintf("K = 400, T = 5, %d iterations on every bin", c.iters)
		}
		if c.coarse > 0 {
			name += fmt.Sprintf(" after %d on %d", c.coarseIters, c.coarse)
		}
		vs = append(vs, variant{name: name, models: []*separation.Model{m}, power: 2, l1: 1, bands: c.bands, iters: c.iters, coarse: c.coarse, coarseIters: c.coarseIters})
	}
	return vs, nil
}

// reconVariants is the probe of discriminative reconstruction bases
// (separation.TrainReconstruction): the validated preset trained on the
// first 80% of the training sentences, and the same model with its gains'
// bases trained on 0 dB mixtures of the other 20% (the i-th of FA with the
// i-th of MC, as the protocol pairs them, and also with the next three or
// seven of MC: four or eight times the mixtures), for 10 to 100 steps.
//
// The set reconiters: the model inferred for at most 25, 50 and 100
// iterations (its default), each without and with reconstruction bases
// trained for that inference (4 pairings, 25 steps). The set reconshare:
// the model trained on all the training sentences, without and with
// reconstruction bases (4 pairings, 25 steps) trained on mixtures of its
// last fifth, which the model has seen. The set reconlive: the model
// without and with reconstruction bases (4 pairings, 25 steps) trained for
// its offline inference, and with bases trained for the live default (50
// iterations of the usual update), each inferred offline and as a live
// stream infers (every iteration, no early stop: separation.Live equals
// it): 50 iterations of the usual update (the live default), and 50 and 25
// with the step exponent 1.5.
func reconVariants(sps []*corpus.Speaker, ntrain int, set string) ([]variant, error) {
	ngen := ntrain * 4 / 5
	if set == "reconshare" {
		ngen = ntrain
	}
	data := make([]separation.SpeakerData, len(sps))
	held := make([][]corpus.Utterance, len(sps))
	for i, sp := range sps {
		data[i].Name = sp.Name
		for _, u := range sp.Utterances[:ngen] {
			data[i].Utterances = append(data[i].Utterances, u.Samples)
		}
		held[i] = sp.Utterances[ntrain*4/5 : ntrain]
	}
	fmt.Fprintf(os.Stderr, "training the validated preset on %d sentences each\n", ngen)
	m, _, err := separation.Train(context.Background(), data, nil, separation.TrainSettings{ReconstructionBases: separation.ReconstructionNone}) // the plain preset: the probe trains its own
	if err != nil {
		return nil, err
	}
	plan, err := stft.NewPlan(separation.STFTAt(rate))
	if err != nil {
		return nil, err
	}
	mixtures := func(pairings int) ([]separation.DiscData, error) {
		md, err := corpus.DiscMixtures(held, 0, pairings)
		if err != nil {
			return nil, err
		}
		out := make([]separation.DiscData, len(md))
		for j, m := range md {
			out[j].Mixture = separation.Spectrogram(plan, m.Mixture)
			for _, r := range m.Sources {
				out[j].Sources = append(out[j].Sources, separation.Spectrogram(plan, r))
			}
		}
		return out, nil
	}
	type point struct{ shifts, epochs, frames, iters int }
	points := []point{{1, 25, 2000, 0}, {1, 100, 2000, 0}, {4, 25, 100000, 0}, {4, 100, 100000, 0}, {4, 10, 100000, 0}, {4, 50, 100000, 0}, {8, 25, 100000, 0}, {8, 50, 100000, 0}}
	var vs []variant
	switch set {
	case "reconiters":
		points = nil
		for _, n := range []int{25, 50, 100} {
			points = append(points, point{0, 0, 0, n}, point{4, 25, 100000, n})
		}
	case "reconshare":
		points = []point{{0, 0, 0, 0}, {4, 25, 100000, 0}}
	case "reconlive":
		return reconLiveVariants(m, mixtures)
	default:
		vs = append(vs, variant{name: "validated preset (bands 128, E = 1.5, 100 iterations)", models: []*separation.Model{m}, power: 2, l1: 1})
	}
	for _, c := range points {
		base := m
		if c.iters > 0 {
			b := *m
			b.SeparateIters = c.iters // the inference the bases are trained for
			base = &b
		}
		if c.shifts == 0 {
			vs = append(vs, variant{name: fmt.Sprintf("validated preset, at most %d iterations", base.SeparateIters), models: []*separation.Model{base}, power: 2, l1: 1})
			continue
		}
		dd, err := mixtures(c.shifts)
		if err != nil {
			return nil, err
		}
		mm, res, err := withReconstruction(base, dd, separation.DeepSettings{Epochs: c.epochs, MaxFrames: c.frames}, 0, 0)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "%d mixtures, %d frames, %d steps: SA cost %.4f -> %.4f (%d kept)\n", len(dd), res.Frames, c.epochs, res.Cost[0], res.Cost[len(res.Cost)-1], res.Accepted)
		vs = append(vs, variant{name: fmt.Sprintf("with reconstruction bases: %d mixtures (%d frames), %d steps, at most %d iterations", len(dd), res.Frames, c.epochs, mm.SeparateIters),
			models: []*separation.Model{mm}, power: 2, l1: 1})
	}
	return vs, nil
}

// meanGains returns the mean of v's models' gains on the magnitude Y, each
// model inferred with v's sparsity and mask exponent.
func meanGains(v variant, Y *nmf.Dense[float32]) ([][]float32, error) {
	var mean [][]float32
	w := 1 / float32(len(v.seps)) // each model's share of the mean
	for _, sp := range v.seps {
		g, err := sp.Gains(Y)
		if err != nil {
			return nil, err
		}
		if mean == nil {
			mean = make([][]float32, len(g))
		}
		for j := range g {
			if mean[j] == nil {
				mean[j] = make([]float32, g[j].Rows*g[j].Cols)
			}
			for b := 0; b < g[j].Rows; b++ {
				for t := 0; t < g[j].Cols; t++ {
					mean[j][b*g[j].Cols+t] += w * g[j].Data[b*g[j].Stride+t]
				}
			}
		}
	}
	return mean, nil
}

// misi resynthesises each source from its gains on the mixture X (of x),
// then runs iters iterations of MISI: each estimate takes an equal share
// of what the estimates miss of the mixture, and its STFT keeps its phase
// with the gained magnitude; iters 0 is plain masking.
func misi(plan *stft.Plan, X *stft.Spectrogram, x []float64, gains [][]float32, iters int) [][]float64 {
	J := len(gains)
	target := make([][]float64, J)
	Ys := make([]*stft.Spectrogram, J)
	s := make([][]float64, J)
	for j, g := range gains {
		target[j] = make([]float64, len(X.Data))
		Ys[j] = &stft.Spectrogram{Bins: X.Bins, Frames: X.Frames, Data: make([]complex128, len(X.Data))}
		for k, v := range X.Data {
			target[j][k] = float64(g[k]) * cmplx.Abs(v)
			Ys[j].Data[k] = complex(float64(g[k]), 0) * v
		}
		s[j] = plan.Inverse(nil, Ys[j], len(x))
	}
	share := func() {
		for n := range x {
			e := x[n]
			for j := range s {
				e -= s[j][n]
			}
			for j := range s {
				s[j][n] += e / float64(J)
			}
		}
	}
	for it := 0; it < iters; it++ {
		share()
		for j := range s {
			Z := plan.Forward(nil, s[j])
			for k, z := range Z.Data {
				if a := cmplx.Abs(z); a > 0 {
					Ys[j].Data[k] = complex(target[j][k]/a, 0) * z
				} else {
					Ys[j].Data[k] = complex(target[j][k], 0)
				}
			}
			s[j] = plan.Inverse(s[j], Ys[j], len(x))
		}
	}
	if iters > 0 {
		share()
	}
	return s
}

// reconLiveVariants is the set reconlive (reconVariants) on the model m
// and its held-back mixtures.
func reconLiveVariants(m *separation.Model, mixtures func(shifts int) ([]separation.DiscData, error)) ([]variant, error) {
	dd, err := mixtures(4)
	if err != nil {
		return nil, err
	}
	type inference struct {
		name      string
		iters     int
		step, tol float64
	}
	infs := []inference{{"offline (its default)", 0, 0, 0}, {"live default: 50 of the usual update", 50, 1, -1}, {"live, 50 with E = 1.5", 50, 1.5, -1}, {"live, 25 with E = 1.5", 25, 1.5, -1}}
	var vs []variant
	add := func(name string, mm *separation.Model) {
		for _, f := range infs {
			vs = append(vs, variant{name: name + ", " + f.name, models: []*separation.Model{mm}, power: 2, l1: 1, iters: f.iters, step: f.step, tol: f.tol})
		}
	}
	add("validated preset", m)
	for _, c := range []struct {
		name  string
		step  float64
		iters int
	}{{"reconstruction bases for its offline inference", 0, 0}, {"reconstruction bases for 50 of the usual update", 1, 50}} {
		mm, res, err := withReconstruction(m, dd, separation.DeepSettings{Epochs: 25}, c.step, c.iters)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "%s: %d frames, SA cost %.4f -> %.4f\n", c.name, res.Frames, res.Cost[0], res.Cost[len(res.Cost)-1])
		add(c.name, mm)
	}
	return vs, nil
}

// withReconstruction returns a copy of m with reconstruction bases trained
// on dd with s for the inference of at most iters iterations with the step
// exponent step (zero: m's own; TrainReconstruction infers with the model's
// step exponent and count and the default tolerance). The copy infers as m
// does.
func withReconstruction(m *separation.Model, dd []separation.DiscData, s separation.DeepSettings, step float64, iters int) (*separation.Model, separation.DeepResult, error) {
	mm := *m
	mm.Speakers = slices.Clone(m.Speakers)
	if step > 0 {
		mm.StepExponent = step
	}
	if iters > 0 {
		mm.SeparateIters = iters
	}
	res, err := separation.TrainReconstruction(context.Background(), &mm, dd, s)
	mm.StepExponent, mm.SeparateIters = m.StepExponent, m.SeparateIters
	return &mm, res, err
}
