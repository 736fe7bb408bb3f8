package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/scoring"
	"github.com/dlnmf/dlnmf/wav"
)

func runEvalForTest(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	env := &environment{stdout: &o, stderr: &e}
	code = runMain(context.Background(), env, append([]string{"eval"}, args...))
	return o.String(), e.String(), code
}

// evalFiles writes two references and two estimates (in swapped order) of
// n samples at rate Hz as 32-bit float WAV files.
func evalFiles(t *testing.T, dir string, n, rate int) (refs, ests []string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	sig := func() []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = 0.2 * rng.NormFloat64()
		}
		return x
	}
	a, b := sig(), sig()
	ea, eb := make([]float64, n), make([]float64, n)
	for i := range ea {
		ea[i] = a[i] + 0.3*b[i] + 0.02*rng.NormFloat64()
		eb[i] = b[i] + 0.2*a[i] + 0.02*rng.NormFloat64()
	}
	write := func(name string, x []float64) string {
		p := filepath.Join(dir, name)
		if _, err := wav.WriteFile(p, x, rate, wav.Float32); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return []string{write("r1.wav", a), write("r2.wav", b)}, []string{write("e1.wav", eb), write("e2.wav", ea)}
}

func readMono(t *testing.T, files []string) [][]float64 {
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

func TestEvalJSON(t *testing.T) {
	dir := t.TempDir()
	refs, ests := evalFiles(t, dir, 8000, 16000)
	out, errOut, code := runEvalForTest(t, "--ref", strings.Join(refs, ","), "--est", strings.Join(ests, ","), "--perm", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		SDR, SIR, SAR, SISDR []float64
		Perm                 []int
	}
	if err := json.Unmarshal([]byte(strings.Replace(out, "si_sdr", "sisdr", 1)), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want, err := bsseval.Sources(readMono(t, refs), readMono(t, ests), bsseval.Options{Permute: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Perm) != 2 || got.Perm[0] != 1 || got.Perm[1] != 0 {
		t.Errorf("perm %v, want [1 0]", got.Perm)
	}
	for i := range want.SDR {
		if got.SDR[i] != want.SDR[i] || got.SIR[i] != want.SIR[i] || got.SAR[i] != want.SAR[i] {
			t.Errorf("source %d: %v %v %v, want %v %v %v", i, got.SDR[i], got.SIR[i], got.SAR[i], want.SDR[i], want.SIR[i], want.SAR[i])
		}
		if got.SISDR[i] < 5 || math.IsNaN(got.SISDR[i]) {
			t.Errorf("si_sdr %v", got.SISDR)
		}
	}
}

func TestEvalTableAndFrames(t *testing.T) {
	dir := t.TempDir()
	refs, ests := evalFiles(t, dir, 8000, 16000)
	out, errOut, code := runEvalForTest(t, "--ref", strings.Join(refs, ","), "--est", strings.Join(ests, ","))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "SDR dB") || !strings.Contains(lines[1], "e1.wav") || !strings.HasPrefix(strings.TrimSpace(lines[3]), "mean") {
		t.Errorf("table:\n%s", out)
	}

	out, errOut, code = runEvalForTest(t, "--ref", strings.Join(refs, ","), "--est", strings.Join(ests, ","), "--perm", "--window", "4000", "--hop", "2000", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var fr struct {
		Window, Hop int
		SDR         [][]float64
		Perm        [][]int
	}
	if err := json.Unmarshal([]byte(out), &fr); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if fr.Window != 4000 || fr.Hop != 2000 || len(fr.SDR) != 2 || len(fr.SDR[0]) != 3 || fr.Perm[0][2] != 1 {
		t.Errorf("framewise JSON: %s", out)
	}
	out, _, code = runEvalForTest(t, "--ref", strings.Join(refs, ","), "--est", strings.Join(ests, ","), "--window", "4000")
	if code != 0 || !strings.Contains(out, "source 1: reference") || strings.Count(out, "\n") != 2*(2+3) {
		t.Errorf("framewise table (exit %d):\n%s", code, out)
	}
}

func TestEvalErrors(t *testing.T) {
	dir := t.TempDir()
	refs, ests := evalFiles(t, dir, 8000, 16000)
	other := filepath.Join(dir, "8k.wav")
	short := filepath.Join(dir, "short.wav")
	silent := filepath.Join(dir, "silent.wav")
	text := filepath.Join(dir, "text.wav")
	a, _ := wav.ReadFile(ests[0])
	wav.WriteFile(other, a.Mono(), 8000, wav.Float32)
	wav.WriteFile(short, a.Mono()[:7000], 16000, wav.Float32)
	wav.WriteFile(silent, make([]float64, 8000), 16000, wav.PCM16)
	os.WriteFile(text, []byte("hello\n"), 0o644)
	r := strings.Join(refs, ",")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--ref", r, "--est", other + "," + ests[1]}, 1, "same sample rate"},
		{[]string{"--ref", r, "--est", short + "," + ests[1]}, 1, "same length"},
		{[]string{"--ref", r, "--est", silent + "," + ests[1]}, 1, "silent"},
		{[]string{"--ref", r, "--est", text + "," + ests[1]}, 1, "text.wav"},
		{[]string{"--ref", r, "--est", filepath.Join(dir, "missing.wav") + "," + ests[1]}, 1, "missing.wav"},
		{[]string{"--ref", r, "--est", ests[0]}, 2, "2 reference files but 1 estimated"},
		{[]string{"--est", ests[0]}, 2, "--ref"},
		{[]string{"--ref", r}, 2, "--est"},
		{[]string{"--ref", r, "--est", strings.Join(ests, ","), "--hop", "5"}, 2, "--hop needs --window"},
		{[]string{"--ref", r, "--est", strings.Join(ests, ","), "--bogus"}, 2, "bogus"},
		{[]string{"--ref", r, "--est", strings.Join(ests, ","), "extra"}, 2, "unexpected argument"},
	} {
		out, errOut, code := runEvalForTest(t, c.args...)
		// A flag the FlagSet does not know also prints the usage (main.go's
		// newFlagSet); every other error prints nothing on stdout.
		if code != c.code || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, c.want) || (out != "" && c.want != "bogus") {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit %d and one line with %q", c.args, code, errOut, out, c.code, c.want)
		}
	}
}

// TestEvalMixture checks --mix: SDRi = SDR minus the mixture's SDR (the
// mixture as every source's estimate), SI-SDRi likewise, in JSON and in
// the table; and that --mix is refused where it does not apply.
func TestEvalMixture(t *testing.T) {
	dir := t.TempDir()
	refs, ests := evalFiles(t, dir, 8000, 16000)
	sources := readMono(t, refs)
	mix := make([]float64, len(sources[0]))
	for i := range mix {
		mix[i] = sources[0][i] + sources[1][i]
	}
	mixFile := filepath.Join(dir, "mix.wav")
	if _, err := wav.WriteFile(mixFile, mix, 16000, wav.Float32); err != nil {
		t.Fatal(err)
	}
	args := []string{"--ref", strings.Join(refs, ","), "--est", strings.Join(ests, ","), "--perm", "--mix", mixFile}
	out, errOut, code := runEvalForTest(t, append(args, "--json")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got scoring.Scores
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	plan, err := bsseval.NewPlan(sources, bsseval.Options{Permute: true})
	if err != nil {
		t.Fatal(err)
	}
	base, err := plan.MixtureSDR(readMono(t, []string{mixFile})[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(got.SDRi) != 2 || len(got.SISDRi) != 2 {
		t.Fatalf("no improvements: %s", out)
	}
	for i := range base {
		mixSI, _ := bsseval.SISDR(sources[i], mix, true)
		if math.Abs(float64(got.SDRi[i]-got.SDR[i])+base[i]) > 1e-9 || math.Abs(float64(got.SISDRi[i]-got.SISDR[i])+mixSI) > 1e-4 {
			t.Errorf("source %d: SDRi %v with SDR %v and a mixture SDR %v; SI-SDRi %v", i, got.SDRi[i], got.SDR[i], base[i], got.SISDRi[i])
		}
		// The estimates are better than the 0 dB mixture.
		if got.SDRi[i] < 3 {
			t.Errorf("source %d: SDRi %v", i, got.SDRi[i])
		}
	}
	out, _, code = runEvalForTest(t, args...)
	if code != exitOK || !strings.Contains(out, "SDRi dB") || !strings.Contains(out, "SI-SDRi dB") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{append(args, "--window", "4000"), "--mix scores whole signals"},
		{[]string{"--ref-dir", dir, "--est-dir", dir, "-o", dir, "--mix", mixFile}, "--mix is for --ref and --est"},
	} {
		_, errOut, code := runEvalForTest(t, c.args...)
		wantFailure(t, errOut, code, exitUsage, c.want)
	}
}
