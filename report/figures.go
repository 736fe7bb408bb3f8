package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
)

// dpi of every PNG: sharp on ordinary screens, small files.
const dpi = 110

// seriesColors is a qualitative palette that stays distinguishable for
// colour-blind readers (Okabe and Ito, 2008).
var seriesColors = []color.RGBA{
	{0, 114, 178, 255},   // blue
	{213, 94, 0, 255},    // vermillion
	{0, 158, 115, 255},   // bluish green
	{204, 121, 167, 255}, // reddish purple
	{230, 159, 0, 255},   // orange
	{86, 180, 233, 255},  // sky blue
	{240, 228, 66, 255},  // yellow
	{0, 0, 0, 255},
}

func seriesColor(i int) color.RGBA { return seriesColors[i%len(seriesColors)] }

// newPlot returns a plot with the report's common look.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(12)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Title.Padding = vg.Points(6)
	sans(p)
	return p
}

// sans sets every text of p in Liberation Sans (bundled with gonum/plot),
// which matches the page better than the default serif.
func sans(p *plot.Plot) {
	for _, s := range []*text.Style{
		&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle,
		&p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle,
	} {
		s.Font.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Weight = xfont.WeightBold
}

// chart is a plot with its legend, which is drawn under the plot, never
// over the data, in the font of the tick labels.
type chart struct {
	p      *plot.Plot
	legend []legendEntry
}

type legendEntry struct {
	name  string
	thumb plot.Thumbnailer
}

// savePNG draws ch at w x h into the file rel of the report.
func (w *writer) savePNG(rel string, ch *chart, width, height vg.Length) error {
	return atomicfile.Write(w.path(rel), func(out io.Writer) error {
		return writePlotPNG(out, ch, width, height)
	})
}

func writePlotPNG(out io.Writer, ch *chart, width, height vg.Length) error {
	c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))
	ch.draw(draw.New(c))
	_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(out)
	return err
}

// draw draws the plot and, in rows under it, the legend.
func (ch *chart) draw(c draw.Canvas) {
	fitYLabel(ch.p, c.Max.Y-c.Min.Y)
	if len(ch.legend) == 0 {
		ch.p.Draw(c)
		return
	}
	sty := ch.p.Y.Tick.Label // upright, the ticks' size
	sty.Rotation, sty.XAlign, sty.YAlign = 0, draw.XLeft, draw.YCenter
	thumbW, gap, pad := vg.Points(16), vg.Points(5), vg.Points(14)
	rowH := sty.Height("Xg") * 1.5
	avail := c.Max.X - c.Min.X - 2*pad
	// Lay the entries out in rows that fit the width.
	var rows [][]legendEntry
	var rowW []vg.Length
	for _, e := range ch.legend {
		w := thumbW + gap + sty.Width(e.name)
		if n := len(rows); n > 0 && rowW[n-1]+pad+w <= avail {
			rows[n-1] = append(rows[n-1], e)
			rowW[n-1] += pad + w
			continue
		}
		rows, rowW = append(rows, []legendEntry{e}), append(rowW, w)
	}
	height := vg.Length(len(rows))*rowH + vg.Points(4)
	ch.p.Draw(draw.Crop(c, 0, 0, height, 0))
	for r, row := range rows {
		y := c.Min.Y + height - vg.Length(r)*rowH - rowH/2
		x := c.Min.X + (c.Max.X-c.Min.X-rowW[r])/2
		for _, e := range row {
			tc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: y - rowH/4}, Max: vg.Point{X: x + thumbW, Y: y + rowH/4}}}
			e.thumb.Thumbnail(&tc)
			c.FillText(sty, vg.Point{X: x + thumbW + gap, Y: y}, e.name)
			x += thumbW + gap + sty.Width(e.name) + pad
		}
	}
}

