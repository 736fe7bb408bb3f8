package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/experiment"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// tinyTrain are training flags that keep a run well under a second.
var tinyTrain = []string{"--k", "4", "--layers", "8,3", "--iters", "10", "--infer-iters", "10", "--rounds", "1", "--disc-iters", "5", "--quiet"}

func trainArgs(method, out string, speakers ...string) []string {
	args := append([]string{"train", "--method", method, "-o", out}, tinyTrain...)
	for _, s := range speakers {
		args = append(args, "--speaker", s)
	}
	return args
}

func TestTrain(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 5, 1)
	outDir := t.TempDir()
	for _, tc := range []struct {
		method string
		sizes  []int
	}{{"nmf", []int{4}}, {"lnmf", []int{8, 3}}, {"dlnmf", []int{8, 3}}} {
		out := filepath.Join(outDir, tc.method+".npz")
		stdout, stderr, code := runCmd(t, trainArgs(tc.method, out, low, high)...)
		if code != exitOK || stdout != "" || stderr != "" {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", tc.method, code, stdout, stderr)
		}
		m, err := separation.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Names(); !reflect.DeepEqual(got, []string{"low", "high"}) {
			t.Errorf("%s: speakers %v", tc.method, got)
		}
		if got := m.Sizes(); !reflect.DeepEqual(got, tc.sizes) {
			t.Errorf("%s: sizes %v, want %v", tc.method, got, tc.sizes)
		}
		if m.Method.Label() != map[string]string{"nmf": "NMF", "lnmf": "L-NMF", "dlnmf": "DL-NMF"}[tc.method] {
			t.Errorf("%s: method %v", tc.method, m.Method)
		}
	}
	if got := dirFiles(t, outDir); !reflect.DeepEqual(got, []string{"dlnmf.npz", "lnmf.npz", "nmf.npz"}) {
		t.Errorf("output folder holds %v", got)
	}

	// Without --quiet, progress goes to stderr as plain lines (stderr is
	// not a terminal here: no progress bar), nothing to stdout.
	stdout, stderr, code := runCmd(t, "train", "--method", "nmf", "--k", "4", "--iters", "5", "-o", filepath.Join(outDir, "v.npz"), "--speaker", low, "--speaker", high)
	if code != exitOK || stdout != "" || !strings.Contains(stderr, "wrote ") || strings.Contains(stderr, "\r") {
		t.Errorf("verbose train: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
}

func TestTrainUsageErrors(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 2, 0.5)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "m.npz")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no -o", []string{"train", "--speaker", low, "--speaker", high}, "-o"},
		{"one speaker, DL-NMF", []string{"train", "--preset", "paper", "-o", out, "--speaker", low}, "at least 2 speakers"},
		{"preset and method", []string{"train", "--preset", "paper", "--method", "nmf", "-o", out, "--speaker", low}, "give one"},
		{"unknown preset", []string{"train", "--preset", "best", "-o", out, "--speaker", low}, "unknown preset"},
		{"speaker twice", []string{"train", "-o", out, "--speaker", low, "--speaker", low}, "given twice"},
		{"speaker without dir", []string{"train", "-o", out, "--speaker", "low", "--speaker", high}, "NAME=DIR"},
		{"bad layers", []string{"train", "--method", "lnmf", "--layers", "8,x", "-o", out, "--speaker", low, "--speaker", high}, "--layers"},
		{"zero layer", []string{"train", "--method", "dlnmf", "--layers", "8,0", "-o", out, "--speaker", low, "--speaker", high}, "--layers"},
		{"unknown method", []string{"train", "--method", "pca", "-o", out, "--speaker", low, "--speaker", high}, "pca"},
		{"bad k", []string{"train", "--method", "nmf", "--k", "0", "-o", out, "--speaker", low, "--speaker", high}, "k"},
		{"bad iters", []string{"train", "--method", "nmf", "--iters", "0", "-o", out, "--speaker", low, "--speaker", high}, "iters"},
		{"zero infer-iters", []string{"train", "--method", "dlnmf", "--infer-iters", "0", "-o", out, "--speaker", low, "--speaker", high}, "iters"},
		{"bad rounds", []string{"train", "--method", "dlnmf", "--rounds", "-1", "-o", out, "--speaker", low, "--speaker", high}, "rounds"},
		{"bad share", []string{"train", "--method", "dlnmf", "--disc-share", "1.5", "-o", out, "--speaker", low, "--speaker", high}, "--disc-share"},
		{"NaN share", []string{"train", "--method", "dlnmf", "--disc-share", "NaN", "-o", out, "--speaker", low, "--speaker", high}, "--disc-share must lie between 0 and 1"},
		{"extra argument", []string{"train", "-o", out, "--speaker", low, "--speaker", high, "stray.wav"}, "stray.wav"},
		{"even context", []string{"train", "--context", "4", "-o", out, "--speaker", low, "--speaker", high}, "--context"},
		{"zero context", []string{"train", "--context", "0", "-o", out, "--speaker", low, "--speaker", high}, "--context"},
		{"negative sparsity", []string{"train", "--sparsity", "-0.5", "-o", out, "--speaker", low, "--speaker", high}, "--sparsity"},
		{"zero mask power", []string{"train", "--mask-power", "0", "-o", out, "--speaker", low, "--speaker", high}, "--mask-power"},
		{"untied above unfold", []string{"train", "--unfold", "3", "--untied", "4", "-o", out, "--speaker", low, "--speaker", high}, "untied 4"},
		{"negative unfold", []string{"train", "--unfold", "-1", "-o", out, "--speaker", low, "--speaker", high}, "unfold -1"},
		{"unfold, one speaker", []string{"train", "--unfold", "5", "-o", out, "--speaker", low}, "at least 2 speakers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCmd(t, tc.args...)
			wantFailure(t, stderr, code, exitUsage, "dlnmf train:", tc.want)
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if files := dirFiles(t, outDir); len(files) != 0 {
				t.Errorf("output folder holds %v", files)
				for _, f := range files {
					os.Remove(filepath.Join(outDir, f))
				}
			}
		})
	}
}

