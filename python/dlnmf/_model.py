"""Speaker models: loading, training and saving the .npz model files that
`dlnmf train` writes and `dlnmf separate` reads.

A Model holds a handle to the Go library's model (never a Go pointer); the
model lives there until the Model is garbage-collected or closed.
"""

import ctypes
import io
import json
import os

import numpy as np

from . import _lib


class Model(_lib.Handle):
    """A set of speaker models and everything needed to use them.

    Attributes
    ----------
    speakers : list of str
        the speakers' names, in the model's order.
    sample_rate : int
        the rate the model was trained at, Hz.
    meta : dict
        the settings recorded in the file (its "meta" entry: method, sizes,
        STFT framing, divergence, inference, mask, training history, the
        dlnmf build that wrote it; docs/models.md describes every key).
    """

    def __init__(self, handle):
        self._handle = handle
        self.meta = json.loads(str(np.load(io.BytesIO(self.to_bytes()), allow_pickle=False)["meta"]))
        self.speakers = list(self.meta["speakers"])
        self.sample_rate = int(self.meta["sample_rate"])

    @property
    def method(self):
        """"nmf", "lnmf" or "dlnmf"."""
        return self.meta["method"]

    @property
    def universal(self):
        """The universal speech model's source name, or None."""
        u = self.meta.get("universal")
        return u["name"] if u else None

    def separator(self, **settings):
        """A Separator of this model with dlnmf separate's settings (see
        Separator); model.separate(x, sr, **settings) uses one."""
        return Separator(self, **settings)

    def separate(self, x, sr, **settings):
        """Separates the recording x at sr Hz, as `dlnmf separate` does, and
        returns {source name: estimate}; see Separator.separate. The
        separator for a set of settings is made once and kept."""
        key = tuple(sorted(settings.items()))
        cache = self.__dict__.setdefault("_separators", {})
        if key not in cache:
            cache[key] = Separator(self, **settings)
        return cache[key].separate(x, sr)

    def stream(self, sr, **settings):
        """A Stream that separates a recording at sr Hz as it arrives
        (`dlnmf separate --live`); see Stream."""
        return Stream(self.separator(**settings), sr)

    def to_bytes(self):
        """The model file's bytes (an .npz archive)."""
        out, n = ctypes.c_void_p(), ctypes.c_int64()
        _lib.call("dlnmf_model_encode", self._live_handle(), ctypes.byref(out), ctypes.byref(n))
        try:
            return ctypes.string_at(out, n.value)
        finally:
            _lib.lib.dlnmf_free(out)

    def save(self, path):
        """Writes the model file at path: the bytes `dlnmf train` writes for
        the same training. The file is complete or not written at all."""
        _lib.call("dlnmf_model_save", self._live_handle(), os.fsencode(path))

    def close(self):
        """Releases the library's model (also done when the Model is
        garbage-collected)."""
        for sep in self.__dict__.pop("_separators", {}).values():
            sep.close()
        super().close()

    def __repr__(self):
        return (f"<dlnmf.Model {self.method} sizes={self.meta.get('sizes')} speakers={self.speakers} "
                f"rate={self.sample_rate}{' universal=' + self.universal if self.universal else ''}>")


