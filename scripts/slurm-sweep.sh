#!/usr/bin/env bash
# Runs a real sweep through the local one-node Slurm cluster that
# scripts/slurm-test.sh starts and stops:
#
#   SWEEP_OUT=out/sweep scripts/slurm-test.sh scripts/slurm-sweep.sh [SPEC]
#
# SPEC defaults to docs/sweeps/tsp-beyond.json (TSP FA+MC, 15 repeats, 13
# configurations: each feature beyond the paper alone against DL-NMF 180,20).
# The sweep is submitted with deploy/slurm/submit.sh as an array of TASKS
# (default: the node's CPUs) one-core tasks and its summary job; SWEEP_OUT
# (kept after the cluster stops) receives the units, sweep.md, sweep.json,
# scores.csv and the logs. Prints the wall time from submission to summary.
# A rerun with the same SWEEP_OUT computes only the missing units.
set -euo pipefail
d=$SLURM_TEST_DIR
repo=$SLURM_TEST_REPO
spec=${SWEEP_SPEC:-$repo/docs/sweeps/tsp-beyond.json}
out=${SWEEP_OUT:?set SWEEP_OUT to the folder that keeps the sweep}
tasks=${TASKS:-$(nproc)}
say() { echo "slurm-sweep: $*" >&2; }
fail() {
  say "FAIL: $*"
  exit 1
}
mkdir -p "$out" "$d/bin"
out=$(cd "$out" && pwd)
(cd "$repo" && env $(scripts/cgo-env.sh) go build -o "$d/bin/dlnmf" ./cmd/dlnmf) || fail "go build"
export DLNMF=$d/bin/dlnmf
s=$SECONDS
read -r array summary < <("$repo/deploy/slurm/submit.sh" "$tasks" sweep "$out" "$spec" --quiet)
say "submitted array $array ($tasks tasks) and summary $summary: $spec -> $out"
while [ -n "$(squeue -h -j "$array,$summary" -o %i 2>/dev/null)" ]; do sleep 5; done
st=$(scontrol show job "$summary" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1)
[ "$st" = COMPLETED ] || fail "summary job $summary: ${st:-gone}; $(tail -5 "$out"/logs/summary-*.out 2>/dev/null)"
say "sweep of $(find "$out/units" -name 'u*[0-9].json' | wc -l) units through Slurm: $((SECONDS - s)) s wall, submission to summary"
echo "$((SECONDS - s))" >"$out/slurm-wall-seconds"
