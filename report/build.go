package report

import (
	"fmt"
	"io"
	"math"

	"gonum.org/v1/plot/vg"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
)

// build writes every figure and audio file of r and returns the page that
// links them.
func (w *writer) build(r *Report) (*page, error) {
	pg := &page{
		Title:  r.Title,
		Intro:  r.Intro,
		Config: r.Config,
		Notes:  r.Notes,
		Table:  buildTable(r.Methods),
	}
	if pg.Title == "" {
		pg.Title = "dlnmf report"
	}
	if pg.Table != nil {
		speakers := pg.Table.Speakers
		width := vg.Length(max(5.5, 1.0+0.55*float64(len(r.Methods)*max(1, len(speakers))))) * vg.Inch
		for m, name := range metricNames {
			p, err := boxPlot(r.Methods, speakers, m)
			if err != nil {
				return nil, err
			}
			if p == nil {
				continue
			}
			rel := w.name("figures", "box-"+name, ".png")
			if err := w.savePNG(rel, p, min(width, 11*vg.Inch), 3.6*vg.Inch); err != nil {
				return nil, err
			}
			pg.Boxes = append(pg.Boxes, figure{Src: rel, Alt: "Box plot of " + name + " per method and speaker"})
		}
	}
	for i := range r.Examples {
		ep, err := w.example(r, i)
		if err != nil {
			return nil, err
		}
		pg.Examples = append(pg.Examples, ep)
	}
	for i, c := range r.Curves {
		p, err := curvePlot(c)
		if err != nil {
			return nil, err
		}
		if p == nil {
			continue
		}
		rel := w.name("figures", fmt.Sprintf("curve-%02d-%s", i+1, c.Title), ".png")
		if err := w.savePNG(rel, p, 5.5*vg.Inch, 3.4*vg.Inch); err != nil {
			return nil, err
		}
		alt := c.Title
		if alt == "" {
			alt = "Cost curve"
		}
		pg.Curves = append(pg.Curves, figure{Src: rel, Alt: alt})
	}
	return pg, nil
}

// example writes the spectrograms and audio of example i. All of its
// pictures share one colour scale, set by the mixture, so that what a
// method removed shows as darker cells, and all of its audio files share
// one gain, so that the players keep the signals' relative levels.
func (w *writer) example(r *Report, i int) (examplePage, error) {
	ex := &r.Examples[i]
	name := ex.Name
	if name == "" {
		name = fmt.Sprintf("Example %d", i+1)
	}
	ep := examplePage{Name: name, Index: i + 1}
	gain := playbackGain(ex)
	if gain != 1 {
		ep.Note = fmt.Sprintf("Audio scaled by %.1f dB so that no file clips; the level of every signal relative to the others is kept.", 20*math.Log10(gain))
	}
	mix, err := newSpectrogram(ex.Mixture, ex.Rate)
	if err != nil {
		return ep, fmt.Errorf("report: example %s: %w", name, err)
	}
	top := mix.top()
	prefix := fmt.Sprintf("ex%02d-", i+1)
	panelFor := func(title, file string, x []float64, sp *spectrogram, scores string) (panel, error) {
		if sp == nil {
			var err error
			if sp, err = newSpectrogram(x, ex.Rate); err != nil {
				return panel{}, fmt.Errorf("report: example %s, %s: %w", name, title, err)
			}
		}
		img := w.name("figures", prefix+file, ".png")
		err := atomicfile.Write(w.path(img), func(out io.Writer) error {
			// The panel shows the title above the picture.
			return sp.png(out, "", top)
		})
		if err != nil {
			return panel{}, err
		}
		audio := w.name("audio", prefix+file, ".wav")
		if err := w.writeWAV(audio, x, ex.Rate, gain); err != nil {
			return panel{}, err
		}
		return panel{Title: title, Img: img, Audio: audio, Scores: scores}, nil
	}

	p, err := panelFor("Mixture", "mixture", ex.Mixture, mix, "")
	if err != nil {
		return ep, err
	}
	ep.Rows = append(ep.Rows, panelRow{Label: "Mixture", Panels: []panel{p}})
	if len(ex.Sources) > 0 {
		row := panelRow{Label: "Clean sources"}
		for _, t := range ex.Sources {
			p, err := panelFor(t.Name, "source-"+t.Name, t.Samples, nil, "")
			if err != nil {
				return ep, err
			}
			row.Panels = append(row.Panels, p)
		}
		ep.Rows = append(ep.Rows, row)
	}
	for _, e := range ex.Estimates {
		row := panelRow{Label: e.Method}
		for _, t := range e.Tracks {
			title := t.Name + " (" + e.Method + ")"
			p, err := panelFor(title, e.Method+"-"+t.Name, t.Samples, nil, scoreLine(r.Methods, e.Method, ex.Name, t.Name))
			if err != nil {
				return ep, err
			}
			row.Panels = append(row.Panels, p)
		}
		ep.Rows = append(ep.Rows, row)
	}
	return ep, nil
}
