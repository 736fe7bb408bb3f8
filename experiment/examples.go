package experiment

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/wav"
)

// Example audio of a first repeat is kept as 32-bit float WAV files beside
// its unit, so that a summary made later, or elsewhere, still shows and
// plays the examples.
type exampleIndex struct {
	Name    string   `json:"name"`
	Sources int      `json:"sources"`
	Rows    []string `json:"rows"`
}

func writeExamples(dir string, rate int, ex []Example) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var index []exampleIndex
	write := func(name string, x []float64) error {
		_, err := wav.WriteFile(filepath.Join(dir, name), x, rate, wav.Float32)
		return err
	}
	for j, e := range ex {
		idx := exampleIndex{Name: e.Name, Sources: len(e.Sources)}
		if err := write(fmt.Sprintf("e%d-mix.wav", j), e.Mixture); err != nil {
			return err
		}
		for i, s := range e.Sources {
			if err := write(fmt.Sprintf("e%d-src%d.wav", j, i), s); err != nil {
				return err
			}
		}
		for row := range e.Estimates {
			idx.Rows = append(idx.Rows, row)
		}
		sort.Strings(idx.Rows)
		for k, row := range idx.Rows {
			for i, s := range e.Estimates[row] {
				if err := write(fmt.Sprintf("e%d-row%d-est%d.wav", j, k, i), s); err != nil {
					return err
				}
			}
		}
		index = append(index, idx)
	}
	b, err := json.Marshal(index)
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "index.json"), b)
}

func readExamples(dir string) []Example {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil
	}
	var index []exampleIndex
	if json.Unmarshal(b, &index) != nil {
		return nil
	}
	read := func(name string) []float64 {
		a, err := wav.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil
		}
		return a.Mono()
	}
	var out []Example
	for j, idx := range index {
		e := Example{Name: idx.Name, Mixture: read(fmt.Sprintf("e%d-mix.wav", j)), Estimates: map[string][][]float64{}}
		for i := range idx.Sources {
			e.Sources = append(e.Sources, read(fmt.Sprintf("e%d-src%d.wav", j, i)))
		}
		for k, row := range idx.Rows {
			for i := range idx.Sources {
				e.Estimates[row] = append(e.Estimates[row], read(fmt.Sprintf("e%d-row%d-est%d.wav", j, k, i)))
			}
		}
		if e.Mixture == nil {
			return nil
		}
		out = append(out, e)
	}
	return out
}
