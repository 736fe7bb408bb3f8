package server

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/democorpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/scoring"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// pollJob fetches a job until it has ended and returns it.
func pollJob(t *testing.T, base, id string) Job {
	t.Helper()
	for {
		code, _, b := do(t, "GET", base+"/v1/jobs/"+id, "", nil)
		if code != http.StatusOK {
			t.Fatalf("job %s: status %d: %s", id, code, b)
		}
		var j Job
		decodeJSON(t, b, &j)
		if j.State == StateDone || j.State == StateFailed {
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEnrolTrainSeparateScore walks the page's path through the API:
// enrol two speakers, train a model of them, separate a held-out mixture
// (its estimates are recording's for the same model), fetch every output,
// and score the estimates as bsseval does.
func TestEnrolTrainSeparateScore(t *testing.T) {
	_, ts := newTestServer(t, Settings{})
	base := ts.URL
	// Enrol: FA as one multipart request, MC one raw body at a time.
	for _, sp := range democorpus.Speakers() {
		if sp.Name == "FA" {
			var files [][3]string
			for _, f := range sp.Files[:testFiles] {
				files = append(files, [3]string{"audio", f.Name, string(f.Data)})
			}
			body, ct := multipartBody(t, files...)
			if code, _, b := do(t, "POST", base+"/v1/speakers/FA", ct, body); code != http.StatusCreated {
				t.Fatalf("enrol FA: %d %s", code, b)
			}
			continue
		}
		for _, f := range sp.Files[:testFiles] {
			if code, _, b := do(t, "POST", base+"/v1/speakers/MC", "audio/flac", bytes.NewReader(f.Data)); code != http.StatusCreated {
				t.Fatalf("enrol MC: %d %s", code, b)
			}
		}
	}
	code, _, b := do(t, "GET", base+"/v1/speakers", "", nil)
	var speakers struct{ Speakers []SpeakerInfo }
	decodeJSON(t, b, &speakers)
	if code != http.StatusOK || len(speakers.Speakers) != 2 {
		t.Fatalf("speakers: %d %s", code, b)
	}
	for _, s := range speakers.Speakers {
		if s.Files != testFiles || s.Seconds < 5 || s.Seconds > 20 {
			t.Errorf("speaker %s: %d files, %.1f s; want %d files of a few seconds each", s.Name, s.Files, s.Seconds, testFiles)
		}
	}

	// Train "trained", the same request as the test model's.
	req := testTrain
	req.Model = "trained"
	js, _ := json.Marshal(req)
	code, _, b = do(t, "POST", base+"/v1/train", "application/json", bytes.NewReader(js))
	if code != http.StatusAccepted {
		t.Fatalf("train: %d %s", code, b)
	}
	var j Job
	decodeJSON(t, b, &j)
	if j = pollJob(t, base, j.ID); j.State != StateDone || j.Progress != 1 {
		t.Fatalf("training job ended %s: %s", j.State, j.Error)
	}
	code, _, b = do(t, "GET", base+"/v1/models", "", nil)
	var models struct{ Models []ModelInfo }
	decodeJSON(t, b, &models)
	if code != http.StatusOK || len(models.Models) != 2 {
		t.Fatalf("models: %d %s", code, b)
	}
	for _, m := range models.Models {
		if !slices.Equal(m.Speakers, []string{"FA", "MC"}) || m.Rate != democorpus.Rate || m.Method != "nmf" {
			t.Errorf("model %+v", m)
		}
	}
	// Trained from the same audio with the same settings: the same model.
	code, _, trained := do(t, "GET", base+"/v1/models/trained", "", nil)
	if code != http.StatusOK || !bytes.Equal(trained, testModelBytes(t)) {
		t.Errorf("the model trained through the API (status %d, %d bytes) differs from recording.Train's (%d bytes)", code, len(trained), len(testModelBytes(t)))
	}

	// Separate: a short recording is answered at once.
	mix, sources := heldOutMixture(t, 4)
	code, _, b = do(t, "POST", base+"/v1/separate?model=trained", "audio/wav", bytes.NewReader(mix))
	if code != http.StatusOK {
		t.Fatalf("separate: %d %s", code, b)
	}
	decodeJSON(t, b, &j)
	if j.State != StateDone || len(j.Outputs) != 2 || j.Outputs[0].Source != "FA" || j.Outputs[1].Source != "MC" {
		t.Fatalf("separation job: %s", b)
	}
	m, err := separation.Decode(bytes.NewReader(trained), int64(len(trained)))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := recording.New(m, recording.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := wav.Decode(bytes.NewReader(mix))
	want, err := sp.Separate(in.Channels, in.Rate)
	if err != nil {
		t.Fatal(err)
	}
	var ests [][]float64
	var scoreFiles [][3]string
	for i, o := range j.Outputs {
		code, h, b := do(t, "GET", base+o.URL, "", nil)
		if code != http.StatusOK || h.Get("Content-Type") != "audio/wav" {
			t.Fatalf("%s: %d %s", o.URL, code, h.Get("Content-Type"))
		}
		a, err := wav.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		// The input's 16-bit PCM, as dlnmf separate writes: within half a step.
		est := a.Mono()
		if len(est) != len(want[i]) {
			t.Fatalf("%s: %d samples, want %d", o.Source, len(est), len(want[i]))
		}
		for k := range est {
			if math.Abs(est[k]-want[i][k]) > 1.0/32768 {
				t.Fatalf("%s sample %d: %g, recording.Separate gives %g", o.Source, k, est[k], want[i][k])
			}
		}
		ests = append(ests, est)
		scoreFiles = append(scoreFiles, [3]string{"estimate", o.Source + ".wav", string(b)})
		code, h, b = do(t, "GET", base+o.Spectrogram, "", nil)
		if code != http.StatusOK || h.Get("Content-Type") != "image/png" || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s: %d %s", o.Spectrogram, code, h.Get("Content-Type"))
		}
	}
	for _, p := range []string{"/input", "/input/spectrogram.png"} {
		if code, _, _ := do(t, "GET", base+"/v1/jobs/"+j.ID+p, "", nil); code != http.StatusOK {
			t.Errorf("%s: %d", p, code)
		}
	}
	code, _, b = do(t, "GET", base+"/v1/jobs/"+j.ID+"/outputs.zip", "", nil)
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if code != http.StatusOK || err != nil || len(zr.File) != 2 || zr.File[0].Name != "FA.wav" || zr.File[1].Name != "MC.wav" {
		t.Errorf("outputs.zip: %d %v", code, err)
	}

	// FLAC outputs when asked.
	code, _, b = do(t, "POST", base+"/v1/separate?model=trained&format=flac", "audio/wav", bytes.NewReader(mix))
	decodeJSON(t, b, &j)
	if code != http.StatusOK || !strings.HasSuffix(j.Outputs[0].File, ".flac") {
		t.Errorf("format=flac: %d %s", code, b)
	} else if code, h, _ := do(t, "GET", base+j.Outputs[0].URL, "", nil); code != http.StatusOK || h.Get("Content-Type") != "audio/flac" {
		t.Errorf("FLAC output: %d %s", code, h.Get("Content-Type"))
	}

	// Score: the references in the other order; the permutation finds them.
	for _, i := range []int{1, 0} {
		var rb bytes.Buffer
		wav.Encode(&rb, [][]float64{sources[i]}, democorpus.Rate, wav.Float32)
		scoreFiles = append(scoreFiles, [3]string{"reference", fmt.Sprint(i) + ".wav", rb.String()})
	}
	body, ct := multipartBody(t, scoreFiles...)
	code, _, b = do(t, "POST", base+"/v1/score", ct, body)
	var sc Scores
	decodeJSON(t, b, &sc)
	refs := [][]float64{f32(sources[1]), f32(sources[0])}
	res, err := bsseval.Sources(refs, ests, bsseval.Options{Permute: true})
	if err != nil {
		t.Fatal(err)
	}
	sdr := make([]float64, len(sc.SDR))
	for i, v := range sc.SDR {
		sdr[i] = float64(v)
	}
	if code != http.StatusOK || !slices.Equal(sdr, res.SDR) || !slices.Equal(sc.Perm, []int{1, 0}) || len(sc.SISDR) != 2 {
		t.Errorf("score: %d %s; bsseval gives SDR %v", code, b, res.SDR)
	}
	t.Logf("held-out SDR %.1f, %.1f dB", sc.SDR[0], sc.SDR[1])

	// Delete: gone from the list and the folder.
	if code, _, _ := do(t, "DELETE", base+"/v1/models/trained", "", nil); code != http.StatusNoContent {
		t.Errorf("delete model: %d", code)
	}
	if code, _, _ := do(t, "DELETE", base+"/v1/speakers/MC", "", nil); code != http.StatusNoContent {
		t.Errorf("delete speaker: %d", code)
	}
	code, _, b = do(t, "GET", base+"/v1/models/trained", "", nil)
	wantError(t, "deleted model", code, b, http.StatusNotFound, "trained")
	code, _, b = do(t, "DELETE", base+"/v1/speakers/MC", "", nil)
	wantError(t, "deleted speaker", code, b, http.StatusNotFound, "MC")
}

// f32 rounds samples to float32, as a float32 WAV holds them.
func f32(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(float32(v))
	}
	return y
}

// TestLongRecordingIsAJob: a recording longer than ShortSeconds gets 202,
// a Location, and a job that ends done.
func TestLongRecordingIsAJob(t *testing.T) {
	_, ts := newTestServer(t, Settings{ShortSeconds: 1})
	mix, _ := heldOutMixture(t, 2)
	code, h, b := do(t, "POST", ts.URL+"/v1/separate?model=famc", "audio/wav", bytes.NewReader(mix))
	var j Job
	decodeJSON(t, b, &j)
	if code != http.StatusAccepted || h.Get("Location") != "/v1/jobs/"+j.ID {
		t.Fatalf("%d %s %s", code, h.Get("Location"), b)
	}
	if j = pollJob(t, ts.URL, j.ID); j.State != StateDone || len(j.Outputs) != 2 || j.Seconds != 2 {
		t.Errorf("job: %+v", j)
	}
}

// TestUploadModel: a model file uploads, lists and downloads as sent.
func TestUploadModel(t *testing.T) {
	_, ts := newTestServer(t, Settings{})
	code, _, b := do(t, "PUT", ts.URL+"/v1/models/copy", "application/octet-stream", bytes.NewReader(testModelBytes(t)))
	var info ModelInfo
	decodeJSON(t, b, &info)
	if code != http.StatusCreated || info.Name != "copy" || !slices.Equal(info.Sources, []string{"FA", "MC"}) {
		t.Fatalf("upload: %d %s", code, b)
	}
	if code, _, b := do(t, "GET", ts.URL+"/v1/models/copy", "", nil); code != http.StatusOK || !bytes.Equal(b, testModelBytes(t)) {
		t.Errorf("download: %d, %d bytes", code, len(b))
	}
}

// TestFolderLayout: what the server keeps is where doc.go says, and no
// temporary file is left behind.
func TestFolderLayout(t *testing.T) {
	dir := t.TempDir()
	_, ts := newTestServer(t, Settings{Dir: dir})
	fa := democorpus.Speakers()[0].Files[0]
	do(t, "POST", ts.URL+"/v1/speakers/FA", "audio/flac", bytes.NewReader(fa.Data))
	mix, _ := heldOutMixture(t, 1)
	_, _, b := do(t, "POST", ts.URL+"/v1/separate?model=famc", "audio/wav", bytes.NewReader(mix))
	var j Job
	decodeJSON(t, b, &j)
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	want := []string{"jobs/" + j.ID + "/input.wav", "jobs/" + j.ID + "/job.json", "jobs/" + j.ID + "/out/stdin.FA.wav",
		"jobs/" + j.ID + "/out/stdin.MC.wav", "models/famc.npz", "speakers/FA/0001.flac"}
	if !slices.Equal(files, want) {
		t.Errorf("data folder holds\n%q\nwant\n%q", files, want)
	}
}

// TestScoreWithMixture: POST /v1/score gives dlnmf eval's scores
// (scoring.Whole), improvements over a mixture when one is sent, and one
// JSON error for files at two rates.
func TestScoreWithMixture(t *testing.T) {
	_, ts := newTestServer(t, Settings{})
	a, b := make([]float64, 8000), make([]float64, 8000)
	for i := range a {
		a[i] = math.Sin(float64(i) * 0.05)
		b[i] = math.Sin(float64(i)*0.31) * 0.5
	}
	mix := make([]float64, len(a))
	for i := range mix {
		mix[i] = a[i] + b[i]
	}
	enc := func(x []float64, rate int) string {
		var buf bytes.Buffer
		if _, err := wav.Encode(&buf, [][]float64{x}, rate, wav.Float32); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	est := func(x, y []float64) []float64 { // x with a little of y
		e := make([]float64, len(x))
		for i := range e {
			e[i] = x[i] + 0.1*y[i]
		}
		return e
	}
	ea, eb := est(a, b), est(b, a)
	body, ct := multipartBody(t, [3]string{"reference", "a.wav", enc(a, 16000)}, [3]string{"reference", "b.wav", enc(b, 16000)},
		[3]string{"estimate", "ea.wav", enc(ea, 16000)}, [3]string{"estimate", "eb.wav", enc(eb, 16000)}, [3]string{"mixture", "m.wav", enc(mix, 16000)})
	code, _, out := do(t, "POST", ts.URL+"/v1/score", ct, body)
	var sc Scores
	decodeJSON(t, out, &sc)
	want, err := scoring.Whole([][]float64{f32(a), f32(b)}, [][]float64{f32(ea), f32(eb)}, f32(mix), true)
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK || !reflect.DeepEqual(&sc, want) || len(sc.SDRi) != 2 {
		t.Errorf("score with a mixture: %d %s; want %+v", code, out, want)
	}
	body, ct = multipartBody(t, [3]string{"reference", "a.wav", enc(a, 16000)}, [3]string{"estimate", "ea.wav", enc(ea, 8000)})
	code, _, out = do(t, "POST", ts.URL+"/v1/score", ct, body)
	if code != http.StatusUnprocessableEntity || !bytes.Contains(out, []byte(`"error"`)) || !bytes.Contains(out, []byte("8000 Hz")) {
		t.Errorf("two rates: %d %s", code, out)
	}
}

// TestSeparateOnBands: bands=N, coarse_bands with coarse_iters, and
// step_exponent separate as recording does with those SeparateSettings (the bytes of
// dlnmf separate --bands N ..., up to the output's 16-bit PCM), the job
// records them, and a bad value is refused before any job.
func TestSeparateOnBands(t *testing.T) {
	_, ts := newTestServer(t, Settings{})
	mix, _ := heldOutMixture(t, 2)
	m, err := separation.Decode(bytes.NewReader(testModelBytes(t)), int64(len(testModelBytes(t))))
	if err != nil {
		t.Fatal(err)
	}
	in, err := wav.Decode(bytes.NewReader(mix))
	if err != nil {
		t.Fatal(err)
	}
	estimates := func(s separation.SeparateSettings) [][]float64 {
		sp, err := recording.New(m, recording.Settings{Separation: s})
		if err != nil {
			t.Fatal(err)
		}
		est, err := sp.Separate(in.Channels, in.Rate)
		if err != nil {
			t.Fatal(err)
		}
		return est
	}
	every := estimates(separation.SeparateSettings{})
	for _, c := range []struct {
		query string
		inf   Inference
	}{{"bands=32", Inference{Bands: 32}}, {"bands=32&coarse_bands=8&coarse_iters=20", Inference{Bands: 32, CoarseBands: 8, CoarseIters: 20}},
		{"bands=32&step_exponent=1.5", Inference{Bands: 32, StepExponent: 1.5}}} {
		want := estimates(separation.SeparateSettings{Bands: c.inf.Bands, CoarseBands: c.inf.CoarseBands, CoarseIters: c.inf.CoarseIters,
			NMF: nmf.Settings{StepExponent: c.inf.StepExponent}})
		code, _, b := do(t, "POST", ts.URL+"/v1/separate?model=famc&"+c.query, "audio/wav", bytes.NewReader(mix))
		var j Job
		decodeJSON(t, b, &j)
		if code != http.StatusOK || j.State != StateDone || j.Inference != c.inf || len(j.Outputs) != 2 {
			t.Fatalf("separate with %s: %d %s", c.query, code, b)
		}
		sameAsRecording(t, ts.URL, c.query, j, want, every)
	}
	for _, q := range []string{"bands=1", "bands=-3", "bands=x", "bands=100000", "coarse_bands=1", "bands=32&coarse_iters=5",
		"bands=32&coarse_bands=8&coarse_iters=-1", "bands=32&coarse_bands=32", "step_exponent=2", "step_exponent=x"} {
		code, _, b := do(t, "POST", ts.URL+"/v1/separate?model=famc&"+q, "audio/wav", bytes.NewReader(mix))
		var e struct{ Error string }
		decodeJSON(t, b, &e)
		if code != http.StatusBadRequest || !strings.Contains(e.Error, "bands") && !strings.Contains(e.Error, "coarse") && !strings.Contains(e.Error, "step") || strings.Contains(e.Error, "\n") {
			t.Errorf("%s: %d %s, want 400 and one line about it", q, code, b)
		}
	}
}

// sameAsRecording checks job j's outputs against want, recording's
// estimates (to within the outputs' 16-bit PCM), and that they differ from
// every, inference on every bin's.
func sameAsRecording(t *testing.T, base, query string, j Job, want, every [][]float64) {
	t.Helper()
	for i, o := range j.Outputs {
		_, _, b := do(t, "GET", base+o.URL, "", nil)
		a, err := wav.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		est, moved := a.Mono(), 0.0
		if len(est) != len(want[i]) {
			t.Fatalf("%s, %s: %d samples, want %d", query, o.Source, len(est), len(want[i]))
		}
		for k := range est {
			if math.Abs(est[k]-want[i][k]) > 1.0/32768 {
				t.Fatalf("%s, %s sample %d: %g, recording gives %g", query, o.Source, k, est[k], want[i][k])
			}
			moved = max(moved, math.Abs(want[i][k]-every[i][k]))
		}
		if moved < 1e-3 {
			t.Errorf("%s, %s: differs from every bin by at most %g: the test cannot tell them apart", query, o.Source, moved)
		}
	}
}
