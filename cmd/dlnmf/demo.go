package main

import (
	"context"
	"path/filepath"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/democorpus"
	"github.com/dlnmf/dlnmf/experiment"
	"github.com/dlnmf/dlnmf/separation"
)

func init() {
	register(&command{
		name:    "demo",
		summary: "train NMF, L-NMF and DL-NMF on the bundled demo voices, separate, score and report",
		usage: `Usage: dlnmf demo [-o DIR] [flags]

Runs a small version of the paper's experiment on the demo corpus built into
dlnmf (two espeak-ng voices, 24 sentences each, 16 kHz): it trains NMF,
layered NMF and discriminative layered NMF on each voice, separates held-out
0 dB mixtures of the two, scores them with BSS Eval v3, prints a summary table
and writes a report folder with figures and audio: open DIR/report/index.html.
It takes well under a minute. The same flags as "dlnmf experiment" change it.

Examples:
  dlnmf demo
  dlnmf demo -o /tmp/demo --repeats 5`,
		run: runDemo,
	})
}

// demoConfig is the demo's experiment: the paper's best rows (K = 20 and
// 180,20), three repeats of the 70/20/10 split of 24 sentences (two test
// mixtures each), 100 iterations.
var demoConfig = experiment.Config{
	K:          []int{20},
	Layers:     [][]int{{180, 20}},
	Repeats:    3,
	Iters:      100,
	InferIters: 100,
	Rounds:     3,
	Examples:   2,
}

func runDemo(ctx context.Context, cmd *command, env *environment, args []string) error {
	fs := newFlagSet(env, cmd)
	cfg, opts := protocolFlags(fs, demoConfig)
	out := fs.String("o", "dlnmf-demo", "output folder, created if missing")
	fs.StringVar(out, "out", *out, "deprecated: the same as -o")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	config, err := cfg()
	if err != nil {
		return err
	}
	var sps []*corpus.Speaker
	for _, s := range democorpus.Speakers() {
		files := make([]corpus.File, len(s.Files))
		for i, f := range s.Files {
			files[i] = corpus.File{Path: filepath.Join("democorpus", s.Name, f.Name), Data: f.Data}
		}
		sp, err := corpus.Load(s.Name, files, separation.DefaultSampleRate)
		if err != nil {
			return err
		}
		sps = append(sps, sp)
	}
	intro := "A small run of the paper's experiment on dlnmf's bundled demo corpus: two espeak-ng voices " +
		"(a low male and a high female English voice), 24 sentences each. Each repeat trains every method on 70% " +
		"of each voice's sentences, adapts DL-NMF on 20% mixed at 0 dB, and separates the remaining 10% mixed at 0 dB."
	return runProtocol(ctx, env, sps, config, *out, "dlnmf demo: separating two synthetic voices", intro, opts)
}
