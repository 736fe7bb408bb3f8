package separation_test

import (
	"testing"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/internal/openblas"
	"github.com/dlnmf/dlnmf/internal/sharedcorpus"
	"github.com/dlnmf/dlnmf/separation"
)

// loadTSP is the preamble of the tests on real speech: it loads TSP
// speakers at rate, skipping the test where the corpus is absent (a
// user's fresh clone), without OpenBLAS (training on real speech takes
// minutes in the pure-Go build; the cgo build runs these tests) and with
// -short.
func loadTSP(t *testing.T, rate int, names ...string) []*corpus.Speaker {
	t.Helper()
	dirs := make([]string, len(names))
	for i, name := range names {
		dirs[i] = sharedcorpus.Require(t, "tsp", name)
	}
	if !openblas.Enabled || testing.Short() {
		t.Skip("skipping: real-speech training takes minutes without OpenBLAS (the cgo build runs it)")
	}
	sps := make([]*corpus.Speaker, len(names))
	for i, name := range names {
		sp, err := corpus.LoadDir(name, dirs[i], rate)
		if err != nil {
			t.Fatal(err)
		}
		sps[i] = sp
	}
	return sps
}

// firstUtterances returns training data of the first n utterances of each
// speaker.
func firstUtterances(sps []*corpus.Speaker, n int) []separation.SpeakerData {
	data := make([]separation.SpeakerData, len(sps))
	for i, sp := range sps {
		data[i].Name = sp.Name
		for _, u := range sp.Utterances[:n] {
			data[i].Utterances = append(data[i].Utterances, u.Samples)
		}
	}
	return data
}
