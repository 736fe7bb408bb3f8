package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/dlnmf/dlnmf/npz"
	"github.com/dlnmf/dlnmf/wav"
)

var (
	modelOnce sync.Once
	modelPath string
	modelErr  string
)

// testModel trains a tiny L-NMF model of the two synthetic voices once per
// test binary and returns its path.
func testModel(t *testing.T) string {
	t.Helper()
	modelOnce.Do(func() {
		root, err := os.MkdirTemp("", "dlnmf-model-")
		if err != nil {
			modelErr = err.Error()
			return
		}
		low, high := synthSpeakers(t, root, 4, 1)
		modelPath = filepath.Join(root, "model.npz")
		args := append(trainArgs("lnmf", modelPath, low, high), "--iters", "30")
		if _, stderr, code := runCmd(t, args...); code != exitOK {
			modelErr = stderr
		}
	})
	if modelErr != "" {
		t.Fatalf("training the test model: %s", modelErr)
	}
	return modelPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if modelPath != "" {
		os.RemoveAll(filepath.Dir(modelPath))
	}
	os.Exit(code)
}

func TestSeparate(t *testing.T) {
	model := testModel(t)
	in := t.TempDir()
	mix16 := filepath.Join(in, "mix16.wav")
	x16 := synthMixture(t, mix16, 1, 16000, 500)
	mix48 := filepath.Join(in, "mix48.wav")
	x48 := synthMixture(t, mix48, 0.7, 48000, 600)
	bad := filepath.Join(in, "bad.wav")
	os.WriteFile(bad, []byte("RIFF\x10\x00\x00\x00WAVEfmt "), 0o644)
	out := filepath.Join(t.TempDir(), "sub", "out") // created by separate

	stdout, stderr, code := runCmd(t, "separate", "-m", model, "-o", out, "--iters", "20", "--jobs", "1", "--float", "--quiet", mix16, bad, mix48)
	if code != exitFailure {
		t.Errorf("exit code %d, want 1", code)
	}
	if stdout != "" {
		t.Errorf("stdout %q", stdout)
	}
	checkNoPanic(t, stderr)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], bad) || !strings.Contains(lines[1], "1 of 3 files failed") {
		t.Errorf("stderr:\n%s", stderr)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "dlnmf separate: ") {
			t.Errorf("stderr line %q", l)
		}
	}
	want := []string{"mix16.high.wav", "mix16.low.wav", "mix48.high.wav", "mix48.low.wav"}
	if got := dirFiles(t, out); !reflect.DeepEqual(got, want) {
		t.Fatalf("output folder holds %v, want %v", got, want)
	}
	for _, tc := range []struct {
		name string
		x    []float64
		rate int
	}{{"mix16", x16, 16000}, {"mix48", x48, 48000}} {
		sum := make([]float64, len(tc.x))
		for _, sp := range []string{"low", "high"} {
			a, err := wav.ReadFile(filepath.Join(out, tc.name+"."+sp+".wav"))
			if err != nil {
				t.Fatal(err)
			}
			if a.Rate != tc.rate || a.Len() != len(tc.x) || len(a.Channels) != 1 || a.Encoding != wav.Float32 {
				t.Errorf("%s.%s: %d Hz, %d samples, %d channels, %v; want %d Hz, %d samples, mono float", tc.name, sp, a.Rate, a.Len(), len(a.Channels), a.Encoding, tc.rate, len(tc.x))
				continue
			}
			for i, v := range a.Channels[0] {
				sum[i] += v
			}
		}
		// The estimates add up to the mixture (Wiener gains sum to one;
		// the input was 16-bit, resampling adds a little error).
		var e, d float64
		for i := range sum {
			e += tc.x[i] * tc.x[i]
			d += (sum[i] - tc.x[i]) * (sum[i] - tc.x[i])
		}
		if snr := 10 * math.Log10(e/d); snr < 30 {
			t.Errorf("%s: the estimates add up to the mixture only within %.1f dB", tc.name, snr)
		}
	}

	// Separation actually separates: the "low" estimate of mix16 is close to
	// the low voice.
	lowSrc := synthVoice(lowNotes, 1, 16000, 500)
	a, _ := wav.ReadFile(filepath.Join(out, "mix16.low.wav"))
	if sdr := snrDB(lowSrc, a.Channels[0]); sdr < 5 {
		t.Errorf("low voice recovered at %.1f dB, want at least 5", sdr)
	}

	// Without --quiet (and stderr not a terminal): one line per file on
	// stderr, nothing on stdout, exit 0 when all succeed.
	stdout, stderr, code = runCmd(t, "separate", "-m", model, "-o", out, "--iters", "5", mix16)
	if code != exitOK || stdout != "" || !strings.Contains(stderr, "mix16.wav -> mix16.low.wav, mix16.high.wav") || strings.Contains(stderr, "\r") {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
}

