#!/usr/bin/env bash
# Benchmarks the audio front end against numpy/scipy in one run:
#   STFT and inverse STFT of 60 s at 16 kHz (1024/1024/256, periodic Hann)
#     Go: stft BenchmarkForward, BenchmarkInverse
#     scipy.signal.stft / scipy.signal.istft (same framing, boundary zeros)
#   resampling 60 s from 48 kHz to 16 kHz
#     Go: resample BenchmarkResample48to16
#     scipy.signal.resample_poly(x, 1, 3)
# and prints the medians and the Go/scipy ratios (below 1: Go is faster).
#
# Usage: scripts/bench-frontend.sh [COUNT]   (repetitions per side, default 7)
# Both sides run with the same OPENBLAS_CORETYPE (SkylakeX unless set), as the
# project's benchmark rule asks, although neither side here uses BLAS.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-7}
scripts/install-anchors.sh
# SkylakeX only where the processor has AVX-512 (elsewhere OpenBLAS knows it).
grep -qw avx512f /proc/cpuinfo && export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
env $(scripts/cgo-env.sh) go test -run '^$' -bench '^Benchmark(Forward|Inverse)$' -benchmem -count "$count" ./stft/ | tee -a "$out" >&2
env $(scripts/cgo-env.sh) go test -run '^$' -bench '^BenchmarkResample48to16$' -benchmem -count "$count" ./resample/ | tee -a "$out" >&2
/usr/bin/python3 scripts/bench_frontend.py --count "$count" --go "$out"
