package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlnmf/dlnmf/democorpus"
)

// TestToken: with a token, every route but /healthz and the page answers
// 401 without it or with a wrong one.
func TestToken(t *testing.T) {
	_, ts := newTestServer(t, Settings{Token: "s3cret"})
	for _, p := range []string{"/healthz", "/", "/static/index.html"} {
		if code, _, _ := do(t, "GET", ts.URL+p, "", nil); code != http.StatusOK {
			t.Errorf("%s without a token: %d, want 200", p, code)
		}
	}
	for _, p := range []string{"/metrics", "/v1/openapi.json", "/v1/models", "/v1/speakers", "/v1/models/famc", "/v1/jobs/0123456789abcdef"} {
		code, h, b := do(t, "GET", ts.URL+p, "", nil)
		wantError(t, p+" without a token", code, b, http.StatusUnauthorized, "token")
		if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", p, h.Get("WWW-Authenticate"))
		}
		code, _, b = do(t, "GET", ts.URL+p, "", nil, "Authorization", "Bearer wrong")
		wantError(t, p+" with a wrong token", code, b, http.StatusUnauthorized, "token")
	}
	if code, _, _ := do(t, "GET", ts.URL+"/v1/models", "", nil, "Authorization", "Bearer s3cret"); code != http.StatusOK {
		t.Errorf("with the token: %d", code)
	}
	code, _, b := do(t, "DELETE", ts.URL+"/v1/models/famc", "", nil)
	wantError(t, "DELETE without a token", code, b, http.StatusUnauthorized)
	// Only the live route takes the token as a query parameter.
	code, _, b = do(t, "GET", ts.URL+"/v1/models?token=s3cret", "", nil)
	wantError(t, "token in the query", code, b, http.StatusUnauthorized)
}

func TestCheckAddr(t *testing.T) {
	for _, c := range []struct {
		addr  string
		token bool
		ok    bool
	}{
		{"127.0.0.1:8080", false, true}, {"[::1]:80", false, true}, {"localhost:1", false, true},
		{"0.0.0.0:8080", false, false}, {":8080", false, false}, {"192.168.1.4:80", false, false},
		{"0.0.0.0:8080", true, true}, {":8080", true, true}, {"nonsense", true, false},
	} {
		if err := CheckAddr(c.addr, c.token); (err == nil) != c.ok {
			t.Errorf("CheckAddr(%q, token %v) = %v", c.addr, c.token, err)
		}
	}
}

// TestCORS: no CORS header unless an origin is given; then that origin,
// and preflight requests are answered.
func TestCORS(t *testing.T) {
	_, off := newTestServer(t, Settings{})
	if _, h, _ := do(t, "GET", off.URL+"/v1/models", "", nil, "Origin", "https://example.org"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS off, yet Access-Control-Allow-Origin %q", h.Get("Access-Control-Allow-Origin"))
	}
	_, on := newTestServer(t, Settings{CORSOrigin: "https://example.org", Token: "t"})
	code, h, _ := do(t, "OPTIONS", on.URL+"/v1/models", "", nil, "Origin", "https://example.org")
	if code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://example.org" || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", code, h)
	}
}

