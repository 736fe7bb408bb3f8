package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/separation"
)

// TestSemiSupervised trains one-speaker models (with and without a
// universal model) and separates with free bases, and checks the bad
// inputs of sources without a model: --free 0 or negative, --free beyond the mixture's
// frames, a one-speaker model given no --free.
func TestSemiSupervised(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 3, 1)
	one := filepath.Join(root, "one.npz")
	if _, stderr, code := runCmd(t, append(trainArgs("nmf", one, low), "--k", "6", "--quiet")...); code != exitOK {
		t.Fatalf("training one speaker: %s", stderr)
	}
	if _, stderr, code := runCmd(t, append(trainArgs("dlnmf", filepath.Join(root, "x.npz"), low), "--quiet")...); code != exitUsage {
		t.Errorf("dlnmf with one speaker: exit %d, %s", code, stderr)
	}
	mix := filepath.Join(root, "mix.wav")
	synthMixture(t, mix, 1, 16000, 700)
	out := filepath.Join(root, "out")

	_, stderr, code := runCmd(t, "separate", "-m", one, "-o", out, "--free", "-3", mix)
	wantFailure(t, stderr, code, exitUsage, "--free must be 0 or more")
	_, stderr, code = runCmd(t, "separate", "-m", one, "-o", out, "--free", "5000", "--quiet", mix)
	if code != exitFailure || !strings.Contains(stderr, "5000 free bases for") || strings.Contains(stderr, "panic") {
		t.Errorf("--free 5000: exit %d, stderr:\n%s", code, stderr)
	}
	if got := dirFiles(t, out); len(got) != 0 {
		t.Errorf("a failed separation left %v", got)
	}

	// No --free, or --free 0 (the default, as -h shows it): it says what
	// it does, and does it.
	for i, free := range [][]string{nil, {"--free", "0"}} {
		dir := filepath.Join(root, fmt.Sprintf("default%d", i))
		_, stderr, code = runCmd(t, append([]string{"separate", "-m", one, "-o", dir, "--iters", "20", mix}, free...)...)
		if code != exitOK || !strings.Contains(stderr, "one speaker (low)") || !strings.Contains(stderr, "with 20 free bases") {
			t.Errorf("one speaker, %v: exit %d, stderr:\n%s", free, code, stderr)
		}
		if got, want := dirFiles(t, dir), []string{"mix.low.wav", "mix.other.wav"}; !reflect.DeepEqual(got, want) {
			t.Errorf("outputs %v, want %v", got, want)
		}
	}

	// Free bases infer separation.DefaultFreeIters iterations unless
	// --iters says otherwise.
	var others [][]float64
	for i, extra := range [][]string{nil, {"--iters", fmt.Sprint(separation.DefaultFreeIters)}, {"--iters", "200"}} {
		dir := filepath.Join(root, fmt.Sprintf("iters%d", i))
		if _, stderr, code := runCmd(t, append([]string{"separate", "-m", one, "-o", dir, "--free", "6", "--quiet", mix}, extra...)...); code != exitOK {
			t.Fatalf("--free 6 %v: %s", extra, stderr)
		}
		others = append(others, readSamples(t, filepath.Join(dir, "mix.other.wav")))
	}
	if !reflect.DeepEqual(others[0], others[1]) || reflect.DeepEqual(others[0], others[2]) {
		t.Errorf("--free without --iters is not --iters %d", separation.DefaultFreeIters)
	}

	// --free-init random starts the free bases from seeded random columns
	// instead of the mixture's quietest frames (the default): other
	// estimates, still adding up.
	outQ := filepath.Join(root, "outq")
	if _, stderr, code := runCmd(t, "separate", "-m", one, "-o", outQ, "--iters", "20", "--free", "20", "--free-init", "random", "--quiet", mix); code != exitOK {
		t.Fatalf("--free-init random: exit %d: %s", code, stderr)
	}
	if a, b := readSamples(t, filepath.Join(root, "default0", "mix.other.wav")), readSamples(t, filepath.Join(outQ, "mix.other.wav")); len(a) != len(b) || belowDB(a, b) > 100 {
		t.Errorf("--free-init random gave the quiet start's estimate (%d and %d samples)", len(a), len(b))
	}
	for _, bad := range [][]string{{"--free-init", "loud"}, {"--free-init", "quiet", "--live"}} {
		_, stderr, code := runCmd(t, append([]string{"separate", "-m", one, "-o", outQ, mix}, bad...)...)
		wantFailure(t, stderr, code, exitUsage, "--free-init")
	}
	two := filepath.Join(root, "two.npz")
	if _, stderr, code := runCmd(t, append(trainArgs("nmf", two, low, high), "--k", "6", "--quiet")...); code != exitOK {
		t.Fatalf("training two speakers: %s", stderr)
	}
	_, stderr, code = runCmd(t, "separate", "-m", two, "-o", outQ, "--free-init", "quiet", mix)
	wantFailure(t, stderr, code, exitUsage, "it needs --free")

	// A universal model trained into the model file is the second source.
	uni := filepath.Join(root, "uni.npz")
	_, highDir, _ := strings.Cut(high, "=")
	if _, stderr, code := runCmd(t, append(trainArgs("nmf", uni, low), "--k", "6", "--quiet", "--universal", "speech="+highDir)...); code != exitOK {
		t.Fatalf("training with --universal: %s", stderr)
	}
	m, err := separation.ReadFile(uni)
	if err != nil {
		t.Fatal(err)
	}
	if m.Universal == nil || m.Universal.Name != "speech" || len(m.Universal.Speakers) != 1 || m.Universal.Speakers[0].Name != "high" {
		t.Fatalf("universal model %+v", m.Universal)
	}
	out2 := filepath.Join(root, "out2")
	if _, stderr, code := runCmd(t, "separate", "-m", uni, "-o", out2, "--iters", "20", "--quiet", mix); code != exitOK {
		t.Fatalf("separating with the universal model: %s", stderr)
	}
	if got, want := dirFiles(t, out2), []string{"mix.low.wav", "mix.speech.wav"}; !reflect.DeepEqual(got, want) {
		t.Errorf("outputs %v, want %v", got, want)
	}
	_, stderr, code = runCmd(t, "separate", "-m", uni, "-o", out2, "--free", "4", mix)
	wantFailure(t, stderr, code, exitFailure, "universal model")
	_, stderr, code = runCmd(t, "separate", "-m", uni, "-o", out2, "--universal-weight", "0", mix)
	wantFailure(t, stderr, code, exitUsage, "--universal-weight must be positive")
	// The old name of --universal-weight still works, with a notice, and
	// gives the same bytes.
	oldName, newName := filepath.Join(root, "old-name"), filepath.Join(root, "new-name")
	if _, stderr, code := runCmd(t, "separate", "-m", uni, "-o", newName, "--universal-weight", "0.02", "--quiet", mix); code != exitOK {
		t.Fatalf("--universal-weight 0.02: exit %d: %s", code, stderr)
	}
	_, stderr, code = runCmd(t, "separate", "-m", uni, "-o", oldName, "--sparsity", "0.02", "--quiet", mix)
	if code != exitOK || !strings.Contains(stderr, "--sparsity is now --universal-weight") {
		t.Errorf("--sparsity 0.02: exit %d: %s", code, stderr)
	}
	if a, b := readSamples(t, filepath.Join(oldName, "mix.speech.wav")), readSamples(t, filepath.Join(newName, "mix.speech.wav")); !reflect.DeepEqual(a, b) {
		t.Error("--sparsity and --universal-weight gave different estimates")
	}

	// --universal-prune measures each universal speaker's share of the
	// speakers' training audio (--json) and --universal-k sets the
	// universal model's size. The known model explains its synthetic voice
	// fully, so that the group penalty switches a lone universal speaker
	// off and both shares are 0 here: nothing is dropped (separation's
	// TestUniversalPrune tests the dropping on a voice the model does not
	// explain fully).
	_, lowDir, _ := strings.Cut(low, "=")
	same := filepath.Join(root, "same")
	if err := os.CopyFS(same, os.DirFS(lowDir)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		prune string
		want  []string
	}{{"2", []string{"high", "same"}}, {"0", []string{"high", "same"}}} {
		stdout, stderr, code := runCmd(t, append(trainArgs("nmf", uni, low), "--k", "6", "--quiet", "--json", "--universal", "speech="+highDir+","+same,
			"--universal-k", "4", "--universal-prune", c.prune)...)
		if code != exitOK {
			t.Fatalf("--universal-prune %s: %s", c.prune, stderr)
		}
		m, err := separation.ReadFile(uni)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, sp := range m.Universal.Speakers {
			names = append(names, sp.Name)
			if fmt.Sprint(sp.Sizes()) != "[4]" {
				t.Errorf("universal speaker %s has sizes %v, want [4]", sp.Name, sp.Sizes())
			}
		}
		if !reflect.DeepEqual(names, c.want) {
			t.Errorf("--universal-prune %s kept %v, want %v; --json: %s", c.prune, names, c.want, stdout)
		}
		if c.prune != "0" && !strings.Contains(stdout, `"universal_shares":{"high":`) {
			t.Errorf("--json has no universal shares: %s", stdout)
		}
	}
	// A universal folder named like a speaker is renamed, not refused.
	if _, stderr, code := runCmd(t, append(trainArgs("nmf", uni, low), "--k", "6", "--quiet", "--universal", "speech="+lowDir)...); code != exitOK {
		t.Fatalf("a universal folder named like the speaker: %s", stderr)
	}
	renamed, err := separation.ReadFile(uni)
	if err != nil {
		t.Fatal(err)
	}
	if got := renamed.Universal.Speakers[0].Name; got != "speech1" {
		t.Errorf("the universal speaker of folder low is named %s, want speech1", got)
	}
	for _, bad := range [][]string{{"--universal-k", "-1"}, {"--universal-prune", "0.5"}} {
		_, stderr, code = runCmd(t, append(append(trainArgs("nmf", uni, low), "--universal", "speech="+highDir), bad...)...)
		wantFailure(t, stderr, code, exitUsage, bad[0])
	}
	_, stderr, code = runCmd(t, append(trainArgs("nmf", uni, low), "--universal-k", "4")...)
	wantFailure(t, stderr, code, exitUsage, "it needs --universal")
	_, stderr, code = runCmd(t, append(trainArgs("nmf", uni, low), "--universal", "low="+highDir)...)
	wantFailure(t, stderr, code, exitUsage, "--universal low")
}

