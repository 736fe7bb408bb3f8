package corpus

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/dlnmf/dlnmf/resample"
	"github.com/dlnmf/dlnmf/wav"
)

// Utterance is one recording at the working sample rate.
type Utterance struct {
	Name    string // path relative to the speaker folder, without extension
	Path    string // the file it was read from
	Samples []float64
}

// Speaker is a named set of utterances.
type Speaker struct {
	Name       string
	Utterances []Utterance
}

// Seconds returns the total duration of the speaker's utterances at rate.
func (s *Speaker) Seconds(rate int) float64 {
	n := 0
	for _, u := range s.Utterances {
		n += len(u.Samples)
	}
	return float64(n) / float64(rate)
}

// LoadDir reads every audio file (.wav or .flac, any case) under dir as mono
// at rate Hz. Sub-folders are walked recursively, so a LibriSpeech speaker
// folder (speaker/chapter/*.flac) or a VCTK one (p225/*.wav, *.flac) loads
// as it is. The order is the order of the paths relative to dir, compared
// as strings ("a/2.wav" < "a/b/1.wav" < "b.wav"), so it does not depend on
// the file system. Files and folders whose name starts with a dot are
// skipped, and symbolic links to folders are not followed (a link to a
// file is read). VCTK 0.92 records every utterance with two microphones
// (p225_001_mic1.flac, p225_001_mic2.flac): a *_mic2 file is skipped when
// its *_mic1 twin is there, so one utterance never lands in both the
// training and the test part of a split. Files are decoded and resampled in
// parallel.
//
// LoadSpeaker reads a folder as LoadDir does and also checks the samples.
func LoadDir(name, dir string, rate int) (*Speaker, error) {
	files, err := SpeakerFiles(SpeakerSettings{Name: name, Dir: dir})
	if err != nil {
		return nil, err
	}
	return Load(name, files, rate)
}

// File is one utterance to load: from Path, or from Data when it is set
// (Path then only names it).
type File struct {
	Path string
	Data []byte
	Name string // the utterance's name; empty means Path's base name without extension
}

// Load decodes files as mono at rate Hz, in parallel.
func Load(name string, files []File, rate int) (*Speaker, error) {
	sp := &Speaker{Name: name, Utterances: make([]Utterance, len(files))}
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sp.Utterances[i], errs[i] = loadFile(f, rate)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("speaker %s: %w", name, err)
		}
	}
	return sp, nil
}

func loadFile(f File, rate int) (Utterance, error) {
	var a *wav.Audio
	var err error
	if f.Data != nil {
		a, err = wav.Decode(bytes.NewReader(f.Data))
		if err != nil {
			err = fmt.Errorf("%s: %w", f.Path, err)
		}
	} else {
		a, err = wav.ReadFile(f.Path)
	}
	if err != nil {
		return Utterance{}, err
	}
	x, err := ToRate(a.Mono(), a.Rate, rate)
	if err != nil {
		return Utterance{}, fmt.Errorf("%s: %w", f.Path, err)
	}
	name := f.Name
	if name == "" {
		base := filepath.Base(f.Path)
		name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	return Utterance{Name: name, Path: f.Path, Samples: x}, nil
}

// ToRate returns x resampled from rate from to rate to (a copy when equal).
func ToRate(x []float64, from, to int) ([]float64, error) {
	if from == to {
		return append([]float64(nil), x...), nil
	}
	return resample.Resample(x, from, to)
}

// Split is one repeat's partition of a speaker's utterances, as indices.
type Split struct {
	Train, Disc, Test []int
}

// Fractions of the protocol: 70% training, 20% discriminative, 10% test.
const (
	TrainFraction = 0.7
	DiscFraction  = 0.2
)

// SplitSpeaker shuffles n utterances with a generator seeded by (seed,
// repeat, speaker) and cuts the order into the train and disc fractions and
// the rest for testing (the protocol: 70/20/10). Each speaker gets its own
// shuffle: with one shared permutation, two speakers reading the same prompt
// list (as in CMU ARCTIC) would be paired on the same sentence.
func SplitSpeaker(n int, seed uint64, repeat, speaker int, train, disc float64) (Split, error) {
	nTrain := int(math.Round(train * float64(n)))
	nDisc := int(math.Round(disc * float64(n)))
	if nTrain < 1 || nDisc < 1 || n-nTrain-nDisc < 1 {
		return Split{}, fmt.Errorf("%d utterances are too few for a %.0f/%.0f split with a test share", n, 100*train, 100*disc)
	}
	order := Shuffle(n, seed, repeat, speaker)
	return Split{Train: order[:nTrain], Disc: order[nTrain : nTrain+nDisc], Test: order[nTrain+nDisc:]}, nil
}

// Shuffle returns a permutation of n items drawn from a generator seeded by
// (seed, repeat, speaker).
func Shuffle(n int, seed uint64, repeat, speaker int) []int {
	rng := rand.New(rand.NewPCG(seed, uint64(repeat)<<32|uint64(speaker)))
	return rng.Perm(n)
}

// Mix cuts the sources to the shortest, scales every source after the first
// so that the first is snrDB above each of them in energy (0 dB: equal
// energy), and returns the mixture with the scaled sources, which add up to
// it exactly.
func Mix(sources [][]float64, snrDB float64) (mix []float64, scaled [][]float64, err error) {
	if len(sources) < 2 {
		return nil, nil, fmt.Errorf("mixing needs at least 2 sources, got %d", len(sources))
	}
	n := len(sources[0])
	for _, s := range sources {
		n = min(n, len(s))
	}
	if n == 0 {
		return nil, nil, fmt.Errorf("a source is empty")
	}
	ref := energy(sources[0][:n])
	if ref == 0 {
		return nil, nil, fmt.Errorf("the first source is silent")
	}
	mix = make([]float64, n)
	scaled = make([][]float64, len(sources))
	for i, s := range sources {
		g := 1.0
		if i > 0 {
			e := energy(s[:n])
			if e == 0 {
				return nil, nil, fmt.Errorf("source %d is silent", i+1)
			}
			g = math.Sqrt(ref / e * math.Pow(10, -snrDB/10))
		}
		scaled[i] = make([]float64, n)
		for j := range n {
			scaled[i][j] = g * s[j]
			mix[j] += scaled[i][j]
		}
	}
	return mix, scaled, nil
}

func energy(x []float64) float64 {
	var e float64
	for _, v := range x {
		e += v * v
	}
	return e
}
