package bsseval

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// benchSignals returns nsrc speech-like references (AR-filtered noise with
// a slow envelope) of n samples and estimates that mix them with noise.
func benchSignals(seed uint64, nsrc, n int) (refs, ests [][]float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	refs = make([][]float64, nsrc)
	ests = make([][]float64, nsrc)
	for i := range refs {
		refs[i] = make([]float64, n)
		var y1, y2 float64
		for t := range refs[i] {
			y := rng.NormFloat64() + 1.6*y1 - 0.8*y2
			y2, y1 = y1, y
			env := 0.1 + float64((t/4000+i)%3)
			refs[i][t] = y * env
		}
	}
	for k := range ests {
		ests[k] = make([]float64, n)
		for t := range ests[k] {
			v := refs[k][t] + 0.05*rng.NormFloat64()
			for i := range refs {
				if i != k {
					v += 0.3 * refs[i][t]
				}
			}
			ests[k][t] = v
		}
	}
	return refs, ests
}

// BenchmarkBSSEval times Sources with the permutation search (mir_eval's
// default) at 16 kHz.
func BenchmarkBSSEval(b *testing.B) {
	for _, c := range []struct{ nsrc, seconds int }{{2, 3}, {3, 10}} {
		b.Run(fmt.Sprintf("%dsrc_%ds", c.nsrc, c.seconds), func(b *testing.B) {
			refs, ests := benchSignals(1, c.nsrc, c.seconds*16000)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Sources(refs, ests, Options{Permute: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlanEvaluate times scoring one more set of estimates against
// references whose plan is already built.
func BenchmarkPlanEvaluate(b *testing.B) {
	refs, ests := benchSignals(1, 2, 3*16000)
	p, err := NewPlan(refs, Options{Permute: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Evaluate(ests); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBSSEvalFiles times Sources on signals written by
// scripts/bench_bsseval.py (run through scripts/bench-bsseval.sh, which
// times mir_eval on the same signals) and checks the scores against
// mir_eval's. It is skipped unless BSSEVAL_BENCH_DIR is set.
func BenchmarkBSSEvalFiles(b *testing.B) {
	dir := os.Getenv("BSSEVAL_BENCH_DIR")
	if dir == "" {
		b.Skip("BSSEVAL_BENCH_DIR not set: run scripts/bench-bsseval.sh")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		b.Fatal(err)
	}
	var cases []struct {
		Name          string
		Nsrc, Samples int
		SDR, SIR, SAR []float64
		Perm          []int
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		b.Fatal(err)
	}
	for _, c := range cases {
		b.Run(c.Name, func(b *testing.B) {
			data, err := os.ReadFile(filepath.Join(dir, c.Name+".f64"))
			if err != nil {
				b.Fatal(err)
			}
			sig := make([][]float64, 2*c.Nsrc)
			for i := range sig {
				sig[i] = make([]float64, c.Samples)
				for t := range sig[i] {
					sig[i][t] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*(i*c.Samples+t):]))
				}
			}
			refs, ests := sig[:c.Nsrc], sig[c.Nsrc:]
			r, err := Sources(refs, ests, Options{Permute: true})
			if err != nil {
				b.Fatal(err)
			}
			for i := range r.SDR {
				if math.Abs(r.SDR[i]-c.SDR[i]) > 1e-6 || math.Abs(r.SIR[i]-c.SIR[i]) > 1e-6 ||
					math.Abs(r.SAR[i]-c.SAR[i]) > 1e-6 || r.Perm[i] != c.Perm[i] {
					b.Fatalf("source %d: %v %v %v %v, mir_eval %v %v %v %v", i, r.SDR[i], r.SIR[i], r.SAR[i], r.Perm[i], c.SDR[i], c.SIR[i], c.SAR[i], c.Perm[i])
				}
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := Sources(refs, ests, Options{Permute: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
