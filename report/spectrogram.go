package report

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"math/cmplx"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/dlnmf/dlnmf/stft"
)

// Spectrogram pictures show this many dB below their top level; quieter
// cells are drawn in the darkest colour.
const dynamicRange = 80

// Size of a spectrogram picture.
var (
	specWidth  = 6.4 * vg.Inch
	specHeight = 2.5 * vg.Inch
	barWidth   = 0.95 * vg.Inch
)

// Levels is the span of a spectrogram's colour scale, in dBFS: Lo is drawn
// in the darkest colour (and every quieter cell), Hi in the brightest (and
// every louder one). The zero value means automatic: Hi the loudest cell
// rounded up to a multiple of 10 dB, Lo 80 dB below it. Two pictures drawn
// with the same Levels share a colour scale, so their colours compare.
type Levels struct{ Lo, Hi float64 }

// maxLevelSpan bounds the span of Levels: 400 dB is far beyond any
// signal (a 64-bit float's dynamic range is about 6000 dB, a 24-bit
// file's 144 dB), and a span under 1 dB would have no readable scale.
const (
	minLevelSpan = 1
	maxLevelSpan = 400
)

// Check rejects levels that are not finite, or whose span is not 1 to 400
// dB with Lo below Hi. The zero value is valid (automatic).
func (l Levels) Check() error {
	if l == (Levels{}) {
		return nil
	}
	if math.IsNaN(l.Lo) || math.IsInf(l.Lo, 0) || math.IsNaN(l.Hi) || math.IsInf(l.Hi, 0) || !(l.Hi-l.Lo >= minLevelSpan && l.Hi-l.Lo <= maxLevelSpan) {
		return fmt.Errorf("levels %g to %g dBFS: want LO below HI, %d to %d dB apart", l.Lo, l.Hi, minLevelSpan, maxLevelSpan)
	}
	return nil
}

// levels returns l, or the automatic levels of s when l is the zero value.
func (s *spectrogram) levels(l Levels) Levels {
	if l != (Levels{}) {
		return l
	}
	top := s.top()
	return Levels{Lo: top - dynamicRange, Hi: top}
}

// SpectrogramPNG writes a PNG picture of the log-magnitude spectrogram of x
// (sampled at rate Hz): time in seconds across, frequency in kHz up, level
// in dBFS (0 dB is the peak of a full-scale sine) as colour, with a colour
// scale. The colours span 80 dB below the loudest cell, rounded up to a
// multiple of 10 dB. The STFT is package stft's default (1024-point
// periodic Hann window, hop 256).
func SpectrogramPNG(w io.Writer, x []float64, rate int, title string) error {
	return SpectrogramPNGFrom(w, sliceSource(x), len(x), rate, title, Levels{})
}

// SpectrogramPNGFrom draws the picture SpectrogramPNG draws for a signal of
// n samples that it pulls from src, in memory that does not depend on n:
// src fills dst with up to len(dst) samples and returns how many, like
// io.Reader.Read (io.EOF before n samples is an error). A picture has at
// most maxColumns columns: beyond that many STFT frames, each column shows
// the RMS magnitude of the frames it covers (up to that, one frame each).
// The colour scale spans levels (Levels{}: automatic, as SpectrogramPNG).
func SpectrogramPNGFrom(w io.Writer, src func(dst []float64) (int, error), n, rate int, title string, levels Levels) error {
	if err := levels.Check(); err != nil {
		return err
	}
	sp, err := streamSpectrogram(src, n, rate)
	if err != nil {
		return err
	}
	return sp.png(w, title, sp.levels(levels))
}

// maxColumns bounds the columns of a spectrogram picture, and so its
// memory: about three times the pixels across the picture's data area.
const maxColumns = 2048

// sliceSource returns a source that hands out x.
func sliceSource(x []float64) func(dst []float64) (int, error) {
	return func(dst []float64) (int, error) {
		if len(x) == 0 {
			return 0, io.EOF
		}
		k := copy(dst, x)
		x = x[k:]
		return k, nil
	}
}

// spectrogram is the dBFS level of an STFT, bins x frames row-major; a
// "frame" here is a column of the picture, one STFT frame or the RMS of
// several, step seconds wide; the first starts half a hop (halfHop seconds)
// before time 0.
type spectrogram struct {
	db                     []float64
	bins, frames           int
	rate, fft              int
	step, halfHop, seconds float64
}

