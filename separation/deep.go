package separation

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/dlnmf/dlnmf/internal/openblas"
	"github.com/dlnmf/dlnmf/nmf"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// Deep unfolding (Hershey, Le Roux and Weninger 2014, "Deep unfolding";
// Le Roux, Hershey and Weninger, ICASSP 2015): the model's inference, N
// iterations of the KL multiplicative update of H with its L1 penalty
// (eq. 11), is read as a network of N layers,
//
//	H_k = H_(k-1) * W_k^T (X / W_k H_(k-1)) / (W_k^T 1 + lambda),
//
// H_0 being Infer's start (nmf.StartH, seed 0). The first N - U layers use
// the model's analysis bases W (the product of each speaker's layers, side
// by side), which stay as trained; the last U layers have their own bases
// W_k, and the Wiener gains their own reconstruction bases W^r (the
// speakers' V_s = W^r_s H_N,s, folded from patches to frames). Both start
// as W and are trained on mixtures of the speakers' training speech by
// back-propagation through the N updates, in float64. With U = 0 this is
// discriminative NMF (Weninger, Le Roux, Hershey and Watanabe, Interspeech
// 2014): analysis bases for inference, reconstruction bases trained for the
// Wiener-filtered estimate.
//
// The objective is the signal approximation (SA) of Erdogan et al. (2015):
// sum_s || M_s * Y - S_s ||^2 over the mixtures' bins and frames, M_s the
// mask the separator applies (V_s^p / sum_r V_r^p), Y and S_s the
// magnitudes of the mixture and of speaker s's source. It is the squared
// error of the Wiener-filtered estimate's magnitude, which is what the
// model changes: the phase is the mixture's whatever the bases. The
// phase-sensitive cost (PSA) would replace |S_s| by |S_s| cos(theta_s -
// theta_y) and so needs the sources' and mixture's phases, which the
// training set does not keep (it holds magnitudes, as every other method
// trains on); SA is the cost of the deep NMF paper's experiments as well.
//
// The bases stay non-negative by multiplicative gradient steps, as the
// paper's eqs. 13-17 do for DL-NMF: the gradient is carried through the
// network as a difference of two non-negative parts, grad = P - Q (every
// product of non-negative factors keeps its sign, every minus swaps the
// parts), and a step sets W <- W * (Q / P)^eta. A step whose cost rises is
// undone and eta halved; training stops after DeepSettings.Epochs steps or
// when eta falls below 1/64.

// MaxUnfold is the largest number of unfolded inference iterations.
const MaxUnfold = 1000

// Defaults of DeepSettings.
const (
	// DefaultDeepEpochs is the number of gradient steps (each over all
	// the training frames).
	DefaultDeepEpochs = 25
	// DefaultDeepFrames bounds the training frames: whole mixtures are
	// taken in order until they hold this many frames. Every step costs
	// about six products of the (T x bins) x K bases with a frames-wide
	// matrix per layer, in float64.
	DefaultDeepFrames = 2000
	// DefaultReconstructionFrames bounds TrainReconstruction's training
	// frames: with no layers a step costs about six products of the (T x
	// bins) x K bases with a frames-wide matrix, and the frames-wide
	// buffers take about 3 x 8 x T x bins bytes per frame (1.2 GB at 20000
	// frames of 5 x 513 rows).
	DefaultReconstructionFrames = 20000
)

// CheckUnfold rejects an unfold count outside 0 to MaxUnfold and an untied
// count outside 0 to the unfold count.
func CheckUnfold(unfold, untied int) error {
	if unfold < 0 || unfold > MaxUnfold {
		return fmt.Errorf("unfold %d: want 0 (no unfolding) to %d inference iterations", unfold, MaxUnfold)
	}
	if untied < 0 || untied > unfold {
		return fmt.Errorf("untied %d: want 0 to the unfolded iterations (%d)", untied, unfold)
	}
	return nil
}

// DeepSettings control DeepUnfold and TrainReconstruction.
type DeepSettings struct {
	Unfold    int          // N, the unfolded inference iterations (1 to MaxUnfold)
	Untied    int          // U, the last layers with their own bases (0 to N)
	Epochs    int          // gradient steps; 0: DefaultDeepEpochs
	MaxFrames int          // training frames; 0: DefaultDeepFrames (TrainReconstruction: DefaultReconstructionFrames)
	Recorder  nmf.Recorder // StageDeepStep events; nil: none
}

