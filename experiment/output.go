package experiment

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/internal/csvtext"
	"github.com/dlnmf/dlnmf/internal/plural"
	"github.com/dlnmf/dlnmf/report"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/stats"
)

// WriteFiles writes results.json, scores.csv and results.md into dir, and
// the selection's figure (selectionFigure) when there is one.
func WriteFiles(dir string, res *Results, notes []string) error {
	js, err := json.MarshalIndent(struct {
		*Results
		Notes []string `json:"notes,omitempty"`
	}{res, notes}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "results.json"), append(js, '\n')); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "scores.csv"), func(w io.Writer) error { return writeCSV(w, res.Scores) }); err != nil {
		return err
	}
	if err := writeSelectionFigure(dir, res); err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "results.md"), []byte(Markdown(res, notes)))
}

func writeCSV(w io.Writer, scores []Score) error {
	// The column "config" (a selected score's grid point) is there only
	// when some score has one: the paper's runs keep their format.
	withConfig := false
	for _, s := range scores {
		withConfig = withConfig || s.Method == SelectedLabel
	}
	cw := csv.NewWriter(w)
	head := scoreHeader()
	if withConfig {
		head = append(head, "config")
	}
	cw.Write(head)
	for _, s := range scores {
		rec := scoreRecord(s)
		if withConfig {
			rec = append(rec, s.Config)
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// WriteSweepCSV writes a sweep's scores (res[j] is jobs[j]'s, with
// configs[j mod len(configs)]): the pair and the configuration, then the
// columns of an experiment's scores.csv.
func WriteSweepCSV(w io.Writer, jobs []Job, configs []SweepConfig, res []*Results) error {
	cw := csv.NewWriter(w)
	cw.Write(append([]string{"pair", "config"}, scoreHeader()...))
	for j, r := range res {
		for _, s := range r.Scores {
			cw.Write(append([]string{csvtext.Cell(jobs[j].Name), configs[j%len(configs)].Label}, scoreRecord(s)...))
		}
	}
	cw.Flush()
	return cw.Error()
}

// scoreHeader names the columns of scoreRecord.
func scoreHeader() []string {
	return []string{"repeat", "mixture", "files", "method", "layers", "speaker", "sdr", "sir", "sar", "si_sdr"}
}

// scoreRecord is one score as CSV cells; names from input are quoted
// against spreadsheets (csvtext.Cell).
func scoreRecord(s Score) []string {
	f := func(v Number) string { return strconv.FormatFloat(float64(v), 'f', 4, 64) }
	layers := make([]string, len(s.Layers))
	for i, k := range s.Layers {
		layers[i] = strconv.Itoa(k)
	}
	return []string{strconv.Itoa(s.Repeat), csvtext.Cell(s.Mixture), csvtext.Cell(s.Files), s.Method, strings.Join(layers, ","), s.Speaker, f(s.SDR), f(s.SIR), f(s.SAR), f(s.SISDR)}
}

// Markdown renders the results in the layout of the paper's Table 1: one
// row per method and sizes, SDR, SIR and SAR per speaker as mean ± 95% CI,
// then the paired differences.
func Markdown(res *Results, notes []string) string {
	var b bytes.Buffer
	cfg := res.Config
	n := 0
	if len(res.Rows) > 0 {
		n = res.Rows[0].N
	}
	fmt.Fprintf(&b, "# Separation results: %s\n\n", strings.Join(res.Speakers, " + "))
	fmt.Fprintf(&b, "Mean over %s (%s), dB, ± the half-width of the 95%% confidence interval (Student t).\n\n", plural.Count(n, "test mixture"), plural.Count(cfg.Repeats, "repeat"))
	own := func(label string) bool { return label != SelectedLabel }
	scoreTable(&b, res, own)
	if pairedTable(&b, res, func(p Paired) bool { return own(p.A) }, true) {
		b.WriteString("\n## Paired differences over the same mixtures\n\n")
		b.WriteString("Mean of A minus B, ± 95% CI, and the p-value of a two-sided paired t-test.\n\n")
		pairedTable(&b, res, func(p Paired) bool { return own(p.A) }, false)
	}
	if res.Config.Select != nil {
		selectionSection(&b, res)
	}
	b.WriteString("\n## Settings\n\n")
	for _, kv := range ConfigTable(res) {
		fmt.Fprintf(&b, "- %s: %s\n", kv[0], kv[1])
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	return b.String()
}

// scoreTable writes the rows whose label keep accepts as Table 1 does: SDR,
// SIR and SAR per speaker, mean ± 95% CI.
func scoreTable(b *bytes.Buffer, res *Results, keep func(label string) bool) {
	b.WriteString("| method | bases |")
	for _, sp := range res.Speakers {
		fmt.Fprintf(b, " %s SDR | %s SIR | %s SAR |", sp, sp, sp)
	}
	b.WriteString("\n|---|---|")
	for range res.Speakers {
		b.WriteString("---|---|---|")
	}
	b.WriteString("\n")
	for i := 0; i < len(res.Rows); i += len(res.Speakers) {
		r := res.Rows[i]
		if !keep(r.Label) {
			continue
		}
		var bases string
		switch {
		case r.Method == SelectedLabel:
			bases = "chosen per repeat"
		case r.Method == "NMF":
			bases = fmt.Sprintf("K=%d", r.Layers[0])
		default:
			bases = joinInts(r.Layers)
		}
		fmt.Fprintf(b, "| %s | %s |", r.Method, bases)
		for _, s := range res.Rows[i : i+len(res.Speakers)] {
			fmt.Fprintf(b, " %s | %s | %s |", pm(s.SDR, s.SDRCI95), pm(s.SIR, s.SIRCI95), pm(s.SAR, s.SARCI95))
		}
		b.WriteString("\n")
	}
}

// pairedTable writes the paired differences that keep accepts (SDR, SIR
// and SAR of one pair and speaker on a line) and tells whether there were
// any; with dry it only tells.
func pairedTable(b *bytes.Buffer, res *Results, keep func(Paired) bool, dry bool) bool {
	found := false
	for i := 0; i+2 < len(res.Paired); i += 3 {
		p := res.Paired[i : i+3]
		if !keep(p[0]) {
			continue
		}
		if !found && !dry {
			b.WriteString("| A | B | speaker | ΔSDR | p | ΔSIR | p | ΔSAR | p |\n|---|---|---|---|---|---|---|---|---|\n")
		}
		found = true
		if !dry {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", p[0].A, p[0].B, p[0].Speaker,
				pm(p[0].Diff, p[0].CI95), pval(p[0].P), pm(p[1].Diff, p[1].CI95), pval(p[1].P), pm(p[2].Diff, p[2].CI95), pval(p[2].P))
		}
	}
	return found
}

// selectionSection writes the section "Selected on validation data": the
// configuration chosen in every repeat, the selected row's test scores
// beside the experiment's rows, and the paired tests of the selected row
// minus each of them.
func selectionSection(b *bytes.Buffer, res *Results) {
	sel := res.Config.Select
	points, _ := res.Config.SelectPoints()
	b.WriteString("\n## Selected on validation data\n\n")
	fmt.Fprintf(b, "In every repeat, %.0f%% of each speaker's training utterances are held out for validation and mixed like the test mixtures; "+
		"each of the grid's %d configurations is trained on the rest of the training part and scored on the validation mixtures; "+
		"the one with the best mean validation SDR (over every speaker and validation mixture; ties: the first in grid order) "+
		"is trained again on the whole training part and scored on the test mixtures as the row %s. The test mixtures take no part in the choice.\n\n",
		100*sel.Validation, len(points), SelectedLabel)
	b.WriteString("| repeat | chosen configuration | row | mean validation SDR | validation mixtures |\n|---|---|---|---|---|\n")
	chosen := map[string]int{}
	for _, r := range res.Selection {
		if r.Chosen < 0 || r.Chosen >= len(r.Points) {
			continue
		}
		p := r.Points[r.Chosen]
		chosen[p.Config]++
		fmt.Fprintf(b, "| %d | %s | %s | %.2f | %d |\n", r.Repeat, orOwn(p.Config), p.Row, float64(p.SDR), r.Mixtures)
	}
	b.WriteString("\nEvery grid point: its validation SDR, mean over the repeats' validation mixtures and speakers, and how often it was chosen:\n\n")
	b.WriteString("| configuration | row | mean validation SDR | times chosen |\n|---|---|---|---|\n")
	for i, p := range points {
		var x []float64
		row := ""
		for _, r := range res.Selection {
			if i < len(r.Points) {
				x = append(x, float64(r.Points[i].SDR))
				row = r.Points[i].Row
			}
		}
		fmt.Fprintf(b, "| %s | %s | %.2f | %d |\n", orOwn(p.Label), row, stats.Summarize(x).Mean, chosen[p.Label])
	}
	b.WriteString("\n")
	if c, ok := selectionFigure(res); ok {
		fmt.Fprintf(b, "![%s](%s)\n\n", c.Title, selectionFigurePath)
	}
	b.WriteString("Test scores, mean ± 95% CI over the same test mixtures as the experiment's rows:\n\n")
	scoreTable(b, res, func(string) bool { return true })
	b.WriteString("\nPaired differences of the selected row minus each of the experiment's rows, over the same test mixtures:\n\n")
	if !pairedTable(b, res, func(p Paired) bool { return p.A == SelectedLabel }, false) {
		b.WriteString("(too few mixtures for a paired test)\n")
	}
}

func orOwn(label string) string {
	if label == "" {
		return "(the experiment's own settings)"
	}
	return label
}

// ConfigTable lists the settings of a run as key/value pairs.
func ConfigTable(res *Results) [][2]string {
	c := res.Config
	layers := make([]string, len(c.Layers))
	for i, l := range c.Layers {
		layers[i] = joinInts(l)
	}
	methods := make([]string, len(c.Methods))
	for i, m := range c.Methods {
		methods[i] = m.Label()
	}
	t := [][2]string{
		{"speakers", strings.Join(res.Speakers, ", ")},
		{"methods", strings.Join(methods, ", ")},
		{"NMF sizes K", joinInts(c.K)},
		{"layered sizes", strings.Join(layers, "; ")},
		{"repeats", strconv.Itoa(c.Repeats)},
		{"split", fmt.Sprintf("%.0f%% training, %.0f%% discriminative, %.0f%% test, per speaker, seeded shuffle", 100*c.TrainFraction, 100*c.DiscFraction, 100*(1-c.TrainFraction-c.DiscFraction))},
		{"mixing", fmt.Sprintf("%g dB, longer utterance cut to the shorter", c.SNR)},
		{"STFT", "16 kHz, 1024-point FFT, 1024-sample periodic Hann window, hop 256"},
		{"divergence", fmt.Sprintf("beta = %g", *c.Beta)},
		{"iterations", fmt.Sprintf("%d training (each pretraining layer and fine-tuning), %d inference, tolerance %g", c.Iters, c.InferIters, c.Tol)},
		{"DL-NMF", fmt.Sprintf("%d rounds of %d basis iterations", c.Rounds, c.DiscIters)},
		{"seed", strconv.FormatUint(c.Seed, 10)},
	}
	if c.LiveIters > 0 {
		step := "the usual update"
		if c.LiveStepExponent > 1 {
			step = fmt.Sprintf("step exponent %g", c.LiveStepExponent)
		}
		t = append(t, [2]string{"live", fmt.Sprintf("scored as a stream separates: %d iterations per frame, every one, %s", c.LiveIters, step)})
	}
	if c.Bands > 0 || c.CoarseBands > 0 || c.StepExponent > 1 {
		on := "every bin"
		if c.Bands > 0 {
			on = fmt.Sprintf("%d mel-spaced bands", c.Bands)
		}
		if c.CoarseBands > 0 {
			on += fmt.Sprintf(", started from %d iterations on %d", cmp.Or(c.CoarseIters, separation.DefaultCoarseIters), c.CoarseBands)
		}
		if c.StepExponent > 1 {
			on += fmt.Sprintf(", step exponent %g", c.StepExponent)
		}
		t = append(t, [2]string{"inference", "on " + on})
	}
	if c.Select != nil {
		t = append(t, [2]string{"selection", fmt.Sprintf("on validation data (%.0f%% of each speaker's training part), from: %s", 100*c.Select.Validation, selectionLabels(c))})
	}
	return t
}

func pm(v, ci Number) string {
	if math.IsNaN(float64(ci)) {
		return fmt.Sprintf("%.2f", float64(v))
	}
	return fmt.Sprintf("%.2f ± %.2f", float64(v), float64(ci))
}

func pval(p Number) string {
	if math.IsNaN(float64(p)) {
		return "n/a"
	}
	if p < 0.001 {
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", float64(p))
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// Report builds the HTML report of a run: the score table and box plots of
// every row, the example mixtures with every row's estimates, and the cost
// curves of the first repeat.
func Report(res *Results, title, intro string, notes []string) *report.Report {
	r := &report.Report{Title: title, Intro: intro, Config: ConfigTable(res), Notes: notes}
	byRow := map[string]*report.Method{}
	for _, row := range res.Config.Rows() {
		r.Methods = append(r.Methods, report.Method{Name: row.Label()})
	}
	if res.Config.Select != nil {
		r.Methods = append(r.Methods, report.Method{Name: SelectedLabel})
	}
	for i := range r.Methods {
		byRow[r.Methods[i].Name] = &r.Methods[i]
	}
	for _, s := range res.Scores {
		if m := byRow[labelOf(s)]; m != nil {
			m.Scores = append(m.Scores, report.Score{Mixture: s.Mixture, Speaker: s.Speaker, SDR: float64(s.SDR), SIR: float64(s.SIR), SAR: float64(s.SAR)})
		}
	}
	for _, p := range res.Paired {
		r.Paired = append(r.Paired, report.Paired{A: p.A, B: p.B, Speaker: p.Speaker, Metric: p.Metric,
			Diff: float64(p.Diff), CI95: float64(p.CI95), P: float64(p.P), N: p.N})
	}
	if len(res.Examples) > 0 {
		first := "The example is the first test mixture"
		if len(res.Examples) > 1 {
			first = fmt.Sprintf("The examples are the first %d test mixtures", len(res.Examples))
		}
		r.ExampleRule = first + " of repeat 1, kept before anything was scored: not chosen for their results. " +
			"Captions compare an example's paired SDR differences with their means over every test mixture."
	}
	for _, e := range res.Examples {
		id, heading := exampleHeading(e.Name, res)
		ex := report.Example{Name: heading, ID: id, Caption: exampleCaption(id, res), Rate: sampleRateOf(res.Config), Mixture: e.Mixture}
		for i, s := range e.Sources {
			ex.Sources = append(ex.Sources, report.Track{Name: res.Speakers[i], Samples: s})
		}
		labels := []string{}
		for _, row := range res.Config.Rows() {
			labels = append(labels, row.Label())
		}
		if res.Config.Select != nil {
			labels = append(labels, SelectedLabel)
		}
		for _, label := range labels {
			est, ok := e.Estimates[label]
			if !ok {
				continue
			}
			es := report.Estimate{Method: label}
			for i, s := range est {
				es.Tracks = append(es.Tracks, report.Track{Name: res.Speakers[i], Samples: s})
			}
			ex.Estimates = append(ex.Estimates, es)
		}
		r.Examples = append(r.Examples, ex)
	}
	// Training cost per speaker, one line per row; DL-NMF cost per round.
	for _, sp := range res.Speakers {
		c := report.Curve{Title: "Training cost, speaker " + sp + " (repeat 1)", XLabel: "iteration", YLabel: "divergence"}
		for _, cv := range res.Curves {
			if cv.Stage == CurveTraining && cv.Name == sp && len(cv.Cost) > 0 {
				c.Series = append(c.Series, series(cv))
			}
		}
		if len(c.Series) > 0 {
			r.Curves = append(r.Curves, c)
		}
	}
	dc := report.Curve{Title: "DL-NMF discriminative cost per round (repeat 1)", XLabel: "after round (0: the L-NMF start)", YLabel: "sum of divergences to the clean spectrograms"}
	for _, cv := range res.Curves {
		if cv.Stage == CurveDiscriminative && len(cv.Cost) > 0 {
			dc.Series = append(dc.Series, series(cv))
		}
	}
	if len(dc.Series) > 0 {
		r.Curves = append(r.Curves, dc)
	}
	return r
}

// exampleCaption compares the paired SDR differences of the test mixture
// id (A - B, per speaker, as in res.Paired) with their means over every
// test mixture: "SDR differences here: DL-NMF 180,20 - L-NMF 180,20: FA
// -0.21 dB (mean +0.35), MC +0.40 dB (mean +0.46); ...".
func exampleCaption(id string, res *Results) string {
	sdr := map[[2]string]float64{} // (row, speaker) -> SDR of this mixture
	for _, s := range res.Scores {
		if s.Mixture == id {
			sdr[[2]string{labelOf(s), s.Speaker}] = float64(s.SDR)
		}
	}
	var order [][2]string
	items := map[[2]string][]string{}
	for _, p := range res.Paired {
		if p.Metric != "sdr" {
			continue
		}
		a, okA := sdr[[2]string{p.A, p.Speaker}]
		b, okB := sdr[[2]string{p.B, p.Speaker}]
		if !okA || !okB {
			continue
		}
		pair := [2]string{p.A, p.B}
		if items[pair] == nil {
			order = append(order, pair)
		}
		items[pair] = append(items[pair], fmt.Sprintf("%s %+.2f dB (mean %+.2f)", p.Speaker, a-b, float64(p.Diff)))
	}
	var parts []string
	for _, pair := range order {
		parts = append(parts, pair[0]+" − "+pair[1]+": "+strings.Join(items[pair], ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return "SDR differences in this mixture: " + strings.Join(parts, "; ") + "."
}

// exampleHeading returns the mixture id of an example ("r01-m1", the
// Mixture of its scores; Example.Name is the id, a space and the files in
// parentheses) and a heading a reader can follow: "Repeat 1, test mixture
// 1: FA01_03 (FA) + MC13_07 (MC)".
func exampleHeading(name string, res *Results) (id, heading string) {
	id, _, _ = strings.Cut(name, " ")
	for _, s := range res.Scores {
		if s.Mixture != id {
			continue
		}
		var rep, mix int
		if _, err := fmt.Sscanf(id, "r%d-m%d", &rep, &mix); err != nil {
			break
		}
		files := strings.Split(s.Files, "+")
		if len(files) != len(res.Speakers) {
			break
		}
		for i, f := range files {
			files[i] = f + " (" + res.Speakers[i] + ")"
		}
		return id, fmt.Sprintf("Repeat %d, test mixture %d: %s", rep, mix, strings.Join(files, " + "))
	}
	return id, name
}

func series(c Curve) report.Series {
	s := report.Series{Name: c.Row, Y: c.Cost}
	for i := range c.Cost {
		x := float64(i)
		if i < len(c.Iter) {
			x = float64(c.Iter[i])
		}
		s.X = append(s.X, x)
	}
	return s
}
