"""A scikit-learn-style NMF estimator over the Go engine (the nmf package).

It covers what sklearn.decomposition.NMF(solver="mu") covers without
regularisation: multiplicative updates of the beta-divergence, W then H in
each iteration, scikit-learn's stopping rule (every 10 iterations, stop when
the cost fell by less than tol times the initial cost since the last check).
The orientation is scikit-learn's: X (n_samples x n_features) ~ W H, W =
fit_transform(X) (n_samples x n_components), H = components_ (n_components x
n_features).

Where it differs from scikit-learn:

- The engine computes in float32 (the input is converted; the costs are
  accumulated in float64). Results are returned in X's float dtype (float64
  for integer input) but carry float32 precision.
- After each iteration the engine scales W's columns to unit sum and carries
  the scale into H's rows. Multiplicative updates are invariant under that
  scaling, so the cost follows the same trajectory and W H is the same, but
  W and components_ each differ from scikit-learn's by a positive factor per
  component.
- init: None and "random" are the engine's seeded random start (scikit-learn's
  "random" scheme: sqrt(X.mean() / n_components) times |normal| entries, from
  another generator); "custom" takes W and H in fit_transform. The NNDSVD
  starts are not offered (scikit-learn's default init=None is NNDSVDA).
- random_state None means seed 0: results are reproducible by default.
- transform(X) learns W with components_ fixed from the engine's start for
  fixed-basis inference, not scikit-learn's constant start, so it agrees
  with scikit-learn's within the solver's convergence, not bit for bit.
- No alpha_W, alpha_H, l1_ratio, shuffle, verbose; no sparse matrices (a
  scipy.sparse X is made dense).
"""

import ctypes
import numbers

import numpy as np

from . import _lib

_BETA = {"frobenius": 2.0, "kullback-leibler": 1.0, "itakura-saito": 0.0}


def _beta(beta_loss):
    if isinstance(beta_loss, str):
        if beta_loss not in _BETA:
            raise ValueError(f"Invalid beta_loss parameter: got {beta_loss!r} instead of one of "
                             f"{sorted(_BETA)}, or a float.")
        return _BETA[beta_loss]
    if isinstance(beta_loss, numbers.Real) and np.isfinite(beta_loss):
        return float(beta_loss)
    raise ValueError(f"Invalid beta_loss parameter: got {beta_loss!r}")


