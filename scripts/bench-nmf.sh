#!/usr/bin/env bash
# Times one KL multiplicative-update iteration of the nmf package (Go,
# float32, OpenBLAS) against scikit-learn (float32 and float64) and numpy
# float32 on the same shapes, in one run, and prints per-iteration medians
# and ratios.
#
#   scripts/bench-nmf.sh                 # default: 5 Go runs, 3 Python runs per shape
#   COUNT=10 REPEATS=5 scripts/bench-nmf.sh
#
# Both sides run with the same OPENBLAS_CORETYPE (SkylakeX unless set):
# OpenBLAS 0.3.21 falls back to slow generic kernels on CPUs it does not know.
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
export "$(scripts/cgo-env.sh)"
COUNT=${COUNT:-5}
REPEATS=${REPEATS:-3}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE $CGO_ENABLED; $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
go test -run '^$' -bench 'KLIteration' -benchmem -count "$COUNT" -benchtime 10x ./nmf/ | tee "$out" | grep -E '^Benchmark' || true
/usr/bin/python3 scripts/bench_nmf.py --go "$out" --repeats "$REPEATS"
