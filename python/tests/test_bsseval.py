"""dlnmf's BSS Eval against mir_eval.separation: the golden cases of the
bsseval package (mir_eval 0.7's numbers), mir_eval itself on the opposite
permutation setting and framewise, its validation errors, and calls from
several threads."""

import threading
import warnings

import numpy as np
import pytest

import dlnmf
from conftest import assert_same_db

mir_eval = pytest.importorskip("mir_eval")
from mir_eval import separation  # noqa: E402


def test_golden_cases_equal_mir_eval(golden):
    assert len(golden) >= 20
    for c, refs, ests in golden:
        sdr, sir, sar, perm = dlnmf.bss_eval_sources(refs, ests, compute_permutation=c["permute"])
        for got, name in ((sdr, "sdr"), (sir, "sir"), (sar, "sar")):
            assert got.shape == (c["nsrc"],) and got.dtype == np.float64, c["name"]
            assert_same_db(got, np.array(c[name], dtype=object))
        assert perm.tolist() == c["perm"], c["name"]


def test_other_permutation_setting_equals_mir_eval(golden):
    """The golden file holds one setting per case: mir_eval computes the
    other one here (the cases up to 1 s, to keep the test short)."""
    n = 0
    for c, refs, ests in golden:
        if c["samples"] > 16000:
            continue
        n += 1
        permute = not c["permute"]
        want = separation.bss_eval_sources(refs, ests, compute_permutation=permute)
        got = dlnmf.bss_eval_sources(refs, ests, compute_permutation=permute)
        for g, w in zip(got[:3], want[:3]):
            assert_same_db(g, w)
        assert np.array_equal(got[3], want[3]) and got[3].dtype.kind == want[3].dtype.kind, c["name"]
    assert n >= 8


def test_swapped_estimates_are_found(golden):
    c, refs, ests = next(x for x in golden if x[0]["nsrc"] == 3 and x[0]["samples"] <= 12000)
    want = separation.bss_eval_sources(refs, ests[[2, 0, 1]])
    got = dlnmf.bss_eval_sources(refs, ests[[2, 0, 1]])
    for g, w in zip(got[:3], want[:3]):
        assert_same_db(g, w)
    assert got[3].tolist() == want[3].tolist() == [1, 2, 0]


def test_framewise_golden_and_mir_eval(golden):
    n = 0
    for c, refs, ests in golden:
        fw = c.get("framewise")
        if not fw:
            continue
        n += 1
        got = dlnmf.bss_eval_sources_framewise(refs, ests, window=fw["window"], hop=fw["hop"],
                                               compute_permutation=c["permute"])
        for g, name in zip(got[:3], ("sdr", "sir", "sar")):
            assert_same_db(g, np.array(fw[name], dtype=object).reshape(g.shape))
        assert np.array_equal(got[3], np.array(fw["perm"], dtype=float))
        # and the other setting, against mir_eval itself
        want = separation.bss_eval_sources_framewise(refs, ests, window=fw["window"], hop=fw["hop"],
                                                     compute_permutation=not c["permute"])
        got = dlnmf.bss_eval_sources_framewise(refs, ests, window=fw["window"], hop=fw["hop"],
                                               compute_permutation=not c["permute"])
        for g, w in zip(got, want):
            assert g.shape == w.shape
            assert_same_db(g, w)
    assert n >= 3


def test_framewise_silent_frame_and_single_frame():
    rng = np.random.default_rng(3)
    refs = rng.standard_normal((2, 6000))
    ests = refs + 0.2 * rng.standard_normal((2, 6000))
    refs[1, 2000:4000] = 0  # frames 1 and 2 of window 2000, hop 1000 hold silence
    for window, hop in ((2000, 1000), (6000, 3000), (8000, 4000)):
        want = separation.bss_eval_sources_framewise(refs, ests, window=window, hop=hop)
        got = dlnmf.bss_eval_sources_framewise(refs, ests, window=window, hop=hop)
        assert type(got) is type(want)
        for g, w in zip(got, want):
            assert g.shape == w.shape and g.dtype == w.dtype, (window, g.dtype, w.dtype)
            assert_same_db(g, w)


