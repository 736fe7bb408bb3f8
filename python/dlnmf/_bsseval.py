"""BSS Eval v3 and SI-SDR, as drop-ins for mir_eval.separation.

bss_eval_sources and bss_eval_sources_framewise take mir_eval 0.7's
arguments, validate them with its rules and messages, and return its
shapes, dtypes and numbers (the bsseval package's golden tests hold them
within 1e-6 dB of mir_eval). Two differences, both refusals with a
ValueError where mir_eval computes something meaningless: signals shorter
than the 512-tap distortion filter (which can then absorb anything), and
NaN or infinite samples.
"""

import ctypes
import warnings

import numpy as np

from . import _lib

MAX_SOURCES = 100
"""The largest number of sources, mir_eval.separation.MAX_SOURCES (fixed
here: the library enforces it too)."""


def _as_sources(a, name):
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, not {a.dtype}")
    if a.ndim == 1:
        a = a[np.newaxis, :]
    return a


def _any_source_silent(sources):
    return bool(np.any(np.all(np.sum(sources, axis=tuple(range(2, sources.ndim))) == 0, axis=1)))


def validate(reference_sources, estimated_sources):
    """Checks the inputs of a metric as mir_eval.separation.validate does,
    with its messages, and also that they are 2-D (nsrc, nsampl) and
    finite."""
    if reference_sources.shape != estimated_sources.shape:
        raise ValueError('The shape of estimated sources and the true '
                         'sources should match.  reference_sources.shape '
                         '= {}, estimated_sources.shape '
                         '= {}'.format(reference_sources.shape, estimated_sources.shape))
    if reference_sources.ndim > 3 or estimated_sources.ndim > 3:
        raise ValueError('The number of dimensions is too high (must be less '
                         'than 3). reference_sources.ndim = {}, '
                         'estimated_sources.ndim '
                         '= {}'.format(reference_sources.ndim, estimated_sources.ndim))
    if reference_sources.ndim != 2:
        raise ValueError('The sources should be of shape (nsrc, nsampl): '
                         'reference_sources.shape = {}'.format(reference_sources.shape))
    for name, s in (("reference", reference_sources), ("estimated", estimated_sources)):
        if s.size == 0:
            warnings.warn(f"{name}_sources is empty, should be of size "
                          "(nsrc, nsample).  sdr, sir, sar, and perm will all "
                          "be empty np.ndarrays")
        elif not np.all(np.isfinite(s)):
            raise ValueError(f"All the {name} sources should be finite, but "
                             "at least one sample is NaN or infinite.")
    if reference_sources.size and _any_source_silent(reference_sources):
        raise ValueError('All the reference sources should be non-silent (not '
                         'all-zeros), but at least one of the reference '
                         'sources is all 0s, which introduces ambiguity to the'
                         ' evaluation. (Otherwise we can add infinitely many '
                         'all-zero sources.)')
    if estimated_sources.size and _any_source_silent(estimated_sources):
        raise ValueError('All the estimated sources should be non-silent (not '
                         'all-zeros), but at least one of the estimated '
                         'sources is all 0s. Since we require each reference '
                         'source to be non-silent, having a silent estimated '
                         'source will result in an underdetermined system.')
    if estimated_sources.shape[0] > MAX_SOURCES or reference_sources.shape[0] > MAX_SOURCES:
        raise ValueError('The supplied matrices should be of shape (nsrc,'
                         ' nsampl) but reference_sources.shape[0] = {} and '
                         'estimated_sources.shape[0] = {} which is greater '
                         'than dlnmf.MAX_SOURCES = {}.'.format(
                             reference_sources.shape[0], estimated_sources.shape[0], MAX_SOURCES))


