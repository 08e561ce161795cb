"""Regret of a profile in an empirical game: deviation gains with intervals (Wellman 2006)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from analysis.game.tables import FloatArray, _bimatrix, _finite_array, _mix, _square
from analysis.stats import (
    Estimate,
    SeedLike,
    _bootstrap_statistic,
    _check_confidence,
    as_generator,
    bootstrap_ci,
)


@dataclass(frozen=True)
class DeviationRegret:
    """Result of :func:`deviation_regret`.

    Attributes:
        gains: per deviation ``k``, the mean over seeds of (deviator's payoff - the
            payoff it had in the baseline profile), with a BCa interval.
        max_gain: ``max_k mean(gain_k)`` with a paired bootstrap interval (seeds
            resampled jointly across deviations). Can be negative: every deviation loses.
        best_deviation: index ``k`` of the largest mean gain.
    """

    gains: list[Estimate]
    max_gain: Estimate
    best_deviation: int

    @property
    def regret(self) -> float:
        """``max(0, max_gain.mean)``: the profile's empirical regret (0 = equilibrium)."""
        return max(0.0, self.max_gain.mean)


def regret_from_means(
    baseline: float | ArrayLike, deviations: ArrayLike
) -> tuple[FloatArray, float]:
    """Deviation gains and regret of a profile from mean payoffs.

    The regret of a profile s is ``max_i max_{s'_i} u_i(s'_i, s_-i) - u_i(s)``, clipped at
    0 (Wellman 2006; Jordan, Schvartzman & Wellman 2010, "Strategy exploration in
    empirical games", AAMAS): 0 exactly when no single agent gains by deviating, i.e. s
    is a Nash equilibrium of the empirical game.

    Args:
        baseline: the payoff an agent gets in the profile (a scalar), or one value per
            deviation (e.g. the honest miner's payoff for miner deviations and the honest
            validator's for validator deviations), shape ``(n_dev,)``.
        deviations: the payoff of the single deviator, one per alternative, ``(n_dev,)``.

    Returns:
        ``(gains, regret)``: ``gains = deviations - baseline`` and
        ``regret = max(0, max(gains))``.
    """
    dev = _finite_array(deviations, "deviations", 1)
    base = _finite_array(baseline, "baseline")
    if base.ndim > 1 or (base.ndim == 1 and base.shape != dev.shape):
        raise ValueError(f"baseline must be a scalar or have shape {dev.shape}")
    gains = dev - base
    return gains, max(0.0, float(gains.max()))


def deviation_regret(
    baseline: ArrayLike,
    deviations: ArrayLike,
    *,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    rng: SeedLike = 0,
) -> DeviationRegret:
    """Regret of a profile (e.g. all-honest) from per-seed samples, with intervals.

    For each alternative strategy k, ``gain_k[i] = deviations[k, i] - baseline[.., i]``
    on seed ``i`` (the deviation run and the baseline run share seed ``i``: common random
    numbers, so the difference is paired). Each gain gets a BCa interval
    (:func:`analysis.stats.bootstrap_ci`); the maximum over k of the mean gains gets a
    paired bootstrap interval (``scipy.stats.bootstrap(paired=True)``, resampling seeds
    jointly across k). Caveat: the max of noisy means is biased upwards (a winner's
    curse, worse with many alternatives and few seeds); read ``max_gain`` together with
    the per-deviation intervals. Regret definition as in :func:`regret_from_means`.

    Args:
        baseline: ``(n_seeds,)`` payoff of the agent in the baseline profile, or
            ``(n_dev, n_seeds)`` one baseline row per deviation (stack several roles).
        deviations: ``(n_dev, n_seeds)`` payoff of the single deviator for each alternative
            strategy.
        confidence: interval coverage.
        n_resamples: bootstrap resamples.
        rng: numpy Generator or seed.

    Raises:
        ValueError: shapes, NaN, fewer than 2 seeds.
    """
    dev = _finite_array(deviations, "deviations", 2)
    base = _finite_array(baseline, "baseline")
    if base.ndim == 1:
        if base.shape[0] != dev.shape[1]:
            raise ValueError(
                f"baseline has {base.shape[0]} seeds but deviations have {dev.shape[1]}"
            )
        base = np.broadcast_to(base, dev.shape)
    elif base.shape != dev.shape:
        raise ValueError(f"baseline must be (n_seeds,) or {dev.shape}, got {base.shape}")
    if dev.shape[1] < 2:
        raise ValueError(f"deviations needs at least 2 seeds, got {dev.shape[1]}")
    _check_confidence(confidence)
    gen = as_generator(rng)
    diff = dev - base
    gains = [bootstrap_ci(d, confidence=confidence, n_resamples=n_resamples, rng=gen) for d in diff]
    means = diff.mean(axis=1)
    best = int(np.argmax(means))

    def max_of_means(*rows: FloatArray, axis: int = -1) -> FloatArray:
        return np.max(np.stack([r.mean(axis=axis) for r in rows]), axis=0)

    max_gain = _bootstrap_statistic(
        tuple(diff), max_of_means, float(means[best]), confidence, n_resamples, gen
    )
    return DeviationRegret(gains, max_gain, best)


def mixed_regret(
    payoff_row: ArrayLike, payoff_col: ArrayLike, x: ArrayLike, y: ArrayLike
) -> tuple[float, float]:
    """Each role's regret at the mixed profile (x, y) of a two-role (bimatrix) game.

    ``regret_row = max_i (A y)_i - x.A y`` and ``regret_col = max_j (x.B)_j - x.B y``:
    what a single agent of each role gains by switching to its best pure response. (x, y)
    is an epsilon-Nash equilibrium iff both are ``<= epsilon`` (Nisan et al. 2007,
    "Algorithmic Game Theory", sec. 2.6 on approximate equilibria).

    Returns:
        ``(regret_row, regret_col)``, both >= 0.
    """
    a, b = _bimatrix(payoff_row, payoff_col)
    xv = _mix(x, a.shape[0], "x")
    yv = _mix(y, a.shape[1], "y")
    return _regrets2(a, b, xv, yv)


def _regrets2(a: FloatArray, b: FloatArray, x: FloatArray, y: FloatArray) -> tuple[float, float]:
    fr = a @ y
    fc = x @ b
    return max(0.0, float(fr.max() - x @ fr)), max(0.0, float(fc.max() - fc @ y))


def symmetric_regret(payoff: ArrayLike, x: ArrayLike) -> float:
    """Regret of the symmetric mixed profile x: ``max_i (M x)_i - x.M x`` (>= 0).

    x is a symmetric Nash equilibrium of the symmetric game M iff this is 0 (Weibull 1995,
    "Evolutionary Game Theory", sec. 1.5).
    """
    m = _square(payoff)
    xv = _mix(x, m.shape[0], "x")
    return _regret1(m, xv)


def _regret1(m: FloatArray, x: FloatArray) -> float:
    f = m @ x
    return max(0.0, float(f.max() - x @ f))


# --------------------------------------------------------------------------- 2. dynamics


