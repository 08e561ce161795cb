"""Verdicts over plausible worlds: how often a claim holds when the world itself is uncertain.

With ``uncertain:`` priors every run samples a world (``experiments.uncertainty``), so a
claim's test, applied run by run, holds in some worlds and not in others (MODEL.md
section 11). This module turns the per-run outcomes of a test into:

- ``probability``: the share of sampled worlds where the test holds, with an exact
  (Clopper-Pearson) binomial interval;
- ``region``: where it holds, as one-split classification trees (decision stumps), one per
  uncertain parameter (``param:<path>`` columns of summary.parquet): the threshold that
  best separates worlds where it holds from worlds where it fails, the share holding on
  each side and the Gini-impurity gain, ranked by gain;
- ``variance``: for a continuous effect (the quantity the test thresholds), the share of
  its variance across runs explained by the parameters (a linear fit on the standardised
  ``param:`` columns, adjusted R^2) against the rest (seed noise and what a linear fit
  misses), so seed noise and parameter uncertainty are reported separately.

Reads result files' columns only. How ``analysis.claims`` should call it: for a claim
whose per-run test is ``holds`` (one boolean per run of a results directory whose file
has priors) and, optionally, its per-run effect, ``plausible_verdict(summary, holds,
effect)`` with the directory's ``summary.parquet`` (rows aligned with ``holds``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

LEVEL = 0.95


def holds_probability(holds: np.ndarray, level: float = LEVEL) -> dict[str, Any]:
    """Share of worlds where the test holds and its Clopper-Pearson interval."""
    from scipy.stats import binomtest

    h = np.asarray(holds, dtype=bool)
    n, k = int(h.size), int(h.sum())
    if n == 0:
        return {"probability": None, "interval": [None, None], "holds": 0, "worlds": 0}
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return {"probability": k / n, "interval": [float(ci.low), float(ci.high)], "holds": k,
            "worlds": n, "level": level}


def _gini(p: float) -> float:
    return 2 * p * (1 - p)


def stump(holds: np.ndarray, x: np.ndarray) -> dict[str, Any] | None:
    """The best single split ``x <= t`` separating holding from failing worlds."""
    h = np.asarray(holds, dtype=bool)
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x)
    h, x = h[ok], x[ok]
    n = len(x)
    if n < 2 or np.ptp(x) == 0:
        return None
    order = np.argsort(x, kind="stable")
    xs, hs = x[order], h[order].astype(float)
    left_k = np.cumsum(hs)[:-1]
    left_n = np.arange(1, n)
    cut = xs[1:] != xs[:-1]  # split only between distinct values
    if not cut.any():
        return None
    right_k, right_n = hs.sum() - left_k, n - left_n
    pl, pr = left_k / left_n, right_k / right_n
    impurity = (left_n * 2 * pl * (1 - pl) + right_n * 2 * pr * (1 - pr)) / n
    impurity = np.where(cut, impurity, np.inf)
    i = int(np.argmin(impurity))
    return {"threshold": float((xs[i] + xs[i + 1]) / 2),
            "holds_below": float(pl[i]), "worlds_below": int(left_n[i]),
            "holds_above": float(pr[i]), "worlds_above": int(right_n[i]),
            "gain": float(_gini(hs.mean()) - impurity[i])}


def deciding_region(holds: np.ndarray, params: pd.DataFrame) -> list[dict[str, Any]]:
    """One stump per parameter column, largest gain first."""
    out = []
    for col in params.columns:
        s = stump(holds, pd.to_numeric(params[col], errors="coerce").to_numpy())
        if s is not None:
            out.append({"parameter": str(col).removeprefix("param:"), **s})
    return sorted(out, key=lambda r: -r["gain"])


def variance_split(effect: np.ndarray, params: pd.DataFrame) -> dict[str, Any]:
    """Share of the effect's variance the parameters explain (linear, adjusted R^2)."""
    y = np.asarray(effect, dtype=float)
    x = params.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
    y, x = y[ok], x[ok]
    n, p = x.shape
    if n <= p + 2 or np.var(y) == 0:
        return {"explained_by_parameters": None, "residual": None, "runs": int(n)}
    sd = x.std(axis=0)
    keep = sd > 0
    z = (x[:, keep] - x[:, keep].mean(axis=0)) / sd[keep]
    design = np.column_stack([np.ones(n), z])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    r2 = 1 - resid.var() / y.var()
    k = int(keep.sum())
    adj = 1 - (1 - r2) * (n - 1) / (n - k - 1)
    adj = min(max(adj, 0.0), 1.0)
    return {"explained_by_parameters": adj, "residual": 1 - adj,
            "effect_sd": float(y.std(ddof=1)), "residual_sd": float(resid.std(ddof=k + 1)),
            "runs": int(n),
            "coefficients": {str(c).removeprefix("param:"): float(b)
                             for c, b in zip(params.columns[keep], coef[1:], strict=True)}}


def plausible_verdict(summary: pd.DataFrame, holds: np.ndarray,
                      effect: np.ndarray | None = None, level: float = LEVEL) -> dict[str, Any]:
    """A claim's verdict over the sampled worlds of a results directory (module docstring).

    ``summary``: its summary.parquet (one row per run, aligned with ``holds``)."""
    params = summary[[c for c in summary.columns if str(c).startswith("param:")]]
    out = holds_probability(holds, level)
    out["region"] = deciding_region(holds, params) if len(params.columns) else []
    if effect is not None:
        out["variance"] = variance_split(effect, params) if len(params.columns) else None
    out["note"] = ("no uncertain parameters: the share is over seeds of one world"
                   if not len(params.columns) else "")
    return _clean(out)


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value
