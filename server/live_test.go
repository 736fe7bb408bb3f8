package server

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dlnmf/dlnmf/democorpus"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

func dialLive(t *testing.T, base, query string) *websocket.Conn {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/v1/live?"+query, nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func float32Frame(x []float64) []byte {
	b := make([]byte, 0, 4*len(x))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
	}
	return b
}

// TestLiveMatchesRecording: the stream's estimates are recording.Live's
// for the same float32 samples pushed in the same blocks, sample for
// sample (as float32), and the first message states its latency.
func TestLiveMatchesRecording(t *testing.T) {
	_, ts := newTestServer(t, Settings{})
	mix, _ := heldOutMixture(t, 2)
	a, err := wav.Decode(bytes.NewReader(mix))
	if err != nil {
		t.Fatal(err)
	}
	x := f32(a.Mono())
	const block = 1600

	m, err := separation.Decode(bytes.NewReader(testModelBytes(t)), int64(len(testModelBytes(t))))
	if err != nil {
		t.Fatal(err)
	}
	// Every bin, and 32 mel-spaced bands (the bytes of separate --bands 32).
	for _, bands := range []int{0, 32} {
		sp, err := recording.New(m, recording.Settings{Separation: separation.SeparateSettings{Bands: bands}})
		if err != nil {
			t.Fatal(err)
		}
		live, err := sp.NewLive(democorpus.Rate)
		if err != nil {
			t.Fatal(err)
		}
		want := make([][]float64, 2)
		sink := func(s int, y []float64) error { want[s] = append(want[s], y...); return nil }
		for i := 0; i < len(x); i += block {
			if err := live.Push(x[i:min(i+block, len(x))], sink); err != nil {
				t.Fatal(err)
			}
		}
		if err := live.Finish(sink); err != nil {
			t.Fatal(err)
		}

		conn := dialLive(t, ts.URL, fmt.Sprintf("model=famc&rate=16000&bands=%d", bands))
		var hello LiveHello
		if err := conn.ReadJSON(&hello); err != nil {
			t.Fatal(err)
		}
		if len(hello.Sources) != 2 || hello.Sources[0] != "FA" || hello.Rate != democorpus.Rate ||
			hello.LatencyMS != float64(live.Latency())/float64(time.Millisecond) || hello.LatencyMS <= 0 {
			t.Fatalf("hello %+v; recording.Live's latency %s", hello, live.Latency())
		}
		go func() {
			for i := 0; i < len(x); i += block {
				conn.WriteMessage(websocket.BinaryMessage, float32Frame(x[i:min(i+block, len(x))]))
			}
			conn.WriteMessage(websocket.TextMessage, []byte(liveEnd))
		}()
		got := make([][]float64, 2)
		for {
			kind, msg, err := conn.ReadMessage()
			if err != nil {
				if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
					t.Fatalf("stream ended with %v", err)
				}
				break
			}
			if kind != websocket.BinaryMessage || len(msg)%4 != 1 || int(msg[0]) >= 2 {
				t.Fatalf("message of kind %d, %d bytes", kind, len(msg))
			}
			for i := 1; i < len(msg); i += 4 {
				got[msg[0]] = append(got[msg[0]], float64(math.Float32frombits(binary.LittleEndian.Uint32(msg[i:]))))
			}
		}
		for s := range want {
			if len(got[s]) != len(want[s]) || len(got[s]) < len(x) {
				t.Fatalf("bands=%d source %d: %d samples, recording.Live gives %d (input %d)", bands, s, len(got[s]), len(want[s]), len(x))
			}
			for i := range got[s] {
				if got[s][i] != float64(float32(want[s][i])) {
					t.Fatalf("bands=%d source %d sample %d: %g, recording.Live gives %g", bands, s, i, got[s][i], want[s][i])
				}
			}
		}
	}
}

// TestLiveBadStreams: garbage, or nothing, closes the stream with a code
// and a reason; the server goes on serving.
func TestLiveBadStreams(t *testing.T) {
	_, ts := newTestServer(t, Settings{LiveIdle: 200 * time.Millisecond})
	for _, c := range []struct {
		what   string
		send   func(*websocket.Conn)
		code   int
		reason string
	}{
		{"text", func(c *websocket.Conn) { c.WriteMessage(websocket.TextMessage, []byte("hello")) }, websocket.CloseUnsupportedData, "binary float32"},
		{"odd bytes", func(c *websocket.Conn) { c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}) }, websocket.CloseUnsupportedData, "multiple of 4"},
		{"NaN", func(c *websocket.Conn) {
			c.WriteMessage(websocket.BinaryMessage, float32Frame([]float64{0, math.NaN()}))
		}, websocket.CloseUnsupportedData, "NaN"},
		{"huge frame", func(c *websocket.Conn) { c.WriteMessage(websocket.BinaryMessage, make([]byte, liveMaxFrame+4)) }, websocket.CloseMessageTooBig, "larger than"},
		{"stall", func(c *websocket.Conn) {}, websocket.ClosePolicyViolation, "no audio for 200ms"},
		{"stall after audio", func(c *websocket.Conn) {
			c.WriteMessage(websocket.BinaryMessage, float32Frame(make([]float64, 800)))
		}, websocket.ClosePolicyViolation, "no audio"},
	} {
		conn := dialLive(t, ts.URL, "model=famc&rate=16000")
		var hello LiveHello
		if err := conn.ReadJSON(&hello); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		c.send(conn)
		for {
			_, _, err := conn.ReadMessage()
			if err == nil {
				continue // estimates of the audio sent
			}
			if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != c.code || !strings.Contains(ce.Text, c.reason) {
				t.Errorf("%s: closed with %v, want code %d and %q", c.what, err, c.code, c.reason)
			}
			break
		}
	}
	if code, _, _ := do(t, "GET", ts.URL+"/healthz", "", nil); code != http.StatusOK {
		t.Errorf("healthz after the bad streams: %d", code)
	}
	_, _, b := do(t, "GET", ts.URL+"/metrics", "", nil)
	if !bytes.Contains(b, []byte(`dlnmf_errors_total{kind="live_stalled"} 2`)) {
		t.Errorf("metrics do not count the stalls:\n%s", b)
	}
}
