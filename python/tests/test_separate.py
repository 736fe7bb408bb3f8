"""model.separate gives exactly the samples `dlnmf separate --encoding
float64` writes for the same mixture, and a Stream those of `dlnmf separate
--live` (as float32, its output): the same library call behind both doors."""

import os
import subprocess
import threading

import numpy as np
import pytest

import dlnmf
from conftest import run_cli, voice, write_wav

wavfile = pytest.importorskip("scipy.io.wavfile")


@pytest.fixture(scope="module")
def model_path(speech, tmp_path_factory):
    m = dlnmf.train({n: s["train"] for n, s in speech.items()}, method="nmf", sizes=[8], iters=30)
    path = tmp_path_factory.mktemp("model") / "m.npz"
    m.save(path)
    return str(path)


def _mixture(rate, seconds=2.0, channels=1):
    """Two voices at rate; (samples, channels) when channels > 1."""
    a = voice(seconds, rate, 205, 70, (700, 1200, 2600))
    b = voice(seconds, rate, 115, 80, (400, 1800, 2400))
    if channels == 1:
        return 0.5 * (a + b)
    return np.stack([0.6 * a + 0.3 * b, 0.3 * a + 0.6 * b], axis=1)


def _cli_separate(cli, model_path, tmp_path, x, rate, *flags):
    tmp_path.mkdir(parents=True, exist_ok=True)
    mix = tmp_path / "mix.wav"
    held = write_wav(mix, x.T if x.ndim == 2 else x, rate)  # what the file holds
    out = tmp_path / "out"
    run_cli(cli, "separate", "-m", model_path, "-o", out, "--encoding", "float64", "--quiet", *flags, mix)
    est = {}
    for f in sorted(os.listdir(out)):
        r, y = wavfile.read(out / f)
        assert r == rate and y.dtype == np.float64
        est[f.split(".")[1]] = y
    return (held.T if x.ndim == 2 else held[0]), est


@pytest.mark.parametrize("rate,channels,settings,flags", [
    (16000, 1, {}, []),                              # the model's rate, two speakers
    (44100, 2, {}, []),                              # stereo, full band
    (16000, 1, {"free": 4}, ["--free", 4]),           # free bases
    (8000, 1, {"iters": 20}, ["--iters", 20]),        # below the model's rate: resampled
    (16000, 1, {"bands": 64}, ["--bands", 64]),       # inference on mel-spaced bands
    (16000, 1, {"bands": -1}, ["--bands", -1]),       # every bin, whatever the model's default
    (16000, 1, {"bands": 64, "coarse_bands": 16, "coarse_iters": 30, "iters": 10},
     ["--bands", 64, "--coarse-bands", 16, "--coarse-iters", 30, "--iters", 10]),  # a coarse start
    (16000, 1, {"step_exponent": 1.5, "iters": 20}, ["--step-exponent", 1.5, "--iters", 20]),  # longer steps
])
def test_separate_gives_the_clis_samples(cli, model_path, tmp_path, rate, channels, settings, flags):
    x, want = _cli_separate(cli, model_path, tmp_path, _mixture(rate, channels=channels), rate, *flags)
    got = dlnmf.load_model(model_path).separate(x, rate, **settings)
    assert list(got) == list(want)
    for name in want:
        assert got[name].dtype == np.float64 and got[name].shape == (x.shape[0],)
        assert np.array_equal(got[name], want[name]), name


