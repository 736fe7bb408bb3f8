package corpus_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/wav"
)

// Two speakers who read the same prompt list: DiscMixtures pairs their
// held-back utterances in order, except that the same sentence is never
// said by both at once (b's "s1" trades places with its next utterance).
// The result goes to separation.Train as its discriminative mixtures.
func ExampleDiscMixtures() {
	utt := func(name string, x ...float64) corpus.Utterance { return corpus.Utterance{Name: name, Samples: x} }
	a := []corpus.Utterance{utt("s1", 1, 2, 3), utt("s2", 2, 1, 0.5)}
	b := []corpus.Utterance{utt("s1", 4, 0, 2), utt("s7", 1, 1, 1)}
	pairs, _ := corpus.Pair([][]corpus.Utterance{a, b}, 0)
	for _, p := range pairs {
		fmt.Println(p.Name())
	}
	disc, err := corpus.DiscMixtures([][]corpus.Utterance{a, b}, 0, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d mixtures of %d sources, %d samples each\n", len(disc), len(disc[0].Sources), len(disc[0].Mixture))
	// Output:
	// s1+s7
	// s2+s1
	// 2 mixtures of 2 sources, 3 samples each
}

// A speaker's folder, less a held-out sentence, at the working rate: the
// speakers dlnmf train --speaker NAME=DIR --exclude GLOB reads.
func ExampleLoadSpeaker() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	tone := make([]float64, 4800) // 0.1 s at 48 kHz
	for i := range tone {
		tone[i] = 0.3 * math.Sin(2*math.Pi*440*float64(i)/48000)
	}
	for _, name := range []string{"FA01_01.wav", "FA01_02.wav", "day2/FA02_01.flac"} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if _, err := wav.WriteFile(p, tone, 48000, wav.PCM16); err != nil {
			fmt.Println(err)
			return
		}
	}
	sp, err := corpus.LoadSpeaker(corpus.SpeakerSettings{Name: "FA", Dir: dir, Exclude: []string{"FA01_02*"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, u := range sp.Utterances {
		fmt.Printf("%s: %d samples\n", u.Name, len(u.Samples))
	}
	// Output:
	// FA01_01: 1600 samples
	// day2/FA02_01: 1600 samples
}
