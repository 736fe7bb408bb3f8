package report

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// testReport is a small report of synthetic tones: two "speakers" (a low
// and a high harmonic tone), two methods, one example, two cost curves.
func testReport() *Report {
	const rate, n = 16000, 24000
	rng := rand.New(rand.NewPCG(1, 2))
	tone := func(f0, am float64) []float64 {
		x := make([]float64, n)
		for i := range x {
			t := float64(i) / rate
			env := 0.5 + 0.5*math.Sin(2*math.Pi*am*t)
			for h := 1; h <= 6; h++ {
				x[i] += 0.3 / float64(h) * env * math.Sin(2*math.Pi*f0*float64(h)*t*(1+0.05*t))
			}
		}
		return x
	}
	low, high := tone(140, 2.5), tone(420, 3.5)
	mix := make([]float64, n)
	for i := range mix {
		mix[i] = low[i] + high[i]
	}
	leak := func(a, b []float64, g float64) []float64 {
		y := make([]float64, n)
		for i := range y {
			y[i] = a[i] + g*b[i] + 0.001*rng.NormFloat64()
		}
		return y
	}
	r := &Report{
		Title:       "Synthetic tones <test> & \"quotes\"",
		Intro:       "Two harmonic tones mixed at 0 dB, separated by two pretend methods.",
		Verdict:     "DL-NMF beats NMF for low <clearly>.",
		ExampleRule: "The first test mixture, kept before scoring.",
		Config:      [][2]string{{"Sample rate", "16000 Hz"}, {"STFT", "1024 / 256"}},
		Notes:       []string{"Wall time 1.2 s.", "Iterations: 200 <b>not bold</b>."},
	}
	for mi, name := range []string{"NMF K=20", "DL-NMF 180,20"} {
		m := Method{Name: name}
		for k := 0; k < 6; k++ {
			for _, sp := range []string{"low", "high"} {
				base := 5 + 2*float64(mi)
				m.Scores = append(m.Scores, Score{
					Mixture: "mix" + string(rune('A'+k)), Speaker: sp,
					SDR: base + rng.NormFloat64(), SIR: base + 4 + rng.NormFloat64(), SAR: base + 3 + rng.NormFloat64(),
				})
			}
		}
		r.Methods = append(r.Methods, m)
	}
	r.Examples = []Example{{
		Name: "mixA", Rate: rate, Mixture: mix, Caption: "SDR differences in this mixture: 2 dB.",
		Sources: []Track{{"low", low}, {"high", high}},
		Estimates: []Estimate{
			{"NMF K=20", []Track{{"low", leak(low, high, 0.3)}, {"high", leak(high, low, 0.3)}}},
			{"DL-NMF 180,20", []Track{{"low", leak(low, high, 0.1)}, {"high", leak(high, low, 0.1)}}},
		},
	}}
	var it, c1, c2 []float64
	for i := 1; i <= 50; i++ {
		it = append(it, float64(i))
		c1 = append(c1, 1000/float64(i)+10)
		c2 = append(c2, 800/float64(i)+12)
	}
	r.Paired = []Paired{
		{A: "DL-NMF 180,20", B: "NMF K=20", Speaker: "low", Metric: "sdr", Diff: 2.1, CI95: 0.8, P: 0.002, N: 6},
		{A: "DL-NMF 180,20", B: "NMF K=20", Speaker: "high", Metric: "sdr", Diff: 0.3, CI95: 0.9, P: 0.41, N: 6},
	}
	r.Curves = []Curve{
		{Title: "Training cost", XLabel: "iteration", YLabel: "KL divergence", Series: []Series{{"low", it, c1}, {"high", it, c2}}},
		{Title: "Discriminative cost", XLabel: "round", YLabel: "cost", Series: []Series{{"DL-NMF 180,20", []float64{1, 2, 3}, []float64{5, 4.5, 4.4}}}},
	}
	return r
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "report")
	if err := Write(dir, testReport()); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	for _, want := range []string{
		"Synthetic tones &lt;test&gt; &amp; &#34;quotes&#34;", // escaped
		"200 &lt;b&gt;not bold&lt;/b&gt;.",
		"<audio controls", "NMF K=20", "DL-NMF 180,20", "Clean sources", "Sample rate",
		// The run's verdict, the examples' rule and captions, the paired
		// differences' figure.
		`<p class="verdict" id="verdict">DL-NMF beats NMF for low &lt;clearly&gt;.</p>`,
		"The first test mixture, kept before scoring.", "<p>SDR differences in this mixture: 2 dB.</p>",
		`<img src="figures/paired-sdr.png" alt="Per-mixture SDR differences`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	// Every local link resolves, nothing points off the folder.
	links := localLinks(t, page)
	var imgs, wavs int
	for _, l := range links {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(l))); err != nil {
			t.Errorf("broken link %q: %v", l, err)
		}
		switch {
		case strings.HasSuffix(l, ".png"):
			imgs++
		case strings.HasSuffix(l, ".wav"):
			wavs++
		}
	}
	// 3 box plots, 1 paired differences, 7 spectrograms, 2 curves; 7 audio
	// files (player + download link each).
	if imgs != 13 || wavs != 14 {
		t.Errorf("%d image and %d audio links, want 13 and 14", imgs, wavs)
	}
	// Pictures decode; no temporary files are left behind.
	err = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(info.Name(), ".") {
			t.Errorf("temporary file left: %s", path)
		}
		if strings.HasSuffix(path, ".png") {
			b, _ := os.ReadFile(path)
			if _, err := png.Decode(bytes.NewReader(b)); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Writing again into the same folder works and gives the same page.
	if err := Write(dir, testReport()); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	if !bytes.Equal(again, html) {
		t.Error("a second Write of the same report gives a different index.html")
	}
}

