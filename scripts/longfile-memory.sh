#!/usr/bin/env bash
# Peak memory and wall time of `dlnmf separate`, `dlnmf info` and
# `dlnmf spectrogram` on long recordings (peak memory must
# not grow with the file length; under 300 MB for 2 hours at 48 kHz).
#
# Builds bin/dlnmf, trains a small model on the demo corpus (testdata/voices/male
# and testdata/voices/female, about one minute each), makes 0 dB mixtures of the
# two speakers of 1, 10 and 60 minutes at 16 kHz (16-bit PCM; the 60-minute
# one is 110 MB) by looping the corpus with sox, separates each with
# `/usr/bin/time -v bin/dlnmf separate --jobs 1` and prints the peak RSS
# (maximum resident set size) and wall time of each run. Everything goes to a
# temporary folder that is removed at the end.
#
# Usage: scripts/longfile-memory.sh [MINUTES ...]   (default: 1 10 60)
# Environment: COMMANDS (which of separate, info, spectrogram to measure,
# default all three), RATE (sample rate of the long files, default 16000;
# the long-file check is RATE=48000 with 120 minutes), METHOD (nmf|lnmf|dlnmf,
# default lnmf), LAYERS (default 180,20), ITERS (inference iterations,
# default 200), TMPDIR (where the files go).
#
# Example: RATE=48000 COMMANDS="info spectrogram" scripts/longfile-memory.sh 10 120
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=("$@")
[ ${#minutes[@]} -gt 0 ] || minutes=(1 10 60)
method=${METHOD:-lnmf}
layers=${LAYERS:-180,20}
iters=${ITERS:-200}
commands=${COMMANDS:-separate info spectrogram}
rate=${RATE:-16000}
command -v sox >/dev/null || scripts/install-anchors.sh
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }
# SkylakeX only where the processor has AVX-512 (elsewhere OpenBLAS knows it).
grep -qw avx512f /proc/cpuinfo && export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}

env $(scripts/cgo-env.sh) go build -o bin/dlnmf ./cmd/dlnmf
work=$(mktemp -d "${TMPDIR:-/tmp}/longfile-memory.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [[ " $commands " == *" separate "* ]]; then
  echo "training a $method model ($layers) on the demo corpus..." >&2
  bin/dlnmf train --quiet --method "$method" --layers "$layers" --k 20 --iters 100 --seed 1 \
    --speaker male=testdata/voices/male --speaker female=testdata/voices/female -o "$work/model.npz"
fi

# One 0 dB mixture of the two speakers' concatenated sentences (cut to the
# shorter), looped to each length.
sox testdata/voices/male/*.wav "$work/male.wav"
sox testdata/voices/female/*.wav "$work/female.wav"
len=$(printf '%s\n%s\n' "$(soxi -s "$work/male.wav")" "$(soxi -s "$work/female.wav")" | sort -n | head -1)
sox "$work/male.wav" "$work/m.wav" trim 0 "${len}s" norm -6
sox "$work/female.wav" "$work/f.wav" trim 0 "${len}s" norm -6
sox -m "$work/m.wav" "$work/f.wav" -r "$rate" "$work/base.wav"
rm "$work/male.wav" "$work/female.wav" "$work/m.wav" "$work/f.wav"
base_s=$(soxi -D "$work/base.wav")

# measure CMD ARGS...: runs bin/dlnmf under /usr/bin/time -v and prints one
# row of the table.
measure() {
  local cmd=$1
  shift
  /usr/bin/time -v -o "$work/time.txt" bin/dlnmf "$cmd" "$@" >/dev/null
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$work/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.1f", s }' "$work/time.txt")
  user=$(awk -F': ' '/User time/ { printf "%.1f", $2 }' "$work/time.txt")
  printf '%-12s %-8s %8s %12s %12s %10s %10s %14.1f\n' "$cmd" "$m" "$rate" "$(soxi -s "$in")" "$rss" "$wall" "$user" "$(awk -v s="$secs" -v w="$wall" 'BEGIN { print s / (w > 0 ? w : 0.05) }')"
}

printf '%-12s %-8s %8s %12s %12s %10s %10s %14s\n' command minutes rate samples "peak RSS MB" "wall s" "user s" "x real time"
for m in "${minutes[@]}"; do
  in="$work/mix${m}min.wav"
  secs=$((m * 60))
  repeats=$(awk -v t="$secs" -v b="$base_s" 'BEGIN { print int(t / b) + 1 }')
  sox "$work/base.wav" "$in" repeat "$repeats" trim 0 "$secs"
  for cmd in $commands; do
    case $cmd in
    separate)
      out="$work/out"
      mkdir -p "$out"
      measure separate --quiet --jobs 1 --iters "$iters" -m "$work/model.npz" -o "$out" "$in"
      # Outputs have the input's length.
      for f in "$out"/*.wav; do
        [ "$(soxi -s "$f")" = "$(soxi -s "$in")" ] || { echo "$f: wrong length" >&2; exit 1; }
      done
      rm -rf "$out"
      ;;
    info)
      measure info "$in"
      ;;
    spectrogram)
      measure spectrogram --quiet -o "$work/spec.png" "$in"
      [ -s "$work/spec.png" ] || { echo "no picture" >&2; exit 1; }
      rm -f "$work/spec.png"
      ;;
    *)
      echo "unknown command $cmd in COMMANDS" >&2
      exit 2
      ;;
    esac
  done
  rm -f "$in"
done