var (
	planOnce sync.Once
	planMu   sync.Mutex // a stft.Plan is not safe for concurrent use
	plan     *stft.Plan
	planErr  error
	fullDB   float64 // level of a full-scale sine in 20*log10(|X|) units
)

// defaultPlan returns the shared default STFT plan and the magnitude of a
// full-scale sine's peak bin under it, measured once: this makes the dB
// scale independent of how package stft scales its transform.
func defaultPlan() (*stft.Plan, float64, error) {
	planOnce.Do(func() {
		plan, planErr = stft.NewPlan(stft.Settings{})
		if planErr != nil {
			return
		}
		// A sine exactly on bin 32, several windows long.
		const n, bin = 8192, 32
		nfft := plan.Settings().FFTSize
		x := make([]float64, n)
		for i := range x {
			x[i] = math.Sin(2 * math.Pi * bin * float64(i) / float64(nfft))
		}
		mag := plan.Forward(nil, x).Magnitude(nil)
		var peak float64
		for _, v := range mag {
			peak = math.Max(peak, v)
		}
		fullDB = 20 * math.Log10(peak)
	})
	return plan, fullDB, planErr
}

func newSpectrogram(x []float64, rate int) (*spectrogram, error) {
	return streamSpectrogram(sliceSource(x), len(x), rate)
}

// spectrogramBlock is how many STFT frames streamSpectrogram computes at
// once.
const spectrogramBlock = 512

// streamSpectrogram computes the spectrogram of n samples pulled from src,
// frames in blocks: block [t0, t1) is the STFT of the samples its frames
// cover, with a lead of D samples (a whole number of hops, at least half a
// window) so that frame t of the signal is frame t-t0+D/hop of the block's
// STFT, computed from the same samples (zeros beyond the signal's ends, as
// the whole signal's STFT pads it). So each frame is bit for bit the frame
// of the whole signal's STFT.
func streamSpectrogram(src func(dst []float64) (int, error), n, rate int) (*spectrogram, error) {
	if rate <= 0 {
		return nil, fmt.Errorf("report: spectrogram: sample rate %d is not positive", rate)
	}
	if n <= 0 {
		return nil, errors.New("report: spectrogram: empty signal")
	}
	p, ref, err := defaultPlan()
	if err != nil {
		return nil, fmt.Errorf("report: spectrogram: %w", err)
	}
	st := p.Settings()
	hop, W, half := st.Hop, st.WindowSize, st.WindowSize/2
	T, bins := p.Frames(n), p.Bins()
	cols := min(T, maxColumns)
	lead := (half + hop - 1) / hop * hop
	power := make([]float64, bins*cols) // sum of |X|^2 of the frames of each column
	count := make([]int, cols)

	var (
		have   []float64 // samples haveLo, haveLo+1, ... of the signal
		haveLo int
		seg    []float64
		spec   *stft.Spectrogram
		empty  int
	)
	for t0 := 0; t0 < T; t0 += spectrogramBlock {
		t1 := min(t0+spectrogramBlock, T)
		a, b := t0*hop-lead, (t1-1)*hop-half+W // the samples of frames t0..t1-1, with the lead
		if drop := min(a-haveLo, len(have)); drop > 0 {
			have = have[:copy(have, have[drop:])]
			haveLo += drop
		}
		for haveLo+len(have) < min(b, n) {
			k0 := len(have)
			have = slices.Grow(have, min(b, n)-haveLo-k0)
			k, err := src(have[k0 : min(b, n)-haveLo])
			have = have[:k0+k]
			switch {
			case err == io.EOF && haveLo+len(have) < n:
				return nil, fmt.Errorf("the signal ended after %d of %d samples", haveLo+len(have), n)
			case err != nil && err != io.EOF:
				return nil, err
			case k == 0:
				if empty++; empty >= 100 {
					return nil, io.ErrNoProgress
				}
			default:
				empty = 0
			}
		}
		seg = slices.Grow(seg[:0], b-a)[:b-a]
		for j := range seg {
			if i := a + j; i >= 0 && i < n {
				seg[j] = have[i-haveLo]
			} else {
				seg[j] = 0
			}
		}
		if spec != nil && spec.Frames != p.Frames(len(seg)) {
			spec = &stft.Spectrogram{Data: spec.Data[:0]} // reuse the storage
		}
		planMu.Lock()
		spec = p.Forward(spec, seg)
		planMu.Unlock()
		off := lead/hop - t0
		for t := t0; t < t1; t++ {
			c := int(int64(t) * int64(cols) / int64(T))
			count[c]++
			for bi := range bins {
				v := cmplx.Abs(spec.Data[bi*spec.Frames+t+off])
				if math.IsNaN(v) {
					v = 0
				}
				power[bi*cols+c] += v * v
			}
		}
	}
	// A floor far below 16-bit quantisation keeps log10 finite in silence.
	const floor = 1e-12
	for i, pw := range power {
		// sqrt(v*v) is v exactly: a one-frame column is that frame.
		power[i] = 20*math.Log10(math.Sqrt(pw/float64(count[i%cols]))+floor) - ref
	}
	return &spectrogram{
		db: power, bins: bins, frames: cols,
		rate: rate, fft: st.FFTSize,
		step: float64(hop) * float64(T) / float64(cols) / float64(rate), halfHop: float64(hop) / 2 / float64(rate),
		seconds: float64(n) / float64(rate),
	}, nil
}

