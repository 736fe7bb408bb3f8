#!/usr/bin/env bash
# Makes the tiny synthetic corpus that tests and scripts use (the demo runs on
# TSP, see scripts/make-demo-corpus.sh): two clearly different
# synthetic English voices from Debian's espeak-ng, each reading 24 different
# Harvard sentences (IEEE 1969 "Recommended practice for speech quality
# measurements", public domain), as 16 kHz mono 16-bit PCM WAV files
# testdata/voices/<voice>/NN.wav.
#
#   male    espeak-ng voice en-us, variant m3, pitch 25, 150 words/min,
#           Harvard lists 1-3 (sentences 1-24)
#   female  espeak-ng voice en-gb, variant f4, pitch 80, 160 words/min,
#           Harvard lists 4-6 (sentences 31-54)
#
# Deterministic: espeak-ng's formant synthesiser has no random parts, and sox
# runs in repeatable mode with dither off, so the same script and the same
# Debian packages make byte-identical files. Tests and scripts read the files
# where this script wrote them; run it again only to change the corpus.
#
# Usage: scripts/make-espeak-voices.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-anchors.sh

male=(
  "The birch canoe slid on the smooth planks."
  "Glue the sheet to the dark blue background."
  "It's easy to tell the depth of a well."
  "These days a chicken leg is a rare dish."
  "Rice is often served in round bowls."
  "The juice of lemons makes fine punch."
  "The box was thrown beside the parked truck."
  "The hogs were fed chopped corn and garbage."
  "Four hours of steady work faced us."
  "A large size in stockings is hard to sell."
  "The boy was there when the sun rose."
  "A rod is used to catch pink salmon."
  "The source of the huge river is the clear spring."
  "Kick the ball straight and follow through."
  "Help the woman get back to her feet."
  "A pot of tea helps to pass the evening."
  "Smoky fires lack flame and heat."
  "The soft cushion broke the man's fall."
  "The salt breeze came across from the sea."
  "The girl at the booth sold fifty bonds."
  "The small pup gnawed a hole in the sock."
  "The fish twisted and turned on the bent hook."
  "Press the pants and sew a button on the vest."
  "The swan dive was far short of perfect."
)
female=(
  "Hoist the load to your left shoulder."
  "Take the winding path to reach the lake."
  "Note closely the size of the gas tank."
  "Wipe the grease off his dirty face."
  "Mend the coat before you go out."
  "The wrist was badly strained and hung limp."
  "The stray cat gave birth to kittens."
  "The young girl gave no clear response."
  "The meal was cooked before the bell rang."
  "What joy there is in living."
  "A king ruled the state in the early days."
  "The ship was torn apart on the sharp reef."
  "Sickness kept him home the third week."
  "The wide road shimmered in the hot sun."
  "The lazy cow lay in the cool grass."
  "Lift the square stone over the fence."
  "The rope will bind the seven books at once."
  "Hop over the fence and plunge in."
  "The friendly gang left the drug store."
  "Mesh wire keeps chicks inside."
  "The frosty air passed through the coat."
  "The crooked maze failed to fool the mouse."
  "Adding fast leaves the sum unclear."
  "The show was a flop from the very start."
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# speak VOICE-DIR ESPEAK-ARGS... -- SENTENCES...
speak() {
  local dir=$1; shift
  local args=()
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  rm -rf "testdata/voices/$dir"
  mkdir -p "testdata/voices/$dir"
  local i=0
  for s in "$@"; do
    i=$((i + 1))
    local n
    n=$(printf '%02d' "$i")
    espeak-ng "${args[@]}" -w "$tmp/raw.wav" "$s"
    # espeak-ng writes 22050 Hz; resample to 16 kHz with sox's default
    # (high quality) resampler with 6 dB of head room against overshoot, then
    # peak-normalise to -3 dBFS; no dither.
    sox -R -D "$tmp/raw.wav" -c 1 -b 16 -e signed-integer \
      "testdata/voices/$dir/$n.wav" gain -6 rate 16000 gain -n -3
  done
}

speak male -v en-us+m3 -p 25 -s 150 -- "${male[@]}"
speak female -v en-gb+f4 -p 80 -s 160 -- "${female[@]}"
du -sh testdata/voices/male testdata/voices/female
