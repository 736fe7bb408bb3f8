package bsseval

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/dlnmf/dlnmf/internal/fft"

	_ "github.com/dlnmf/dlnmf/internal/openblas" // OpenBLAS behind the Cholesky in cgo builds
)

// A Plan holds what BSS Eval needs from a set of references: their spectra
// and the factorised Gram matrices of their delayed copies. Build it once
// and evaluate any number of estimates (the outputs of several separation
// methods, say) against the same references.
//
// A Plan is not safe for concurrent use: it keeps scratch buffers. (It
// runs its own FFTs on several goroutines.)
type Plan struct {
	nsrc, n, flen, nfft int
	permute             bool

	fft     *fft.Real      // shared by the workers: plans are safe for concurrent use
	refSpec [][]complex128 // FFT of each reference, zero-padded to nfft
	full    factor         // Gram matrix of all delayed references, (nsrc*flen)^2
	own     []factor       // Gram matrix of each reference's own delays, flen^2

	gram    *blockToeplitz   // the Gram matrix of all delayed references, for products
	ownGram []*blockToeplitz // its diagonal blocks
	workers []*fftWorker     // one FFT plan and scratch per goroutine (the first uses the fields below)

	// Scratch, sized once so that Evaluate's loops allocate nothing.
	seq              []float64    // nfft
	est, spec        []complex128 // nfft/2+1
	artif, sar       []float64    // per estimate
	target           []float64    // nsrc x nsrc
	sdrM, sirM, sarM []float64    // nsrc x nsrc, [estimate*nsrc+reference]
}

// NewPlan validates the references and prepares their projections: the
// Gram matrix of the delayed references is block Toeplitz, each block built
// from one FFT cross-correlation, and is factorised here, once.
func NewPlan(refs [][]float64, opt Options) (*Plan, error) {
	flen := opt.filterLen()
	if err := checkSignals("reference", refs, flen); err != nil {
		return nil, err
	}
	nsrc, n := len(refs), len(refs[0])
	// Any FFT length of at least n+flen-1 makes the correlations linear
	// over lags -(flen-1)..flen-1. mir_eval takes the next power of two; a
	// 2-3-5-smooth length is shorter and, with gonum's FFTPACK (the pure-Go
	// build), several times faster than large powers of two (cache
	// conflicts); FFTW is fast at either. The results differ by rounding
	// only.
	nfft := fftLen(n + flen - 1)
	nc := nfft/2 + 1
	p := &Plan{
		nsrc: nsrc, n: n, flen: flen, nfft: nfft, permute: opt.Permute,
		fft:     realPlan(nfft),
		refSpec: make([][]complex128, nsrc),
		own:     make([]factor, nsrc),
		seq:     make([]float64, nfft),
		est:     make([]complex128, nc),
		spec:    make([]complex128, nc),
		artif:   make([]float64, nsrc),
		sar:     make([]float64, nsrc),
		target:  make([]float64, nsrc*nsrc),
		sdrM:    make([]float64, nsrc*nsrc),
		sirM:    make([]float64, nsrc*nsrc),
		sarM:    make([]float64, nsrc*nsrc),
	}
	p.workers = make([]*fftWorker, min(runtime.GOMAXPROCS(0), max(nsrc, nsrc*(nsrc+1)/2)))
	p.workers[0] = &fftWorker{fft: p.fft, seq: p.seq, spec: p.spec, est: p.est}
	for w := 1; w < len(p.workers); w++ {
		p.workers[w] = &fftWorker{fft: p.fft, seq: make([]float64, nfft), spec: make([]complex128, nc), est: make([]complex128, nc)}
	}
	p.parallel(nsrc, func(w *fftWorker, i int) {
		copy(w.seq, refs[i])
		clear(w.seq[n:])
		p.refSpec[i] = w.fft.Forward(nil, w.seq)
	})

	// G[(i,a),(j,b)] = <s_i delayed by a, s_j delayed by b> = r_ji(a-b),
	// with r_ji(k) = sum_t s_j(t+k) s_i(t) read from the circular (here
	// linear, thanks to the padding) cross-correlation ifft(S_j conj(S_i)).
	// That is the block mir_eval's _project keeps (its second write wins)
	// for i <= j; the blocks below the diagonal mirror those above, as
	// mir_eval's symmetric matrix. G is kept compact (blockToeplitz).
	L := flen
	mm := nsrc * nsrc
	rFull := make([]float64, flen*mm)
	rOwn := make([][]float64, nsrc)
	lags := make([][]float64, mm) // c_ij(k), k = -(L-1)..L-1
	inv := 1 / float64(nfft)
	var pairs [][2]int
	for i := 0; i < nsrc; i++ {
		for j := i; j < nsrc; j++ {
			pairs = append(pairs, [2]int{i, j})
		}
	}
	// Each pair writes its own entries, so pairs run in parallel.
	p.parallel(len(pairs), func(w *fftWorker, q int) {
		i, j := pairs[q][0], pairs[q][1]
		for f, sj := range p.refSpec[j] {
			w.spec[f] = sj * conj(p.refSpec[i][f])
		}
		r := w.fft.Inverse(w.seq, w.spec)
		// Only lags -(L-1)..L-1 are read, and scaled.
		for k := 0; k < L; k++ {
			r[k] *= inv
		}
		for k := nfft - L + 1; k < nfft; k++ {
			r[k] *= inv
		}
		at := func(k int) float64 { return r[(k%nfft+nfft)%nfft] }
		cij, cji := make([]float64, 2*L-1), make([]float64, 2*L-1)
		for k := -(L - 1); k < L; k++ {
			if i == j {
				// The upper triangle (a <= b) of the diagonal block, mirrored.
				cij[k+L-1] = at(-abs(k))
			} else {
				cij[k+L-1] = at(k)
				cji[k+L-1] = at(-k)
			}
		}
		lags[i*nsrc+j] = cij
		if i != j {
			lags[j*nsrc+i] = cji
		}
		// The blocks of the delay-major block Toeplitz form:
		// R(k)[i][j] = r_ji(k), R(k)[j][i] = r_ji(-k).
		for k := 0; k < flen; k++ {
			rFull[k*mm+i*nsrc+j] = r[k]
			rFull[k*mm+j*nsrc+i] = r[(nfft-k)%nfft]
		}
		if i == j {
			rOwn[i] = append([]float64(nil), r[:flen]...)
		}
	})
	p.gram = newBlockToeplitz(nsrc, flen, lags, realPlan(fftLen(2*flen-1)))
	p.full = &toeplitzFactor{lv: newLevinson(nsrc, flen, rFull), g: p.gram}
	p.ownGram = make([]*blockToeplitz, nsrc)
	for j := 0; j < nsrc; j++ {
		if nsrc == 1 {
			p.own[j], p.ownGram[j] = p.full, p.gram
			break
		}
		p.ownGram[j] = p.gram.diag(j)
		p.own[j] = &toeplitzFactor{lv: newLevinson(1, flen, rOwn[j]), g: p.ownGram[j]}
	}
	return p, nil
}

