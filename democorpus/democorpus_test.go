package democorpus

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/internal/sharedcorpus"
	"github.com/dlnmf/dlnmf/resample"
	"github.com/dlnmf/dlnmf/wav"
)

// tspFiles are the TSP file names of each speaker: sentence lists and
// sentences as the corpus numbers them.
var tspFiles = map[string]struct {
	first   int     // first list number
	seconds float64 // total duration (../shared/corpus/tsp/SOURCE.md)
}{"FA": {1, 145.1}, "MC": {13, 130.2}}

// The corpus is the paper's two speakers, every file 16 kHz mono FLAC that
// package wav reads, of the durations the corpus gives, within the size
// limits of the repository (10 MB in all, no file over 5 MB).
func TestSpeakers(t *testing.T) {
	sp := Speakers()
	if len(sp) != 2 || sp[0].Name != "FA" || sp[1].Name != "MC" {
		t.Fatalf("speakers = %v, want FA and MC", names(sp))
	}
	total := 0
	for _, s := range sp {
		if len(s.Files) != 60 {
			t.Errorf("%s: %d files, want 60", s.Name, len(s.Files))
		}
		seconds := 0.0
		for i, f := range s.Files {
			want := fmt.Sprintf("%s%02d_%02d.flac", s.Name, tspFiles[s.Name].first+i/10, i%10+1)
			if f.Name != want {
				t.Errorf("%s: file %d is %q, want %q", s.Name, i, f.Name, want)
			}
			if !bytes.HasPrefix(f.Data, []byte("fLaC")) {
				t.Errorf("%s: not a FLAC file", f.Name)
			}
			if len(f.Data) > 5<<20 {
				t.Errorf("%s: %d bytes, over 5 MB", f.Name, len(f.Data))
			}
			total += len(f.Data)
			a, err := wav.Decode(bytes.NewReader(f.Data))
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			if a.Rate != Rate || len(a.Channels) != 1 {
				t.Errorf("%s: %d Hz, %d channels, want %d Hz mono", f.Name, a.Rate, len(a.Channels), Rate)
			}
			seconds += a.Seconds()
		}
		if want := tspFiles[s.Name].seconds; math.Abs(seconds-want) > 0.1 {
			t.Errorf("%s: %.2f s of speech, want %.1f s", s.Name, seconds, want)
		}
	}
	t.Logf("%d bytes in all", total)
	if total > 10<<20 {
		t.Errorf("the corpus is %d bytes, over 10 MB", total)
	}
}

// The credit and licence notice stay beside the files.
func TestLicenceNotice(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("tsp", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"P. Kabal", "TSP speech database", "McGill University, 2002", "Simplified BSD"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("tsp/README.md does not say %q", want)
		}
	}
}

// The files are the corpus's 48 kHz originals at 16 kHz: dlnmf's own
// resampler applied to an original gives the same signal within the
// difference of two good resamplers (their transition bands near 8 kHz
// differ: 52 to 62 dB apart) and 16-bit rounding. A gain change of 1% alone
// gives 40 dB; a shift by one sample or a wrong rate far less.
func TestMatchesOriginals(t *testing.T) {
	src := sharedcorpus.Require(t, "tsp")
	for _, s := range Speakers() {
		for _, f := range []File{s.Files[0], s.Files[len(s.Files)-1]} {
			orig, err := wav.ReadFile(filepath.Join(src, s.Name, strings.TrimSuffix(f.Name, ".flac")+".wav"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := resample.Resample(orig.Channels[0], orig.Rate, Rate)
			if err != nil {
				t.Fatal(err)
			}
			a, err := wav.Decode(bytes.NewReader(f.Data))
			if err != nil {
				t.Fatal(err)
			}
			// sox rounds the length down, dlnmf up: they may differ by a sample.
			got := a.Channels[0]
			if d := len(got) - len(want); d < -1 || d > 1 {
				t.Fatalf("%s: %d samples, want %d", f.Name, len(got), len(want))
			}
			var sig, diff float64
			for i := range min(len(got), len(want)) {
				sig += want[i] * want[i]
				diff += (got[i] - want[i]) * (got[i] - want[i])
			}
			snr := 10 * math.Log10(sig/diff)
			t.Logf("%s: %.1f dB signal to difference", f.Name, snr)
			if snr < 45 {
				t.Errorf("%s: %.1f dB signal to difference against the resampled original, want at least 45", f.Name, snr)
			}
		}
	}
}

func names(sp []Speaker) []string {
	var n []string
	for _, s := range sp {
		n = append(n, s.Name)
	}
	return n
}
