package report

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/dlnmf/dlnmf/stats"
)

// page is the view model that pageTemplate renders: all numbers already
// formatted, all file names relative.
type page struct {
	Title       string
	Intro       string
	Verdict     string
	Config      [][2]string
	Table       *scoreTable
	Paired      []pairedRow
	PairedFig   *figure // the per-mixture SDR differences, with their means' intervals
	ExampleRule string
	Boxes       []figure
	WideBox     bool // many methods: one box plot per row
	Examples    []examplePage
	Curves      []figure
	Notes       []string
}

type figure struct {
	Src, Alt string
}

type scoreTable struct {
	Speakers []string
	Metrics  []string
	Rows     []scoreRow
	N        string // "n = 90 mixtures" or a range
}

type scoreRow struct {
	Method string
	Cells  []scoreCell // speaker-major: speaker 0 SDR, SIR, SAR, speaker 1 ...
}

type scoreCell struct {
	Mean, CI string
	Best     bool   // the column's best mean, better than the runner-up with p < 0.05
	Title    string // tooltip: n, std, the test against the runner-up
}

// pairedRow is one line of the paired-differences table.
type pairedRow struct {
	A, B, Speaker, Metric string
	Diff, CI, P           string
	N                     int
	Significant           bool
}

type examplePage struct {
	Name    string
	Caption string
	Note    string
	Rows    []panelRow
	Index   int
}

type panelRow struct {
	Label  string
	Panels []panel
}

type panel struct {
	Title  string
	Img    string
	Audio  string
	Scores []scoreItem // this estimate's own SDR, SIR and SAR, when known
}

// scoreItem is one score of one estimate, formatted: {"SDR", "7.1"}.
type scoreItem struct{ Metric, Value string }

var metricNames = []string{"SDR", "SIR", "SAR"}

func metric(s Score, m int) float64 {
	switch m {
	case 0:
		return s.SDR
	case 1:
		return s.SIR
	default:
		return s.SAR
	}
}

// speakersOf lists the speakers in the order they first appear.
func speakersOf(methods []Method) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range methods {
		for _, s := range m.Scores {
			if !seen[s.Speaker] {
				seen[s.Speaker] = true
				out = append(out, s.Speaker)
			}
		}
	}
	return out
}

