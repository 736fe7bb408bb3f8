#!/usr/bin/env bash
# Runs the experiments of docs/RESULTS.md, "Sources without a model"
# (issue 13): TSP FA known against the unknown talker MC at 0 dB (free bases
# K = 10, 20, 40, a universal model of CMU ARCTIC slt + bdl, and the
# supervised model of both), and FA in white, pink and babble noise
# (scripts/make-noise.sh) at 0 and 5 dB. NMF K = 20 for every model.
#
#   REPEATS=5 scripts/semi-results.sh OUTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/dlnmf-semi-results}
repeats=${REPEATS:-5}
corpus=${CORPUS:-../shared/corpus}
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
mkdir -p "$out"
go build -o "$out/dlnmf" ./cmd/dlnmf
scripts/make-noise.sh "$out/noise"
common=(--speaker "FA=$corpus/tsp/FA" --k 20 --repeats "$repeats" --free 10,20,40 --quiet)
"$out/dlnmf" experiment "${common[@]}" --unknown "MC=$corpus/tsp/MC" --snr 0 \
	--universal "speech=$corpus/cmu-arctic/slt,$corpus/cmu-arctic/bdl" --sparsity 0.001,0.01,0.05 -o "$out/unknown-MC-0dB"
for noise in white pink babble; do
	for snr in 0 5; do
		"$out/dlnmf" experiment "${common[@]}" --noise "$noise=$out/noise/$noise.wav" --snr "$snr" -o "$out/$noise-${snr}dB"
	done
done
