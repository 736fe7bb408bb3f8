package democorpus

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/dlnmf/dlnmf/wav"
)

func TestSpeakers(t *testing.T) {
	sp := Speakers()
	if len(sp) != 2 || sp[0].Name != "male" || sp[1].Name != "female" {
		t.Fatalf("speakers = %v, want male and female", names(sp))
	}
	total := 0
	for _, s := range sp {
		if len(s.Files) != 24 {
			t.Errorf("%s: %d files, want 24", s.Name, len(s.Files))
		}
		for i, f := range s.Files {
			if want := fmt.Sprintf("%02d.wav", i+1); f.Name != want {
				t.Errorf("%s: file %d is %q, want %q", s.Name, i, f.Name, want)
			}
			checkHeader(t, s.Name+"/"+f.Name, f.Data)
			total += len(f.Data)
		}
	}
	if total > 8<<20 {
		t.Errorf("corpus is %d bytes; it should stay a few MB", total)
	}
}

// checkHeader checks the canonical 44-byte header that sox writes: PCM,
// mono, 16 kHz, 16 bits, and at least a second of audio.
func checkHeader(t *testing.T, name string, b []byte) {
	t.Helper()
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" || string(b[12:16]) != "fmt " {
		t.Errorf("%s: not a canonical RIFF/WAVE file", name)
		return
	}
	le := binary.LittleEndian
	format, channels, rate, bits := le.Uint16(b[20:]), le.Uint16(b[22:]), le.Uint32(b[24:]), le.Uint16(b[34:])
	if format != 1 || channels != 1 || rate != Rate || bits != 16 {
		t.Errorf("%s: format %d, %d channels, %d Hz, %d bits; want PCM mono 16 kHz 16-bit", name, format, channels, rate, bits)
	}
	if len(b) < 44+2*Rate {
		t.Errorf("%s: only %d bytes, less than a second", name, len(b))
	}
}

func names(sp []Speaker) []string {
	var n []string
	for _, s := range sp {
		n = append(n, s.Name)
	}
	return n
}

// TestDecode reads every file with package wav, as the demo does, and checks
// their length and level.
func TestDecode(t *testing.T) {
	var total float64
	for _, s := range Speakers() {
		for _, f := range s.Files {
			a, err := wav.Decode(bytes.NewReader(f.Data))
			if err != nil {
				t.Fatalf("%s/%s: %v", s.Name, f.Name, err)
			}
			if a.Rate != Rate || len(a.Channels) != 1 {
				t.Errorf("%s/%s: %d Hz, %d channels", s.Name, f.Name, a.Rate, len(a.Channels))
			}
			if sec := a.Seconds(); sec < 1 || sec > 6 {
				t.Errorf("%s/%s: %.2f s, want a sentence (1 to 6 s)", s.Name, f.Name, sec)
			}
			peak := 0.0
			for _, v := range a.Channels[0] {
				peak = math.Max(peak, math.Abs(v))
			}
			// Normalised to -3 dBFS by the generator script.
			if db := 20 * math.Log10(peak); math.Abs(db+3) > 0.1 {
				t.Errorf("%s/%s: peak %.2f dBFS, want -3", s.Name, f.Name, db)
			}
			total += a.Seconds()
		}
	}
	t.Logf("%.1f s of speech in all", total)
}