// finite returns the finite values of x: an infinite SIR (a perfectly
// suppressed interferer) would otherwise turn every mean into +Inf.
func finite(x []float64) []float64 {
	out := x[:0:0]
	for _, v := range x {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}

// values returns metric m of method's scores for speaker, finite only.
func values(method Method, speaker string, m int) []float64 {
	var v []float64
	for _, s := range method.Scores {
		if s.Speaker == speaker {
			v = append(v, metric(s, m))
		}
	}
	return finite(v)
}

func buildTable(methods []Method) *scoreTable {
	speakers := speakersOf(methods)
	if len(speakers) == 0 {
		return nil
	}
	t := &scoreTable{Speakers: speakers, Metrics: metricNames}
	nmin, nmax := math.MaxInt, 0
	sums := make([][]stats.Summary, len(methods))
	for i, m := range methods {
		for _, sp := range speakers {
			for mi := range metricNames {
				s := stats.Summarize(values(m, sp, mi))
				sums[i] = append(sums[i], s)
				if s.N > 0 {
					nmin, nmax = min(nmin, s.N), max(nmax, s.N)
				}
			}
		}
	}
	for i, m := range methods {
		row := scoreRow{Method: m.Name}
		for _, s := range sums[i] {
			cell := scoreCell{Mean: "—", Title: "no scores"}
			if s.N > 0 {
				cell.Mean = fmt.Sprintf("%.2f", s.Mean)
				cell.Title = fmt.Sprintf("n = %d", s.N)
				if s.N > 1 {
					cell.CI = fmt.Sprintf("± %.2f", s.CI95)
					cell.Title += fmt.Sprintf(", std %.2f dB, 95%% CI [%.2f, %.2f]", s.Std, s.Mean-s.CI95, s.Mean+s.CI95)
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		t.Rows = append(t.Rows, row)
	}
	// The best mean of a column is shaded only when a paired t-test over
	// the same mixtures says it beats the runner-up (p < 0.05).
	for si, sp := range speakers {
		for mi := range metricNames {
			c := si*len(metricNames) + mi
			best, second := -1, -1
			for i := range methods {
				if sums[i][c].N == 0 {
					continue
				}
				switch {
				case best < 0 || sums[i][c].Mean > sums[best][c].Mean:
					best, second = i, best
				case second < 0 || sums[i][c].Mean > sums[second][c].Mean:
					second = i
				}
			}
			if second < 0 {
				continue
			}
			a, b := pairedValues(methods[best], methods[second], sp, mi)
			if len(a) < 2 {
				continue
			}
			d, _, p := stats.PairedT(a, b)
			cell := &t.Rows[best].Cells[c]
			cell.Title += fmt.Sprintf("; %+.2f dB over %s, paired p = %s (n = %d)", d, methods[second].Name, fmtP(p), len(a))
			cell.Best = d > 0 && p < 0.05
		}
	}
	switch {
	case nmax == 0:
		t.N = ""
	case nmin == nmax:
		t.N = fmt.Sprintf("%d", nmin)
	default:
		t.N = fmt.Sprintf("%d to %d", nmin, nmax)
	}
	return t
}

// pairedValues returns metric m of speaker's scores of a and b over the
// mixtures both have, finite in both, in a's order.
func pairedValues(a, b Method, speaker string, m int) (xa, xb []float64) {
	bm := map[string]float64{}
	for _, s := range b.Scores {
		if s.Speaker == speaker {
			bm[s.Mixture] = metric(s, m)
		}
	}
	for _, s := range a.Scores {
		if s.Speaker != speaker {
			continue
		}
		vb, ok := bm[s.Mixture]
		va := metric(s, m)
		if ok && len(finite([]float64{va, vb})) == 2 {
			xa, xb = append(xa, va), append(xb, vb)
		}
	}
	return xa, xb
}

// fmtP formats a p-value: three decimals, "< 0.001" below.
func fmtP(p float64) string {
	switch {
	case math.IsNaN(p):
		return "—"
	case p < 0.001:
		return "< 0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

func pairedRows(ps []Paired) []pairedRow {
	var out []pairedRow
	for _, p := range ps {
		r := pairedRow{A: p.A, B: p.B, Speaker: p.Speaker, Metric: strings.ToUpper(p.Metric), N: p.N,
			Diff: fmt.Sprintf("%+.2f", p.Diff), P: fmtP(p.P), Significant: p.P < 0.05}
		if !math.IsNaN(p.CI95) {
			r.CI = fmt.Sprintf("± %.2f", p.CI95)
		}
		out = append(out, r)
	}
	return out
}

// exampleScores finds method's score of speaker in mixture, for a panel.
func exampleScores(methods []Method, method, mixture, speaker string) []scoreItem {
	for _, m := range methods {
		if m.Name != method {
			continue
		}
		for _, s := range m.Scores {
			if s.Mixture == mixture && s.Speaker == speaker {
				var out []scoreItem
				for mi, name := range metricNames {
					out = append(out, scoreItem{name, fmt.Sprintf("%.1f", metric(s, mi))})
				}
				return out
			}
		}
	}
	return nil
}

var pageTemplate = template.Must(template.New("index.html").Funcs(template.FuncMap{
	// mod3 marks the first column of each speaker's group of metrics.
	"mod3": func(i int) int { return i % 3 },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
:root { --fg: #1d232a; --muted: #5b6670; --line: #dde3e8; --accent: #1f6feb; --bg: #f6f8fa; --best: #e6f4ea; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 28px; margin: 8px 0 6px; }
h2 { font-size: 20px; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 24px 0 8px; }
p.intro { color: var(--muted); max-width: 80ch; margin-top: 0; }
p.verdict { max-width: 80ch; padding: 10px 14px; border-left: 4px solid var(--accent); background: var(--bg); }
nav { font-size: 14px; margin: 12px 0 0; }
nav a { color: var(--accent); text-decoration: none; margin-right: 16px; }
nav a:hover { text-decoration: underline; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; }
th { font-weight: 600; background: var(--bg); }
table.config td:first-child { color: var(--muted); }
table.scores td.num { text-align: right; white-space: nowrap; }
table.scores th.group { text-align: center; border-left: 2px solid #fff; }
table.scores td.first, table.scores th.first { border-left: 2px solid var(--line); }
table.scores td.best { background: var(--best); font-weight: 600; }
table.scores .ci, table.paired .ci { color: var(--muted); font-weight: 400; font-size: 13px; }
table.paired td.num { text-align: right; white-space: nowrap; }
table.paired td.sig { font-weight: 600; }
.scroll { overflow-x: auto; }
.caption { color: var(--muted); font-size: 13px; margin: 6px 0 0; }
.figs { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 16px; }
.figs.wide { grid-template-columns: 1fr; }
.figs img, .panel img { width: 100%; height: auto; display: block; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
.example { border: 1px solid var(--line); border-radius: 8px; padding: 4px 16px 16px; margin: 16px 0 24px; background: #fcfdfe; }
.row-label { font-weight: 600; font-size: 14px; color: var(--muted); margin: 14px 0 6px; text-transform: uppercase; letter-spacing: .04em; }
.panels { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 14px; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
.panel .title { font-weight: 600; font-size: 14px; margin: 0 0 6px; display: flex; justify-content: space-between; gap: 8px; flex-wrap: wrap; }
.panel .title .sc { font-weight: 400; color: var(--muted); font-variant-numeric: tabular-nums; display: flex; gap: 10px; flex-wrap: wrap; }
.panel .title .sc b { color: var(--fg); font-weight: 600; }
.panel .player { display: flex; align-items: center; gap: 10px; margin-top: 6px; }
.panel audio { flex: 1; height: 36px; min-width: 0; }
.panel .player a { font-size: 13px; color: var(--accent); text-decoration: none; }
ul.notes { color: var(--muted); }
footer { margin-top: 48px; color: var(--muted); font-size: 13px; }
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{with .Intro}}<p class="intro">{{.}}</p>{{end}}
{{with .Verdict}}<p class="verdict" id="verdict">{{.}}</p>{{end}}
<nav>
{{- if .Config}}<a href="#settings">Settings</a>{{end}}
{{- if .Table}}<a href="#scores">Scores</a>{{end}}
{{- if .Paired}}<a href="#paired">Paired differences</a>{{end}}
{{- if .Boxes}}<a href="#distributions">Distributions</a>{{end}}
{{- if .Examples}}<a href="#examples">Examples</a>{{end}}
{{- if .Curves}}<a href="#costs">Cost curves</a>{{end}}
{{- if .Notes}}<a href="#notes">Notes</a>{{end}}
</nav>

{{with .Config}}
<h2 id="settings">Settings</h2>
<table class="config">
{{range .}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td></tr>
{{end}}</table>
{{end}}

{{with .Table}}
<h2 id="scores">Scores</h2>
<div class="scroll">
<table class="scores">
<thead>
<tr><th rowspan="2">Method</th>{{range .Speakers}}<th class="group first" colspan="3">{{.}}</th>{{end}}</tr>
<tr>{{$m := .Metrics}}{{range .Speakers}}{{range $i, $x := $m}}<th class="num{{if eq $i 0}} first{{end}}">{{$x}}</th>{{end}}{{end}}</tr>
</thead>
<tbody>
{{range .Rows}}<tr><td>{{.Method}}</td>{{range $i, $c := .Cells}}<td class="num{{if $c.Best}} best{{end}}{{if eq (mod3 $i) 0}} first{{end}}" title="{{$c.Title}}">{{$c.Mean}} <span class="ci">{{$c.CI}}</span></td>{{end}}</tr>
{{end}}</tbody>
</table>
</div>
<p class="caption">BSS Eval scores in dB: mean ± half-width of the 95% confidence interval of the mean (Student's t){{with .N}} over {{.}} mixtures per speaker{{end}}. Higher is better. The best mean of a column is shaded only when it beats the runner-up with p &lt; 0.05 in a two-sided paired t-test over the same mixtures. Hover a cell for the standard deviation and that test.</p>
{{end}}

{{with .Paired}}
<h2 id="paired">Paired differences</h2>
<div class="scroll">
<table class="paired">
<thead><tr><th>A</th><th>B</th><th>Speaker</th><th>Metric</th><th class="num">A − B (dB)</th><th class="num">p</th><th class="num">n</th></tr></thead>
<tbody>
{{range .}}<tr><td>{{.A}}</td><td>{{.B}}</td><td>{{.Speaker}}</td><td>{{.Metric}}</td><td class="num{{if .Significant}} sig{{end}}">{{.Diff}} <span class="ci">{{.CI}}</span></td><td class="num{{if .Significant}} sig{{end}}">{{.P}}</td><td class="num">{{.N}}</td></tr>
{{end}}</tbody>
</table>
</div>
<p class="caption">Mean of A minus B over the same test mixtures, ± half-width of its 95% confidence interval, and the p-value of a two-sided paired t-test; bold where p &lt; 0.05.</p>
{{with $.PairedFig}}<div class="figs"><img src="{{.Src}}" alt="{{.Alt}}"></div>
<p class="caption">Each dot is one test mixture's SDR difference A − B for one speaker; the black mark and bar are their mean and its 95% confidence interval. A bar clear of the dashed zero line is a difference the run shows.</p>{{end}}
{{end}}

{{with .Boxes}}
<h2 id="distributions">Distributions</h2>
<div class="figs{{if $.WideBox}} wide{{end}}">
{{range .}}<img src="{{.Src}}" alt="{{.Alt}}">
{{end}}</div>
<p class="caption">Boxes span the quartiles, the line is the median, whiskers reach the furthest point within 1.5 interquartile ranges; circles are outliers.</p>
{{end}}

{{with .Examples}}
<h2 id="examples">Examples</h2>
{{with $.ExampleRule}}<p class="caption">{{.}}</p>{{end}}
{{range .}}<section class="example" id="example-{{.Index}}">
<h3>{{.Name}}</h3>
{{with .Caption}}<p>{{.}}</p>{{end}}
{{with .Note}}<p class="caption">{{.}}</p>{{end}}
{{range .Rows}}<div class="row-label">{{.Label}}</div>
<div class="panels">
{{range .Panels}}<div class="panel">
<div class="title"><span>{{.Title}}</span>{{with .Scores}}<span class="sc">{{range .}}<span class="score" data-metric="{{.Metric}}">{{.Metric}} <b>{{.Value}}</b> dB</span>{{end}}</span>{{end}}</div>
<img src="{{.Img}}" alt="Spectrogram: {{.Title}}" loading="eager">
<div class="player"><audio controls preload="metadata" src="{{.Audio}}"></audio><a href="{{.Audio}}" download>WAV</a></div>
</div>
{{end}}</div>
{{end}}</section>
{{end}}
{{end}}

{{with .Curves}}
<h2 id="costs">Cost curves</h2>
<div class="figs">
{{range .}}<img src="{{.Src}}" alt="{{.Alt}}">
{{end}}</div>
{{end}}

{{with .Notes}}
<h2 id="notes">Notes</h2>
<ul class="notes">
{{range .}}<li>{{.}}</li>
{{end}}</ul>
{{end}}
<footer>Written by dlnmf. Everything on this page is in this folder: it works offline.</footer>
</main>
</body>
</html>
`))