// StageDeepStep is the stage of DeepUnfold's events: Iter is the step,
// Cost the SA cost relative to the sources' energy after it.
const StageDeepStep nmf.Stage = "deep-step"

// DeepResult reports the training of DeepUnfold or TrainReconstruction.
type DeepResult struct {
	Cost     []float64 // SA cost over the sources' energy: before the first step, then after each accepted one
	Accepted int       // steps kept
	Frames   int       // training frames used
	Mixtures int       // training mixtures used (the first Mixtures of the data)
}

// DeepUnfold trains m's unfolded and reconstruction bases on the mixtures
// data (spectrograms of single frames; speakers in model order) and
// records them in m: see the comment at the top of deep.go.
func DeepUnfold(ctx context.Context, m *Model, data []DiscData, s DeepSettings) (DeepResult, error) {
	if err := CheckUnfold(s.Unfold, s.Untied); err != nil {
		return DeepResult{}, err
	}
	if s.Unfold == 0 {
		return DeepResult{}, errors.New("deep unfolding needs 1 or more unfolded iterations")
	}
	s, err := checkDeep(m, data, s, "deep unfolding")
	if err != nil {
		return DeepResult{}, err
	}
	net, err := newDeepNet(m, data, s)
	if err != nil {
		return DeepResult{}, err
	}
	res, err := net.train(ctx, s)
	if err != nil {
		return res, err
	}
	net.store(m)
	m.Unfold = s.Unfold
	m.Bands = 0 // the unfolded layers were trained on every bin
	// and for exactly Unfold iterations of the usual update.
	m.StepExponent, m.SeparateIters = 0, 0
	m.Training.record(s, res)
	return res, nil
}

// TrainReconstruction trains reconstruction bases for m's own inference
// and records them in m: discriminative NMF as Weninger, Le Roux, Hershey
// and Watanabe (Interspeech 2014) train it, the activations inferred with
// the analysis bases to convergence. H is what separation infers on each
// of the mixtures data (single frames' spectrograms; speakers in model
// order) with m's defaults (its bands, step exponent and iterations),
// held fixed; the bases of the Wiener gains start as the speakers' bases
// and are trained on the SA cost by the multiplicative gradient steps of
// DeepUnfold (the comment at the top of deep.go), whose U = 0 trains the
// same bases for N unfolded iterations instead. The analysis bases, and so
// inference and its speed, stay as they were. s.Unfold and s.Untied must
// be 0.
func TrainReconstruction(ctx context.Context, m *Model, data []DiscData, s DeepSettings) (DeepResult, error) {
	if s.Unfold != 0 || s.Untied != 0 {
		return DeepResult{}, errors.New("discriminative reconstruction bases are trained for the model's own inference: no unfolded or untied iterations")
	}
	if s.MaxFrames == 0 {
		s.MaxFrames = DefaultReconstructionFrames
	}
	s, err := checkDeep(m, data, s, "discriminative training")
	if err != nil {
		return DeepResult{}, err
	}
	if m.deep() || m.HasReconstructionBases() {
		return DeepResult{}, errors.New("discriminative training: the model has reconstruction bases already")
	}
	sep, err := NewSeparator(m, SeparateSettings{})
	if err != nil {
		return DeepResult{}, err
	}
	net, err := newDeepNet(m, data, s)
	if err != nil {
		return DeepResult{}, err
	}
	if err := net.inferFixed(ctx, sep, data); err != nil {
		return DeepResult{}, err
	}
	res, err := net.train(ctx, s)
	if err != nil {
		return res, err
	}
	net.store(m)
	m.Training.record(s, res)
	return res, nil
}

// inferFixed sets H_0 to what sep infers on each of net's mixtures (the
// first of data), to stay fixed.
func (net *deepNet) inferFixed(ctx context.Context, sep *Separator, data []DiscData) error {
	defer openblas.HoldSingle()() // see blas.go
	w := &work{}
	for j := 0; j+1 < len(net.segs); j++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		H, _, err := sep.analysis(w, sep.unfold(w, data[j].Mixture), false)
		if err != nil {
			return err
		}
		dst := cols64(net.H[0], net.segs[j], net.segs[j+1])
		for i := 0; i < H.Rows; i++ {
			for t, v := range H.Data[i*H.Stride : i*H.Stride+H.Cols] {
				dst.Data[i*dst.Stride+t] = float64(v)
			}
		}
	}
	net.fixedH = true
	return nil
}

