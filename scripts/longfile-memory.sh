#!/usr/bin/env bash
# Peak memory and wall time of `dlnmf separate` on long recordings (issue 5:
# peak memory must not grow with the file length).
#
# Builds bin/dlnmf, trains a small model on the demo corpus (democorpus/male
# and democorpus/female, about one minute each), makes 0 dB mixtures of the
# two speakers of 1, 10 and 60 minutes at 16 kHz (16-bit PCM; the 60-minute
# one is 110 MB) by looping the corpus with sox, separates each with
# `/usr/bin/time -v bin/dlnmf separate --jobs 1` and prints the peak RSS
# (maximum resident set size) and wall time of each run. Everything goes to a
# temporary folder that is removed at the end.
#
# Usage: scripts/longfile-memory.sh [MINUTES ...]   (default: 1 10 60)
# Environment: METHOD (nmf|lnmf|dlnmf, default lnmf), LAYERS (default 180,20),
# ITERS (inference iterations, default 200), TMPDIR (where the files go).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=("$@")
[ ${#minutes[@]} -gt 0 ] || minutes=(1 10 60)
method=${METHOD:-lnmf}
layers=${LAYERS:-180,20}
iters=${ITERS:-200}
command -v sox >/dev/null || scripts/install-anchors.sh
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}

env $(scripts/cgo-env.sh) go build -o bin/dlnmf ./cmd/dlnmf
work=$(mktemp -d "${TMPDIR:-/tmp}/longfile-memory.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "training a $method model ($layers) on the demo corpus..." >&2
bin/dlnmf train --quiet --method "$method" --layers "$layers" --k 20 --iters 100 --seed 1 \
  --speaker male=democorpus/male --speaker female=democorpus/female -o "$work/model.npz"

# One 0 dB mixture of the two speakers' concatenated sentences (cut to the
# shorter), looped to each length.
sox democorpus/male/*.wav "$work/male.wav"
sox democorpus/female/*.wav "$work/female.wav"
len=$(printf '%s\n%s\n' "$(soxi -s "$work/male.wav")" "$(soxi -s "$work/female.wav")" | sort -n | head -1)
sox "$work/male.wav" "$work/m.wav" trim 0 "${len}s" norm -6
sox "$work/female.wav" "$work/f.wav" trim 0 "${len}s" norm -6
sox -m "$work/m.wav" "$work/f.wav" "$work/base.wav"
rm "$work/male.wav" "$work/female.wav" "$work/m.wav" "$work/f.wav"
base_s=$(soxi -D "$work/base.wav")

printf '%-8s %12s %12s %10s %10s %14s\n' minutes samples "peak RSS MB" "wall s" "user s" "x real time"
for m in "${minutes[@]}"; do
  in="$work/mix${m}min.wav"
  secs=$((m * 60))
  repeats=$(awk -v t="$secs" -v b="$base_s" 'BEGIN { print int(t / b) + 1 }')
  sox "$work/base.wav" "$in" repeat "$repeats" trim 0 "$secs"
  out="$work/out"
  mkdir -p "$out"
  /usr/bin/time -v -o "$work/time.txt" bin/dlnmf separate --quiet --jobs 1 --iters "$iters" \
    -m "$work/model.npz" -o "$out" "$in"
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$work/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.1f", s }' "$work/time.txt")
  user=$(awk -F': ' '/User time/ { printf "%.1f", $2 }' "$work/time.txt")
  printf '%-8s %12s %12s %10s %10s %14.1f\n' "$m" "$(soxi -s "$in")" "$rss" "$wall" "$user" "$(awk -v s="$secs" -v w="$wall" 'BEGIN { print s / w }')"
  # Outputs have the input's length.
  for f in "$out"/*.wav; do
    [ "$(soxi -s "$f")" = "$(soxi -s "$in")" ] || { echo "$f: wrong length" >&2; exit 1; }
  done
  rm -rf "$in" "$out"
done
