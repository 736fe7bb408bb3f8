package separation

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/nmf"
)

// trainOne trains a one-speaker NMF model of the low voice.
func trainOne(t *testing.T) *Model {
	t.Helper()
	m, _, err := Train(context.Background(), []SpeakerData{
		{Name: "low", Utterances: [][]float64{synthVoice(lowNotes, 4, 1), synthVoice(lowNotes, 3, 2)}},
	}, nil, TrainSettings{Method: NMF, Sizes: []int{8}, NMF: nmf.Settings{MaxIter: 60, Seed: 5}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkSum fails unless the estimates add up to the mixture.
func checkSum(t *testing.T, est [][]float64, mix []float64) {
	t.Helper()
	for i := range mix {
		var sum float64
		for _, e := range est {
			sum += e[i]
		}
		if d := sum - mix[i]; math.Abs(d) > 1e-4 {
			t.Fatalf("estimates do not add up to the mixture at %d: off by %g", i, d)
		}
	}
}

// sdrOf scores est of the first source of refs and the mixture itself.
func sdrOf(t *testing.T, refs [][]float64, est [][]float64) (got, mixture float64) {
	t.Helper()
	mix := mixOf(refs[0], refs[1])
	r, err := bsseval.Sources(refs, est, bsseval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r0, err := bsseval.Sources(refs, [][]float64{mix, mix}, bsseval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r.SDR[0], r0.SDR[0]
}

func TestSeparateFreeBases(t *testing.T) {
	m := trainOne(t)
	a, b := synthVoice(lowNotes, 3, 100), synthVoice(highNotes, 3, 200)
	mix := mixOf(a, b)
	if _, err := NewSeparator(m, SeparateSettings{}); err == nil || !strings.Contains(err.Error(), "--free") {
		t.Errorf("one speaker without free bases: %v", err)
	}
	if _, err := NewSeparator(m, SeparateSettings{Free: -1}); err == nil {
		t.Error("negative free bases accepted")
	}
	sep, err := NewSeparator(m, SeparateSettings{Free: 8, NMF: nmf.Settings{MaxIter: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sep.Sources(), ","); got != "low,other" {
		t.Errorf("sources %s", got)
	}
	est, err := sep.Separate(mix)
	if err != nil {
		t.Fatal(err)
	}
	if len(est) != 2 {
		t.Fatalf("%d estimates", len(est))
	}
	checkSum(t, est, mix)
	sdr, base := sdrOf(t, [][]float64{a, b}, est)
	t.Logf("free bases: SDR %.1f dB, mixture %.1f dB", sdr, base)
	if sdr < base+10 {
		t.Errorf("SDR %.1f dB, mixture %.1f dB: want at least 10 dB better", sdr, base)
	}
	// Long signals go block by block, each learning its own free bases.
	long := mixOf(synthVoice(lowNotes, 5, 7), synthVoice(highNotes, 5, 8))
	blocked, err := NewSeparator(m, SeparateSettings{Free: 8, BlockSeconds: 1, NMF: nmf.Settings{MaxIter: 50}})
	if err != nil {
		t.Fatal(err)
	}
	est, err = blocked.Separate(long)
	if err != nil {
		t.Fatal(err)
	}
	checkSum(t, est, long)
	// More free bases than frames.
	many, err := NewSeparator(m, SeparateSettings{Free: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := many.Separate(mix); err == nil || !strings.Contains(err.Error(), "frames") {
		t.Errorf("1000 free bases for 3 s: %v", err)
	}
}

func TestUniversalModel(t *testing.T) {
	m := trainOne(t)
	// The universal model knows two other voices; the interferer is a
	// third, between them.
	mid := []float64{520, 580, 650}
	u, _, err := TrainUniversal(context.Background(), "speech", []SpeakerData{
		{Name: "high", Utterances: [][]float64{synthVoice(highNotes, 4, 3)}},
		{Name: "mid", Utterances: [][]float64{synthVoice(mid, 4, 4)}},
	}, TrainSettings{Method: NMF, Sizes: []int{8}, NMF: nmf.Settings{MaxIter: 60, Seed: 5}})
	if err != nil {
		t.Fatal(err)
	}
	m.Universal = u
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if back.Universal == nil || back.Universal.Name != "speech" || len(back.Universal.Speakers) != 2 || back.Universal.Speakers[1].Layers[0].At(3, 2) != u.Speakers[1].Layers[0].At(3, 2) {
		t.Fatalf("universal model did not survive the file: %+v", back.Universal)
	}
	if _, err := NewSeparator(back, SeparateSettings{Free: 4}); err == nil {
		t.Error("free bases beside a universal model accepted")
	}
	sep, err := NewSeparator(back, SeparateSettings{NMF: nmf.Settings{MaxIter: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sep.Sources(), ","); got != "low,speech" {
		t.Errorf("sources %s", got)
	}
	a, b := synthVoice(lowNotes, 3, 100), synthVoice(mid, 3, 300)
	mix := mixOf(a, b)
	est, err := sep.Separate(mix)
	if err != nil {
		t.Fatal(err)
	}
	checkSum(t, est, mix)
	sdr, base := sdrOf(t, [][]float64{a, b}, est)
	t.Logf("universal model: SDR %.1f dB, mixture %.1f dB", sdr, base)
	if sdr < base+10 {
		t.Errorf("SDR %.1f dB, mixture %.1f dB: want at least 10 dB better", sdr, base)
	}
}
