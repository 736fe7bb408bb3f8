#!/usr/bin/python3
"""Generates the golden file for package bsseval from mir_eval 0.7.

Run from the repository root:  /usr/bin/python3 bsseval/testdata/gen_golden.py

Every signal comes from numpy's seeded RNG, is quantised to 16 bits (as if
read from a WAV file, so the stored int16 samples divided by 32768 are
exactly the float64 samples mir_eval saw) and written to signals.i16.gz, all
cases concatenated, references then estimates, source by source.
golden.json lists the cases (offsets into that file) and mir_eval's SDR,
SIR, SAR and permutation for bss_eval_sources and, for a few cases,
bss_eval_sources_framewise.
"""
import gzip
import json
import os
import sys

import numpy as np
import scipy.signal
import mir_eval

assert mir_eval.__version__ == "0.7", mir_eval.__version__

RATE = 16000
HERE = os.path.dirname(os.path.abspath(__file__))


def quantise(x):
    """Scales x into 16-bit range (peak 0.5) and rounds, returning int16."""
    x = x / np.max(np.abs(x)) * 0.5
    return np.round(x * 32768).astype(np.int16)


def white(rng, n):
    return rng.standard_normal(n)


def speechlike(rng, n):
    """AR-filtered noise (three random formant-like resonances) with a
    syllable-rate amplitude envelope and short pauses, so the spectrum spans
    tens of dB like voiced speech."""
    x = rng.standard_normal(n)
    a = np.array([1.0])
    for _ in range(3):
        f = rng.uniform(200, 3500) / RATE
        r = rng.uniform(0.85, 0.97)
        a = np.convolve(a, [1, -2 * r * np.cos(2 * np.pi * f), r * r])
    y = scipy.signal.lfilter([1.0], a, x)
    t = np.arange(n) / RATE
    rate = rng.uniform(3, 6)
    env = np.abs(np.sin(np.pi * rate * t + rng.uniform(0, np.pi))) ** 1.5
    env = 0.05 + env
    return y * env


def fir(rng, taps):
    h = rng.standard_normal(taps) * np.exp(-np.arange(taps) / (taps / 4))
    h[0] = 1.0 + abs(h[0])
    return h / np.linalg.norm(h)


def make_estimates(rng, refs, kind):
    """Estimates made by filtering, mixing and adding noise to refs."""
    nsrc, n = refs.shape
    ests = np.empty_like(refs)
    for k in range(nsrc):
        target = refs[k]
        if kind in ("filter", "all"):
            target = scipy.signal.lfilter(fir(rng, int(rng.integers(4, 64))), [1.0], target)
        if kind == "iir":
            b, a = scipy.signal.butter(4, rng.uniform(0.3, 0.8))
            target = scipy.signal.lfilter(b, a, target)
        e = target / np.std(target)
        for i in range(nsrc):
            if i != k:
                other = refs[i]
                if kind == "all":
                    other = scipy.signal.lfilter(fir(rng, 16), [1.0], other)
                e = e + rng.uniform(0.05, 0.6) * other / np.std(other)
        e = e + rng.uniform(0.01, 0.3) * rng.standard_normal(n)
        ests[k] = e
    return ests


def floats(a):
    """JSON has no infinities: +Inf (the SIR of a single source) is stored
    as the string "+Inf", NaN (a silent frame) as null."""
    out = []
    for v in np.asarray(a, dtype=np.float64).tolist():
        if isinstance(v, list):
            out.append(floats(v))
        elif np.isnan(v):
            out.append(None)
        elif np.isinf(v):
            out.append("+Inf" if v > 0 else "-Inf")
        else:
            out.append(v)
    return out


def main():
    cases = []
    chunks = []
    offset = 0
    specs = []
    # (nsrc, seconds, signal kind, estimate kind, permute, shuffle estimates)
    for i, (nsrc, sec) in enumerate([(2, 0.5), (3, 0.5), (2, 1.0), (3, 1.0),
                                      (2, 2.0), (3, 2.0), (2, 3.0)]):
        for sig in ("white", "speech"):
            est = ["mix", "filter", "all", "iir"][(i + len(sig)) % 4]
            specs.append((nsrc, sec, sig, est, (i + len(sig)) % 2 == 0, i % 3 == 0))
    specs += [
        (2, 0.5, "speech", "all", True, True),
        (3, 0.75, "white", "iir", True, True),
        (1, 1.0, "speech", "all", False, False),
        (1, 0.5, "white", "filter", True, False),
        (2, 10.0, "speech", "all", True, True),
        (3, 3.0, "speech", "all", True, False),
    ]
    for idx, (nsrc, sec, sig, est, permute, shuffle) in enumerate(specs):
        rng = np.random.default_rng(1000 + idx)
        n = int(sec * RATE)
        gen = white if sig == "white" else speechlike
        refs = np.stack([gen(rng, n) for _ in range(nsrc)])
        refs = np.stack([quantise(r) for r in refs]).astype(np.float64) / 32768
        ests = make_estimates(rng, refs, est)
        if shuffle and nsrc > 1:
            ests = ests[rng.permutation(nsrc)]
        ests = np.stack([quantise(e) for e in ests]).astype(np.float64) / 32768
        sdr, sir, sar, perm = mir_eval.separation.bss_eval_sources(
            refs, ests, compute_permutation=permute)
        case = {
            "name": "%02d_%dsrc_%gs_%s_%s%s" % (idx, nsrc, sec, sig, est, "_perm" if permute else ""),
            "nsrc": nsrc, "samples": n, "offset": offset, "permute": permute,
            "sdr": floats(sdr), "sir": floats(sir), "sar": floats(sar),
            "perm": [int(p) for p in perm],
        }
        if idx in (4, 9, 17):
            window, hop = n // 3, n // 4
            fsdr, fsir, fsar, fperm = mir_eval.separation.bss_eval_sources_framewise(
                refs, ests, window=window, hop=hop, compute_permutation=permute)
            case["framewise"] = {
                "window": window, "hop": hop,
                "sdr": floats(fsdr), "sir": floats(fsir), "sar": floats(fsar),
                "perm": floats(fperm),
            }
        for arr in (refs, ests):
            q = np.round(arr * 32768).astype("<i2")
            assert np.array_equal(q.astype(np.float64) / 32768, arr)
            chunks.append(q.tobytes())
        offset += 2 * nsrc * n
        cases.append(case)
        print(case["name"], np.round(sdr, 2), np.round(sir, 2), np.round(sar, 2), perm, file=sys.stderr)
    with gzip.GzipFile(os.path.join(HERE, "signals.i16.gz"), "wb", mtime=0) as f:
        f.write(b"".join(chunks))
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump({"generator": "bsseval/testdata/gen_golden.py",
                   "mir_eval": mir_eval.__version__,
                   "scale": 32768,
                   "layout": "int16 little-endian; per case: nsrc references then nsrc estimates, each 'samples' long, starting at sample 'offset'",
                   "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
