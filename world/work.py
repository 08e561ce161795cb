"""Queries, answers and grading for one subnet epoch: the reference rules (MODEL.md 5).

Each grading validator sends ``rounds`` rounds of queries; each round reaches each miner
independently with probability ``p = sample_size / n_miners``, so the number of queries
validator v sends miner m is ``Binomial(rounds, p)``, drawn by inverting its CDF with one
uniform per pair. A validator of capability c perceives an answer of true quality q as
``min(q, c)`` plus its grading noise: it cannot tell two answers apart above its own
level (the report's central paradox). Its mean perceived score of a miner over ``Q``
answers is drawn directly as ``min(q, c) + noise * Z / sqrt(Q)``, clipped to [0, 1] (one
normal draw per validator and miner, not one per response). That is the grader ``min``
(``work.grader``, the default); the grader ``graded`` (:class:`GradedJudge`,
:func:`perceived_level`) replaces ``min(q, c)`` by a level whose slope fades above the
capability instead of dropping to zero, so that the chance of ranking two answers
correctly (:func:`ranking_accuracy`) rises with their quality gap and falls as both exceed
the judge's capability, as LLM-as-a-judge agreement does (MODEL.md section 8).

Each validator keeps an exponential moving average of what it perceived, updated where it
sent a query.

Copies: miners sharing an answer key return identical answers. A validator with duplicate
detection zeroes the answers of a key whose members it met in the same round; for a key
with g members that happens in a round with probability
``1 - (1-p)^g - g p (1-p)^(g-1)`` (two or more members sampled), hence over the epoch with
``1 - (1 - that)^rounds``.

These functions are the rules as plainly as numpy says them. The world runs an epoch's
grading through ``world.work_fast.grade_epoch``: the same draws and the same numbers in
fewer passes (tests/test_work.py compares each fast path with ``grade_epoch`` here).
Everything is arrays: no Python loop per query, response, validator or miner.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.stats import binom, norm

from world import kernels


@lru_cache(maxsize=256)
def binomial_cdf(rounds: int, p: float) -> np.ndarray:
    """The CDF of Binomial(rounds, p) at 0..rounds (its last value exactly 1; read-only)."""
    cdf = binom.cdf(np.arange(rounds + 1), rounds, p)
    cdf[-1] = 1.0
    cdf.flags.writeable = False
    return cdf


def sample_queries(
    rng: np.random.Generator, n_validators: int, n_miners: int, rounds: int, sample_size: int
) -> np.ndarray:
    """Queries each validator sends each miner this epoch (int, validators x miners):
    ``Binomial(rounds, p)`` by inversion of its CDF, one uniform per pair."""
    if n_validators == 0 or n_miners == 0 or rounds == 0:
        return np.zeros((n_validators, n_miners), dtype=np.int64)
    p = min(1.0, sample_size / n_miners)
    u = rng.random((n_validators, n_miners))
    return np.searchsorted(binomial_cdf(rounds, p), u, side="right").astype(np.int64)


@dataclass(frozen=True)
class GradedJudge:
    """The grader ``graded`` (``work.grader``; its parameters ``work.judge_slope_above``
    and ``work.judge_softness``, world/params.py ``WorkParams``).

    A judge of capability c perceives an answer of quality q at the level
    ``g(q) = q`` for ``q <= c`` and, above it, with ``a = q - c``,
    ``g(q) = c + k a + (1 - k) s (1 - exp(-a / s))``: its discrimination (the slope of
    ``g``) is 1 up to its capability and fades over about ``s`` (``softness``) to ``k``
    (``slope_above``) beyond it. ``k = 0`` with ``s -> 0`` is ``min(q, c)``; ``k = 1`` is
    a judge without a ceiling. With Gaussian noise per answer this is a Thurstone judge:
    :func:`ranking_accuracy` is the chance it orders two answers correctly, rising with
    their quality gap and falling as both exceed c, the pattern of LLM-as-a-judge
    agreement studies (Zheng et al. 2023, the MT-bench paper: agreement with humans rises
    with the gap between the models compared, and weaker judges agree less; MODEL.md
    section 8).
    """

    slope_above: float
    softness: float


def perceived_level(quality: np.ndarray, capability: np.ndarray,
                    judge: GradedJudge | None = None) -> np.ndarray:
    """The noiseless perceived score per validator (row) and miner (column): ``min(q, c)``
    for the grader ``min`` (``judge`` None), :class:`GradedJudge`'s ``g(q)`` otherwise."""
    level = np.minimum(quality[None, :], capability[:, None])
    if judge is None:
        return level
    above = np.maximum(quality[None, :] - capability[:, None], 0.0)
    k, s = judge.slope_above, judge.softness
    level += k * above
    if s > 0.0:
        level += (1.0 - k) * s * -np.expm1(-above / s)
    return level


def ranking_accuracy(better: float, worse: float, capability: float, noise: float,
                     answers: int, judge: GradedJudge | None = None) -> float:
    """The chance a judge of ``capability`` and per-answer ``noise`` ranks the answer of
    quality ``better`` above that of ``worse`` from the means of ``answers`` answers each:
    ``Phi((g(better) - g(worse)) / (noise sqrt(2 / answers)))`` (0.5 when it perceives no
    difference; ``g`` as :func:`perceived_level`)."""
    lv = perceived_level(np.array([better, worse]), np.array([capability]), judge)[0]
    if noise == 0.0:
        return 1.0 if lv[0] > lv[1] else 0.5
    return float(norm.cdf((lv[0] - lv[1]) / (noise * np.sqrt(2.0 / answers))))


