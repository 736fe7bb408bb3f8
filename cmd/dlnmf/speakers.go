package main

import (
	"bufio"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/internal/inputfile"
	"github.com/dlnmf/dlnmf/separation"
)

// speakerHelp documents --speaker and --exclude for train and experiment.
const speakerHelp = `A speaker is NAME=DIR, every .wav and .flac file under the folder DIR (as
dlnmf reads folders: sorted by path, sub-folders included), or NAME=@LIST, the
files a text file LIST names, one a line (blank lines and lines starting
with # are skipped; a relative path is relative to LIST's folder). --exclude
GLOB leaves out every file whose name or path (relative to DIR, or as LIST
writes it) matches GLOB, in every speaker: --exclude 'FA01_*' holds out
FA01_01.wav ... without copying the others. Repeat it for more patterns.`

// excludeFlags collects repeated --exclude GLOB flags.
type excludeFlags []string

func (e *excludeFlags) String() string { return strings.Join(*e, " ") }

func (e *excludeFlags) Set(v string) error {
	if _, err := path.Match(v, ""); err != nil {
		return fmt.Errorf("bad pattern %q: %w", v, err)
	}
	*e = append(*e, v)
	return nil
}

// excluded reports whether a pattern matches the slash-separated path rel
// or its last element.
func (e excludeFlags) excluded(rel string) bool {
	for _, p := range e {
		if ok, _ := path.Match(p, rel); ok {
			return true
		}
		if ok, _ := path.Match(p, path.Base(rel)); ok {
			return true
		}
	}
	return false
}

// speakerFiles lists the files of one --speaker flag, less the excluded
// ones, in order.
func speakerFiles(sd speakerDir, exclude excludeFlags) ([]corpus.File, error) {
	var files []corpus.File
	if list, ok := strings.CutPrefix(sd.dir, "@"); ok {
		entries, err := readList(list)
		if err != nil {
			return nil, fmt.Errorf("speaker %s: %w", sd.name, err)
		}
		for _, e := range entries {
			if exclude.excluded(filepath.ToSlash(e)) {
				continue
			}
			p := e
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(list), p)
			}
			files = append(files, corpus.File{Path: p})
		}
	} else {
		rels, err := corpus.AudioFiles(sd.dir)
		if err != nil {
			return nil, fmt.Errorf("speaker %s: %w", sd.name, err)
		}
		for _, r := range rels {
			if !exclude.excluded(r) {
				files = append(files, corpus.File{Path: filepath.Join(sd.dir, r), Name: strings.TrimSuffix(r, path.Ext(r))})
			}
		}
		if len(rels) == 0 {
			return nil, fmt.Errorf("speaker %s: no .wav or .flac files in %s or its sub-folders", sd.name, sd.dir)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("speaker %s: no files left in %s after --exclude %s", sd.name, sd.dir, exclude.String())
	}
	return files, nil
}

// readList reads a file list: one path a line; blank lines and lines
// starting with # are skipped.
func readList(name string) ([]string, error) {
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
		return nil, fmt.Errorf("%s names no files", name)
	}
	return out, nil
}

// loadSpeaker reads a speaker's files at the working rate and rejects a
// silent file or one holding NaN or infinite samples, naming the file: the
// library only sees anonymous signals and could name just an index.
func loadSpeaker(sd speakerDir, exclude excludeFlags) (*corpus.Speaker, error) {
	return loadSpeakerAt(sd, exclude, separation.DefaultSampleRate)
}

// loadSpeakerAt is loadSpeaker at rate Hz.
func loadSpeakerAt(sd speakerDir, exclude excludeFlags, rate int) (*corpus.Speaker, error) {
	files, err := speakerFiles(sd, exclude)
	if err != nil {
		return nil, err
	}
	sp, err := corpus.Load(sd.name, files, rate)
	if err != nil {
		return nil, err
	}
	for _, u := range sp.Utterances {
		if err := separation.CheckSamples(u.Samples); err != nil {
			return nil, fmt.Errorf("speaker %s: %s: %w", sd.name, u.Path, err)
		}
	}
	return sp, nil
}
