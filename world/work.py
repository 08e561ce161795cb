"""Queries, answers and grading for one subnet epoch, vectorised over validators x miners.

MODEL.md section 5. Each grading validator sends ``rounds`` rounds of queries; each round
reaches each miner independently with probability ``p = sample_size / n_miners``, so the
number of queries validator v sends miner m is ``Binomial(rounds, p)``. A validator of
capability c perceives an answer of true quality q as ``min(q, c)`` plus its grading
noise: it cannot tell two answers apart above its own level (the report's central
paradox). Its mean perceived score of a miner over ``Q`` answers is drawn directly as
``min(q, c) + noise * Z / sqrt(Q)``, clipped to [0, 1] (one normal draw per validator and
miner, not one per response). Everything here is arrays: no Python loop per query,
response, validator or miner.

Copies: miners sharing an answer key return identical answers. A validator with duplicate
detection zeroes the answers of a key whose members it met in the same round; for a key
with g members that happens in a round with probability
``1 - (1-p)^g - g p (1-p)^(g-1)`` (two or more members sampled), hence over the epoch with
``1 - (1 - that)^rounds``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.stats import binom


def sample_queries(
    rng: np.random.Generator, n_validators: int, n_miners: int, rounds: int, sample_size: int
) -> np.ndarray:
    """Queries each validator sends each miner this epoch (int, validators x miners)."""
    if n_validators == 0 or n_miners == 0 or rounds == 0:
        return np.zeros((n_validators, n_miners), dtype=np.int64)
    p = min(1.0, sample_size / n_miners)
    cdf, low, high = _binomial_table(rounds, p)
    u = rng.random((n_validators, n_miners))
    bucket = (u * _BUCKETS).astype(np.int64)
    q = low[bucket]
    straddle = q != high[bucket]
    q[straddle] = np.searchsorted(cdf, u[straddle], side="right")
    return q


_BUCKETS = 4096


@lru_cache(maxsize=256)
def _binomial_table(rounds: int, p: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse-CDF sampling table of Binomial(rounds, p).

    A draw is ``searchsorted(cdf, u, 'right')`` for a uniform u: exact in distribution.
    Searching is slow on a whole subnet, so u's bucket of width 1/4096 gives the answer
    directly, except in the few buckets that straddle a CDF step, where it is searched.
    """
    cdf = binom.cdf(np.arange(rounds + 1), rounds, p)
    cdf[-1] = 1.0
    edges = np.arange(_BUCKETS + 1) / _BUCKETS
    low = np.searchsorted(cdf, edges[:-1], side="right")
    high = np.searchsorted(cdf, np.nextafter(edges[1:], 0.0), side="right")
    return cdf, low.astype(np.int64), high.astype(np.int64)


def perceived_scores(
    rng: np.random.Generator,
    quality: np.ndarray,
    capability: np.ndarray,
    noise: np.ndarray,
    queries: np.ndarray,
) -> np.ndarray:
    """Mean perceived score per validator and miner; NaN where the validator sent no query."""
    scores = rng.standard_normal(queries.shape)
    scores *= noise[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        scores /= np.sqrt(queries)
    scores += np.minimum(quality[None, :], capability[:, None])
    np.clip(scores, 0.0, 1.0, out=scores)
    scores[queries == 0] = np.nan
    return scores


def duplicate_detection(
    rng: np.random.Generator,
    answer_key: np.ndarray,
    detects: np.ndarray,
    rounds: int,
    sample_size: int,
) -> np.ndarray:
    """Which (validator, miner) answers are zeroed as detected copies (bool, V x M)."""
    n_val, n_min = len(detects), len(answer_key)
    detected = np.zeros((n_val, n_min), dtype=bool)
    keyed = answer_key >= 0
    if n_min == 0 or not keyed.any() or not detects.any() or rounds == 0:
        return detected
    keys, inverse, sizes = np.unique(answer_key[keyed], return_inverse=True, return_counts=True)
    p = min(1.0, sample_size / n_min)
    q = 1.0 - p
    per_round = 1.0 - q**sizes - sizes * p * q ** (sizes - 1)
    per_epoch = np.where(sizes >= 2, 1.0 - (1.0 - per_round) ** rounds, 0.0)
    hit = rng.random((n_val, len(keys))) < per_epoch[None, :]
    hit &= detects[:, None]
    detected[:, keyed] = hit[:, inverse]
    return detected


def update_ema(
    ema: np.ndarray, scores: np.ndarray, rate: np.ndarray
) -> np.ndarray:
    """Moving average of perceived scores, updated only where a score was observed."""
    observed = ~np.isnan(scores)
    blended = (1.0 - rate[:, None]) * ema + rate[:, None] * np.nan_to_num(scores)
    return np.where(observed, blended, ema)


def weights_from_scores(
    scores: np.ndarray, sharpen: np.ndarray, top_k: np.ndarray
) -> np.ndarray:
    """Turn score rows into weight rows: keep the top k (0: all), raise to a power, normalise.

    MODEL.md section 5: validators turn their moving averages into weights, normalised,
    optionally sharpened (a power > 1 concentrates weight on the best) or top-k.
    """
    s = np.fmax(scores, 0.0)  # NaN (never scored) and negatives to 0, in one pass
    k = s.shape[1]
    keep = top_k.astype(np.int64)
    if np.any((keep > 0) & (keep < k)):
        order = np.argsort(-s, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(k)[None, :].repeat(len(s), 0), axis=1)
        s = np.where((keep[:, None] > 0) & (rank >= keep[:, None]), 0.0, s)
    if np.any(sharpen != 1.0):  # the power is the costly step; x ** 1 == x
        s = s ** sharpen[:, None]
    total = s.sum(axis=1, keepdims=True)
    return np.divide(s, total, out=np.zeros_like(s), where=total > 0)
