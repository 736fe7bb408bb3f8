package report

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/plot/vg"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
)

// build writes every figure and audio file of r and returns the page that
// links them.
func (w *writer) build(r *Report) (*page, error) {
	pg := &page{
		Title:       r.Title,
		Intro:       r.Intro,
		Verdict:     r.Verdict,
		Config:      r.Config,
		Notes:       r.Notes,
		Table:       buildTable(r.Methods),
		Paired:      pairedRows(r.Paired),
		ExampleRule: r.ExampleRule,
	}
	if p, categories, err := pairedPlot(r.Paired, r.Methods); err != nil {
		return nil, err
	} else if p != nil {
		rel := w.name("figures", "paired-sdr", ".png")
		width := vg.Length(max(5.5, 1.0+1.8*float64(categories))) * vg.Inch
		if err := w.savePNG(rel, p, min(width, 11*vg.Inch), 3.6*vg.Inch); err != nil {
			return nil, err
		}
		pg.PairedFig = &figure{Src: rel, Alt: "Per-mixture SDR differences between methods, with the 95% confidence intervals of their means"}
	}
	if pg.Title == "" {
		pg.Title = "dlnmf report"
	}
	if pg.Table != nil {
		speakers := pg.Table.Speakers
		pg.WideBox = len(r.Methods)*max(1, len(speakers)) > 8
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
	logY := curvesLogScale(r.Curves)
	for i, c := range r.Curves {
		p, err := curvePlot(c, logY)
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
	ep := examplePage{Name: name, Caption: ex.Caption, Index: i + 1}
	gain := playbackGain(ex)
	if gain != 1 {
		ep.Note = fmt.Sprintf("Audio scaled by %.1f dB so that no file clips; the level of every signal relative to the others is kept.", 20*math.Log10(gain))
	}
	mix, err := newSpectrogram(ex.Mixture, ex.Rate)
	if err != nil {
		return ep, fmt.Errorf("report: example %s: %w", name, err)
	}
	levels := mix.levels(Levels{}) // every picture of the example on the mixture's scale
	prefix := fmt.Sprintf("ex%02d-", i+1)

	// Name every file first (names must be handed out in order), then draw
	// and write them in parallel: drawing a picture takes tens of
	// milliseconds, mostly image scaling and PNG compression.
	type job struct {
		panel panel
		x     []float64
		sp    *spectrogram
	}
	var jobs []job
	var rows []panelRow
	add := func(row *panelRow, title, file string, x []float64, sp *spectrogram, scores []scoreItem) {
		jobs = append(jobs, job{
			panel: panel{Title: title, Scores: scores,
				Img: w.name("figures", prefix+file, ".png"), Audio: w.name("audio", prefix+file, ".wav")},
			x: x, sp: sp,
		})
		row.Panels = append(row.Panels, panel{}) // filled in below, in job order
	}
	rows = append(rows, panelRow{Label: "Mixture"})
	add(&rows[0], "Mixture", "mixture", ex.Mixture, mix, nil)
	if len(ex.Sources) > 0 {
		row := panelRow{Label: "Clean sources"}
		for _, t := range ex.Sources {
			add(&row, t.Name, "source-"+t.Name, t.Samples, nil, nil)
		}
		rows = append(rows, row)
	}
	id := ex.ID
	if id == "" {
		id = ex.Name
	}
	for _, e := range ex.Estimates {
		row := panelRow{Label: e.Method}
		for _, t := range e.Tracks {
			add(&row, t.Name+" ("+e.Method+")", e.Method+"-"+t.Name, t.Samples, nil,
				exampleScores(r.Methods, e.Method, id, t.Name))
		}
		rows = append(rows, row)
	}

	err = parallel(len(jobs), func(k int) error {
		j := &jobs[k]
		sp := j.sp
		if sp == nil {
			var err error
			if sp, err = newSpectrogram(j.x, ex.Rate); err != nil {
				return fmt.Errorf("report: example %s, %s: %w", name, j.panel.Title, err)
			}
		}
		err := atomicfile.Write(w.path(j.panel.Img), func(out io.Writer) error {
			// The page shows the title above the picture.
			return sp.png(out, "", levels)
		})
		if err != nil {
			return err
		}
		return w.writeWAV(j.panel.Audio, j.x, ex.Rate, gain)
	})
	if err != nil {
		return ep, err
	}
	k := 0
	for ri := range rows {
		for pi := range rows[ri].Panels {
			rows[ri].Panels[pi] = jobs[k].panel
			k++
		}
	}
	ep.Rows = rows
	return ep, nil
}

// parallel runs f(0) ... f(n-1) on up to GOMAXPROCS goroutines and returns
// the first error (by index) that any returned.
func parallel(n int, f func(i int) error) error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return firstError(errs)
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
