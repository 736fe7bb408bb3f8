"""The Python package's overhead over the Go library's own call: times
model.separate on a 3 s two-speaker mixture at 16 kHz (median of several
calls) and the Go benchmark of recording.Separator.Separate on the same
model and mixture (python/libdlnmf, BenchmarkRecordingSeparate), in one run.

    /usr/bin/python3 python/bench/bench_separate.py [--repeats N]
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import dlnmf  # noqa: E402
from conftest import REPO, voice, write_wav  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    rate = 16000
    speakers = {"alice": [voice(3, rate, 210 + 5 * i, i, (700, 1200, 2600)) for i in range(4)],
                "bob": [voice(3, rate, 110 + 3 * i, 10 + i, (400, 1800, 2400)) for i in range(4)]}
    model = dlnmf.train(speakers, method="lnmf", iters=50)  # K1 = 180, K2 = 20
    mix = 0.5 * (voice(3, rate, 205, 70, (700, 1200, 2600)) + voice(3, rate, 115, 80, (400, 1800, 2400)))
    with tempfile.TemporaryDirectory() as tmp:
        model_path, mix_path = os.path.join(tmp, "m.npz"), os.path.join(tmp, "mix.wav")
        model.save(model_path)
        x = write_wav(mix_path, mix, rate)[0]
        model.separate(x, rate)  # warm up
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            model.separate(x, rate)
            times.append(time.perf_counter() - t)
        py = statistics.median(times)
        cgo = subprocess.run([os.path.join(REPO, "scripts", "cgo-env.sh")], capture_output=True, text=True).stdout
        env = dict(os.environ, DLNMF_BENCH_MODEL=model_path, DLNMF_BENCH_MIX=mix_path)
        env[cgo.strip().split("=")[0]] = cgo.strip().split("=")[1]
        r = subprocess.run(["go", "test", "-run", "^$", "-bench", "BenchmarkRecordingSeparate", "-count",
                            str(args.repeats), "-benchtime", "3x", "./python/libdlnmf"],
                           cwd=REPO, env=env, capture_output=True, text=True, check=True)
        ns = [float(v) for v in re.findall(r"BenchmarkRecordingSeparate\S*\s+\d+\s+([\d.]+) ns/op", r.stdout)]
        go = statistics.median(ns) / 1e9
    print(f"3 s mixture, 2 speakers, L-NMF 180,20: Python model.separate {py * 1e3:.1f} ms, "
          f"Go recording.Separate {go * 1e3:.1f} ms (medians of {args.repeats}); "
          f"overhead {(py / go - 1) * 100:+.1f}%")


if __name__ == "__main__":
    main()