// Sources returns the number of reference sources.
func (p *Plan) Sources() int { return p.nsrc }

// Len returns the number of samples of every signal.
func (p *Plan) Len() int { return p.n }

// MixtureSDR returns, for each reference i, the SDR of the mixture taken
// as the estimate of source i (every source's estimate is the mixture; no
// permutation search, whatever the plan's Options.Permute): the baseline
// that separation papers subtract to report the SDR improvement, SDRi[i]
// = SDR[i] - MixtureSDR(mix)[i], as mir_eval's bss_eval_sources(refs,
// [mix]*n) gives it.
func (p *Plan) MixtureSDR(mix []float64) ([]float64, error) {
	ests := make([][]float64, p.nsrc)
	for i := range ests {
		ests[i] = mix
	}
	permute := p.permute
	p.permute = false
	defer func() { p.permute = permute }()
	r, err := p.Evaluate(ests)
	if err != nil {
		return nil, fmt.Errorf("the mixture: %w", err)
	}
	return r.SDR, nil
}

// Evaluate scores the estimates against the plan's references, as
// mir_eval's bss_eval_sources. ests must hold as many sources as the
// references, each of the same length.
func (p *Plan) Evaluate(ests [][]float64) (*Result, error) {
	if err := checkSignals("estimate", ests, p.flen); err != nil {
		return nil, err
	}
	if len(ests) != p.nsrc {
		return nil, fmt.Errorf("bsseval: %d estimated sources for %d reference sources", len(ests), p.nsrc)
	}
	if len(ests[0]) != p.n {
		return nil, fmt.Errorf("bsseval: estimates have %d samples, references %d: lengths must match", len(ests[0]), p.n)
	}
	res := &Result{
		SDR: make([]float64, p.nsrc), SIR: make([]float64, p.nsrc),
		SAR: make([]float64, p.nsrc), Perm: make([]int, p.nsrc),
	}
	p.score(ests)
	for i := range res.Perm {
		res.Perm[i] = i
	}
	if p.permute && p.nsrc > 1 {
		sir := make([][]float64, p.nsrc)
		for k := range sir {
			sir[k] = p.sirM[k*p.nsrc : (k+1)*p.nsrc]
		}
		res.Perm = bestAssignment(sir)
	}
	for i, k := range res.Perm {
		res.SDR[i] = p.sdrM[k*p.nsrc+i]
		res.SIR[i] = p.sirM[k*p.nsrc+i]
		res.SAR[i] = p.sarM[k*p.nsrc+i]
	}
	return res, nil
}