// TestBadInput: every kind of bad request is one JSON error with the
// status code that says what is wrong, and the data folder holds nothing
// it should not.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	_, ts := newTestServer(t, Settings{Dir: dir})
	mix, _ := heldOutMixture(t, 1)
	model := testModelBytes(t)
	truncatedMultipart, ct := multipartBody(t, [3]string{"audio", "a.wav", string(mix)})
	cut := truncatedMultipart.(*bytes.Buffer).Bytes()
	cut = cut[:len(cut)/2]
	for _, c := range []struct {
		what, method, path, ct string
		body                   []byte
		code                   int
		says                   string
	}{
		{"unknown route", "GET", "/v1/nothing", "", nil, 404, "no route"},
		{"wrong method", "DELETE", "/v1/train", "", nil, 404, "no route"},
		{"model name leaving the folder", "PUT", "/v1/models/..%2F..%2Fevil", "application/octet-stream", model, 400, "model name"},
		{"model name hidden", "GET", "/v1/models/.famc", "", nil, 400, "model name"},
		{"speaker name leaving the folder", "POST", "/v1/speakers/..%2Fx", "audio/wav", mix, 400, "speaker name"},
		{"speaker name with a slash", "DELETE", "/v1/speakers/a%2Fb", "", nil, 400, "speaker name"},
		{"model to separate leaving the folder", "POST", "/v1/separate?model=../models/famc", "audio/wav", mix, 400, "model name"},
		{"no model", "POST", "/v1/separate?model=nope", "audio/wav", mix, 404, "nope"},
		{"separate: text", "POST", "/v1/separate?model=famc", "text/plain", []byte("hello"), 415, "content type"},
		{"separate: bad content type", "POST", "/v1/separate?model=famc", "audio/wav; ===", mix, 415, "content type"},
		{"separate: not audio", "POST", "/v1/separate?model=famc", "audio/wav", []byte("RIFF....WAVEfmt nonsense"), 422, "recording"},
		{"separate: empty", "POST", "/v1/separate?model=famc", "audio/wav", nil, 422, "recording"},
		{"separate: bad format", "POST", "/v1/separate?model=famc&format=mp3", "audio/wav", mix, 400, "format"},
		{"separate: two files", "POST", "/v1/separate?model=famc", "", nil, 400, "one recording"},
		{"truncated multipart", "POST", "/v1/speakers/FA", ct, cut, 400, "could not be read whole"},
		{"truncated WAV to enrol", "POST", "/v1/speakers/FA", "audio/wav", mix[:len(mix)/2+1], 422, ""},
		{"truncated WAV to separate", "POST", "/v1/separate?model=famc", "audio/wav", mix[:len(mix)/2+1], 422, ""},
		{"model: garbage", "PUT", "/v1/models/evil", "application/octet-stream", []byte("PK\x03\x04 not a zip at all"), 422, "not a dlnmf model file"},
		{"model: truncated", "PUT", "/v1/models/evil", "application/octet-stream", model[:len(model)/2], 422, "model"},
		{"model: a WAV", "PUT", "/v1/models/evil", "application/octet-stream", mix, 422, "model"},
		{"model: JSON", "PUT", "/v1/models/evil", "application/json", []byte("{}"), 415, "content type"},
		{"train: not JSON", "POST", "/v1/train", "text/plain", []byte("x"), 415, "application/json"},
		{"train: bad JSON", "POST", "/v1/train", "application/json", []byte(`{"model":`), 400, "request body"},
		{"train: unknown field", "POST", "/v1/train", "application/json", []byte(`{"model":"m","speakers":["FA"],"method":"nmf","bases":3}`), 400, "bases"},
		{"train: bad method", "POST", "/v1/train", "application/json", []byte(`{"model":"m","speakers":["FA"],"method":"pca"}`), 400, "pca"},
		{"train: model name", "POST", "/v1/train", "application/json", []byte(`{"model":"../m","speakers":["FA"],"method":"nmf"}`), 400, "model name"},
		{"train: speaker name", "POST", "/v1/train", "application/json", []byte(`{"model":"m","speakers":["../FA"],"method":"nmf"}`), 400, "speaker name"},
		{"train: unknown speaker", "POST", "/v1/train", "application/json", []byte(`{"model":"m","speakers":["ZZ"],"method":"nmf"}`), 404, "ZZ"},
		{"train: twice the same", "POST", "/v1/train", "application/json", []byte(`{"model":"m","speakers":["ZZ","ZZ"],"method":"nmf"}`), 400, "twice"},
		{"train: bad sizes", "POST", "/v1/train", "application/json", []byte(`{"model":"m","speakers":["ZZ"],"method":"nmf","sizes":[0]}`), 400, "sizes"},
		{"score: not multipart", "POST", "/v1/score", "audio/wav", mix, 415, "multipart"},
		{"score: nothing", "POST", "/v1/score", "multipart/form-data; boundary=x", []byte("--x--\r\n"), 422, ""},
		{"job: bad id", "GET", "/v1/jobs/..%2F..%2Fmodels", "", nil, 404, "no job"},
		{"job: unknown", "GET", "/v1/jobs/0123456789abcdef", "", nil, 404, "no job"},
		{"zip: unknown job", "GET", "/v1/jobs/0123456789abcdef/outputs.zip", "", nil, 404, "no job"},
		{"page: no such file", "GET", "/static/nothing.js", "", nil, 404, "no file"},
		{"live: no upgrade", "GET", "/v1/live?model=famc&rate=16000", "", nil, 400, "WebSocket"},
		{"live: no rate", "GET", "/v1/live?model=famc", "", nil, 400, "rate"},
		{"live: bad model", "GET", "/v1/live?model=..%2Fx&rate=16000", "", nil, 400, "model name"},
	} {
		body := bytes.NewReader(c.body)
		ctype := c.ct
		if c.what == "separate: two files" {
			b, mct := multipartBody(t, [3]string{"a", "a.wav", string(mix)}, [3]string{"b", "b.wav", string(mix)})
			body, ctype = bytes.NewReader(b.(*bytes.Buffer).Bytes()), mct
		}
		code, _, b := do(t, c.method, ts.URL+c.path, ctype, body)
		var says []string
		if c.says != "" {
			says = append(says, c.says)
		}
		wantError(t, c.what, code, b, c.code, says...)
	}
	// Nothing was enrolled, uploaded or left behind but the jobs of the
	// truncated recordings (failed, kept until they expire).
	if names := listDir(t, filepath.Join(dir, modelsDir)); len(names) != 1 || names[0] != "famc.npz" {
		t.Errorf("models folder: %q", names)
	}
	if names := listDir(t, filepath.Join(dir, speakersDir)); len(names) != 0 {
		t.Errorf("speakers folder: %q", names)
	}
	for _, n := range listDir(t, filepath.Join(dir, jobsDir)) {
		if !jobIDPattern.MatchString(n) {
			t.Errorf("jobs folder holds %q", n)
		}
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestMaxUpload: a body over the limit is refused with 413, whatever the
// route.
func TestMaxUpload(t *testing.T) {
	_, ts := newTestServer(t, Settings{MaxUpload: 4000})
	mix, _ := heldOutMixture(t, 1)
	for _, p := range []string{"/v1/speakers/FA", "/v1/separate?model=famc"} {
		code, _, b := do(t, "POST", ts.URL+p, "audio/wav", bytes.NewReader(mix))
		wantError(t, p, code, b, http.StatusRequestEntityTooLarge, "4000 bytes")
	}
	code, _, b := do(t, "PUT", ts.URL+"/v1/models/big", "application/octet-stream", bytes.NewReader(testModelBytes(t)))
	wantError(t, "model", code, b, http.StatusRequestEntityTooLarge, "4000 bytes")
}

// holdJobs makes the server's jobs wait as they start until release is
// called; started receives each job's id.
func holdJobs(s *Settings) (started chan string, release func()) {
	started = make(chan string, 100)
	held := make(chan struct{})
	s.jobStarted = func(j *Job) {
		started <- j.ID
		<-held
	}
	return started, sync.OnceFunc(func() { close(held) })
}

// TestQueueLimits: one job runs per worker, Queue more wait, and the next
// gets 429 with Retry-After; a recording larger than QueueBytes too.
func TestQueueLimits(t *testing.T) {
	s := Settings{Workers: 1, Queue: 2, ShortSeconds: 0.1}
	started, release := holdJobs(&s)
	srv, ts := newTestServer(t, s)
	t.Cleanup(release) // before the server's cleanup, which waits for the jobs
	mix, _ := heldOutMixture(t, 1)
	for _, sp := range democorpus.Speakers() {
		if code, _, b := do(t, "POST", ts.URL+"/v1/speakers/"+sp.Name, "audio/flac", bytes.NewReader(sp.Files[0].Data)); code != http.StatusCreated {
			t.Fatalf("enrol %s: %d %s", sp.Name, code, b)
		}
	}
	var ids []string
	for i := range 3 {
		code, _, b := do(t, "POST", ts.URL+"/v1/separate?model=famc", "audio/wav", bytes.NewReader(mix))
		if code != http.StatusAccepted {
			t.Fatalf("job %d: %d %s", i, code, b)
		}
		var j Job
		decodeJSON(t, b, &j)
		ids = append(ids, j.ID)
		if i == 0 {
			<-started // running, so the next two wait
		}
	}
	code, h, b := do(t, "POST", ts.URL+"/v1/separate?model=famc", "audio/wav", bytes.NewReader(mix))
	wantError(t, "beyond the queue", code, b, http.StatusTooManyRequests, "queue is full")
	if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q", h.Get("Retry-After"))
	}
	js, _ := json.Marshal(testTrain)
	code, _, b = do(t, "POST", ts.URL+"/v1/train", "application/json", bytes.NewReader(js))
	wantError(t, "training beyond the queue", code, b, http.StatusTooManyRequests, "queue is full")
	if queued, running, _ := srv.jobs.counts(); queued != 2 || running != 1 {
		t.Errorf("%d queued, %d running; want 2 and 1", queued, running)
	}
	for i, id := range ids {
		j, _ := srv.jobs.get(id)
		if want := []string{StateRunning, StateQueued, StateQueued}[i]; j.State != want {
			t.Errorf("job %d: %s, want %s", i, j.State, want)
		}
	}
	_, _, b = do(t, "GET", ts.URL+"/metrics", "", nil)
	for _, want := range []string{"dlnmf_jobs_queued 2\n", "dlnmf_jobs_running 1\n", `dlnmf_errors_total{kind="queue_full"} 2`,
		`dlnmf_http_requests_total{route="POST /v1/separate",code="429"} 1`, `dlnmf_http_requests_total{route="POST /v1/separate",code="202"} 3`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("/metrics does not say %q:\n%s", want, b)
		}
	}

	_, small := newTestServer(t, Settings{QueueBytes: int64(len(mix)) - 1})
	code, _, b = do(t, "POST", small.URL+"/v1/separate?model=famc", "audio/wav", bytes.NewReader(mix))
	wantError(t, "beyond the queue's bytes", code, b, http.StatusTooManyRequests, "bytes")
}

