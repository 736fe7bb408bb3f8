#!/usr/bin/env bash
# Makes the demo corpus that `dlnmf demo` embeds: the paper's two speakers,
# FA (female) and MC (male) of the McGill TSP speech database, 60 Harvard
# sentences each, resampled once from the corpus's 48 kHz to 16 kHz (the
# paper's rate) and stored as 16-bit mono FLAC files
# democorpus/tsp/<speaker>/<file>.flac, with the corpus's licence notice and
# credit in democorpus/tsp/README.md and in each file's FLAC comment.
#
# Resampling: sox's very-high-quality band-limited resampler (rate -v: linear
# phase, 95% pass band, 175 dB stop band), repeatable mode, no dither; FLAC
# level 8 (lossless). The same script and the same Debian packages make
# byte-identical files. The Go package democorpus embeds whatever this script
# wrote; run it again only to change the corpus.
#
# Usage: scripts/make-demo-corpus.sh [TSP-DIR]   (default: ../shared/corpus/tsp,
#        the folder with FA/ and MC/ of the corpus's 48 kHz files)
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-../shared/corpus/tsp}
if ! command -v sox >/dev/null 2>&1 || ! sox -h 2>/dev/null | grep -q '\bflac\b'; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "make-demo-corpus: needs sox with FLAC support (apt-get install sox libsox-fmt-all, as root)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends sox libsox-fmt-all >/dev/null
fi

out=democorpus/tsp
for sp in FA MC; do
  ls "$src/$sp"/"$sp"*.wav >/dev/null
  rm -rf "${out:?}/$sp"
  mkdir -p "$out/$sp"
  for f in "$src/$sp"/"$sp"*.wav; do
    b=$(basename "$f" .wav)
    sox -R -D -V1 "$f" \
      --comment "TSP speech database, P. Kabal, McGill University, 2002 (Simplified BSD licence); speaker $sp, file $b; resampled to 16 kHz by dlnmf scripts/make-demo-corpus.sh" \
      -c 1 -b 16 -e signed-integer -C 8 "$out/$sp/$b.flac" rate -v 16000
  done
done
du -sh "$out/FA" "$out/MC"
