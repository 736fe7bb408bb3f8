#!/usr/bin/env bash
# The Python package against the references, in one run: dlnmf.bss_eval_sources
# against mir_eval (2 sources x 3 s, 3 sources x 10 s), dlnmf.NMF against
# scikit-learn's NMF(solver="mu") in float64 (513 x 6500, K = 180), and
# model.separate against the Go library's own call. As the other bench
# scripts, both sides run with the same OPENBLAS_CORETYPE (SkylakeX on
# AVX-512 machines unless set). Run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qw avx512f /proc/cpuinfo && export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
scripts/build-python-lib.sh
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-} $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 python/bench/bench_bsseval.py "$@"
/usr/bin/python3 python/bench/bench_nmf.py
/usr/bin/python3 python/bench/bench_separate.py
