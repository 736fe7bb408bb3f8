#!/bin/bash
# Submits a dlnmf experiment or sweep as a Slurm job array of TASKS shards
# and its summary job, which starts when every shard has succeeded
# (--dependency=afterok). Prints the two job ids ("ARRAY SUMMARY").
#
#   deploy/slurm/submit.sh TASKS experiment|sweep OUTDIR [dlnmf flags and arguments]
#
# Environment: DLNMF, the dlnmf binary as the nodes see it (default: dlnmf on
# PATH); SBATCH_* variables and extra sbatch options in SBATCH_OPTS (for
# example "--partition=cpu --time=2:00:00 --cpus-per-task=2"). Logs go to
# OUTDIR/logs. The same command, run again after a failure, computes only
# the units that are missing.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,13p' "$0" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
tasks=$1 cmd=$2 out=$3
shift 3
case $tasks in '' | *[!0-9]* | 0) echo "submit.sh: TASKS must be a positive whole number, got '$tasks'" >&2; exit 2 ;; esac
mkdir -p "$out/logs"
export DLNMF=${DLNMF:-$(command -v dlnmf || echo dlnmf)}
# shellcheck disable=SC2086 # SBATCH_OPTS is a list of options
array=$(sbatch --parsable ${SBATCH_OPTS:-} --array="0-$((tasks - 1))" \
  --output="$out/logs/shard-%A_%a.out" "$here/shard.sbatch" "$cmd" "$out" "$@")
array=${array%%;*}
# shellcheck disable=SC2086
summary=$(sbatch --parsable ${SBATCH_OPTS:-} --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$out/logs/summary-%j.out" "$here/summary.sbatch" "$cmd" "$out" "$@")
echo "${array} ${summary%%;*}"
