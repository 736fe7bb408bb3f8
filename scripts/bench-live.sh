#!/usr/bin/env bash
# Live separation, on ONE core (the test binary pinned with
# taskset): a two-speaker DL-NMF model (K1 = 180, K2 = 20) and a 3-second
# 16 kHz mixture pushed one hop (16 ms) at a time.
#   BenchmarkLive200 / 50 / 20: how many real-time streams one core keeps
#     up with, at 200, 50 and 20 inference iterations per frame
#     (x-realtime: wall time; x-realtime-cpu: CPU time, steadier on a
#     shared machine); BenchmarkSeparate3s is the offline anchor of the same run.
#   BenchmarkLivePaced: the mixture fed at real-time pace; the median and
#     99th percentile of the compute delay from a chunk's arrival to the
#     output of the samples it completes (p50-ms, p99-ms), and the
#     algorithmic latency the -h text states (latency-ms).
#
#   BenchmarkLiveFree200 / 20 (with FREE=K): Live200 / Live20 with K free
#     bases learned online (the default buffer of 2 s, updated every 4
#     frames); the ratio to Live200 / Live20 of the same run is the cost of
#     learning them.
#
#   scripts/bench-live.sh            # 5 runs of each
#   COUNT=10 CPU=0 scripts/bench-live.sh
#   FREE=20 COUNT=3 scripts/bench-live.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# SkylakeX only where the processor has AVX-512 (elsewhere OpenBLAS knows it).
grep -qw avx512f /proc/cpuinfo && export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
export "$(scripts/cgo-env.sh)"
COUNT=${COUNT:-5}
CPU=${CPU:-$(($(nproc) - 1))}
bin=$(mktemp)
out=$(mktemp)
trap 'rm -f "$bin" "$out"' EXIT
go test -c -o "$bin" ./separation/
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-} $CGO_ENABLED; pinned to CPU $CPU of $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"
benches='Live200$|Live50$|Live20$|Separate3s$'
if [ -n "${FREE:-}" ]; then
	benches="$benches|LiveFree200\$|LiveFree20\$"
fi
taskset -c "$CPU" "$bin" -test.run '^$' -test.bench "$benches" -test.benchtime 3x -test.count "$COUNT" -live.free "${FREE:-20}" | tee "$out" | grep -E '^Benchmark'
taskset -c "$CPU" "$bin" -test.run '^$' -test.bench 'LivePaced$' -test.benchtime 1x -test.count "$COUNT" | tee -a "$out" | grep -E '^Benchmark'
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
metric() { awk -v b="$1" -v m="$2" '$1 ~ "^"b"(-[0-9]+)?$" { for (i = 3; i < NF; i++) if ($(i + 1) == m) print $i }' "$out" | median; }
for b in BenchmarkLive200 BenchmarkLive50 BenchmarkLive20 BenchmarkSeparate3s; do
	echo "median $b: $(metric "$b" x-realtime) x real time (wall), $(metric "$b" x-realtime-cpu) x real time (CPU)"
done
if [ -n "${FREE:-}" ]; then
	for it in 200 20; do
		with=$(metric "BenchmarkLiveFree$it" x-realtime-cpu)
		without=$(metric "BenchmarkLive$it" x-realtime-cpu)
		echo "median BenchmarkLiveFree$it (--free $FREE): $(metric "BenchmarkLiveFree$it" x-realtime) x real time (wall), $with x real time (CPU); $(awk -v a="$with" -v b="$without" 'BEGIN { printf "%.2f", a / b }') of BenchmarkLive$it's"
	done
fi
echo "median BenchmarkLivePaced: compute delay p50 $(metric BenchmarkLivePaced p50-ms) ms, p99 $(metric BenchmarkLivePaced p99-ms) ms; algorithmic latency $(metric BenchmarkLivePaced latency-ms) ms"
