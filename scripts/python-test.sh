#!/usr/bin/env bash
# Runs the Python package's tests (python/tests) with Debian's interpreter
# and pytest, against the shared library that scripts/build-python-lib.sh
# built into python/dlnmf. Without pytest or numpy (setup could not install
# them: not root) it says so and skips, as the browser test does without
# chromium. Tests are always expected: pytest's "no tests collected" (exit
# 5) is a failure like any other.
set -u
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
if ! "$PYTHON" -c 'import pytest, numpy' >/dev/null 2>&1; then
  echo "python: $PYTHON has no pytest or numpy (python3-pytest, python3-numpy); skipping the Python package's tests" >&2
  exit 0
fi
cd python
"$PYTHON" -m pytest -q -p no:cacheprovider tests "$@"
rc=$?
[ $rc -eq 5 ] && echo "python: pytest collected no tests in python/tests" >&2
exit $rc