// score fills the score matrices for the pairs (estimate k, reference j):
// all of them with the permutation search, the diagonal otherwise.
//
// Energies are quadratic forms in the filter coefficients (|A z|^2 = z'Gz
// for the delayed references A), so the projections are never formed, and
// every solve and product runs on all estimates at once, reading each factor
// and the Gram matrix once.
func (p *Plan) score(ests [][]float64) {
	nsrc, flen, nfft, dim := p.nsrc, p.flen, p.nfft, p.nsrc*p.flen
	npair := nsrc
	if p.permute {
		npair = nsrc * nsrc
	}
	mat := func(rows, cols int) blas64.General {
		return blas64.General{Rows: rows, Cols: cols, Stride: cols, Data: make([]float64, rows*cols)}
	}
	dm, x, gx := mat(dim, nsrc), mat(dim, nsrc), mat(dim, nsrc)
	w, gw := mat(dim, npair), mat(dim, npair)
	gc := mat(flen, nsrc)

	// Right-hand sides: D[(i,d)][k] = <s_i delayed by d, e_k>, from
	// ifft(S_i conj(E_k)) at lag -d, as mir_eval.
	inv := 1 / float64(nfft)
	p.parallel(nsrc, func(w *fftWorker, k int) {
		copy(w.seq, ests[k])
		clear(w.seq[p.n:])
		w.fft.Forward(w.est, w.seq)
		for i := 0; i < nsrc; i++ {
			for f, si := range p.refSpec[i] {
				w.spec[f] = si * conj(w.est[f])
			}
			r := w.fft.Inverse(w.seq, w.spec)
			dm.Data[(i*flen)*nsrc+k] = r[0] * inv
			for d := 1; d < flen; d++ {
				dm.Data[(i*flen+d)*nsrc+k] = r[nfft-d] * inv
			}
		}
	})

	// Projection on all the references, P_all = A x with G x = D. The
	// artifact energy |e - P_all|^2 = |e|^2 - 2 D'x + x'Gx is written in
	// the form that is stationary in x, so solver rounding in x enters only
	// to second order.
	solveAll := func() {
		copy(x.Data, dm.Data)
		p.full.solve(x)
		if tf, ok := p.full.(*toeplitzFactor); !ok || !tf.product(gx, dm) {
			p.gram.mul(1, x, 0, gx)
		}
		for k, e := range ests {
			xgx := colDot(x, gx, k)
			ee := dot(e, e)
			artif := ee - 2*colDot(dm, x, k) + xgx
			if artif < exactBelow*ee {
				// The expansion has lost too many digits (SAR above about 60
				// dB, such as an estimate equal to its reference): measure
				// |e - P_all|^2 directly instead, as mir_eval does.
				artif = p.exactArtifact(e, x, k)
			}
			p.artif[k], p.sar[k] = artif, safeDB(xgx, artif)
		}
	}
	// Projection on reference j alone, s_true + e_spat = A_j c_j with
	// G_jj c_j = D_j (the diagonal block).
	cs := make([]blas64.General, nsrc)
	solveOwn := func() {
		for j := range cs {
			cs[j] = mat(flen, nsrc)
			copy(cs[j].Data, dm.Data[j*flen*nsrc:(j+1)*flen*nsrc])
			p.own[j].solve(cs[j])
			p.ownGram[j].mul(1, cs[j], 0, gc)
			for k := 0; k < nsrc; k++ {
				if p.pair(k, j) >= 0 {
					p.target[k*nsrc+j] = colDot(cs[j], gc, k)
				}
			}
		}
	}
	if nsrc == 1 {
		solveAll()
		solveOwn()
	} else {
		// The two share nothing (each factor has its own scratch; with one
		// source they would be the same factor): they run side by side.
		p.parallel(2, func(_ *fftWorker, t int) {
			if t == 0 {
				solveAll()
			} else {
				solveOwn()
			}
		})
	}

	// The interference e_interf = A w with w = x minus c_j in block j.
	// e_interf is orthogonal to e_artif (normal equations), so
	// |e_interf + e_artif|^2 = |e_interf|^2 + |e_artif|^2.
	for j, c := range cs {
		for k := 0; k < nsrc; k++ {
			q := p.pair(k, j)
			if q < 0 {
				continue
			}
			for r := 0; r < dim; r++ {
				w.Data[r*npair+q] = x.Data[r*nsrc+k]
			}
			for a := 0; a < flen; a++ {
				w.Data[(j*flen+a)*npair+q] -= c.Data[a*nsrc+k]
			}
		}
	}
	if nsrc > 1 {
		p.gram.mul(1, w, 0, gw)
	}
	for k := 0; k < nsrc; k++ {
		for j := 0; j < nsrc; j++ {
			q := p.pair(k, j)
			if q < 0 {
				continue
			}
			at := k*nsrc + j
			target := p.target[at]
			if nsrc == 1 {
				// Nothing interferes: mir_eval's e_interf is exactly zero.
				p.sdrM[at], p.sirM[at], p.sarM[at] = safeDB(target, p.artif[k]), math.Inf(1), p.sar[k]
				continue
			}
			interf := math.Max(0, colDot(w, gw, q))
			p.sdrM[at] = safeDB(target, interf+p.artif[k])
			p.sirM[at] = safeDB(target, interf)
			p.sarM[at] = p.sar[k]
		}
	}
}