def load_model(path):
    """Reads a model file. Model files are untrusted input: every field is
    checked (docs/security.md), and a file that is not a model, truncated or
    of absurd sizes raises dlnmf.Error with the library's message."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such model file")
    handle = ctypes.c_uint64()
    _lib.call("dlnmf_model_load", os.fsencode(path), ctypes.byref(handle))
    return Model(handle.value)


def load_model_bytes(data):
    """Reads a model from the bytes of a model file (as load_model)."""
    data = bytes(data)
    handle = ctypes.c_uint64()
    _lib.call("dlnmf_model_decode", data, len(data), ctypes.byref(handle))
    return Model(handle.value)


def _speaker_entry(name, value, sample_rate, arrays):
    """The library's description of one speaker's audio; arrays collects
    the samples it names, in order."""
    if isinstance(value, (str, os.PathLike)):
        if not os.path.isdir(value):
            raise ValueError(f"speaker {name}: {value} is not a folder (give a folder, a list of files or arrays)")
        return {"name": name, "dir": os.fspath(value)}
    rate = sample_rate
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], (int, np.integer)):
        value, rate = value
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = [value]
    value = list(value)
    if not value:
        raise ValueError(f"speaker {name}: no audio")
    if all(isinstance(v, (str, os.PathLike)) for v in value):
        return {"name": name, "files": [os.fspath(v) for v in value]}
    for i, v in enumerate(value):
        v = np.asarray(v)
        if v.dtype.kind not in "biuf" or v.ndim != 1 or v.size == 0:
            raise ValueError(f"speaker {name}, array {i}: want a non-empty 1-D array of samples, got "
                             f"shape {v.shape} of {v.dtype}")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"speaker {name}, array {i}: NaN or infinite samples")
        arrays.append(np.ascontiguousarray(v, dtype=np.float64))
    return {"name": name, "arrays": len(value), "rate": int(rate)}


def train(speakers, *, preset=None, method=None, sizes=None, disc=None, disc_share=None, rate=16000, sample_rate=None,
          iters=None, infer_iters=None, rounds=None, disc_iters=None, snr=0.0, beta=1.0, tol=None, seed=None,
          context=None, sparsity=None, mask_power=None, bands=None, step_exponent=None, separate_iters=None,
          reconstruction_bases=None, deep_epochs=None, disc_pairings=None, universal=None, universal_name="speech", universal_k=None,
          universal_prune=None):
    """Trains speaker models (separation.Train, the library's one training
    pipeline, as `dlnmf train` does) and returns the Model.

    Parameters
    ----------
    speakers : dict name -> audio
        each speaker's training audio, in model order: a folder (every .wav
        and .flac file under it, sorted by path, as `--speaker NAME=DIR`), a
        list of audio file paths (`--speaker NAME=@LIST`), or a list of 1-D
        sample arrays at sample_rate Hz (or a pair (arrays, rate)). Audio at
        another rate than `rate` is resampled.
    preset : "validated", "paper" or None
        the configuration trained when method is None, as `dlnmf train
        --preset`: "validated" (the default: NMF K = 400, 5-frame patches,
        sparsity 1, mask power 2, inference on 128 bands in longer steps
        and, for 2 speakers or more, reconstruction bases trained for at
        most 50 of them (at most 100 without), chosen on validation data
        on TSP and CMU ARCTIC;
        sizes=[100] is four times less work per iteration and
        0.5 to 0.9 dB lower, see docs/RESULTS.md) or "paper" (the paper's
        DL-NMF 180,20).
    method : "nmf", "lnmf", "dlnmf" or None
        a method with the paper's settings instead of a preset.
    sizes : list of int or None
        layer sizes; None is the preset's or the method's default (K = 20
        for nmf; 180, 20 for lnmf and dlnmf).
    disc : dict name -> audio, for dlnmf or reconstruction bases, or None
        every speaker's files for the discriminative mixtures, as
        `dlnmf train --disc` (the i-th of each speaker mixed at snr dB).
        None: a seeded share (disc_share, default 0.2) of each speaker's
        training audio is held back for them, as `dlnmf train` does.
    reconstruction_bases : bool or None
        train the Wiener gains' bases for the model's own inference on the
        discriminative mixtures, as `dlnmf train --reconstruction-bases`
        (deep_epochs gradient steps, None: 25); None: the preset's choice
        ("validated": trained for 2 speakers or more without a universal
        model; False trains none, every file then training the layers).
    disc_pairings : int or None
        discriminative mixtures per held-back file (`--disc-pairings`);
        None: 4 with reconstruction bases, 1 otherwise.
    universal : dict name -> audio, or None
        a universal speech model trained into the model (`dlnmf train
        --universal universal_name=DIR,...`): universal_k bases per speaker
        (None: the model's sizes), speakers that sound like the model's own
        dropped at universal_prune (None: the default 1.5; 0: keep all).
    rate : int
        the rate to train at (the model separates at it).
    iters, infer_iters, rounds, disc_iters, tol : None for the library's
        defaults (200, 200, 5, 50, 1e-4), as dlnmf train's flags.
    beta, seed, context, sparsity, mask_power, bands, step_exponent, separate_iters :
        as dlnmf train's flags (None: the preset's or the method's default,
        bands 128 for "validated", the mel-spaced bands its activations are
        inferred on by default; step_exponent and separate_iters the
        inference the model's separations run by default; seed None: the
        library's default seed, as --seed's).

    The call holds no Python lock while it trains; it cannot be
    interrupted from Python.
    """
    if not isinstance(speakers, dict) or not speakers:
        raise ValueError("speakers must be a dict of speaker name to audio")
    if disc is not None and (not isinstance(disc, dict) or list(disc) != list(speakers)):
        raise ValueError("disc must name the same speakers as speakers, in the same order")
    counts = {"iters": iters, "infer_iters": infer_iters, "rounds": rounds, "disc_iters": disc_iters,
              "deep_epochs": deep_epochs, "disc_pairings": disc_pairings}
    for key, v in counts.items():
        if v is not None and (not isinstance(v, (int, np.integer)) or v < 1):
            raise ValueError(f"{key} must be an integer of at least 1 (None: the default), got {v!r}")
    arrays = []
    sr = rate if sample_rate is None else sample_rate
    req = {
        "method": method or "", "sizes": None if sizes is None else [int(k) for k in sizes], "rate": int(rate),
        "iters": iters or 0, "infer_iters": infer_iters or 0, "rounds": rounds or 0,
        "disc_iters": disc_iters or 0, "tol": tol or 0.0, "beta": float(beta),
        "snr": float(snr),
        "speakers": [_speaker_entry(n, v, sr, arrays) for n, v in speakers.items()],
        "disc": [_speaker_entry(n, v, sr, arrays) for n, v in (disc or {}).items()],
        "disc_share": float(disc_share or 0.0),
        "deep_epochs": deep_epochs or 0, "disc_pairings": disc_pairings or 0,
    }
    if reconstruction_bases is not None:
        req["reconstruction_bases"] = bool(reconstruction_bases)
    if seed is not None:
        req["seed"] = int(seed)
    if preset is not None:
        req["preset"] = str(preset)
    for key, v, kind in (("context", context, int), ("sparsity", sparsity, float), ("mask_power", mask_power, float),
                         ("bands", bands, int), ("step_exponent", step_exponent, float),
                         ("separate_iters", separate_iters, int)):
        if v is not None:
            req[key] = kind(v)
    if universal is not None:
        if not isinstance(universal, dict) or not universal:
            raise ValueError("universal must be a dict of speaker name to audio")
        prune = -1.0 if universal_prune == 0 else float(universal_prune or 0.0)
        req["universal"] = {"name": str(universal_name), "k": int(universal_k or 0), "prune": prune,
                            "speakers": [_speaker_entry(n, v, sr, arrays) for n, v in universal.items()]}
    samples = np.concatenate(arrays) if arrays else np.zeros(0)
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    handle = ctypes.c_uint64()
    _lib.call("dlnmf_train", json.dumps(req).encode(), samples.ctypes.data_as(_lib.c_double_p),
              lengths.ctypes.data_as(_lib.c_int64_p), len(arrays), ctypes.byref(handle))
    return Model(handle.value)


def _channels(x, name="x"):
    """x as a C-contiguous (channels, samples) float64 array: a 1-D array is
    one channel, a 2-D one is (samples, channels) as soundfile.read and
    scipy.io.wavfile.read return."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real samples, not {x.dtype}")
    if x.ndim == 1:
        x = x[np.newaxis, :]
    elif x.ndim == 2:
        if x.shape[1] > x.shape[0]:
            raise ValueError(f"{name} has shape {x.shape}: 2-D recordings are (samples, channels); "
                             f"for (channels, samples), as librosa's, pass {name}.T")
        x = x.T
    else:
        raise ValueError(f"{name} must be (samples,) or (samples, channels), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} has NaN or infinite samples")
    return np.ascontiguousarray(x, dtype=np.float64)


