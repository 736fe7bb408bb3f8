package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/dlnmf/dlnmf/corpus"
	"github.com/dlnmf/dlnmf/experiment"
	"github.com/dlnmf/dlnmf/recording"
	"github.com/schollz/progressbar/v3"
)

// shardFlags are the flags that run a share of an experiment or a sweep as
// one task of a scheduler's array, and the step that summarises them.
type shardFlags struct {
	shard     *string
	shards    *int
	summarize *bool
}

func bindShardFlags(fs *flag.FlagSet) *shardFlags {
	return &shardFlags{
		shard:     fs.String("shard", "", "compute only units u with u mod N = I: I/N (0-based), or auto (from SLURM_ARRAY_TASK_ID, or JOB_COMPLETION_INDEX with --shards)"),
		shards:    fs.Int("shards", 0, "the number of shards for --shard auto where the scheduler does not tell it (Kubernetes Indexed Jobs: the completions)"),
		summarize: fs.Bool("summarize", false, "compute nothing: write the results from the units every shard saved in OUTDIR/units (an error naming any missing unit)"),
	}
}

// parse checks the flags against each other and the output folder: a shard
// or a summary works in a folder that must already exist (on a cluster, the
// shared one), so that a worker that does not see it fails instead of
// computing into a local folder nobody reads.
func (f *shardFlags) parse(out string) (experiment.Shard, error) {
	sh, err := experiment.ParseShard(*f.shard, *f.shards, os.Getenv)
	if err != nil {
		return sh, usagef("--shard %s: %v (--shards N gives the count)", *f.shard, err)
	}
	if *f.summarize && sh.Sharded() {
		return sh, usagef("--summarize runs after every shard, not as one: drop --shard")
	}
	if sh.Sharded() || *f.summarize {
		fi, err := os.Stat(out)
		if err != nil {
			return sh, fmt.Errorf("output folder %s: %w (a shard or a summary needs the folder shared by every worker; create it before submitting)", out, errors.Unwrap(err))
		}
		if !fi.IsDir() {
			return sh, fmt.Errorf("output folder %s is not a folder", out)
		}
	}
	return sh, nil
}

// runShard computes one shard's units and says what it did.
func runShard(ctx context.Context, env *environment, jobs []experiment.Job, out string, sh experiment.Shard, opts *protocolOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	u := &experiment.Units{Dir: out, Jobs: jobs, Shard: sh, Workers: *opts.jobs}
	u.Progress = unitProgress(env, *opts.quiet, nil)
	st, err := u.Run(ctx)
	if err != nil {
		return err
	}
	logf(env.stderr, *opts.quiet, "shard %s: %d of %d units are this shard's: %d computed in %s, %d already there",
		sh, st.Owned, st.Units, st.Computed, time.Duration(st.Seconds*float64(time.Second)).Round(time.Second), st.Loaded)
	return nil
}

// summarizeUnits gathers every unit of the jobs from out.
func summarizeUnits(env *environment, jobs []experiment.Job, out string, opts *protocolOptions) ([]*experiment.Results, error) {
	u := &experiment.Units{Dir: out, Jobs: jobs}
	res, err := u.Collect()
	if err != nil {
		return nil, err
	}
	n, _ := u.Count()
	logf(env.stderr, *opts.quiet, "summary of %d units from %s/units", n, out)
	return res, nil
}

// unitProgress shows a run's progress (done of total trained rows) on bar,
// or without a bar as a line on stderr at most every 10 seconds.
func unitProgress(env *environment, quiet bool, bar *progressbar.ProgressBar) func(done, total int, what string) {
	last := time.Now()
	return func(done, total int, what string) {
		if bar != nil {
			bar.ChangeMax(total)
			progressDescribe(bar, what)
			bar.Set(done)
		} else if !quiet && (time.Since(last) > 10*time.Second || done == total) {
			last = time.Now()
			fmt.Fprintf(env.stderr, "[%d/%d] %s\n", done, total, what)
		}
	}
}

// archiveFlags give dlnmf separate a list of recordings and its share of
// them, for an archive separated by a job array.
type archiveFlags struct {
	list         *string
	shard        *string
	shards       *int
	skipExisting *bool
	sh           experiment.Shard
}

func bindArchiveFlags(fs *flag.FlagSet) *archiveFlags {
	return &archiveFlags{
		list:         fs.String("list", "", "a file naming the recordings to separate, one a line (relative to the list's folder), after those on the command line"),
		shard:        fs.String("shard", "", "separate only files i (0-based, in order) with i mod N = I: I/N, or auto (from SLURM_ARRAY_TASK_ID, or JOB_COMPLETION_INDEX with --shards)"),
		shards:       fs.Int("shards", 0, "the number of shards for --shard auto where the scheduler does not tell it (Kubernetes Indexed Jobs)"),
		skipExisting: fs.Bool("skip-existing", false, "skip a recording whose outputs are all in OUTDIR already"),
	}
}

func (a *archiveFlags) sharded() bool { return a.sh.Sharded() }

// files adds the list's recordings to args and keeps this shard's share. A
// shard writes into a folder that must exist (the shared one).
func (a *archiveFlags) files(args []string, out string) ([]string, error) {
	sh, err := experiment.ParseShard(*a.shard, *a.shards, os.Getenv)
	if err != nil {
		return nil, usagef("--shard %s: %v (--shards N gives the count)", *a.shard, err)
	}
	a.sh = sh
	files := args
	if *a.list != "" {
		names, err := corpus.ReadList(*a.list)
		if err != nil {
			return nil, err
		}
		files = append(files, names...)
	}
	if !sh.Sharded() {
		return files, nil
	}
	if fi, err := os.Stat(out); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("output folder %s does not exist (a shard writes into the folder shared by every worker; create it before submitting)", out)
	}
	var mine []string
	for i, f := range files {
		if sh.Owns(i) {
			mine = append(mine, f)
		}
	}
	return mine, nil
}

// skipSeparated drops the recordings whose outputs are all in out
// (recording.Separator.Done): a rerun does only what is left. Outputs are
// renamed into place only when complete, so one that exists is whole.
func skipSeparated(env *environment, quiet bool, files []string, out string, sp *recording.Separator) []string {
	var left []string
	for _, f := range files {
		if !sp.Done(f, out) {
			left = append(left, f)
		}
	}
	if n := len(files) - len(left); n > 0 {
		logf(env.stderr, quiet, "%d of %d recordings already separated in %s: skipped", n, len(files), out)
	}
	return left
}