func TestTrainBadData(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 3, 0.5)
	lowDir := strings.TrimPrefix(low, "low=")

	// Each case spoils the "low" speaker's folder in its own copy.
	for _, tc := range []struct {
		name  string
		spoil func(dir string) string // returns the file the error must name ("" for the folder)
		want  string
	}{
		{"corrupt wav", func(dir string) string {
			p := filepath.Join(dir, "low01.wav")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:30], 0o644) // a truncated header
			return p
		}, ""},
		{"text named .wav", func(dir string) string {
			p := filepath.Join(dir, "notes.wav")
			os.WriteFile(p, []byte("these are my notes, not audio\n"), 0o644)
			return p
		}, "not a WAV file"},
		{"no wavs", func(dir string) string {
			for _, n := range dirFiles(t, dir) {
				os.Remove(filepath.Join(dir, n))
			}
			os.WriteFile(filepath.Join(dir, "readme.txt"), []byte("hello"), 0o644)
			return dir
		}, "no .wav or .flac files"},
		{"missing folder", func(dir string) string {
			os.RemoveAll(dir)
			return dir
		}, ""},
		{"silent wav", func(dir string) string {
			p := filepath.Join(dir, "low02.wav")
			writeWAV(t, p, make([]float64, 8000), synthRate)
			return p
		}, "silent"},
		{"empty wav", func(dir string) string {
			p := filepath.Join(dir, "low00.wav")
			writeWAV(t, p, nil, synthRate)
			return p
		}, ""},
		{"NaN in a float wav", func(dir string) string {
			p := filepath.Join(dir, "low00.wav")
			x := synthVoice(lowNotes, 0.5, synthRate, 7)
			x[100] = math.NaN()
			if _, err := wav.WriteFile(p, x, synthRate, wav.Float32); err != nil {
				t.Fatal(err)
			}
			return p
		}, "NaN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "low")
			copyDir(t, lowDir, dir)
			bad := tc.spoil(dir)
			outDir := t.TempDir()
			out := filepath.Join(outDir, "m.npz")
			for _, method := range []string{"nmf", "dlnmf"} {
				stdout, stderr, code := runCmd(t, trainArgs(method, out, "low="+dir, high)...)
				wantFailure(t, stderr, code, exitFailure, "dlnmf train:", bad, tc.want)
				if stdout != "" {
					t.Errorf("stdout %q", stdout)
				}
				if files := dirFiles(t, outDir); len(files) != 0 {
					t.Errorf("%s: output folder holds %v", method, files)
				}
			}
		})
	}
}