// top is the colour scale's top: the loudest cell rounded up to 10 dB.
func (s *spectrogram) top() float64 {
	m := math.Inf(-1)
	for _, v := range s.db {
		m = math.Max(m, v)
	}
	if math.IsInf(m, 0) {
		return 0
	}
	return 10 * math.Ceil(m/10)
}

func (s *spectrogram) png(w io.Writer, title string, l Levels) error {
	cmap := moreland.ExtendedBlackBody()
	cmap.SetMin(l.Lo)
	cmap.SetMax(l.Hi)

	// One pixel per STFT cell, low frequencies at the bottom; plotter.Image
	// scales it to the data area.
	lut := colorTable(cmap)
	img := image.NewRGBA(image.Rect(0, 0, s.frames, s.bins))
	scale := float64(len(lut)-1) / (l.Hi - l.Lo)
	for b := 0; b < s.bins; b++ {
		row := s.bins - 1 - b
		for f := 0; f < s.frames; f++ {
			k := (s.db[b*s.frames+f] - l.Lo) * scale
			img.SetRGBA(f, row, lut[int(math.Max(0, math.Min(float64(len(lut)-1), math.Round(k))))])
		}
	}
	khz := float64(s.rate) / 2000
	// STFT frame t is centred on sample t*hop and covers one hop; a column
	// covers its frames.
	dt := s.step
	tmin := -s.halfHop
	tmax := tmin + float64(s.frames)*dt
	main := newPlot(title, "Time (s)", "Frequency (kHz)")
	main.Add(plotter.NewImage(img, tmin, 0, tmax, khz))
	main.X.Min, main.X.Max = 0, math.Min(tmax, math.Max(s.seconds, dt))
	main.Y.Min, main.Y.Max = 0, khz
	main.Y.Tick.Marker = niceTicks{}
	main.X.Tick.Marker = niceTicks{}

	bar := plot.New()
	if title != "" {
		bar.Title.Text = " " // the same height as main's title keeps both aligned
	}
	bar.Title.TextStyle.Font.Size = main.Title.TextStyle.Font.Size
	bar.Title.Padding = main.Title.Padding
	bar.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true})
	bar.X.Label.Text = "dBFS"
	bar.X.Tick.Marker = plot.ConstantTicks{{Value: 0.5, Label: " "}}
	bar.X.LineStyle.Width = 0
	bar.X.Tick.LineStyle.Width = 0
	bar.Y.Label.Text = ""
	bar.Y.Min, bar.Y.Max = l.Lo, l.Hi
	sans(bar)
	// The bar's scale goes on its right, drawn by drawBarTicks.
	bar.HideY()

	c := vgimg.NewWith(vgimg.UseWH(specWidth+barWidth, specHeight), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	dc.FillPolygon(color.White, []vg.Point{dc.Min, {X: dc.Max.X, Y: dc.Min.Y}, dc.Max, {X: dc.Min.X, Y: dc.Max.Y}})
	// A small top margin keeps the bar's top label inside the picture.
	margin := vg.Points(6)
	main.Draw(draw.Crop(dc, 0, -barWidth, 0, -margin))
	barCanvas := draw.Crop(dc, specWidth+vg.Points(4), -vg.Points(34), 0, -margin)
	bar.Draw(barCanvas)
	drawBarTicks(barCanvas, bar, l)
	_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return err
}

