"""alpha-Rank (Omidshafiei et al. 2019, "alpha-Rank: Multi-Agent Evaluation by Evolution",
Sci. Rep. 9:9937): a ranking of profiles by the stationary mass of a Markov chain."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp

from analysis.game.tables import FloatArray, _finite_array, _scale, _square


@dataclass(frozen=True)
class AlphaRankResult:
    """Result of :func:`alpharank`.

    Attributes:
        pi: ``(n_profiles,)`` stationary distribution over pure profiles (the alpha-Rank
            scores).
        profiles: ``(n_profiles, K)`` int array, row p = the strategy index of each
            population in profile p (C order: the last population varies fastest, as in
            ``numpy.ndindex`` and OpenSpiel). For one population, K = 1.
        ranking: profile indices sorted by decreasing ``pi`` (ties keep index order).
        marginals: per population, ``(n_k,)`` total stationary mass of the profiles in
            which that population plays each strategy (a per-role ranking of strategies).
        transition: ``(n_profiles, n_profiles)`` Markov transition matrix C (rows sum to 1).
        fixation: ``(n_profiles, n_profiles)`` fixation probabilities: ``fixation[s, r]``
            = probability that a mutant r takes over a population at s (0 where r is not
            a one-population deviation from s, and on the diagonal).
        alpha: ranking intensity. m: population size.
    """

    pi: FloatArray
    profiles: NDArray[np.int64]
    ranking: NDArray[np.int64]
    marginals: list[FloatArray]
    transition: FloatArray
    fixation: FloatArray
    alpha: float
    m: int


def _alpharank_tables(payoffs: ArrayLike | Sequence[ArrayLike]) -> tuple[list[FloatArray], bool]:
    """(tables, single_population) after validation."""
    if isinstance(payoffs, np.ndarray):
        tables = [payoffs]
    else:
        tables = list(payoffs)  # type: ignore[arg-type]
        if tables and np.ndim(tables[0]) == 0:  # a nested list for one matrix
            tables = [np.asarray(payoffs)]
    if not tables:
        raise ValueError("payoffs is empty")
    arrs = [_finite_array(t, f"payoffs[{k}]") for k, t in enumerate(tables)]
    if len(arrs) == 1 and arrs[0].ndim == 2:
        _square(arrs[0], "payoffs")
        return arrs, True
    k = len(arrs)
    shape = arrs[0].shape
    for i, t in enumerate(arrs):
        if t.ndim != k:
            raise ValueError(
                f"payoffs[{i}] must have one axis per population ({k}), got shape {t.shape}"
            )
        if t.shape != shape:
            raise ValueError(f"payoffs[{i}] has shape {t.shape}, expected {shape}")
    return arrs, False


def _log_fixation_const(delta: FloatArray, alpha: float, m: int) -> FloatArray:
    """log rho for a constant fitness advantage ``delta`` of the mutant.

    ``rho = (1 - e^{-a d}) / (1 - e^{-m a d}) = 1 / sum_{l=0}^{m-1} e^{-l a d}``
    (1/m at d = 0), computed as ``-logsumexp`` so it neither overflows nor divides by 0.
    """
    ls = np.arange(m)
    return -logsumexp(-alpha * np.multiply.outer(delta, ls), axis=-1)


def _log_fixation_singlepop(
    mat: FloatArray, r: int, s: int, alpha: float, m: int, local: bool
) -> float:
    """log rho_{s -> r}: fixation of one r mutant in a population of m - 1 s players."""
    if local:
        return float(_log_fixation_const(np.array(mat[r, s] - mat[s, r]), alpha, m))
    p = np.arange(1, m)  # number of r players
    f_r = ((p - 1) * mat[r, r] + (m - p) * mat[r, s]) / (m - 1)
    f_s = ((m - p - 1) * mat[s, s] + p * mat[s, r]) / (m - 1)
    terms = np.concatenate([[0.0], np.cumsum(-alpha * (f_r - f_s))])
    return float(-logsumexp(terms))


def _stationary_gth_log(log_p: FloatArray) -> FloatArray:
    """Stationary distribution of an irreducible chain from log transition probabilities.

    The Grassmann-Taksar-Heyman algorithm (Grassmann, Taksar & Heyman 1985, Oper. Res.
    33:1107; Stewart 1994, "Introduction to the Numerical Solution of Markov Chains",
    sec. 2.7), run in log space: it uses only off-diagonal entries and no subtractions,
    so it stays exact when alpha is large and fixation probabilities are like 1e-300.
    """
    n = log_p.shape[0]
    lp = log_p.copy()
    np.fill_diagonal(lp, -np.inf)
    for k in range(n - 1, 0, -1):
        s = logsumexp(lp[k, :k])
        if not np.isfinite(s):
            raise ValueError("the alpha-Rank Markov chain is reducible")
        lp[:k, k] -= s
        lp[:k, :k] = np.logaddexp(lp[:k, :k], lp[:k, k, None] + lp[k, None, :k])
    log_pi = np.empty(n)
    log_pi[0] = 0.0
    for k in range(1, n):
        log_pi[k] = logsumexp(log_pi[:k] + lp[:k, k])
    return np.exp(log_pi - logsumexp(log_pi))


def alpharank(
    payoffs: ArrayLike | Sequence[ArrayLike],
    *,
    alpha: float = 1.0,
    m: int = 50,
    local_selection: bool = False,
) -> AlphaRankResult:
    """alpha-Rank of a single- or multi-population game (Omidshafiei et al. 2019).

    A Markov chain over the pure (monomorphic) strategy profiles: from profile s, one
    population k is chosen and a mutant strategy r for it, uniformly (probability
    ``eta = 1 / sum_k (n_k - 1)``), and the mutant takes over population k (m agents)
    with the Fermi-process fixation probability

    ``rho = (1 + sum_{l=1}^{m-1} prod_{p=1}^{l} exp(-alpha (f_r(p) - f_s(p))))^{-1}``

    where ``f_r(p)``, ``f_s(p)`` are the fitnesses of a mutant and a resident when p of
    the m agents are mutants. Then ``C[s, s'] = eta rho`` and ``C[s, s] = 1 - sum``;
    the alpha-Rank scores are C's stationary distribution and the ranking sorts by them.

    - Multi-population (a list of K payoff tables, table k of shape ``(n_1, ..., n_K)``
      giving population k's payoff per profile; for the two-role game pass
      ``[payoff_row, payoff_col]``): the fitness of population k's strategy depends only
      on the other populations' monomorphic strategies, so ``f_r - f_s`` is constant and
      ``rho = (1 - e^{-alpha d}) / (1 - e^{-m alpha d})`` with ``d = f^k(r) - f^k(s)``
      (1/m when d = 0), the paper's multi-population equation.
    - Single population (a square matrix M, symmetric two-player game, ``M[i, j]`` =
      payoff of i against j): the paper's finite well-mixed population,
      ``f_r(p) = ((p-1) M[r,r] + (m-p) M[r,s]) / (m-1)``,
      ``f_s(p) = ((m-p-1) M[s,s] + p M[s,r]) / (m-1)``. With ``local_selection=True``
      fitness is against the current opponent only (``f_r = M[r,s]``, ``f_s = M[s,r]``),
      OpenSpiel's default for single-population games.

    All fixation probabilities are computed in log space and the stationary distribution
    with the GTH algorithm in log space, so large alpha (the paper's alpha -> infinity
    limit, approached with :func:`alpharank_sweep`) does not break the chain. alpha has
    the units of 1/payoff: rescale payoffs (or sweep alpha) before comparing games.

    Args:
        payoffs: a square 2-D array (single population), or a list of K arrays of K axes
            (multi-population). A list holding one square matrix is single-population
            (OpenSpiel's convention).
        alpha: ranking intensity (selection strength) >= 0.
        m: population size, >= 2.
        local_selection: single-population fitness model (see above).

    Returns:
        :class:`AlphaRankResult`.
    """
    tables, single = _alpharank_tables(payoffs)
    if not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be finite and >= 0, got {alpha}")
    if int(m) != m or m < 2:
        raise ValueError(f"m must be an integer >= 2, got {m}")
    m = int(m)
    if single:
        mat = tables[0]
        sizes = (mat.shape[0],)
    else:
        sizes = tables[0].shape

    def log_rho(prof: NDArray[np.int64], k: int, r: int, new: NDArray[np.int64]) -> float:
        if single:
            return _log_fixation_singlepop(mat, r, int(prof[0]), alpha, m, local_selection)
        d = tables[k][tuple(new)] - tables[k][tuple(prof)]
        return float(_log_fixation_const(np.array(d), alpha, m))

    return alpharank_chain(tuple(int(n) for n in sizes), log_rho, alpha=alpha, m=m)


LogFixation = Callable[[NDArray[np.int64], int, int, NDArray[np.int64]], float]
"""``log_rho(profile, k, r, new)``: log fixation probability of a mutant ``r`` in population
``k`` at ``profile`` (``new`` is the profile it leads to)."""


def alpharank_chain(sizes: tuple[int, ...], log_rho: LogFixation, *, alpha: float, m: int,
                    nodes: NDArray[np.int64] | None = None) -> AlphaRankResult:
    """The alpha-Rank Markov chain over the pure profiles of populations of ``sizes``
    strategies, given each mutation's log fixation probability (:func:`alpharank`'s chain;
    :mod:`analysis.game.rolesym` gives it the fixation of a single agent's deviation gain).

    From profile s one population k and one mutant strategy r are chosen uniformly
    (``eta = 1 / sum_k (n_k - 1)``); ``C[s, s'] = eta rho``, ``C[s, s] = 1 - sum``; the
    scores are C's stationary distribution (GTH in log space). ``nodes`` (rows of strategy
    indices): the chain over these profiles only, a mutation leading outside them staying
    put (an empirical game whose other profiles were not run); default every profile.
    """
    if nodes is None:
        n_prof = int(np.prod(sizes))
        profiles = np.array(list(np.ndindex(*sizes)), dtype=np.int64).reshape(n_prof,
                                                                               len(sizes))
    else:
        profiles = np.asarray(nodes, dtype=np.int64).reshape(-1, len(sizes))
        n_prof = len(profiles)
    index = {tuple(int(i) for i in p): j for j, p in enumerate(profiles)}
    log_c = np.full((n_prof, n_prof), -np.inf)
    if n_prof > 1:
        eta = 1.0 / sum(k - 1 for k in sizes)
        for s_id, prof in enumerate(profiles):
            for k, nk in enumerate(sizes):
                for r in range(nk):
                    if r == prof[k]:
                        continue
                    new = prof.copy()
                    new[k] = r
                    r_id = index.get(tuple(int(i) for i in new))
                    if r_id is None:
                        continue
                    log_c[s_id, r_id] = np.log(eta) + log_rho(prof, k, r, new)
        pi = _stationary_gth_log(log_c)
        fixation = np.exp(log_c) / eta
    else:
        pi = np.ones(1)
        fixation = np.zeros((1, 1))
    trans = np.exp(log_c)
    np.fill_diagonal(trans, 0.0)
    np.fill_diagonal(trans, np.clip(1.0 - trans.sum(axis=1), 0.0, 1.0))
    ranking = np.argsort(-pi, kind="stable")
    marginals = [
        np.bincount(profiles[:, k], weights=pi, minlength=nk) for k, nk in enumerate(sizes)
    ]
    return AlphaRankResult(pi, profiles, ranking, marginals, trans, fixation, float(alpha), m)


@dataclass(frozen=True)
class AlphaSweep:
    """Result of :func:`alpharank_sweep`.

    Attributes:
        alphas: ``(n_alpha,)`` ranking intensities, increasing.
        pi: ``(n_alpha, n_profiles)`` stationary distribution at each alpha.
        profiles: as in :class:`AlphaRankResult`.
        converged_alpha: the smallest swept alpha from which pi changes by less than
            ``tol`` (max abs) over the rest of the sweep, or None.
        final: the :class:`AlphaRankResult` at the largest alpha.
    """

    alphas: FloatArray
    pi: FloatArray
    profiles: NDArray[np.int64]
    converged_alpha: float | None
    final: AlphaRankResult


def alpharank_sweep(
    payoffs: ArrayLike | Sequence[ArrayLike],
    *,
    alphas: ArrayLike | None = None,
    m: int = 50,
    local_selection: bool = False,
    tol: float = 1e-4,
) -> AlphaSweep:
    """alpha-Rank over a range of ranking intensities (the large-alpha limit by sweep).

    Omidshafiei et al. (2019, "Methods" and Fig. 3) recommend the ranking at large alpha,
    found by sweeping alpha upwards until the stationary distribution stops changing.
    The default grid is 41 log-spaced values from ``1e-2`` to ``1e6`` divided by the
    payoff range (alpha has units 1/payoff). ``converged_alpha`` reports where the sweep
    settled (None if it had not by the last alpha).

    Args:
        payoffs, m, local_selection: as in :func:`alpharank`.
        alphas: increasing alphas to evaluate.
        tol: convergence tolerance on pi (max abs change).
    """
    tables, _ = _alpharank_tables(payoffs)
    if alphas is None:
        grid = np.logspace(-2, 6, 41) / _scale(*tables)
    else:
        grid = _finite_array(alphas, "alphas", 1)
        if np.any(np.diff(grid) <= 0) or grid[0] < 0:
            raise ValueError("alphas must be non-negative and strictly increasing")
    results = [
        alpharank(tables, alpha=float(a), m=m, local_selection=local_selection) for a in grid
    ]
    return sweep_result(grid, results, tol)


def sweep_result(grid: FloatArray, results: list[AlphaRankResult], tol: float) -> AlphaSweep:
    """The :class:`AlphaSweep` of alpha-Rank results at increasing alphas ``grid``:
    ``converged_alpha`` is the smallest alpha from which pi moves less than ``tol``."""
    pis = np.stack([r.pi for r in results])
    converged = None
    for i in range(len(grid)):
        if np.max(np.abs(pis[i:] - pis[-1])) < tol:
            converged = float(grid[i])
            break
    if converged is not None and converged == float(grid[-1]) and len(grid) > 1:
        converged = None  # only the last point agrees with itself: not shown to converge
    return AlphaSweep(grid, pis, results[-1].profiles, converged, results[-1])


# --------------------------------------------------------------------------- 4. coalitions
