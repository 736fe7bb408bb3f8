package report

import (
	"fmt"
	"image/color"
	"io"
	"math"

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

// savePNG draws p at w x h into the file rel of the report.
func (w *writer) savePNG(rel string, p *plot.Plot, width, height vg.Length) error {
	return atomicfile.Write(w.path(rel), func(out io.Writer) error {
		return writePlotPNG(out, p, width, height)
	})
}

func writePlotPNG(out io.Writer, p *plot.Plot, width, height vg.Length) error {
	c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))
	p.Draw(draw.New(c))
	_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(out)
	return err
}

// boxPlot draws metric m of every method as one box per speaker, grouped by
// method along the x axis.
func boxPlot(methods []Method, speakers []string, m int) (*plot.Plot, error) {
	p := newPlot(metricNames[m]+" per method", "", metricNames[m]+" (dB)")
	p.Legend.Top = true
	p.Legend.Left = false
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
	// Head room at the top keeps the legend clear of the boxes.
	if nsp > 1 {
		p.Y.Max += (0.06 + 0.12*float64(nsp)) * (p.Y.Max - p.Y.Min)
	}
	p.NominalX(names...)
	if len(methods) > 4 {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	if nsp > 1 {
		for si, sp := range speakers {
			p.Legend.Add(sp, swatch(seriesColor(si)))
		}
	}
	return p, nil
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

// curvePlot draws c as lines, on a log y scale when every y is positive
// and they span more than a decade (costs fall fast at first).
func curvePlot(c Curve) (*plot.Plot, error) {
	p := newPlot(c.Title, c.XLabel, c.YLabel)
	p.X.Tick.Marker = niceTicks{integer: integerX(c)}
	p.Y.Tick.Marker = niceTicks{}
	p.Add(plotter.NewGrid())
	ymin, ymax := math.Inf(1), math.Inf(-1)
	n := 0
	for _, s := range c.Series {
		for _, y := range s.Y {
			if !math.IsNaN(y) && !math.IsInf(y, 0) {
				ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
				n++
			}
		}
	}
	if n == 0 {
		return nil, nil
	}
	logY := ymin > 0 && ymax/ymin > 10
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Label.Text += " (log scale)"
	}
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
			p.Legend.Add(s.Name, sc)
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
			p.Legend.Add(s.Name, l)
		}
	}
	p.Legend.Top = true
	return p, nil
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
