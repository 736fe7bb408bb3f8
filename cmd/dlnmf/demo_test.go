package main

import (
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/experiment"
)

// The demo's verdict says the ordering holds only when every paired SDR
// interval lies above zero, and names the steps that do not.
func TestDemoVerdict(t *testing.T) {
	res := &experiment.Results{
		Speakers: []string{"FA", "MC"},
		Rows: []experiment.SummaryRow{
			{Method: "NMF", Speaker: "FA"}, {Method: "L-NMF", Speaker: "FA"}, {Method: "DL-NMF", Speaker: "FA"},
		},
	}
	pair := func(a, b, sp string, diff, ci float64) experiment.Paired {
		return experiment.Paired{A: a, B: b, Speaker: sp, Metric: "sdr", Diff: experiment.Number(diff), CI95: experiment.Number(ci), N: 48}
	}
	res.Paired = []experiment.Paired{
		pair("DL-NMF 180,20", "L-NMF 180,20", "FA", 0.30, 0.20),
		pair("DL-NMF 180,20", "L-NMF 180,20", "MC", 0.25, 0.20),
		pair("L-NMF 180,20", "NMF K=20", "FA", 0.31, 0.22),
		pair("L-NMF 180,20", "NMF K=20", "MC", 0.40, 0.21),
		{A: "L-NMF 180,20", B: "NMF K=20", Speaker: "MC", Metric: "sir", Diff: -1, CI95: 0.1, N: 48},
	}
	v := demoVerdict(res)
	for _, want := range []string{"48 test mixtures", "FA: DL-NMF 180,20 - L-NMF 180,20 +0.30 ± 0.20 dB", "MC: ", "Every interval lies above zero: DL-NMF > L-NMF > NMF"} {
		if !strings.Contains(v, want) {
			t.Errorf("verdict %q does not say %q", v, want)
		}
	}
	res.Paired[1].Diff = 0.15 // 0.15 ± 0.20: not clear of zero
	v = demoVerdict(res)
	if strings.Contains(v, "Every interval") || !strings.Contains(v, "Not clear of zero here: DL-NMF 180,20 over L-NMF 180,20 for MC") {
		t.Errorf("verdict with an unclear step: %q", v)
	}
	if v := demoVerdict(&experiment.Results{Speakers: []string{"FA"}}); !strings.Contains(v, "No paired comparison") {
		t.Errorf("verdict without pairs: %q", v)
	}
}