// TestJobTimeLimit: a job that runs longer than JobTimeout fails, saying
// so.
func TestJobTimeLimit(t *testing.T) {
	_, ts := newTestServer(t, Settings{JobTimeout: time.Nanosecond})
	mix, _ := heldOutMixture(t, 1)
	code, _, b := do(t, "POST", ts.URL+"/v1/separate?model=famc", "audio/wav", bytes.NewReader(mix))
	wantError(t, "too slow", code, b, http.StatusUnprocessableEntity, "longer than the limit of 1ns")
}

// TestResultsExpire: a finished job, its files and its folder are gone
// once ResultsTTL has passed.
func TestResultsExpire(t *testing.T) {
	dir := t.TempDir()
	srv, ts := newTestServer(t, Settings{Dir: dir, ResultsTTL: time.Hour})
	mix, _ := heldOutMixture(t, 1)
	_, _, b := do(t, "POST", ts.URL+"/v1/separate?model=famc", "audio/wav", bytes.NewReader(mix))
	var j Job
	decodeJSON(t, b, &j)
	if j.Expires == nil || j.Expires.Sub(*j.Finished) != time.Hour {
		t.Fatalf("job: %s", b)
	}
	srv.jobs.sweep(j.Finished.Add(time.Hour - time.Second))
	if code, _, _ := do(t, "GET", ts.URL+"/v1/jobs/"+j.ID, "", nil); code != http.StatusOK {
		t.Fatalf("job gone before it expired: %d", code)
	}
	srv.jobs.sweep(j.Finished.Add(time.Hour + time.Second))
	code, _, b := do(t, "GET", ts.URL+"/v1/jobs/"+j.ID, "", nil)
	wantError(t, "expired job", code, b, http.StatusNotFound, "expire")
	if _, err := os.Stat(filepath.Join(dir, jobsDir, j.ID)); !os.IsNotExist(err) {
		t.Errorf("expired job's folder: %v", err)
	}
}

