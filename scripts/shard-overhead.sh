#!/usr/bin/env bash
# Sharding overhead: the protocol in one process (--jobs 2) and
# the same protocol as 2 shards of one core each (--jobs 1), started at
# once on this machine, then --summarize. Prints both wall times, their
# ratio, the per-unit bookkeeping share, and checks that both runs give the
# same units and tables byte for byte.
#   scripts/shard-overhead.sh OUTDIR [experiment flags...]
# Default flags: the paper's protocol on TSP FA+MC (15 repeats).
set -euo pipefail
out=${1:?usage: scripts/shard-overhead.sh OUTDIR [experiment flags...]}
shift
cd "$(dirname "$0")/.."
shared=${SHARED:-../shared}
[ $# -gt 0 ] || set -- --speaker FA="$shared/corpus/tsp/FA" --speaker MC="$shared/corpus/tsp/MC"
go build -o "$out/dlnmf" ./cmd/dlnmf
bin=$out/dlnmf
rm -rf "$out/one" "$out/sharded"
mkdir -p "$out/sharded" # a shard needs the shared folder to exist
# TOGETHER=1 starts the one-process run and the two shards at the same
# time: on a machine shared with other work, both then see the same load
# (every busy thread gets the same share of the cores: the one process
# runs two workers, each shard one), so the ratio of their wall times still
# measures the overhead; otherwise the two runs follow each other.
t0=$(date +%s.%N)
if [ "${TOGETHER:-0}" = 1 ]; then
  ( "$bin" experiment "$@" --jobs 2 --quiet -o "$out/one" >"$out/one.log" 2>&1; date +%s.%N >"$out/one.end" ) &
  pone=$!
else
  "$bin" experiment "$@" --jobs 2 --quiet -o "$out/one" >"$out/one.log" 2>&1
  date +%s.%N >"$out/one.end"
fi
t1=$(date +%s.%N)
"$bin" experiment "$@" --jobs 1 --quiet --shard 0/2 -o "$out/sharded" >"$out/shard0.log" 2>&1 &
p0=$!
"$bin" experiment "$@" --jobs 1 --quiet --shard 1/2 -o "$out/sharded" >"$out/shard1.log" 2>&1 &
p1=$!
wait $p0
wait $p1
t2=$(date +%s.%N)
"$bin" experiment "$@" --quiet --summarize -o "$out/sharded" >"$out/summary.log" 2>&1
t3=$(date +%s.%N)
[ "${TOGETHER:-0}" = 1 ] && wait $pone
one=$(echo "$(cat "$out/one.end") - $t0" | bc)
sh=$(echo "$t3 - $t1" | bc)
summ=$(echo "$t3 - $t2" | bc)
echo "one process: ${one} s; 2 shards + summary: ${sh} s (summary ${summ} s); ratio $(echo "scale=4; $sh / $one" | bc)"
# Bookkeeping per unit: the time to checksum and write a unit (its
# save_seconds) against the time to compute it (uNNNNN.time.json).
python3 - "$out" <<'PY'
import json, glob, sys
out = sys.argv[1]
for d in ("one", "sharded"):
    t = [json.load(open(f)) for f in sorted(glob.glob(f"{out}/{d}/units/u*.time.json"))]
    secs = sorted(x["seconds"] for x in t)
    share = sorted(x["save_seconds"] / x["seconds"] for x in t)
    print(f"{d}: {len(t)} units, compute median {secs[len(secs)//2]:.1f} s, bookkeeping median {100*share[len(share)//2]:.3f}% max {100*share[-1]:.3f}%")
PY
n=0
for f in "$out"/one/units/u*[0-9].json; do
  cmp -s "$f" "$out/sharded/units/${f##*/}" || { echo "DIFFERS: ${f##*/}"; exit 1; }
  n=$((n + 1))
done
cmp -s "$out/one/scores.csv" "$out/sharded/scores.csv" || { echo "DIFFERS: scores.csv"; exit 1; }
cmp -s <(sed '/^## Settings/,$d' "$out/one/results.md") <(sed '/^## Settings/,$d' "$out/sharded/results.md") || { echo "DIFFERS: results.md"; exit 1; }
echo "identical: $n units byte for byte, scores.csv, results.md tables"