func TestExperimentInterferenceUsage(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 3, 0.3)
	out := filepath.Join(root, "out")
	_, stderr, code := runCmd(t, "experiment", "--speaker", low, "--speaker", high, "--unknown", high, "-o", out)
	wantFailure(t, stderr, code, exitUsage, "exactly one --speaker")
	_, stderr, code = runCmd(t, "experiment", "--speaker", low, "--unknown", high, "--universal-weight", "-1", "-o", out)
	wantFailure(t, stderr, code, exitUsage, "--universal-weight")
	_, stderr, code = runCmd(t, "experiment", "--speaker", low, "--noise", "n="+filepath.Join(root, "missing.wav"), "-o", out)
	if code != exitFailure || strings.Contains(stderr, "panic") {
		t.Errorf("missing noise file: exit %d, %s", code, stderr)
	}
	_, stderr, code = runCmd(t, "experiment", "--speaker", low, "--unknown", high, "--score-on", "train", "-o", out)
	wantFailure(t, stderr, code, exitUsage, "--score-on")
	_, stderr, code = runCmd(t, "experiment", "--speaker", low, "--unknown", high, "--semi-iters", "50,0", "-o", out)
	wantFailure(t, stderr, code, exitUsage, "--semi-iters")
	_, stderr, code = runCmd(t, "experiment", "--speaker", low, "--unknown", high, "--free-init", "loud", "-o", out)
	wantFailure(t, stderr, code, exitUsage, "--free-init")
	_, stderr, code = runCmd(t, "experiment", "--speaker", low, "--unknown", high, "--free-l1", "-1", "-o", out)
	wantFailure(t, stderr, code, exitUsage, "--free-l1")
}

