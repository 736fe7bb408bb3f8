package corpus

import (
	"bufio"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/dlnmf/dlnmf/internal/inputfile"
	"github.com/dlnmf/dlnmf/separation"
)

// SpeakerSettings say where a speaker's recordings are: a folder (Dir) or
// a list file (List), one of the two, less the files Exclude names.
type SpeakerSettings struct {
	Name string
	// Dir is a folder: every .wav and .flac file under it, as AudioFiles
	// lists them (sorted by path, sub-folders included). An utterance is
	// named by its path relative to Dir, without the extension.
	Dir string
	// List is a text file naming the files, one a line (see ReadList). An
	// utterance is named by its file name without the extension.
	List string
	// Exclude leaves out every file whose slash-separated path (relative to
	// Dir, or as List writes it) or last element matches one of these
	// path.Match patterns: "FA01_*" holds out FA01_01.wav, FA01_02.wav ...
	Exclude []string
	// Rate is the working sample rate in Hz the files are resampled to
	// (0: separation.DefaultSampleRate).
	Rate int
}

// CheckPattern reports whether p is a pattern SpeakerSettings.Exclude
// accepts.
func CheckPattern(p string) error {
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("bad pattern %q: %w", p, err)
	}
	return nil
}

// excluded reports whether one of patterns matches the slash-separated
// path rel or its last element.
func excluded(patterns []string, rel string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, rel); ok {
			return true
		}
		if ok, _ := path.Match(p, path.Base(rel)); ok {
			return true
		}
	}
	return false
}

// SpeakerFiles lists the files of the speaker s describes, less the
// excluded ones, in order.
func SpeakerFiles(s SpeakerSettings) ([]File, error) {
	if (s.Dir == "") == (s.List == "") {
		return nil, fmt.Errorf("speaker %s: give a folder or a list file, one of the two", s.Name)
	}
	for _, p := range s.Exclude {
		if err := CheckPattern(p); err != nil {
			return nil, fmt.Errorf("speaker %s: %w", s.Name, err)
		}
	}
	var files []File
	where := s.Dir
	if s.List != "" {
		where = s.List
		entries, err := readEntries(s.List)
		if err != nil {
			return nil, fmt.Errorf("speaker %s: %w", s.Name, err)
		}
		for _, e := range entries {
			if !excluded(s.Exclude, filepath.ToSlash(e)) {
				files = append(files, File{Path: listPath(s.List, e)})
			}
		}
	} else {
		rels, err := AudioFiles(s.Dir)
		if err != nil {
			return nil, fmt.Errorf("speaker %s: %w", s.Name, err)
		}
		if len(rels) == 0 {
			return nil, fmt.Errorf("speaker %s: no .wav or .flac files in %s or its sub-folders", s.Name, s.Dir)
		}
		for _, r := range rels {
			if !excluded(s.Exclude, r) {
				files = append(files, File{Path: filepath.Join(s.Dir, r), Name: strings.TrimSuffix(r, path.Ext(r))})
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("speaker %s: no files left in %s after excluding %s", s.Name, where, strings.Join(s.Exclude, " "))
	}
	return files, nil
}

// LoadSpeaker reads the files of the speaker s describes as mono at its
// rate (Load), and rejects a silent file or one holding NaN or infinite
// samples, naming the file (separation.CheckSamples).
func LoadSpeaker(s SpeakerSettings) (*Speaker, error) {
	files, err := SpeakerFiles(s)
	if err != nil {
		return nil, err
	}
	rate := s.Rate
	if rate == 0 {
		rate = separation.DefaultSampleRate
	}
	sp, err := Load(s.Name, files, rate)
	if err != nil {
		return nil, err
	}
	for _, u := range sp.Utterances {
		if err := separation.CheckSamples(u.Samples); err != nil {
			return nil, fmt.Errorf("speaker %s: %s: %w", s.Name, u.Path, err)
		}
	}
	return sp, nil
}

// ReadList reads a list of files: one path a line, relative to the list's
// folder unless absolute; blank lines and lines starting with # are
// skipped, and so is the white space around a path. A list that names no
// file is an error.
func ReadList(name string) ([]string, error) {
	entries, err := readEntries(name)
	if err != nil {
		return nil, err
	}
	for i, e := range entries {
		entries[i] = listPath(name, e)
	}
	return entries, nil
}

// readEntries returns the paths a list writes, as it writes them.
func readEntries(name string) ([]string, error) {
	f, _, err := inputfile.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, errors.New(name + " names no files")
	}
	return out, nil
}

// listPath is the file that entry e of the list at list names.
func listPath(list, e string) string {
	if filepath.IsAbs(e) {
		return e
	}
	return filepath.Join(filepath.Dir(list), e)
}
