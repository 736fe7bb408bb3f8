// Command dlnmf separates the voices of known speakers in a single-channel
// recording with NMF, layered NMF (L-NMF) and discriminative layered NMF
// (DL-NMF), and scores separations with BSS Eval.
//
// main only dispatches: each subcommand lives in its own file, registers
// itself in init, receives itself when it runs (as the Go toolchain's
// base.Command), parses its own flag.FlagSet with parseArgs and returns an
// error. Errors become exit codes in one place, exitCode.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dlnmf/dlnmf/internal/atomicfile"
	"github.com/dlnmf/dlnmf/internal/buildinfo"
)

// command is one subcommand of dlnmf.
type command struct {
	name    string
	summary string // one line, shown by "dlnmf help"
	usage   string // synopsis and examples, shown by "dlnmf NAME -h"
	// run does the work. It receives its own command, for its flag set
	// and messages, so no command looks itself up by name.
	run func(ctx context.Context, cmd *command, env *environment, args []string) error
}

// environment carries the process-wide streams, so commands never touch
// os.Stdout or os.Stderr directly and can be tested.
type environment struct {
	stdin            io.Reader // nil: nothing to read ("-" is refused)
	stdout, stderr   io.Writer
	stderrIsTerminal bool
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("dlnmf: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// Exit codes, documented in "dlnmf help".
const (
	exitOK       = 0
	exitFailure  = 1 // the work failed: bad input data, I/O errors, some files failed
	exitUsage    = 2 // the command line was wrong
	exitCanceled = 130
)

// usageError marks a wrong command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// interruptGrace is how long a command may take to stop after SIGINT or
// SIGTERM before main ends the process itself: short enough that a command
// blocked in a read of a stalled pipe ends within a second (commands that
// see the cancellation, such as a live stream completing its outputs, stop
// well within it).
const interruptGrace = 500 * time.Millisecond

// interruptWait, when longer than interruptGrace, is how long a command
// has said it needs to stop (serve: its grace time for running jobs).
var interruptWait atomic.Int64

// extendInterruptGrace lets a command that stops in an orderly way take d
// after SIGINT or SIGTERM before main ends the process.
func extendInterruptGrace(d time.Duration) { interruptWait.Store(int64(d)) }

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	interrupts := make(chan os.Signal, 2)
	signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM)
	go guardInterrupt(interrupts, cancel)
	env := &environment{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, stderrIsTerminal: isTerminal(os.Stderr)}
	code := runMain(ctx, env, os.Args[1:])
	os.Exit(code)
}

// guardInterrupt cancels the command's context at the first SIGINT or
// SIGTERM, so that it stops at its next check, removes what it was writing
// and exits 130 with one line. A command that cannot see the cancellation
// in time (blocked in a read, inside one long factorisation) gets
// interruptGrace, or until a second signal: then the process removes its
// temporary files itself and exits 130 (a command may ask for longer with
// extendInterruptGrace). Outputs are only ever renamed into
// place complete, so ending the process there leaves no partial file.
func guardInterrupt(interrupts <-chan os.Signal, cancel context.CancelFunc) {
	<-interrupts
	cancel()
	select {
	case <-interrupts:
	case <-time.After(max(interruptGrace, time.Duration(interruptWait.Load()))):
	}
	atomicfile.RemoveTemporaries()
	fmt.Fprintln(os.Stderr, "dlnmf: interrupted")
	os.Exit(exitCanceled)
}

// runMain runs one command line and returns the exit code. Every error is
// printed as one line prefixed with "dlnmf:".
func runMain(ctx context.Context, env *environment, args []string) (code int) {
	defer func() {
		// A panic is a bug in dlnmf; the user still gets one line, not a trace.
		if r := recover(); r != nil {
			fmt.Fprintf(env.stderr, "dlnmf: internal error: %v (please report this)\n", r)
			code = exitFailure
		}
	}()
	if len(args) == 0 {
		printHelp(env.stderr)
		return exitUsage
	}
	name := args[0]
	if name == "--version" || name == "-version" || name == "version" {
		fmt.Fprintln(env.stdout, versionLine())
		return exitOK
	}
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fmt.Fprintln(env.stdout, c.usage)
				return exitOK
			}
		}
		printHelp(env.stdout)
		return exitOK
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(env.stderr, "dlnmf: unknown command %q (run \"dlnmf help\")\n", name)
		return exitUsage
	}
	err := c.run(ctx, c, env, args[1:])
	return exitCode(env, c, err)
}

// exitCode maps an error to the process exit code and prints it once.
func exitCode(env *environment, c *command, err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(env.stderr, "dlnmf %s: %s (run \"dlnmf %s -h\")\n", c.name, oneLine(err), c.name)
		return exitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(env.stderr, "dlnmf %s: interrupted\n", c.name)
		return exitCanceled
	default:
		fmt.Fprintf(env.stderr, "dlnmf %s: %s\n", c.name, oneLine(err))
		return exitFailure
	}
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// newFlagSet returns a FlagSet for c whose -h prints c's usage and flags to
// stdout, and whose parse errors come back as usage errors.
func newFlagSet(env *environment, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("dlnmf "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintln(env.stdout, c.usage)
		fmt.Fprintln(env.stdout, "\n"+flagPlacement)
		fmt.Fprintln(env.stdout, "\nFlags:")
		printFlags(env.stdout, fs)
	}
	return fs
}

// printFlags lists fs's flags as flag.PrintDefaults does, but states every
// flag's default, also a zero one (flag.PrintDefaults leaves out "0",
// "false" and ""), unless the help text already says it or the flag is
// required. Long names are shown with two dashes, as the usage texts write
// them; the flag package accepts one or two.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		typ, usage := flag.UnquoteUsage(f)
		line := "  " + dash + f.Name
		if typ != "" {
			line += " " + typ
		}
		def := f.DefValue
		switch {
		case strings.Contains(usage, "(default") || strings.Contains(usage, "(required"):
		case def == "" || def == "[]":
			usage += " (default: none)"
		case typ == "string":
			usage += fmt.Sprintf(" (default %q)", def)
		default:
			usage += fmt.Sprintf(" (default %s)", def)
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
	})
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "dlnmf: supervised single-channel speech separation with NMF, L-NMF and DL-NMF.")
	fmt.Fprintln(w, "\nUsage: dlnmf COMMAND [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"dlnmf COMMAND -h\" for a command's flags and examples, \"dlnmf --version\" for the version.")
	fmt.Fprintln(w, "\nExit codes: 0 success; 1 the work failed (bad input, I/O error, some files failed);\n2 wrong command line; 130 interrupted.")
}

// versionLine describes this binary: the module version, the commit it
// was built from (with "+modified" when the tree had changes), the Go
// version and platform, and the BLAS back end.
func versionLine() string {
	b := buildinfo.Get()
	commit := "unknown"
	if b.Commit != "" {
		commit = b.Commit
		if b.Modified {
			commit += "+modified"
		}
		if b.Time != "" {
			commit += " (" + b.Time + ")"
		}
	}
	return fmt.Sprintf("dlnmf %s, commit %s, %s %s/%s, BLAS: %s", b.Version, commit, b.Go, runtime.GOOS, runtime.GOARCH, blasName())
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