def _rate(sr):
    if not isinstance(sr, (int, np.integer)) or sr < 1:
        raise ValueError(f"the sample rate must be a positive integer (Hz), got {sr!r}")
    return int(sr)


class Separator(_lib.Handle):
    """A model prepared for separating recordings (the recording package's
    Separator: the library's one policy for rates, full band, free bases and
    universal models, the same as `dlnmf separate`).

    Settings (None or absent: the library's default, as dlnmf separate's
    flags of the same names): iters, tol, free, free_init ("quiet" or
    "random"), universal_weight, mask_power, and for streams free_buffer,
    free_every, free_updates and live_batch; bands (infer on that many
    mel-spaced bands, about bins / bands times cheaper per iteration; -1:
    every bin; None: the model's, 128 for the validated preset's models);
    coarse_bands and coarse_iters (start from that many iterations on fewer
    bands, cheaper still); step_exponent (raise each multiplicative step of
    the activations to that power, at least 1 and below 2: longer steps to
    the same activations, so that fewer iters reach them; None: the
    model's, as iters, or 1, the usual update).

    Safe to use from several threads at once; the GIL is released while it
    separates.
    """

    _KEYS = ("iters", "tol", "free", "free_init", "universal_weight", "mask_power", "free_buffer", "free_every",
             "free_updates", "live_batch", "bands", "coarse_bands", "coarse_iters", "step_exponent")

    def __init__(self, model, **settings):
        unknown = set(settings) - set(self._KEYS)
        if unknown:
            raise TypeError(f"unknown separation settings {sorted(unknown)}; known: {list(self._KEYS)}")
        req = {k: v for k, v in settings.items() if v is not None}
        if req.get("iters", 1) < 1:
            raise ValueError("iters must be at least 1")
        self.model = model
        handle, names = ctypes.c_uint64(), ctypes.c_void_p()
        _lib.call("dlnmf_separator_new", model._live_handle(), json.dumps(req).encode(), ctypes.byref(handle),
                  ctypes.byref(names))
        self._handle = handle.value
        self.sources = _lib.take_string(names).split("\n")
        """The names of the separated sources, in order: the model's
        speakers, then "other" (free bases) or the universal model's name."""

    def separate(self, x, sr):
        """Separates the recording x at sr Hz.

        x is 1-D (mono) or (samples, channels), which are down-mixed to
        their mean. At the model's rate it is separated as it is; above it
        full band (the estimates keep the rate and the whole band); below
        it, resampled up and the estimates back (down to half the model's
        rate). Returns {source name: 1-D float64 array at sr, as long as
        x}, the samples `dlnmf separate --encoding float64` writes; the
        estimates add up to the down-mix.
        """
        ch = _channels(x)
        sr = _rate(sr)
        out = np.empty((len(self.sources), ch.shape[1]))
        _lib.call("dlnmf_separate", self._live_handle(), ch.ctypes.data_as(_lib.c_double_p), ch.shape[0], ch.shape[1], sr,
                  out.ctypes.data_as(_lib.c_double_p))
        return dict(zip(self.sources, out))


