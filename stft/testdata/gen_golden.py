#!/usr/bin/python3
"""Generates the golden STFTs in this directory with Debian's python3-scipy.

Run from anywhere: /usr/bin/python3 stft/testdata/gen_golden.py
(scripts/install-anchors.sh installs python3-scipy).

Each case file golden_<name>.bin is little-endian:
  int64 n, fft_size, window_size, hop, bins, frames
  float64 x[n]                       the input signal (seeded random)
  float64 re/im pairs [bins*frames]  scipy.signal.stft's output, row-major
                                     bins x frames, multiplied by sum(window):
                                     dlnmf does not scale (see stft/doc.go).
"""
import os
import struct
import sys

import numpy as np
import scipy
import scipy.signal

CASES = [
    # name, n, nfft, nperseg, hop, seed
    ("default", 5000, 1024, 1024, 256, 1),
    ("short_window", 3001, 512, 400, 100, 2),
    ("odd_window", 1000, 256, 255, 64, 3),
    ("half_overlap", 777, 256, 256, 128, 4),
]

here = os.path.dirname(os.path.abspath(__file__))
for name, n, nfft, nperseg, hop, seed in CASES:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    win = scipy.signal.get_window("hann", nperseg)
    _, _, z = scipy.signal.stft(x, window="hann", nperseg=nperseg, noverlap=nperseg - hop,
                                nfft=nfft, boundary="zeros", padded=True)
    z = z * win.sum()
    bins, frames = z.shape
    with open(os.path.join(here, f"golden_{name}.bin"), "wb") as f:
        f.write(struct.pack("<6q", n, nfft, nperseg, hop, bins, frames))
        f.write(x.astype("<f8").tobytes())
        f.write(np.ascontiguousarray(z).astype("<c16").tobytes())
    print(f"{name}: n={n} nfft={nfft} window={nperseg} hop={hop} -> {bins}x{frames}", file=sys.stderr)
print(f"scipy {scipy.__version__}, numpy {np.__version__}", file=sys.stderr)
