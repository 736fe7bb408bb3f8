package corpus

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/wav"
)

// writeTone writes a short tone at path as WAV or FLAC, by its extension.
func writeTone(t *testing.T, p string, freq float64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	x := make([]float64, 1600)
	for i := range x {
		x[i] = 0.3 * math.Sin(2*math.Pi*freq*float64(i)/16000)
	}
	f := wav.WAV
	if filepath.Ext(p) == ".flac" {
		f = wav.FLAC
	}
	w, err := wav.CreateFormat(p, f, 16000, wav.PCM16, len(x))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(x); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDirWalksLibriSpeechAndVCTKLayouts(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{
		"1240/103-1240-0001.flac", "1240/103-1240-0000.flac", "5678/103-5678-0000.FLAC",
		"vctk/p225_001_mic1.flac", "vctk/p225_001_mic2.flac", "vctk/p225_002_mic2.flac",
		"top.wav", ".hidden.wav", ".git/inside.wav", "1240/._103-1240-0000.flac",
	} {
		writeTone(t, filepath.Join(dir, p), 440)
	}
	if err := os.WriteFile(filepath.Join(dir, "1240", "103-1240.trans.txt"), []byte("text"), 0o644); err != nil {
		t.Fatal(err)
	}
	sp, err := LoadDir("103", dir, 16000)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range sp.Utterances {
		names = append(names, u.Name)
		if len(u.Samples) != 1600 {
			t.Errorf("%s: %d samples", u.Name, len(u.Samples))
		}
	}
	want := []string{"1240/103-1240-0000", "1240/103-1240-0001", "5678/103-5678-0000", "top", "vctk/p225_001_mic1", "vctk/p225_002_mic2"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("utterances %q, want %q", names, want)
	}
	if _, err := LoadDir("empty", t.TempDir(), 16000); err == nil || !strings.Contains(err.Error(), "no .wav or .flac files") {
		t.Errorf("empty folder: %v", err)
	}
}