// checkDeep checks what DeepUnfold and TrainReconstruction (what) share
// and returns s with its defaults.
func checkDeep(m *Model, data []DiscData, s DeepSettings, what string) (DeepSettings, error) {
	if s.Epochs == 0 {
		s.Epochs = DefaultDeepEpochs
	}
	if s.MaxFrames == 0 {
		s.MaxFrames = DefaultDeepFrames
	}
	if s.Epochs < 0 || s.MaxFrames < 0 {
		return s, fmt.Errorf("%s: epochs and frames must not be negative", what)
	}
	if err := m.Validate(); err != nil {
		return s, err
	}
	if len(m.Speakers) < 2 {
		return s, fmt.Errorf("%s needs at least 2 speakers, the model has %d", what, len(m.Speakers))
	}
	if m.Divergence != nmf.KullbackLeibler || m.Universal != nil {
		return s, fmt.Errorf("%s takes a model of the KL divergence without a universal model", what)
	}
	if len(data) == 0 {
		return s, fmt.Errorf("%s needs training mixtures, got none", what)
	}
	return s, nil
}

// train runs the gradient steps on net's parameters: at most s.Epochs, a
// step whose cost rises undone and the step size halved, until it falls
// below 1/64.
func (net *deepNet) train(ctx context.Context, s DeepSettings) (DeepResult, error) {
	res := DeepResult{Frames: net.frames, Mixtures: len(net.segs) - 1}
	cur := net.forward()
	net.backward()
	res.Cost = append(res.Cost, cur/net.energy)
	eta := 1.0
	for step := 1; step <= s.Epochs && eta >= 1.0/64; step++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		saved := net.saveParams()
		net.step(eta)
		next := net.forward()
		if !(next < cur) {
			net.restoreParams(saved)
			eta /= 2
			continue
		}
		cur = next
		net.backward()
		res.Cost = append(res.Cost, cur/net.energy)
		res.Accepted++
		if s.Recorder != nil {
			s.Recorder.Record(nmf.Event{Stage: StageDeepStep, Iter: step, Cost: cur / net.energy})
		}
	}
	return res, nil
}

// deepNet is the unfolded inference of a model on its training frames,
// with the gradients of the SA cost, all in float64.
type deepNet struct {
	n, untied  int
	fixedH     bool // H_0 is given (TrainReconstruction), not Infer's start
	context    int
	lambda     float64
	power      float64
	eps        float64
	cols       []int // bases per speaker
	frames     int
	segs       []int // first column of each mixture, then frames
	X          blas64.General
	Y          blas64.General   // bins x frames
	S          []blas64.General // per speaker, bins x frames
	energy     float64          // sum of S_s^2
	analysis   blas64.General   // rows x K, fixed
	params     []blas64.General // the untied layers' bases, then the reconstruction bases
	grads      [][2]blas64.General
	H          []blas64.General // H_0 ... H_N
	V, M       []blas64.General // per speaker: folded V_s and mask M_s
	Z          blas64.General   // sum_r V_r^p
	bufV, bufR blas64.General
	bufA       [2]blas64.General
	bufB       [2]blas64.General
	G, gH      [2]blas64.General
}

func newGeneral(r, c int) blas64.General {
	return blas64.General{Rows: r, Cols: c, Stride: c, Data: make([]float64, r*c)}
}

func toGeneral(d *nmf.Dense[float64]) blas64.General {
	return blas64.General{Rows: d.Rows, Cols: d.Cols, Stride: d.Stride, Data: d.Data}
}

func toDense(g blas64.General) *nmf.Dense[float64] {
	return &nmf.Dense[float64]{Rows: g.Rows, Cols: g.Cols, Stride: g.Stride, Data: g.Data}
}

// cols64 returns columns [j0, j1) of g as a view.
func cols64(g blas64.General, j0, j1 int) blas64.General {
	if j1 == j0 {
		return blas64.General{Rows: g.Rows, Stride: g.Stride}
	}
	return blas64.General{Rows: g.Rows, Cols: j1 - j0, Stride: g.Stride, Data: g.Data[j0 : (g.Rows-1)*g.Stride+j1]}
}