// TestShading checks that a column's best mean is shaded only when a
// paired t-test over the same mixtures puts it above the runner-up with
// p < 0.05, and that the tooltip states the test.
func TestShading(t *testing.T) {
	method := func(name string, sdr ...float64) Method {
		m := Method{Name: name}
		for i, v := range sdr {
			m.Scores = append(m.Scores, Score{Mixture: fmt.Sprint("m", i), Speaker: "A", SDR: v, SIR: v, SAR: v})
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		methods []Method
		best    int // row shaded, -1 none
	}{
		// 8.63 against 8.54 with p = 0.86: not shaded (the audit's case).
		{"not significant", []Method{method("NMF", 9, 7, 10.9, 7.6), method("DL-NMF", 8, 9.5, 8.2, 8.46)}, -1},
		// Better on every mixture by about a dB: shaded, though a third
		// method is far behind.
		{"significant", []Method{method("NMF", 5, 6, 7, 8), method("L-NMF", 6.1, 6.9, 8.2, 8.9), method("bad", 1, 1, 2, 1)}, 1},
		{"one method", []Method{method("NMF", 5, 6, 7, 8)}, -1},
	} {
		tab := buildTable(tc.methods)
		for i, row := range tab.Rows {
			for c, cell := range row.Cells {
				if cell.Best != (i == tc.best) {
					t.Errorf("%s: row %s column %d shaded %v (%s)", tc.name, row.Method, c, cell.Best, cell.Title)
				}
			}
		}
		if tc.best >= 0 && !strings.Contains(tab.Rows[tc.best].Cells[0].Title, "paired p = ") {
			t.Errorf("%s: tooltip %q does not state the test", tc.name, tab.Rows[tc.best].Cells[0].Title)
		}
	}
}

// TestExampleScores checks that every estimate of an example shows its own
// SDR, SIR and SAR, found by the example's ID, and that the paired table
// is on the page.
func TestExampleScores(t *testing.T) {
	r := testReport()
	r.Examples[0].ID, r.Examples[0].Name = r.Examples[0].Name, "Repeat 1, test mixture 1: low01 (low) + high07 (high)"
	dir := t.TempDir()
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	page := string(b)
	if n := strings.Count(page, `class="score"`); n != 12 {
		t.Errorf("%d score items on the page, want 12 (2 methods x 2 speakers x 3 metrics)", n)
	}
	want := r.Methods[1].Scores[0] // DL-NMF, mixA, low
	if !strings.Contains(page, fmt.Sprintf(`data-metric="SIR">SIR <b>%.1f</b> dB`, want.SIR)) {
		t.Errorf("the page does not show DL-NMF's SIR %.1f of mixA", want.SIR)
	}
	// html/template writes "+" as "&#43;".
	for _, s := range []string{"Repeat 1, test mixture 1: low01 (low) + high07 (high)", `<table class="paired">`, "+2.10", "0.410"} {
		if !strings.Contains(strings.ReplaceAll(page, "&#43;", "+"), s) {
			t.Errorf("the page lacks %q", s)
		}
	}
}

var linkRE = regexp.MustCompile(`(?:src|href)="([^"]*)"`)

// localLinks returns every src and href of page, failing on any that would
// leave the folder or need a network.
func localLinks(t *testing.T, page string) []string {
	t.Helper()
	var out []string
	for _, m := range linkRE.FindAllStringSubmatch(page, -1) {
		l := m[1]
		if strings.HasPrefix(l, "#") {
			continue
		}
		if strings.Contains(l, ":") || strings.HasPrefix(l, "/") || strings.Contains(l, "..") {
			t.Errorf("link %q is not relative to the report folder", l)
			continue
		}
		out = append(out, l)
	}
	return out
}

func TestWriteErrors(t *testing.T) {
	for name, mutate := range map[string]func(r *Report){
		"rate":   func(r *Report) { r.Examples[0].Rate = 0 },
		"empty":  func(r *Report) { r.Examples[0].Sources[1].Samples = nil },
		"series": func(r *Report) { r.Curves[0].Series[0].Y = r.Curves[0].Series[0].Y[1:] },
	} {
		r := testReport()
		mutate(r)
		err := Write(t.TempDir(), r)
		if err == nil || !strings.HasPrefix(err.Error(), "report: ") {
			t.Errorf("%s: err = %v, want a report: error", name, err)
		}
	}
	if err := Write(t.TempDir(), nil); err == nil {
		t.Error("nil report: no error")
	}
}

func TestWriteMinimal(t *testing.T) {
	// A report with nothing but a title is valid: sections are left out.
	dir := t.TempDir()
	if err := Write(dir, &Report{Title: "empty"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	if strings.Contains(string(b), `id="scores"`) || strings.Contains(string(b), "<img") {
		t.Error("empty report shows a score table or figures")
	}
}

func TestSpectrogramPNG(t *testing.T) {
	x := make([]float64, 16000)
	for i := range x {
		x[i] = 0.5 * math.Sin(2*math.Pi*1000*float64(i)/16000)
	}
	var buf bytes.Buffer
	if err := SpectrogramPNG(&buf, x, 16000, "1 kHz"); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 200 {
		t.Errorf("picture is %v, too small", b)
	}
	if err := SpectrogramPNG(&buf, nil, 16000, ""); err == nil {
		t.Error("empty signal: no error")
	}
	if err := SpectrogramPNG(&buf, x, 0, ""); err == nil {
		t.Error("zero rate: no error")
	}
}

func TestSpectrogramLevel(t *testing.T) {
	// A full-scale sine peaks at 0 dBFS, a -20 dB one at -20 dBFS,
	// whatever scaling package stft uses.
	for _, amp := range []float64{1, 0.1} {
		x := make([]float64, 16000)
		for i := range x {
			x[i] = amp * math.Sin(2*math.Pi*500*float64(i)/16000)
		}
		s, err := newSpectrogram(x, 16000)
		if err != nil {
			t.Fatal(err)
		}
		peak := math.Inf(-1)
		for _, v := range s.db {
			peak = math.Max(peak, v)
		}
		// 500 Hz is bin 32 exactly; interior frames see the full window.
		if want := 20 * math.Log10(amp); math.Abs(peak-want) > 0.1 {
			t.Errorf("amplitude %v: peak %.2f dBFS, want %.2f", amp, peak, want)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"DL-NMF 180,20": "dl-nmf-180-20", "ex01-mixture": "ex01-mixture", "": "x", "/../é": "x",
		"Ünïcode name": "n-code-name",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkSpectrogramPNG(b *testing.B) {
	// Three seconds at 16 kHz: a typical test mixture.
	x := testReport().Examples[0].Mixture
	x = append(append(x, x...), x[:0]...)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := SpectrogramPNG(&buf, x, 16000, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLogTicks checks that a log axis gets at least three labelled ticks
// inside its range, also within one decade (the "1e+06" alone of before).
func TestLogTicks(t *testing.T) {
	for _, r := range [][2]float64{{1.2e6, 3e6}, {10, 1e6}, {130000, 152000}, {0.5, 4}} {
		var labelled []string
		for _, tk := range (logTicks{}).Ticks(r[0], r[1]) {
			if tk.Value < r[0] || tk.Value > r[1] {
				t.Errorf("range %g..%g: tick %g outside", r[0], r[1], tk.Value)
			}
			if tk.Label != "" {
				labelled = append(labelled, tk.Label)
			}
		}
		if len(labelled) < 3 || len(labelled) > 12 {
			t.Errorf("range %g..%g: labelled ticks %q", r[0], r[1], labelled)
		}
		for _, l := range labelled {
			if strings.Contains(l, "e+") {
				t.Errorf("tick label %q", l)
			}
		}
	}
}

// TestTickLabel checks that an axis's labels share one notation: plain
// below 10,000, SI prefixes above (a cost axis read "2e6", "1e6" and
// "500000" before).
func TestTickLabel(t *testing.T) {
	for v, want := range map[float64]string{
		0.5: "0.5", 250: "250", 9000: "9000", -20: "-20", 10000: "10k", 500000: "500k", 1e6: "1M",
		2e6: "2M", 1.52e6: "1.52M", 152000: "152k", 3.5e9: "3.5G", 1.2e-5: "1.2e-5",
	} {
		if got := tickLabel(v); got != want {
			t.Errorf("tickLabel(%g) = %q, want %q", v, got, want)
		}
	}
}

// TestFitYLabel checks that a y label too long for the picture is broken
// and set smaller until it fits, and that a short one is left alone.
func TestFitYLabel(t *testing.T) {
	const height = 3.4 * 72 // points, the cost figures' height
	long := newPlot("", "round", "sum of divergences to the clean spectrograms (log scale)")
	fitYLabel(long, height)
	if w := long.Y.Label.TextStyle.Width(long.Y.Label.Text); w > height*0.8 || !strings.Contains(long.Y.Label.Text, "\n") {
		t.Errorf("label %q is %v long for a %v pt axis", long.Y.Label.Text, w, height)
	}
	short := newPlot("", "round", "SDR (dB)")
	size := short.Y.Label.TextStyle.Font.Size
	fitYLabel(short, height)
	if short.Y.Label.Text != "SDR (dB)" || short.Y.Label.TextStyle.Font.Size != size {
		t.Errorf("a short label was changed: %q at %v", short.Y.Label.Text, short.Y.Label.TextStyle.Font.Size)
	}
}
