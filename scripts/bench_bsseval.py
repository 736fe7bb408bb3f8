#!/usr/bin/python3
"""Helper of scripts/bench-bsseval.sh.

  bench_bsseval.py gen DIR      writes the benchmark signals to DIR
  bench_bsseval.py time DIR R   times mir_eval on them (R repetitions) and
                                writes its scores beside them

Signals: per case, nsrc speech-like references (AR-filtered noise with a
syllable-rate envelope, numpy seeded RNG) at 16 kHz and estimates that mix
them with noise; stored as raw little-endian float64, references then
estimates, in DIR/NAME.f64, with DIR/cases.json describing them.
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import scipy.signal
import mir_eval

CASES = [("2src_3s", 2, 3), ("3src_10s", 3, 10)]
RATE = 16000


def speechlike(rng, n):
    a = np.array([1.0])
    for _ in range(3):
        f = rng.uniform(200, 3500) / RATE
        r = rng.uniform(0.85, 0.97)
        a = np.convolve(a, [1, -2 * r * np.cos(2 * np.pi * f), r * r])
    y = scipy.signal.lfilter([1.0], a, rng.standard_normal(n))
    t = np.arange(n) / RATE
    return y * (0.05 + np.abs(np.sin(np.pi * rng.uniform(3, 6) * t)))


def gen(d):
    meta = []
    for i, (name, nsrc, sec) in enumerate(CASES):
        rng = np.random.default_rng(42 + i)
        n = sec * RATE
        refs = np.stack([speechlike(rng, n) for _ in range(nsrc)])
        refs /= np.max(np.abs(refs))
        ests = np.empty_like(refs)
        for k in range(nsrc):
            ests[k] = refs[k] + 0.3 * (refs.sum(0) - refs[k]) + 0.01 * rng.standard_normal(n)
        np.concatenate([refs, ests]).astype("<f8").tofile(os.path.join(d, name + ".f64"))
        meta.append({"name": name, "nsrc": nsrc, "samples": n})
    with open(os.path.join(d, "cases.json"), "w") as f:
        json.dump(meta, f)


def time_mir_eval(d, reps):
    with open(os.path.join(d, "cases.json")) as f:
        meta = json.load(f)
    for c in meta:
        x = np.fromfile(os.path.join(d, c["name"] + ".f64"), dtype="<f8").reshape(2 * c["nsrc"], c["samples"])
        refs, ests = x[:c["nsrc"]], x[c["nsrc"]:]
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            sdr, sir, sar, perm = mir_eval.separation.bss_eval_sources(refs, ests, compute_permutation=True)
            times.append(time.perf_counter() - t)
        c["mir_eval_seconds"] = statistics.median(times)
        c["sdr"], c["sir"], c["sar"], c["perm"] = sdr.tolist(), sir.tolist(), sar.tolist(), perm.tolist()
    with open(os.path.join(d, "cases.json"), "w") as f:
        json.dump(meta, f)


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    else:
        time_mir_eval(sys.argv[2], int(sys.argv[3]))