@pytest.mark.parametrize("batch", [None, 8])
def test_stream_gives_the_live_clis_samples(cli, model_path, tmp_path, batch):
    rate = 16000
    x = _mixture(rate)
    mix = tmp_path / "mix.wav"
    held = write_wav(mix, x, rate)[0]
    out = tmp_path / "live"
    flags = ["--live-batch", str(batch)] if batch else []
    with open(mix, "rb") as stdin:
        r = subprocess.run([cli, "separate", "-m", model_path, "--live", "--float", "--quiet", *flags, "-o", str(out), "-"],
                           stdin=stdin, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    st = dlnmf.load_model(model_path).stream(rate, live_batch=batch)
    assert st.sources == ["alice", "bob"] and st.rate == rate
    samples = 1023 + ((batch or 1) - 1) * 256  # batches of B frames wait B-1 hops more
    assert st.latency == pytest.approx((samples + 1) / 16000, rel=0.01) and st.latency_samples == samples
    rng = np.random.default_rng(0)
    parts, at = [], 0
    while at < len(held):
        n = int(rng.integers(0, 3000))
        parts.append(st.push(held[at:at + n]))
        at += n
    parts.append(st.finish())
    for name in st.sources:
        got = np.concatenate([p[name] for p in parts])
        _, want = wavfile.read(out / f"live.{name}.wav")
        assert want.dtype == np.float32 and got.shape == want.shape
        assert np.array_equal(got.astype(np.float32), want), name
    with pytest.raises(ValueError, match="finished"):
        st.push(held[:10])


def test_separate_from_several_threads(model_path):
    """Concurrent calls give the serial samples within float rounding: while
    one call's KL solver runs, the library holds OpenBLAS at one thread
    process-wide, so another call's matrix products may run on fewer
    threads and round differently (bit for bit with OPENBLAS_NUM_THREADS=1)."""
    m = dlnmf.load_model(model_path)
    xs = [_mixture(16000, 1.0 + 0.25 * i) for i in range(4)]
    want = [m.separate(x, 16000) for x in xs]
    got = [None] * 4

    def work(i):
        got[i] = m.separate(xs[i], 16000)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g, w in zip(got, want):
        for name in w:
            assert np.max(np.abs(g[name] - w[name])) <= 1e-6 * np.max(np.abs(w[name]))


def test_separate_refusals(model_path):
    m = dlnmf.load_model(model_path)
    x = _mixture(16000, 0.5)
    bad = x.copy()
    bad[100] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        m.separate(bad, 16000)
    with pytest.raises(ValueError, match="pass x.T"):
        m.separate(np.stack([x, x]), 16000)
    with pytest.raises(dlnmf.Error, match="rate"):
        m.separate(x, 4000)  # below half the model's rate
    with pytest.raises(dlnmf.Error, match="silent"):
        m.separate(np.zeros(8000), 16000)
    with pytest.raises(ValueError, match="sample rate"):
        m.separate(x, 0)
    with pytest.raises(TypeError, match="unknown"):
        m.separate(x, 16000, itres=3)
    with pytest.raises(dlnmf.Error, match="quiet|random"):
        m.separate(x, 16000, free=2, free_init="loud")
    st = m.stream(16000)
    with pytest.raises(ValueError, match="NaN"):
        st.push(bad)


def test_universal_model_gives_the_clis_samples(speech, cli, tmp_path):
    """A one-speaker model with a universal speech model (trained by the
    command line) separates from Python as dlnmf separate does, with the
    universal model's name and weight."""
    model = tmp_path / "alice.npz"
    run_cli(cli, "train", "--method", "nmf", "--k", 6, "--iters", 20, "--quiet", "--speaker",
            f"alice={speech['alice']['dir']}", "--universal", f"speech={speech['bob']['dir']},{speech['bob']['disc']}",
            "--universal-k", 4, "--universal-prune", 0, "-o", model)
    m = dlnmf.load_model(model)
    assert m.universal == "speech" and m.speakers == ["alice"]
    for settings, flags in (({}, []), ({"universal_weight": 0.05}, ["--universal-weight", 0.05])):
        x, want = _cli_separate(cli, str(model), tmp_path / str(len(flags)), _mixture(16000), 16000, *flags)
        got = m.separate(x, 16000, **settings)
        assert list(got) == list(want) == ["alice", "speech"]
        for name in want:
            assert np.array_equal(got[name], want[name]), (settings, name)
