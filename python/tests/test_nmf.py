"""dlnmf.NMF against sklearn.decomposition.NMF(solver="mu"): the same
starting point and iterations give the same reconstruction cost within 1%;
the estimator's interface, refusals and threads."""

import threading

import numpy as np
import pytest

import dlnmf

decomposition = pytest.importorskip("sklearn.decomposition")


def _data(m=80, n=120, k=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.gamma(1.0, 1.0, (m, k)) @ rng.gamma(1.0, 1.0, (k, n)) + 0.05 * rng.random((m, n))
    X[:, 7] = 0  # a silent column, as a silent frame
    return X


def _divergence(X, V, beta):
    V = np.maximum(V, np.finfo(np.float32).eps)
    if beta == 1:
        nz = X > 0
        return np.sum(X[nz] * np.log(X[nz] / V[nz])) - X.sum() + V.sum()
    return 0.5 * np.sum((X - V) ** 2)


@pytest.mark.parametrize("beta_loss,beta", [("kullback-leibler", 1), ("frobenius", 2)])
def test_same_start_same_cost_as_sklearn(beta_loss, beta):
    X = _data()
    k = 8
    rng = np.random.default_rng(1)
    avg = np.sqrt(X.mean() / k)
    W0 = avg * np.abs(rng.standard_normal((X.shape[0], k)))
    H0 = avg * np.abs(rng.standard_normal((k, X.shape[1])))
    for iters in (10, 100):
        kw = dict(n_components=k, init="custom", solver="mu", beta_loss=beta_loss, max_iter=iters, tol=0)
        ref = decomposition.NMF(**kw)
        Wr = ref.fit_transform(X, W=W0.copy(), H=H0.copy())
        est = dlnmf.NMF(**kw)
        W = est.fit_transform(X, W=W0, H=H0)
        assert W.shape == Wr.shape and est.components_.shape == ref.components_.shape
        assert W.dtype == np.float64 and est.n_iter_ == ref.n_iter_ == iters
        cost, cost_ref = _divergence(X, W @ est.components_, beta), _divergence(X, Wr @ ref.components_, beta)
        assert abs(cost - cost_ref) <= 0.01 * cost_ref, (iters, cost, cost_ref)
        assert est.reconstruction_err_ == pytest.approx(ref.reconstruction_err_, rel=0.01)
        assert est.reconstruction_err_ == pytest.approx(np.sqrt(2 * cost), rel=1e-4)


def test_fit_transform_inverse_and_defaults():
    X = _data(seed=2)
    est = dlnmf.NMF(5, beta_loss="kullback-leibler", random_state=3)
    W = est.fit_transform(X)
    assert W.shape == (80, 5) and est.components_.shape == (5, 120) and est.n_components_ == 5
    assert 1 <= est.n_iter_ <= 200 and np.all(W >= 0) and np.all(est.components_ >= 0)
    # seeded: the same seed gives the same factors
    again = dlnmf.NMF(5, beta_loss="kullback-leibler", random_state=3).fit(X)
    assert np.array_equal(again.components_, est.components_)
    # transform with the components fixed explains X about as well as fit
    Wt = est.transform(X)
    assert Wt.shape == W.shape
    fit_cost = _divergence(X, est.inverse_transform(W), 1)
    assert _divergence(X, est.inverse_transform(Wt), 1) <= 1.05 * fit_cost
    assert dlnmf.NMF().fit(X[:10, :12]).n_components_ == 12
    assert dlnmf.NMF(3).fit_transform(X.astype(np.float32)).dtype == np.float32


def test_refusals_are_value_errors():
    X = _data(seed=4)
    bad = X.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        dlnmf.NMF(3).fit(bad)
    with pytest.raises(ValueError, match="Negative"):
        dlnmf.NMF(3).fit(-X)
    with pytest.raises(ValueError, match="solver"):
        dlnmf.NMF(3, solver="cd").fit(X)
    with pytest.raises(ValueError, match="beta_loss"):
        dlnmf.NMF(3, beta_loss="kl").fit(X)
    with pytest.raises(ValueError, match="wrong shape"):
        dlnmf.NMF(3, init="custom").fit_transform(X, W=np.ones((80, 2)), H=np.ones((3, 120)))
    with pytest.raises(ValueError, match="not fitted"):
        dlnmf.NMF(3).transform(X)
    with pytest.raises(ValueError, match="features"):
        dlnmf.NMF(3).fit(X).transform(X[:, :10])
    with pytest.raises(ValueError, match="components"):
        dlnmf.NMF(0).fit(X)


def test_fits_from_several_threads_agree():
    X = _data(seed=5)
    serial = [dlnmf.NMF(4, beta_loss="kullback-leibler", random_state=s).fit(X).components_ for s in range(4)]
    got = [None] * 4

    def work(s):
        got[s] = dlnmf.NMF(4, beta_loss="kullback-leibler", random_state=s).fit(X).components_

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g, w in zip(got, serial):
        assert np.array_equal(g, w)
