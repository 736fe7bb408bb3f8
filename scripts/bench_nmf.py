#!/usr/bin/python3
"""Helper of scripts/bench-nmf.sh: times scikit-learn's NMF (solver='mu',
KL, init='random', max_iter=50, tol=0; float32 and float64) and a numpy
float32 MU loop on the shapes of the Go benchmarks, and the arithmetic floor
of a single-layer iteration (its four products in numpy float32), parses the
Go benchmark output, and prints per-iteration medians (ms) and ratios to Go
(Go/floor: how far Go is from the floor).

--measure FILE times every case once and appends the timings to FILE (one
JSON object per line), so that the shell script can alternate Go and Python
rounds; --py FILE then reports the medians over those rounds."""
import argparse
import json
import re
import statistics
import time
import warnings

import numpy as np
from sklearn.decomposition import NMF

ITERS = 50


def go_medians(path):
    """Medians of wall ms and CPU ms (cpu-ms/op) per benchmark."""
    wall, cpu = {}, {}
    for line in open(path):
        m = re.match(r"^Benchmark(KLIteration\w*)/(\S+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op", line)
        if m:
            key = (m.group(1), m.group(2))
            wall.setdefault(key, []).append(float(m.group(4)) / 1e6)
            c = re.search(r"([\d.]+) cpu-ms/op", line)
            if c:
                cpu.setdefault(key, []).append(float(c.group(1)))
    med = lambda d: {k: statistics.median(v) for k, v in d.items()}
    return med(wall), med(cpu)


def data(M, N, dtype):
    rng = np.random.default_rng(1)
    return (rng.random((M, N)) + 0.01).astype(dtype)


def sklearn_ms(M, K, N, dtype, repeats):
    X = data(M, N, dtype)
    runs, cpu = [], []
    for r in range(repeats):
        model = NMF(n_components=K, solver="mu", beta_loss="kullback-leibler", init="random",
                    max_iter=ITERS, tol=0, random_state=r)
        t, c = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit_transform(X)
        runs.append((time.perf_counter() - t) / ITERS * 1e3)
        cpu.append((time.process_time() - c) / ITERS * 1e3)
    return statistics.median(runs), statistics.median(cpu)


def numpy_ms(M, Ks, N, repeats, iters=ITERS):
    """float32 KL MU; Ks has one size (NMF) or two (two-layer fine-tuning)."""
    X = data(M, N, np.float32)
    rng = np.random.default_rng(2)
    runs, cpu = [], []
    for _ in range(repeats):
        Ws = []
        rows = M
        for k in Ks:
            Ws.append(rng.random((rows, k)).astype(np.float32) + 0.01)
            rows = k
        H = rng.random((rows, N)).astype(np.float32) + 0.01
        eps = np.float32(np.finfo(np.float32).eps)
        t, c = time.perf_counter(), time.process_time()
        for _ in range(iters):
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
        runs.append((time.perf_counter() - t) / iters * 1e3)
        cpu.append((time.process_time() - c) / iters * 1e3)
    return statistics.median(runs), statistics.median(cpu)


ROWS = [("KLIteration", "513x180x6500"), ("KLIteration", "513x40x6500"),
        ("KLIteration", "513x360x600"), ("KLIterationLayered", "513x180x20x6500"),
        ("KLIteration", "2565x180x6500")]  # 5-frame spectral patches (--context 5)


def floor_ms(M, K, N, repeats, iters=10):
    """The arithmetic floor of one single-layer KL iteration: its four
    products (W H, R H^T, W H, W^T R) through numpy/OpenBLAS float32, no
    elementwise work."""
    X = data(M, N, np.float32)
    rng = np.random.default_rng(2)
    W = rng.random((M, K)).astype(np.float32) + 0.01
    H = rng.random((K, N)).astype(np.float32) + 0.01
    runs, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        for _ in range(iters):
            V = W @ H
            G = X @ H.T
            V = W @ H
            N_ = W.T @ X
        runs.append((time.perf_counter() - t) / iters * 1e3)
        cpu.append((time.process_time() - c) / iters * 1e3)
    del V, G, N_
    return statistics.median(runs), statistics.median(cpu)


def python_cases(repeats):
    """(shape, impl) -> (wall ms, CPU ms) per iteration, medians of repeats."""
    out = {}
    for _, shape in ROWS:
        dims = [int(d) for d in shape.split("x")]
        M, N, Ks = dims[0], dims[-1], dims[1:-1]
        out[(shape, "numpy32")] = numpy_ms(M, Ks, N, repeats, ITERS if M <= 1000 else 10)
        if len(Ks) == 1:
            out[(shape, "floor32")] = floor_ms(M, Ks[0], N, repeats)
        if len(Ks) == 1 and M <= 1000:  # scikit-learn has no layered NMF; patches: numpy only
            out[(shape, "sklearn32")] = sklearn_ms(M, Ks[0], N, np.float32, repeats)
            out[(shape, "sklearn64")] = sklearn_ms(M, Ks[0], N, np.float64, repeats)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--go")
    ap.add_argument("--py", help="timings appended by --measure rounds (default: measure now)")
    ap.add_argument("--measure", help="time every case once and append to this file")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    if a.measure:
        with open(a.measure, "a") as f:
            for (shape, impl), (wall, cpu) in python_cases(1).items():
                f.write(json.dumps({"shape": shape, "impl": impl, "wall": wall, "cpu": cpu}) + "\n")
        return
    go_wall, go_cpu = go_medians(a.go)
    if a.py:
        runs = {}
        for line in open(a.py):
            r = json.loads(line)
            runs.setdefault((r["shape"], r["impl"]), []).append((r["wall"], r["cpu"]))
        py = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in runs.items()}
    else:
        py = python_cases(a.repeats)
    nan = (float("nan"), float("nan"))
    results = []
    for name, shape in ROWS:
        results.append((shape, (go_wall.get((name, shape), nan[0]), go_cpu.get((name, shape), nan[0])),
                        py.get((shape, "numpy32"), nan), py.get((shape, "sklearn32"), nan),
                        py.get((shape, "sklearn64"), nan), py.get((shape, "floor32"), nan)))
    for title, i in (("wall ms per iteration (medians)", 0),
                     ("CPU ms per iteration (medians; steadier on a loaded machine)", 1)):
        print()
        print(title)
        print(f"{'shape MxKxN':<20}{'Go f32':>9}{'numpy f32':>11}{'sklearn f32':>13}{'sklearn f64':>13}{'floor f32':>11}"
              f"{'np/Go':>8}{'skl32/Go':>10}{'skl64/Go':>10}{'Go/floor':>10}")
        for shape, g, npf, s32, s64, fl in results:
            gv, nv, v32, v64, fv = g[i], npf[i], s32[i], s64[i], fl[i]
            print(f"{shape:<20}{gv:9.2f}{nv:11.2f}{v32:13.2f}{v64:13.2f}{fv:11.2f}"
                  f"{nv / gv:8.2f}{v32 / gv:10.2f}{v64 / gv:10.2f}{gv / fv:10.2f}")


if __name__ == "__main__":
    main()
