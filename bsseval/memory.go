package bsseval

import "runtime"

// Memory estimates the bytes that scoring nsrc sources of n samples each
// allocates (NewPlan, then Evaluate), not counting the signals themselves:
// the caller holds those. It counts the large arrays only:
//
//   - the references' spectra and, per FFT goroutine (at most GOMAXPROCS),
//     a padded signal and two spectra, about 8 bytes per FFT point each,
//     and the FFT plan's buffers: linear in n, and what dominates long
//     signals (two 5-minute sources at 48 kHz: 1.4 GB);
//   - the dense Gram matrix of all delayed references, (nsrc*FilterLen)^2
//     values in three copies (the matrix, its factor and the copy the
//     least-squares fallback keeps), built only when the Levinson
//     recursion breaks down (dependent references, or signals too short
//     for their sources' filters), which is known only while solving, so
//     always counted: quadratic in the sources (10 sources of 512 taps:
//     630 MB; 32: 6.4 GB).
//
// It is a lower bound of the peak when the dense fallback runs and above
// the peak of most evaluations, where it does not; the command line
// compares it with the memory the machine has before reading the signals.
func Memory(nsrc, n int, opt Options) uint64 {
	if nsrc <= 0 || n <= 0 {
		return 0
	}
	flen := opt.filterLen()
	nfft := uint64(fftLen(n + flen - 1))
	spectrum := 16 * (nfft/2 + 1)
	workers := uint64(min(runtime.GOMAXPROCS(0), max(nsrc, nsrc*(nsrc+1)/2)))
	m, L := uint64(nsrc), uint64(flen)
	dim := m * L
	bytes := m*spectrum + // the references' spectra
		workers*(8*nfft+2*spectrum) + // each worker's padded signal and spectra
		3*8*nfft + spectrum + // the FFT plan's buffers and tables
		8*L*m*m*6 + // the Levinson recursion's blocks and the lags
		8*dim*m*8 // the right-hand sides, solutions and products of Evaluate
	return bytes + 3*8*dim*dim
}
