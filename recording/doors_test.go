package recording_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dlnmf/dlnmf/democorpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/resample"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// demoSpeech returns the first n utterances of each demo speaker (TSP FA
// and MC, 16 kHz, built into the package democorpus) and one more of
// each, held out, for mixtures.
func demoSpeech(n int) (train []separation.SpeakerData, held [][]float64) {
	for _, sp := range democorpus.Speakers() {
		d := separation.SpeakerData{Name: sp.Name}
		for i, f := range sp.Files[:n+1] {
			a, err := wav.Decode(bytes.NewReader(f.Data))
			if err != nil {
				panic(err) // the bundled corpus
			}
			if i < n {
				d.Utterances = append(d.Utterances, a.Mono())
			} else {
				held = append(held, a.Mono())
			}
		}
		train = append(train, d)
	}
	return train, held
}

var (
	modelsOnce sync.Once
	two, one   *separation.Model // FA+MC; FA alone
	uni        *separation.Model // FA with a universal model of MC
	heldOut    [][]float64
	modelsErr  error
)

// models trains small NMF models of the demo speakers once per test binary.
func models(t testing.TB) (*separation.Model, *separation.Model, *separation.Model, [][]float64) {
	t.Helper()
	modelsOnce.Do(func() {
		train, held := demoSpeech(4)
		heldOut = held
		s := separation.TrainSettings{Method: separation.NMF, NMF: nmf.Settings{MaxIter: 40, Seed: 1}}
		ctx := context.Background()
		if two, _, modelsErr = separation.Train(ctx, train, nil, s); modelsErr != nil {
			return
		}
		if one, _, modelsErr = separation.Train(ctx, train[:1], nil, s); modelsErr != nil {
			return
		}
		u, _, err := separation.TrainUniversal(ctx, "universal", train[1:], s)
		if modelsErr = err; err != nil {
			return
		}
		c := *one
		c.Universal = u
		uni = &c
	})
	if modelsErr != nil {
		t.Fatal(modelsErr)
	}
	return two, one, uni, heldOut
}

// mixture returns the held-out FA and MC utterances added, at the
// shorter's length.
func mixture(held [][]float64) []float64 {
	n := min(len(held[0]), len(held[1]))
	x := make([]float64, n)
	for i := range x {
		x[i] = 0.5 * (held[0][i] + held[1][i])
	}
	return x
}

// cli builds dlnmf once per test binary.
var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

func cli(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping in -short: builds the command")
	}
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dlnmf-cli-")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "dlnmf")
		out, err := exec.Command("go", "build", "-o", cliPath, "github.com/dlnmf/dlnmf/cmd/dlnmf").CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

// runCLI runs dlnmf with the test's environment, so that the command and
// the library in this process run the same OpenBLAS kernels: an
// OPENBLAS_CORETYPE that the machine sets reaches both, and without one both
// make the library's own choice.
func runCLI(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(cli(t), args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dlnmf %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

func saveModel(t *testing.T, m *separation.Model) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.npz")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// sameFiles fails unless the two folders hold the same files, byte for
// byte.
func sameFiles(t *testing.T, a, b string, names []string) {
	t.Helper()
	for _, n := range names {
		x, err1 := os.ReadFile(filepath.Join(a, n))
		y, err2 := os.ReadFile(filepath.Join(b, n))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", n, err1, err2)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s: the library's %d bytes differ from the command line's %d", n, len(x), len(y))
		}
	}
}

// Every door gives the command line's bytes: SeparateFile writes the files
// dlnmf separate writes, and Separate returns the samples it writes as
// float64, for a 16 kHz mixture of two speakers, a 44.1 kHz stereo FLAC
// (full band), a model of one speaker (default free bases) and one with a
// universal model.
func TestDoorsGiveCLIBytes(t *testing.T) {
	two, one, uni, held := models(t)
	mix := mixture(held)
	dir := t.TempDir()
	mix16 := filepath.Join(dir, "mix16.wav")
	if _, err := wav.WriteFile(mix16, mix, 16000, wav.PCM16); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		model *separation.Model
		input string
	}{
		{"two speakers", two, mix16},
		{"one speaker, default free bases", one, mix16},
		{"one speaker, universal model", uni, mix16},
	}
	if flac := stereoFLAC(t, dir, mix); flac != "" {
		cases = append(cases, struct {
			name  string
			model *separation.Model
			input string
		}{"44.1 kHz stereo FLAC, full band", two, flac})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mp := saveModel(t, c.model)
			libDir, cliDir, cliF64 := t.TempDir(), t.TempDir(), t.TempDir()
			sp, err := recording.New(c.model, recording.Settings{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := sp.SeparateFile(c.input, nil, recording.Outputs{Dir: libDir})
			if err != nil {
				t.Fatal(err)
			}
			runCLI(t, nil, "separate", "-m", mp, "-o", cliDir, "--quiet", c.input)
			var names []string
			for _, o := range res.Outputs {
				names = append(names, filepath.Base(o))
			}
			if len(names) != len(sp.Sources()) {
				t.Fatalf("outputs %v for sources %v", names, sp.Sources())
			}
			sameFiles(t, libDir, cliDir, names)

			// In memory: the samples of --encoding float64.
			runCLI(t, nil, "separate", "-m", mp, "-o", cliF64, "--quiet", "--encoding", "float64", "--format", "wav", c.input)
			a, err := wav.ReadFile(c.input)
			if err != nil {
				t.Fatal(err)
			}
			est, err := sp.Separate(a.Channels, a.Rate)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range sp.Sources() {
				b, err := wav.ReadFile(filepath.Join(cliF64, recording.OutputName(c.input, s, wav.WAV)))
				if err != nil {
					t.Fatal(err)
				}
				if !equalBits(est[i], b.Channels[0]) {
					t.Errorf("%s: Separate's samples differ from the command line's float64 output", s)
				}
			}
		})
	}
}

