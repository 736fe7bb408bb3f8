"""What the Python package's tests share: the repository's paths and
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


def voice(seconds, rate, f0, seed, formants=(500, 1500, 2500)):
    """A small speech-like signal: a harmonic tone whose pitch glides
    around f0, shaped by a few formant bumps, with syllable-rate
    amplitude and a little noise, peak 0.5."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    pitch = f0 * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t + seed))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    x = np.zeros_like(t)
    for h in range(1, int(0.45 * rate / (1.2 * f0))):
        gain = sum(np.exp(-((h * f0 - f) / 200.0) ** 2) for f in formants) + 0.05
        x += gain * np.sin(h * phase) / h
    x *= 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t + seed) ** 2
    x += 0.01 * rng.standard_normal(t.size)
    return 0.5 * x / np.max(np.abs(x))


def write_wav(path, x, rate):
    """Writes mono or (channels, samples) float samples as 16-bit PCM WAV;
    returns the samples as the file holds them (int16 / 32768)."""
    import wave
    x = np.atleast_2d(x)
    pcm = np.round(np.clip(x, -1, 32767 / 32768) * 32768).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(x.shape[0])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.T.tobytes())
    return pcm.astype(np.float64) / 32768


@pytest.fixture(scope="session")
def speech(tmp_path_factory):
    """Two speakers' folders of 16 kHz WAV files (train and disc), and
    their samples: {name: {"dir", "disc", "train": [arrays], "held": [arrays]}}."""
    root = tmp_path_factory.mktemp("speech")
    out = {}
    for s, (name, f0, formants) in enumerate((("alice", 210, (700, 1200, 2600)), ("bob", 110, (400, 1800, 2400)))):
        d, disc = root / name, root / (name + "-disc")
        d.mkdir()
        disc.mkdir()
        train = [write_wav(d / f"{name}{i}.wav", voice(1.5, 16000, f0 * (1 + 0.05 * i), 10 * s + i, formants), 16000)[0]
                 for i in range(3)]
        held = [write_wav(disc / f"{name}d{i}.wav", voice(1.0, 16000, f0, 100 + 10 * s + i, formants), 16000)[0]
                for i in range(2)]
        out[name] = {"dir": str(d), "disc": str(disc), "train": train, "held": held}
    return out


@pytest.fixture(scope="session")
def cli(tmp_path_factory):
    """The dlnmf command line, built from this repository like the shared
    library (the same back ends)."""
    import subprocess
    exe = tmp_path_factory.mktemp("bin") / "dlnmf"
    cgo = subprocess.run([os.path.join(REPO, "scripts", "cgo-env.sh")], capture_output=True, text=True).stdout.strip()
    env = dict(os.environ)
    env[cgo.split("=")[0]] = cgo.split("=")[1]
    subprocess.run(["go", "build", "-buildvcs=auto", "-o", str(exe), "./cmd/dlnmf"], cwd=REPO, env=env, check=True)
    return str(exe)


def run_cli(cli, *args):
    import subprocess
    r = subprocess.run([cli, *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout
