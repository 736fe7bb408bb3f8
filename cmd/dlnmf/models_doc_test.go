package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/internal/openblas"
	"github.com/dlnmf/dlnmf/wav"
)

// numpyPython returns a Python 3 that imports numpy, or skips t. Debian's
// python3-numpy installs into /usr/bin/python3, which another python3 on
// PATH (pyenv, a virtualenv) may hide, so that one is tried first.
func numpyPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import numpy").Run() == nil {
			return py
		}
	}
	t.Skip("skipping: no python3 with numpy here (make test installs Debian's python3-numpy through scripts/setup.sh test; as root: apt-get install python3-numpy)")
	return ""
}

// docRecipe returns the python block of docs/models.md.
func docRecipe(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "models.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```python\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("docs/models.md has no ```python block")
	}
	return string(m[1])
}

// The numpy recipe of docs/models.md separates a mixture with a model file
// as dlnmf separate does: on a held-out 0 dB mixture of the two espeak
// voices, a DL-NMF model (two layers) gives SDRs within 0.05 dB of dlnmf's.
func TestModelsDocNumpyRecipe(t *testing.T) {
	py := numpyPython(t)
	recipe := docRecipe(t)
	if n := strings.Count(strings.TrimSpace(recipe), "\n") + 1; n > 34 {
		t.Errorf("the recipe has %d lines; it should stay short (the method in about 20, plus WAV input and output)", n)
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "separate.py")
	if err := os.WriteFile(script, []byte(recipe), 0o644); err != nil {
		t.Fatal(err)
	}

	// Train on 20 sentences of each voice; mix sentence 24 of each.
	voices := filepath.Join("..", "..", "testdata", "voices")
	var args []string
	var refs [][]float64
	for _, v := range []string{"male", "female"} {
		train := filepath.Join(dir, v)
		if err := os.Mkdir(train, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 20; i++ {
			name := fmt.Sprintf("%02d.wav", i)
			b, err := os.ReadFile(filepath.Join(voices, v, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(train, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		args = append(args, "--speaker", v+"="+train)
		a, err := wav.ReadFile(filepath.Join(voices, v, "24.wav"))
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, a.Mono())
	}
	mix, refs, err := corpus.Mix(refs, 0)
	if err != nil {
		t.Fatal(err)
	}
	mixPath := writeWAV(t, filepath.Join(dir, "mix.wav"), mix, 16000)
	// A model of every bin, one of default bands, one with a default
	// step exponent and iteration count as well, and one with
	// reconstruction bases for the gains.
	models := []struct {
		name  string
		flags []string
	}{
		{"model", []string{"--bands", "0"}},
		{"bands", []string{"--bands", "64"}},
		{"step", []string{"--bands", "64", "--step-exponent", "1.5", "--separate-iters", "60"}},
		{"recon", []string{"--bands", "64", "--reconstruction-bases", "--deep-epochs", "5"}},
	}
	var cmd *exec.Cmd
	for _, m := range models {
		model := filepath.Join(dir, m.name+".npz")
		if _, stderr, code := runCmd(t, append([]string{"train", "--method", "dlnmf", "--layers", "60,12", "--iters", "60",
			"--rounds", "2", "--disc-share", "0.2", "--seed", "3", "-o", model, "--quiet"}, append(m.flags, args...)...)...); code != exitOK {
			t.Fatalf("train: exit %d: %s", code, stderr)
		}
		if _, stderr, code := runCmd(t, "separate", "-m", model, "-o", filepath.Join(dir, "go-"+m.name), mixPath, "--quiet"); code != exitOK {
			t.Fatalf("separate: exit %d: %s", code, stderr)
		}
		cmd = exec.Command(py, script, model, mixPath, filepath.Join(dir, "np-"+m.name))
		if core := openblas.SelectedCore(); core != "" {
			// numpy's OpenBLAS runs the kernels dlnmf selected.
			cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE="+core)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the recipe failed: %v\n%s", err, out)
		}
	}
	// A model it cannot apply (one speaker: dlnmf learns free bases for the
	// rest) is refused with a message, never returned unchanged.
	one := filepath.Join(dir, "one.npz")
	if _, stderr, code := runCmd(t, "train", "--method", "nmf", "--k", "5", "--iters", "10", "--speaker", args[1], "-o", one, "--quiet"); code != exitOK {
		t.Fatalf("train one speaker: exit %d: %s", code, stderr)
	}
	refused := exec.Command(py, script, one, mixPath, filepath.Join(dir, "one"))
	refused.Env = cmd.Env
	if out, err := refused.CombinedOutput(); err == nil || !strings.Contains(string(out), "use dlnmf separate") {
		t.Errorf("the recipe on a one-speaker model: %v\n%s", err, out)
	}
	// Nor does it apply a deep-unfolded model, even of single frames
	// without sparsity: its layers were trained from dlnmf's seeded start.
	deep := filepath.Join(dir, "deep.npz")
	if _, stderr, code := runCmd(t, append([]string{"train", "--method", "nmf", "--k", "5", "--iters", "10", "--unfold", "3", "--untied", "1",
		"--deep-epochs", "2", "-o", deep, "--quiet"}, args...)...); code != exitOK {
		t.Fatalf("train a deep model: exit %d: %s", code, stderr)
	}
	refused = exec.Command(py, script, deep, mixPath, filepath.Join(dir, "deep"))
	refused.Env = cmd.Env
	if out, err := refused.CombinedOutput(); err == nil || !strings.Contains(string(out), "use dlnmf separate") {
		t.Errorf("the recipe on a deep-unfolded model: %v\n%s", err, out)
	}
	if _, stderr, code := runCmd(t, "separate", "-m", deep, "-o", filepath.Join(dir, "deep"), mixPath, "--quiet"); code != exitOK {
		t.Fatalf("separate with the deep model: exit %d: %s", code, stderr)
	}

	score := func(paths ...string) []float64 {
		var est [][]float64
		for _, p := range paths {
			a, err := wav.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			est = append(est, a.Mono())
		}
		r, err := bsseval.Sources(refs, est, bsseval.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return r.SDR
	}
	var prev []float64
	for _, m := range models {
		goSDR := score(filepath.Join(dir, "go-"+m.name, "mix.male.wav"), filepath.Join(dir, "go-"+m.name, "mix.female.wav"))
		npSDR := score(filepath.Join(dir, "np-"+m.name+".male.wav"), filepath.Join(dir, "np-"+m.name+".female.wav"))
		if slices.Equal(prev, goSDR) {
			t.Errorf("%s: the same SDRs as the model before it: the model's default inference was not used", m.name)
		}
		prev = goSDR
		for i, v := range []string{"male", "female"} {
			t.Logf("%s, %s: SDR %.3f dB (dlnmf separate), %.3f dB (numpy recipe)", m.name, v, goSDR[i], npSDR[i])
			if goSDR[i] < 3 {
				t.Errorf("%s, %s: dlnmf separate gives SDR %.2f dB: the model does not separate, so the comparison says nothing", m.name, v, goSDR[i])
			}
			if d := math.Abs(goSDR[i] - npSDR[i]); !(d <= 0.05) {
				t.Errorf("%s, %s: the recipe's SDR %.3f dB is %.3f dB from dlnmf separate's %.3f dB, want within 0.05", m.name, v, npSDR[i], d, goSDR[i])
			}
		}
	}
}