// TestShutdownFinishesRunningJobs: Shutdown refuses new work with 503 and
// lets a running job finish within the grace time; a job still running
// when it ends stays queued on disk for the next server.
func TestShutdownFinishesRunningJobs(t *testing.T) {
	dir := t.TempDir()
	s := Settings{Dir: dir, Workers: 1, ShortSeconds: 0.1}
	started, release := holdJobs(&s)
	srv, ts := newTestServer(t, s)
	t.Cleanup(release)
	mix, _ := heldOutMixture(t, 1)
	submit := func() Job {
		_, _, b := do(t, "POST", ts.URL+"/v1/separate?model=famc", "audio/wav", bytes.NewReader(mix))
		var j Job
		decodeJSON(t, b, &j)
		return j
	}
	first, second := submit(), submit()
	<-started
	stopped := make(chan error)
	go func() { stopped <- srv.Shutdown(context.Background()) }()
	for {
		code, h, b := do(t, "POST", ts.URL+"/v1/separate?model=famc", "audio/wav", bytes.NewReader(mix))
		if code == http.StatusServiceUnavailable {
			wantError(t, "while stopping", code, b, http.StatusServiceUnavailable, "shutting down")
			if h.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			break
		}
		time.Sleep(time.Millisecond) // Shutdown has not begun yet
	}
	release()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id, state string
	}{{first.ID, StateDone}, {second.ID, StateQueued}} {
		var j Job
		b, err := os.ReadFile(filepath.Join(dir, jobsDir, c.id, jobFile))
		if err == nil {
			err = json.Unmarshal(b, &j)
		}
		if err != nil || j.State != c.state {
			t.Errorf("job %s on disk: %v %s, want %s", c.id, err, j.State, c.state)
		}
	}
}

