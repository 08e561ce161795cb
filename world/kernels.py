"""Whether the economy's compiled loops (:mod:`world.econ_jit`, numba) are used.

Speed only: the loops give the numbers of the numpy forms they stand for, bit for bit
(tests/test_econ_jit.py). ``TAO_ARENA_ECON`` in the environment (read at import), or
setting :data:`BACKEND`: "auto" (the default) uses them when numba imports, "numpy" never,
"numba" always (ImportError without numba).
"""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["BACKEND", "BACKENDS", "compiled"]

BACKENDS = ("auto", "numpy", "numba")
BACKEND = os.environ.get("TAO_ARENA_ECON", "auto")
_compiled_module: ModuleType | None = None
_numba_missing = False  # auto: an import failed once, do not retry on every call


def compiled() -> ModuleType | None:
    """:mod:`world.econ_jit` when :data:`BACKEND` allows it and numba imports, else None
    (speed only: the same numbers; imported on first use)."""
    global _compiled_module, _numba_missing
    if BACKEND not in BACKENDS:
        raise ValueError(f"TAO_ARENA_ECON must be one of {', '.join(BACKENDS)}, got {BACKEND!r}")
    if BACKEND == "numpy" or (_numba_missing and BACKEND == "auto"):
        return None
    if _compiled_module is None:
        try:
            from world import econ_jit
        except ImportError:
            if BACKEND == "numba":
                raise
            _numba_missing = True
            return None
        _compiled_module = econ_jit
    return _compiled_module