// drawBarTicks labels the colour bar on its right side, from its top down
// in steps of 1, 2 or 5 times a power of ten that give at most 5 labels:
// every 20 dB for the automatic 80 dB.
func drawBarTicks(c draw.Canvas, bar *plot.Plot, l Levels) {
	da := bar.DataCanvas(c)
	_, trY := bar.Transforms(&da)
	sty := bar.X.Label.TextStyle
	sty.Font.Size = vg.Points(9)
	sty.XAlign = draw.XLeft
	sty.YAlign = draw.YCenter
	step := barStep(l.Hi - l.Lo)
	for k := 0; l.Hi-float64(k)*step >= l.Lo-step*1e-9; k++ {
		v := l.Hi - float64(k)*step
		y := trY(v)
		c.StrokeLine2(draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}, da.Max.X, y, da.Max.X+vg.Points(3), y)
		c.FillText(sty, vg.Point{X: da.Max.X + vg.Points(5), Y: y}, strconv.FormatFloat(math.Round(v*10)/10+0, 'f', -1, 64))
	}
}

// barStep is the smallest step of 1, 2 or 5 times a power of ten that
// cuts span into at most 4 parts.
func barStep(span float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(span/4)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p*4 >= span*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// colorTable samples cmap at 256 levels from its Min to its Max: the colour
// map interpolates in CIE L*a*b*, too slow to call for every cell.
func colorTable(cmap palette.ColorMap) []color.RGBA {
	lut := make([]color.RGBA, 256)
	for i := range lut {
		v := cmap.Min() + (cmap.Max()-cmap.Min())*float64(i)/float64(len(lut)-1)
		col, err := cmap.At(math.Max(cmap.Min(), math.Min(cmap.Max(), v)))
		if err != nil {
			lut[i] = color.RGBA{A: 255}
			continue
		}
		r, g, b, _ := col.RGBA()
		lut[i] = color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}
	}
	return lut
}

// niceTicks marks every 1, 2 or 5 times a power of ten, whichever gives 4
// to 10 labelled marks; gonum's default ticker often labels only two or
// three.
type niceTicks struct {
	integer bool // steps of at least 1, for counts such as iterations
}

func (nt niceTicks) Ticks(min, max float64) []plot.Tick {
	span := max - min
	if !(span > 0) || math.IsInf(span, 0) {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	step := math.Pow(10, math.Floor(math.Log10(span)))
	for _, m := range []float64{0.1, 0.2, 0.5, 1, 2, 5, 10} {
		if span/(step*m) <= 10 {
			step *= m
			break
		}
	}
	if nt.integer {
		step = math.Max(step, 1)
	}
	var ticks []plot.Tick
	for k := math.Ceil(min / step); k*step <= max+1e-9*span; k++ {
		v := k * step
		if math.Abs(v) < 1e-12*span {
			v = 0 // no "-0"
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: tickLabel(v)})
	}
	return ticks
}

// tickLabel formats a tick value short and in one notation along an axis:
// "0.5", "250", "9000", and from 10,000 up with the SI prefixes k, M, G
// ("500k", "1M", "1.52M", not "500000" beside "1e6"); "1.2e-5" for the
// very small (not "1.2e-05").
func tickLabel(v float64) string {
	for _, p := range []struct {
		scale  float64
		suffix string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if a := math.Abs(v); a >= 1e4 && a >= p.scale && a < 1e12 {
			return strconv.FormatFloat(v/p.scale, 'g', 4, 64) + p.suffix
		}
	}
	s := strconv.FormatFloat(v, 'g', 6, 64)
	for _, r := range [][2]string{{"e+0", "e"}, {"e+", "e"}, {"e-0", "e-"}} {
		s = strings.Replace(s, r[0], r[1], 1)
	}
	return s
}
