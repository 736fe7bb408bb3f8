package scoring_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/dlnmf/dlnmf/scoring"
	"github.com/dlnmf/dlnmf/wav"
)

// sources returns two sources of n samples at 8 kHz, their mixture, and
// estimates of them in swapped order, each with some of the other source
// and a little of a signal neither has.
func sources(n int) (refs, ests [][]float64, mix []float64) {
	a, b, noise := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		t := float64(i) / 8000
		a[i] = 0.3*math.Sin(2*math.Pi*220*t) + 0.15*math.Sin(2*math.Pi*330*t)
		b[i] = 0.3 * math.Sin(2*math.Pi*1250*t) * math.Sin(2*math.Pi*3*t)
		noise[i] = 0.015 * math.Sin(2*math.Pi*2917*t+1)
	}
	estA, estB, mix := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		estA[i] = a[i] + 0.1*b[i] + noise[i]
		estB[i] = b[i] + 0.2*a[i] - noise[i]
		mix[i] = a[i] + b[i]
	}
	return [][]float64{a, b}, [][]float64{estB, estA}, mix
}

// Scoring estimates in memory, with the improvements over the mixture
// they were separated from: the numbers dlnmf eval --perm --mix prints.
func ExampleWhole() {
	refs, ests, mix := sources(8000)
	s, err := scoring.Whole(refs, ests, mix, true)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, k := range s.Perm {
		fmt.Printf("source %d: estimate %d, SDR %.1f dB, SI-SDR %.1f dB, SDRi %.1f dB\n", i, k, s.SDR[i], s.SISDR[i], s.SDRi[i])
	}
	fmt.Printf("mean SDR %.1f dB\n", scoring.MeanDB(s.SDR))
	// Output:
	// source 0: estimate 1, SDR 22.3 dB, SI-SDR 22.2 dB, SDRi 18.2 dB
	// source 1: estimate 0, SDR 9.9 dB, SI-SDR 9.8 dB, SDRi 13.4 dB
	// mean SDR 16.1 dB
}

// Scoring a folder of estimates as dlnmf eval --ref-dir --est-dir does:
// the estimates named as dlnmf separate names them, the references as
// dlnmf mix writes them, with the mixture beside them.
func ExampleScoreDirs() {
	root, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(root)
	refs, ests, mix := sources(8000)
	write := func(path string, x []float64) {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if _, err := wav.WriteFile(path, x, 8000, wav.Float32); err != nil {
			fmt.Println(err)
		}
	}
	write(filepath.Join(root, "test", "mix1.wav"), mix)
	write(filepath.Join(root, "test", "mix1.a.wav"), refs[0])
	write(filepath.Join(root, "test", "mix1.b.wav"), refs[1])
	write(filepath.Join(root, "separated", "mix1.a.wav"), ests[0]) // swapped: Permute pairs them
	write(filepath.Join(root, "separated", "mix1.b.wav"), ests[1])

	b, err := scoring.ScoreDirs(context.Background(), filepath.Join(root, "test"), filepath.Join(root, "separated"),
		filepath.Join(root, "scores"), scoring.Settings{Permute: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range b.Sets {
		for i, src := range s.Sources {
			fmt.Printf("%s %s: estimate %s, SDR %.1f dB, SDRi %.1f dB\n", s.Item, src, filepath.Base(s.Estimates[s.Scores.Perm[i]]), s.Scores.SDR[i], s.Scores.SDRi[i])
		}
	}
	fmt.Println(len(b.Failed), "sets not scored")
	_, err = os.Stat(filepath.Join(root, "scores", "scores.csv"))
	fmt.Println("scores.csv written:", err == nil)
	// Output:
	// mix1 a: estimate mix1.b.wav, SDR 22.3 dB, SDRi 18.2 dB
	// mix1 b: estimate mix1.a.wav, SDR 9.9 dB, SDRi 13.4 dB
	// 0 sets not scored
	// scores.csv written: true
}
