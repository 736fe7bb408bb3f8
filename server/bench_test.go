package server

import (
	"bytes"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
)

// The server's cost per request is the difference between
// BenchmarkServeSeparate3s, a 3 s mixture posted to /v1/separate over a
// kept-alive connection and answered when separated, and
// BenchmarkRecordingSeparate3s, the same mixture through
// recording.Separator.SeparateFile into a folder, as a job (and dlnmf
// separate) runs it. The Parallel pair runs as many at once as there are
// cores, as the server's workers and dlnmf separate --jobs do.
//
//	go test ./server/ -run '^$' -bench Separate3s -benchtime 40x

func BenchmarkServeSeparate3s(b *testing.B) { benchServe(b, false) }

func BenchmarkServeSeparate3sParallel(b *testing.B) { benchServe(b, true) }

func BenchmarkRecordingSeparate3s(b *testing.B) { benchRecording(b, false) }

func BenchmarkRecordingSeparate3sParallel(b *testing.B) { benchRecording(b, true) }

func benchServe(b *testing.B, parallel bool) {
	_, ts := newTestServer(b, Settings{})
	mix, _ := heldOutMixture(b, 3)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	post := func() {
		resp, err := client.Post(ts.URL+"/v1/separate?model=famc", "audio/wav", bytes.NewReader(mix))
		if err != nil {
			b.Fatal(err)
		}
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%d %s", resp.StatusCode, body.Bytes())
		}
	}
	post() // the model's first load
	b.ResetTimer()
	run(b, parallel, post)
}

func benchRecording(b *testing.B, parallel bool) {
	model, err := separation.Decode(bytes.NewReader(testModelBytes(b)), int64(len(testModelBytes(b))))
	if err != nil {
		b.Fatal(err)
	}
	var s recording.Settings
	if parallel {
		s.Separation.NMF.Workers = 1 // as dlnmf separate --jobs N runs each file
	}
	sp, err := recording.New(model, s)
	if err != nil {
		b.Fatal(err)
	}
	mix, _ := heldOutMixture(b, 3)
	dir := b.TempDir()
	separate := func() {
		out, err := os.MkdirTemp(dir, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sp.SeparateFile(recording.Stdin, bytes.NewReader(mix), recording.Outputs{Dir: out}); err != nil {
			b.Fatal(err)
		}
		os.RemoveAll(out)
	}
	b.ResetTimer()
	run(b, parallel, separate)
}

// run calls f, which separates 3 s of audio, b.N times, one at a time or
// from GOMAXPROCS goroutines. It reports the seconds of audio separated
// per second and the process's CPU seconds per second of audio, which
// the machine's other load changes less than the wall time (for the
// server, the benchmark's client is in them too: a small part).
func run(b *testing.B, parallel bool, f func()) {
	cpu0 := cpuSeconds()
	if !parallel {
		for range b.N {
			f()
		}
	} else {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				f()
			}
		})
	}
	audio := 3 * float64(b.N)
	b.ReportMetric(audio/b.Elapsed().Seconds(), "audio-s/s")
	b.ReportMetric((cpuSeconds()-cpu0)/audio, "cpu-s/audio-s")
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
