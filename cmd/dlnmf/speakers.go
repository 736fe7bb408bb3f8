package main

import (
	"strings"

	"github.com/dlnmf/dlnmf/corpus"
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
	if err := corpus.CheckPattern(v); err != nil {
		return err
	}
	*e = append(*e, v)
	return nil
}

// settings are the corpus.SpeakerSettings of one --speaker flag: NAME=DIR
// or NAME=@LIST.
func (sd speakerDir) settings(exclude excludeFlags, rate int) corpus.SpeakerSettings {
	s := corpus.SpeakerSettings{Name: sd.name, Dir: sd.dir, Exclude: exclude, Rate: rate}
	if list, ok := strings.CutPrefix(sd.dir, "@"); ok {
		s.Dir, s.List = "", list
	}
	return s
}

// loadSpeaker reads a speaker's files at the working rate
// (corpus.LoadSpeaker).
func loadSpeaker(sd speakerDir, exclude excludeFlags) (*corpus.Speaker, error) {
	return corpus.LoadSpeaker(sd.settings(exclude, 0))
}

// loadSpeakerAt is loadSpeaker at rate Hz.
func loadSpeakerAt(sd speakerDir, exclude excludeFlags, rate int) (*corpus.Speaker, error) {
	return corpus.LoadSpeaker(sd.settings(exclude, rate))
}
