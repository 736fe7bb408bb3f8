//go:build unix

package wav

import (
	"bytes"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDecodeFLAC decodes a minute of 48 kHz mono 16-bit audio through
// Reader and reports the seconds an hour of it takes, in wall-clock time
// ("s/hour") and in CPU time of the process ("cpu-s/hour", the figure that
// a loaded machine does not inflate). With DLNMF_FLAC_HOUR=path it decodes
// that file instead (for example an hour of speech encoded by Debian's
// flac, as an earlier measurement found).
func BenchmarkDecodeFLAC(b *testing.B) {
	var data []byte
	path := os.Getenv("DLNMF_FLAC_HOUR")
	if path == "" {
		data = flacBytes(b, [][]int32{speechLike(60*48000, 16, 1)}, 48000, 16, 4096)
	} else {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			b.Fatal(err)
		}
	}
	buf := make([]float64, 1<<14)
	var seconds float64
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuSeconds(b)
	for b.Loop() {
		rd, err := NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := rd.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		seconds = float64(rd.Frames()) / float64(rd.Rate())
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N)/seconds*3600, "s/hour")
	b.ReportMetric((cpuSeconds(b)-cpu0)/float64(b.N)/seconds*3600, "cpu-s/hour")
}

// cpuSeconds returns the user and system CPU time of the process so far.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