def test_one_dimensional_input_is_one_source():
    rng = np.random.default_rng(4)
    r = rng.standard_normal(3000)
    e = r + 0.1 * rng.standard_normal(3000)
    got, want = dlnmf.bss_eval_sources(r, e), separation.bss_eval_sources(r, e)
    for g, w in zip(got, want):
        assert g.shape == w.shape == (1,)
        assert_same_db(g, w)
    assert np.isinf(got[1][0])


def _message(f, *args):
    with pytest.raises(ValueError) as e:
        f(*args)
    return str(e.value)


def test_validation_errors_are_mir_evals():
    rng = np.random.default_rng(5)
    refs = rng.standard_normal((2, 2000))
    silent = refs.copy()
    silent[1] = 0
    for args in ((refs, refs[:, :1000]), (refs, refs[:1]), (silent, refs), (refs, silent),
                 (np.ones((2, 2, 2, 2)), np.ones((2, 2, 2, 2)))):
        assert _message(dlnmf.bss_eval_sources, *args) == _message(separation.bss_eval_sources, *args)
    many = rng.standard_normal((101, 600))
    assert "greater than dlnmf.MAX_SOURCES = 100" in _message(dlnmf.bss_eval_sources, many, many)


def test_empty_input_warns_and_returns_empty():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        got = dlnmf.bss_eval_sources(np.zeros((0, 0)), np.zeros((0, 0)))
    assert len(w) == 2 and all(g.size == 0 for g in got)


def test_library_refusals_are_value_errors():
    rng = np.random.default_rng(6)
    refs = rng.standard_normal((2, 3000))
    bad = refs.copy()
    bad[0, 10] = np.nan
    assert "NaN or infinite" in _message(dlnmf.bss_eval_sources, refs, bad)
    bad[0, 10] = np.inf
    assert "NaN or infinite" in _message(dlnmf.bss_eval_sources, bad, refs)
    # the library's own message, one line, for a signal shorter than the filter
    msg = _message(dlnmf.bss_eval_sources, refs[:, :100], refs[:, :100])
    assert msg == "bsseval: reference signals have 100 samples, fewer than the 512-tap distortion filter"
    with pytest.raises(ValueError, match="must be positive"):
        dlnmf.bss_eval_sources_framewise(refs, refs, window=1000, hop=0)
    with pytest.raises(dlnmf.Error, match="shorter than the 512-tap"):
        dlnmf.bss_eval_sources_framewise(refs, refs, window=500, hop=500)
    with pytest.raises(ValueError, match="real numbers"):
        dlnmf.bss_eval_sources(refs.astype(complex), refs)


def test_si_sdr():
    rng = np.random.default_rng(7)
    r = rng.standard_normal((3, 5000)) + 0.5
    e = 0.7 * r + 0.1 * rng.standard_normal((3, 5000))
    for zero_mean in (False, True):
        rr, ee = (r - r.mean(1, keepdims=True), e - e.mean(1, keepdims=True)) if zero_mean else (r, e)
        alpha = np.sum(rr * ee, 1, keepdims=True) / np.sum(rr * rr, 1, keepdims=True)
        want = 10 * np.log10(np.sum((alpha * rr) ** 2, 1) / np.sum((alpha * rr - ee) ** 2, 1))
        got = dlnmf.si_sdr(r, e, zero_mean=zero_mean)
        assert got.shape == (3,) and np.allclose(got, want, rtol=0, atol=1e-9)
        assert dlnmf.si_sdr(r[1], e[1], zero_mean=zero_mean) == pytest.approx(want[1], abs=1e-9)
    with pytest.raises(dlnmf.Error, match="silent"):
        dlnmf.si_sdr(r[0], np.zeros(5000))
    with pytest.raises(ValueError, match="same shape"):
        dlnmf.si_sdr(r[0], e[0, :10])


def test_calls_from_several_threads_agree(golden):
    cases = [x for x in golden if x[1].shape[1] <= 16000][:6]
    serial = [dlnmf.bss_eval_sources(r, e) for _, r, e in cases]
    results = {}

    def work(t):
        results[t] = [dlnmf.bss_eval_sources(r, e) for _, r, e in cases[t % 2::2]]

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for t in range(4):
        for got, want in zip(results[t], serial[t % 2::2]):
            for g, w in zip(got, want):
                assert np.array_equal(g, w)
