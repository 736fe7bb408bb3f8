package scoring

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetOf(t *testing.T) {
	for key, want := range map[string][2]string{
		"mix1.FA": {"mix1", "FA"}, "sub/mix1.FA": {"sub/mix1", "FA"}, "a.b.c": {"a.b", "c"},
		"mix1/vocals": {"mix1", "vocals"}, "vocals": {".", "vocals"}, ".hidden": {".", ".hidden"},
	} {
		if item, source := setOf(key); item != want[0] || source != want[1] {
			t.Errorf("setOf(%q) = %q, %q; want %q, %q", key, item, source, want[0], want[1])
		}
	}
}

// tree writes references and estimates in both layouts, with mixtures and
// two incomplete sets:
//
//	ref/mix1.A.wav ref/mix1.B.wav ref/mix1.wav          est/mix1.A.flac est/mix1.B.wav est/mix1.wav
//	ref/mix2.A.wav ref/mix2.B.wav                        est/mix2.A.wav  est/mix2.B.wav
//	ref/sub/mix3/a.wav ref/sub/mix3/b.wav ref/sub/mix3/mixture.wav
//	                                                     est/sub/mix3/a.wav est/sub/mix3/b.wav
//	ref/mix4.A.wav                                       est/extra.x.wav
func tree(t *testing.T) (refDir, estDir string) {
	root := t.TempDir()
	refDir, estDir = filepath.Join(root, "ref"), filepath.Join(root, "est")
	refs, ests := signals(3000, 4)
	mix := sum(refs)
	for _, item := range []string{"mix1.", "mix2.", "sub/mix3/"} {
		names := []string{"A", "B"}
		if strings.HasSuffix(item, "/") {
			names = []string{"a", "b"}
		}
		for i, n := range names {
			writeWAV(t, filepath.Join(refDir, item+n+".wav"), refs[i], 8000)
			writeWAV(t, filepath.Join(estDir, item+n+".wav"), ests[i], 8000)
		}
	}
	// mix1.A's estimate is FLAC.
	os.Remove(filepath.Join(estDir, "mix1.A.wav"))
	writeWAV(t, filepath.Join(estDir, "mix1.A.flac"), ests[0], 8000)
	writeWAV(t, filepath.Join(refDir, "mix1.wav"), mix, 8000)
	writeWAV(t, filepath.Join(estDir, "mix1.wav"), mix, 8000)
	writeWAV(t, filepath.Join(refDir, "sub", "mix3", "mixture.wav"), mix, 8000)
	writeWAV(t, filepath.Join(refDir, "mix4.A.wav"), refs[0], 8000)
	writeWAV(t, filepath.Join(estDir, "extra.x.wav"), ests[0], 8000)
	return refDir, estDir
}

