"""Network metrics measured each epoch (MODEL.md sections 5 and 7).

- alignment: Spearman rank correlation between miners' true quality and their incentive
  (MODEL.md section 5, "does the network reward good work?");
- Gini coefficient of emission across neurons;
- Nakamoto coefficient of validator stake: the fewest validators holding more than half
  of the stake (claim 9);
- compute per useful answer: answers computed plus answers graded, per query round that
  yields one useful answer (claim 10, the report's N + V overhead).
"""

from __future__ import annotations

import numpy as np


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (``scipy.stats.rankdata``'s default,
    without its overhead: this runs every epoch)."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    first = np.empty(n, dtype=bool)
    first[:1] = True
    np.not_equal(xs[1:], xs[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, n))
    ranks = np.empty(n)
    ranks[order] = np.repeat(starts + (counts + 1) / 2.0, counts)
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho with average ranks for ties; NaN if fewer than 3 points or constant."""
    if len(x) < 3:
        return float("nan")
    rx, ry = average_ranks(x), average_ranks(y)
    rx -= rx.mean()
    ry -= ry.mean()
    sxx, syy = float(rx @ rx), float(ry @ ry)
    if sxx <= 1e-12 or syy <= 1e-12:  # constant (all ties): ranks are exact multiples of 1/2
        return float("nan")
    return float((rx @ ry) / np.sqrt(sxx * syy))


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: equal, towards 1: one holds all)."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    n, total = len(v), v.sum()
    if n == 0 or total <= 0:
        return 0.0
    cum = np.cumsum(v)
    return float((n + 1 - 2 * (cum / total).sum()) / n)


def nakamoto(stakes: np.ndarray, threshold: float = 0.5) -> int:
    """Fewest holders whose combined stake exceeds ``threshold`` of the total (0 if none)."""
    s = np.sort(np.asarray(stakes, dtype=np.float64))[::-1]
    total = s.sum()
    if total <= 0:
        return 0
    return int(np.searchsorted(np.cumsum(s), threshold * total, side="right") + 1)


def compute_per_useful_answer(computed: float, graded: float, useful: float) -> float:
    """(answers computed + answers graded) / useful answers; NaN when nothing was asked."""
    return (computed + graded) / useful if useful > 0 else float("nan")