def bss_eval_sources(reference_sources, estimated_sources, compute_permutation=True):
    """BSS Eval v3 SDR, SIR and SAR of each estimated source, as
    mir_eval.separation.bss_eval_sources.

    Parameters
    ----------
    reference_sources, estimated_sources : np.ndarray, shape=(nsrc, nsampl)
        true and estimated sources (a 1-D array is one source).
    compute_permutation : bool
        search the estimate-to-reference assignment that maximises the mean
        SIR (mir_eval's default, True), as an assignment problem rather than
        over all nsrc! permutations.

    Returns
    -------
    sdr, sir, sar : np.ndarray, shape=(nsrc,), in dB, indexed by reference
    perm : np.ndarray, shape=(nsrc,)
        estimate perm[j] is scored against reference j.
    """
    reference_sources = _as_sources(reference_sources, "reference_sources")
    estimated_sources = _as_sources(estimated_sources, "estimated_sources")
    validate(reference_sources, estimated_sources)
    if reference_sources.size == 0 or estimated_sources.size == 0:
        return np.array([]), np.array([]), np.array([]), np.array([])
    nsrc, n = reference_sources.shape
    refs, refs_p = _lib.doubles(reference_sources)
    ests, ests_p = _lib.doubles(estimated_sources)
    sdr, sir, sar = np.empty(nsrc), np.empty(nsrc), np.empty(nsrc)
    perm = np.empty(nsrc, dtype=np.int64)
    _lib.call("dlnmf_bss_eval_sources", refs_p, ests_p, nsrc, n, int(bool(compute_permutation)), 0,
              sdr.ctypes.data_as(_lib.c_double_p), sir.ctypes.data_as(_lib.c_double_p),
              sar.ctypes.data_as(_lib.c_double_p), perm.ctypes.data_as(_lib.c_int64_p))
    return sdr, sir, sar, perm


def bss_eval_sources_framewise(reference_sources, estimated_sources, window=30 * 44100, hop=15 * 44100,
                               compute_permutation=False):
    """bss_eval_sources on frames of window samples every hop samples, as
    mir_eval.separation.bss_eval_sources_framewise.

    Returns sdr, sir, sar and perm of shape (nsrc, nframes); in a frame where
    some reference or estimate is silent all four are NaN (so perm is a
    float array). With fewer than two frames the whole signals are scored
    as one frame, as by bss_eval_sources (perm is then an integer array).
    """
    reference_sources = _as_sources(reference_sources, "reference_sources")
    estimated_sources = _as_sources(estimated_sources, "estimated_sources")
    validate(reference_sources, estimated_sources)
    if reference_sources.size == 0 or estimated_sources.size == 0:
        return np.array([]), np.array([]), np.array([]), np.array([])
    if not (isinstance(window, (int, np.integer)) and isinstance(hop, (int, np.integer)) and window > 0 and hop > 0):
        raise ValueError(f"window ({window!r}) and hop ({hop!r}) must be positive integers")
    nsrc, n = reference_sources.shape
    nwin = int(np.floor((n - window + hop) / hop))
    if nwin < 2:
        result = bss_eval_sources(reference_sources, estimated_sources, compute_permutation)
        return [np.expand_dims(score, -1) for score in result]
    refs, refs_p = _lib.doubles(reference_sources)
    ests, ests_p = _lib.doubles(estimated_sources)
    frames = ctypes.c_int64()
    out = _lib.c_double_p()
    _lib.call("dlnmf_bss_eval_sources_framewise", refs_p, ests_p, nsrc, n, int(window), int(hop),
              int(bool(compute_permutation)), 0, ctypes.byref(frames), ctypes.byref(out))
    scores = _lib.take_doubles(out, 4 * nsrc * frames.value).reshape(4, nsrc, frames.value)
    return scores[0], scores[1], scores[2], scores[3]


def si_sdr(reference, estimate, zero_mean=False):
    """Scale-invariant SDR in dB (Le Roux et al. 2019) of estimate against
    reference: for 1-D signals a float, for (nsrc, nsampl) arrays one value
    per source (estimate i against reference i). With zero_mean, both have
    their mean removed first (as asteroid and torchmetrics do)."""
    r = _as_sources(reference, "reference")
    e = _as_sources(estimate, "estimate")
    if r.shape != e.shape or r.ndim != 2:
        raise ValueError(f"reference and estimate should have the same shape (nsampl,) or (nsrc, nsampl): "
                         f"reference.shape = {np.shape(reference)}, estimate.shape = {np.shape(estimate)}")
    nsrc, n = r.shape
    r, r_p = _lib.doubles(r)
    e, e_p = _lib.doubles(e)
    out = np.empty(nsrc)
    _lib.call("dlnmf_si_sdr", r_p, e_p, nsrc, n, int(bool(zero_mean)), out.ctypes.data_as(_lib.c_double_p))
    return float(out[0]) if np.ndim(reference) == 1 else out
