package bsseval

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/dsp/fourier"

	_ "github.com/dlnmf/dlnmf/internal/openblas" // OpenBLAS behind the Cholesky in cgo builds
)

// A Plan holds what BSS Eval needs from a set of references: their spectra
// and the factorised Gram matrices of their delayed copies. Build it once
// and evaluate any number of estimates (the outputs of several separation
// methods, say) against the same references.
//
// A Plan is not safe for concurrent use: it keeps scratch buffers.
type Plan struct {
	nsrc, n, flen, nfft int
	permute             bool

	fft     *fourier.FFT
	refSpec [][]complex128 // FFT of each reference, zero-padded to nfft
	full    factor         // Gram matrix of all delayed references, (nsrc*flen)^2
	own     []factor       // Gram matrix of each reference's own delays, flen^2

	// Scratch, sized once so that Evaluate's loops allocate nothing.
	seq, filt           []float64    // nfft
	est, pall, pj, spec []complex128 // nfft/2+1
	d, x, c             []float64    // nsrc*flen, nsrc*flen, flen
	sdrM, sirM, sarM    []float64    // nsrc x nsrc, [estimate*nsrc+reference]
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
	// mir_eval's FFT length: the next power of two that makes the
	// correlations linear over lags -(flen-1)..flen-1.
	nfft := 1
	for nfft < n+flen-1 {
		nfft *= 2
	}
	nc := nfft/2 + 1
	p := &Plan{
		nsrc: nsrc, n: n, flen: flen, nfft: nfft, permute: opt.Permute,
		fft:     fourier.NewFFT(nfft),
		refSpec: make([][]complex128, nsrc),
		own:     make([]factor, nsrc),
		seq:     make([]float64, nfft),
		filt:    make([]float64, nfft),
		est:     make([]complex128, nc),
		pall:    make([]complex128, nc),
		pj:      make([]complex128, nc),
		spec:    make([]complex128, nc),
		d:       make([]float64, nsrc*flen),
		x:       make([]float64, nsrc*flen),
		c:       make([]float64, flen),
		sdrM:    make([]float64, nsrc*nsrc),
		sirM:    make([]float64, nsrc*nsrc),
		sarM:    make([]float64, nsrc*nsrc),
	}
	for i, r := range refs {
		copy(p.seq, r)
		clear(p.seq[n:])
		p.refSpec[i] = p.fft.Coefficients(nil, p.seq)
	}

	// G[(i,a),(j,b)] = <s_i delayed by a, s_j delayed by b> = r_ji(a-b),
	// with r_ji(k) = sum_t s_j(t+k) s_i(t) read from the circular (here
	// linear, thanks to the padding) cross-correlation ifft(S_j conj(S_i)).
	// That is the block mir_eval's _project keeps (its second write wins).
	// Only the upper triangle is filled: Cholesky reads no more.
	dim := nsrc * flen
	gram := make([]float64, dim*dim)
	inv := 1 / float64(nfft)
	for i := 0; i < nsrc; i++ {
		for j := i; j < nsrc; j++ {
			for f, sj := range p.refSpec[j] {
				p.spec[f] = sj * conj(p.refSpec[i][f])
			}
			r := p.fft.Sequence(p.seq, p.spec)
			for a := 0; a < flen; a++ {
				row := gram[(i*flen+a)*dim+j*flen:]
				b0 := 0
				if i == j {
					b0 = a
				}
				for b := b0; b < flen; b++ {
					k := a - b
					if k < 0 {
						k += nfft
					}
					row[b] = r[k] * inv
				}
			}
		}
	}
	if nsrc > 1 {
		for j := 0; j < nsrc; j++ {
			block := make([]float64, flen*flen)
			for a := 0; a < flen; a++ {
				off := (j*flen+a)*dim + j*flen
				copy(block[a*flen+a:(a+1)*flen], gram[off+a:off+flen])
			}
			p.own[j] = factorize(block, flen)
		}
	}
	p.full = factorize(gram, dim)
	if nsrc == 1 {
		p.own[0] = p.full
	}
	return p, nil
}

