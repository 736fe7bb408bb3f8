package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/recording"
)

// Job kinds and states.
const (
	KindSeparate = "separate"
	KindTrain    = "train"

	StateQueued  = "queued"
	StateRunning = "running"
	StateDone    = "done"
	StateFailed  = "failed"
)

const (
	jobFile   = "job.json"
	outDir    = "out"
	newPrefix = ".new-" // a job folder being created, not yet acknowledged
)

var jobIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// Job is a job's state, as job.json holds it and GET /v1/jobs/{id} shows it.
type Job struct {
	ID       string     `json:"id"`
	Kind     string     `json:"kind"`
	State    string     `json:"state"`
	Error    string     `json:"error,omitempty"`
	Progress float64    `json:"progress"`        // 0 to 1
	Stage    string     `json:"stage,omitempty"` // what it is doing
	Attempts int        `json:"attempts"`        // runs started
	Created  time.Time  `json:"created"`
	Started  *time.Time `json:"started,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
	Expires  *time.Time `json:"expires,omitempty"`
	Model    string     `json:"model"`

	// A separation: the recording (a file of the job's folder), its
	// length, and the estimates' container ("" the input's).
	Input      string  `json:"input,omitempty"`
	InputBytes int64   `json:"input_bytes,omitempty"`
	Seconds    float64 `json:"seconds,omitempty"`
	Rate       int     `json:"rate,omitempty"`
	Format     string  `json:"format,omitempty"`
	Inference
	Outputs []Output `json:"outputs,omitempty"`
	Clipped int      `json:"clipped_samples,omitempty"`

	// A training.
	Train *TrainRequest `json:"train,omitempty"`
}

// Output is one source's estimate of a separation job.
type Output struct {
	Source      string `json:"source"`
	File        string `json:"file"` // in the job's out folder
	URL         string `json:"url"`
	Spectrogram string `json:"spectrogram"`
}

func newJobID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// queue runs jobs: at most Workers at once, the rest waiting in order.
type queue struct {
	srv     *Server
	dir     string
	mu      sync.Mutex
	cond    *sync.Cond
	jobs    map[string]*Job
	done    map[string]chan struct{} // closed when the job ends (in this process)
	pending []string
	bytes   int64 // of the pending jobs' inputs
	// stored is the bytes of the jobs' folders, sizes each one's: measured
	// when the server starts and when a job ends, reserved as a job is
	// submitted, grown by the spectrograms drawn.
	stored  int64
	sizes   map[string]int64
	running int
	stop    bool
	// ctx ends the running jobs when the grace time is over.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// meanSeconds is a running mean of the jobs' wall time, for Retry-After.
	meanSeconds float64
}

// openQueue reads the jobs on disk: finished ones stay as they are,
// queued and running ones are queued again (or failed after MaxAttempts),
// folders of jobs never acknowledged are removed.
func openQueue(srv *Server) (*queue, error) {
	q := &queue{srv: srv, dir: filepath.Join(srv.s.Dir, jobsDir), jobs: map[string]*Job{}, done: map[string]chan struct{}{}, sizes: map[string]int64{}}
	q.cond = sync.NewCond(&q.mu)
	q.ctx, q.cancel = context.WithCancel(context.Background())
	entries, err := os.ReadDir(q.dir)
	if err != nil {
		return nil, err
	}
	var resumed []*Job
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), newPrefix) {
			os.RemoveAll(filepath.Join(q.dir, e.Name()))
			continue
		}
		if !e.IsDir() || !jobIDPattern.MatchString(e.Name()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(q.dir, e.Name(), jobFile))
		var j Job
		if err == nil {
			err = json.Unmarshal(b, &j)
		}
		if err != nil || j.ID != e.Name() {
			// A power cut can leave an unsynced state empty: the job is
			// reported failed rather than lost.
			srv.s.Logger.Warn("job state unreadable: failed", "job", e.Name(), "err", err)
			now := time.Now().UTC()
			exp := now.Add(srv.s.ResultsTTL)
			j = Job{ID: e.Name(), State: StateFailed, Created: now, Finished: &now, Expires: &exp,
				Error: "the job's state was unreadable when the server restarted (the machine stopped while it was written)"}
			if err := atomicfile.WriteBytes(filepath.Join(q.dir, j.ID, jobFile), mustJSON(j)); err != nil {
				return nil, err
			}
		}
		q.jobs[j.ID] = &j
		q.measure(j.ID)
		if j.State == StateQueued || j.State == StateRunning {
			resumed = append(resumed, &j)
		}
	}
	// Resume in the order they were submitted.
	slices.SortStableFunc(resumed, func(a, b *Job) int { return a.Created.Compare(b.Created) })
	for _, j := range resumed {
		q.done[j.ID] = make(chan struct{})
		if j.Attempts >= MaxAttempts {
			q.finish(j, fmt.Errorf("interrupted %d times while running (the server stopped each time)", j.Attempts))
			continue
		}
		j.State, j.Progress, j.Stage = StateQueued, 0, ""
		if err := q.save(j); err != nil {
			return nil, err
		}
		q.pending = append(q.pending, j.ID)
		q.bytes += j.InputBytes
		srv.s.Logger.Info("job resumed", "job", j.ID, "kind", j.Kind, "attempts", j.Attempts)
	}
	for range srv.s.Workers {
		q.wg.Add(1)
		go q.work()
	}
	return q, nil
}

func mustJSON(j Job) []byte {
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		panic(err) // a Job always encodes
	}
	return append(b, '\n')
}

func (q *queue) folder(id string) string { return filepath.Join(q.dir, id) }

// save rewrites j's job.json atomically as its state changes. The caller
// holds q.mu or owns j. Unlike the job's creation, which is synced before
// the job is acknowledged, a change is not synced (a sync per change cost
// the load test about a tenth of its throughput): a killed process leaves
// the state before or after it, and a power cut may lose changes, which
// only reruns the job (its outputs are synced and replaced whole).
func (q *queue) save(j *Job) error {
	return atomicfile.ReplaceBytes(filepath.Join(q.folder(j.ID), jobFile), mustJSON(*j))
}

// retryAfter estimates the seconds until a place in the queue frees up.
func (q *queue) retryAfter() int {
	s := q.meanSeconds
	if s == 0 {
		s = 1
	}
	return max(1, int(math.Ceil(s*float64(len(q.pending)+1)/float64(q.srv.s.Workers))))
}

// submit creates a job: its folder is written under a temporary name by
// prepare (which receives it and fills in the job) and renamed into place
// with job.json before the job is queued, so an acknowledged job is whole
// on disk. A job answered with its id before it ends (202) has its state
// synced first, as the client holds on to that id (durable); one answered
// only when it ends, in the request that sent it, has not: that answer is
// its acknowledgement, and a client whose request broke sends it again, so
// the sync would only add its wait to every short request.
func (q *queue) submit(j *Job, size int64, durable bool, prepare func(dir string) error) error {
	q.mu.Lock()
	if q.stop {
		q.mu.Unlock()
		return &apiError{code: http.StatusServiceUnavailable, msg: "the server is shutting down", kind: "shutting_down", retryAfter: 5}
	}
	// The queue counts what waits beyond the workers: a job that ends frees
	// its place at once, before a worker takes the next one, so a client
	// that waits for its answer and submits again never meets a full queue
	// while no more than Workers+Queue submit at once.
	if len(q.pending)+q.running >= q.srv.s.Queue+q.srv.s.Workers || q.bytes+size > q.srv.s.QueueBytes {
		ra := q.retryAfter()
		q.mu.Unlock()
		return &apiError{code: http.StatusTooManyRequests, kind: "queue_full", retryAfter: ra,
			msg: fmt.Sprintf("the queue is full (%d jobs waiting, at most %d jobs or %d bytes): try again later", len(q.pending), q.srv.s.Queue, q.srv.s.QueueBytes)}
	}
	gone, err := q.makeRoom(size, time.Now())
	if err == nil {
		q.bytes += size // reserved while the folder is written
		q.stored += size
	}
	q.mu.Unlock()
	q.remove(gone)
	if err != nil {
		return err
	}
	j.ID, j.State, j.Created, j.InputBytes = newJobID(), StateQueued, time.Now().UTC(), size
	err = q.create(j, durable, prepare)
	q.mu.Lock()
	defer q.mu.Unlock()
	if err != nil {
		q.bytes -= size
		q.stored -= size
		return err
	}
	q.sizes[j.ID] = size
	q.jobs[j.ID] = j
	q.done[j.ID] = make(chan struct{})
	q.pending = append(q.pending, j.ID)
	q.cond.Signal()
	return nil
}

func (q *queue) create(j *Job, durable bool, prepare func(dir string) error) error {
	tmp := filepath.Join(q.dir, newPrefix+j.ID)
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return err
	}
	write := atomicfile.ReplaceBytes
	if durable {
		write = atomicfile.WriteBytes
	}
	err := prepare(tmp)
	if err == nil {
		err = write(filepath.Join(tmp, jobFile), mustJSON(*j))
	}
	if err == nil {
		err = os.Rename(tmp, q.folder(j.ID))
	}
	if err != nil {
		os.RemoveAll(tmp)
	}
	return err
}

// get returns a copy of job id.
func (q *queue) get(id string) (Job, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	j, ok := q.jobs[id]
	if !ok {
		return Job{}, false
	}
	return *j, true
}

// wait returns when job id has ended or ctx is done.
func (q *queue) wait(ctx context.Context, id string) error {
	q.mu.Lock()
	ch := q.done[id]
	q.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (q *queue) counts() (queued, running int, stored int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending), q.running, q.stored
}

// update changes a running job's progress (and saves it).
func (q *queue) update(j *Job, progress float64, stage string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	j.Progress, j.Stage = progress, stage
	q.save(j)
}

func (q *queue) work() {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		for len(q.pending) == 0 && !q.stop {
			q.cond.Wait()
		}
		if q.stop {
			q.mu.Unlock()
			return
		}
		id := q.pending[0]
		q.pending = q.pending[1:]
		j := q.jobs[id]
		q.bytes -= j.InputBytes
		q.running++
		now := time.Now().UTC()
		j.State, j.Started, j.Attempts, j.Progress = StateRunning, &now, j.Attempts+1, 0
		err := q.save(j)
		q.mu.Unlock()
		if err == nil && q.srv.s.jobStarted != nil {
			q.srv.s.jobStarted(j)
		}
		if err == nil {
			err = q.run(j)
		}
		q.mu.Lock()
		q.running--
		if j.Started != nil {
			q.meanSeconds = 0.8*q.meanSeconds + 0.2*time.Since(*j.Started).Seconds()
		}
		if errors.Is(err, errStopped) {
			// The grace time ended: the job stays queued on disk for the
			// next server, and its outputs were never committed.
			j.State, j.Progress, j.Stage = StateQueued, 0, ""
			q.save(j)
		} else {
			q.finish(j, err)
		}
		q.mu.Unlock()
	}
}

var errStopped = errors.New("stopped by the server's shutdown")

// run runs one job within the job time limit and turns a panic into an
// error.
func (q *queue) run(j *Job) (err error) {
	ctx, cancel := context.WithTimeout(q.ctx, q.srv.s.JobTimeout)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("internal error: %v", v)
		}
		if err != nil && q.ctx.Err() != nil {
			err = errStopped
		} else if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("the job took longer than the limit of %s", q.srv.s.JobTimeout)
		}
	}()
	switch j.Kind {
	case KindSeparate:
		return q.srv.runSeparate(ctx, j)
	case KindTrain:
		return q.srv.runTrain(ctx, j, func(p float64, stage string) { q.update(j, p, stage) })
	}
	return fmt.Errorf("unknown job kind %q", j.Kind)
}

// finish records a job's end; the caller holds q.mu.
func (q *queue) finish(j *Job, err error) {
	now := time.Now().UTC()
	exp := now.Add(q.srv.s.ResultsTTL)
	j.Finished, j.Expires = &now, &exp
	if err != nil {
		j.State, j.Error = StateFailed, oneLine(err)
	} else {
		j.State, j.Progress, j.Stage = StateDone, 1, ""
	}
	if serr := q.save(j); serr != nil {
		q.srv.s.Logger.Error("job state not saved", "job", j.ID, "err", serr)
	}
	q.measure(j.ID)
	q.srv.metrics.finished(j.Kind, j.State)
	if ch := q.done[j.ID]; ch != nil {
		close(ch)
		delete(q.done, j.ID)
	}
}

// sweep removes the finished jobs that have expired.
func (q *queue) sweep(now time.Time) {
	q.mu.Lock()
	var gone []string
	for id, j := range q.jobs {
		if j.Expires != nil && now.After(*j.Expires) {
			gone = append(gone, id)
			q.forget(id)
		}
	}
	q.mu.Unlock()
	q.remove(gone)
}

// forget drops a finished job from the queue and its bytes from the count;
// the caller holds q.mu, and removes its folder (remove) after unlocking.
func (q *queue) forget(id string) {
	delete(q.jobs, id)
	q.stored -= q.sizes[id]
	delete(q.sizes, id)
}

func (q *queue) remove(ids []string) {
	for _, id := range ids {
		os.RemoveAll(q.folder(id))
	}
}

// measure sets the bytes of job id's folder from the files in it; the
// caller holds q.mu or is openQueue.
func (q *queue) measure(id string) {
	var n int64
	filepath.WalkDir(q.folder(id), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	q.stored += n - q.sizes[id]
	q.sizes[id] = n
}

// grew counts n more bytes in job id's folder (a spectrogram drawn).
func (q *queue) grew(id string, n int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.jobs[id]; ok {
		q.sizes[id] += n
		q.stored += n
	}
}

// makeRoom makes room for size more bytes under StoreBytes by forgetting
// finished jobs, those that expire first first (so the expired ones before
// any other), and returns them for the caller to remove once it has
// unlocked q.mu, which it holds. When the jobs not finished hold too much
// for that, only the expired ones go, and the new job is refused with 507
// Insufficient Storage, not 429: a 429 says that the client sends too
// fast, which it need not; the disk the operator gave the server is full
// of work in progress (its own kind in the metrics, storage_full, and
// --store-bytes raises it). Retry-After still says when the running jobs
// should be done, as they free room then; a recording larger than the
// whole limit never fits, and gets no Retry-After.
func (q *queue) makeRoom(size int64, now time.Time) (gone []string, err error) {
	limit := q.srv.s.StoreBytes
	if size > limit {
		return nil, errorf(http.StatusInsufficientStorage, "the recording (%d bytes) is larger than the server keeps for all jobs (%d bytes)", size, limit)
	}
	if q.stored+size <= limit {
		return nil, nil
	}
	var finished []*Job
	unfinished := q.stored
	for id, j := range q.jobs {
		if j.Expires != nil {
			finished = append(finished, j)
			unfinished -= q.sizes[id]
		}
	}
	slices.SortFunc(finished, func(a, b *Job) int { return a.Expires.Compare(*b.Expires) })
	fits := unfinished+size <= limit
	for _, j := range finished {
		if q.stored+size <= limit || !fits && !now.After(*j.Expires) {
			break
		}
		gone = append(gone, j.ID)
		q.forget(j.ID)
	}
	q.srv.metrics.evicted(len(gone))
	if !fits {
		e := errorf(http.StatusInsufficientStorage, "the jobs not yet finished hold %d bytes of the %d the server keeps for jobs: try again when they finish", unfinished, limit)
		e.retryAfter = q.retryAfter()
		return gone, e
	}
	return gone, nil
}

// shutdown stops taking jobs, waits for the running ones until ctx ends,
// then stops them (errStopped).
func (q *queue) shutdown(ctx context.Context) error {
	q.mu.Lock()
	q.stop = true
	q.cond.Broadcast()
	q.mu.Unlock()
	finished := make(chan struct{})
	go func() { q.wg.Wait(); close(finished) }()
	select {
	case <-finished:
		q.cancel()
		return nil
	case <-ctx.Done():
	}
	q.cancel()
	<-finished
	return fmt.Errorf("the running jobs did not finish within the grace time: they stay queued for the next start")
}

// ctxReader fails a read once ctx is done: separation reads its recording
// block by block, so a job stops at its next block when its time is up.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// runSeparate separates a job's recording into its out folder: the
// outputs appear all at once (recording.Separator.SeparateFile).
func (srv *Server) runSeparate(ctx context.Context, j *Job) error {
	sp, err := srv.models.separator(j.Model, j.Format, j.Inference)
	if err != nil {
		return err
	}
	dir := filepath.Join(srv.jobs.folder(j.ID), outDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(srv.jobs.folder(j.ID), j.Input))
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := sp.SeparateFile(recording.Stdin, ctxReader{ctx, f}, recording.Outputs{Dir: dir})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errors.New(strings.Replace(err.Error(), recording.StdinBase+": ", "", 1))
	}
	srv.metrics.separated(j.Seconds)
	srv.jobs.mu.Lock()
	defer srv.jobs.mu.Unlock()
	j.Clipped = res.Clipped
	for i, src := range sp.Sources() {
		u := "/v1/jobs/" + j.ID + "/outputs/" + src
		j.Outputs = append(j.Outputs, Output{Source: src, File: filepath.Base(res.Outputs[i]), URL: u, Spectrogram: u + "/spectrogram.png"})
	}
	return nil
}
