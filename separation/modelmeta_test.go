package separation

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/npz"
)

// metaOf returns the meta entry of an encoded model file as generic JSON.
func metaOf(t *testing.T, archive []byte) map[string]any {
	t.Helper()
	arrays, err := npz.Read(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	if err := json.Unmarshal([]byte(arrays["meta"].Text), &meta); err != nil {
		t.Fatal(err)
	}
	return meta
}

// The meta says how to use the file (layer composition, framing, inference,
// mask exponent, writer) and spells every key in snake_case.
func TestModelFileMetaDescribesUse(t *testing.T) {
	m := trainSynthetic(t, DLNMF, []int{12, 4})
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	meta := metaOf(t, buf.Bytes())
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		if obj, ok := v.(map[string]any); ok {
			for k, x := range obj {
				if !snake.MatchString(k) {
					t.Errorf("key %s%s is not snake_case", path, k)
				}
				walk(path+k+".", x)
			}
		}
	}
	walk("", meta)

	get := func(path string) any {
		var v any = meta
		for _, k := range strings.Split(path, ".") {
			obj, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = obj[k]
		}
		return v
	}
	for path, want := range map[string]any{
		"version":              float64(FileVersion),
		"writer.go":            runtime.Version(),
		"mask.exponent":        float64(1),
		"stft.window":          "hann-periodic",
		"stft.hop":             float64(256),
		"inference.iterations": float64(nmf.DefaultMaxIter),
		"training.iterations":  float64(m.Training.Iterations),
		"training.rounds":      float64(m.Training.Rounds),
	} {
		if got := get(path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	for path, words := range map[string][]string{
		"basis":            {"s<i>_W1 @ s<i>_W2 @ ... @ s<i>_W<L>"},
		"stft.framing":     {"window_size/2 zeros", "boundary='zeros', padded=True"},
		"stft.inverse":     {"squared window"},
		"inference.update": {"B.T @ (Y / V)"},
		"inference.stop":   {"cost_every", "tolerance"},
		"mask.gain":        {"(B_i H_i)^p / sum_r (B_r H_r)^p"},
		"usage":            {"ISTFT(G_i * STFT(x))", "docs/models.md"},
	} {
		s, _ := get(path).(string)
		for _, w := range words {
			if !strings.Contains(s, w) {
				t.Errorf("%s = %q, want it to say %q", path, s, w)
			}
		}
	}
	if d, _ := get("training.disc_cost").([]any); len(d) != len(m.Training.DiscCost) {
		t.Errorf("training.disc_cost has %d values, want %d", len(d), len(m.Training.DiscCost))
	}
}

// metaV1 is the meta of format version 1 exactly as that version wrote it:
// the Go field names of Training as keys, no keys describing the use.
type metaV1 struct {
	Format     string `json:"format"`
	Version    int    `json:"version"`
	Method     Method `json:"method"`
	SampleRate int    `json:"sample_rate"`
	STFT       struct {
		FFTSize    int    `json:"fft_size"`
		WindowSize int    `json:"window_size"`
		Hop        int    `json:"hop"`
		Window     string `json:"window"`
	} `json:"stft"`
	Divergence string   `json:"divergence"`
	Beta       float64  `json:"beta"`
	Sizes      []int    `json:"sizes"`
	Speakers   []string `json:"speakers"`
	Training   struct {
		Iterations, InferIter, Rounds, RoundsAccepted, DiscIter int
		Seed                                                    uint64
		DiscCost                                                []float64
		Mixtures                                                int
		Utterances                                              []int
	} `json:"training"`
}

// A file written by format version 1 (made here as that version wrote it)
// still loads, with its training record and layers intact.
func TestModelFileVersion1Loads(t *testing.T) {
	m := trainSynthetic(t, DLNMF, []int{12, 4})
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	arrays, err := npz.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var v1 metaV1
	v1.Format, v1.Version, v1.Method, v1.SampleRate = fileFormat, 1, m.Method, m.SampleRate
	v1.STFT.FFTSize, v1.STFT.WindowSize, v1.STFT.Hop, v1.STFT.Window = 1024, 1024, 256, "hann-periodic"
	v1.Divergence, v1.Beta, v1.Sizes, v1.Speakers = "kl", m.Beta, m.Sizes(), m.Names()
	tr := m.Training
	v1.Training.Iterations, v1.Training.InferIter, v1.Training.Rounds = tr.Iterations, tr.InferIter, tr.Rounds
	v1.Training.RoundsAccepted, v1.Training.DiscIter, v1.Training.Seed = tr.RoundsAccepted, tr.DiscIter, tr.Seed
	v1.Training.DiscCost, v1.Training.Mixtures, v1.Training.Utterances = tr.DiscCost, tr.Mixtures, tr.Utterances
	js, err := json.Marshal(v1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"RoundsAccepted":`) {
		t.Fatalf("the version 1 meta lacks its CamelCase keys: %s", js)
	}
	var old bytes.Buffer
	w := npz.NewWriter(&old)
	w.Text("meta", string(js))
	for name, a := range arrays {
		if name != "meta" {
			w.Float32(name, a.Shape, a.Float32)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v1.npz")
	if err := os.WriteFile(path, old.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatalf("a version 1 file does not load: %v", err)
	}
	if !reflect.DeepEqual(got.Training, m.Training) {
		t.Errorf("training record read back as %+v, want %+v", got.Training, m.Training)
	}
	if got.Method != m.Method || !reflect.DeepEqual(got.Names(), m.Names()) || !reflect.DeepEqual(got.Sizes(), m.Sizes()) {
		t.Errorf("read back %s %v %v, want %s %v %v", got.Method, got.Names(), got.Sizes(), m.Method, m.Names(), m.Sizes())
	}
	for i := range m.Speakers {
		for l, a := range m.Speakers[i].Layers {
			if !reflect.DeepEqual(a.Clone().Data, got.Speakers[i].Layers[l].Clone().Data) {
				t.Errorf("speaker %d layer %d changed", i, l+1)
			}
		}
	}
	// The version 1 file separates like the current one.
	sepNew, err := NewSeparator(m, SeparateSettings{})
	if err != nil {
		t.Fatal(err)
	}
	sepOld, err := NewSeparator(got, SeparateSettings{})
	if err != nil {
		t.Fatal(err)
	}
	mix := mixOf(synthVoice(lowNotes, 1, 7), synthVoice(highNotes, 1, 8))
	a, err := sepNew.Separate(mix)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sepOld.Separate(mix)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("the version 1 file separates differently")
	}
}

func TestModelFileMaskExponent(t *testing.T) {
	m := trainSynthetic(t, NMF, []int{4})
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	// Format version 2 applied exponent 1 only; version 3 holds any
	// (TestBeyondBadSettings).
	p2 := rewriteMeta(t, rewriteMeta(t, buf.Bytes(), `"version":7,`, `"version":2,`), `"exponent":1,`, `"exponent":2,`)
	path := filepath.Join(t.TempDir(), "p2.npz")
	if err := os.WriteFile(path, p2, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "mask exponent") {
		t.Errorf("a file with mask exponent 2: got %v, want an error about the mask exponent", err)
	}
	// Version 3 states the exponent a reader applies: 0 is refused, not
	// read as a Model's zero MaskPower (1).
	for _, p := range []string{"0", "-1", "0.0"} {
		b := rewriteMeta(t, buf.Bytes(), `"exponent":1,`, `"exponent":`+p+`,`)
		if _, err := Decode(bytes.NewReader(b), int64(len(b))); err == nil || !strings.Contains(err.Error(), "the model's mask power "+strings.TrimSuffix(p, ".0")+": want a finite number > 0") {
			t.Errorf("a file with mask exponent %s: got %v", p, err)
		}
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"Iterations": "iterations", "RoundsAccepted": "rounds_accepted", "InferIter": "infer_iter", "DiscCost": "disc_cost",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}
