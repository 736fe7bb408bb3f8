package server

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// metrics counts what /metrics reports, in Prometheus' text format.
type metrics struct {
	mu        sync.Mutex
	requests  map[[2]string]uint64 // route pattern, status code
	errors    map[string]uint64    // by kind
	seconds   float64              // of audio separated, files and live
	jobsDone  map[[2]string]uint64 // kind, final state
	evictions uint64               // finished jobs removed before they expired, for room
}

func newMetrics() *metrics {
	return &metrics{requests: map[[2]string]uint64{}, errors: map[string]uint64{}, jobsDone: map[[2]string]uint64{}}
}

func (m *metrics) request(pattern string, code int) {
	if code == 0 {
		code = 200
	}
	m.mu.Lock()
	m.requests[[2]string{pattern, strconv.Itoa(code)}]++
	m.mu.Unlock()
}

func (m *metrics) error(kind string) {
	m.mu.Lock()
	m.errors[kind]++
	m.mu.Unlock()
}

func (m *metrics) separated(seconds float64) {
	m.mu.Lock()
	m.seconds += seconds
	m.mu.Unlock()
}

func (m *metrics) evicted(n int) {
	m.mu.Lock()
	m.evictions += uint64(n)
	m.mu.Unlock()
}

func (m *metrics) finished(kind, state string) {
	m.mu.Lock()
	m.jobsDone[[2]string{kind, state}]++
	m.mu.Unlock()
}

// label quotes a label value as the text format wants it.
func label(v string) string {
	return strconv.Quote(strings.ToValidUTF8(v, "?"))
}

func (m *metrics) write(w io.Writer, queued, running, live int, stored int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP dlnmf_http_requests_total HTTP requests by route and status code.")
	fmt.Fprintln(w, "# TYPE dlnmf_http_requests_total counter")
	for _, k := range slices.SortedFunc(maps.Keys(m.requests), cmpPair) {
		fmt.Fprintf(w, "dlnmf_http_requests_total{route=%s,code=%s} %d\n", label(k[0]), label(k[1]), m.requests[k])
	}
	fmt.Fprintln(w, "# HELP dlnmf_errors_total Errors answered, by kind.")
	fmt.Fprintln(w, "# TYPE dlnmf_errors_total counter")
	for _, k := range slices.Sorted(maps.Keys(m.errors)) {
		fmt.Fprintf(w, "dlnmf_errors_total{kind=%s} %d\n", label(k), m.errors[k])
	}
	fmt.Fprintln(w, "# HELP dlnmf_jobs_finished_total Jobs that ended, by kind and state.")
	fmt.Fprintln(w, "# TYPE dlnmf_jobs_finished_total counter")
	for _, k := range slices.SortedFunc(maps.Keys(m.jobsDone), cmpPair) {
		fmt.Fprintf(w, "dlnmf_jobs_finished_total{kind=%s,state=%s} %d\n", label(k[0]), label(k[1]), m.jobsDone[k])
	}
	one(w, "dlnmf_jobs_queued", "gauge", "Jobs waiting to run.", queued)
	one(w, "dlnmf_jobs_running", "gauge", "Jobs running.", running)
	one(w, "dlnmf_jobs_stored_bytes", "gauge", "Bytes of the jobs' folders (recordings, estimates, spectrograms).", stored)
	one(w, "dlnmf_jobs_evicted_total", "counter", "Finished jobs removed to make room for new ones (beyond the stored bytes' limit).", m.evictions)
	one(w, "dlnmf_live_streams", "gauge", "Live streams open.", live)
	one(w, "dlnmf_audio_separated_seconds_total", "counter", "Seconds of audio separated (jobs and live streams).", m.seconds)
}

// one writes a metric of one value, with its help and type.
func one(w io.Writer, name, typ, help string, v any) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %v\n", name, help, name, typ, name, v)
}

func cmpPair(a, b [2]string) int {
	if c := strings.Compare(a[0], b[0]); c != 0 {
		return c
	}
	return strings.Compare(a[1], b[1])
}
