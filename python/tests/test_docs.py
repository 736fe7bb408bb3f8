"""docs/python.md's walk-through runs as written: its python blocks in
order, in one namespace, from a folder where ../shared/corpus/tsp holds TSP's
FA and MC (the real corpus beside the repository when it is there, small
synthetic voices otherwise)."""

import os
import re

import numpy as np
import pytest

from conftest import REPO, voice, write_wav


def _blocks():
    with open(os.path.join(REPO, "docs", "python.md")) as f:
        return re.findall(r"```python\n(.*?)```", f.read(), re.S)


def _synthetic_tsp(root):
    for s, (name, f0, formants) in enumerate((("FA", 210, (700, 1200, 2600)), ("MC", 110, (400, 1800, 2400)))):
        d = root / "shared" / "corpus" / "tsp" / name
        d.mkdir(parents=True)
        for i in range(6):
            write_wav(d / f"{name}01_{i + 1:02d}.wav", voice(2.0, 48000, f0 * (1 + 0.04 * i), 10 * s + i, formants), 48000)


def test_walkthrough_runs(tmp_path, monkeypatch):
    blocks = _blocks()
    assert len(blocks) >= 7
    real = os.path.join(REPO, "..", "shared", "corpus", "tsp")
    work = tmp_path / "repo"
    work.mkdir()
    if os.path.isdir(os.path.join(real, "FA")) and os.path.isdir(os.path.join(real, "MC")):
        os.symlink(os.path.abspath(os.path.join(REPO, "..", "shared")), tmp_path / "shared")
    else:
        _synthetic_tsp(tmp_path)
    monkeypatch.chdir(work)
    try:
        import matplotlib  # noqa: F401
        plot = True
    except ImportError:
        plot = False
    ns = {}
    for code in blocks:
        if "matplotlib" in code and not plot:
            print("skipping the plot: no matplotlib (Debian's python3-matplotlib)")
            continue
        exec(compile(code, "docs/python.md", "exec"), ns)
    assert (work / "fa-mc.npz").exists()
    assert set(ns["est"]) == {"FA", "MC"} and ns["est"]["FA"].shape == ns["mix"].shape
    if plot:
        assert (work / "separation.png").stat().st_size > 10000
    # the stream's samples, cut in 20 ms chunks, are the whole recording's
    live = ns["live"]
    assert all(len(live[n]) == len(ns["mix"]) for n in live)
    assert np.all(ns["sdr"] > 0)