class Stream(_lib.Handle):
    """Separates a recording as it arrives (`dlnmf separate --live`): push
    chunks of any size, get back each source's samples that became final.
    The same recording gives the same samples however it is cut into
    chunks.

    Attributes
    ----------
    sources : list of str
    rate : int
        the estimates' rate: the stream's, or the model's for a stream below
        it (resampled up, not back: that would add the resampler's delay
        twice).
    latency : float
        the algorithmic latency in seconds (one STFT window, plus the
        resampler's half filter when resampled); computing time aside.
    latency_samples : int
        the same in samples at rate.

    Not for concurrent pushes (the library serialises them); the GIL is
    released while it separates.
    """

    def __init__(self, separator, sr):
        self.separator = separator
        self.sources = list(separator.sources)
        handle, rate, latency = ctypes.c_uint64(), ctypes.c_int64(), ctypes.c_int64()
        _lib.call("dlnmf_stream_new", separator._live_handle(), _rate(sr), ctypes.byref(handle), ctypes.byref(rate),
                  ctypes.byref(latency))
        self._handle = handle.value
        self.rate = rate.value
        self.latency_samples = latency.value
        self.latency = latency.value / rate.value

    def _call(self, ch, finish):
        if self._handle is None:
            raise ValueError("the stream is finished")
        counts = np.zeros(len(self.sources), dtype=np.int64)
        out = _lib.c_double_p()
        ptr = ch.ctypes.data_as(_lib.c_double_p) if ch is not None else None
        nch, n = ch.shape if ch is not None else (0, 0)
        _lib.call("dlnmf_stream_push", self._handle, ptr, nch, n, int(finish), counts.ctypes.data_as(_lib.c_int64_p),
                  ctypes.byref(out))
        flat = _lib.take_doubles(out, int(counts.sum()))
        return dict(zip(self.sources, np.split(flat, np.cumsum(counts)[:-1])))

    def push(self, chunk):
        """Adds a chunk (1-D, or (samples, channels) down-mixed to their
        mean) and returns {source: the samples that became final}."""
        return self._call(_channels(chunk, "chunk"), False)

    def finish(self):
        """Ends the stream and returns the rest of each source's estimate."""
        try:
            return self._call(None, True)
        finally:
            self.close()