// fitYLabel keeps the y label inside a picture of the given height: a
// label too long for the axis is broken into two lines at a space, then
// set smaller until it fits.
func fitYLabel(p *plot.Plot, height vg.Length) {
	lbl := &p.Y.Label
	room := height * 0.8 // the title and the x axis take the rest
	if lbl.Text == "" || lbl.TextStyle.Width(lbl.Text) <= room {
		return
	}
	if !strings.Contains(lbl.Text, "\n") {
		words := strings.Fields(lbl.Text)
		best, bestW := lbl.Text, lbl.TextStyle.Width(lbl.Text)
		for i := 1; i < len(words); i++ {
			t := strings.Join(words[:i], " ") + "\n" + strings.Join(words[i:], " ")
			if w := lbl.TextStyle.Width(t); w < bestW {
				best, bestW = t, w
			}
		}
		lbl.Text = best
	}
	for lbl.TextStyle.Width(lbl.Text) > room && lbl.TextStyle.Font.Size > vg.Points(7) {
		lbl.TextStyle.Font.Size -= vg.Points(0.5)
	}
}

// boxPlot draws metric m of every method as one box per speaker, grouped by
// method along the x axis.
func boxPlot(methods []Method, speakers []string, m int) (*chart, error) {
	p := newPlot(metricNames[m]+" per method", "", metricNames[m]+" (dB)")
	p.Y.Tick.Marker = niceTicks{}
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil // categories need no vertical lines
	p.Add(grid)
	names := make([]string, len(methods))
	nsp := len(speakers)
	// Boxes of one method share a slot of width 0.8 on the category axis.
	width := vg.Points(math.Max(6, math.Min(28, 200/float64(len(methods)*nsp))))
	any := false
	for i, meth := range methods {
		names[i] = meth.Name
		for si, sp := range speakers {
			v := values(meth, sp, m)
			if len(v) == 0 {
				continue
			}
			loc := float64(i)
			if nsp > 1 {
				loc += 0.8 * (float64(si)/float64(nsp-1) - 0.5) * float64(nsp-1) / float64(nsp)
			}
			b, err := plotter.NewBoxPlot(width, loc, plotter.Values(v))
			if err != nil {
				return nil, fmt.Errorf("report: box plot of %s, %s: %w", meth.Name, sp, err)
			}
			c := seriesColor(si)
			b.FillColor = color.NRGBA{c.R, c.G, c.B, 70}
			b.BoxStyle.Color = c
			b.WhiskerStyle.Color = c
			b.MedianStyle.Color = c
			b.MedianStyle.Width = vg.Points(1.6)
			b.GlyphStyle.Color = c
			b.GlyphStyle.Radius = vg.Points(1.8)
			p.Add(b)
			any = true
		}
	}
	if !any {
		return nil, nil
	}
	p.NominalX(names...)
	if len(methods) > 4 {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	ch := &chart{p: p}
	if nsp > 1 {
		for si, sp := range speakers {
			ch.legend = append(ch.legend, legendEntry{sp, swatch(seriesColor(si))})
		}
	}
	return ch, nil
}

// pairedPlot draws the SDR differences of the paired comparisons ps (A
// minus B, per speaker, Metric "sdr"): one dot per test mixture, spread
// sideways by a fixed rule so that equal values stay visible, and the
// mean with its 95% interval (Paired.Diff ± CI95) as a black mark and bar,
// beside a dashed zero line. It returns the chart and the number of
// comparisons, nil when there is none.
func pairedPlot(ps []Paired, methods []Method) (*chart, int, error) {
	byName := map[string]Method{}
	for _, m := range methods {
		byName[m.Name] = m
	}
	var labels []string
	var dots plotter.XYs
	var means plotter.XYs
	var bars plotter.YErrors
	for _, pr := range ps {
		if pr.Metric != "sdr" || math.IsNaN(pr.Diff) || math.IsInf(pr.Diff, 0) {
			continue
		}
		ci := pr.CI95
		if math.IsNaN(ci) || math.IsInf(ci, 0) {
			ci = 0 // one mixture: no interval
		}
		x := float64(len(labels))
		labels = append(labels, pr.A+"\n− "+pr.B+"\n"+pr.Speaker)
		xa, xb := pairedValues(byName[pr.A], byName[pr.B], pr.Speaker, 0)
		for j := range xa {
			// The golden-ratio sequence spreads the dots evenly over a
			// band of 0.5 whatever their number.
			offset := math.Mod(float64(j)*0.6180339887, 1) - 0.5
			dots = append(dots, plotter.XY{X: x + 0.5*offset, Y: xa[j] - xb[j]})
		}
		means = append(means, plotter.XY{X: x, Y: pr.Diff})
		bars = append(bars, struct{ Low, High float64 }{ci, ci})
	}
	if len(labels) == 0 {
		return nil, 0, nil
	}
	p := newPlot("Paired SDR differences per test mixture", "", "A − B (dB)")
	p.Y.Tick.Marker = niceTicks{}
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	zero := plotter.NewFunction(func(float64) float64 { return 0 })
	zero.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	zero.Color = color.Gray{Y: 90}
	p.Add(zero)
	if len(dots) > 0 {
		sc, err := plotter.NewScatter(dots)
		if err != nil {
			return nil, 0, fmt.Errorf("report: paired differences: %w", err)
		}
		sc.GlyphStyle.Color = color.NRGBA{R: seriesColors[0].R, G: seriesColors[0].G, B: seriesColors[0].B, A: 140}
		sc.GlyphStyle.Radius = vg.Points(2)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(sc)
	}
	eb, err := plotter.NewYErrorBars(struct {
		plotter.XYer
		plotter.YErrorer
	}{means, bars})
	if err != nil {
		return nil, 0, fmt.Errorf("report: paired differences: %w", err)
	}
	eb.LineStyle.Width = vg.Points(2)
	eb.CapWidth = vg.Points(10)
	mark, err := plotter.NewScatter(means)
	if err != nil {
		return nil, 0, fmt.Errorf("report: paired differences: %w", err)
	}
	mark.GlyphStyle.Shape = draw.BoxGlyph{}
	mark.GlyphStyle.Radius = vg.Points(3.5)
	p.Add(eb, mark)
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.5, float64(len(labels))-0.5
	return &chart{p: p}, len(labels), nil
}

// swatch is a legend thumbnail: a filled square.
type swatch color.RGBA

func (s swatch) Thumbnail(c *draw.Canvas) {
	col := color.RGBA(s)
	pts := []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y},
		{X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y},
	}
	c.FillPolygon(color.NRGBA{col.R, col.G, col.B, 70}, pts)
	c.StrokeLines(draw.LineStyle{Color: col, Width: vg.Points(1)}, append(pts, pts[0]))
}

