"""Times dlnmf.NMF (float32 engine) against sklearn.decomposition.NMF
(solver="mu", float64) on a 513 x 6500 non-negative matrix (a spectrogram's
size: 513 bins, 6500 frames, about 104 s at 16 kHz) with K = 180, KL
divergence, the same starting point and a fixed number of iterations, in one
run; prints both times, the ratio and both final costs.

    /usr/bin/python3 python/bench/bench_nmf.py [--iters N]
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dlnmf  # noqa: E402
from sklearn.decomposition import NMF  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--beta-loss", default="kullback-leibler")
    args = ap.parse_args()
    m, n, k = 513, 6500, 180
    rng = np.random.default_rng(0)
    X = rng.gamma(0.5, 1.0, (m, 40)) @ rng.gamma(0.5, 1.0, (40, n))
    avg = np.sqrt(X.mean() / k)
    W0 = avg * np.abs(rng.standard_normal((m, k)))
    H0 = avg * np.abs(rng.standard_normal((k, n)))
    kw = dict(n_components=k, init="custom", solver="mu", beta_loss=args.beta_loss, max_iter=args.iters, tol=0)
    times, errs = {}, {}
    for name, cls in (("dlnmf", dlnmf.NMF), ("scikit-learn", NMF)):
        est = cls(**kw)
        t = time.perf_counter()
        est.fit_transform(X, W=W0.copy(), H=H0.copy())
        times[name], errs[name] = time.perf_counter() - t, est.reconstruction_err_
        print(f"{name:<13} {times[name]:8.2f} s   reconstruction_err_ {errs[name]:.6g}   n_iter_ {est.n_iter_}")
    print(f"ratio {times['scikit-learn'] / times['dlnmf']:.1f}x; cost (err^2/2) differs by "
          f"{abs(errs['dlnmf'] ** 2 / errs['scikit-learn'] ** 2 - 1) * 100:.4f}%")


if __name__ == "__main__":
    main()