// TestExperimentScoreOnValidation: --score-on validation writes the picked
// settings, one per line, for the test run; two shards and a summary write
// the same files as one process, and a rerun resumes from the units.
func TestExperimentScoreOnValidation(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 10, 0.3)
	out, sharded := filepath.Join(root, "out"), t.TempDir()
	args := func(dir string, more ...string) []string {
		return append([]string{"experiment", "--speaker", low, "--unknown", high, "--k", "4", "--iters", "20",
			"--repeats", "2", "--free", "2", "--semi-iters", "5,10", "--score-on", "validation", "--quiet", "-o", dir}, more...)
	}
	stdout, stderr, code := runCmd(t, args(out)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	picked, err := os.ReadFile(filepath.Join(out, "picked.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^free 2\nfree_iters (5|10)\nfree_init quiet\nfree_sdri -?[0-9]+\.[0-9]{2}\n$`).Match(picked) {
		t.Errorf("picked.txt: %q", picked)
	}
	if !strings.Contains(stdout, "validation mixtures") || !strings.Contains(stdout, "free K=2, 10 iters") {
		t.Errorf("results:\n%s", stdout)
	}
	if units, _ := filepath.Glob(filepath.Join(out, "units", "u*[0-9].json")); len(units) != 2 {
		t.Errorf("%d unit files, want one a repeat", len(units))
	}
	for i := range 2 {
		if _, stderr, code := runCmd(t, args(sharded, "--shard", fmt.Sprintf("%d/2", i))...); code != exitOK {
			t.Fatalf("shard %d/2: exit %d: %s", i, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(sharded, "results.md")); err == nil {
		t.Error("a shard wrote the results")
	}
	if _, stderr, code := runCmd(t, args(sharded, "--summarize")...); code != exitOK {
		t.Fatalf("summary: exit %d: %s", code, stderr)
	}
	for _, f := range []string{"results.md", "picked.txt"} {
		a, _ := os.ReadFile(filepath.Join(out, f))
		b, _ := os.ReadFile(filepath.Join(sharded, f))
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("%s of the shards and summary differs from one process's:\n%s\n%s", f, a, b)
		}
	}
	// A rerun computes nothing: the units are there.
	before, _ := os.ReadFile(filepath.Join(out, "results.md"))
	_, stderr, code = runCmd(t, append(args(out), "--quiet=false")...)
	if code != exitOK || !strings.Contains(stderr, "2 units already there") {
		t.Errorf("rerun: exit %d: %s", code, stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(out, "results.md")); string(after) != string(before) {
		t.Error("the resumed run's results differ")
	}
}