// yRange returns the smallest and largest finite y of c, and how many
// there are.
func yRange(c Curve) (ymin, ymax float64, n int) {
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for _, y := range s.Y {
			if !math.IsNaN(y) && !math.IsInf(y, 0) {
				ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
				n++
			}
		}
	}
	return ymin, ymax, n
}

// curvesLogScale decides one y scale for all the curves of a report, which
// the page sets side by side: logarithmic when every y of every curve is
// positive and some curve spans more than a decade (costs fall fast at
// first), linear otherwise.
func curvesLogScale(cs []Curve) bool {
	wide := false
	for _, c := range cs {
		ymin, ymax, n := yRange(c)
		if n == 0 {
			continue
		}
		if ymin <= 0 {
			return false
		}
		wide = wide || ymax/ymin > 10
	}
	return wide
}

// curvePlot draws c as lines, on a log y scale when logY.
func curvePlot(c Curve, logY bool) (*chart, error) {
	p := newPlot(c.Title, c.XLabel, c.YLabel)
	p.X.Tick.Marker = niceTicks{integer: integerX(c)}
	p.Y.Tick.Marker = niceTicks{}
	p.Add(plotter.NewGrid())
	if _, _, n := yRange(c); n == 0 {
		return nil, nil
	}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		p.Y.Label.Text += " (log scale)"
	}
	ch := &chart{p: p}
	for i, s := range c.Series {
		xy := make(plotter.XYs, 0, len(s.X))
		for j := range s.X {
			if math.IsNaN(s.Y[j]) || math.IsInf(s.Y[j], 0) || math.IsNaN(s.X[j]) || math.IsInf(s.X[j], 0) || (logY && s.Y[j] <= 0) {
				continue
			}
			xy = append(xy, plotter.XY{X: s.X[j], Y: s.Y[j]})
		}
		if len(xy) == 0 {
			continue
		}
		col := seriesColor(i)
		if len(xy) == 1 {
			sc, err := plotter.NewScatter(xy)
			if err != nil {
				return nil, fmt.Errorf("report: curve %q: %w", c.Title, err)
			}
			sc.GlyphStyle.Color = col
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			p.Add(sc)
			if s.Name != "" {
				ch.legend = append(ch.legend, legendEntry{s.Name, sc})
			}
			continue
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, fmt.Errorf("report: curve %q: %w", c.Title, err)
		}
		l.Color = col
		l.Width = vg.Points(1.5)
		if i >= len(seriesColors) {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		if s.Name != "" {
			ch.legend = append(ch.legend, legendEntry{s.Name, l})
		}
	}
	return ch, nil
}