// exactBelow is the artifact-to-estimate energy ratio below which the
// artifact energy is measured from the residual signal rather than by the
// expansion |e|^2 - 2 D'x + x'Gx. The expansion's rounding error is a few
// hundred ulps of |e|^2, so above 1e-6 it is accurate to better than 1e-8 dB.
const exactBelow = 1e-6

// exactArtifact returns |e - P_all|^2 with P_all = sum_i x_i * s_i for
// column k of x, from the residual spectrum by Parseval.
func (p *Plan) exactArtifact(e []float64, x blas64.General, k int) float64 {
	nsrc, flen := p.nsrc, p.flen
	copy(p.seq, e)
	clear(p.seq[p.n:])
	p.fft.Forward(p.est, p.seq)
	for i := 0; i < nsrc; i++ {
		clear(p.seq)
		for d := 0; d < flen; d++ {
			p.seq[d] = x.Data[(i*flen+d)*x.Stride+k]
		}
		p.fft.Forward(p.spec, p.seq)
		for f, si := range p.refSpec[i] {
			p.est[f] -= p.spec[f] * si
		}
	}
	sq := func(z complex128) float64 { return real(z)*real(z) + imag(z)*imag(z) }
	last := len(p.est) - 1
	var sum float64
	for f := 1; f < last; f++ {
		sum += sq(p.est[f])
	}
	return (2*sum + sq(p.est[0]) + sq(p.est[last])) / float64(p.nfft)
}

// pair returns the column of the pair (estimate k, reference j) in the
// interference matrices, or -1 when the pair is not scored.
func (p *Plan) pair(k, j int) int {
	if p.permute {
		return k*p.nsrc + j
	}
	if k == j {
		return k
	}
	return -1
}

// native is gonum's own BLAS, for the level-1 calls. blas64 may be
// OpenBLAS, which threads a long dot product; its idle threads then spin in
// sched_yield for a while and take a core from the FFT goroutines (on two
// cores they cost far more than the dot product saves).
var native gonum.Implementation

// colDot returns the dot product of column k of a and b.
func colDot(a, b blas64.General, k int) float64 {
	return native.Ddot(a.Rows, a.Data[k:], a.Stride, b.Data[k:], b.Stride)
}

func dot(a, b []float64) float64 {
	return native.Ddot(len(a), a, 1, b, 1)
}

func conj(z complex128) complex128 { return complex(real(z), -imag(z)) }

// fftLen returns the smallest even 2-3-5-smooth number of at least n.
func fftLen(n int) int {
	best := 2
	for best < n {
		best *= 2
	}
	for p5 := 1; p5 < best; p5 *= 5 {
		for p35 := p5; p35 < best; p35 *= 3 {
			m := 2 * p35
			for m < n {
				m *= 2
			}
			if m < best {
				best = m
			}
		}
	}
	return best
}

func abs(k int) int {
	if k < 0 {
		return -k
	}
	return k
}

// plans holds the FFT plans made so far, by size: a plan is read-only and
// safe for concurrent use, and making one costs about as much as a
// transform, so Plans of the same signal length share them.
var plans sync.Map // int -> *fft.Real

func realPlan(n int) *fft.Real {
	if p, ok := plans.Load(n); ok {
		return p.(*fft.Real)
	}
	p, _ := plans.LoadOrStore(n, fft.NewReal(n))
	return p.(*fft.Real)
}

// fftWorker is the scratch of one goroutine, with the shared FFT plan.
type fftWorker struct {
	fft       *fft.Real
	seq       []float64
	spec, est []complex128
}

// parallel runs task(w, 0..n-1) on the plan's workers, each task on one
// worker at a time. The FFTs dominate the cost once the Gram matrix is
// solved by Levinson, and they are independent.
func (p *Plan) parallel(n int, task func(w *fftWorker, t int)) {
	nw := min(len(p.workers), n)
	if nw <= 1 {
		for t := 0; t < n; t++ {
			task(p.workers[0], t)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, w := range p.workers[:nw] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := int(next.Add(1)) - 1; t < n; t = int(next.Add(1)) - 1 {
				task(w, t)
			}
		}()
	}
	wg.Wait()
}
