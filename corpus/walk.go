package corpus

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// AudioFiles lists the audio files under dir as LoadDir reads them: paths
// relative to dir, slash-separated, in LoadDir's order.
func AudioFiles(dir string) ([]string, error) {
	var paths []string
	var walk func(rel string) error
	walk = func(rel string) error {
		entries, err := os.ReadDir(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			p := path.Join(rel, e.Name())
			switch {
			case e.IsDir():
				if err := walk(p); err != nil {
					return err
				}
			case isAudio(e.Name()):
				paths = append(paths, p)
			}
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	sort.Strings(paths)
	have := make(map[string]bool, len(paths))
	for _, p := range paths {
		have[p] = true
	}
	kept := paths[:0]
	for _, p := range paths {
		ext := path.Ext(p)
		if stem := strings.TrimSuffix(p, ext); strings.HasSuffix(stem, "_mic2") {
			twin := strings.TrimSuffix(stem, "_mic2") + "_mic1"
			if have[twin+".flac"] || have[twin+".wav"] || have[twin+ext] {
				continue
			}
		}
		kept = append(kept, p)
	}
	return kept, nil
}

func isAudio(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".wav" || ext == ".flac"
}