// TestTrainKeepsOldModel checks that a failed training leaves an existing
// model file as it was.
func TestTrainKeepsOldModel(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 3, 0.5)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "m.npz")
	if _, stderr, code := runCmd(t, trainArgs("nmf", out, low, high)...); code != exitOK {
		t.Fatalf("train: %s", stderr)
	}
	before, _ := os.ReadFile(out)
	os.WriteFile(filepath.Join(strings.TrimPrefix(low, "low="), "zz.wav"), []byte("RIFF????WAVEjunk"), 0o644)
	_, stderr, code := runCmd(t, trainArgs("nmf", out, low, high)...)
	wantFailure(t, stderr, code, exitFailure, "zz.wav")
	after, _ := os.ReadFile(out)
	if string(before) != string(after) {
		t.Errorf("a failed training changed the model file")
	}
	if got := dirFiles(t, outDir); !reflect.DeepEqual(got, []string{"m.npz"}) {
		t.Errorf("output folder holds %v", got)
	}
	// An output folder that does not exist is created; one that cannot be
	// (a file stands in its way) is one error line, before any training.
	os.Remove(filepath.Join(strings.TrimPrefix(low, "low="), "zz.wav"))
	missing := filepath.Join(outDir, "no", "such", "m.npz")
	if _, stderr, code := runCmd(t, trainArgs("nmf", missing, low, high)...); code != exitOK {
		t.Fatalf("train into a missing folder: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(missing); err != nil {
		t.Errorf("train did not write into a missing folder: %v", err)
	}
	blocked := filepath.Join(outDir, "m.npz", "x.npz")
	_, stderr, code = runCmd(t, trainArgs("nmf", blocked, low, high)...)
	wantFailure(t, stderr, code, exitFailure, blocked, "cannot write there")
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range dirFiles(t, src) {
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// dlnmf train on one experiment repeat's training and discriminative files,
// with the repeat's seed, writes the very models the experiment trained for
// that repeat, bit for bit, for every method: one pipeline, one pairing
// rule, one seed rule. The experiment runs the engine on one core, train
// on every core (the results do not depend on it). Both speakers read "the same prompts" (the same file
// names), so the pairing rule's swap is part of what must agree.
func TestTrainBuildsTheExperimentsModels(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakersNamed(t, root, 10, 1, "u")
	var sps []*corpus.Speaker
	for _, flag := range []string{low, high} {
		name, dir, _ := strings.Cut(flag, "=")
		sp, err := loadSpeaker(speakerDir{name, dir}, nil)
		if err != nil {
			t.Fatal(err)
		}
		sps = append(sps, sp)
	}
	cfg := experiment.Config{Repeats: 2, K: []int{4}, Layers: [][]int{{8, 3}}, Iters: 12, InferIters: 10, Rounds: 2, DiscIters: 5, Seed: 3}
	const repeat = 1
	rp, err := experiment.PrepareRepeat(sps, cfg, repeat)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*separation.Model{}
	rp.Model = func(row experiment.Row, m *separation.Model) { want[row.Label()] = m }
	if _, err := rp.Run(context.Background(), 0, 1, nil); err != nil {
		t.Fatal(err)
	}
	list := func(name string, us []corpus.Utterance) string {
		var b strings.Builder
		for _, u := range us {
			b.WriteString(u.Path + "\n")
		}
		p := filepath.Join(root, name+".txt")
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	common := []string{"--iters", "12", "--infer-iters", "10", "--rounds", "2", "--disc-iters", "5", "--quiet",
		"--seed", fmt.Sprint(experiment.RepeatSeed(cfg.Seed, repeat))}
	for i, sp := range sps {
		common = append(common, "--speaker", sp.Name+"=@"+list("train-"+sp.Name, rp.Train[i]))
	}
	discs := []string{}
	for i, sp := range sps {
		discs = append(discs, "--disc", sp.Name+"=@"+list("disc-"+sp.Name, rp.Disc[i]))
	}
	for _, tc := range []struct {
		row  string
		args []string
	}{
		{"NMF K=4", []string{"--method", "nmf", "--k", "4"}},
		{"L-NMF 8,3", []string{"--method", "lnmf", "--layers", "8,3"}},
		{"DL-NMF 8,3", append([]string{"--method", "dlnmf", "--layers", "8,3"}, discs...)},
	} {
		out := filepath.Join(root, strings.Fields(tc.row)[0]+".npz")
		args := append(append([]string{"train", "-o", out}, tc.args...), common...)
		if _, stderr, code := runCmd(t, args...); code != exitOK {
			t.Fatalf("%s: exit %d: %s", tc.row, code, stderr)
		}
		got, err := separation.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		w := want[tc.row]
		if w == nil {
			t.Fatalf("the experiment trained no %s", tc.row)
		}
		for i := range w.Speakers {
			for l, layer := range w.Speakers[i].Layers {
				if !slices.Equal(got.Speakers[i].Layers[l].Data, layer.Data) {
					t.Errorf("%s: speaker %s layer %d differs from the experiment's", tc.row, w.Speakers[i].Name, l+1)
				}
			}
		}
		if !slices.Equal(got.Training.DiscCost, w.Training.DiscCost) {
			t.Errorf("%s: discriminative cost %v, the experiment's %v", tc.row, got.Training.DiscCost, w.Training.DiscCost)
		}
	}
}

// With no --method, train builds the preset: the validated configuration
// by default, the paper's DL-NMF with --preset paper (the very model of
// --method dlnmf --layers 180,20); flags override the preset's values.
func TestTrainPresets(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 5, 1)
	train := func(name string, args ...string) *separation.Model {
		t.Helper()
		out := filepath.Join(root, name+".npz")
		all := append([]string{"train", "-o", out, "--speaker", low, "--speaker", high, "--iters", "5", "--infer-iters", "5", "--rounds", "1", "--disc-iters", "2", "--deep-epochs", "2", "--quiet"}, args...)
		if _, stderr, code := runCmd(t, all...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		m, err := separation.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	def := train("default")
	if def.Method != separation.NMF || !slices.Equal(def.Sizes(), []int{400}) || def.Context != 5 || def.Sparsity != 1 || def.MaskPower != 2 {
		t.Errorf("the default model is %s %v, context %d, sparsity %g, mask power %g; want the validated preset", def.Method, def.Sizes(), def.Context, def.Sparsity, def.MaskPower)
	}
	if !def.HasReconstructionBases() || def.StepExponent != separation.ValidatedStepExponent || def.SeparateIters != separation.ValidatedReconstructionIters {
		t.Errorf("the default model of 2 speakers: reconstruction bases %v, step exponent %g, %d iterations; want bases for %d iterations", def.HasReconstructionBases(), def.StepExponent, def.SeparateIters, separation.ValidatedReconstructionIters)
	}
	if k50 := train("k50", "--k", "50", "--mask-power", "1"); !slices.Equal(k50.Sizes(), []int{50}) || k50.MaskPower != 1 || k50.Context != 5 || !k50.HasReconstructionBases() {
		t.Errorf("--k 50 --mask-power 1 over the preset gave %v, mask power %g, context %d, reconstruction bases %v", k50.Sizes(), k50.MaskPower, k50.Context, k50.HasReconstructionBases())
	}
	if none := train("none", "--k", "50", "--reconstruction-bases=false"); none.HasReconstructionBases() || none.Context != 5 || none.SeparateIters != separation.ValidatedSeparateIters {
		t.Errorf("--reconstruction-bases=false over the preset gave reconstruction bases %v, context %d, %d iterations", none.HasReconstructionBases(), none.Context, none.SeparateIters)
	}
	if it := train("iters", "--k", "50", "--separate-iters", "100"); !it.HasReconstructionBases() || it.SeparateIters != 100 {
		t.Errorf("--separate-iters 100 over the preset gave reconstruction bases %v, %d iterations", it.HasReconstructionBases(), it.SeparateIters)
	}
	if _, stderr, code := runCmd(t, "train", "-o", filepath.Join(root, "x.npz"), "--speaker", low, "--speaker", high, "--reconstruction-bases",
		"--universal", "speech="+low); code != exitUsage || !strings.Contains(stderr, "--universal") {
		t.Errorf("--reconstruction-bases --universal: exit %d: %s", code, stderr)
	}
	paper, method := train("paper", "--preset", "paper"), train("method", "--method", "dlnmf", "--layers", "180,20")
	if paper.HasReconstructionBases() || method.HasReconstructionBases() {
		t.Error("the paper's preset or a method trained reconstruction bases")
	}
	if paper.Method != separation.DLNMF || !slices.Equal(paper.Sizes(), []int{180, 20}) || paper.Context != 1 || paper.Sparsity != 0 || paper.MaskPower != 1 {
		t.Errorf("--preset paper gave %s %v", paper.Method, paper.Sizes())
	}
	for i := range paper.Speakers {
		for l, w := range paper.Speakers[i].Layers {
			if !slices.Equal(w.Data, method.Speakers[i].Layers[l].Data) {
				t.Fatalf("--preset paper and --method dlnmf --layers 180,20 differ in speaker %d layer %d", i, l)
			}
		}
	}
}
