package server

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// LiveHello is the first message of a live stream: the sources, in the
// order of the index that starts each binary frame the server sends, the
// estimates' rate, and the latency the separation adds (recording.Live's),
// network aside.
type LiveHello struct {
	Sources   []string `json:"sources"`
	Rate      int      `json:"rate"`
	LatencyMS float64  `json:"latency_ms"`
}

// Live stream protocol limits.
const (
	liveMaxFrame = 1 << 20 // bytes of one binary frame the client sends
	liveEnd      = "end"   // the text message that ends the stream
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1 << 14,
	WriteBufferSize: 1 << 14,
	// The page is served by this server; another origin needs --cors.
	CheckOrigin: nil,
}

// liveStream separates a stream over a WebSocket: binary frames of
// float32 little-endian mono PCM at rate in; binary frames out, each one
// byte of source index and float32 PCM. The text message "end" finishes the
// stream (the rest of each estimate is sent, then a normal close). Anything
// else, or nothing for LiveIdle, closes it with a reason.
func (srv *Server) liveStream(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	inf, err := inferenceParams(q)
	if err != nil {
		return err
	}
	sp, err := srv.models.separator(q.Get("model"), "", inf)
	if err != nil {
		return err
	}
	rate, err := strconv.Atoi(q.Get("rate"))
	if err != nil || rate <= 0 {
		return errorf(http.StatusBadRequest, "rate: give the stream's sample rate in Hz (rate=%q)", q.Get("rate"))
	}
	live, err := sp.NewLive(rate)
	if err != nil {
		return errorf(http.StatusBadRequest, "%v", err)
	}
	if !websocket.IsWebSocketUpgrade(r) {
		return errorf(http.StatusBadRequest, "this route is a WebSocket: send an upgrade request")
	}
	select {
	case srv.live <- struct{}{}:
		defer func() { <-srv.live }()
	default:
		return &apiError{code: http.StatusTooManyRequests, kind: "queue_full", retryAfter: 5,
			msg: fmt.Sprintf("%d live streams are open, the most this server takes", cap(srv.live))}
	}
	up := upgrader
	if srv.s.CORSOrigin != "" {
		up.CheckOrigin = func(r *http.Request) bool {
			o := r.Header.Get("Origin")
			return o == "" || o == srv.s.CORSOrigin || sameOrigin(r)
		}
	}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return nil // the upgrader has answered
	}
	defer conn.Close()
	closeWith := func(code int, reason string) {
		if len(reason) > 120 {
			reason = reason[:120]
		}
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	}
	if err := conn.WriteJSON(LiveHello{Sources: sp.Sources(), Rate: live.Rate(), LatencyMS: float64(live.Latency()) / float64(time.Millisecond)}); err != nil {
		return nil
	}
	var out []byte
	sink := func(source int, y []float64) error {
		out = append(out[:0], byte(source))
		for _, v := range y {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(v)))
		}
		conn.SetWriteDeadline(time.Now().Add(srv.s.LiveIdle))
		return conn.WriteMessage(websocket.BinaryMessage, out)
	}
	var x []float64
	var msg []byte
	samples := 0
	defer func() { srv.metrics.separated(float64(samples) / float64(rate)) }()
	for {
		conn.SetReadDeadline(time.Now().Add(srv.s.LiveIdle))
		kind, m, err := readMessage(conn, msg[:0])
		msg = m
		if err != nil {
			var ne interface{ Timeout() bool }
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				srv.metrics.error("live_stalled")
				closeWith(websocket.ClosePolicyViolation, fmt.Sprintf("no audio for %s: stream closed", srv.s.LiveIdle))
			case errors.Is(err, errFrameTooLarge):
				srv.metrics.error("too_large")
				closeWith(websocket.CloseMessageTooBig, fmt.Sprintf("a frame is larger than %d bytes", liveMaxFrame))
			}
			return nil
		}
		if kind == websocket.TextMessage {
			if string(msg) != liveEnd {
				srv.metrics.error("bad_input")
				closeWith(websocket.CloseUnsupportedData, `text messages other than "end" are not understood: send binary float32 PCM`)
				return nil
			}
			if err := live.Finish(sink); err != nil {
				closeWith(websocket.CloseNormalClosure, oneLine(err))
				return nil
			}
			closeWith(websocket.CloseNormalClosure, "end of stream")
			return nil
		}
		if len(msg)%4 != 0 {
			srv.metrics.error("bad_input")
			closeWith(websocket.CloseUnsupportedData, fmt.Sprintf("a binary frame of %d bytes is not float32 PCM (a multiple of 4 bytes)", len(msg)))
			return nil
		}
		x = x[:0]
		for i := 0; i < len(msg); i += 4 {
			v := float64(math.Float32frombits(binary.LittleEndian.Uint32(msg[i:])))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				srv.metrics.error("bad_input")
				closeWith(websocket.CloseUnsupportedData, "the stream holds NaN or infinite samples")
				return nil
			}
			x = append(x, v)
		}
		samples += len(x)
		if err := live.Push(x, sink); err != nil {
			closeWith(websocket.CloseInternalServerErr, oneLine(err))
			return nil
		}
	}
}

var errFrameTooLarge = fmt.Errorf("a frame is larger than %d bytes", liveMaxFrame)

// readMessage reads the next message into buf, up to liveMaxFrame bytes.
// The connection's own read limit would close a larger one without a
// reason; this lets the stream's end say why.
func readMessage(conn *websocket.Conn, buf []byte) (int, []byte, error) {
	kind, r, err := conn.NextReader()
	if err != nil {
		return 0, nil, err
	}
	b := bytes.NewBuffer(buf)
	n, err := b.ReadFrom(io.LimitReader(r, liveMaxFrame+1))
	if err == nil && n > liveMaxFrame {
		err = errFrameTooLarge
	}
	return kind, b.Bytes(), err
}

func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	return o == "http://"+r.Host || o == "https://"+r.Host
}
