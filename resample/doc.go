// Package resample converts sampled signals between rates with a polyphase
// windowed-sinc (Kaiser window) filter.
//
// Conventions:
//   - New(from, to) designs the filter once for the reduced ratio L/M
//     (to = from*L/M); a Resampler is a plan object. Apply only reads it, so
//     one Resampler may serve several goroutines at once.
//   - Apply(dst, x) returns ceil(len(x)*to/from) samples with zero group
//     delay: output sample j sits at time j/to, input sample i at i/from,
//     as with sox and scipy.signal.resample_poly. The signal is taken as zero
//     outside x.
//   - dst-first: Apply allocates when dst is nil and panics when dst has the
//     wrong length.
//
// The filter (a linear-phase FIR at the rate L*from): passband flat to 0.92 of
// the lower Nyquist frequency (ripple below 1e-4 dB), stop band from that
// Nyquist frequency on, at least 100 dB down. So down-sampling folds nothing
// audible back into the band, and up-sampling leaves no images. The price is
// a longer filter than scipy's resample_poly default (Kaiser beta 5, whose
// stop band is only about 50-60 dB down, with its transition band centred on
// the Nyquist frequency): about 480 taps per output sample from 48 to 16 kHz,
// against scipy's 61. Speech separation scores are sensitive to aliasing
// (docs/protocol.md), so we pay for it.
package resample