// Sources returns the number of reference sources.
func (p *Plan) Sources() int { return p.nsrc }

// Len returns the number of samples of every signal.
func (p *Plan) Len() int { return p.n }

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
	for k, e := range ests {
		if p.permute {
			p.decompose(e, k, -1)
		} else {
			p.decompose(e, k, k)
		}
	}
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

// decompose scores estimate e (number k) against reference only, or against
// every reference when only < 0, filling row k of the score matrices.
func (p *Plan) decompose(e []float64, k, only int) {
	nsrc, flen, nfft := p.nsrc, p.flen, p.nfft
	copy(p.seq, e)
	clear(p.seq[p.n:])
	p.fft.Coefficients(p.est, p.seq)

	// Right-hand sides: D[(i,d)] = <s_i delayed by d, e>, from
	// ifft(S_i conj(E)) at lag -d, as mir_eval.
	inv := 1 / float64(nfft)
	for i := 0; i < nsrc; i++ {
		for f, si := range p.refSpec[i] {
			p.spec[f] = si * conj(p.est[f])
		}
		r := p.fft.Sequence(p.seq, p.spec)
		p.d[i*flen] = r[0] * inv
		for d := 1; d < flen; d++ {
			p.d[i*flen+d] = r[nfft-d] * inv
		}
	}

	// Projection on all the references: P_all = sum_i x_i * s_i, kept as a
	// spectrum. Its energy and the artifact energy |e - P_all|^2 follow by
	// Parseval.
	copy(p.x, p.d)
	p.full.solve(p.x)
	clear(p.pall)
	for i := 0; i < nsrc; i++ {
		p.filterSpectrum(p.spec, p.x[i*flen:(i+1)*flen])
		for f, si := range p.refSpec[i] {
			p.pall[f] += p.spec[f] * si
		}
	}
	pallEnergy := energy(p.pall, nil, nfft)
	artif := energy(p.est, p.pall, nfft)
	sar := safeDB(pallEnergy, artif)

	for j := 0; j < nsrc; j++ {
		if only >= 0 && j != only {
			continue
		}
		// Projection on reference j alone: s_true + e_spat.
		copy(p.c, p.d[j*flen:(j+1)*flen])
		p.own[j].solve(p.c)
		p.filterSpectrum(p.spec, p.c)
		for f, sj := range p.refSpec[j] {
			p.pj[f] = p.spec[f] * sj
		}
		target := energy(p.pj, nil, nfft)
		dist := energy(p.est, p.pj, nfft) // |e_interf + e_artif|^2
		sir := math.Inf(1)                // one source: no interference
		if nsrc > 1 {
			sir = safeDB(target, energy(p.pall, p.pj, nfft))
		}
		at := k*nsrc + j
		p.sdrM[at] = safeDB(target, dist)
		p.sirM[at] = sir
		p.sarM[at] = sar
	}
}

// filterSpectrum writes the spectrum of the filter h, zero-padded to nfft,
// to dst.
func (p *Plan) filterSpectrum(dst []complex128, h []float64) {
	copy(p.filt, h) // the tail of p.filt stays zero
	p.fft.Coefficients(dst, p.filt)
}

// energy returns the energy sum_t y(t)^2 of the real signal y of length n
// whose half spectrum is a - b (b may be nil), by Parseval.
func energy(a, b []complex128, n int) float64 {
	sq := func(z complex128) float64 { return real(z)*real(z) + imag(z)*imag(z) }
	last := len(a) - 1
	var sum float64
	if b == nil {
		for f := 1; f < last; f++ {
			sum += sq(a[f])
		}
		sum = 2*sum + sq(a[0]) + sq(a[last])
	} else {
		for f := 1; f < last; f++ {
			sum += sq(a[f] - b[f])
		}
		sum = 2*sum + sq(a[0]-b[0]) + sq(a[last]-b[last])
	}
	return sum / float64(n)
}

func conj(z complex128) complex128 { return complex(real(z), -imag(z)) }