// rows64 returns rows [i0, i1) of g as a view.
func rows64(g blas64.General, i0, i1 int) blas64.General {
	return blas64.General{Rows: i1 - i0, Cols: g.Cols, Stride: g.Stride, Data: g.Data[i0*g.Stride : (i1-1)*g.Stride+g.Cols]}
}

// gemm64 sets c = op(a) op(b) + beta c.
func gemm64(ta, tb bool, a, b blas64.General, beta float64, c blas64.General) {
	tA, tB := blas.NoTrans, blas.NoTrans
	if ta {
		tA = blas.Trans
	}
	if tb {
		tB = blas.Trans
	}
	blas64.Gemm(tA, tB, 1, a, b, beta, c)
}

func to64(d *nmf.Dense[float32]) blas64.General {
	return toGeneral(nmf.Convert[float32, float64](nil, d))
}

func newDeepNet(m *Model, data []DiscData, s DeepSettings) (*deepNet, error) {
	T := m.context()
	net := &deepNet{n: s.Unfold, untied: s.Untied, context: T, lambda: m.Sparsity, power: m.maskPower(), eps: nmf.DefaultEpsilon}
	var mixes, patches []*nmf.Dense[float32]
	sources := make([][]*nmf.Dense[float32], len(m.Speakers))
	for j, d := range data {
		if len(d.Sources) != len(m.Speakers) {
			return nil, fmt.Errorf("training mixture %d has %d sources for %d speakers", j+1, len(d.Sources), len(m.Speakers))
		}
		net.segs = append(net.segs, net.frames)
		mixes = append(mixes, d.Mixture)
		if s.Unfold > 0 { // no layers (TrainReconstruction): H_0 is given
			patches = append(patches, nmf.Unfold(nil, d.Mixture, T))
		}
		for i, src := range d.Sources {
			if src.Rows != d.Mixture.Rows || src.Cols != d.Mixture.Cols {
				return nil, fmt.Errorf("training mixture %d: source %d is %dx%d, the mixture %dx%d", j+1, i+1, src.Rows, src.Cols, d.Mixture.Rows, d.Mixture.Cols)
			}
			sources[i] = append(sources[i], src)
		}
		net.frames += d.Mixture.Cols
		if net.frames >= s.MaxFrames {
			break
		}
	}
	net.segs = append(net.segs, net.frames)
	net.Y = to64(Concat(mixes))
	if s.Unfold > 0 {
		net.X = to64(Concat(patches))
	}
	for i := range sources {
		S := to64(Concat(sources[i]))
		net.S = append(net.S, S)
		for _, v := range S.Data {
			net.energy += v * v
		}
	}
	if net.energy == 0 {
		return nil, errors.New("deep unfolding: the training sources are silent")
	}
	bases := make([]*nmf.Dense[float32], len(m.Speakers))
	for i := range m.Speakers {
		bases[i] = m.Speakers[i].Basis()
		net.cols = append(net.cols, bases[i].Cols)
	}
	net.analysis = to64(nmf.HConcat(nil, bases...))
	rows, K, F := net.analysis.Rows, net.analysis.Cols, net.frames
	for range s.Untied + 1 {
		p := newGeneral(rows, K)
		copy(p.Data, net.analysis.Data)
		net.params = append(net.params, p)
		net.grads = append(net.grads, [2]blas64.General{newGeneral(rows, K), newGeneral(rows, K)})
	}
	for range s.Unfold + 1 {
		net.H = append(net.H, newGeneral(K, F))
	}
	bins := net.Y.Rows
	for range m.Speakers {
		net.V = append(net.V, newGeneral(bins, F))
		net.M = append(net.M, newGeneral(bins, F))
	}
	net.Z = newGeneral(bins, F)
	net.bufV = newGeneral(rows, F)
	if s.Unfold > 0 {
		net.bufR = newGeneral(rows, F)
	}
	for i := range 2 {
		net.bufA[i], net.bufB[i] = newGeneral(K, F), newGeneral(rows, F)
		net.G[i], net.gH[i] = newGeneral(K, F), newGeneral(K, F)
	}
	return net, nil
}

// basis returns the bases of layer k (1 to N).
func (net *deepNet) basis(k int) blas64.General {
	if u := k - (net.n - net.untied); u > 0 {
		return net.params[u-1]
	}
	return net.analysis
}

