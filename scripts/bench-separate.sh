#!/usr/bin/env bash
# Times BenchmarkSeparate3s: a 3-second 16 kHz mixture separated
# with a two-speaker DL-NMF model (K1 = 180, K2 = 20), from decoded samples
# to output samples, 200 inference iterations, on ONE core: the test binary
# is pinned to one CPU with taskset, so the Go runtime, the FFTs and the
# garbage collector share that core too. Prints every run, then the median
# and the best.
#
#   scripts/bench-separate.sh            # 10 runs on the last CPU
#   COUNT=20 CPU=0 scripts/bench-separate.sh
#
# OPENBLAS_CORETYPE is SkylakeX unless set, as `dlnmf` itself sets it (see
# internal/openblas); this benchmark's products run in the nmf package's own
# kernel, so it matters only for the two small products of the gains.
set -euo pipefail
cd "$(dirname "$0")/.."
# SkylakeX only where the processor has AVX-512 (elsewhere OpenBLAS knows it).
grep -qw avx512f /proc/cpuinfo && export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
export "$(scripts/cgo-env.sh)"
COUNT=${COUNT:-10}
CPU=${CPU:-$(($(nproc) - 1))}
bin=$(mktemp)
out=$(mktemp)
trap 'rm -f "$bin" "$out"' EXIT
go test -c -o "$bin" ./separation/
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-} $CGO_ENABLED; pinned to CPU $CPU of $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"
taskset -c "$CPU" "$bin" -test.run '^$' -test.bench 'Separate3s$' -test.benchmem -test.count "$COUNT" | tee "$out" | grep -E '^Benchmark'
awk '/^BenchmarkSeparate3s/ {print $3 / 1e6}' "$out" | sort -n | awk '
	{ v[NR] = $1 }
	END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "median %.2f ms (%.0fx real time), best %.2f ms, worst %.2f ms, %d runs; target: under 30 ms (100x)\n", m, 3000 / m, v[1], v[NR], NR
	}'
