package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary runs as a server process of its own when this variable
// names a data folder (TestMain); with childHoldEnv set, its jobs hold as
// they start, so that they stay running and queued until it is killed.
const (
	childDirEnv  = "DLNMF_SERVER_TEST_CHILD_DIR"
	childHoldEnv = "DLNMF_SERVER_TEST_CHILD_HOLD"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		if err := serveChild(dir, os.Getenv(childHoldEnv) != ""); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveChild serves dir on a loopback port it prints, until it is killed.
func serveChild(dir string, hold bool) error {
	s := Settings{Dir: dir, Workers: 1, ShortSeconds: 0.1}
	if hold {
		s.jobStarted = func(*Job) { select {} }
	}
	srv, err := New(s)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", l.Addr())
	return http.Serve(l, srv.Handler())
}

// startChild starts a server process on dir and returns its base URL.
func startChild(t *testing.T, dir string, hold bool) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir)
	if hold {
		cmd.Env = append(cmd.Env, childHoldEnv+"=1")
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		t.Fatalf("server process: %q %v", line, err)
	}
	return cmd, "http://" + addr
}

// TestKilledServerResumesJobs: a server process killed with SIGKILL while
// one job runs and others wait restarts with every acknowledged job: the
// running and queued ones run again and end done, none is lost or left
// half-written.
func TestKilledServerResumesJobs(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, modelsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, modelsDir, "famc.npz"), testModelBytes(t), 0o644); err != nil {
		t.Fatal(err)
	}
	child, base := startChild(t, dir, true)
	mix, _ := heldOutMixture(t, 1)
	var ids []string
	for range 4 {
		code, _, b := do(t, "POST", base+"/v1/separate?model=famc", "audio/wav", bytes.NewReader(mix))
		if code != http.StatusAccepted {
			t.Fatalf("submit: %d %s", code, b)
		}
		var j Job
		decodeJSON(t, b, &j)
		ids = append(ids, j.ID)
	}
	for { // until the first job runs (and holds)
		_, _, b := do(t, "GET", base+"/v1/jobs/"+ids[0], "", nil)
		var j Job
		decodeJSON(t, b, &j)
		if j.State == StateRunning {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	states := map[string]string{}
	for _, id := range ids {
		var j Job
		b, err := os.ReadFile(filepath.Join(dir, jobsDir, id, jobFile))
		if err == nil {
			err = json.Unmarshal(b, &j)
		}
		if err != nil {
			t.Fatalf("job %s after SIGKILL: %v", id, err)
		}
		states[id] = j.State
		if _, err := os.Stat(filepath.Join(dir, jobsDir, id, outDir)); err == nil {
			if names := listDir(t, filepath.Join(dir, jobsDir, id, outDir)); len(names) != 0 {
				t.Errorf("job %s %s has outputs %q", id, j.State, names)
			}
		}
	}
	if states[ids[0]] != StateRunning || states[ids[3]] != StateQueued {
		t.Fatalf("jobs on disk after SIGKILL: %v", states)
	}

	_, base = startChild(t, dir, false)
	for i, id := range ids {
		j := pollJob(t, base, id)
		if j.State != StateDone || len(j.Outputs) != 2 {
			t.Errorf("job %d after the restart: %s %s", i, j.State, j.Error)
		}
		if want := map[bool]int{true: 2, false: 1}[i == 0]; j.Attempts != want {
			t.Errorf("job %d: %d attempts, want %d", i, j.Attempts, want)
		}
		if code, _, b := do(t, "GET", base+j.Outputs[0].URL, "", nil); code != http.StatusOK || !bytes.HasPrefix(b, []byte("RIFF")) {
			t.Errorf("job %d output: %d", i, code)
		}
	}
}

// TestRestartFailsJobsInterruptedTooOften: a job that was running when
// the server stopped MaxAttempts times is failed with that reason rather
// than run again; an unfinished job folder never acknowledged is removed.
func TestRestartFailsJobsInterruptedTooOften(t *testing.T) {
	dir := t.TempDir()
	j := Job{ID: "00000000000000aa", Kind: KindSeparate, State: StateRunning, Attempts: MaxAttempts, Model: "famc", Input: "input.wav", Created: time.Now().UTC()}
	b, _ := json.Marshal(j)
	for _, d := range []string{j.ID, newPrefix + "00000000000000bb"} {
		if err := os.MkdirAll(filepath.Join(dir, jobsDir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, jobsDir, j.ID, jobFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, ts := newTestServer(t, Settings{Dir: dir})
	got := pollJob(t, ts.URL, j.ID)
	if got.State != StateFailed || !strings.Contains(got.Error, fmt.Sprintf("interrupted %d times", MaxAttempts)) {
		t.Errorf("job: %s %q", got.State, got.Error)
	}
	if names := listDir(t, filepath.Join(dir, jobsDir)); len(names) != 1 || names[0] != j.ID {
		t.Errorf("jobs folder: %q", names)
	}
}

// TestRestartFailsUnreadableJobs: a job whose state a power cut left
// empty is reported failed with the reason, not lost.
func TestRestartFailsUnreadableJobs(t *testing.T) {
	dir := t.TempDir()
	const id = "00000000000000cc"
	if err := os.MkdirAll(filepath.Join(dir, jobsDir, id), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, jobsDir, id, jobFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, ts := newTestServer(t, Settings{Dir: dir})
	if j := pollJob(t, ts.URL, id); j.State != StateFailed || !strings.Contains(j.Error, "unreadable") {
		t.Errorf("job: %s %q", j.State, j.Error)
	}
}
