// Package resample converts sampled signals between rates with a polyphase
// windowed-sinc (Kaiser window) filter.
//
// Conventions:
//   - New(from, to) designs the filter once for the reduced ratio L/M
//     (to = from*L/M); a Resampler is a plan object. Apply only reads it, so
//     one Resampler may serve several goroutines at once. Apply runs long
//     signals on two goroutines.
//   - Apply(dst, x) returns ceil(len(x)*to/from) samples with zero group
//     delay: output sample j sits at time j/to, input sample i at i/from,
//     as with sox and scipy.signal.resample_poly. The signal is taken as zero
//     outside x.
//   - dst-first: Apply allocates when dst is nil and panics when dst has the
//     wrong length.
//   - Stream (Resampler.NewStream) resamples a signal that arrives in pieces,
//     in memory that does not grow with it: its output, concatenated, is
//     Apply's on the whole signal, bit for bit (both compute every output
//     sample through the same code).
//
// The filter is a linear-phase FIR at the rate L*from, designed with Kaiser's
// formulas for 100 dB of stop-band rejection: flat (ripple below 1e-4 dB) to
// 0.92 of the lower Nyquist frequency, -3 dB near 0.95, and at least 100 dB
// down from 0.994 of it on. Down-sampling therefore folds nothing back into
// the band but its top 0.6% (already 100 dB down), and up-sampling leaves no
// images. The band edges follow sox's default resampler (flat to about 0.93,
// -3 dB at 0.95, the stop band at the Nyquist frequency): on the TSP corpus,
// 48 -> 16 kHz, the two differ by 60 dB or more below the signal
// (scripts/compare-resample-sox.sh). The price is a longer filter than
// scipy's resample_poly default (Kaiser beta 5, about 50 dB of rejection,
// with its transition band centred on the Nyquist frequency so that the top
// of the band aliases): 521 taps per output sample from 48 to 16 kHz, against
// scipy's 61. Separation scores are sensitive to aliasing (docs/protocol.md),
// so we pay for it.
package resample