// logTicks marks a log axis with enough labelled ticks to read values:
// powers of ten when the range holds four or more, else 1, 2 and 5 times a
// power of ten, else every whole multiple, else the linear niceTicks; the
// other whole multiples get unlabelled minor ticks.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max > min) || math.IsInf(max, 0) {
		return niceTicks{}.Ticks(min, max)
	}
	candidates := func(mults []float64) []float64 {
		var out []float64
		for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
			for _, m := range mults {
				if v := m * math.Pow(10, e); v >= min*(1-1e-9) && v <= max*(1+1e-9) {
					out = append(out, v)
				}
			}
		}
		return out
	}
	var major []float64
	for _, set := range []struct {
		mults []float64
		need  int
	}{{[]float64{1}, 4}, {[]float64{1, 2, 5}, 3}, {[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}, 3}} {
		if major = candidates(set.mults); len(major) >= set.need {
			break
		}
	}
	if len(major) < 3 {
		return niceTicks{}.Ticks(min, max)
	}
	isMajor := map[float64]bool{}
	var ticks []plot.Tick
	for _, v := range major {
		isMajor[v] = true
		ticks = append(ticks, plot.Tick{Value: v, Label: tickLabel(v)})
	}
	for _, v := range candidates([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		if !isMajor[v] {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

// integerX tells whether every x of c is a whole number (iterations,
// rounds), so that the axis needs no fractional ticks.
func integerX(c Curve) bool {
	for _, s := range c.Series {
		for _, x := range s.X {
			if x != math.Trunc(x) {
				return false
			}
		}
	}
	return true
}

// WriteCurvePNG draws c alone as a PNG file at path (5.5 x 3.4 inches, the
// report's size for curves), atomically; for figures outside a report page,
// such as a sweep's trade-off plots.
func WriteCurvePNG(path string, c Curve) error {
	for _, s := range c.Series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("report: curve %q, series %q: %d x values for %d y values", c.Title, s.Name, len(s.X), len(s.Y))
		}
	}
	ch, err := curvePlot(c, false)
	if err != nil {
		return err
	}
	if ch == nil {
		return fmt.Errorf("report: curve %q has no finite point", c.Title)
	}
	return atomicfile.Write(path, func(out io.Writer) error { return writePlotPNG(out, ch, 5.5*vg.Inch, 3.4*vg.Inch) })
}