class NMF:
    """Non-negative matrix factorisation X ~ W H by multiplicative updates of
    the beta-divergence, with scikit-learn's interface (see the module
    documentation for where it differs).

    Parameters
    ----------
    n_components : int or None
        number of components; None keeps all features.
    init : None, "random" or "custom"
    solver : "mu"
        the only solver (accepted so that scikit-learn code runs unchanged).
    beta_loss : "frobenius", "kullback-leibler", "itakura-saito" or float
    tol : float >= 0
    max_iter : int >= 1
    random_state : int, numpy RandomState or None

    Attributes
    ----------
    components_ : H, shape (n_components, n_features)
    n_components_ : int
    reconstruction_err_ : float
        sqrt(2 * beta-divergence(X, W H)), as scikit-learn reports it.
    n_iter_ : int
    n_features_in_ : int
    """

    def __init__(self, n_components=None, *, init=None, solver="mu", beta_loss="frobenius", tol=1e-4,
                 max_iter=200, random_state=None):
        self.n_components = n_components
        self.init = init
        self.solver = solver
        self.beta_loss = beta_loss
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in
                ("n_components", "init", "solver", "beta_loss", "tol", "max_iter", "random_state")}

    def set_params(self, **params):
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"Invalid parameter {k!r} for estimator NMF")
            setattr(self, k, v)
        return self

    def __repr__(self):
        return "NMF(" + ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()) + ")"

    def _settings(self):
        if self.solver != "mu":
            raise ValueError(f"Invalid solver parameter {self.solver!r}: dlnmf.NMF has the multiplicative "
                             "update solver 'mu' only")
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1:
            raise ValueError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        if not isinstance(self.tol, numbers.Real) or not self.tol >= 0:
            raise ValueError(f"tol must be a float >= 0, got {self.tol!r}")
        # The engine reads Tol = 0 as its default; scikit-learn's tol = 0
        # stops only when the cost rises, which the smallest positive
        # tolerance does too.
        tol = float(self.tol) if self.tol > 0 else np.nextafter(0.0, 1.0)
        return _beta(self.beta_loss), int(self.max_iter), tol

    def _seed(self):
        rs = self.random_state
        if rs is None:
            return 0
        if isinstance(rs, numbers.Integral):
            if rs < 0:
                raise ValueError(f"random_state must be non-negative, got {rs}")
            return int(rs)
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(np.iinfo(np.int32).max))
        raise ValueError(f"random_state must be None, an int or a numpy RandomState, got {rs!r}")

    @staticmethod
    def _check_X(X):
        if hasattr(X, "toarray"):
            X = X.toarray()
        X = np.asarray(X)
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X must hold real numbers, not {X.dtype}")
        if X.ndim != 2:
            raise ValueError(f"Expected 2D array, got {X.ndim}D array instead")
        if X.size == 0:
            raise ValueError(f"Found array with shape {X.shape}: NMF needs at least one sample and one feature")
        if not np.all(np.isfinite(X)):
            raise ValueError("Input X contains NaN or infinity.")
        if np.any(X < 0):
            raise ValueError("Negative values in data passed to NMF (input X)")
        return X, (X.dtype if X.dtype.kind == "f" else np.dtype(np.float64))

    def fit_transform(self, X, y=None, W=None, H=None):
        """Learns W and H for X and returns W (n_samples x n_components)."""
        X, dtype = self._check_X(X)
        beta, max_iter, tol = self._settings()
        m, n = X.shape
        k = n if self.n_components is None else self.n_components
        if not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"Number of components must be a positive integer; got (n_components={k!r})")
        custom = self.init == "custom"
        if custom:
            if W is None or H is None:
                raise ValueError("init='custom' needs W and H: fit_transform(X, W=W, H=H)")
            W = np.array(W, dtype=np.float32, order="C")
            H = np.array(H, dtype=np.float32, order="C")
            if W.shape != (m, k) or H.shape != (k, n):
                raise ValueError(f"Array with wrong shape passed to NMF (input W, H): W {W.shape} and H "
                                 f"{H.shape}, want {(m, k)} and {(k, n)}")
            if not (np.all(np.isfinite(W)) and np.all(np.isfinite(H))) or np.any(W < 0) or np.any(H < 0):
                raise ValueError("W and H must be finite and non-negative")
        elif self.init in (None, "random"):
            W = np.empty((m, k), dtype=np.float32)
            H = np.empty((k, n), dtype=np.float32)
        else:
            raise ValueError(f"Invalid init parameter {self.init!r}: dlnmf.NMF has None, 'random' and 'custom'")
        x, x_p = _lib.floats(X)
        iters, cost = ctypes.c_int64(), ctypes.c_double()
        _lib.call("dlnmf_nmf_fit", x_p, m, n, k, beta, max_iter, tol, self._seed(), int(custom),
                  W.ctypes.data_as(_lib.c_float_p), H.ctypes.data_as(_lib.c_float_p),
                  ctypes.byref(iters), ctypes.byref(cost))
        self.components_ = H.astype(dtype, copy=False)
        self.n_components_ = k
        self.n_features_in_ = n
        self.n_iter_ = iters.value
        self.reconstruction_err_ = float(np.sqrt(2 * max(cost.value, 0.0)))
        return W.astype(dtype, copy=False)

    def fit(self, X, y=None, **params):
        """Learns the factorisation of X; returns self."""
        self.fit_transform(X, W=params.get("W"), H=params.get("H"))
        return self

    def transform(self, X):
        """W for X with components_ fixed (n_samples x n_components)."""
        if not hasattr(self, "components_"):
            raise ValueError("This NMF instance is not fitted yet. Call 'fit' first.")
        X, dtype = self._check_X(X)
        beta, max_iter, tol = self._settings()
        m, n = X.shape
        k = self.components_.shape[0]
        if n != self.components_.shape[1]:
            raise ValueError(f"X has {n} features, but NMF is expecting {self.components_.shape[1]} features as input")
        # The engine fixes the left factor: X^T ~ H^T W^T with H^T fixed.
        xt, xt_p = _lib.floats(X.T)
        basis, basis_p = _lib.floats(self.components_.T)
        Wt = np.empty((k, m), dtype=np.float32)
        iters = ctypes.c_int64()
        _lib.call("dlnmf_nmf_infer", xt_p, n, m, k, basis_p, beta, max_iter, tol,
                  Wt.ctypes.data_as(_lib.c_float_p), ctypes.byref(iters))
        return Wt.T.astype(dtype)

    def inverse_transform(self, W):
        """W @ components_: the data W stands for."""
        return np.asarray(W) @ self.components_
