package democorpus

import (
	"embed"
	"io/fs"
	"path"
	"sort"
)

//go:embed tsp/FA/*.flac tsp/MC/*.flac
var files embed.FS

// Rate is the sample rate of every file in the corpus, in Hz.
const Rate = 16000

// Speaker is one speaker of the corpus and its recordings.
type Speaker struct {
	Name  string // the TSP speaker: "FA" or "MC"
	Files []File // in name order: FA01_01.flac, FA01_02.flac, ...
}

// File is one recording: a complete FLAC file.
type File struct {
	Name string // base name, e.g. "FA01_01.flac"
	Data []byte // the file's bytes; shared, do not modify
}

// speakerNames fixes the order of Speakers: the paper's.
var speakerNames = []string{"FA", "MC"}

// Speakers returns the corpus's speakers in a fixed order, each with its
// files sorted by name. The File data are shared with the embedded copy and
// must not be modified.
func Speakers() []Speaker {
	out := make([]Speaker, 0, len(speakerNames))
	for _, name := range speakerNames {
		dir := path.Join("tsp", name)
		entries, err := fs.ReadDir(files, dir)
		if err != nil {
			panic("democorpus: embedded directory missing: " + dir)
		}
		sp := Speaker{Name: name}
		for _, e := range entries {
			data, err := files.ReadFile(path.Join(dir, e.Name()))
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
