"""Whether the compiled loops of the economy (:mod:`world.econ_jit`) and of weight rows
(:mod:`world.weights_jit`), numba both, are used.

Speed only: the loops give the numbers of the numpy forms they stand for, bit for bit
(tests/test_econ_jit.py, tests/test_fast_paths.py). ``TAO_ARENA_ECON`` in the
environment (read at import), or setting :data:`BACKEND`: "auto" (the default) uses them
when numba imports, "numpy" never, "numba" always (ImportError without numba).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

__all__ = ["BACKEND", "BACKENDS", "compiled"]

BACKENDS = ("auto", "numpy", "numba")
BACKEND = os.environ.get("TAO_ARENA_ECON", "auto")
_MODULES = ("econ_jit", "weights_jit")
_loaded: dict[str, ModuleType] = {}
_numba_missing = False  # auto: an import failed once, do not retry on every call


def compiled(name: str = "econ_jit") -> ModuleType | None:
    """``world.<name>`` (``econ_jit`` or ``weights_jit``) when :data:`BACKEND` allows it
    and numba imports, else None (speed only: the same numbers; imported on first use)."""
    global _numba_missing
    if BACKEND not in BACKENDS:
        raise ValueError(f"TAO_ARENA_ECON must be one of {', '.join(BACKENDS)}, got {BACKEND!r}")
    if name not in _MODULES:
        raise ValueError(f"no compiled module {name!r}; one of {', '.join(_MODULES)}")
    if BACKEND == "numpy" or (_numba_missing and BACKEND == "auto"):
        return None
    module = _loaded.get(name)
    if module is None:
        try:
            module = importlib.import_module(f"world.{name}")
        except ImportError:
            if BACKEND == "numba":
                raise
            _numba_missing = True
            return None
        _loaded[name] = module
    return module