func (net *deepNet) recon() blas64.General { return net.params[len(net.params)-1] }

// ratio sets V = W Hp and R = X / max(V, eps).
func (net *deepNet) ratio(W, Hp blas64.General) {
	gemm64(false, false, W, Hp, 0, net.bufV)
	for i, v := range net.bufV.Data {
		net.bufR.Data[i] = net.X.Data[i] / max(v, net.eps)
	}
}

// denominators returns max(colsum(W) + lambda, eps) per column.
func (net *deepNet) denominators(W blas64.General) []float64 {
	d := make([]float64, W.Cols)
	for i := 0; i < W.Rows; i++ {
		for j, v := range W.Data[i*W.Stride : i*W.Stride+W.Cols] {
			d[j] += v
		}
	}
	for j := range d {
		d[j] = max(d[j]+net.lambda, net.eps)
	}
	return d
}

// forward runs the N layers and the masks and returns the SA cost.
func (net *deepNet) forward() float64 {
	if !net.fixedH {
		nmf.StartH(toDense(net.H[0]), toDense(net.X), toDense(net.analysis), 0)
	}
	N := net.bufA[0] // W^T R
	for k := 1; k <= net.n; k++ {
		W, Hp, Hn := net.basis(k), net.H[k-1], net.H[k]
		net.ratio(W, Hp)
		gemm64(true, false, W, net.bufR, 0, N)
		d := net.denominators(W)
		for i := 0; i < Hn.Rows; i++ {
			for t := 0; t < Hn.Cols; t++ {
				Hn.Data[i*Hn.Stride+t] = Hp.Data[i*Hp.Stride+t] * N.Data[i*N.Stride+t] / d[i]
			}
		}
	}
	// The speakers' reconstructions, folded, and the masks.
	Wr, HN := net.recon(), net.H[net.n]
	clear(net.Z.Data)
	off := 0
	for s, k := range net.cols {
		P := cols64(net.bufV, 0, net.frames)
		gemm64(false, false, cols64(Wr, off, off+k), rows64(HN, off, off+k), 0, P)
		net.fold(net.V[s], P)
		for i, v := range net.V[s].Data {
			net.Z.Data[i] += math.Pow(v, net.power)
		}
		off += k
	}
	var loss float64
	for s := range net.cols {
		for i, v := range net.V[s].Data {
			mk := 1 / float64(len(net.cols))
			if z := net.Z.Data[i]; z > 0 {
				mk = math.Pow(v, net.power) / z
			}
			net.M[s].Data[i] = mk
			e := mk*net.Y.Data[i] - net.S[s].Data[i]
			loss += e * e
		}
	}
	return loss
}

// fold sets dst (bins x frames) to nmf.Fold of each mixture's columns of P.
func (net *deepNet) fold(dst, P blas64.General) {
	for j := 0; j+1 < len(net.segs); j++ {
		a, b := net.segs[j], net.segs[j+1]
		nmf.Fold(toDense(cols64(dst, a, b)), toDense(cols64(P, a, b)), net.context)
	}
}

// foldAdjoint sets dst (T bins x frames) to the transpose of fold applied
// to g: each patch row gets the share of the frame it holds.
func (net *deepNet) foldAdjoint(dst, g blas64.General) {
	T, c, M := net.context, (net.context-1)/2, g.Rows
	for j := 0; j+1 < len(net.segs); j++ {
		a, b := net.segs[j], net.segs[j+1]
		n := b - a
		for tau := range T {
			for m := range M {
				out := dst.Data[(tau*M+m)*dst.Stride+a : (tau*M+m)*dst.Stride+b]
				in := g.Data[m*g.Stride+a : m*g.Stride+b]
				for tp := range out {
					out[tp] = 0
					if t := tp + tau - c; t >= 0 && t < n {
						cnt := min(t+c, n-1) - max(t-c, 0) + 1
						out[tp] = in[t] / float64(cnt)
					}
				}
			}
		}
	}
}

