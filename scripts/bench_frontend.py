#!/usr/bin/python3
"""scipy half of scripts/bench-frontend.sh: times scipy.signal.stft, istft and
resample_poly on the same sizes as the Go benchmarks, reads the Go benchmark
output (--go FILE) and prints medians and Go/scipy ratios."""
import argparse
import os
import re
import statistics
import time

import numpy as np
import scipy
import scipy.signal


def median_seconds(f, count):
    f()  # warm up
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def go_medians(path):
    runs = {}
    pat = re.compile(r"^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op")
    with open(path) as f:
        for line in f:
            m = pat.match(line)
            if m:
                runs.setdefault(m.group(1), []).append(float(m.group(2)) * 1e-9)
    return {k: (statistics.median(v), len(v)) for k, v in runs.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=7)
    ap.add_argument("--go", required=True)
    args = ap.parse_args()

    rng = np.random.default_rng(1)
    x16 = rng.standard_normal(60 * 16000)
    x48 = np.sin(2 * np.pi * 440 * np.arange(60 * 48000) / 48000)
    kw = dict(fs=16000, window="hann", nperseg=1024, noverlap=768, boundary="zeros", padded=True)
    _, _, z = scipy.signal.stft(x16, **kw)
    py = {
        "Forward": median_seconds(lambda: scipy.signal.stft(x16, **kw), args.count),
        "Inverse": median_seconds(lambda: scipy.signal.istft(z, fs=16000, window="hann", nperseg=1024,
                                                             noverlap=768, boundary=True), args.count),
        "Resample48to16": median_seconds(lambda: scipy.signal.resample_poly(x48, 1, 3), args.count),
    }
    names = {"Forward": "STFT 60 s @ 16 kHz", "Inverse": "ISTFT 60 s @ 16 kHz",
             "Resample48to16": "resample 60 s 48->16 kHz"}
    scipy_fn = {"Forward": "scipy.signal.stft", "Inverse": "scipy.signal.istft",
                "Resample48to16": "scipy.signal.resample_poly(1, 3)"}
    go = go_medians(args.go)
    print(f"\nmedians of {args.count} runs; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')}; "
          f"scipy {scipy.__version__}, numpy {np.__version__}; {os.cpu_count()} CPUs")
    print(f"{'operation':28s} {'Go ms':>9s} {'scipy ms':>9s} {'Go/scipy':>9s}  scipy function")
    for k in ["Forward", "Inverse", "Resample48to16"]:
        g = go.get(k, (float("nan"), 0))[0]
        print(f"{names[k]:28s} {g*1e3:9.1f} {py[k]*1e3:9.1f} {g/py[k]:9.2f}  {scipy_fn[k]}")
    print("note: resample_poly's default filter has 61 taps per output (Kaiser beta 5, ~50 dB stop band); "
          "dlnmf's has 521 (100 dB)")


if __name__ == "__main__":
    main()
