"""Times dlnmf.bss_eval_sources against mir_eval.separation.bss_eval_sources
on 2 sources x 3 s and 3 sources x 10 s at 16 kHz (noisy, cross-talking
estimates of white-noise references), with the permutation search, in one
run: the median of several calls each, and the ratio of the medians. Also
checks that the two agree within 1e-6 dB.

    /usr/bin/python3 python/bench/bench_bsseval.py [--repeats N]
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dlnmf  # noqa: E402
from mir_eval import separation  # noqa: E402


def median_seconds(f, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5, help="calls per library and case (mir_eval: 3 at least)")
    args = ap.parse_args()
    rate = 16000
    rng = np.random.default_rng(0)
    print(f"{'case':<16} {'dlnmf s':>9} {'mir_eval s':>11} {'ratio':>7}  max |diff| dB")
    for nsrc, seconds in ((2, 3), (3, 10)):
        n = rate * seconds
        refs = rng.standard_normal((nsrc, n))
        ests = refs + 0.3 * rng.standard_normal((nsrc, n)) + 0.2 * np.roll(refs, 1, axis=0)
        got = dlnmf.bss_eval_sources(refs, ests)
        want = separation.bss_eval_sources(refs, ests)
        diff = max(float(np.max(np.abs(g - w))) for g, w in zip(got[:3], want[:3]))
        ours = median_seconds(lambda: dlnmf.bss_eval_sources(refs, ests), args.repeats)
        theirs = median_seconds(lambda: separation.bss_eval_sources(refs, ests), max(3, args.repeats // 2))
        print(f"{nsrc} src x {seconds:>2} s    {ours:9.4f} {theirs:11.3f} {theirs / ours:6.1f}x  {diff:.2g}")


if __name__ == "__main__":
    main()
