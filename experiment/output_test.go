package experiment

import "testing"

// TestExampleCaption checks an example's caption: its own paired SDR
// differences, grouped by comparison, beside their means over the run.
func TestExampleCaption(t *testing.T) {
	score := func(mix, method string, layers []int, speaker string, sdr float64) Score {
		return Score{Mixture: mix, Method: method, Layers: layers, Speaker: speaker, SDR: Number(sdr)}
	}
	res := &Results{
		Scores: []Score{
			score("r01-m1", "DL-NMF", []int{180, 20}, "FA", 7.0), score("r01-m1", "L-NMF", []int{180, 20}, "FA", 7.25),
			score("r01-m1", "DL-NMF", []int{180, 20}, "MC", 6.5), score("r01-m1", "L-NMF", []int{180, 20}, "MC", 6.0),
			score("r01-m2", "DL-NMF", []int{180, 20}, "FA", 9.0), score("r01-m2", "L-NMF", []int{180, 20}, "FA", 8.0),
		},
		Paired: []Paired{
			{A: "DL-NMF 180,20", B: "L-NMF 180,20", Speaker: "FA", Metric: "sdr", Diff: 0.35},
			{A: "DL-NMF 180,20", B: "L-NMF 180,20", Speaker: "FA", Metric: "sir", Diff: 9},
			{A: "DL-NMF 180,20", B: "L-NMF 180,20", Speaker: "MC", Metric: "sdr", Diff: 0.46},
		},
	}
	want := "SDR differences in this mixture: DL-NMF 180,20 − L-NMF 180,20: FA -0.25 dB (mean +0.35), MC +0.50 dB (mean +0.46)."
	if got := exampleCaption("r01-m1", res); got != want {
		t.Errorf("caption\n%s\nwant\n%s", got, want)
	}
	if got := exampleCaption("r09-m9", res); got != "" {
		t.Errorf("a mixture without scores: %q", got)
	}
}
