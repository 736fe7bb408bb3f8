package corpus

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlnmf/dlnmf/internal/sharedcorpus"
	"github.com/dlnmf/dlnmf/wav"
)

func TestExcluded(t *testing.T) {
	patterns := []string{"FA01_*", "sub/*.flac"}
	for rel, want := range map[string]bool{
		"FA01_03.wav": true, "x/FA01_03.wav": true, "FA02_01.wav": false,
		"sub/a.flac": true, "sub/a.wav": false, "other/sub/a.flac": false,
	} {
		if got := excluded(patterns, rel); got != want {
			t.Errorf("excluded(%q) = %v, want %v", rel, got, want)
		}
	}
	if excluded(nil, "a.wav") {
		t.Error("no pattern excludes a file")
	}
	if CheckPattern("[x") == nil || CheckPattern("FA0[1-3]_*") != nil {
		t.Error("CheckPattern")
	}
}

func names(files []File) string {
	var out []string
	for _, f := range files {
		out = append(out, f.Name+"="+filepath.Base(f.Path))
	}
	return strings.Join(out, " ")
}

func TestSpeakerFiles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "low")
	for _, p := range []string{"a1.wav", "a2.wav", "b1.flac", "sub/a3.wav", "notes.txt"} {
		writeTone(t, filepath.Join(dir, p), 440)
	}
	files, err := SpeakerFiles(SpeakerSettings{Name: "low", Dir: dir, Exclude: []string{"a2*", "sub/*"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(files), "a1=a1.wav b1=b1.flac"; got != want {
		t.Errorf("folder: %s, want %s", got, want)
	}
	if files[0].Path != filepath.Join(dir, "a1.wav") {
		t.Errorf("path %s", files[0].Path)
	}

	lists := filepath.Join(root, "lists")
	os.MkdirAll(lists, 0o755)
	list := filepath.Join(lists, "low.txt")
	abs := filepath.Join(dir, "sub", "a3.wav")
	os.WriteFile(list, []byte("# held out: a2\n../low/a1.wav\n\n  ../low/b1.flac  \n"+abs+"\n../low/a2.wav\n"), 0o644)
	files, err = SpeakerFiles(SpeakerSettings{Name: "low", List: list, Exclude: []string{"../low/a2.wav"}})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	want := []string{filepath.Join(dir, "a1.wav"), filepath.Join(dir, "b1.flac"), abs}
	if strings.Join(paths, " ") != strings.Join(want, " ") || files[0].Name != "" {
		t.Errorf("list: %q, want %q (unnamed: the file name names them)", paths, want)
	}
	if got, err := ReadList(list); err != nil || len(got) != 4 || got[0] != want[0] || got[2] != abs {
		t.Errorf("ReadList: %q, %v", got, err)
	}

	empty := filepath.Join(lists, "empty.txt")
	os.WriteFile(empty, []byte("# nothing\n\n"), 0o644)
	for _, c := range []struct {
		s    SpeakerSettings
		want []string
	}{
		{SpeakerSettings{Name: "low", List: empty}, []string{"speaker low", "empty.txt names no files"}},
		{SpeakerSettings{Name: "low", List: filepath.Join(lists, "missing.txt")}, []string{"speaker low", "missing.txt"}},
		{SpeakerSettings{Name: "low", List: list, Exclude: []string{"*"}}, []string{"speaker low", "no files left in " + list, "excluding *"}},
		{SpeakerSettings{Name: "low", Dir: dir, Exclude: []string{"a*", "b*"}}, []string{"no files left in " + dir, "excluding a* b*"}},
		{SpeakerSettings{Name: "low", Dir: root + "/none"}, []string{"speaker low", "none"}},
		{SpeakerSettings{Name: "low", Dir: lists}, []string{"no .wav or .flac files in " + lists}},
		{SpeakerSettings{Name: "low", Dir: dir, Exclude: []string{"[x"}}, []string{"bad pattern"}},
		{SpeakerSettings{Name: "low", Dir: dir, List: list}, []string{"one of the two"}},
		{SpeakerSettings{Name: "low"}, []string{"one of the two"}},
	} {
		_, err := SpeakerFiles(c.s)
		if err == nil {
			t.Errorf("%+v: no error", c.s)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %v, want %q", c.s, err, w)
			}
		}
	}
}

func TestLoadSpeaker(t *testing.T) {
	dir := t.TempDir()
	writeTone(t, filepath.Join(dir, "a.wav"), 440) // 1600 samples at 16 kHz
	writeTone(t, filepath.Join(dir, "b.flac"), 660)
	sp, err := LoadSpeaker(SpeakerSettings{Name: "s", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if sp.Name != "s" || len(sp.Utterances) != 2 || sp.Utterances[1].Name != "b" || len(sp.Utterances[0].Samples) != 1600 {
		t.Fatalf("%+v", sp)
	}
	at8k, err := LoadSpeaker(SpeakerSettings{Name: "s", Dir: dir, Rate: 8000, Exclude: []string{"b.*"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(at8k.Utterances) != 1 || len(at8k.Utterances[0].Samples) != 800 {
		t.Errorf("at 8 kHz without b: %d utterances, %d samples", len(at8k.Utterances), len(at8k.Utterances[0].Samples))
	}
	silent := filepath.Join(dir, "sub", "quiet.wav")
	os.MkdirAll(filepath.Dir(silent), 0o755)
	if _, err := wav.WriteFile(silent, make([]float64, 1600), 16000, wav.PCM16); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSpeaker(SpeakerSettings{Name: "s", Dir: dir}); err == nil || !strings.Contains(err.Error(), "speaker s: "+silent+": ") || !strings.Contains(err.Error(), "silent") {
		t.Errorf("a silent file: %v", err)
	}
	if sp, err := LoadDir("s", dir, 16000); err != nil || len(sp.Utterances) != 3 {
		t.Errorf("LoadDir does not check samples: %v", err)
	}
}

// The real corpus: a speaker's folder less the sentences held out by a
// pattern, resampled from 48 kHz.
func TestLoadSpeakerTSPExcluding(t *testing.T) {
	dir := sharedcorpus.Require(t, "tsp", "FA")
	all, err := SpeakerFiles(SpeakerSettings{Name: "FA", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := LoadSpeaker(SpeakerSettings{Name: "FA", Dir: dir, Exclude: []string{"FA0[2-9]_*", "FA1*", "FA01_0[3-9]*", "FA01_1*"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 60 || len(sp.Utterances) != 2 || sp.Utterances[0].Name != "FA01_01" || sp.Utterances[1].Name != "FA01_02" {
		t.Fatalf("%d files; kept %d", len(all), len(sp.Utterances))
	}
	a, err := wav.ReadFile(filepath.Join(dir, "FA01_01.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if want := len(a.Mono()) * 16000 / a.Rate; abs(len(sp.Utterances[0].Samples)-want) > 1 {
		t.Errorf("%d samples at 16 kHz from %d at %d Hz", len(sp.Utterances[0].Samples), len(a.Mono()), a.Rate)
	}
}

func abs(n int) int { return max(n, -n) }