func TestPairDirs(t *testing.T) {
	refDir, estDir := tree(t)
	sets, failed, err := PairDirs(refDir, estDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 3 || len(failed) != 2 {
		t.Fatalf("%d sets, %d failed: %+v %+v", len(sets), len(failed), sets, failed)
	}
	want := []Set{
		{Item: "mix1", Sources: []string{"A", "B"}, Mixture: filepath.Join(estDir, "mix1.wav"),
			References: []string{filepath.Join(refDir, "mix1.A.wav"), filepath.Join(refDir, "mix1.B.wav")},
			Estimates:  []string{filepath.Join(estDir, "mix1.A.flac"), filepath.Join(estDir, "mix1.B.wav")}},
		{Item: "mix2", Sources: []string{"A", "B"},
			References: []string{filepath.Join(refDir, "mix2.A.wav"), filepath.Join(refDir, "mix2.B.wav")},
			Estimates:  []string{filepath.Join(estDir, "mix2.A.wav"), filepath.Join(estDir, "mix2.B.wav")}},
		{Item: "sub/mix3", Sources: []string{"a", "b"}, Mixture: filepath.Join(refDir, "sub", "mix3", "mixture.wav"),
			References: []string{filepath.Join(refDir, "sub", "mix3", "a.wav"), filepath.Join(refDir, "sub", "mix3", "b.wav")},
			Estimates:  []string{filepath.Join(estDir, "sub", "mix3", "a.wav"), filepath.Join(estDir, "sub", "mix3", "b.wav")}},
	}
	for i := range want {
		g, _ := json.Marshal(sets[i])
		w, _ := json.Marshal(want[i])
		if string(g) != string(w) {
			t.Errorf("set %d:\n got %s\nwant %s", i, g, w)
		}
	}
	if failed[0].Item != "extra" || failed[0].Error != "no reference for "+filepath.Join(estDir, "extra.x.wav") ||
		failed[1].Item != "mix4" || failed[1].Error != "no estimate for "+filepath.Join(refDir, "mix4.A.wav") {
		t.Errorf("failed %+v", failed)
	}

	writeWAV(t, filepath.Join(refDir, "mix2.A.flac"), make([]float64, 10), 8000)
	if _, _, err := PairDirs(refDir, estDir); err == nil || !strings.Contains(err.Error(), "differ only by extension") {
		t.Errorf("mix2.A.wav and mix2.A.flac: %v", err)
	}
	empty := t.TempDir()
	if _, _, err := PairDirs(empty, estDir); err == nil || !strings.Contains(err.Error(), "no .wav or .flac files in "+empty) {
		t.Errorf("no references: %v", err)
	}
	if _, _, err := PairDirs(filepath.Join(empty, "none"), estDir); err == nil {
		t.Error("a missing folder: no error")
	}
}

func TestScoreDirs(t *testing.T) {
	refDir, estDir := tree(t)
	out := filepath.Join(t.TempDir(), "new", "scores")
	b, err := ScoreDirs(context.Background(), refDir, estDir, out, Settings{Permute: true, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Sets) != 3 || len(b.Failed) != 2 || !b.Permute || b.Mean == nil || b.Mean.SDRi == nil {
		t.Fatalf("batch %+v", b)
	}
	set, err := Score(context.Background(), Set{References: b.Sets[0].References, Estimates: b.Sets[0].Estimates, Mixture: b.Sets[0].Mixture}, Settings{Permute: true})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := json.Marshal(b.Sets[0].Scores)
	w, _ := json.Marshal(set.Scores)
	if string(g) != string(w) {
		t.Errorf("a set in the batch: %s\nscored alone: %s", g, w)
	}
	if b.Sets[1].Scores.SDRi != nil || b.Sets[2].Scores.SDRi == nil {
		t.Error("mix2 has no mixture; sub/mix3 has one")
	}
	var sdr []DB
	for _, s := range b.Sets {
		sdr = append(sdr, s.Scores.SDR...)
	}
	if float64(b.Mean.SDR) != MeanDB(sdr) {
		t.Errorf("mean SDR %v, want %v", b.Mean.SDR, MeanDB(sdr))
	}

	js, err := os.ReadFile(filepath.Join(out, "scores.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := b.JSON(); !bytes.Equal(js, want) {
		t.Error("scores.json is not Batch.JSON")
	}
	text, _ := os.ReadFile(filepath.Join(out, "scores.csv"))
	rows, err := csv.NewReader(bytes.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 7 || strings.Join(rows[0], ",") != "item,source,reference,estimate,perm,sdr,sir,sar,si_sdr,sdri,si_sdri" {
		t.Fatalf("scores.csv %q", rows)
	}
	if r := rows[3]; r[0] != "mix2" || r[9] != "" || r[10] != "" {
		t.Errorf("mix2, without a mixture: %q", r)
	}
	if r := rows[1]; r[0] != "mix1" || r[1] != "A" || r[3] != filepath.Join(estDir, "mix1.B.wav") || r[4] != "1" || r[9] == "" {
		t.Errorf("mix1's first row %q", r)
	}

	// Framewise, and no files without an output folder.
	fb, err := ScoreDirs(context.Background(), refDir, estDir, "", Settings{Window: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if fb.Mean != nil || fb.Window != 1000 || fb.Hop != 500 || fb.Sets[0].Frames == nil || fb.Sets[0].Scores != nil {
		t.Errorf("framewise batch %+v", fb)
	}
	var buf bytes.Buffer
	if err := fb.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1+3*2*5 || !strings.HasPrefix(buf.String(), "item,source,reference,frame,start_s,estimate,perm,") {
		t.Errorf("framewise CSV, %d lines:\n%s", n, buf.String())
	}

	// A set that fails to score is a failure of the batch, on one line.
	writeWAV(t, filepath.Join(estDir, "mix2.B.wav"), make([]float64, 3000), 8000)
	b, err = ScoreDirs(context.Background(), refDir, estDir, "", Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Sets) != 2 || len(b.Failed) != 3 || b.Failed[1].Item != "mix2" || !strings.Contains(b.Failed[1].Error, "silent") {
		t.Errorf("failed %+v", b.Failed)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ScoreDirs(ctx, refDir, estDir, "", Settings{}); err != context.Canceled {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := ScoreDirs(context.Background(), refDir, estDir, "", Settings{Jobs: -1}); err == nil {
		t.Error("-1 jobs accepted")
	}
}

// A name a spreadsheet would run as a formula is written to scores.csv
// after a single quote.
func TestWriteCSVQuotesFormulas(t *testing.T) {
	b := &Batch{Sets: []*Set{{Item: "=1+1", Sources: []string{"@x"}, References: []string{"-r.wav"}, Estimates: []string{"+e.wav"},
		Scores: &Scores{SDR: []DB{1}, SIR: []DB{2}, SAR: []DB{3}, SISDR: []DB{4}, Perm: []int{0}}}}}
	var buf bytes.Buffer
	if err := b.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	if want := "item,source,reference,estimate,perm,sdr,sir,sar,si_sdr\n'=1+1,'@x,'-r.wav,'+e.wav,0,1.0000,2.0000,3.0000,4.0000\n"; buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}
