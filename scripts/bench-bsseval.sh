#!/usr/bin/env bash
# Times mir_eval 0.7's bss_eval_sources (compute_permutation=True) and
# bsseval.Sources on the same signals (2 sources of 3 s and 3 sources of
# 10 s at 16 kHz), in one run, and prints the medians and the speed-up.
# The Go benchmark also checks that its scores match mir_eval's within
# 1e-6 dB on these signals.
#
#   scripts/bench-bsseval.sh [REPETITIONS]     (default 5)
#
# Both sides use OpenBLAS with the same core type (see notes on
# OPENBLAS_CORETYPE); run it on a quiet machine for meaningful numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
# SkylakeX only where the processor has AVX-512 (elsewhere OpenBLAS knows it).
grep -qw avx512f /proc/cpuinfo && export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
PY=/usr/bin/python3
$PY -c 'import mir_eval, scipy' 2>/dev/null || scripts/install-anchors.sh
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

$PY scripts/bench_bsseval.py gen "$dir"
$PY scripts/bench_bsseval.py time "$dir" "$reps"
CGO=$(scripts/cgo-env.sh)
env $CGO BSSEVAL_BENCH_DIR="$dir" go test -run '^$' -bench '^BenchmarkBSSEvalFiles$' \
  -benchtime "${reps}x" -count "$reps" ./bsseval/ | tee "$dir/go.txt" | grep -E '^(Benchmark|ok|FAIL|---)' || true

$PY - "$dir" <<'PY'
import json, re, statistics, sys
d = sys.argv[1]
meta = json.load(open(d + "/cases.json"))
go = {}
for line in open(d + "/go.txt"):
    m = re.match(r"BenchmarkBSSEvalFiles/(\S+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op", line)
    if m:
        go.setdefault(m.group(1), []).append(float(m.group(3)) / 1e9)
print("%-10s %14s %14s %9s" % ("case", "mir_eval s", "bsseval s", "speed-up"))
for c in meta:
    g = statistics.median(go[c["name"]])
    print("%-10s %14.4f %14.4f %8.1fx" % (c["name"], c["mir_eval_seconds"], g, c["mir_eval_seconds"] / g))
PY
