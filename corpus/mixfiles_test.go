package corpus

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/wav"
)

func tone(n, rate int, freq, amp float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))
	}
	return x
}

// TestMixFiles mixes a 16 kHz file with a longer 8 kHz stereo one at 6 dB:
// the second is resampled and down-mixed, both are cut to the first's
// length, the references add up to the mixture, the first is 6 dB above
// the second, and loud inputs are scaled to peak at -1 dBFS.
func TestMixFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "FA01.wav"), filepath.Join(dir, "MC13.wav")
	if _, err := wav.WriteFile(a, tone(16000, 16000, 440, 0.9), 16000, wav.Float32); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(b)
	if err != nil {
		t.Fatal(err)
	}
	left := tone(12000, 8000, 300, 0.9)
	if _, err := wav.Encode(f, [][]float64{left, left}, 8000, wav.Float32); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := filepath.Join(dir, "test", "mix1.wav")
	os.Mkdir(filepath.Dir(out), 0o755)
	res, err := MixFiles(out, []string{a, b}, 6, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rate != 16000 || res.Samples != 16000 || len(res.Resampled) != 1 || len(res.DownMixed) != 1 || res.GainDB >= 0 {
		t.Errorf("result %+v", res)
	}
	if want := []string{filepath.Join(dir, "test", "mix1.FA01.wav"), filepath.Join(dir, "test", "mix1.MC13.wav")}; strings.Join(res.References, " ") != strings.Join(want, " ") {
		t.Errorf("references %v, want %v", res.References, want)
	}
	read := func(p string) []float64 {
		au, err := wav.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return au.Mono()
	}
	mix, r0, r1 := read(out), read(res.References[0]), read(res.References[1])
	var e0, e1, peak float64
	for i := range mix {
		if d := math.Abs(mix[i] - r0[i] - r1[i]); d > 1e-6 {
			t.Fatalf("sample %d: the references add up to %v, the mixture is %v", i, r0[i]+r1[i], mix[i])
		}
		e0, e1 = e0+r0[i]*r0[i], e1+r1[i]*r1[i]
		peak = math.Max(peak, math.Abs(mix[i]))
	}
	if snr := 10 * math.Log10(e0/e1); math.Abs(snr-6) > 0.01 {
		t.Errorf("SNR %.3f dB, want 6", snr)
	}
	if math.Abs(peak-MixPeak) > 1e-6 {
		t.Errorf("peak %v, want %v", peak, MixPeak)
	}

	for _, tc := range []struct {
		inputs []string
		names  []string
		want   string
	}{
		{[]string{a}, nil, "at least 2"},
		{[]string{a, b}, []string{"FA"}, "1 name for 2"},
		{[]string{a, b}, []string{"FA", "fa"}, "would have one name"},
		{[]string{a, b}, []string{"FA", "a.b"}, `holds a "."`},
		{[]string{a, b}, []string{"FA", "../x"}, "speaker name"},
		{[]string{a, filepath.Join(dir, "missing.wav")}, nil, "missing.wav"},
	} {
		out := filepath.Join(t.TempDir(), "m.wav")
		if _, err := MixFiles(out, tc.inputs, 0, tc.names); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: got %v, want an error with %q", tc.inputs, tc.names, err, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v %v: wrote the mixture", tc.inputs, tc.names)
		}
	}
}