// TestPanicIsA500: a route that panics answers 500 with one JSON error,
// counted under the errors of kind "panic", and the server goes on; a
// panic after the answer began cuts the connection rather than ending a
// short answer as if it were whole.
func TestPanicIsA500(t *testing.T) {
	s := Settings{}
	s.handling = func(pattern string, r *http.Request) {
		if r.Header.Get("X-Test-Panic") != "" {
			panic("a test's panic in " + pattern)
		}
	}
	srv, ts := newTestServer(t, s)
	for i := range 2 {
		code, h, b := do(t, "GET", ts.URL+"/v1/models", "", nil, "X-Test-Panic", "1")
		wantError(t, "panicking route", code, b, http.StatusInternalServerError, "internal error")
		if ct := h.Get("Content-Type"); ct != "application/json" {
			t.Errorf("panic %d: Content-Type %q", i, ct)
		}
		if bytes.Contains(b, []byte("a test's panic")) {
			t.Errorf("panic %d: the answer shows the panic's value: %s", i, b)
		}
		code, _, b = do(t, "GET", ts.URL+"/v1/models", "", nil)
		var list struct{ Models []ModelInfo }
		decodeJSON(t, b, &list)
		if code != http.StatusOK || len(list.Models) != 1 {
			t.Fatalf("the request after panic %d: %d %s", i, code, b)
		}
	}

	// The same wrapper around a handler that panics mid-answer.
	half := httptest.NewServer(srv.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("the first half"))
		w.(http.Flusher).Flush()
		panic("half-way")
	})))
	defer half.Close()
	resp, err := http.Get(half.URL)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("a panic mid-answer gave a whole answer")
	}

	_, _, b := do(t, "GET", ts.URL+"/metrics", "", nil)
	for _, want := range []string{`dlnmf_errors_total{kind="panic"} 3`, `dlnmf_http_requests_total{route="GET /v1/models",code="500"} 2`,
		`dlnmf_http_requests_total{route="GET /v1/models",code="200"} 2`, `dlnmf_http_requests_total{route="unmatched",code="500"} 1`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("/metrics does not say %q:\n%s", want, b)
		}
	}
}

