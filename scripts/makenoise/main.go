// Command makenoise writes the noises of the enhancement experiment
// at 16 kHz, 32-bit float: white.wav, pink.wav and babble.wav, each
// -seconds long, into -o. Babble is the sum of -talkers tracks, each a
// seeded random sequence of the utterances found under the -speech folders
// (speakers that the model under test does not know, e.g. CMU ARCTIC slt
// and bdl for a TSP FA model), every utterance scaled to the same RMS. The
// files are made at run time (scripts/make-noise.sh), not committed.
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/wav"
)

const rate = 16000

func main() {
	out := flag.String("o", "", "output folder")
	seconds := flag.Float64("seconds", 300, "length of each noise")
	speech := flag.String("speech", "", "comma-separated folders of speech for the babble")
	talkers := flag.Int("talkers", 8, "simultaneous talkers in the babble")
	seed := flag.Uint64("seed", 13, "seed")
	flag.Parse()
	if err := run(*out, *seconds, *speech, *talkers, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "makenoise:", err)
		os.Exit(1)
	}
}

func run(out string, seconds float64, speech string, talkers int, seed uint64) error {
	if out == "" || speech == "" || seconds <= 0 || talkers < 1 {
		return fmt.Errorf("want -o DIR -speech DIR[,DIR...], positive -seconds and -talkers")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	n := int(seconds * rate)
	rng := rand.New(rand.NewPCG(seed, 1))
	white := make([]float64, n)
	for i := range white {
		white[i] = rng.NormFloat64()
	}
	// Pink: white noise through Paul Kellet's refined 1/f filter (within
	// 0.05 dB of -3 dB/octave above 9 Hz at 44.1 kHz; close enough here).
	pink := make([]float64, n)
	var b [7]float64
	for i, w := range white {
		b[0] = 0.99886*b[0] + w*0.0555179
		b[1] = 0.99332*b[1] + w*0.0750759
		b[2] = 0.96900*b[2] + w*0.1538520
		b[3] = 0.86650*b[3] + w*0.3104856
		b[4] = 0.55000*b[4] + w*0.5329522
		b[5] = -0.7616*b[5] - w*0.0168980
		pink[i] = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w*0.5362
		b[6] = w * 0.115926
	}
	var utts [][]float64
	for _, dir := range strings.Split(speech, ",") {
		sp, err := corpus.LoadDir(filepath.Base(dir), dir, rate)
		if err != nil {
			return err
		}
		for _, u := range sp.Utterances {
			utts = append(utts, normalised(u.Samples))
		}
	}
	if len(utts) < 6 {
		return fmt.Errorf("babble needs at least 6 utterances, found %d", len(utts))
	}
	babble := make([]float64, n)
	for range talkers {
		for i := rng.IntN(rate); i < n; { // talkers start at different moments
			u := utts[rng.IntN(len(utts))]
			for j := 0; j < len(u) && i+j < n; j++ {
				babble[i+j] += u[j]
			}
			i += len(u)
		}
	}
	for name, x := range map[string][]float64{"white": white, "pink": pink, "babble": babble} {
		scaleTo(x, 0.1)
		if _, err := wav.WriteFile(filepath.Join(out, name+".wav"), x, rate, wav.Float32); err != nil {
			return err
		}
	}
	fmt.Printf("wrote white, pink and babble (%d talkers from %d utterances of %s) of %g s to %s\n", talkers, len(utts), speech, seconds, out)
	return nil
}

func rms(x []float64) float64 {
	var e float64
	for _, v := range x {
		e += v * v
	}
	return math.Sqrt(e / float64(len(x)))
}

func normalised(x []float64) []float64 {
	y := append([]float64(nil), x...)
	scaleTo(y, 1)
	return y
}

// scaleTo scales x to the given RMS.
func scaleTo(x []float64, level float64) {
	r := rms(x)
	if r == 0 {
		return
	}
	for i := range x {
		x[i] *= level / r
	}
}
