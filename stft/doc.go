// Package stft computes the short-time Fourier transform of a real signal and
// its inverse by weighted overlap-add.
//
// Conventions:
//   - Settings{FFTSize, WindowSize, Hop}: the zero value means FFTSize 1024,
//     WindowSize = FFTSize, Hop = WindowSize/4 (256 by default). At 16 kHz
//     that is a 64 ms periodic Hann window every 16 ms with 513 bins
//     (docs/protocol.md): long enough to resolve the harmonics of a low voice
//     (about 16 Hz per bin), short enough that speech is roughly stationary
//     within a frame, and a 75% overlap so that the overlap-add of modified
//     spectra (masks) smooths the seams.
//   - Layout: a Spectrogram is frequency x time, row-major: bin b (frequency
//     b*rate/FFTSize) of frame t is Data[b*Frames+t]; Bins = FFTSize/2+1.
//   - Framing is scipy's: scipy.signal.stft(x, window='hann', nperseg=W,
//     noverlap=W-Hop, nfft=FFTSize, boundary='zeros', padded=True). The signal
//     is extended by W/2 zeros on each side (floor(W/2)), then with zeros at
//     the end up to a whole number of hops; frame t covers input samples
//     t*Hop-W/2 ... t*Hop-W/2+W-1, windowed and zero-padded at the end to
//     FFTSize. So Frames(n) = 1 + ceil((n + 2*floor(W/2) - W)/Hop), frame t is
//     centred on sample t*Hop (for even W), and a signal of n samples gives
//     the same frames as scipy's.
//   - Scaling: none. Forward returns the plain DFT of the windowed frame,
//     sum_k w[k] x[t*Hop-W/2+k] exp(-2 pi i b k / FFTSize), like librosa and
//     numpy.fft.rfft. scipy.signal.stft divides by sum(w) (512 for the
//     default window); multiply scipy's output by sum(w) to compare (the golden
//     test does). Magnitudes therefore grow with the window length; the NMF
//     stages are scale-invariant up to their epsilon guard.
//   - The inverse divides the overlap-add of the windowed inverse frames by
//     the overlap-add of the squared window (the least-squares inverse of
//     Griffin and Lim, 1984, also scipy.signal.istft's), so
//     Inverse(Forward(x)) == x to rounding error for every Settings NewPlan
//     accepts; it returns exactly n samples.
//   - A Plan holds the window, FFT plans and work space: make one per setting
//     and goroutine (a Plan is not safe for concurrent use). Forward and
//     Inverse are dst-first: they allocate when dst is nil and panic on a
//     size mismatch; they allocate nothing per frame. Both run their frames on
//     up to two goroutines.
package stft