// TestStoreBytesLimit: a job that would take the jobs' folders beyond
// StoreBytes first removes the finished job that expires first; when the
// jobs not finished hold the room, it is refused with 507 (and
// Retry-After), as is a recording larger than the whole limit.
func TestStoreBytesLimit(t *testing.T) {
	mix, _ := heldOutMixture(t, 1)
	in := int64(len(mix))
	separate := func(url string) (Job, int, http.Header, []byte) {
		code, h, b := do(t, "POST", url+"/v1/separate?model=famc", "audio/wav", bytes.NewReader(mix))
		var j Job
		if code < 300 {
			decodeJSON(t, b, &j)
		}
		return j, code, h, b
	}

	// The bytes one finished job keeps: its recording, its estimates.
	probe, pts := newTestServer(t, Settings{})
	separate(pts.URL)
	_, _, one := probe.jobs.counts()
	if one < 3*in {
		t.Fatalf("a finished job keeps %d bytes, less than its recording and two estimates (3 × %d)", one, in)
	}

	dir := t.TempDir()
	limit := 2*one + in/2 // two finished jobs, and not a third recording
	srv, ts := newTestServer(t, Settings{Dir: dir, StoreBytes: limit})
	a, _, _, _ := separate(ts.URL)
	b, _, _, _ := separate(ts.URL)
	c, code, _, body := separate(ts.URL)
	if code != http.StatusOK {
		t.Fatalf("the third job: %d %s", code, body)
	}
	code, _, body = do(t, "GET", ts.URL+"/v1/jobs/"+a.ID, "", nil)
	wantError(t, "the job removed for room", code, body, http.StatusNotFound, "room")
	if _, err := os.Stat(filepath.Join(dir, jobsDir, a.ID)); !os.IsNotExist(err) {
		t.Errorf("the removed job's folder: %v", err)
	}
	for _, j := range []Job{b, c} {
		if code, _, body := do(t, "GET", ts.URL+"/v1/jobs/"+j.ID+"/outputs/FA", "", nil); code != http.StatusOK {
			t.Errorf("job %s, finished later, lost its outputs: %d %.200s", j.ID, code, body)
		}
	}
	onDisk := folderBytes(t, filepath.Join(dir, jobsDir))
	if _, _, stored := srv.jobs.counts(); stored != onDisk {
		t.Errorf("%d bytes counted for the jobs' %d on disk", stored, onDisk)
	}
	_, _, body = do(t, "GET", ts.URL+"/metrics", "", nil)
	for _, want := range []string{"dlnmf_jobs_evicted_total 1\n", fmt.Sprintf("dlnmf_jobs_stored_bytes %d\n", onDisk)} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics does not say %q:\n%s", want, body)
		}
	}

	// Room held by jobs not finished: 507 with Retry-After, nothing removed.
	s := Settings{Workers: 1, ShortSeconds: 0.1, StoreBytes: 2*in + in/2}
	started, release := holdJobs(&s)
	busy, bts := newTestServer(t, s)
	t.Cleanup(release)
	first, code, _, body := separate(bts.URL)
	if code != http.StatusAccepted {
		t.Fatalf("first job: %d %s", code, body)
	}
	<-started
	if _, code, _, body = separate(bts.URL); code != http.StatusAccepted {
		t.Fatalf("second job: %d %s", code, body)
	}
	_, code, h, body := separate(bts.URL)
	wantError(t, "beyond the stored bytes", code, body, http.StatusInsufficientStorage, "not yet finished", "try again")
	if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("507 with Retry-After %q", h.Get("Retry-After"))
	}
	if j, ok := busy.jobs.get(first.ID); !ok || j.State != StateRunning {
		t.Errorf("the running job after the 507: %+v", j)
	}
	_, _, body = do(t, "GET", bts.URL+"/metrics", "", nil)
	if want := `dlnmf_errors_total{kind="storage_full"} 1`; !bytes.Contains(body, []byte(want)) {
		t.Errorf("/metrics does not say %q:\n%s", want, body)
	}

	_, small := newTestServer(t, Settings{StoreBytes: in - 1})
	_, code, h, body = separate(small.URL)
	wantError(t, "larger than the limit", code, body, http.StatusInsufficientStorage, "larger than")
	if h.Get("Retry-After") != "" {
		t.Errorf("a recording that never fits gets Retry-After %q", h.Get("Retry-After"))
	}
}

// folderBytes sums the sizes of the files under dir.
func folderBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
