package report

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/wav"
)

// Report is everything one page shows. Zero fields are left out of the page.
type Report struct {
	Title    string
	Intro    string      // a plain-text paragraph under the title
	Verdict  string      // what the run shows, in plain text, set apart under the intro
	Config   [][2]string // settings shown as a key/value table
	Methods  []Method    // in display order
	Examples []Example   // example mixtures to look at and listen to
	// ExampleRule says how the examples were chosen, above them.
	ExampleRule string
	Curves      []Curve  // training and discriminative cost curves
	Paired      []Paired // paired differences between methods, shown as a table
	Notes       []string // plain-text remarks (wall time, iteration counts)
}

// Paired is the mean difference A minus B of one metric of one speaker over
// the same mixtures, with the half-width of its 95% confidence interval and
// the p-value of a two-sided paired t-test (package stats' PairedT).
type Paired struct {
	A, B, Speaker, Metric string
	Diff, CI95, P         float64
	N                     int
}

// Method is one separation method and its scores.
type Method struct {
	Name   string // e.g. "NMF K=20", "DL-NMF 180,20"
	Scores []Score
}

// Score is the BSS Eval score of one separated speaker in one mixture, in dB.
type Score struct {
	Mixture, Speaker string
	SDR, SIR, SAR    float64
}

// Example is one mixture with its clean sources and each method's estimates.
// Every signal is at sample rate Rate, nominally in [-1, 1]. The page shows
// each estimate's own scores beside it: the Score of its method and speaker
// whose Mixture is ID (or Name when ID is empty).
type Example struct {
	Name      string // the heading
	ID        string // the Mixture of this example's Scores; empty: Name
	Caption   string // plain text under the heading: what this mixture shows
	Rate      int
	Mixture   []float64
	Sources   []Track // the clean sources, Name = speaker
	Estimates []Estimate
}

// Estimate is one method's separation of an example: one track per speaker,
// Name = speaker.
type Estimate struct {
	Method string
	Tracks []Track
}

// Track is a named signal.
type Track struct {
	Name    string
	Samples []float64
}

// Curve is one line figure, such as the training cost per iteration.
type Curve struct {
	Title, XLabel, YLabel string
	Series                []Series
}

// Series is one line of a Curve; X and Y have the same length.
type Series struct {
	Name string
	X, Y []float64
}

// Write creates dir (and its parents) and writes the report into it:
// index.html, figures/*.png and audio/*.wav. Files from an earlier report in
// the same dir are overwritten, others are left alone. It returns an error
// naming the problem for inconsistent data (an example without a rate, an
// empty signal, a series whose X and Y differ in length).
func Write(dir string, r *Report) error {
	if r == nil {
		return errors.New("report: nil report")
	}
	if err := validate(r); err != nil {
		return err
	}
	for _, sub := range []string{"figures", "audio"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	w := &writer{dir: dir, used: map[string]bool{}}
	page, err := w.build(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("report: rendering index.html: %w", err)
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "index.html"), buf.Bytes())
}

func validate(r *Report) error {
	for i, ex := range r.Examples {
		name := ex.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		if ex.Rate <= 0 {
			return fmt.Errorf("report: example %s: sample rate %d is not positive", name, ex.Rate)
		}
		if len(ex.Mixture) == 0 {
			return fmt.Errorf("report: example %s: the mixture is empty", name)
		}
		tracks := append([]Track(nil), ex.Sources...)
		for _, e := range ex.Estimates {
			tracks = append(tracks, e.Tracks...)
		}
		for _, t := range tracks {
			if len(t.Samples) == 0 {
				return fmt.Errorf("report: example %s: track %q is empty", name, t.Name)
			}
		}
	}
	for _, c := range r.Curves {
		for _, s := range c.Series {
			if len(s.X) != len(s.Y) {
				return fmt.Errorf("report: curve %q, series %q: %d x values but %d y values", c.Title, s.Name, len(s.X), len(s.Y))
			}
		}
	}
	return nil
}

// writer writes the figures and audio files of one report and hands out
// unique file names.
type writer struct {
	dir  string
	used map[string]bool
}

// name returns a fresh relative path sub/base.ext, with base made of safe
// characters only, so that links need no escaping and work on any file
// system.
func (w *writer) name(sub, base, ext string) string {
	base = Slug(base)
	rel := sub + "/" + base + ext
	for i := 2; w.used[rel]; i++ {
		rel = fmt.Sprintf("%s/%s-%d%s", sub, base, i, ext)
	}
	w.used[rel] = true
	return rel
}

func (w *writer) path(rel string) string { return filepath.Join(w.dir, filepath.FromSlash(rel)) }

// Slug keeps ASCII letters and digits, lower-cased, and turns every other
// run of characters into one '-'.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return "x"
	}
	if b.Len() > 60 {
		return b.String()[:60]
	}
	return b.String()
}

// writeWAV writes samples times gain as 16-bit PCM.
func (w *writer) writeWAV(rel string, samples []float64, rate int, gain float64) error {
	x := samples
	if gain != 1 {
		x = make([]float64, len(samples))
		for i, v := range samples {
			x[i] = v * gain
		}
	}
	// wav.WriteFile writes atomically; nothing clips since gain <= 1 keeps
	// every sample within the playback ceiling.
	_, err := wav.WriteFile(w.path(rel), x, rate, wav.PCM16)
	return err
}

// playbackGain is the gain applied to every signal of an example in its
// audio files: 1 unless the loudest of them would clip, so that the
// players keep the levels of mixture, sources and estimates comparable.
func playbackGain(ex *Example) float64 {
	peak := maxAbs(ex.Mixture)
	for _, t := range ex.Sources {
		peak = math.Max(peak, maxAbs(t.Samples))
	}
	for _, e := range ex.Estimates {
		for _, t := range e.Tracks {
			peak = math.Max(peak, maxAbs(t.Samples))
		}
	}
	const ceiling = 0.98
	if peak > ceiling {
		return ceiling / peak
	}
	return 1
}

func maxAbs(x []float64) float64 {
	var m float64
	for _, v := range x {
		if a := math.Abs(v); a > m && !math.IsInf(a, 0) {
			m = a
		}
	}
	return m
}
