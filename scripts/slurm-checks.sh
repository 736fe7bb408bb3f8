#!/usr/bin/env bash
# The checks scripts/slurm-test.sh runs against its cluster (SLURM_CONF set,
# SLURM_TEST_DIR a scratch folder on the node, SLURM_TEST_REPO the checkout).
set -euo pipefail
d=$SLURM_TEST_DIR
say() { echo "slurm-test: $*" >&2; }
fail() {
  say "FAIL: $*"
  exit 1
}

# A 4-task array and a summary job that runs only after all of them.
cat >"$d/task.sh" <<'SH'
#!/bin/bash
echo "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" >"$1/trivial.$SLURM_ARRAY_TASK_ID"
SH
cat >"$d/summary.sh" <<'SH'
#!/bin/bash
cat "$1"/trivial.* | sort >"$1/trivial.all"
SH
s=$SECONDS
jid=$(sbatch --parsable --array=0-3 -o "$d/trivial-%a.out" "$d/task.sh" "$d")
timeout 120 sbatch --wait --dependency="afterok:$jid" -o "$d/trivial-summary.out" "$d/summary.sh" "$d" >/dev/null ||
  fail "the trivial array and its summary job did not finish"
[ "$(cat "$d/trivial.all" | tr '\n' ' ')" = "0/4 1/4 2/4 3/4 " ] || fail "trivial array wrote: $(cat "$d/trivial.all")"
say "trivial 4-task array + afterok summary: $((SECONDS - s)) s"
