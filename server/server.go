package server

import (
	"bufio"
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dlnmf/dlnmf/recording"
)

// Defaults of Settings' zero fields.
const (
	DefaultDir        = "dlnmf-data"
	DefaultAddr       = "127.0.0.1:8080"
	DefaultMaxUpload  = 256 << 20 // bytes of one request body
	DefaultQueue      = 64        // jobs waiting
	DefaultQueueBytes = 4 << 30   // bytes of the inputs of the jobs waiting
	DefaultJobTimeout = 30 * time.Minute
	DefaultResultsTTL = 24 * time.Hour
	// DefaultStoreBytes bounds the bytes the jobs keep on disk: inputs,
	// estimates and spectrograms, finished or not.
	DefaultStoreBytes = 16 << 30
	DefaultGrace      = 30 * time.Second
	// DefaultShortSeconds is the longest recording that POST /v1/separate
	// answers at once; a longer one gets 202 and a job to poll.
	DefaultShortSeconds = 30
	// DefaultLiveIdle is how long a live stream may send nothing before
	// the server closes it.
	DefaultLiveIdle = 10 * time.Second
	// MaxAttempts is how many times a job may be interrupted (by a server
	// that stopped while it ran) before it is failed rather than run again.
	MaxAttempts = 3
)

// Settings control a Server; zero values mean the defaults above.
type Settings struct {
	Dir        string        // the data folder
	Token      string        // bearer token every route but /healthz and the page needs; "": none
	CORSOrigin string        // an origin allowed to call the API from a browser; "": CORS off
	MaxUpload  int64         // bytes of one request body
	Queue      int           // jobs waiting to run beyond the Workers running
	QueueBytes int64         // bytes of input of the jobs waiting
	Workers    int           // jobs running at once; 0: runtime.NumCPU()
	JobTimeout time.Duration // the longest a job may run
	ResultsTTL time.Duration // how long a finished job and its outputs are kept
	// StoreBytes bounds the bytes of the jobs' folders (recordings sent,
	// estimates, spectrograms). A new job that would pass it first removes
	// finished jobs, those that expire first first, and is refused with 507
	// when that is not enough.
	StoreBytes int64
	// ShortSeconds is the longest recording separated in the request
	// that sends it (DefaultShortSeconds).
	ShortSeconds float64
	LiveIdle     time.Duration // DefaultLiveIdle
	// Separation is what every separation uses (recording's defaults when
	// zero), but for the container, which each request chooses.
	Separation recording.Settings
	Logger     *slog.Logger // nil: discard

	// jobStarted, when set, is called as each job starts running: tests
	// hold jobs there to fill the queue.
	jobStarted func(j *Job)
	// handling, when set, is called by every route's handler before it
	// runs, with the route's pattern: tests make a real route panic there.
	handling func(pattern string, r *http.Request)
}

func (s *Settings) fill() {
	if s.Dir == "" {
		s.Dir = DefaultDir
	}
	if s.MaxUpload == 0 {
		s.MaxUpload = DefaultMaxUpload
	}
	if s.Queue == 0 {
		s.Queue = DefaultQueue
	}
	if s.QueueBytes == 0 {
		s.QueueBytes = DefaultQueueBytes
	}
	if s.Workers == 0 {
		s.Workers = runtime.NumCPU()
	}
	if s.JobTimeout == 0 {
		s.JobTimeout = DefaultJobTimeout
	}
	if s.ResultsTTL == 0 {
		s.ResultsTTL = DefaultResultsTTL
	}
	if s.StoreBytes == 0 {
		s.StoreBytes = DefaultStoreBytes
	}
	if s.ShortSeconds == 0 {
		s.ShortSeconds = DefaultShortSeconds
	}
	if s.LiveIdle == 0 {
		s.LiveIdle = DefaultLiveIdle
	}
	if s.Separation.Separation.NMF.Workers == 0 {
		// Jobs run side by side, each on its share of the cores, as dlnmf
		// separate --jobs runs files: more goroutines per job than that
		// only make the jobs wait on each other at every pass of the
		// solver. The result does not depend on it.
		s.Separation.Separation.NMF.Workers = max(1, runtime.GOMAXPROCS(0)/s.Workers)
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
}

// Check reports a setting that cannot work.
func (s Settings) Check() error {
	switch {
	case s.MaxUpload < 0, s.Queue < 0, s.QueueBytes < 0, s.StoreBytes < 0, s.Workers < 0:
		return errors.New("the upload limit, the queue, the stored bytes and the workers must not be negative")
	case s.JobTimeout < 0, s.ResultsTTL < 0, s.LiveIdle < 0, s.ShortSeconds < 0:
		return errors.New("durations must not be negative")
	case s.Token != "" && strings.ContainsAny(s.Token, " \t\r\n"):
		return errors.New("the token must be one word (no spaces or newlines)")
	}
	return nil
}

// CheckAddr refuses to listen beyond the loopback interface without a
// token: anyone who reaches the port could then use and fill the server.
func CheckAddr(addr string, token bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if token || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("address %q is not loopback: give a token file so that only those who hold it can use the server", addr)
}

// Server serves the API, the live WebSocket and the page. Create it with
// New; serve Handler; stop it with Shutdown.
type Server struct {
	s   Settings
	mux *http.ServeMux
	// patterns are the mux's routes, as registered ("GET /v1/models").
	patterns []string
	metrics  *metrics
	jobs     *queue
	models   *modelCache
	speakMu  sync.Mutex // enrolment and deletion of speakers
	live     chan struct{}
	stop     chan struct{}
	swept    sync.WaitGroup
}

// New opens (creating when missing) the data folder, resumes the jobs left
// queued or running by a previous server, and starts the workers.
func New(s Settings) (*Server, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	s.fill()
	for _, d := range []string{modelsDir, speakersDir, jobsDir} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("data folder: %w", err)
		}
	}
	srv := &Server{s: s, metrics: newMetrics(), stop: make(chan struct{}),
		live: make(chan struct{}, 4*s.Workers)}
	srv.models = &modelCache{dir: filepath.Join(s.Dir, modelsDir), sep: s.Separation, byKey: map[string]*cachedModel{}}
	q, err := openQueue(srv)
	if err != nil {
		return nil, err
	}
	srv.jobs = q
	srv.routes()
	srv.swept.Add(1)
	go srv.sweepLoop()
	return srv, nil
}

