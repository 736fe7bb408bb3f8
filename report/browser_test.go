package report

import (
	"context"
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dlnmf/dlnmf/internal/webdriver"
)

// TestBrowser opens a written report in headless Chromium, driven by
// chromedriver over the WebDriver HTTP protocol (Debian's chromium and
// chromium-driver; "scripts/setup.sh test" installs both), and checks what a
// reader would notice: every picture shows, every audio player can load its
// file, no link is broken, nothing is logged as an error. It saves a
// full-page screenshot into the test's temporary folder and logs its path;
// set REPORT_SCREENSHOT=FILE.png to keep a copy.
func TestBrowser(t *testing.T) {
	chromium, driver := webdriver.ProgramsOrSkip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second) // generous: chromium starts slowly on a loaded 2-core machine (the suite runs packages side by side)
	defer cancel()

	tmp := t.TempDir()
	dir := filepath.Join(tmp, "report")
	if err := Write(dir, testReport()); err != nil {
		t.Fatal(err)
	}

	wd, err := webdriver.Start(ctx, t.Cleanup, driver)
	if err != nil {
		t.Skipf("browser test skipped: chromedriver would not start: %v", err)
	}
	sess, err := wd.NewSession(ctx, chromium, webdriver.HeadlessArgs(filepath.Join(tmp, "profile")))
	if err != nil {
		t.Skipf("browser test skipped: chromium would not start under chromedriver: %v", err)
	}
	// Ends the browser; chromedriver itself is killed by Start's cleanup.
	defer sess.Close()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(sess.Call(ctx, "POST", "/timeouts", map[string]int{"script": 15000, "pageLoad": 15000}, nil))
	page := (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, "index.html"))}).String()
	must(sess.Call(ctx, "POST", "/url", map[string]string{"url": page}, nil))

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
	must(sess.Call(ctx, "POST", "/execute/async", map[string]any{"script": script, "args": []any{}}, &state))

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

	logs, err := sess.Log(ctx)
	must(err)
	for _, l := range logs {
		if l.Level == "SEVERE" {
			t.Errorf("console error: %s", l.Message)
		} else {
			t.Logf("console %s: %s", l.Level, l.Message)
		}
	}

	// Full-page screenshot: grow the window to the page's height.
	h := min(max(state.Height, 900), 16000)
	must(sess.Call(ctx, "POST", "/window/rect", map[string]int{"width": 1280, "height": h}, nil))
	var shot string
	must(sess.Call(ctx, "GET", "/screenshot", nil, &shot))
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