def perceived_scores(
    rng: np.random.Generator,
    quality: np.ndarray,
    capability: np.ndarray,
    noise: np.ndarray,
    queries: np.ndarray,
    judge: GradedJudge | None = None,
) -> np.ndarray:
    """Mean perceived score per validator and miner, ``min(q, c) + noise Z / sqrt(Q)``
    (the grader ``min``; ``judge``: :func:`perceived_level` of a :class:`GradedJudge`
    instead of ``min(q, c)``) clipped to [0, 1]; NaN where the validator sent no query."""
    z = rng.standard_normal(queries.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = z * noise[:, None] / np.sqrt(queries)
        scores += perceived_level(quality, capability, judge)
    scores = np.clip(scores, 0.0, 1.0)
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


def update_ema(ema: np.ndarray, scores: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Each validator's moving average of perceived scores: ``(1 - rate) ema + rate
    score`` where it has a score this epoch (not NaN), unchanged elsewhere."""
    blended = (1.0 - rate[:, None]) * ema + rate[:, None] * np.nan_to_num(scores)
    return np.where(np.isnan(scores), ema, blended)


def grade_epoch(
    queries_rng: np.random.Generator,
    grading_rng: np.random.Generator,
    ema: np.ndarray,
    graders: np.ndarray,
    miners: slice | np.ndarray,
    quality: np.ndarray,
    capability: np.ndarray,
    noise: np.ndarray,
    rate: np.ndarray,
    answer_key: np.ndarray,
    detects: np.ndarray,
    rounds: int,
    sample_size: int,
    judge: GradedJudge | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One subnet's queries and grading for an epoch: the graders' moving averages
    ``ema[graders, miners]`` updated in place; returns the queries each miner received
    and each grader sent. Queries draw from ``queries_rng``; perceived scores (grader
    ``min``, or ``judge``'s), then duplicate detection, from ``grading_rng``. Queried
    copies that are caught score 0."""
    q = sample_queries(queries_rng, len(graders), len(quality), rounds, sample_size)
    if len(graders) and len(quality):
        scores = perceived_scores(grading_rng, quality, capability, noise, q, judge)
        dup = duplicate_detection(grading_rng, answer_key, detects, rounds, sample_size)
        scores = np.where(dup & (q > 0), 0.0, scores)
        cols = np.arange(ema.shape[1])[miners]
        block = np.ix_(np.asarray(graders, dtype=np.int64), cols)
        ema[block] = update_ema(ema[block], scores, rate)
    return q.sum(axis=0), q.sum(axis=1)


def weights_from_scores(
    scores: np.ndarray, sharpen: np.ndarray, top_k: np.ndarray, *, overwrite: bool = False
) -> np.ndarray:
    """Turn score rows into weight rows: keep the top k (0: all), raise to a power, normalise.

    MODEL.md section 5: validators turn their moving averages into weights, normalised,
    optionally sharpened (a power > 1 concentrates weight on the best) or top-k.
    ``overwrite``: ``scores`` (float64) is the caller's scratch and becomes the result
    (speed only: without top-k or sharpening, where numba is there, rows normalised one
    by one while in cache, ``world.weights_jit.normalise_rows``, the same numbers).
    """
    if overwrite and scores.dtype == np.float64:
        if _normalised_in_place(scores, sharpen, top_k):
            return scores
        s = np.fmax(scores, 0.0, out=scores)
    else:
        s = np.fmax(scores, 0.0)  # NaN (never scored) and negatives to 0, in one pass
    k = s.shape[1]
    # top_k is mostly all zero (count_nonzero: .any() without its Python wrapper)
    keep = top_k.astype(np.int64) if np.count_nonzero(top_k) else None
    if keep is not None and np.count_nonzero((keep > 0) & (keep < k)):
        order = np.argsort(-s, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(k)[None, :].repeat(len(s), 0), axis=1)
        s = np.where((keep[:, None] > 0) & (rank >= keep[:, None]), 0.0, s)
    if np.count_nonzero(sharpen != 1.0):  # the power is the costly step; x ** 1 == x
        s = s ** sharpen[:, None]
    total = np.add.reduce(s, axis=1, keepdims=True)
    if np.count_nonzero(total > 0) == total.size:
        s /= total
        return s
    return np.divide(s, total, out=np.zeros_like(s), where=total > 0)


def _normalised_in_place(scores: np.ndarray, sharpen: np.ndarray, top_k: np.ndarray) -> bool:
    """``weights_from_scores(scores, sharpen, top_k, overwrite=True)`` done in place by
    ``world.weights_jit.normalise_rows`` where no row is cut to its top k or sharpened
    and numba is there (``world.kernels``), numpy finishing from a row with a negative
    zero; False (``scores`` untouched) where numpy must do it all."""
    if (np.count_nonzero(top_k) or np.count_nonzero(sharpen != 1.0) or scores.ndim != 2
            or not scores.size or not scores.flags.c_contiguous
            or not scores.flags.writeable):
        return False
    jit = kernels.compiled("weights_jit")
    if jit is None:
        return False
    finish_rows(scores, jit.normalise_rows(scores, scores.view(np.int64)))
    return True


def finish_rows(scores: np.ndarray, done: int) -> None:
    """``weights_from_scores`` without top-k or sharpening, in place, on the rows of
    ``scores`` from ``done`` on, the rows before it done (normalised, so >= +0): numpy's
    ``fmax`` over all rows, as ``weights_from_scores`` applies it (where it keeps a
    negative zero's sign depends on its place in the whole array), then the rows' sums
    and divisions (speed only: where a compiled loop met a negative zero)."""
    if done >= len(scores):
        return
    np.fmax(scores, 0.0, out=scores)
    rest = scores[done:]
    total = np.add.reduce(rest, axis=1, keepdims=True)
    np.divide(rest, total, out=rest, where=total > 0)
    rest[~(total[:, 0] > 0)] = 0.0
