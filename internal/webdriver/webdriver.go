// Package webdriver drives headless Chromium from tests through
// chromedriver and the WebDriver protocol (JSON over HTTP), with no module
// beyond the standard library. Debian's chromium and chromium-driver
// provide both programs ("scripts/setup.sh test" installs them); Find
// locates them so that a test can skip with a clear message when they are
// absent.
package webdriver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Find returns the program named by the environment variable env, or the
// first of names on PATH or in /usr/bin, or "".
func Find(env string, names ...string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		if p := filepath.Join("/usr/bin", n); isExecutable(p) {
			return p
		}
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Programs returns Chromium and chromedriver (DLNMF_CHROMIUM and
// DLNMF_CHROMEDRIVER override the search); "" for one not found.
func Programs() (chromium, driver string) {
	return Find("DLNMF_CHROMIUM", "chromium", "chromium-browser", "google-chrome"), Find("DLNMF_CHROMEDRIVER", "chromedriver")
}

// ProgramsOrSkip returns Chromium and chromedriver for a browser test, or
// skips it: in -short mode, or with either program missing.
func ProgramsOrSkip(tb testing.TB) (chromium, driver string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("browser test skipped in -short mode")
	}
	chromium, driver = Programs()
	if chromium == "" || driver == "" {
		tb.Skipf("browser test skipped: chromium (%q) or chromedriver (%q) not found; install Debian's chromium and chromium-driver (scripts/setup.sh test does)", chromium, driver)
	}
	return chromium, driver
}

// HeadlessArgs are Chromium's arguments for a quiet headless run with its
// own profile folder.
func HeadlessArgs(profile string) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile, "--window-size=1280,900", "--hide-scrollbars",
	}
}

// Driver is a minimal WebDriver client of a chromedriver process.
type Driver struct {
	base   string
	client *http.Client
}

// Start runs chromedriver on a free local port; cleanup receives the
// function that ends it (a test's t.Cleanup).
func Start(ctx context.Context, cleanup func(func()), driver string) (*Driver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(driver, fmt.Sprintf("--port=%d", port), "--allowed-ips=127.0.0.1")
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	wd := &Driver{base: fmt.Sprintf("http://127.0.0.1:%d", port), client: &http.Client{Timeout: 60 * time.Second}}
	for {
		var st struct{ Ready bool }
		if err := wd.Call(ctx, "GET", "/status", nil, &st); err == nil && st.Ready {
			return wd, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("not ready in time: %s", strings.TrimSpace(stderr.String()))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Session is one browser.
type Session struct {
	wd   *Driver
	path string
}

// NewSession starts Chromium with args, its browser log kept.
func (wd *Driver) NewSession(ctx context.Context, chromium string, args []string) (*Session, error) {
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName":        "chrome",
		"goog:chromeOptions": map[string]any{"binary": chromium, "args": args},
		"goog:loggingPrefs":  map[string]string{"browser": "ALL"},
	}}}
	var sess struct {
		SessionID string `json:"sessionId"`
	}
	if err := wd.Call(ctx, "POST", "/session", caps, &sess); err != nil {
		return nil, err
	}
	return &Session{wd: wd, path: "/session/" + sess.SessionID}, nil
}

// Call sends a command of the session (path relative to it: "/url").
func (s *Session) Call(ctx context.Context, method, path string, in, out any) error {
	return s.wd.Call(ctx, method, s.path+path, in, out)
}

// Close ends the browser.
func (s *Session) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.wd.Call(ctx, "DELETE", s.path, nil, nil)
}

// LogEntry is one line of the browser's console log.
type LogEntry struct {
	Level, Message, Source string
}

// Log returns the browser's console log since the last call.
func (s *Session) Log(ctx context.Context) ([]LogEntry, error) {
	var logs []LogEntry
	err := s.Call(ctx, "POST", "/se/log", map[string]string{"type": "browser"}, &logs)
	return logs, err
}

// Call sends a WebDriver command and decodes the response's "value" into
// out (when out is not nil).
func (wd *Driver) Call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, wd.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := wd.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: HTTP %d: %.200s", method, path, resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error, Message string }
		json.Unmarshal(env.Value, &e)
		return fmt.Errorf("%s %s: %s: %.300s", method, path, e.Error, e.Message)
	}
	if out == nil {
		return nil
	}
	// The new-session response nests the session id inside "value".
	return json.Unmarshal(env.Value, out)
}
