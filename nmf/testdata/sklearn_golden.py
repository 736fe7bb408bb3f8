#!/usr/bin/python3
"""Writes sklearn_kl.json: 100 KL multiplicative-update iterations of
scikit-learn's NMF (solver='mu') on a small 60x40 matrix with k=5, from a
given W0 and H0, and the KL cost it reaches. nmf's TestAgainstScikitLearn
runs the same iterations from the same start and compares the costs.

Run from the repository root: /usr/bin/python3 nmf/testdata/sklearn_golden.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.decomposition import NMF

rng = np.random.default_rng(20240603)
M, N, K, ITERS = 60, 40, 5, 100
X = rng.gamma(0.5, 1.0, size=(M, N)) * (rng.random((M, N)) < 0.9)  # some exact zeros
W0 = rng.random((M, K)) + 0.1
H0 = rng.random((K, N)) + 0.1

model = NMF(n_components=K, solver="mu", beta_loss="kullback-leibler", init="custom",
            max_iter=ITERS, tol=0)
W = model.fit_transform(X, W=W0.copy(), H=H0.copy())
H = model.components_
V = W @ H
nz = X > 0
cost = float(np.sum(X[nz] * np.log(X[nz] / V[nz])) - X.sum() + V.sum())

out = {
    "generator": "nmf/testdata/sklearn_golden.py",
    "sklearn": sklearn.__version__,
    "iterations": int(model.n_iter_),
    "M": M, "N": N, "K": K,
    "X": X.ravel().tolist(), "W0": W0.ravel().tolist(), "H0": H0.ravel().tolist(),
    "cost": cost,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sklearn_kl.json")
with open(path + ".tmp", "w") as f:
    json.dump(out, f)
os.replace(path + ".tmp", path)
print(f"wrote {path}: cost {cost:.10g} after {model.n_iter_} iterations")
