"""Hostile input from Python: model files that are not models, truncated or
of absurd sizes, NaN arrays, and the library's own checks behind the
package's. Each gives a Python exception, never a crash of the
interpreter."""

import ctypes
import io
import json
import zipfile

import numpy as np
import pytest

import dlnmf
from dlnmf import _lib


@pytest.fixture(scope="module")
def model_bytes():
    rng = np.random.default_rng(0)
    x = {n: [np.abs(rng.standard_normal(8000)) * np.sin(np.arange(8000) * f)] for n, f in (("a", 0.05), ("b", 0.2))}
    return dlnmf.train(x, method="nmf", sizes=[4], iters=3).to_bytes()


def _rewrite(model_bytes, edit_meta=None, arrays=None):
    """The model archive with its meta edited and arrays replaced by raw
    .npy bytes."""
    src = zipfile.ZipFile(io.BytesIO(model_bytes))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in src.namelist():
            data = src.read(name)
            if name == "meta.npy" and edit_meta:
                meta = json.loads(str(np.load(io.BytesIO(data))))
                edit_meta(meta)
                buf = io.BytesIO()
                np.save(buf, np.array(json.dumps(meta)))
                data = buf.getvalue()
            if arrays and name[:-4] in arrays:
                data = arrays[name[:-4]]
            z.writestr(name, data)
    return out.getvalue()


def _npy_header(shape):
    """A .npy file that claims shape but holds 16 bytes of data."""
    header = repr({"descr": "<f4", "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(16)


def _hostile_files(model_bytes):
    def sizes(m):
        m["sizes"] = [10 ** 12]

    def rate(m):
        m["sample_rate"] = 10 ** 15

    def names(m):
        m["speakers"] = ["../../etc/passwd", "b"]

    def stft(m):
        m["stft"]["fft_size"] = 2 ** 40

    return {
        "garbage": bytes(range(256)) * 64,
        "empty": b"",
        "truncated": model_bytes[: len(model_bytes) // 2],
        "zip bomb header": _rewrite(model_bytes, arrays={"s0_W1": _npy_header((10 ** 9, 10 ** 9))}),
        "absurd sizes": _rewrite(model_bytes, sizes),
        "absurd rate": _rewrite(model_bytes, rate),
        "path names": _rewrite(model_bytes, names),
        "absurd STFT": _rewrite(model_bytes, stft),
        "NaN layer": _rewrite(model_bytes, arrays={"s0_W1": _nan_layer(model_bytes)}),
    }


def _nan_layer(model_bytes):
    w = np.load(io.BytesIO(model_bytes))["s0_W1"].copy()
    w[0, 0] = np.nan
    buf = io.BytesIO()
    np.save(buf, w)
    return buf.getvalue()


def test_hostile_model_files_raise(model_bytes, tmp_path):
    assert dlnmf.load_model_bytes(model_bytes).speakers == ["a", "b"]
    for name, data in _hostile_files(model_bytes).items():
        path = tmp_path / (name.replace(" ", "_") + ".npz")
        path.write_bytes(data)
        with pytest.raises(dlnmf.Error) as e:
            dlnmf.load_model(path)
        assert str(path) in str(e.value) and "\n" not in str(e.value), name
        with pytest.raises(dlnmf.Error):
            dlnmf.load_model_bytes(data)
    with pytest.raises(FileNotFoundError):
        dlnmf.load_model(tmp_path / "missing.npz")
    with pytest.raises(dlnmf.Error):
        dlnmf.load_model(tmp_path)  # a folder


def test_closed_model_and_bad_handles(model_bytes):
    m = dlnmf.load_model_bytes(model_bytes)
    m.close()
    with pytest.raises(ValueError, match="closed"):
        m.to_bytes()
    m.close()  # twice is harmless
    for h in (0, 12345, 2 ** 63):
        with pytest.raises(dlnmf.Error, match="closed|handle"):
            _lib.call("dlnmf_handle_close", h)


def test_nan_arrays_raise():
    x = np.ones((2, 4000))
    x[1, 7] = np.nan
    with pytest.raises(ValueError):
        dlnmf.bss_eval_sources(np.ones((2, 4000)) + np.eye(2, 4000), x)
    with pytest.raises(ValueError):
        dlnmf.NMF(2).fit(np.abs(x))
    with pytest.raises(ValueError):
        dlnmf.train({"a": [x[1]]}, method="nmf")


def test_library_checks_behind_the_package():
    """Calls that skip the package's checks reach the library's own."""
    refs = np.random.default_rng(1).standard_normal((2, 4000))
    bad = refs.copy()
    bad[0, 3] = np.nan
    out = [np.empty(2) for _ in range(3)]
    perm = np.empty(2, dtype=np.int64)
    args = [o.ctypes.data_as(_lib.c_double_p) for o in out] + [perm.ctypes.data_as(_lib.c_int64_p)]
    with pytest.raises(dlnmf.Error, match="NaN|finite"):
        _lib.call("dlnmf_bss_eval_sources", refs.ctypes.data_as(_lib.c_double_p), bad.ctypes.data_as(_lib.c_double_p),
                  2, 4000, 1, 0, *args)
    with pytest.raises(dlnmf.Error, match="negative"):
        _lib.call("dlnmf_bss_eval_sources", refs.ctypes.data_as(_lib.c_double_p), refs.ctypes.data_as(_lib.c_double_p),
                  2, -4000, 1, 0, *args)
    X = np.abs(refs).astype(np.float32)
    X[1, 1] = np.nan
    W, H = np.ones((2, 3), np.float32), np.ones((3, 4000), np.float32)
    it, cost = ctypes.c_int64(), ctypes.c_double()
    with pytest.raises(dlnmf.Error, match="finite"):
        _lib.call("dlnmf_nmf_fit", X.ctypes.data_as(_lib.c_float_p), 2, 4000, 3, 1.0, 10, 1e-4, 0, 1,
                  W.ctypes.data_as(_lib.c_float_p), H.ctypes.data_as(_lib.c_float_p), ctypes.byref(it), ctypes.byref(cost))
    W[0, 0] = -1
    with pytest.raises(dlnmf.Error, match="negative"):
        _lib.call("dlnmf_nmf_fit", np.abs(refs).astype(np.float32).ctypes.data_as(_lib.c_float_p), 2, 4000, 3, 1.0,
                  10, 1e-4, 0, 1, W.ctypes.data_as(_lib.c_float_p), H.ctypes.data_as(_lib.c_float_p),
                  ctypes.byref(it), ctypes.byref(cost))
    with pytest.raises(dlnmf.Error, match="train settings"):
        _lib.call("dlnmf_train", b"{not json", None, None, 0, ctypes.byref(ctypes.c_uint64()))


def test_a_go_panic_becomes_an_exception():
    """A NULL pointer with a non-zero size panics inside the library: the
    export recovers it and returns its message."""
    out = [np.empty(2) for _ in range(3)]
    perm = np.empty(2, dtype=np.int64)
    args = [o.ctypes.data_as(_lib.c_double_p) for o in out] + [perm.ctypes.data_as(_lib.c_int64_p)]
    with pytest.raises(dlnmf.Error, match="internal error"):
        _lib.call("dlnmf_bss_eval_sources", None, None, 2, 4000, 1, 0, *args)
