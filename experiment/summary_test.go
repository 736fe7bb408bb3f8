package experiment

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/separation"
)

func TestSummariseRowsAndPairs(t *testing.T) {
	cfg, err := Config{K: []int{20}, Layers: [][]int{{180, 20}}, Repeats: 1}.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	var scores []Score
	for j, mix := range []string{"m1", "m2", "m3"} {
		for _, sp := range []string{"A", "B"} {
			base := float64(j)
			scores = append(scores,
				Score{Mixture: mix, Method: "NMF", Layers: []int{20}, Speaker: sp, SDR: Number(base), SIR: 10, SAR: 10},
				Score{Mixture: mix, Method: "L-NMF", Layers: []int{180, 20}, Speaker: sp, SDR: Number(base + 1), SIR: 10, SAR: 10},
				Score{Mixture: mix, Method: "DL-NMF", Layers: []int{180, 20}, Speaker: sp, SDR: Number(base + 1.5), SIR: 10, SAR: 10})
		}
	}
	rows, paired := summarise(cfg, []string{"A", "B"}, scores)
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 3 methods x 2 speakers", len(rows))
	}
	if rows[0].Label != "NMF K=20" || rows[0].SDR != 1 || rows[0].N != 3 {
		t.Errorf("first row %+v", rows[0])
	}
	if rows[4].Method != separation.DLNMF.Label() || rows[4].SDR != 2.5 {
		t.Errorf("DL-NMF row %+v", rows[4])
	}
	// DL-NMF minus L-NMF is 0.5 dB on every mixture, L-NMF minus NMF 1 dB.
	if paired[0].A != "DL-NMF 180,20" || paired[0].Metric != "sdr" || math.Abs(float64(paired[0].Diff)-0.5) > 1e-12 {
		t.Errorf("first pair %+v", paired[0])
	}
	md := Markdown(&Results{Config: cfg, Speakers: []string{"A", "B"}, Rows: rows, Paired: paired}, nil)
	// Mean 2.5 over 1.5, 2.5, 3.5: t(0.975, 2) = 4.303 times 1/sqrt(3).
	if !strings.Contains(md, "| DL-NMF | 180,20 | 2.50 ± 2.48 |") {
		t.Errorf("markdown table:\n%s", md)
	}
}

// One mixture gives no confidence interval: JSON has null there, not an error.
func TestNumberJSON(t *testing.T) {
	b, err := json.Marshal(SummaryRow{SDR: 3.5, SDRCI95: Number(math.NaN()), SIR: Number(math.Inf(1))})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"sdr":3.5`) || !strings.Contains(string(b), `"sdr_ci95":null`) || !strings.Contains(string(b), `"sir":null`) {
		t.Fatalf("got %s", b)
	}
	var back SummaryRow
	if err := json.Unmarshal(b, &back); err != nil || !math.IsNaN(float64(back.SDRCI95)) {
		t.Fatalf("round trip: %v %+v", err, back)
	}
}
