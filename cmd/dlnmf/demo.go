package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/democorpus"
	"github.com/dlnmf/dlnmf/experiment"
	"github.com/dlnmf/dlnmf/separation"
)

func init() {
	register(&command{
		name:    "demo",
		summary: "the paper's experiment, shortened, on its own speakers (TSP FA and MC, built in)",
		usage: `Usage: dlnmf demo [-o DIR] [flags]

Runs a short version of the paper's experiment on the paper's own speakers,
built into dlnmf: FA (female) and MC (male) of the McGill TSP speech database
(P. Kabal, McGill University, 2002; Simplified BSD licence), 60 sentences
each at 16 kHz. Every repeat shuffles each speaker's sentences, trains NMF
(K = 20), layered NMF and discriminative layered NMF (K1 = 180, K2 = 20) on
70% of them, adapts DL-NMF on 20% mixed at 0 dB, and separates the other 10%
mixed at 0 dB; BSS Eval v3 scores every separated speaker. It prints the
table with 95% confidence intervals, the paired differences and what the
full run gives (docs/RESULTS.md), and writes a report folder with figures and
audio: open DIR/report/index.html. About 200 s of CPU: under two minutes
on 2 idle cores. The same flags as "dlnmf experiment" change it; the protocol
is docs/protocol.md.

Examples:
  dlnmf demo
  dlnmf demo -o /tmp/demo --repeats 16`,
		run: runDemo,
	})
}

// demoConfig is the demo's experiment: the paper's K2 = 20 rows (NMF K = 20,
// L-NMF and DL-NMF 180,20) with the protocol's split and its 5 DL-NMF rounds,
// but 100 training and inference iterations instead of 200 and 8 repeats (48
// test mixtures) instead of 15. A repeat costs about 25 s of CPU, most of it
// L-NMF's 180-basis first layer (a DL-NMF round costs under 1 s), so 8
// repeats on 2 cores take about 100 s; at 48 mixtures the paired SDR
// differences are known to about ±0.2 dB.
var demoConfig = experiment.Config{
	K:          []int{20},
	Layers:     [][]int{{180, 20}},
	Repeats:    8,
	Iters:      100,
	InferIters: 100,
	Rounds:     5,
	Examples:   2,
}

// demoFullRun is what the full default run gives on the same speakers, from
// docs/RESULTS.md.
const demoFullRun = "The full run (docs/RESULTS.md: 15 repeats, 90 test mixtures, K = 10, 20, 30, 200 iterations, 5 rounds; " +
	"about 7.5 minutes on 2 cores) gives at K2 = 20, SDR FA / MC: NMF 6.58 / 6.06, L-NMF 6.99 / 6.51, DL-NMF 7.34 / 6.97 dB, " +
	"each step significant (p < 0.001); the paper's Table 1: 6.83 / 6.34, 7.38 / 6.70, 7.87 / 7.48 dB."

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
			files[i] = corpus.File{Path: filepath.Join("democorpus", "tsp", s.Name, f.Name), Data: f.Data}
		}
		sp, err := corpus.Load(s.Name, files, separation.DefaultSampleRate)
		if err != nil {
			return err
		}
		sps = append(sps, sp)
	}
	opts.verdict = demoVerdict // the terminal's verdict, on the page too
	opts.epilogue = func(w io.Writer, res *experiment.Results) {
		fmt.Fprintf(w, "\n%s\n\n%s\n", demoVerdict(res), demoFullRun)
	}
	intro := "A short run of the paper's experiment on its own speakers, FA (female) and MC (male) of the McGill TSP " +
		"speech database (P. Kabal, TSP speech database, McGill University, 2002; Simplified BSD licence), 60 sentences " +
		"each, built into dlnmf at 16 kHz. Each repeat trains every method on 70% of each speaker's sentences, adapts " +
		"DL-NMF on 20% mixed at 0 dB, and separates the remaining 10% mixed at 0 dB. " + demoFullRun
	return runProtocol(ctx, env, sps, config, *out, "dlnmf demo: the paper's experiment on TSP FA and MC, shortened", intro, opts)
}

// demoVerdict says in one line whether the run shows the paper's ordering:
// per speaker, the paired SDR differences of each layered row over the row
// below it (DL-NMF over L-NMF, L-NMF over NMF, same K2 and K), with their
// 95% intervals.
func demoVerdict(res *experiment.Results) string {
	var parts, weak []string
	n := 0
	for _, sp := range res.Speakers {
		var steps []string
		for _, p := range res.Paired {
			if p.Speaker != sp || p.Metric != "sdr" {
				continue
			}
			n = p.N
			steps = append(steps, fmt.Sprintf("%s - %s %+.2f ± %.2f dB", p.A, p.B, float64(p.Diff), float64(p.CI95)))
			if !(float64(p.Diff)-float64(p.CI95) > 0) {
				weak = append(weak, fmt.Sprintf("%s over %s for %s", p.A, p.B, sp))
			}
		}
		if len(steps) > 0 {
			parts = append(parts, sp+": "+strings.Join(steps, ", "))
		}
	}
	if len(parts) == 0 {
		return "No paired comparison: run more than one method."
	}
	s := fmt.Sprintf("Paired SDR differences over the same %d test mixtures (95%% CI): %s. ", n, strings.Join(parts, "; "))
	if len(weak) == 0 {
		return s + "Every interval lies above zero: " + ordering(res) + " for every speaker, as in the paper."
	}
	return s + "Not clear of zero here: " + strings.Join(weak, ", ") + " (more repeats narrow the intervals: --repeats)."
}

// ordering names the methods of res from the best expected to the least,
// "DL-NMF > L-NMF > NMF".
func ordering(res *experiment.Results) string {
	var ms []string
	for _, m := range []separation.Method{separation.DLNMF, separation.LNMF, separation.NMF} {
		for _, r := range res.Rows {
			if r.Method == m.Label() {
				ms = append(ms, m.Label())
				break
			}
		}
	}
	return strings.Join(ms, " > ")
}