// stereoFLAC writes mix, resampled to 44.1 kHz, as a stereo FLAC (the
// right channel 0.8 of the left) with sox; "" where sox is missing.
func stereoFLAC(t *testing.T, dir string, mix []float64) string {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Log("sox is missing: no stereo FLAC case")
		return ""
	}
	r, err := resample.New(16000, 44100)
	if err != nil {
		t.Fatal(err)
	}
	left := r.Apply(nil, mix)
	right := make([]float64, len(left))
	for i, v := range left {
		right[i] = 0.8 * v
	}
	w := filepath.Join(dir, "stereo.wav")
	f, err := os.Create(w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wav.Encode(f, [][]float64{left, right}, 44100, wav.PCM16); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := filepath.Join(dir, "mix44k.flac")
	if b, err := exec.Command(sox, w, out).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, b)
	}
	return out
}

func equalBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// A stream fed in uneven chunks gives the samples dlnmf separate --live
// writes (as float32), at the model's rate and full band at 48 kHz.
func TestLiveGivesCLIBytes(t *testing.T) {
	two, _, _, held := models(t)
	mix := mixture(held)
	for _, rate := range []int{16000, 48000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			x := mix
			if rate != 16000 {
				r, err := resample.New(16000, rate)
				if err != nil {
					t.Fatal(err)
				}
				x = r.Apply(nil, mix)
			}
			var in bytes.Buffer
			if _, err := wav.Encode(&in, [][]float64{x}, rate, wav.Float32); err != nil {
				t.Fatal(err)
			}
			// The library reads what the command reads: float32 samples.
			a, err := wav.Decode(bytes.NewReader(in.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			sp, err := recording.New(two, recording.Settings{})
			if err != nil {
				t.Fatal(err)
			}
			live, err := sp.NewLive(rate)
			if err != nil {
				t.Fatal(err)
			}
			got := make([][]float64, len(sp.Sources()))
			sink := func(s int, y []float64) error {
				got[s] = append(got[s], y...)
				return nil
			}
			x = a.Channels[0]
			for i, step := 0, 0; i < len(x); step++ {
				k := min([]int{1, 700, 3, 4096, 160}[step%5], len(x)-i)
				if err := live.Push(x[i:i+k], sink); err != nil {
					t.Fatal(err)
				}
				i += k
			}
			if err := live.Finish(sink); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			runCLI(t, in.Bytes(), "separate", "--live", "--float", "--quiet", "-m", saveModel(t, two), "-o", out, "-")
			for i, s := range sp.Sources() {
				b, err := wav.ReadFile(filepath.Join(out, "live."+s+".wav"))
				if err != nil {
					t.Fatal(err)
				}
				want := b.Channels[0]
				if len(want) != len(got[i]) {
					t.Fatalf("%s: %d samples, the command line %d", s, len(got[i]), len(want))
				}
				for k := range want {
					if float32(got[i][k]) != float32(want[k]) {
						t.Fatalf("%s: sample %d is %v, the command line's %v", s, k, float32(got[i][k]), want[k])
					}
				}
			}
		})
	}
}

// Two recordings whose outputs would have the same names are refused with
// both names; a container of their own keeps them apart.
func TestCollisions(t *testing.T) {
	two, _, _, _ := models(t)
	sp, err := recording.New(two, recording.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	for _, paths := range [][]string{{"sub/mix.wav", "other/mix.wav"}, {"a/mix.wav", "b/MIX.wav"}} {
		if err := sp.Collisions(paths); err == nil || !strings.Contains(err.Error(), paths[0]) || !strings.Contains(err.Error(), paths[1]) {
			t.Errorf("%v: %v", paths, err)
		}
	}
	if err := sp.Collisions([]string{"mix.wav", "mix.flac", "other.wav"}); err != nil {
		t.Errorf("mix.wav and mix.flac write mix.*.wav and mix.*.flac: %v", err)
	}
	wavOnly, err := recording.New(two, recording.Settings{Format: "wav"})
	if err != nil {
		t.Fatal(err)
	}
	if err := wavOnly.Collisions([]string{"mix.wav", "mix.flac"}); err == nil {
		t.Error("mix.wav and mix.flac, both written as WAV: no collision reported")
	}
}

// Separations running at once (a server, Python threads) give the bits of
// one at a time: the library holds OpenBLAS on one thread for every
// separation, whatever else runs.
func TestConcurrentSeparationsGiveSerialBits(t *testing.T) {
	two, _, _, held := models(t)
	mix := mixture(held)
	sp, err := recording.New(two, recording.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := sp.Separate([][]float64{mix}, 16000)
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	got := make([][][]float64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := mix
			if i%2 == 1 {
				x = held[0] // another recording, another length, at the same time
			}
			got[i], errs[i] = sp.Separate([][]float64{x}, 16000)
		}()
	}
	wg.Wait()
	for i := 0; i < n; i += 2 {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for s := range want {
			if !equalBits(got[i][s], want[s]) {
				t.Errorf("call %d, source %d: concurrent bits differ from the serial ones", i, s)
			}
		}
	}
}
