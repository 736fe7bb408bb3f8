#!/usr/bin/env bash
# The checks scripts/slurm-test.sh runs against its cluster (SLURM_CONF set,
# SLURM_TEST_DIR a scratch folder on the node, SLURM_TEST_REPO the checkout).
# They submit through deploy/slurm/submit.sh, as the README tells users to.
set -euo pipefail
d=$SLURM_TEST_DIR
repo=$SLURM_TEST_REPO
say() { echo "slurm-test: $*" >&2; }
fail() {
  say "FAIL: $*"
  exit 1
}

# state JOB prints the job's state (PENDING, RUNNING, COMPLETED, ...).
state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1; }

# limit is how long any wait below gives a job, in seconds: a guard
# against a job that never ends, not a speed check. On a quiet 2-core
# machine the whole check takes about 80 s; beside other work (a build, a
# long run) a summary job alone has taken over 60 s.
limit=${SLURM_CHECK_LIMIT:-600}

# wait_gone JOB SECONDS waits until no task of JOB is pending or running.
wait_gone() {
  local end=$((SECONDS + $2))
  while [ -n "$(squeue -h -j "$1" -o %i 2>/dev/null)" ]; do
    [ $SECONDS -lt $end ] || fail "job $1 still queued or running after $2 s: $(squeue -h -j "$1" -o '%i %T %r' | tr '\n' ' ')"
    sleep 0.5
  done
}

# same A B: the units, the scores and the tables of two runs are identical
# (timing and notes aside).
same() {
  local a=$1 b=$2 n=0 f
  for f in "$a"/units/u*[0-9].json; do
    cmp -s "$f" "$b/units/${f##*/}" || fail "${f##*/} differs between $a and $b"
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] && [ "$n" = "$(find "$b/units" -name 'u*[0-9].json' | wc -l)" ] || fail "$a and $b hold different sets of units"
  cmp -s "$a/scores.csv" "$b/scores.csv" || fail "scores.csv differs between $a and $b"
  cmp -s <(sed '/^## Settings/,$d' "$a/results.md") <(sed '/^## Settings/,$d' "$b/results.md") || fail "results.md differs between $a and $b"
  cmp -s <(sed -n '/"rows"/,/"seconds"/{/"seconds"/!p}' "$a/results.json") <(sed -n '/"rows"/,/"seconds"/{/"seconds"/!p}' "$b/results.json") ||
    fail "results.json rows differ between $a and $b"
  say "identical: $n unit files byte for byte, scores.csv, results.md tables, results.json rows ($a vs $b)"
}

s=$SECONDS
mkdir -p "$d/bin"
(cd "$repo" && env $(scripts/cgo-env.sh) go build -o "$d/bin/dlnmf" ./cmd/dlnmf) || fail "go build"
export DLNMF=$d/bin/dlnmf
say "built dlnmf in $((SECONDS - s)) s"

corpus=$repo/testdata/voices
args=(--speaker "female=$corpus/female" --speaker "male=$corpus/male" --repeats 4 --k 20 --layers 60,20
  --iters 40 --infer-iters 20 --rounds 2 --disc-iters 10 --examples 1)

# 1. The experiment as a 4-task array and its summary job.
s=$SECONDS
read -r array summary < <("$repo/deploy/slurm/submit.sh" 4 experiment "$d/array" "${args[@]}")
wait_gone "$array" "$limit"
wait_gone "$summary" "$limit"
[ "$(state "$summary")" = COMPLETED ] || fail "summary job $summary: $(state "$summary"); $(cat "$d"/array/logs/summary-*.out)"
say "experiment as a 4-task array + summary job: $((SECONDS - s)) s"

# 2. The same experiment in one process: identical to the last digit.
s=$SECONDS
"$DLNMF" experiment -o "$d/one" "${args[@]}" --quiet --jobs 2 >/dev/null || fail "one-process run"
say "the same in one process: $((SECONDS - s)) s"
same "$d/array" "$d/one"