// Handler returns the server's HTTP handler.
func (srv *Server) Handler() http.Handler { return srv.middleware(srv.mux) }

// Settings returns the settings in use, defaults filled in.
func (srv *Server) Settings() Settings { return srv.s }

// Shutdown stops taking jobs, lets the running ones finish until ctx ends,
// then stops them where they are: they stay on disk, queued, for the next
// server. The HTTP server itself is the caller's (http.Server.Shutdown).
func (srv *Server) Shutdown(ctx context.Context) error {
	select {
	case <-srv.stop:
	default:
		close(srv.stop)
	}
	srv.swept.Wait()
	return srv.jobs.shutdown(ctx)
}

func (srv *Server) sweepLoop() {
	defer srv.swept.Done()
	every := min(srv.s.ResultsTTL/4, time.Hour)
	t := time.NewTicker(max(every, time.Second))
	defer t.Stop()
	for {
		srv.jobs.sweep(time.Now())
		select {
		case <-srv.stop:
			return
		case <-t.C:
		}
	}
}

// apiError is an error with the status code it is answered with.
type apiError struct {
	code int
	msg  string
	kind string // for the metrics: what went wrong
	// retryAfter, for 429 and 503, is the Retry-After header in seconds.
	retryAfter int
}

func (e *apiError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...), kind: kindOf(code)}
}

func kindOf(code int) string {
	switch code {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return "bad_input"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusTooManyRequests:
		return "queue_full"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusUnsupportedMediaType:
		return "content_type"
	case http.StatusServiceUnavailable:
		return "shutting_down"
	case http.StatusConflict:
		return "conflict"
	case http.StatusInsufficientStorage:
		return "storage_full"
	default:
		return "internal"
	}
}

// writeError answers err as one JSON object with its status code.
func (srv *Server) writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &mb):
		ae = errorf(http.StatusRequestEntityTooLarge, "the request is larger than the limit of %d bytes", mb.Limit)
	default:
		ae = &apiError{code: http.StatusInternalServerError, msg: oneLine(err), kind: "internal"}
	}
	srv.metrics.error(ae.kind)
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.retryAfter))
	}
	writeJSON(w, ae.code, map[string]string{"error": oneLine(ae)})
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// statusWriter remembers the status code for the metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the connection to the WebSocket upgrade, which asks for an
// http.Hijacker rather than using http.ResponseController; the exchange
// counts as 101.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.code == 0 {
		w.code = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

// public reports whether a path needs no token: the health check, and the
// page and its files, which hold no data (every call they make carries
// the token the user types in).
func public(r *http.Request) bool {
	p := r.URL.Path
	return p == "/healthz" || (r.Method == http.MethodGet && (p == "/" || strings.HasPrefix(p, "/static/")))
}

func (srv *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			abort := false
			if v := recover(); v != nil {
				abort = srv.recovered(sw, r, v)
			}
			srv.metrics.request(cmp.Or(r.Pattern, "unmatched"), sw.code)
			if abort {
				panic(http.ErrAbortHandler)
			}
		}()
		if srv.s.CORSOrigin != "" {
			h := sw.Header()
			h.Set("Access-Control-Allow-Origin", srv.s.CORSOrigin)
			h.Set("Vary", "Origin")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, PUT, POST, DELETE, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				sw.WriteHeader(http.StatusNoContent)
				return
			}
		}
		if srv.s.Token != "" && !public(r) && !srv.authorized(r) {
			sw.Header().Set("WWW-Authenticate", `Bearer realm="dlnmf"`)
			srv.writeError(sw, errorf(http.StatusUnauthorized, "this server needs its token: Authorization: Bearer TOKEN"))
			return
		}
		r.Body = http.MaxBytesReader(sw, r.Body, srv.s.MaxUpload)
		next.ServeHTTP(sw, r)
	})
}

// recovered answers a handler's panic as a 500 with one JSON error, counted
// under the errors of kind "panic", and the server goes on. It reports
// whether the connection must be cut instead (http.ErrAbortHandler): a
// handler that aborts on purpose, or a panic after the answer began, which
// the client must see as a broken response rather than a short one that
// looks whole.
func (srv *Server) recovered(sw *statusWriter, r *http.Request, v any) (abort bool) {
	if v == http.ErrAbortHandler {
		return true
	}
	srv.s.Logger.Error("handler panic", "route", r.Pattern, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if sw.code != 0 {
		srv.metrics.error("panic")
		sw.code = http.StatusInternalServerError
		return true
	}
	srv.writeError(sw, &apiError{code: http.StatusInternalServerError, kind: "panic",
		msg: "internal error: the server failed on this request (its log says where)"})
	return false
}

// authorized checks the bearer token; a WebSocket, which a browser cannot
// give headers, may give it as the query parameter token.
func (srv *Server) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok && r.URL.Path == "/v1/live" {
		got, ok = r.URL.Query().Get("token"), true
	}
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(srv.s.Token)) == 1
}