// TestSeparateParallel checks that files separated at once give the same
// output as files separated one by one.
func TestSeparateParallel(t *testing.T) {
	model := testModel(t)
	in := t.TempDir()
	var files []string
	for i, rate := range []int{16000, 48000, 16000, 22050} {
		p := filepath.Join(in, "mix"+string(rune('a'+i))+".wav")
		synthMixture(t, p, 0.6, rate, uint64(40+i))
		files = append(files, p)
	}
	serial, parallel := t.TempDir(), t.TempDir()
	for _, run := range []struct {
		out, jobs string
	}{{serial, "1"}, {parallel, "4"}} {
		args := append([]string{"separate", "-m", model, "-o", run.out, "--iters", "10", "--float", "--quiet", "--jobs", run.jobs}, files...)
		if _, stderr, code := runCmd(t, args...); code != exitOK {
			t.Fatalf("--jobs %s: exit %d: %s", run.jobs, code, stderr)
		}
	}
	names := dirFiles(t, serial)
	if len(names) != 2*len(files) || !reflect.DeepEqual(names, dirFiles(t, parallel)) {
		t.Fatalf("serial %v, parallel %v", names, dirFiles(t, parallel))
	}
	for _, n := range names {
		// Not bit for bit: with --jobs 1 the engine itself may use several
		// workers, which changes the order of float32 sums.
		a, err := wav.ReadFile(filepath.Join(serial, n))
		if err != nil {
			t.Fatal(err)
		}
		b, err := wav.ReadFile(filepath.Join(parallel, n))
		if err != nil {
			t.Fatal(err)
		}
		if d := snrDB(a.Channels[0], b.Channels[0]); !(d > 60) {
			t.Errorf("%s: --jobs 4 output differs from --jobs 1 (%.1f dB apart)", n, d)
		}
	}
}

func snrDB(ref, est []float64) float64 {
	var e, d float64
	for i := range ref {
		e += ref[i] * ref[i]
		d += (est[i] - ref[i]) * (est[i] - ref[i])
	}
	return 10 * math.Log10(e/d)
}

func TestSeparateBadMixtures(t *testing.T) {
	model := testModel(t)
	in := t.TempDir()
	nanFile := filepath.Join(in, "nan.wav")
	x := synthVoice(lowNotes, 0.5, 16000, 3)
	x[1234] = math.NaN()
	if _, err := wav.WriteFile(nanFile, x, 16000, wav.Float32); err != nil {
		t.Fatal(err)
	}
	infFile := filepath.Join(in, "inf.wav")
	x[1234] = math.Inf(1)
	if _, err := wav.WriteFile(infFile, x, 16000, wav.Float64); err != nil {
		t.Fatal(err)
	}
	silent := writeWAV(t, filepath.Join(in, "silent.wav"), make([]float64, 8000), 16000)
	text := filepath.Join(in, "text.wav")
	os.WriteFile(text, []byte("hello\n"), 0o644)
	empty := filepath.Join(in, "empty.wav")
	os.WriteFile(empty, nil, 0o644)
	missing := filepath.Join(in, "missing.wav")
	rate1 := writeWAV(t, filepath.Join(in, "rate1.wav"), x[:100], 1)
	rate0 := filepath.Join(in, "rate0.wav")
	writeWAV(t, rate0, x[:1000], 16000)
	b := mustRead(t, rate0)
	binary.LittleEndian.PutUint32(b[24:], 0) // the fmt chunk's sample rate
	os.WriteFile(rate0, b, 0o644)
	good := filepath.Join(in, "good.wav")
	synthMixture(t, good, 0.5, 8000, 9) // 8 kHz: resampled up and back

	for _, tc := range []struct {
		file string
		want string
	}{
		{nanFile, "NaN"}, {infFile, "Inf"}, {silent, "silent"}, {text, "not a WAV file"},
		{empty, ""}, {missing, ""}, {rate1, "1 Hz"}, {rate0, "sample rate"},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			out := t.TempDir()
			_, stderr, code := runCmd(t, "separate", "-m", model, "-o", out, "--iters", "5", "--quiet", tc.file, good)
			if code != exitFailure {
				t.Errorf("exit code %d, want 1", code)
			}
			checkNoPanic(t, stderr)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 2 || !strings.Contains(lines[0], tc.file) || !strings.Contains(lines[0], tc.want) || !strings.Contains(lines[1], "1 of 2 files failed") {
				t.Errorf("stderr:\n%s", stderr)
			}
			t.Log(lines[0])
			if got := dirFiles(t, out); !reflect.DeepEqual(got, []string{"good.high.wav", "good.low.wav"}) {
				t.Errorf("output folder holds %v", got)
			}
		})
	}
}

