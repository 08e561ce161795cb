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
from scipy.stats import rankdata

from world.kernels import compiled


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho with average ranks for ties (``scipy.stats.rankdata``); NaN if fewer
    than 3 points, constant, or a value is NaN. ``scipy.stats.spearmanr`` gives the same
    within rounding (tests/test_metrics.py); this form's sums are of multiples of 1/4,
    exact in any order, which ``spearman_segments`` relies on."""
    if len(x) < 3:
        return float("nan")
    rx, ry = rankdata(x), rankdata(y)
    if np.isnan(rx).any() or np.isnan(ry).any():
        return float("nan")
    rx -= rx.mean()
    ry -= ry.mean()
    sxx, syy = float(rx @ rx), float(ry @ ry)
    if sxx <= 1e-12 or syy <= 1e-12:  # constant (all ties): ranks are exact multiples of 1/2
        return float("nan")
    return float((rx @ ry) / np.sqrt(sxx * syy))


def spearman_segments(x: np.ndarray, y: np.ndarray, sizes: np.ndarray,
                      memo: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """``spearman`` of each segment of ``x`` and ``y`` (consecutive runs of ``sizes``), at
    once; the same numbers as a loop of ``spearman`` (its sums are of multiples of 1/4,
    exact in any order), for every subnet of an epoch without a Python step per subnet.

    ``memo`` (the caller's, kept between calls): the ranks of ``x`` are kept there with
    ``x`` and ``sizes`` and read back while both are the same bits (speed only: ranks
    depend on nothing else; a miner's quality rarely changes)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.int64)
    out = np.full(len(sizes), np.nan)
    if np.isnan(x).any() or np.isnan(y).any():  # NaN ranks: keep the reference path
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        for i, (a, k) in enumerate(zip(starts.tolist(), sizes.tolist(), strict=True)):
            out[i] = spearman(x[a : a + k], y[a : a + k])
        return out
    seg = np.repeat(np.arange(len(sizes)), sizes)
    rx, ry = _kept_ranks(x, seg, sizes, memo), _segment_ranks(y, seg, sizes)
    mean = (sizes + 1) / 2.0  # the mean of ranks 1..n, exactly
    rx = rx - mean[seg]
    ry -= mean[seg]
    # each segment's sums over its run (np.add.reduceat; exact, as any order)
    has = sizes > 0
    at = (np.cumsum(sizes) - sizes)[has]
    sxx, syy, sxy = np.zeros((3, len(sizes)))
    if len(at):
        sxx[has] = np.add.reduceat(rx * rx, at)
        syy[has] = np.add.reduceat(ry * ry, at)
        sxy[has] = np.add.reduceat(rx * ry, at)
    ok = (sizes >= 3) & (sxx > 1e-12) & (syy > 1e-12)
    out[ok] = sxy[ok] / np.sqrt(sxx[ok] * syy[ok])
    return out


def _same_bits(a: np.ndarray | None, b: np.ndarray) -> bool:
    """Whether ``a`` holds the very bits of ``b`` (float64 or int64, one dimension)."""
    return a is not None and a.shape == b.shape and a.dtype == b.dtype and bool(
        np.array_equal(a.view(np.int64), b.view(np.int64)))


def _kept_ranks(x: np.ndarray, seg: np.ndarray, sizes: np.ndarray,
                memo: dict[str, np.ndarray] | None) -> np.ndarray:
    """``_segment_ranks(x, seg, sizes)``, read from ``memo`` while it holds the ranks of
    the same bits of ``x`` and ``sizes`` (read only), else computed and kept there."""
    if memo is None:
        return _segment_ranks(x, seg, sizes)
    if _same_bits(memo.get("x"), x) and _same_bits(memo.get("sizes"), sizes):
        return memo["ranks"]
    ranks = _segment_ranks(x, seg, sizes)
    memo.update(x=x.copy(), sizes=sizes.copy(), ranks=ranks)
    ranks.flags.writeable = False
    return ranks


def _segment_ranks(x: np.ndarray, seg: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Average ranks (``scipy.stats.rankdata``'s) within each segment (``seg``: the
    segment of each value, ascending)."""
    n = len(x)
    k, width = len(sizes), int(sizes.max()) if len(sizes) else 0
    if n and np.isfinite(x).all():
        # one row per segment, padded with +inf (after every value): rows sort at once
        if (sizes == width).all():
            table = x.reshape(k, width)
        else:
            table = np.full((k, width), np.inf)
            table[seg, np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)] = x
        jit = compiled()
        table = np.ascontiguousarray(table)
        bits = max(1, (width - 1).bit_length())
        if jit is not None and bits <= 16 and not np.signbit(table).any():
            # values >= +0.0 (finite, or the +inf padding): their bits order as they do;
            # each row's keys, its column in the low bits, sorted (np.sort: several times
            # faster than np.argsort here; speed only, the same ranks)
            packed = np.sort(jit.pack_rows(table, bits), axis=1)
            ranks = jit.ranks_of_packed(table, packed, bits).view(np.float64)
        else:
            # any sorting order gives the same ranks (ties share one average rank): the
            # faster kind for the values at hand (speed only; a stable sort is fast on
            # many ties, an unstable one on distinct values)
            few = len(np.unique(table[0])) < width // 2
            order = np.argsort(table, axis=1, kind="stable" if few else None)
            if jit is not None:  # the same ranks in one pass (speed only; numpy's dtype)
                ranks = jit.ranks_in_rows(table, order).view(np.float64)
            else:
                ranks = _ranks_in_rows(table, order)
        return ranks.ravel() if (sizes == width).all() else ranks[np.arange(width) < sizes[:, None]]
    order = np.lexsort((x, seg))
    xs, ss = x[order], seg[order]
    first = np.empty(n, dtype=bool)
    first[:1] = True
    np.not_equal(xs[1:], xs[:-1], out=first[1:])
    first[1:] |= ss[1:] != ss[:-1]
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, n))
    offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    ranks = np.empty(n)
    ranks[order] = np.repeat(starts - offset[ss[starts]] + (counts + 1) / 2.0, counts)
    return ranks


def _ranks_in_rows(table: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Average ranks within each row of ``table`` (k x width), given ``order``, each row's
    sorting permutation (numpy; ``world.econ_jit.ranks_in_rows`` computes the same)."""
    k, width = table.shape
    xs = np.take_along_axis(table, order, axis=1).ravel()
    first = np.empty(k * width, dtype=bool)
    first[:1] = True
    np.not_equal(xs[1:], xs[:-1], out=first[1:])
    first[::width] = True
    if first.all():  # no ties: the value at sorted place p has rank p + 1
        ranked = np.broadcast_to(np.arange(1.0, width + 1.0), (k, width))
    else:
        starts = np.flatnonzero(first)
        counts = np.diff(np.append(starts, k * width))
        ranked = np.repeat(starts % width + (counts + 1) / 2.0, counts).reshape(k, width)
    ranks = np.empty((k, width))
    np.put_along_axis(ranks, order, ranked, axis=1)
    return ranks


def sort_values(values: np.ndarray) -> np.ndarray:
    """``np.sort`` of ``values`` as float64; many values all >= +0.0 sorted by the radix
    sort of ``world.econ_jit.sort_nonnegative`` (the same values, faster here)."""
    v = np.asarray(values, dtype=np.float64)
    jit = compiled() if v.ndim == 1 and len(v) >= 512 else None
    if jit is not None:
        done, out = jit.sort_nonnegative(np.ascontiguousarray(v))
        if done:
            return out.view(np.float64)  # numpy's own dtype (see world.econ_jit)
    return np.sort(v)


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0: equal, towards 1: one holds all)."""
    v = sort_values(values)
    n, total = len(v), v.sum()
    if n == 0 or total <= 0:
        return 0.0
    cum = np.cumsum(v)
    return float((n + 1 - 2 * (cum / total).sum()) / n)


def nakamoto(stakes: np.ndarray, threshold: float = 0.5) -> int:
    """Fewest holders whose combined stake exceeds ``threshold`` of the total (0 if none)."""
    s = sort_values(stakes)[::-1]
    total = s.sum()
    if total <= 0:
        return 0
    return int(np.searchsorted(np.cumsum(s), threshold * total, side="right") + 1)


def compute_per_useful_answer(computed: float, graded: float, useful: float) -> float:
    """(answers computed + answers graded) / useful answers; NaN when nothing was asked."""
    return (computed + graded) / useful if useful > 0 else float("nan")