// backward sets grads to the two parts of the SA cost's gradient with
// respect to params, at the state of the last forward.
func (net *deepNet) backward() {
	for _, g := range net.grads {
		clear(g[0].Data)
		clear(g[1].Data)
	}
	p, ns := net.power, len(net.cols)
	bins, F := net.Y.Rows, net.frames
	// dL/dM_s = 2 (M_s Y - S_s) Y, as E+ - E-; sums of E-+ M over speakers.
	sumPM, sumNM := newGeneral(bins, F), newGeneral(bins, F)
	for s := range ns {
		for i, mk := range net.M[s].Data {
			y := net.Y.Data[i]
			sumPM.Data[i] += 2 * mk * y * y * mk
			sumNM.Data[i] += 2 * net.S[s].Data[i] * y * mk
		}
	}
	Wr, HN := net.recon(), net.H[net.n]
	gWr := net.grads[len(net.grads)-1]
	dV := [2]blas64.General{newGeneral(bins, F), newGeneral(bins, F)}
	off := 0
	for s, k := range net.cols {
		for i, v := range net.V[s].Data {
			z := net.Z.Data[i]
			if !(z > 0) {
				dV[0].Data[i], dV[1].Data[i] = 0, 0
				continue
			}
			f := p * math.Pow(v, p-1) / z
			mk, y := net.M[s].Data[i], net.Y.Data[i]
			ep, en := 2*mk*y*y, 2*net.S[s].Data[i]*y
			dV[0].Data[i] = f * (ep + sumNM.Data[i])
			dV[1].Data[i] = f * (en + sumPM.Data[i])
		}
		for h := range 2 {
			dP := cols64(net.bufB[h], 0, F)
			net.foldAdjoint(dP, dV[h])
			gemm64(false, true, dP, rows64(HN, off, off+k), 0, cols64(gWr[h], off, off+k))
			gemm64(true, false, cols64(Wr, off, off+k), dP, 0, rows64(net.G[h], off, off+k))
		}
		off += k
	}
	for k := net.n; k >= 1; k-- {
		W, Hp, Hn := net.basis(k), net.H[k-1], net.H[k]
		u := k - (net.n - net.untied)
		net.ratio(W, Hp)
		N := net.gH[0] // W^T R, overwritten below after use
		gemm64(true, false, W, net.bufR, 0, N)
		d := net.denominators(W)
		K := Hp.Rows
		var dD [2][]float64
		if u > 0 {
			dD = [2][]float64{make([]float64, K), make([]float64, K)}
		}
		for i := range K {
			for t := range F {
				at := i*F + t
				for h := range 2 {
					g := net.G[h].Data[at]
					net.bufA[h].Data[at] = g * Hp.Data[at] / d[i]
					if u > 0 {
						dD[1-h][i] += g * Hn.Data[at] / d[i]
					}
				}
			}
		}
		// The direct part of dL/dH_(k-1): G * N / d, into G (N is used up).
		for i := range K {
			for t := range F {
				at := i*F + t
				nd := N.Data[at] / d[i]
				net.G[0].Data[at] *= nd
				net.G[1].Data[at] *= nd
			}
		}
		for h := range 2 {
			gemm64(false, false, W, net.bufA[h], 0, net.bufB[h])
		}
		if u > 0 {
			for h := range 2 {
				gemm64(false, true, net.bufR, net.bufA[h], 1, net.grads[u-1][h])
			}
		}
		// dL/dV = -(W A) X / V^2: the parts swap.
		for i, v := range net.bufV.Data {
			f := 0.0
			if v >= net.eps {
				f = net.bufR.Data[i] / v
			}
			b0, b1 := net.bufB[0].Data[i], net.bufB[1].Data[i]
			net.bufB[0].Data[i], net.bufB[1].Data[i] = b1*f, b0*f
		}
		for h := range 2 {
			gemm64(true, false, W, net.bufB[h], 1, net.G[h])
			if u > 0 {
				gemm64(false, true, net.bufB[h], Hp, 1, net.grads[u-1][h])
			}
		}
		if u > 0 {
			for h := range 2 {
				g := net.grads[u-1][h]
				for i := 0; i < g.Rows; i++ {
					row := g.Data[i*g.Stride : i*g.Stride+g.Cols]
					for j := range row {
						if d[j] > net.eps {
							row[j] += dD[h][j]
						}
					}
				}
			}
		}
	}
}

