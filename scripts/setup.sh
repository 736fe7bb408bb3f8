#!/usr/bin/env bash
# Installs the system packages dlnmf needs to build and test, when they are
# missing and this user can install them (root with apt-get). Idempotent and
# quick when everything is there. Prints nothing but what it installs.
#
#   libopenblas-dev  fast BLAS for the default cgo build
#   libfftw3-dev     fast FFTs (FFTW 3) for the default cgo build; without
#                    either library the Makefile falls back to the pure-Go
#                    build, CGO_ENABLED=0
#   chromium         the report's browser test (skipped when absent)
#   chromium-driver  chromedriver, through which that test drives chromium
#   python3-numpy    the test that runs docs/models.md's numpy recipe, and the
#                    Python package (python/dlnmf)
#   python3-pytest, python3-mir-eval, python3-sklearn, python3-scipy,
#   python3-matplotlib, python3-setuptools, python3-pip, python3-venv, flac (flac -t checks the MD5 dlnmf writes)
#                    the Python package's tests (scripts/python-test.sh):
#                    scores against mir_eval, NMF against scikit-learn, the
#                    walk-through's plot, pip install into a venv
#
# Slurm (slurm-wlm, munge) for the cluster test is installed by
# scripts/slurm-test.sh itself, which fails when it cannot (no silent skip).
#
# Usage: scripts/setup.sh [build|test]   ("test" also wants chromium, chromium-driver, sox, whose pipe feeds the live test, and the Python packages)
set -u
want=(libopenblas-dev libfftw3-dev)
[ "${1:-build}" = test ] && want+=(chromium chromium-driver python3-numpy sox
  python3-pytest python3-mir-eval python3-sklearn python3-scipy python3-matplotlib
  python3-setuptools python3-pip python3-venv flac)

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: cannot install ${missing[*]} (needs root and apt-get); continuing without" >&2
  exit 0
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they are missing or a day old.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
  apt-get update -qq >/dev/null 2>&1 || true
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
  echo "setup: could not install ${missing[*]}; continuing without" >&2
exit 0
