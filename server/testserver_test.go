package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/democorpus"
	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// Small settings so that training takes a moment: NMF, 10 bases, 20
// iterations, on a few of each demo speaker's sentences.
const (
	testFiles = 4
	testK     = 10
	testIters = 20
)

var testTrain = TrainRequest{Model: "famc", Speakers: []string{"FA", "MC"}, Method: "nmf", Sizes: []int{testK}, Iters: testIters}

var (
	modelOnce  sync.Once
	modelBytes []byte
	modelErr   error
)

// testModelBytes trains the test model of FA and MC once per test binary,
// as POST /v1/train would.
func testModelBytes(t testing.TB) []byte {
	t.Helper()
	modelOnce.Do(func() {
		var data []recording.TrainSpeaker
		for _, sp := range democorpus.Speakers() {
			ts := recording.TrainSpeaker{Name: sp.Name}
			for _, f := range sp.Files[:testFiles] {
				a, err := wav.Decode(bytes.NewReader(f.Data))
				if err != nil {
					modelErr = err
					return
				}
				ts.Utterances = append(ts.Utterances, corpus.Utterance{Name: sp.Name + "/" + f.Name, Samples: a.Mono()})
			}
			data = append(data, ts)
		}
		m, _, err := recording.Train(context.Background(), data, recording.TrainSettings{TrainSettings: separation.TrainSettings{
			Method: separation.NMF, Sizes: []int{testK}, NMF: nmf.Settings{MaxIter: testIters}}})
		if err != nil {
			modelErr = err
			return
		}
		var b bytes.Buffer
		modelErr = m.Encode(&b)
		modelBytes = b.Bytes()
	})
	if modelErr != nil {
		t.Fatal(modelErr)
	}
	return modelBytes
}

// newTestServer starts a server on a fresh data folder holding the test
// model as "famc".
func newTestServer(t testing.TB, s Settings) (*Server, *httptest.Server) {
	t.Helper()
	if s.Dir == "" {
		s.Dir = t.TempDir()
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, modelsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, modelsDir, "famc.npz"), testModelBytes(t), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Shutdown(context.Background())
	})
	return srv, ts
}

// heldOutMixture mixes FA's and MC's first sentences after the training
// ones, cut to seconds (0: the shorter), as 16-bit WAV bytes; it returns
// the sources too.
func heldOutMixture(t testing.TB, seconds float64) (mix []byte, sources [][]float64) {
	t.Helper()
	for i, sp := range democorpus.Speakers() {
		a, err := wav.Decode(bytes.NewReader(sp.Files[testFiles+i].Data))
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, a.Mono())
	}
	n := min(len(sources[0]), len(sources[1]))
	if seconds > 0 {
		n = min(n, int(seconds*democorpus.Rate))
	}
	x := make([]float64, n)
	for s := range sources {
		sources[s] = sources[s][:n]
		for i := range x {
			sources[s][i] *= 0.5
			x[i] += sources[s][i]
		}
	}
	var b bytes.Buffer
	if _, err := wav.Encode(&b, [][]float64{x}, democorpus.Rate, wav.PCM16); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), sources
}

// multipartBody builds a multipart/form-data body of files, each
// {field, name, data}.
func multipartBody(t *testing.T, files ...[3]string) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range files {
		w, err := mw.CreateFormFile(f[0], f[1])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f[2]))
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

// do sends a request and returns the status, the headers and the body.
func do(t *testing.T, method, url, contentType string, body io.Reader, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// decodeJSON decodes b into v, failing the test otherwise.
func decodeJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("not JSON: %v: %.300s", err, b)
	}
}

// wantError checks an error answer: the status code and one JSON object
// {"error": "..."} of one line that contains every string of contains.
func wantError(t *testing.T, what string, code int, b []byte, want int, contains ...string) {
	t.Helper()
	var e map[string]string
	if err := json.Unmarshal(b, &e); err != nil || len(e) != 1 || e["error"] == "" {
		t.Errorf("%s: body is not one JSON error: %.300s", what, b)
		return
	}
	if code != want {
		t.Errorf("%s: status %d, want %d (%s)", what, code, want, e["error"])
	}
	if strings.ContainsAny(e["error"], "\n") || strings.Contains(e["error"], "goroutine") {
		t.Errorf("%s: error is not one line: %q", what, e["error"])
	}
	for _, c := range contains {
		if !strings.Contains(e["error"], c) {
			t.Errorf("%s: error %q does not say %q", what, e["error"], c)
		}
	}
}
