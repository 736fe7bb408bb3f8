#!/usr/bin/env bash
# Times one KL multiplicative-update iteration of the nmf package (Go,
# float32, OpenBLAS) against scikit-learn (float32 and float64) and numpy
# float32 on the same shapes, and prints per-iteration medians and ratios.
# Go and Python alternate in ROUNDS rounds (a Go benchmark run of every
# shape, then one timing of every Python case), so that both sides see the
# same moments of a machine whose speed drifts; the medians are over rounds.
#
#   scripts/bench-nmf.sh                 # default: 5 rounds
#   ROUNDS=9 scripts/bench-nmf.sh
#
# Both sides run with the same OPENBLAS_CORETYPE (SkylakeX unless set):
# OpenBLAS 0.3.21 falls back to slow generic kernels on CPUs it does not know.
set -euo pipefail
cd "$(dirname "$0")/.."
# SkylakeX only where the processor has AVX-512 (elsewhere OpenBLAS knows it).
grep -qw avx512f /proc/cpuinfo && export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
export "$(scripts/cgo-env.sh)"
ROUNDS=${ROUNDS:-5}
out=$(mktemp)
py=$(mktemp)
bin=$(mktemp)
trap 'rm -f "$out" "$py" "$bin"' EXIT
go test -c -o "$bin" ./nmf/
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-} $CGO_ENABLED; $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg); $ROUNDS rounds"
for r in $(seq "$ROUNDS"); do
	"$bin" -test.run '^$' -test.bench 'KLIteration' -test.benchmem -test.count 1 -test.benchtime 10x | tee -a "$out" | grep -E '^Benchmark' || true
	/usr/bin/python3 scripts/bench_nmf.py --measure "$py"
done
/usr/bin/python3 scripts/bench_nmf.py --go "$out" --py "$py"
