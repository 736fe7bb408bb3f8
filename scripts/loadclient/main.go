// Command loadclient is the load generator of scripts/bench-serve.sh: it
// posts recordings to dlnmf serve's POST /v1/separate from -clients
// clients at once, each sending its next recording when the last one is
// answered, until -seconds have passed. It runs in one process over
// kept-alive connections, so that it takes little of the machine it
// measures (forking curl for each request took a share of the cores the
// server and the command line compete for).
//
// It writes one line per request to -o: the status code (0 when the
// request failed), the seconds to the whole answer, and 1 when the answer
// had a Retry-After header (else 0). On standard output it prints one line
// of totals: "requests N ok N wall S cpu S", the wall time from the first
// request to the last answer and the client's own CPU seconds (user and
// system).
//
//	go run ./scripts/loadclient -url http://127.0.0.1:8080/ -model m -clients 4 -seconds 60 -o lines mix*.wav
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"syscall"
	"time"
)

func main() {
	base := flag.String("url", "", "the server's base URL, http://HOST:PORT/")
	model := flag.String("model", "", "the model to separate with")
	clients := flag.Int("clients", 4, "clients sending at once")
	seconds := flag.Float64("seconds", 60, "how long clients start new requests")
	out := flag.String("o", "", "file of one line per request (code, seconds, Retry-After)")
	backoff := flag.Duration("backoff", 200*time.Millisecond, "wait after an answer with Retry-After before the next request")
	token := flag.String("token", "", "bearer token, when the server has one")
	flag.Parse()
	if *base == "" || *model == "" || *out == "" || flag.NArg() == 0 || *clients < 1 || *seconds <= 0 {
		fmt.Fprintln(os.Stderr, "usage: loadclient -url URL -model M -o FILE [-clients N] [-seconds S] RECORDING.wav...")
		os.Exit(2)
	}
	var bodies [][]byte
	for _, p := range flag.Args() {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadclient:", err)
			os.Exit(1)
		}
		bodies = append(bodies, b)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadclient:", err)
		os.Exit(1)
	}
	target := *base + "v1/separate?model=" + url.QueryEscape(*model)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients, MaxConnsPerHost: *clients, DisableCompression: true}}

	var (
		mu    sync.Mutex
		w     = bufio.NewWriter(f)
		total int
		ok    int
		wg    sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(time.Duration(*seconds * float64(time.Second)))
	for c := range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; time.Now().Before(end); i++ {
				code, took, retry := post(client, target, *token, bodies[i%len(bodies)])
				mu.Lock()
				fmt.Fprintf(w, "%d %.4f %d\n", code, took.Seconds(), retry)
				total++
				if code == http.StatusOK {
					ok++
				}
				mu.Unlock()
				switch {
				case retry == 1:
					time.Sleep(*backoff)
				case code == 0:
					time.Sleep(100 * time.Millisecond) // the server is gone: do not spin
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadclient:", err)
		os.Exit(1)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("requests %d ok %d wall %.3f cpu %.3f\n", total, ok, wall.Seconds(), cpu.Seconds())
}

// post sends one recording and reads the whole answer: its status code (0
// when the request failed), the time it took, and 1 when it had
// Retry-After.
func post(client *http.Client, target, token string, body []byte) (code int, took time.Duration, retry int) {
	t0 := time.Now()
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, time.Since(t0), 0
	}
	req.Header.Set("Content-Type", "audio/wav")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, time.Since(t0), 0
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, time.Since(t0), 0
	}
	if resp.Header.Get("Retry-After") != "" {
		retry = 1
	}
	return resp.StatusCode, time.Since(t0), retry
}
