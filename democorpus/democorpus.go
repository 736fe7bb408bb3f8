package democorpus

import (
	"embed"
	"io/fs"
	"path"
	"sort"
)

//go:embed male/*.wav female/*.wav
var files embed.FS

// Rate is the sample rate of every file in the corpus, in Hz.
const Rate = 16000

// Speaker is one voice of the corpus and its recordings.
type Speaker struct {
	Name  string // the directory name: "male" or "female"
	Files []File // in name order: 01.wav, 02.wav, ...
}

// File is one recording: a complete WAV file.
type File struct {
	Name string // base name, e.g. "01.wav"
	Data []byte // the WAV file's bytes; shared, do not modify
}

// speakerNames fixes the order of Speakers.
var speakerNames = []string{"male", "female"}

// Speakers returns the corpus's speakers in a fixed order, each with its
// files sorted by name. The File data are shared with the embedded copy and
// must not be modified.
func Speakers() []Speaker {
	out := make([]Speaker, 0, len(speakerNames))
	for _, name := range speakerNames {
		entries, err := fs.ReadDir(files, name)
		if err != nil {
			panic("democorpus: embedded directory missing: " + name)
		}
		sp := Speaker{Name: name}
		for _, e := range entries {
			data, err := files.ReadFile(path.Join(name, e.Name()))
			if err != nil {
				panic("democorpus: " + err.Error())
			}
			sp.Files = append(sp.Files, File{Name: e.Name(), Data: data})
		}
		sort.Slice(sp.Files, func(i, j int) bool { return sp.Files[i].Name < sp.Files[j].Name })
		out = append(out, sp)
	}
	return out
}
