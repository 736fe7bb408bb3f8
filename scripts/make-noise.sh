#!/usr/bin/env bash
# Makes the noises of the enhancement experiment (docs/RESULTS.md,
# "Sources without a model") at run time: white, pink and babble, 300 s each
# at 16 kHz, into OUTDIR (default /tmp/dlnmf-noise). The babble is 8 talkers
# at once drawn from the 120 CMU ARCTIC utterances of slt and bdl, speakers
# not in the TSP FA model under test.
#
#   scripts/make-noise.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/dlnmf-noise}
arctic=${ARCTIC:-../shared/corpus/cmu-arctic}
go run ./scripts/makenoise -o "$out" -seconds 300 -talkers 8 -speech "$arctic/slt,$arctic/bdl"
