#!/usr/bin/env bash
# Installs the reference implementations ("anchors") that the golden-file
# generators and the comparison scripts run against, from Debian's packages:
# numpy, scipy, scikit-learn, mir_eval, sox and espeak-ng. They are not needed
# to build dlnmf or to run its tests (the golden files are committed).
# Scripts must call /usr/bin/python3: Debian's packages install there.
set -eu
pkgs=(python3-numpy python3-scipy python3-sklearn python3-mir-eval sox espeak-ng)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}"