# 3. One task cancelled in the middle of its work and requeued: the
#    summary is still identical.
s=$SECONDS
read -r array summary < <("$repo/deploy/slurm/submit.sh" 4 experiment "$d/cancel" "${args[@]}")
task=${array}_1
end=$((SECONDS + limit))
until [ "$(state "$task")" = RUNNING ]; do
  [ $SECONDS -lt $end ] || fail "task $task did not start in $limit s"
  sleep 0.2
done
# Cancel as soon as the task has saved its first unit (u00001 or u00005)
# and is at work on its second: a fixed sleep lost the race on an idle
# machine, where a task's two units take under two seconds.
until compgen -G "$d/cancel/units/u0000[15].json" >/dev/null; do
  [ $SECONDS -lt $end ] || fail "task $task saved no unit in $limit s: $(state "$task")"
  sleep 0.05
done
scancel "$task"
until [ "$(state "$task")" = CANCELLED ]; do
  [ $SECONDS -lt $end ] || fail "task $task not cancelled: $(state "$task")"
  sleep 0.2
done
saved=$(find "$d/cancel/units" -name 'u*[0-9].json' | wc -l)
scontrol requeue "$task" || fail "scontrol requeue $task"
wait_gone "$array" "$limit"
[ "$(state "$task")" = COMPLETED ] || fail "requeued task $task: $(state "$task")"
grep -q 'interrupted' "$d"/cancel/logs/shard-"${array}"_1.out || fail "task $task was not interrupted in the middle: $(cat "$d"/cancel/logs/shard-"${array}"_1.out)"
grep -q 'shard 1/4: 2 of 8 units' "$d"/cancel/logs/shard-"${array}"_1.out || fail "requeued task $task: $(cat "$d"/cancel/logs/shard-"${array}"_1.out)"
# The first summary job was dropped with the cancelled task (its
# dependency can no longer be met); the user submits it again.
wait_gone "$summary" "$limit"
timeout "$limit" sbatch --wait -o "$d/cancel/logs/summary-again.out" "$repo/deploy/slurm/summary.sbatch" experiment "$d/cancel" "${args[@]}" >/dev/null ||
  fail "summary after requeue: $(cat "$d/cancel/logs/summary-again.out")"
say "task $task cancelled mid-run ($saved units saved by all tasks then), requeued, summarised: $((SECONDS - s)) s"
same "$d/cancel" "$d/one"

# 4. A sweep (one pair, two configurations) as a 2-task array and its
#    summary, against the same sweep in one process.
s=$SECONDS
cat >"$d/grid.json" <<JSON
{"pairs": [{"speakers": ["female=$corpus/female", "male=$corpus/male"]}],
 "protocol": {"repeats": 2, "iters": 20, "infer_iters": 20, "rounds": 2, "disc_iters": 10, "examples": 0},
 "grid": [{"method": ["lnmf", "dlnmf"], "layers": [[60, 20]]}],
 "baseline": {"method": "lnmf"}}
JSON
read -r array summary < <("$repo/deploy/slurm/submit.sh" 2 sweep "$d/sweep" "$d/grid.json")
wait_gone "$array" "$limit"
wait_gone "$summary" "$limit"
[ "$(state "$summary")" = COMPLETED ] || fail "sweep summary job $summary: $(state "$summary"); $(cat "$d"/sweep/logs/summary-*.out)"
"$DLNMF" sweep "$d/grid.json" -o "$d/sweep-one" --quiet --jobs 2 >/dev/null || fail "one-process sweep"
n=0
for f in "$d"/sweep-one/units/u*[0-9].json; do
  cmp -s "$f" "$d/sweep/units/${f##*/}" || fail "sweep unit ${f##*/} differs"
  n=$((n + 1))
done
[ "$n" = 4 ] || fail "the sweep made $n units, want 4"
cmp -s "$d/sweep/scores.csv" "$d/sweep-one/scores.csv" || fail "sweep scores.csv differs"
cmp -s <(sed '/^## Notes/,$d' "$d/sweep/sweep.md") <(sed '/^## Notes/,$d' "$d/sweep-one/sweep.md") || fail "sweep.md differs"
say "sweep as a 2-task array + summary, identical to one process ($n units, scores.csv, sweep.md): $((SECONDS - s)) s"
