// Package recording separates whole recordings with a speaker model. It is
// the one entry point that dlnmf's command line, Go programs, the Python
// package and a server share, so that every door gives the same bytes: the
// doors parse their own arguments into Settings and print; the rules are
// here.
//
// The rules around separation.Separator that this package owns:
//
//   - The rate policy. A recording at the model's rate is separated as it
//     is. Above it (a 44.1 or 48 kHz recording, a 16 kHz model) the
//     separation is full band (separation.SeparateSettings.Rate): the
//     estimates keep the recording's rate and whole band. Below it, the
//     recording is resampled up to the model's rate and the estimates back
//     to the recording's, down to half the model's rate; lower is refused
//     (the recording holds less than half of the model's band: train a
//     model at its rate). Live applies the same policy to a stream.
//   - Channels are down-mixed to their mean, as wav.Reader does.
//   - The sources and their defaults: separation.NewSeparator's (free bases
//     for a one-speaker model, the universal model, the live iterations).
//   - Output names: OutputName, <mix>.<source><ext>, and Collisions for
//     several recordings that would write the same names.
//   - Writing: every output of a recording is complete, or none is left;
//     the outputs keep the input's sample format and container unless
//     Settings say otherwise (FLAC holds 8, 16 or 24-bit PCM: wider inputs
//     are written as 24-bit FLAC).
//
// Conventions: samples are float64 at full scale ±1, one slice per source in
// the order of Separator.Sources (the model's speakers, then the extra
// source of free bases or a universal model). A Separator is safe for
// concurrent use; a Live is not.
package recording
