package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dlnmf/dlnmf/nmf"
	"github.com/dlnmf/dlnmf/separation"
	"github.com/schollz/progressbar/v3"
)

// flagPlacement is the rule parseArgs implements, printed in every
// command's -h.
const flagPlacement = `Flags may come before, between or after the file arguments. A file name
that starts with "-" would be read as a flag: write it as ./-name.wav, or put
it after "--", which ends the flags.`

// parseArgs parses args with fs and returns the positional arguments in
// order. Flags may stand anywhere: "dlnmf separate MIX.wav -m model.npz -o
// out" is the same as "dlnmf separate -m model.npz -o out MIX.wav" (the flag
// package alone stops at the first non-flag). After "--" every argument is
// positional. A bad flag is a usage error; -h prints the usage and returns
// flag.ErrHelp.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseNoArgs is parseArgs for a command that takes flags only.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parseArgs(fs, args)
	if err == nil && len(pos) > 0 {
		err = usagef("unexpected argument %q", pos[0])
	}
	return err
}

// parseFlags parses args with fs. A bad flag becomes a usage error; -h
// prints the usage once and returns flag.ErrHelp. The flag package itself
// calls Usage on every parse error and on -h: it is silenced during Parse,
// so a bad flag gives one error line, not the whole usage text on stdout.
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	if err == nil || errors.Is(err, flag.ErrHelp) {
		if errors.Is(err, flag.ErrHelp) {
			usage()
		}
		return err
	}
	return usageError{err.Error()}
}

// makeParentDir creates the folder that will hold the output file path,
// with its parents, as every command does before its work.
func makeParentDir(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: cannot write there: %w", path, err)
	}
	return nil
}

// speakerFlags collects repeated --speaker NAME=DIR or NAME=@LIST flags
// in order (see speakerFiles).
type speakerFlags []speakerDir

// speakerDir is one --speaker flag: dir is a folder, or "@" and a list file.
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
		return fmt.Errorf("want NAME=DIR or NAME=@LIST, got %q", v)
	}
	// The name ends up in file names: refuse it now, not after training.
	if err := separation.CheckName(name); err != nil {
		return err
	}
	for _, sd := range *s {
		if separation.NameKey(sd.name) == separation.NameKey(name) {
			return fmt.Errorf("speaker %q given twice (names are compared ignoring case)", name)
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
	if e.Stage == nmf.StagePretrain { // Event.Layer is 0-based, and 0 for other stages
		p.bar.Describe(fmt.Sprintf("pretrain layer %d iteration %d cost %.4g", e.Layer+1, e.Iter, e.Cost))
	} else {
		p.bar.Describe(fmt.Sprintf("%s iteration %d cost %.4g", e.Stage, e.Iter, e.Cost))
	}
	p.bar.Add(1)
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// renamedFlag keeps a flag's old name working: --old sets what --new sets,
// and says once on stderr that the flag has a new name.
type renamedFlag struct {
	flag.Value
	stderr          io.Writer
	cmd, old, newer string
	told            *bool
}

func (r renamedFlag) Set(v string) error {
	if !*r.told {
		*r.told = true
		fmt.Fprintf(r.stderr, "%s: --%s is now --%s (the old name still works)\n", r.cmd, r.old, r.newer)
	}
	return r.Value.Set(v)
}

// renameFlag registers old as another name of the flag newer of fs.
func renameFlag(env *environment, fs *flag.FlagSet, old, newer string) {
	f := fs.Lookup(newer)
	fs.Var(renamedFlag{Value: f.Value, stderr: env.stderr, cmd: fs.Name(), old: old, newer: newer, told: new(bool)}, old, "the old name of --"+newer)
}
