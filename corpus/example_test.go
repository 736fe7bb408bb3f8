package corpus_test

import (
	"fmt"

	"github.com/dlnmf/dlnmf/corpus"
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
	disc, err := corpus.DiscMixtures([][]corpus.Utterance{a, b}, 0)
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
