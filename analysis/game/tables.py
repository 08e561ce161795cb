"""Validation and scaling of payoff tables shared by the empirical-game modules."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
Mixes = tuple[FloatArray, ...]



def _finite_array(x: ArrayLike, name: str, ndim: int | None = None) -> FloatArray:
    arr = np.asarray(x, dtype=float)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite payoffs")
    return arr


def _square(payoff: ArrayLike, name: str = "payoff") -> FloatArray:
    arr = _finite_array(payoff, name, 2)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be square (symmetric game), got shape {arr.shape}")
    return arr


def _bimatrix(payoff_row: ArrayLike, payoff_col: ArrayLike) -> tuple[FloatArray, FloatArray]:
    a = _finite_array(payoff_row, "payoff_row", 2)
    b = _finite_array(payoff_col, "payoff_col", 2)
    if a.shape != b.shape:
        raise ValueError(f"payoff_row and payoff_col shapes differ: {a.shape} vs {b.shape}")
    return a, b


def _mix(x: ArrayLike, n: int, name: str) -> FloatArray:
    arr = _finite_array(x, name, 1)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have length {n}, got {arr.shape[0]}")
    if np.any(arr < -1e-12) or not math.isclose(arr.sum(), 1.0, abs_tol=1e-8):
        raise ValueError(f"{name} must be a probability vector (>= 0, sums to 1)")
    arr = np.clip(arr, 0.0, None)
    return arr / arr.sum()


def _scale(*tables: FloatArray) -> float:
    """Largest payoff range over the tables (1 if all constant): the game's payoff unit."""
    s = max(float(np.ptp(t)) for t in tables)
    return s if s > 0 else 1.0


