#!/usr/bin/env bash
# Prints CGO_ENABLED=1 when both OpenBLAS and FFTW 3 can be linked,
# CGO_ENABLED=0 otherwise, so that the build falls back to gonum's pure-Go
# BLAS and FFT on a machine without them (the cgo build needs both).
if [ "${CGO_ENABLED:-}" = 0 ]; then echo CGO_ENABLED=0; exit 0; fi
if command -v gcc >/dev/null 2>&1 && echo 'int main(){return 0;}' |
  gcc -x c - -lopenblas -lfftw3 -lm -o /dev/null >/dev/null 2>&1; then
  echo CGO_ENABLED=1
else
  echo CGO_ENABLED=0
fi
