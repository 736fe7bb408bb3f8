// Package report is dlnmf's presentation layer: it turns the results of a
// separation run (scores, example signals, cost curves) into a
// self-contained folder that a person opens in a browser to read the
// numbers, look at spectrograms and listen to the separated voices.
//
// Write lays the folder out as
//
//	DIR/index.html     the page: settings, score table, figures, players
//	DIR/figures/*.png  box plots, spectrograms, cost curves (gonum/plot)
//	DIR/audio/*.wav    16-bit PCM of every example signal
//
// Every link in index.html is relative and nothing is fetched from a
// network, so the folder can be copied, zipped or opened from file://.
// Every file is written atomically (internal/atomicfile): an interrupted
// run never leaves a half-written file behind. All text in a Report is plain
// text and is escaped (html/template).
//
// Conventions: scores are in dB; a method's mean comes with the half-width
// of its 95% confidence interval (Student's t, package stats); spectrogram
// levels are in dB relative to a full-scale sine (dBFS), with the STFT
// settings of package stft (1024-point periodic Hann, hop 256).
//
// This is the only package besides cmd/dlnmf that writes files; the
// numeric packages never import it.
package report
