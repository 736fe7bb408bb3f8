"""Loading the Go shared library and calling it.

The library (libdlnmf.so, built from python/libdlnmf with
``go build -buildmode=c-shared``) is loaded from the path in the environment
variable DLNMF_LIB when it is set, else from this package's folder.

It is loaded with ctypes.CDLL, so every call releases the GIL while Go
computes: other Python threads run meanwhile, and several threads may call
the library at once.
"""

import ctypes
import os

import numpy as np

LIB_NAME = "libdlnmf.so"


class Error(ValueError):
    """An error reported by the dlnmf library, with its one-line message.

    A ValueError, since what the library refuses is its input: data, model
    files and settings. (A missing file is a FileNotFoundError instead.)
    """


def _load():
    path = os.environ.get("DLNMF_LIB") or os.path.join(os.path.dirname(os.path.abspath(__file__)), LIB_NAME)
    if not os.path.exists(path):
        raise ImportError(
            f"dlnmf: the shared library {path} is missing: build it with 'make python' "
            "in the repository (or install the package with pip, which builds it), "
            "or point DLNMF_LIB at it")
    return ctypes.CDLL(path)


lib = _load()

c_double_p = ctypes.POINTER(ctypes.c_double)
c_float_p = ctypes.POINTER(ctypes.c_float)
c_int64_p = ctypes.POINTER(ctypes.c_int64)
i64 = ctypes.c_int64

# Every exported function returns NULL or a malloc'ed message, which must be
# read and released: so the return type is a plain pointer, not c_char_p.
_PROTOTYPES = {
    "dlnmf_bss_eval_sources": [c_double_p, c_double_p, i64, i64, ctypes.c_int, i64,
                               c_double_p, c_double_p, c_double_p, c_int64_p],
    "dlnmf_bss_eval_sources_framewise": [c_double_p, c_double_p, i64, i64, i64, i64, ctypes.c_int, i64,
                                         c_int64_p, ctypes.POINTER(c_double_p)],
    "dlnmf_si_sdr": [c_double_p, c_double_p, i64, i64, ctypes.c_int, c_double_p],
    "dlnmf_nmf_fit": [c_float_p, i64, i64, i64, ctypes.c_double, i64, ctypes.c_double, ctypes.c_uint64, ctypes.c_int,
                      c_float_p, c_float_p, c_int64_p, c_double_p],
    "dlnmf_nmf_infer": [c_float_p, i64, i64, i64, c_float_p, ctypes.c_double, i64, ctypes.c_double,
                        c_float_p, c_int64_p],
    "dlnmf_model_load": [ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64)],
    "dlnmf_model_decode": [ctypes.c_char_p, i64, ctypes.POINTER(ctypes.c_uint64)],
    "dlnmf_model_encode": [ctypes.c_uint64, ctypes.POINTER(ctypes.c_void_p), c_int64_p],
    "dlnmf_model_save": [ctypes.c_uint64, ctypes.c_char_p],
    "dlnmf_train": [ctypes.c_char_p, c_double_p, c_int64_p, i64, ctypes.POINTER(ctypes.c_uint64)],
    "dlnmf_separator_new": [ctypes.c_uint64, ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64),
                            ctypes.POINTER(ctypes.c_void_p)],
    "dlnmf_separate": [ctypes.c_uint64, c_double_p, i64, i64, i64, c_double_p],
    "dlnmf_handle_close": [ctypes.c_uint64],
    "dlnmf_stream_new": [ctypes.c_uint64, i64, ctypes.POINTER(ctypes.c_uint64), c_int64_p, c_int64_p],
    "dlnmf_stream_push": [ctypes.c_uint64, c_double_p, i64, i64, ctypes.c_int, c_int64_p, ctypes.POINTER(c_double_p)],
}

for _name, _args in _PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.argtypes = _args
    _fn.restype = ctypes.c_void_p
lib.dlnmf_free.argtypes = [ctypes.c_void_p]
lib.dlnmf_free.restype = None


def call(name, *args):
    """Calls the library's function name and raises Error with its message
    when it fails."""
    msg = getattr(lib, name)(*args)
    if msg:
        try:
            text = ctypes.string_at(msg).decode("utf-8", "replace")
        finally:
            lib.dlnmf_free(msg)
        raise Error(text)


def take_string(ptr):
    """Decodes a string that the library allocated and releases it."""
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        lib.dlnmf_free(ptr)


def take_doubles(ptr, n):
    """Copies n doubles that the library allocated into a new array and
    releases them."""
    try:
        return np.ctypeslib.as_array(ptr, shape=(n,)).copy() if n else np.empty(0)
    finally:
        lib.dlnmf_free(ptr)


def doubles(a):
    """a as a C-contiguous float64 array (a copy only when needed) and a
    pointer to its data."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    return a, a.ctypes.data_as(c_double_p)


def floats(a):
    """a as a C-contiguous float32 array (a copy only when needed) and a
    pointer to its data."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    return a, a.ctypes.data_as(c_float_p)


class Handle:
    """A library object that Python holds by an integer handle (never a Go
    pointer): released by close(), at the end of a with block, or when
    garbage-collected."""

    _handle = None

    def _live_handle(self):
        if self._handle is None:
            raise ValueError(f"the {type(self).__name__.lower()} is closed")
        return self._handle

    def close(self):
        if self._handle is not None:
            h, self._handle = self._handle, None
            call("dlnmf_handle_close", h)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
