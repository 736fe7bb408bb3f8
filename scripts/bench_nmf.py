#!/usr/bin/python3
"""Helper of scripts/bench-nmf.sh: times scikit-learn's NMF (solver='mu',
KL, init='random', max_iter=50, tol=0; float32 and float64) and a numpy
float32 MU loop on the shapes of the Go benchmarks, parses the Go benchmark
output, and prints per-iteration medians (ms) and ratios to Go."""
import argparse
import re
import statistics
import time
import warnings

import numpy as np
from sklearn.decomposition import NMF

ITERS = 50


def go_medians(path):
    times = {}
    for line in open(path):
        m = re.match(r"^Benchmark(KLIteration\w*)/(\S+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op", line)
        if m:
            times.setdefault((m.group(1), m.group(2)), []).append(float(m.group(4)) / 1e6)
    return {k: statistics.median(v) for k, v in times.items()}


def data(M, N, dtype):
    rng = np.random.default_rng(1)
    return (rng.random((M, N)) + 0.01).astype(dtype)


def sklearn_ms(M, K, N, dtype, repeats):
    X = data(M, N, dtype)
    runs = []
    for r in range(repeats):
        model = NMF(n_components=K, solver="mu", beta_loss="kullback-leibler", init="random",
                    max_iter=ITERS, tol=0, random_state=r)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit_transform(X)
        runs.append((time.perf_counter() - t) / ITERS * 1e3)
    return statistics.median(runs)


def numpy_ms(M, Ks, N, repeats):
    """float32 KL MU; Ks has one size (NMF) or two (two-layer fine-tuning)."""
    X = data(M, N, np.float32)
    rng = np.random.default_rng(2)
    runs = []
    for _ in range(repeats):
        Ws = []
        rows = M
        for k in Ks:
            Ws.append(rng.random((rows, k)).astype(np.float32) + 0.01)
            rows = k
        H = rng.random((rows, N)).astype(np.float32) + 0.01
        eps = np.float32(np.finfo(np.float32).eps)
        t = time.perf_counter()
        for _ in range(ITERS):
            if len(Ws) == 1:
                W = Ws[0]
                R = X / np.maximum(W @ H, eps)
                W *= (R @ H.T) / np.maximum(H.sum(axis=1), eps)
                R = X / np.maximum(W @ H, eps)
                H *= (W.T @ R) / np.maximum(W.sum(axis=0), eps)[:, None]
            else:
                W1, W2 = Ws
                S = W2 @ H
                R = X / np.maximum(W1 @ S, eps)
                W1 *= (R @ S.T) / np.maximum(S.sum(axis=1), eps)
                B = W1 @ W2
                R = X / np.maximum(B @ H, eps)
                W2 *= (W1.T @ (R @ H.T)) / np.maximum(np.outer(W1.sum(axis=0), H.sum(axis=1)), eps)
                B = W1 @ W2
                R = X / np.maximum(B @ H, eps)
                H *= (B.T @ R) / np.maximum(B.sum(axis=0), eps)[:, None]
        runs.append((time.perf_counter() - t) / ITERS * 1e3)
    return statistics.median(runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--go", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    go = go_medians(a.go)
    print()
    print(f"{'shape MxKxN':<22}{'Go f32':>9}{'numpy f32':>11}{'sklearn f32':>13}{'sklearn f64':>13}"
          f"{'np/Go':>8}{'skl32/Go':>10}{'skl64/Go':>10}   (ms per iteration, medians)")
    rows = [("KLIteration", "513x180x6500"), ("KLIteration", "513x40x6500"),
            ("KLIteration", "513x360x600"), ("KLIterationLayered", "513x180x20x6500")]
    for name, shape in rows:
        dims = [int(d) for d in shape.split("x")]
        M, N, Ks = dims[0], dims[-1], dims[1:-1]
        g = go.get((name, shape), float("nan"))
        npf = numpy_ms(M, Ks, N, a.repeats)
        if len(Ks) == 1:
            s32 = sklearn_ms(M, Ks[0], N, np.float32, a.repeats)
            s64 = sklearn_ms(M, Ks[0], N, np.float64, a.repeats)
        else:
            s32 = s64 = float("nan")  # scikit-learn has no layered NMF
        print(f"{shape:<22}{g:9.2f}{npf:11.2f}{s32:13.2f}{s64:13.2f}"
              f"{npf / g:8.2f}{s32 / g:10.2f}{s64 / g:10.2f}")


if __name__ == "__main__":
    main()
