package report

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBrowser opens a written report in headless Chromium, driven by
// chromedriver over the WebDriver HTTP protocol (Debian's chromium and
// chromium-driver; "scripts/setup.sh test" installs both), and checks what a
// reader would notice: every picture shows, every audio player can load its
// file, no link is broken, nothing is logged as an error. It saves a
// full-page screenshot into the test's temporary folder and logs its path;
// set REPORT_SCREENSHOT=FILE.png to keep a copy.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := findProgram("DLNMF_CHROMIUM", "chromium", "chromium-browser", "google-chrome")
	driver := findProgram("DLNMF_CHROMEDRIVER", "chromedriver")
	if chromium == "" || driver == "" {
		t.Skipf("browser test skipped: chromium (%q) or chromedriver (%q) not found; install Debian's chromium and chromium-driver (scripts/setup.sh test does)", chromium, driver)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second) // generous: chromium starts slowly on a loaded 2-core machine (the suite runs packages side by side)
	defer cancel()

	tmp := t.TempDir()
	dir := filepath.Join(tmp, "report")
	if err := Write(dir, testReport()); err != nil {
		t.Fatal(err)
	}

	wd, err := startDriver(ctx, t, driver)
	if err != nil {
		t.Skipf("browser test skipped: chromedriver would not start: %v", err)
	}
	profile := filepath.Join(tmp, "profile")
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chromium,
			"args": []string{
				"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--user-data-dir=" + profile, "--window-size=1280,900", "--hide-scrollbars",
			},
		},
		"goog:loggingPrefs": map[string]string{"browser": "ALL"},
	}}}
	var sess struct {
		SessionID string `json:"sessionId"`
	}
	if err := wd.call(ctx, "POST", "/session", caps, &sess); err != nil {
		t.Skipf("browser test skipped: chromium would not start under chromedriver: %v", err)
	}
	s := "/session/" + sess.SessionID
	defer func() {
		// Ends the browser; chromedriver itself is killed by startDriver's cleanup.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		wd.call(ctx, "DELETE", s, nil, nil)
	}()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(wd.call(ctx, "POST", s+"/timeouts", map[string]int{"script": 15000, "pageLoad": 15000}, nil))
	page := (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, "index.html"))}).String()
	must(wd.call(ctx, "POST", s+"/url", map[string]string{"url": page}, nil))

	// Wait until every image and audio element has settled (loaded or
	// failed), at most 10 s, then report their state.
	const script = `
const done = arguments[arguments.length - 1];
const deadline = Date.now() + 10000;
function check() {
  const imgs = [...document.images].map(i => ({src: i.getAttribute('src'), complete: i.complete, width: i.naturalWidth}));
  const audios = [...document.querySelectorAll('audio')].map(a => ({
    src: a.getAttribute('src'), ready: a.readyState, error: a.error ? a.error.code : 0,
    duration: isFinite(a.duration) ? a.duration : -1}));
  const links = [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'));
  const pending = imgs.some(i => !i.complete) || audios.some(a => a.ready < 1 && !a.error);
  if (pending && Date.now() < deadline) { setTimeout(check, 50); return; }
  // Text cut off: a text node whose box reaches past the page's width or
  // past an ancestor that hides its overflow (scrolling boxes excepted).
  const clipped = [];
  const vw = document.documentElement.clientWidth;
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let texts = 0;
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (!n.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    const r = range.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    texts++;
    let bad = r.left < -1 || r.right > vw + 1;
    for (let a = n.parentElement; a && !bad; a = a.parentElement) {
      const st = getComputedStyle(a);
      if (/hidden|clip/.test(st.overflowX + st.overflowY) || st.textOverflow === 'ellipsis') {
        const ar = a.getBoundingClientRect();
        bad = r.left < ar.left - 1 || r.right > ar.right + 1 || r.top < ar.top - 1 || r.bottom > ar.bottom + 1;
      }
    }
    if (bad) clipped.push(n.textContent.trim().slice(0, 60));
  }
  const scores = [...document.querySelectorAll('.panel .score')].map(e => e.textContent.trim());
  const best = [...document.querySelectorAll('table.scores td.best')].map(e => e.getAttribute('title'));
  const paired = document.querySelectorAll('table.paired tbody tr').length;
  done({title: document.title, height: document.documentElement.scrollHeight, imgs, audios, links, texts, clipped, scores, best, paired});
}
check();`
	var state struct {
		Title  string
		Height int
		Imgs   []struct {
			Src      string
			Complete bool
			Width    int
		}
		Audios []struct {
			Src      string
			Ready    int
			Error    int
			Duration float64
		}
		Links   []string
		Texts   int
		Clipped []string
		Scores  []string
		Best    []string
		Paired  int
	}
	must(wd.call(ctx, "POST", s+"/execute/async", map[string]any{"script": script, "args": []any{}}, &state))

	if !strings.HasPrefix(state.Title, "Synthetic tones") {
		t.Errorf("page title %q: the page did not load", state.Title)
	}
	if len(state.Imgs) != 13 || len(state.Audios) != 7 {
		t.Errorf("%d images and %d audio players, want 13 and 7", len(state.Imgs), len(state.Audios))
	}
	for _, im := range state.Imgs {
		if !im.Complete || im.Width == 0 {
			t.Errorf("image %s did not load (complete %v, naturalWidth %d)", im.Src, im.Complete, im.Width)
		}
	}
	for _, a := range state.Audios {
		// readyState >= HAVE_METADATA: the file was found and decoded far
		// enough to know its duration (1.5 s here).
		if a.Error != 0 || a.Ready < 1 || a.Duration < 1.4 || a.Duration > 1.6 {
			t.Errorf("audio %s: readyState %d, error code %d, duration %.2f s; want a loaded 1.5 s file", a.Src, a.Ready, a.Error, a.Duration)
		}
	}
	t.Logf("%d text nodes checked for clipping, %d per-example score cells, %d shaded means, %d paired rows", state.Texts, len(state.Scores), len(state.Best), state.Paired)
	if state.Texts < 50 || len(state.Clipped) > 0 {
		t.Errorf("%d text nodes checked, %d clipped: %q", state.Texts, len(state.Clipped), state.Clipped)
	}
	// Every estimate shows its own SDR, SIR and SAR: 2 methods x 2 speakers.
	scoreRE := regexp.MustCompile(`^(SDR|SIR|SAR) -?\d+\.\d dB$`)
	if len(state.Scores) != 12 {
		t.Errorf("%d per-example score cells, want 12: %q", len(state.Scores), state.Scores)
	}
	for _, sc := range state.Scores {
		if !scoreRE.MatchString(sc) {
			t.Errorf("per-example score cell %q", sc)
		}
	}
	// A shaded mean names its paired test against the runner-up, with p < 0.05.
	pRE := regexp.MustCompile(`paired p = (< 0\.001|0\.\d+)`)
	for _, title := range state.Best {
		m := pRE.FindStringSubmatch(title)
		if m == nil {
			t.Errorf("shaded cell without its paired test: %q", title)
			continue
		}
		if p, err := strconv.ParseFloat(m[1], 64); m[1] != "< 0.001" && (err != nil || p >= 0.05) {
			t.Errorf("shaded cell with p = %s: %q", m[1], title)
		}
	}
	if state.Paired != len(testReport().Paired) {
		t.Errorf("paired-differences table has %d rows, want %d", state.Paired, len(testReport().Paired))
	}
	for _, l := range state.Links {
		if strings.HasPrefix(l, "#") {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(l))); err != nil || strings.Contains(l, ":") {
			t.Errorf("broken link %q", l)
		}
	}

	var logs []struct {
		Level, Message, Source string
	}
	must(wd.call(ctx, "POST", s+"/se/log", map[string]string{"type": "browser"}, &logs))
	for _, l := range logs {
		if l.Level == "SEVERE" {
			t.Errorf("console error: %s", l.Message)
		} else {
			t.Logf("console %s: %s", l.Level, l.Message)
		}
	}

	// Full-page screenshot: grow the window to the page's height.
	h := min(max(state.Height, 900), 16000)
	must(wd.call(ctx, "POST", s+"/window/rect", map[string]int{"width": 1280, "height": h}, nil))
	var shot string
	must(wd.call(ctx, "GET", s+"/screenshot", nil, &shot))
	png, err := base64.StdEncoding.DecodeString(shot)
	must(err)
	path := filepath.Join(tmp, "screenshot.png")
	must(os.WriteFile(path, png, 0o644))
	t.Logf("screenshot (%d bytes, page height %d px): %s", len(png), state.Height, path)
	if keep := os.Getenv("REPORT_SCREENSHOT"); keep != "" {
		must(os.WriteFile(keep, png, 0o644))
		t.Logf("screenshot copied to %s", keep)
	}
}

// findProgram returns the program named by the environment variable env, or
// the first of names on PATH or in /usr/bin, or "".
func findProgram(env string, names ...string) string {
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

// webDriver is a minimal WebDriver client: JSON over HTTP to chromedriver.
type webDriver struct {
	base   string
	client *http.Client
}

// startDriver runs chromedriver on a free local port until the test ends.
func startDriver(ctx context.Context, t *testing.T, driver string) (*webDriver, error) {
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
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	wd := &webDriver{base: fmt.Sprintf("http://127.0.0.1:%d", port), client: &http.Client{Timeout: 20 * time.Second}}
	for {
		var st struct{ Ready bool }
		if err := wd.call(ctx, "GET", "/status", nil, &st); err == nil && st.Ready {
			return wd, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("not ready in time: %s", strings.TrimSpace(stderr.String()))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// call sends a WebDriver command and decodes the response's "value" into
// out (when out is not nil).
func (wd *webDriver) call(ctx context.Context, method, path string, in, out any) error {
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
