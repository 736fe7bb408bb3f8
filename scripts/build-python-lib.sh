#!/usr/bin/env bash
# Builds the C shared library that the Python package loads (python/libdlnmf,
# go build -buildmode=c-shared) into python/dlnmf/libdlnmf.so, or into the
# path given. The Makefile's "python" target and python/setup.py (pip) both
# run it. A shared library always needs cgo; without OpenBLAS and FFTW it is
# built with the pure-Go back ends (tag noopenblas), as scripts/cgo-env.sh
# decides for the command.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-python/dlnmf/libdlnmf.so}
tags=()
[ "$(scripts/cgo-env.sh)" = CGO_ENABLED=1 ] || tags=(-tags noopenblas)
# Built beside the target and renamed over it, so that a process that has
# the old library loaded keeps a whole file.
tmp="$out.tmp$$.so"
trap 'rm -f "$tmp" "${tmp%.so}.h"' EXIT
CGO_ENABLED=1 "${GO:-go}" build -buildmode=c-shared -buildvcs=auto "${tags[@]}" -o "$tmp" ./python/libdlnmf
mv -f "$tmp" "$out" # the C header goes: the Python package declares the prototypes itself
