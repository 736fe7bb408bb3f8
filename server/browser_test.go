package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dlnmf/dlnmf/bsseval"
	"github.com/dlnmf/dlnmf/democorpus"
	"github.com/dlnmf/dlnmf/internal/fft"
	"github.com/dlnmf/dlnmf/internal/webdriver"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/resample"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// browser is a Chromium session on the page, for the steps of a test.
type browser struct {
	t    *testing.T
	ctx  context.Context
	sess *webdriver.Session
}

func (b *browser) must(err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
}

// run runs a script in the page (its arguments are arguments) and
// decodes what it returns into out.
func (b *browser) run(out any, script string, args ...any) {
	b.t.Helper()
	if args == nil {
		args = []any{}
	}
	b.must(b.sess.Call(b.ctx, "POST", "/execute/sync", map[string]any{"script": script, "args": args}, out))
}

// waitFor waits (at most a minute) until the expression is true in the
// page, failing with the page's status line otherwise.
func (b *browser) waitFor(what, expr string) {
	b.t.Helper()
	var ok bool
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b.run(&ok, "return !!("+expr+")")
		if ok {
			return
		}
	}
	var status string
	b.run(&status, `return document.getElementById("status").textContent`)
	b.t.Fatalf("%s: not seen in a minute; the page says %q", what, status)
}

// element returns the WebDriver id of the element css selects.
func (b *browser) element(css string) string {
	b.t.Helper()
	var el map[string]string
	b.must(b.sess.Call(b.ctx, "POST", "/element", map[string]string{"using": "css selector", "value": css}, &el))
	for _, id := range el {
		return id
	}
	b.t.Fatalf("no element %s", css)
	return ""
}

// typeInto types text into an input as a user would (file inputs take
// paths, one a line).
func (b *browser) typeInto(css, text string) {
	b.t.Helper()
	id := b.element(css)
	b.must(b.sess.Call(b.ctx, "POST", "/element/"+id+"/clear", map[string]any{}, nil))
	b.must(b.sess.Call(b.ctx, "POST", "/element/"+id+"/value", map[string]string{"text": text}, nil))
}

func (b *browser) click(css string) {
	b.t.Helper()
	b.must(b.sess.Call(b.ctx, "POST", "/element/"+b.element(css)+"/click", map[string]any{}, nil))
}

