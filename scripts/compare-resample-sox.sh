#!/usr/bin/env bash
# Compares dlnmf's resampler with sox's default one (Debian's sox, "rate"
# effect at its default quality) on the TSP corpus, 48 kHz -> 16 kHz, and
# prints how far below the signal the difference lies, per file summary.
#
# Usage: scripts/compare-resample-sox.sh [CORPUS_DIR] [RATE]
#   CORPUS_DIR  default ../shared/corpus/tsp (all *.wav below it)
#   RATE        target rate, default 16000
# sox writes 32-bit float so that its output is not quantised or dithered;
# the Go side (resample/sox_test.go, TestCompareWithSox) reads both files.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/corpus/tsp}
rate=${2:-16000}
scripts/install-anchors.sh
command -v sox >/dev/null || { echo "compare-resample-sox: sox is not installed" >&2; exit 1; }
[ -d "$corpus" ] || { echo "compare-resample-sox: no corpus at $corpus" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
manifest=$tmp/manifest.tsv
i=0
while IFS= read -r f; do
  out=$tmp/$i.wav
  sox "$f" -e floating-point -b 32 "$out" rate "$rate"
  printf '%s\t%s\n' "$(realpath "$f")" "$out" >>"$manifest"
  i=$((i + 1))
done < <(find "$corpus" -name '*.wav' | sort)
echo "sox $(sox --version | sed 's/.*SoX //'): resampled $i files to $rate Hz" >&2
DLNMF_SOX_MANIFEST=$manifest go test -count=1 -run '^TestCompareWithSox$' -v ./resample/ | grep -E 'RESULT|samples, sox|FAIL|ok' | sed 's/^ *sox_test.go:[0-9]*: //'
