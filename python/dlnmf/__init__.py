"""dlnmf: supervised single-channel speech separation (NMF, layered NMF and
discriminative layered NMF) and BSS Eval scores, from Python, in-process.

Every function calls the Go library through a shared library (ctypes):
numpy arrays in and out, errors as Python exceptions carrying the library's
one-line message, the GIL released while Go computes (calls from several
threads run in parallel).

- Scores, drop-ins for mir_eval.separation: bss_eval_sources,
  bss_eval_sources_framewise; and si_sdr.
- The NMF engine with scikit-learn's interface: NMF.
- Speaker models: load_model, train, Model.save; Model.separate and
  Model.stream (the separation of `dlnmf separate`, and its --live).
"""

from ._lib import Error
from ._bsseval import MAX_SOURCES, bss_eval_sources, bss_eval_sources_framewise, si_sdr, validate
from ._nmf import NMF
from ._model import Model, Separator, Stream, load_model, load_model_bytes, train

__all__ = ["Error", "MAX_SOURCES", "bss_eval_sources", "bss_eval_sources_framewise", "si_sdr", "validate", "NMF", "Model", "Separator", "Stream", "load_model", "load_model_bytes", "train"]
