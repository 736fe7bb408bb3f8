package scoring

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/wav"
)

// signals returns two random sources of n samples and estimates of them
// in swapped order: each holds some of the other source (leak[k] of it)
// and a little noise.
func signals(n int, seed uint64) (refs, ests [][]float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	refs = [][]float64{make([]float64, n), make([]float64, n)}
	for _, r := range refs {
		for i := range r {
			r[i] = 0.2 * rng.NormFloat64()
		}
	}
	leak := [2]float64{0.25, 0.15}
	ests = [][]float64{make([]float64, n), make([]float64, n)}
	for k, e := range ests {
		own, other := refs[1-k], refs[k]
		for i := range e {
			e[i] = own[i] + leak[k]*other[i] + 0.01*rng.NormFloat64()
		}
	}
	return refs, ests
}

func sum(x [][]float64) []float64 {
	out := make([]float64, len(x[0]))
	for _, s := range x {
		for i, v := range s {
			out[i] += v
		}
	}
	return out
}

func writeWAV(t *testing.T, path string, x []float64, rate int) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := wav.WriteFile(path, x, rate, wav.Float32); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWholeIsBSSEvalAndSISDR(t *testing.T) {
	refs, ests := signals(6000, 1)
	mix := sum(refs)
	got, err := Whole(refs, ests, mix, true)
	if err != nil {
		t.Fatal(err)
	}
	want, err := bsseval.Sources(refs, ests, bsseval.Options{Permute: true})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := bsseval.NewPlan(refs, bsseval.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base, err := plan.MixtureSDR(mix)
	if err != nil {
		t.Fatal(err)
	}
	if got.Perm[0] != 1 || got.Perm[1] != 0 {
		t.Fatalf("perm %v, want [1 0]", got.Perm)
	}
	for i, k := range got.Perm {
		si, _ := bsseval.SISDR(refs[i], ests[k], true)
		mixSI, _ := bsseval.SISDR(refs[i], mix, true)
		if float64(got.SDR[i]) != want.SDR[i] || float64(got.SIR[i]) != want.SIR[i] || float64(got.SAR[i]) != want.SAR[i] || float64(got.SISDR[i]) != si {
			t.Errorf("source %d: %v %v %v %v, bsseval %v %v %v %v", i, got.SDR[i], got.SIR[i], got.SAR[i], got.SISDR[i], want.SDR[i], want.SIR[i], want.SAR[i], si)
		}
		if float64(got.SDRi[i]) != want.SDR[i]-base[i] || float64(got.SISDRi[i]) != si-mixSI {
			t.Errorf("source %d: SDRi %v SI-SDRi %v, want %v %v", i, got.SDRi[i], got.SISDRi[i], want.SDR[i]-base[i], si-mixSI)
		}
	}
	noMix, err := Whole(refs, ests, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if noMix.SDRi != nil || noMix.Perm[0] != 0 || noMix.Perm[1] != 1 {
		t.Errorf("without a mixture or permutation: %+v", noMix)
	}
	if _, err := Whole(refs, ests, make([]float64, 10), false); err == nil || !strings.Contains(err.Error(), "the mixture") {
		t.Errorf("a mixture of the wrong length: %v", err)
	}
}

func TestFramewise(t *testing.T) {
	refs, ests := signals(4000, 2)
	for i := 2000; i < 3000; i++ { // the second reference is silent in frames 2 and 3
		refs[1][i] = 0
	}
	fr, err := Framewise(refs, ests, 1000, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if fr.Window != 1000 || fr.Hop != 500 || len(fr.SDR) != 2 || len(fr.SDR[0]) != 7 {
		t.Fatalf("window %d hop %d, %d sources of %d frames; want 1000, 500 (the default), 2 of 7", fr.Window, fr.Hop, len(fr.SDR), len(fr.SDR[0]))
	}
	want, err := bsseval.SourcesFramewise(refs, ests, 1000, 500, bsseval.Options{Permute: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		for f := range 7 {
			k := want.Perm[i][f]
			if k < 0 {
				if fr.Perm[i][f] != nil || !math.IsNaN(float64(fr.SDR[i][f])) || !math.IsNaN(float64(fr.SISDR[i][f])) {
					t.Errorf("source %d frame %d undefined in bsseval: perm %v, SDR %v, SI-SDR %v", i, f, fr.Perm[i][f], fr.SDR[i][f], fr.SISDR[i][f])
				}
				continue
			}
			si, _ := bsseval.SISDR(refs[i][f*500:f*500+1000], ests[k][f*500:f*500+1000], true)
			if fr.Perm[i][f] == nil || *fr.Perm[i][f] != k || float64(fr.SDR[i][f]) != want.SDR[i][f] || float64(fr.SISDR[i][f]) != si {
				t.Errorf("source %d frame %d: %v, %v; want %d, %v", i, f, fr.Perm[i][f], fr.SDR[i][f], k, want.SDR[i][f])
			}
		}
	}
	undefined := 0
	for f := range 7 {
		if fr.Perm[1][f] == nil {
			undefined++
		}
	}
	if undefined == 0 {
		t.Error("no undefined frame where the reference is silent")
	}
}

func TestScoreFiles(t *testing.T) {
	dir := t.TempDir()
	refs, ests := signals(5000, 3)
	set := Set{
		References: []string{writeWAV(t, filepath.Join(dir, "r1.wav"), refs[0], 8000), writeWAV(t, filepath.Join(dir, "r2.wav"), refs[1], 8000)},
		Estimates:  []string{writeWAV(t, filepath.Join(dir, "e1.wav"), ests[0], 8000), writeWAV(t, filepath.Join(dir, "e2.wav"), ests[1], 8000)},
		Mixture:    writeWAV(t, filepath.Join(dir, "mix.wav"), sum(refs), 8000),
	}
	got, err := Score(context.Background(), set, Settings{Permute: true})
	if err != nil {
		t.Fatal(err)
	}
	// The files hold float32 samples: score what they hold.
	read := func(files ...string) [][]float64 {
		var out [][]float64
		for _, f := range files {
			a, err := wav.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, a.Mono())
		}
		return out
	}
	want, err := Whole(read(set.References...), read(set.Estimates...), read(set.Mixture)[0], true)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rate != 8000 || got.Frames != nil || got.Scores == nil {
		t.Fatalf("rate %d, frames %v, scores %v", got.Rate, got.Frames, got.Scores)
	}
	a, _ := json.Marshal(got.Scores)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Errorf("Score %s\nWhole %s", a, b)
	}

	framed, err := Score(context.Background(), set, Settings{Window: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if framed.Scores != nil || framed.Frames == nil || framed.Frames.Hop != 1000 || len(framed.Frames.SDR[0]) != 4 {
		t.Errorf("framewise: %+v", framed.Frames)
	}

	other := writeWAV(t, filepath.Join(dir, "16k.wav"), ests[0], 16000)
	short := writeWAV(t, filepath.Join(dir, "short.wav"), ests[0][:4000], 8000)
	silent := writeWAV(t, filepath.Join(dir, "silent.wav"), make([]float64, 5000), 8000)
	for _, c := range []struct {
		set  Set
		s    Settings
		want []string
	}{
		{Set{References: set.References, Estimates: []string{other, set.Estimates[1]}}, Settings{}, []string{"16k.wav", "16000 Hz", "same sample rate"}},
		{Set{References: set.References, Estimates: []string{short, set.Estimates[1]}}, Settings{}, []string{"short.wav", "4000 samples", "same length"}},
		{Set{References: set.References, Estimates: []string{silent, set.Estimates[1]}}, Settings{}, []string{"silent.wav", "silent"}},
		{Set{References: set.References, Estimates: set.Estimates, Mixture: silent}, Settings{Window: 1000}, []string{"silent.wav", "silent"}},
		{Set{References: set.References, Estimates: set.Estimates[:1]}, Settings{}, []string{"2 reference files but 1"}},
		{Set{}, Settings{}, []string{"no reference files"}},
		{Set{References: []string{filepath.Join(dir, "none.wav")}, Estimates: set.Estimates[:1]}, Settings{}, []string{"none.wav"}},
		{set, Settings{Window: -1}, []string{"must not be negative"}},
		{set, Settings{Hop: 10}, []string{"a hop needs a window"}},
	} {
		_, err := Score(context.Background(), c.set, c.s)
		if err == nil {
			t.Errorf("%+v with %+v: no error, want %q", c.set, c.s, c.want)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v with %+v: %v, want %q", c.set, c.s, err, w)
			}
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Score(ctx, set, Settings{}); err != context.Canceled {
		t.Errorf("cancelled: %v", err)
	}
}

func TestDBJSON(t *testing.T) {
	b, err := json.Marshal([]DB{1.5, DB(math.Inf(1)), DB(math.NaN()), DB(math.Inf(-1)), -2})
	if err != nil || string(b) != "[1.5,null,null,null,-2]" {
		t.Errorf("%s, %v", b, err)
	}
}

func TestMeanAndMedianDB(t *testing.T) {
	nan, inf := DB(math.NaN()), DB(math.Inf(1))
	for _, c := range []struct {
		v            []DB
		mean, median float64
	}{
		{[]DB{1, 2, 6}, 3, 2},
		{[]DB{1, nan, 2, 6, 10}, 19.0 / 4, 4},
		{[]DB{inf, 4, nan}, 4, math.Inf(1)}, // an infinite SIR counts in the median, not the mean
		{[]DB{nan}, math.NaN(), math.NaN()},
		{nil, math.NaN(), math.NaN()},
	} {
		m, md := MeanDB(c.v), MedianDB(c.v)
		if !same(m, c.mean) || !same(md, c.median) {
			t.Errorf("%v: mean %v median %v, want %v %v", c.v, m, md, c.mean, c.median)
		}
	}
}

func same(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func TestSettingsCheck(t *testing.T) {
	for _, s := range []Settings{{Window: -1}, {Hop: -1}, {Hop: 5}, {Jobs: -1}} {
		if s.check() == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	for _, s := range []Settings{{}, {Window: 1, Hop: 0}, {Window: 100, Hop: 7, Permute: true, Jobs: 3}} {
		if err := s.check(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	if h := (Settings{Window: 1}).hop(); h != 1 {
		t.Errorf("hop of a 1-sample window %d, want 1", h)
	}
}
