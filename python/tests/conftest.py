"""Shared helpers of the Python package's tests: the repository's paths and
the bsseval package's golden cases (mir_eval 0.7's numbers)."""

import gzip
import json
import os

import numpy as np
import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN = os.path.join(REPO, "bsseval", "testdata")


def golden_cases():
    """The golden cases of bsseval/testdata: (case, references, estimates)."""
    with open(os.path.join(GOLDEN, "golden.json")) as f:
        g = json.load(f)
    with gzip.open(os.path.join(GOLDEN, "signals.i16.gz")) as f:
        data = np.frombuffer(f.read(), dtype="<i2")
    out = []
    for c in g["cases"]:
        at, n, ns = c["offset"], c["samples"], c["nsrc"]
        sig = data[at:at + 2 * ns * n].astype(np.float64).reshape(2 * ns, n) / g["scale"]
        out.append((c, sig[:ns], sig[ns:]))
    return out


def golden_value(v):
    """A number of the golden file: '+Inf'/'-Inf' strings and null (NaN)."""
    return {"+Inf": np.inf, "-Inf": -np.inf, None: np.nan}.get(v, v) if not isinstance(v, float) else v


def assert_same_db(got, want, tol=1e-6):
    """Scores equal within tol dB; infinities and NaN must match exactly."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray([golden_value(v) for v in np.ravel(want)] if np.asarray(want).dtype == object
                      else want, dtype=np.float64).reshape(got.shape)
    finite = np.isfinite(want)
    assert np.array_equal(np.isnan(got), np.isnan(want)), (got, want)
    assert np.array_equal(got[np.isinf(want)], want[np.isinf(want)]), (got, want)
    assert np.all(np.abs(got[finite] - want[finite]) <= tol), (got, want, np.max(np.abs(got[finite] - want[finite])))


@pytest.fixture(scope="session")
def golden():
    return golden_cases()