func TestSeparateBadModel(t *testing.T) {
	model := testModel(t)
	in := t.TempDir()
	mix := filepath.Join(in, "mix.wav")
	synthMixture(t, mix, 0.5, 16000, 1)
	good, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(in, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var v9 bytes.Buffer
	zw := npz.NewWriter(&v9)
	zw.Text("meta", `{"format":"dlnmf-model","version":9,"method":"lnmf","sample_rate":16000}`)
	zw.Float32("s0_W1", []int{1, 1}, []float32{1})
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	var noMeta bytes.Buffer
	zw = npz.NewWriter(&noMeta)
	zw.Float32("W", []int{1, 1}, []float32{1})
	zw.Close()
	flipped := append([]byte(nil), good...)
	for i := len(flipped) / 3; i < len(flipped)/3+64; i++ {
		flipped[i] ^= 0x5a
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(in, "none.npz"), "no such file"},
		{"truncated", write("truncated.npz", good[:len(good)/2]), "not a dlnmf model file"},
		{"corrupt", write("corrupt.npz", flipped), ""},
		{"text", write("text.npz", []byte("a model, honest\n")), "not a dlnmf model file"},
		{"empty", write("empty.npz", nil), "not a dlnmf model file"},
		{"other version", write("v9.npz", v9.Bytes()), "version 9"},
		{"no meta", write("nometa.npz", noMeta.Bytes()), "not a dlnmf model file"},
		{"a wav", write("mix-as-model.npz", mustRead(t, mix)), "not a dlnmf model file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			stdout, stderr, code := runCmd(t, "separate", "-m", tc.path, "-o", out, mix)
			wantFailure(t, stderr, code, exitFailure, "dlnmf separate:", tc.path, tc.want)
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("output folder created: %v", dirFiles(t, out))
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSeparateUsageErrors(t *testing.T) {
	model := testModel(t)
	out := t.TempDir()
	mix := filepath.Join(t.TempDir(), "mix.wav")
	synthMixture(t, mix, 0.3, 16000, 1)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no model", []string{"-o", out, mix}, "-m"},
		{"no out", []string{"-m", model, mix}, "-o"},
		{"no files", []string{"-m", model, "-o", out}, "at least one"},
		{"zero iters", []string{"-m", model, "-o", out, "--iters", "0", mix}, "--iters"},
		{"zero mask power", []string{"-m", model, "-o", out, "--mask-power", "0", mix}, "--mask-power"},
		{"zero jobs", []string{"-m", model, "-o", out, "--jobs", "0", mix}, "--jobs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCmd(t, append([]string{"separate"}, tc.args...)...)
			wantFailure(t, stderr, code, exitUsage, "dlnmf separate:", tc.want)
		})
	}
	if got := dirFiles(t, out); len(got) != 0 {
		t.Errorf("output folder holds %v", got)
	}
	// An output "folder" that is a file: one line, exit 1.
	_, stderr, code := runCmd(t, "separate", "-m", model, "-o", mix, "--quiet", mix)
	wantFailure(t, stderr, code, exitFailure, mix)
}

// A recording with fewer frames than the model's patch width is padded
// (its edge frames repeated) and separated, with one warning line on
// stderr and nothing on stdout.
func TestSeparateShorterThanPatch(t *testing.T) {
	root := t.TempDir()
	low, high := synthSpeakers(t, root, 3, 0.5)
	model := filepath.Join(root, "model.npz")
	args := append(trainArgs("nmf", model, low, high), "--iters", "5", "--context", "9")
	if _, stderr, code := runCmd(t, args...); code != exitOK {
		t.Fatalf("train: %s", stderr)
	}
	out := t.TempDir()
	short := writeWAV(t, filepath.Join(root, "short.wav"), synthVoice([]float64{150, 400}, 0.05, 16000, 3), 16000) // 800 samples: 5 frames
	synthMixture(t, filepath.Join(root, "long.wav"), 0.5, 16000, 4)
	stdout, stderr, code := runCmd(t, "separate", "--quiet", "-m", model, "-o", out, short, filepath.Join(root, "long.wav"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if stdout != "" || len(lines) != 1 || !strings.Contains(lines[0], "warning: "+short+": 5 frames, fewer than the model's patch width of 9") || !strings.Contains(lines[0], "padded") {
		t.Errorf("stdout %q, stderr %q: want one padding warning for %s", stdout, stderr, short)
	}
	if fi, err := os.Stat(filepath.Join(out, "short.low.wav")); err != nil || fi.Size() == 0 {
		t.Errorf("the short recording was not separated: %v", err)
	}
}