// step sets every parameter W to W * (Q / P)^eta, the gradient being P - Q.
func (net *deepNet) step(eta float64) {
	for j, w := range net.params {
		P, Q := net.grads[j][0].Data, net.grads[j][1].Data
		for i, v := range w.Data {
			if v == 0 || P[i] == Q[i] {
				continue
			}
			r := Q[i] / P[i]
			if !(r < 1e3) {
				r = 1e3 // P = 0: the cost falls as W grows
			}
			r = max(r, 1e-3)
			if eta != 1 {
				r = math.Pow(r, eta)
			}
			w.Data[i] = v * r
		}
	}
}

func (net *deepNet) saveParams() [][]float64 {
	out := make([][]float64, len(net.params))
	for i, p := range net.params {
		out[i] = append([]float64(nil), p.Data...)
	}
	return out
}

func (net *deepNet) restoreParams(saved [][]float64) {
	for i, p := range net.params {
		copy(p.Data, saved[i])
	}
}

// store writes the trained bases into the speakers of m.
func (net *deepNet) store(m *Model) {
	off := 0
	for s, k := range net.cols {
		sp := &m.Speakers[s]
		sp.Untied = nil
		for _, p := range net.params[:net.untied] {
			sp.Untied = append(sp.Untied, to32(cols64(p, off, off+k)))
		}
		sp.Reconstruction = to32(cols64(net.recon(), off, off+k))
		off += k
	}
}

// record keeps the gradient steps' settings and outcome in the training
// record.
func (t *Training) record(s DeepSettings, res DeepResult) {
	t.DeepEpochs, t.DeepAccepted, t.DeepCost, t.DeepFrames = s.Epochs, res.Accepted, res.Cost, res.Frames
	if t.Mixtures == 0 { // DL-NMF's rounds record their own
		t.Mixtures = res.Mixtures
	}
}

func to32(g blas64.General) *nmf.Dense[float32] {
	out := nmf.NewDense[float32](g.Rows, g.Cols, nil)
	for i := 0; i < g.Rows; i++ {
		for j, v := range g.Data[i*g.Stride : i*g.Stride+g.Cols] {
			out.Data[i*g.Cols+j] = float32(v)
		}
	}
	return out
}

// deepInference is a Separator's inference with a deep-unfolded model:
// exactly N iterations, offline and live, the first N - U with the
// analysis bases, then one with each untied layer's bases (the fused
// solver, planned once per work for each). Its gains use the model's
// reconstruction bases (Separator.recon).
type deepInference struct {
	tied     int                   // N - U
	untied   []*nmf.Dense[float32] // per untied layer, the speakers' bases side by side
	settings nmf.Settings
}

func newDeepInference(m *Model, base nmf.Settings) *deepInference {
	d := &deepInference{tied: m.Unfold - len(m.Speakers[0].Untied)}
	for u := range m.Speakers[0].Untied {
		bs := make([]*nmf.Dense[float32], len(m.Speakers))
		for i := range m.Speakers {
			bs[i] = m.Speakers[i].Untied[u]
		}
		d.untied = append(d.untied, nmf.HConcat(nil, bs...))
	}
	// The layers were trained from Infer's start with seed 0, for exactly
	// their iterations: no tolerance, no cost.
	base.Seed, base.Tol, base.NoCost, base.Recorder = 0, -1, true, nil
	d.settings = base
	return d
}

// infer returns H after the N unfolded iterations on X, in w.H.
func (d *deepInference) infer(sp *Separator, w *work, X *nmf.Dense[float32]) (*nmf.Dense[float32], error) {
	H := sized(&w.H, sp.basis.Cols, X.Cols)
	if d.tied > 0 {
		if w.inferer == nil {
			s := d.settings
			s.MaxIter = d.tied
			in, err := nmf.NewInferer(sp.basis, s)
			if err != nil {
				return nil, err
			}
			w.inferer = in
		}
		if _, _, err := w.inferer.Infer(H, X); err != nil {
			return nil, err
		}
	} else {
		nmf.StartH(H, X, sp.basis, 0)
	}
	if w.untied == nil {
		one := d.settings
		one.MaxIter = 1
		for _, W := range d.untied {
			in, err := nmf.NewInferer(W, one)
			if err != nil {
				return nil, err
			}
			w.untied = append(w.untied, in)
		}
	}
	for _, in := range w.untied {
		if _, err := in.Resume(H, X); err != nil {
			return nil, err
		}
	}
	return H, nil
}
