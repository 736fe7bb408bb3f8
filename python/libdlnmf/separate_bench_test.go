package main

import (
	"os"
	"testing"

	"github.com/dlnmf/dlnmf/recording"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/dlnmf/dlnmf/wav"
)

// BenchmarkRecordingSeparate times the Go library's own call behind
// dlnmf_separate, recording.Separator.Separate, on the model and mixture
// that python/bench/bench_separate.py names in DLNMF_BENCH_MODEL and
// DLNMF_BENCH_MIX, to measure the Python package's overhead over it.
func BenchmarkRecordingSeparate(b *testing.B) {
	modelPath, mixPath := os.Getenv("DLNMF_BENCH_MODEL"), os.Getenv("DLNMF_BENCH_MIX")
	if modelPath == "" || mixPath == "" {
		b.Skip("set DLNMF_BENCH_MODEL and DLNMF_BENCH_MIX (python/bench/bench_separate.py does)")
	}
	m, err := separation.ReadFile(modelPath)
	if err != nil {
		b.Fatal(err)
	}
	mix, err := wav.ReadFile(mixPath)
	if err != nil {
		b.Fatal(err)
	}
	sp, err := recording.New(m, recording.Settings{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := sp.Separate(mix.Channels, mix.Rate); err != nil {
			b.Fatal(err)
		}
	}
}