// audioOf returns the samples of the audio player of the figure of source
// in the results css names, as the page made or fetched them.
func (b *browser) audioOf(css, source string) *wav.Audio {
	b.t.Helper()
	var b64 string
	b.must(b.sess.Call(b.ctx, "POST", "/execute/async", map[string]any{"args": []any{css, source}, "script": `
const [css, source, done] = arguments;
new Promise(ok => ok(document.querySelector(css + ' figure[data-source="' + source + '"] audio').src))
.then(src => fetch(src)).then(r => r.arrayBuffer()).then(buf => {
  let s = ''; const u = new Uint8Array(buf);
  for (let i = 0; i < u.length; i += 8192) s += String.fromCharCode(...u.subarray(i, i + 8192));
  done(btoa(s));
}).catch(e => done("error: " + e));`}, &b64))
	if strings.HasPrefix(b64, "error") {
		b.t.Fatalf("%s %s: %s", css, source, b64)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	b.must(err)
	a, err := wav.Decode(bytes.NewReader(raw))
	b.must(err)
	return a
}

// TestPageInChromium uses the page as a person would, in headless
// Chromium: enrol FA and MC from TSP sentences, train a small model,
// separate a held-out mixture with its references (players, spectrograms
// and the scores bsseval gives for recording's estimates), then live mode
// from Chromium's fake microphone playing a mixture: each returned voice
// scores within 1 dB of the offline separation of the same audio; last,
// a speaker enrolled from that microphone, for the seconds recorded.
func TestPageInChromium(t *testing.T) {
	chromium, driver := webdriver.ProgramsOrSkip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	enrol := map[string][]string{}
	for _, sp := range democorpus.Speakers() {
		for _, f := range sp.Files[:testFiles] {
			enrol[sp.Name] = append(enrol[sp.Name], write(f.Name, f.Data))
		}
	}
	mix, sources := heldOutMixture(t, 0)
	mixPath := write("mixture.wav", mix)
	var refPaths []string
	for i, s := range sources {
		var rb bytes.Buffer
		if _, err := wav.Encode(&rb, [][]float64{s}, democorpus.Rate, wav.Float32); err != nil {
			t.Fatal(err)
		}
		refPaths = append(refPaths, write([]string{"FA", "MC"}[i]+"-reference.wav", rb.Bytes()))
	}

	srv, err := New(Settings{Dir: filepath.Join(tmp, "data")})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer srv.Shutdown(context.Background())
	defer ts.Close()

	wd, err := webdriver.Start(ctx, t.Cleanup, driver)
	if err != nil {
		t.Skipf("browser test skipped: chromedriver would not start: %v", err)
	}
	args := append(webdriver.HeadlessArgs(filepath.Join(tmp, "profile")), "--autoplay-policy=no-user-gesture-required",
		"--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--use-file-for-fake-audio-capture="+mixPath+"%noloop")
	sess, err := wd.NewSession(ctx, chromium, args)
	if err != nil {
		t.Skipf("browser test skipped: chromium would not start under chromedriver: %v", err)
	}
	defer sess.Close()
	b := &browser{t: t, ctx: ctx, sess: sess}
	b.must(sess.Call(ctx, "POST", "/timeouts", map[string]int{"script": 30000, "pageLoad": 15000}, nil))
	b.must(sess.Call(ctx, "POST", "/url", map[string]string{"url": ts.URL + "/"}, nil))
	b.waitFor("the page", `document.querySelector("#models tbody") && document.readyState === "complete"`)

	// Enrol each speaker's files; the table shows their seconds.
	for _, name := range []string{"FA", "MC"} {
		b.typeInto("#enrol-name", name)
		b.typeInto("#enrol-files", strings.Join(enrol[name], "\n"))
		b.click("#enrol-upload")
		b.waitFor("speaker "+name, `document.querySelector('#speakers tr[data-speaker="`+name+`"]')`)
	}
	var seconds []string
	b.run(&seconds, `return [...document.querySelectorAll("#speakers .seconds")].map(e => e.textContent)`)
	for _, s := range seconds {
		if v, err := strconv.ParseFloat(s, 64); err != nil || v < 5 {
			t.Errorf("seconds shown per speaker: %q", seconds)
		}
	}

	// Train the test model's settings; the bar ends full.
	b.typeInto("#train-model", "voices")
	b.run(nil, `document.getElementById("train-method").value = "nmf"; document.querySelector("#train-form details").open = true`)
	b.typeInto("#train-sizes", strconv.Itoa(testK))
	b.typeInto("#train-iters", strconv.Itoa(testIters))
	b.click("#train-start")
	b.waitFor("training", `document.getElementById("train-stage").textContent === "done"`)
	var progress float64
	b.run(&progress, `return document.getElementById("train-progress").value`)
	if progress != 1 {
		t.Errorf("progress bar at %g after training", progress)
	}
	model, err := separation.ReadFile(filepath.Join(tmp, "data", modelsDir, "voices.npz"))
	b.must(err)
	sp, err := recording.New(model, recording.Settings{})
	b.must(err)

	// Separate the held-out mixture with its references.
	b.typeInto("#separate-file", mixPath)
	b.typeInto("#separate-refs", strings.Join(refPaths, "\n"))
	b.click("#separate-start")
	b.waitFor("scores", `!document.getElementById("scores").hidden`)
	b.waitFor("players and spectrograms", `[...document.querySelectorAll("#separate-results audio")].every(a => a.readyState >= 1) &&
		[...document.querySelectorAll("#separate-results img")].every(i => i.complete && i.naturalWidth > 0)`)
	var shown struct {
		Figures []string
		Scores  [][]string
	}
	b.run(&shown, `return {
		figures: [...document.querySelectorAll("#separate-results figure")].map(f => f.dataset.source + " " + f.querySelectorAll("audio").length + " " + f.querySelectorAll("img").length),
		scores: [...document.querySelectorAll("#scores tbody tr")].map(r => [r.dataset.voice, ...[...r.cells].slice(1).map(c => c.textContent)])}`)
	if strings.Join(shown.Figures, ",") != "mixture 1 1,FA 1 1,MC 1 1" {
		t.Errorf("figures (source, players, spectrograms): %q", shown.Figures)
	}
	in, err := wav.Decode(bytes.NewReader(mix))
	b.must(err)
	ests, err := sp.Separate(in.Channels, in.Rate)
	b.must(err)
	for i := range ests {
		ests[i] = quantize16(ests[i]) // the estimates are 16-bit WAV, as the input
	}
	want, err := bsseval.Sources([][]float64{f32(sources[0]), f32(sources[1])}, ests, bsseval.Options{Permute: true})
	b.must(err)
	if len(shown.Scores) != 2 {
		t.Fatalf("scores shown: %q", shown.Scores)
	}
	for i, row := range shown.Scores {
		w := []string{[]string{"FA", "MC"}[want.Perm[i]], fmt.Sprintf("%.1f", want.SDR[i]), fmt.Sprintf("%.1f", want.SIR[i]), fmt.Sprintf("%.1f", want.SAR[i])}
		if strings.Join(row, " ") != strings.Join(w, " ") {
			t.Errorf("scores of reference %d: page shows %q, bsseval gives %q", i, row, w)
		}
	}
	t.Logf("page scores (voice, SDR, SIR, SAR): %q", shown.Scores)

	// Live from the fake microphone, which plays the mixture once.
	b.run(nil, `document.getElementById("live-model").value = "voices"`)
	b.click("#live-start")
	b.waitFor("the live stream's first message", `document.getElementById("live-info").textContent.includes("ms behind")`)
	mixSeconds := float64(len(sources[0]))/democorpus.Rate + 0.5
	b.waitFor("the mixture through the microphone", fmt.Sprintf(`live && live.sent.reduce((n, x) => n + x.length, 0) >= %g * live.rate`, mixSeconds))
	b.click("#live-stop")
	b.waitFor("the live voices", `document.querySelectorAll("#live-results figure audio").length === 3`)
	heard := b.audioOf("#live-results", "mixture")
	offline, err := sp.Separate(heard.Channels, heard.Rate)
	b.must(err)
	lv, err := sp.NewLive(heard.Rate)
	b.must(err)
	refs := alignReferences(t, heard.Mono(), sources, democorpus.Rate, heard.Rate)
	var live [][]float64
	for _, name := range []string{"FA", "MC"} {
		a := b.audioOf("#live-results", name)
		x := a.Mono()
		// The estimates are sample for sample the stream's, sent LatencySamples late.
		if a.Rate != lv.Rate() || len(x) != len(heard.Mono()) {
			t.Fatalf("live %s: %d samples at %d Hz; the mixture sent has %d at %d Hz", name, len(x), a.Rate, len(heard.Mono()), heard.Rate)
		}
		live = append(live, x)
	}
	liveScores, err := bsseval.Sources(refs, live, bsseval.Options{})
	b.must(err)
	offScores, err := bsseval.Sources(refs, offline, bsseval.Options{})
	b.must(err)
	for i, name := range []string{"FA", "MC"} {
		t.Logf("live %s: SDR %.2f dB; offline separation of the same %d samples at %d Hz: %.2f dB", name, liveScores.SDR[i], len(heard.Mono()), heard.Rate, offScores.SDR[i])
		if math.Abs(liveScores.SDR[i]-offScores.SDR[i]) > 1 {
			t.Errorf("live %s scores %.2f dB, offline %.2f dB: more than 1 dB apart", name, liveScores.SDR[i], offScores.SDR[i])
		}
	}

	// Enrol a speaker from the microphone (the fake one plays the mixture
	// again): about 2 s recorded, and the server counts the seconds sent.
	b.typeInto("#enrol-name", "Mic")
	b.click("#enrol-record")
	b.waitFor("2 s from the microphone", `recording && recording.blocks.reduce((n, x) => n + x.length, 0) >= 2 * recording.mic.ctx.sampleRate`)
	b.run(nil, `window.recorded = recording`) // its blocks are what the page sends
	b.click("#enrol-record")
	b.waitFor("speaker Mic", `document.querySelector('#speakers tr[data-speaker="Mic"]')`)
	var rec struct {
		Samples int
		Rate    float64
		Peak    float64
		Shown   string
	}
	b.run(&rec, `const r = window.recorded;
		return {samples: r.blocks.reduce((n, x) => n + x.length, 0), rate: r.mic.ctx.sampleRate,
			peak: r.blocks.reduce((m, x) => x.reduce((m, v) => Math.max(m, Math.abs(v)), m), 0),
			shown: document.querySelector('#speakers tr[data-speaker="Mic"] .seconds').textContent}`)
	recorded := float64(rec.Samples) / rec.Rate
	if recorded < 2 || rec.Peak < 0.01 {
		t.Errorf("recorded from the microphone: %.2f s at %g Hz, peak %.3g; want 2 s or more of sound", recorded, rec.Rate, rec.Peak)
	}
	list, err := srv.speakers()
	b.must(err)
	var mic *SpeakerInfo
	for _, sp := range list {
		if sp.Name == "Mic" {
			mic = sp
		}
	}
	if mic == nil || mic.Files != 1 || math.Abs(mic.Seconds-recorded) > 1/rec.Rate {
		t.Errorf("the server's speaker Mic: %+v; the page recorded %.4f s", mic, recorded)
	} else if rec.Shown != fmt.Sprintf("%.1f", mic.Seconds) {
		t.Errorf("the page shows %q s for Mic; the server has %.2f", rec.Shown, mic.Seconds)
	}
	t.Logf("enrolled from the microphone: %.2f s at %g Hz (peak %.2f)", recorded, rec.Rate, rec.Peak)

	// Usable from the keyboard: every control is a native one with a name
	// a screen reader says, and none is taken out of the tab order.
	var unnamed []string
	b.run(&unnamed, `return [...document.querySelectorAll("input, select, button, textarea")].filter(e =>
		!(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim() || e.tabIndex < 0).map(e => e.outerHTML.slice(0, 80))`)
	if len(unnamed) > 0 {
		t.Errorf("controls without a name or out of the tab order: %q", unnamed)
	}

	// Readable on a phone: at 375 px nothing is wider than the page.
	b.must(sess.Call(ctx, "POST", "/window/rect", map[string]int{"width": 375, "height": 800}, nil))
	var wide []string
	b.run(&wide, `const vw = document.documentElement.clientWidth;
		return [...document.querySelectorAll("body *")].filter(e => e.getClientRects().length && e.getBoundingClientRect().right > vw + 1).map(e => e.tagName + "#" + e.id)`)
	if len(wide) > 0 {
		t.Errorf("at 375 px, wider than the page: %q", wide)
	}
	b.must(sess.Call(ctx, "POST", "/window/rect", map[string]int{"width": 1280, "height": 900}, nil))

	logs, err := sess.Log(ctx)
	b.must(err)
	for _, l := range logs {
		if l.Level == "SEVERE" {
			t.Errorf("console error: %s", l.Message)
		}
	}
}

// alignReferences returns the sources (at rate) as they sound in heard
// (at heardRate): resampled, and shifted by the delay at which the
// microphone's capture began, found where their mixture correlates best
// with what was heard.
func alignReferences(t *testing.T, heard []float64, sources [][]float64, rate, heardRate int) [][]float64 {
	t.Helper()
	var up [][]float64
	for _, s := range sources {
		r, err := resample.Resample(s, rate, heardRate)
		if err != nil {
			t.Fatal(err)
		}
		up = append(up, r)
	}
	mix := make([]float64, len(up[0]))
	for _, s := range up {
		for i, v := range s {
			mix[i] += v
		}
	}
	n := 1
	for n < len(heard)+len(mix) {
		n *= 2
	}
	plan := fft.NewReal(n)
	pad := func(x []float64) []float64 { y := make([]float64, n); copy(y, x); return y }
	H, M := plan.Forward(nil, pad(heard)), plan.Forward(nil, pad(mix))
	for k := range H {
		H[k] *= complex(real(M[k]), -imag(M[k]))
	}
	corr := plan.Inverse(nil, H) // corr[lag]: heard[t+lag] against mix[t]
	lag := 0
	for l := range len(heard) / 2 {
		if corr[l] > corr[lag] {
			lag = l
		}
	}
	refs := make([][]float64, len(up))
	for s := range up {
		refs[s] = make([]float64, len(heard))
		copy(refs[s][lag:], up[s])
	}
	t.Logf("the capture is %d samples behind the file (%.0f ms)", lag, 1000*float64(lag)/float64(heardRate))
	return refs
}

// quantize16 rounds samples to 16-bit PCM as wav.PCM16 writes them.
func quantize16(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = math.Round(max(-32768, min(32767, v*32768))) / 32768
	}
	return y
}
