package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/dlnmf/dlnmf/nmf"
	"github.com/schollz/progressbar/v3"
)

// speakerFlags collects repeated --speaker NAME=DIR flags in order.
type speakerFlags []speakerDir

type speakerDir struct{ name, dir string }

func (s *speakerFlags) String() string {
	parts := make([]string, len(*s))
	for i, sd := range *s {
		parts[i] = sd.name + "=" + sd.dir
	}
	return strings.Join(parts, " ")
}

func (s *speakerFlags) Set(v string) error {
	name, dir, ok := strings.Cut(v, "=")
	if !ok || name == "" || dir == "" {
		return fmt.Errorf("want NAME=DIR, got %q", v)
	}
	for _, sd := range *s {
		if sd.name == name {
			return fmt.Errorf("speaker %q given twice", name)
		}
	}
	*s = append(*s, speakerDir{name, dir})
	return nil
}

// parseInts parses a comma-separated list of positive integers.
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q is not a positive whole number", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list %q", s)
	}
	return out, nil
}

// newProgress returns a progress bar on stderr when stderr is a terminal and
// the user did not ask for quiet, and nil otherwise: callers use the
// nil-safe helpers below.
func newProgress(env *environment, quiet bool, total int, what string) *progressbar.ProgressBar {
	if quiet || !env.stderrIsTerminal {
		return nil
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(env.stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100e6),
	)
}

func progressAdd(p *progressbar.ProgressBar, n int) {
	if p != nil {
		p.Add(n)
	}
}

func progressDescribe(p *progressbar.ProgressBar, what string) {
	if p != nil {
		p.Describe(what)
	}
}

func progressDone(p *progressbar.ProgressBar) {
	if p != nil {
		p.Finish()
		p.Exit()
	}
}

// logf prints a status line on stderr unless quiet.
func logf(w io.Writer, quiet bool, format string, args ...any) {
	if !quiet {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// progressRecorder shows the NMF engine's progress on a progress bar.
type progressRecorder struct{ bar *progressbar.ProgressBar }

func (p progressRecorder) Record(e nmf.Event) {
	if p.bar == nil {
		return
	}
	if e.Stage == "pretrain" { // Event.Layer is 0-based, and 0 for other stages
		p.bar.Describe(fmt.Sprintf("pretrain layer %d iteration %d cost %.4g", e.Layer+1, e.Iter, e.Cost))
	} else {
		p.bar.Describe(fmt.Sprintf("%s iteration %d cost %.4g", e.Stage, e.Iter, e.Cost))
	}
	p.bar.Add(1)
}
