"""Empirical game-theoretic analysis of payoff tables (numpy and scipy only).

The simulator turns strategy profiles into payoffs; this module treats those payoffs as
an *empirical game* (Wellman 2006, "Methods for empirical game-theoretic analysis",
AAAI; Tuyls et al. 2020, "Bounds and dynamics for empirical game theoretic analysis",
AAMAS J. 34:7) and asks what a game theorist asks. Miners and validators are the roles
of a role-symmetric game; a "two-role table" has one row per miner strategy and one
column per validator strategy, each cell the mean payoff to each role when every miner
plays the row strategy and every validator the column strategy.

Contents:

1. Regret of a profile: :func:`deviation_regret` (per-seed samples, with intervals) and
   :func:`regret_from_means`.
2. Equilibria and dynamics: :func:`find_equilibria` (two roles) and
   :func:`find_symmetric_equilibria` (one population), by replicator dynamics from many
   random starts plus support enumeration; :func:`replicator_trajectory` and
   :func:`replicator_trajectory_two_pop`; :func:`mixed_regret`, :func:`symmetric_regret`.
3. alpha-Rank (Omidshafiei et al. 2019, "alpha-Rank: Multi-Agent Evaluation by
   Evolution", Sci. Rep. 9:9937): :func:`alpharank`, :func:`alpharank_sweep`.
4. Coalition curves: :func:`coalition_curve`.

Conventions: a two-role game is a pair ``(payoff_row, payoff_col)`` of arrays of shape
``(n_row, n_col)``: ``payoff_row[i, j]`` is the row role's (miners') payoff and
``payoff_col[i, j]`` the column role's (validators') payoff when row plays ``i`` and
column plays ``j``. A symmetric one-population game is one square array ``M`` with
``M[i, j]`` = payoff of strategy ``i`` against strategy ``j``. Mixed strategies are
probability vectors. Randomness comes only from the ``rng`` argument.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import solve_ivp
from scipy.special import logsumexp, softmax

from analysis.stats import (
    Estimate,
    SeedLike,
    _bootstrap_statistic,
    _check_confidence,
    as_generator,
    bootstrap_ci,
)

__all__ = [
    "AlphaRankResult",
    "AlphaSweep",
    "CoalitionCurve",
    "DeviationRegret",
    "Equilibrium",
    "Trajectory",
    "alpharank",
    "alpharank_sweep",
    "coalition_curve",
    "deviation_regret",
    "find_equilibria",
    "find_symmetric_equilibria",
    "mixed_regret",
    "regret_from_means",
    "replicator_trajectory",
    "replicator_trajectory_two_pop",
    "symmetric_regret",
]

FloatArray = NDArray[np.float64]
Mixes = tuple[FloatArray, ...]


# --------------------------------------------------------------------------- validation


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


# --------------------------------------------------------------------------- 1. regret


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


@dataclass(frozen=True)
class Trajectory:
    """A replicator trajectory.

    Attributes:
        t: ``(T,)`` times (for ``method="discrete"``, step index times ``dt``).
        x: ``(T, n)`` strategy mix of the (row) population.
        y: ``(T, m)`` strategy mix of the column population, or None (one population).
    """

    t: FloatArray
    x: FloatArray
    y: FloatArray | None = None


def _rhs1(m: FloatArray, n_starts: int) -> Callable[[float, FloatArray], FloatArray]:
    """Log-coordinate replicator field: d/dt log x_i = f_i - x.f (for many starts)."""

    def f(_t: float, z: FloatArray) -> FloatArray:
        zz = z.reshape(n_starts, -1)
        x = softmax(zz, axis=1)
        fit = x @ m.T
        return (fit - np.sum(x * fit, axis=1, keepdims=True)).ravel()

    return f


def _rhs2(a: FloatArray, b: FloatArray, n_starts: int) -> Callable[[float, FloatArray], FloatArray]:
    """Two-population log-coordinate replicator field (for many starts)."""
    n = a.shape[0]

    def f(_t: float, z: FloatArray) -> FloatArray:
        zz = z.reshape(n_starts, -1)
        x = softmax(zz[:, :n], axis=1)
        y = softmax(zz[:, n:], axis=1)
        fx = y @ a.T
        fy = x @ b
        gx = fx - np.sum(x * fx, axis=1, keepdims=True)
        gy = fy - np.sum(y * fy, axis=1, keepdims=True)
        return np.concatenate([gx, gy], axis=1).ravel()

    return f


def _ivp(*args: object, **kwargs: object) -> FloatArray:
    """``scipy.integrate.solve_ivp(...).y``, raising RuntimeError if the solver failed."""
    sol = solve_ivp(*args, **kwargs)  # type: ignore[call-overload]
    if not sol.success:
        raise RuntimeError(f"replicator integration failed: {sol.message}")
    return sol.y


def _log(x: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore"):
        return np.log(x)


def _check_time(t_max: float, n_points: int, dt: float) -> None:
    if not (np.isfinite(t_max) and t_max > 0):
        raise ValueError(f"t_max must be finite and > 0, got {t_max}")
    if n_points < 2:
        raise ValueError(f"n_points must be >= 2, got {n_points}")
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be finite and > 0, got {dt}")


def replicator_trajectory(
    payoff: ArrayLike,
    x0: ArrayLike,
    *,
    t_max: float = 50.0,
    n_points: int = 201,
    method: Literal["ode", "discrete"] = "ode",
    dt: float = 0.01,
    rtol: float = 1e-8,
    atol: float = 1e-10,
) -> Trajectory:
    """Replicator dynamics of one population's strategy mix in a symmetric game.

    ``dx_i/dt = x_i ((M x)_i - x.M x)`` (Taylor & Jonker 1978, Math. Biosci. 40:145;
    Hofbauer & Sigmund 1998, "Evolutionary Games and Population Dynamics", ch. 7).

    ``method="ode"`` integrates it with ``scipy.integrate.solve_ivp`` (DOP853) in log
    coordinates ``z_i = log x_i`` (``dz_i/dt = (M x)_i - x.M x``, ``x = softmax(z)``),
    which keeps x in the simplex and handles strategies dying out exponentially.
    ``method="discrete"`` iterates the discrete-time replicator map with background
    fitness (Weibull 1995, sec. 4.1.2; Hofbauer & Sigmund 1998, sec. 16.1):
    ``x_i' = x_i w_i / x.w`` with ``w = 1/dt + M x - min(M)`` > 0, a first-order
    approximation of the ODE with step ``dt`` (it spirals outwards where the ODE
    cycles, e.g. rock-paper-scissors).

    Strategies absent from ``x0`` stay absent (the replicator dynamics cannot create them).

    Args:
        payoff: square ``(n, n)`` payoff matrix.
        x0: initial mix, length n.
        t_max: final time.
        n_points: number of output times, evenly spaced in ``[0, t_max]``.
        method: ``"ode"`` or ``"discrete"``.
        dt: step of the discrete map (ignored by ``"ode"``).
        rtol, atol: solve_ivp tolerances (in log coordinates).

    Returns:
        :class:`Trajectory` with ``y=None``.
    """
    m = _square(payoff)
    x = _mix(x0, m.shape[0], "x0")
    _check_time(t_max, n_points, dt)
    ts = np.linspace(0.0, t_max, n_points)
    if method == "discrete":
        return Trajectory(ts, _discrete1(m, x, ts, dt))
    if method != "ode":
        raise ValueError(f"method must be 'ode' or 'discrete', got {method!r}")
    alive = x > 0
    sub = m[np.ix_(alive, alive)]
    sol_y = _ivp(
        _rhs1(sub, 1),
        (0.0, t_max),
        np.log(x[alive]),
        method="DOP853",
        t_eval=ts,
        rtol=rtol,
        atol=atol,
    )
    xs = np.zeros((n_points, m.shape[0]))
    xs[:, alive] = softmax(sol_y.T, axis=1)
    return Trajectory(ts, xs)


def _discrete1(m: FloatArray, x: FloatArray, ts: FloatArray, dt: float) -> FloatArray:
    lo = float(m.min())
    out = np.empty((ts.size, x.size))
    t, k = 0.0, 0
    for i, target in enumerate(ts):
        while t < target - 1e-12 * max(1.0, target):
            w = 1.0 / dt + m @ x - lo
            x = x * w / (x @ w)
            k += 1
            t = k * dt
        out[i] = x
    return out


def replicator_trajectory_two_pop(
    payoff_row: ArrayLike,
    payoff_col: ArrayLike,
    x0: ArrayLike,
    y0: ArrayLike,
    *,
    t_max: float = 50.0,
    n_points: int = 201,
    method: Literal["ode", "discrete"] = "ode",
    dt: float = 0.01,
    rtol: float = 1e-8,
    atol: float = 1e-10,
) -> Trajectory:
    """Two-population replicator dynamics of a two-role game (miners x validators).

    ``dx_i/dt = x_i ((A y)_i - x.A y)``, ``dy_j/dt = y_j ((x.B)_j - x.B y)`` (Taylor 1979,
    Math. Biosci. 46:227; Hofbauer & Sigmund 1998, sec. 10.1). Same numerics as
    :func:`replicator_trajectory` (log coordinates + DOP853, or the discrete map with
    background fitness ``1/dt`` for each population).

    Args:
        payoff_row, payoff_col: ``(n, m)`` payoffs of the row and column role.
        x0, y0: initial mixes of the row (length n) and column (length m) populations.
        t_max, n_points, method, dt, rtol, atol: as in :func:`replicator_trajectory`.

    Returns:
        :class:`Trajectory` with both ``x`` and ``y``.
    """
    a, b = _bimatrix(payoff_row, payoff_col)
    n, mm = a.shape
    x = _mix(x0, n, "x0")
    y = _mix(y0, mm, "y0")
    _check_time(t_max, n_points, dt)
    ts = np.linspace(0.0, t_max, n_points)
    if method == "discrete":
        xs, ys = np.empty((n_points, n)), np.empty((n_points, mm))
        la, lb = float(a.min()), float(b.min())
        t, k = 0.0, 0
        for i, target in enumerate(ts):
            while t < target - 1e-12 * max(1.0, target):
                wx = 1.0 / dt + a @ y - la
                wy = 1.0 / dt + x @ b - lb
                x, y = x * wx / (x @ wx), y * wy / (y @ wy)
                k += 1
                t = k * dt
            xs[i], ys[i] = x, y
        return Trajectory(ts, xs, ys)
    if method != "ode":
        raise ValueError(f"method must be 'ode' or 'discrete', got {method!r}")
    ax, ay = x > 0, y > 0
    sa, sb = a[np.ix_(ax, ay)], b[np.ix_(ax, ay)]
    z0 = np.concatenate([np.log(x[ax]), np.log(y[ay])])
    sol_y = _ivp(
        _rhs2(sa, sb, 1), (0.0, t_max), z0, method="DOP853", t_eval=ts, rtol=rtol, atol=atol
    )
    k = int(ax.sum())
    xs, ys = np.zeros((n_points, n)), np.zeros((n_points, mm))
    xs[:, ax] = softmax(sol_y[:k].T, axis=1)
    ys[:, ay] = softmax(sol_y[k:].T, axis=1)
    return Trajectory(ts, xs, ys)


@dataclass(frozen=True)
class Equilibrium:
    """A (epsilon-)Nash equilibrium of an empirical game.

    Attributes:
        mixes: one probability vector per population: ``(x,)`` for a symmetric game,
            ``(x, y)`` (row role, column role) for a two-role game.
        regrets: each population's regret at the profile (see :func:`mixed_regret`).
        regret: ``max(regrets)``: the profile is a ``regret``-Nash equilibrium.
        basin: share of the random replicator starts that converged to it. 0 means it
            was found only by support enumeration: it is not an attractor of the
            replicator dynamics (e.g. a saddle such as the mixed equilibrium of a
            coordination game), so evolution is unlikely to settle there.
        found_by: ``"replicator"``, ``"support"`` or ``"replicator+support"``.
        n_points: how many distinct equilibrium points the search found in this
            equilibrium's component (merged because the segments between them are
            equilibria too). 1: isolated as far as the search can tell; > 1: a continuum
            (typical of empirical games with ties, e.g. two strategies that earn the same),
            of which ``mixes`` is one representative (the one with the smallest support).
        spread: largest max-abs distance from ``mixes`` to another merged point (0 when
            ``n_points == 1``): how far the continuum extends.
    """

    mixes: tuple[FloatArray, ...]
    regrets: tuple[float, ...]
    regret: float
    basin: float
    found_by: str
    n_points: int = 1
    spread: float = 0.0

    @property
    def x(self) -> FloatArray:
        """The (row) population's mix."""
        return self.mixes[0]

    @property
    def y(self) -> FloatArray:
        """The column population's mix (two-role games only)."""
        if len(self.mixes) < 2:
            raise AttributeError("a symmetric-game equilibrium has no column mix y")
        return self.mixes[1]

    @property
    def is_pure(self) -> bool:
        """True when every population plays one strategy."""
        return all(int(np.count_nonzero(v > 1e-9)) == 1 for v in self.mixes)


@dataclass
class _Candidate:
    mixes: tuple[FloatArray, ...]
    hits: int = 0
    sources: set[str] = field(default_factory=set)


def _dirichlet_starts(gen: np.random.Generator, n_starts: int, n: int) -> FloatArray:
    return gen.dirichlet(np.ones(n), size=n_starts)


def _face_solve(
    mat: FloatArray, rows: tuple[int, ...], cols: tuple[int, ...], tol: float
) -> FloatArray | None:
    """Mix p on ``cols`` making every row in ``rows`` indifferent under ``mat``.

    Solves ``mat[rows][:, cols] p = v 1``, ``sum p = 1``, ``p >= 0`` (least squares,
    so degenerate supports give one solution). Returns p on ``cols`` or None.
    """
    sub = mat[np.ix_(rows, cols)]
    k, l_ = sub.shape
    lhs = np.zeros((k + 1, l_ + 1))
    lhs[:k, :l_] = sub
    lhs[:k, l_] = -1.0
    lhs[k, :l_] = 1.0
    rhs = np.zeros(k + 1)
    rhs[k] = 1.0
    sol, *_ = np.linalg.lstsq(lhs, rhs, rcond=None)
    if np.max(np.abs(lhs @ sol - rhs)) > tol:
        return None
    p = sol[:l_]
    if np.any(p < -1e-9):
        return None
    p = np.clip(p, 0.0, None)
    return p / p.sum()


def _subsets(n: int) -> list[tuple[int, ...]]:
    return [c for k in range(1, n + 1) for c in itertools.combinations(range(n), k)]


def _merge(cands: list[_Candidate], mixes: tuple[FloatArray, ...], source: str, tol: float) -> None:
    v = np.concatenate(mixes)
    for c in cands:
        if np.max(np.abs(np.concatenate(c.mixes) - v)) <= tol:
            c.sources.add(source)
            if source == "replicator":
                c.hits += 1
            if source == "support":  # exact point: prefer it as the representative
                c.mixes = mixes
            return
    cands.append(_Candidate(mixes, 1 if source == "replicator" else 0, {source}))


def _snap(
    point: tuple[FloatArray, ...],
    solve: Callable[[tuple[tuple[int, ...], ...]], Mixes | None],
    regret: Callable[[Mixes], float],
    eps: float,
    snap_tol: float,
) -> tuple[FloatArray, ...] | None:
    """Turn a replicator endpoint into an exact rest point on its face, if one is close."""
    for thr in (1e-3, 1e-6, 1e-9):
        supports = tuple(tuple(int(i) for i in np.flatnonzero(p > thr)) for p in point)
        exact = solve(supports)
        if exact is None:
            continue
        dist = max(float(np.max(np.abs(e - p))) for e, p in zip(exact, point, strict=True))
        if dist <= snap_tol and regret(exact) <= eps:
            return exact
    if regret(point) <= eps:
        return point
    return None


def find_equilibria(
    payoff_row: ArrayLike,
    payoff_col: ArrayLike,
    *,
    rng: SeedLike = 0,
    n_starts: int = 64,
    t_max: float = 1000.0,
    epsilon: float | None = None,
    support_enumeration: bool = True,
    max_support_pairs: int = 70_000,
    dedupe_tol: float = 1e-3,
) -> list[Equilibrium]:
    """Nash equilibria of a two-role empirical game (e.g. miners x validators).

    Two complementary searches, both producing rest points of the two-population
    replicator dynamics (Hofbauer & Sigmund 1998, sec. 10.1: every Nash equilibrium is a
    rest point, and the Nash equilibria are the rest points where no unused strategy
    earns more, i.e. where the regret is 0):

    1. Replicator dynamics from ``n_starts`` random interior starts (uniform on each
       simplex, drawn from ``rng``), integrated with ``solve_ivp`` in log coordinates
       to ``t_max`` in units where the payoff range is 1. Each endpoint is snapped to the
       exact rest point of its face (the indifference equations on its support) when one
       is within 0.05; endpoints still moving (cycles, as in matching pennies) are
       dropped. Interior starts converge only to Nash equilibria (the "folk theorem",
       Hofbauer & Sigmund 1998, thm. 7.2.1), and only to the dynamically stable ones.
    2. Support enumeration (Nisan et al. 2007, "Algorithmic Game Theory", sec. 3.2;
       Porter, Nudelman & Shoham 2008, GEB 63:642): for every pair of supports, solve
       the indifference equations; this also finds the unstable equilibria replicator
       dynamics cannot reach (e.g. the mixed equilibrium of battle of the sexes or of a
       coordination game, a saddle). Skipped (with a RuntimeWarning) when there are more
       than ``max_support_pairs`` support pairs ((2^n - 1)(2^m - 1); the default admits 8x8,
       a few seconds).

    Every candidate is verified by its regret (:func:`mixed_regret`) and kept only if it
    is an ``epsilon``-Nash equilibrium; candidates within ``dedupe_tol`` (max abs
    difference of the mixes) are merged, and so are candidates linked by a segment of
    equilibria (one component of a continuum, see :class:`Equilibrium` ``n_points``;
    degenerate empirical games with ties have such continua). ``basin`` adds up over
    the merged points.

    Args:
        payoff_row, payoff_col: ``(n, m)`` mean payoffs of the row and column role.
        rng: numpy Generator or seed for the random starts.
        n_starts: number of replicator starts (0 to use support enumeration only).
        t_max: integration time in payoff-range units.
        epsilon: regret tolerance in payoff units; default ``1e-6`` times the payoff range.
        support_enumeration: run search 2.
        max_support_pairs: size limit for search 2.
        dedupe_tol: merge distance.

    Returns:
        Equilibria sorted by basin (largest first), then by regret.
    """
    a, b = _bimatrix(payoff_row, payoff_col)
    n, m = a.shape
    scale = _scale(a, b)
    eps = 1e-6 * scale if epsilon is None else float(epsilon)
    if eps < 0 or not np.isfinite(eps):
        raise ValueError(f"epsilon must be finite and >= 0, got {epsilon}")
    if n_starts < 0:
        raise ValueError(f"n_starts must be >= 0, got {n_starts}")
    tol = 1e-9 * scale

    def regret(mx: tuple[FloatArray, ...]) -> float:
        return max(_regrets2(a, b, mx[0], mx[1]))

    def solve(supports: tuple[tuple[int, ...], ...]) -> tuple[FloatArray, ...] | None:
        rows, cols = supports
        if not rows or not cols:
            return None
        py = _face_solve(a, rows, cols, tol)
        if py is None:
            return None
        px = _face_solve(b.T, cols, rows, tol)
        if px is None:
            return None
        x = np.zeros(n)
        y = np.zeros(m)
        x[list(rows)] = px
        y[list(cols)] = py
        return x, y

    cands: list[_Candidate] = []
    if n_starts > 0:
        gen = as_generator(rng)
        xs = _dirichlet_starts(gen, n_starts, n)
        ys = _dirichlet_starts(gen, n_starts, m)
        z0 = np.concatenate([_log(xs), _log(ys)], axis=1).ravel()
        sol_y = _ivp(
            _rhs2(a / scale, b / scale, n_starts),
            (0.0, t_max),
            z0,
            method="RK45",
            t_eval=[t_max],
            rtol=1e-7,
            atol=1e-9,
        )
        zend = sol_y[:, -1].reshape(n_starts, n + m)
        for z in zend:
            pt = (softmax(z[:n]), softmax(z[n:]))
            snapped = _snap(pt, solve, regret, eps, 0.05)
            if snapped is not None:
                _merge(cands, snapped, "replicator", dedupe_tol)
    if support_enumeration:
        rs, cs = _subsets(n), _subsets(m)
        if len(rs) * len(cs) > max_support_pairs:
            warnings.warn(
                f"support enumeration skipped: {len(rs) * len(cs)} support pairs > "
                f"max_support_pairs={max_support_pairs}; unstable equilibria may be missed",
                RuntimeWarning,
                stacklevel=2,
            )
        else:
            for rows in rs:
                for cols in cs:
                    mx = solve((rows, cols))
                    if mx is not None and regret(mx) <= eps:
                        _merge(cands, mx, "support", dedupe_tol)
    return _finish(cands, lambda mx: _regrets2(a, b, mx[0], mx[1]), n_starts, eps)


def _linked(p: Mixes, q: Mixes, regret: Callable[[Mixes], float], eps: float) -> bool:
    """Heuristic: are equilibria p and q in one connected set of equilibria?

    The equilibria of a bimatrix game form finitely many maximal Nash subsets, each a
    product of convex polytopes whose points are interchangeable (Jansen 1981, "Maximal
    Nash subsets for bimatrix games", Naval Res. Logist. Q. 28:147). So p and q are linked
    when 9 points on the segment between them (and, for two populations, the interchanged
    profiles (x_p, y_q) and (x_q, y_p)) are all epsilon-Nash.
    """
    for t in np.linspace(0.0, 1.0, 11)[1:-1]:
        if regret(tuple((1 - t) * u + t * v for u, v in zip(p, q, strict=True))) > eps:
            return False
    return not (len(p) == 2 and (regret((p[0], q[1])) > eps or regret((q[0], p[1])) > eps))


def _finish(
    cands: list[_Candidate],
    regrets: Callable[[Mixes], tuple[float, ...]],
    n_starts: int,
    eps: float,
) -> list[Equilibrium]:
    """Merge linked candidates into components; Equilibrium records by basin, regret."""

    def regret(mx: Mixes) -> float:
        return max(regrets(mx))

    parent = list(range(len(cands)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(cands)), 2):
        ri, rj = root(i), root(j)
        if ri != rj and _linked(cands[i].mixes, cands[j].mixes, regret, eps):
            parent[rj] = ri
    groups: dict[int, list[_Candidate]] = {}
    for i, c in enumerate(cands):
        groups.setdefault(root(i), []).append(c)
    out = []
    for members in groups.values():
        rep = min(
            members,
            key=lambda c: (
                "support" not in c.sources,
                sum(int(np.count_nonzero(v > 1e-9)) for v in c.mixes),
                -c.hits,
            ),
        )
        sources = set().union(*(c.sources for c in members))
        r = tuple(float(v) for v in regrets(rep.mixes))
        found = "+".join(s for s in ("replicator", "support") if s in sources)
        hits = sum(c.hits for c in members)
        basin = hits / n_starts if n_starts else 0.0
        rv = np.concatenate(rep.mixes)
        spread = max(float(np.max(np.abs(np.concatenate(c.mixes) - rv))) for c in members)
        out.append(Equilibrium(rep.mixes, r, max(r), basin, found, len(members), spread))
    out.sort(key=lambda e: (-e.basin, e.regret))
    return out


def find_symmetric_equilibria(
    payoff: ArrayLike,
    *,
    rng: SeedLike = 0,
    n_starts: int = 64,
    t_max: float = 1000.0,
    epsilon: float | None = None,
    support_enumeration: bool = True,
    max_supports: int = 20_000,
    dedupe_tol: float = 1e-3,
) -> list[Equilibrium]:
    """Symmetric Nash equilibria of a symmetric one-population game.

    The one-population analogue of :func:`find_equilibria` (same two searches: replicator
    dynamics from random starts, whose stable rest points are the evolutionarily stable
    states, Hofbauer & Sigmund 1998, ch. 7; and enumeration of the supports S solving
    ``(M x)_i = v`` for i in S). Use it for a single role's strategy mix when agents of
    that role play against each other (imitation dynamics within a role).

    Args:
        payoff: square ``(n, n)`` payoff matrix.
        rng, n_starts, t_max, epsilon, support_enumeration, dedupe_tol: as in
            :func:`find_equilibria`.
        max_supports: size limit for the support enumeration (2^n - 1 supports).

    Returns:
        Equilibria (``mixes=(x,)``) sorted by basin, then regret.
    """
    mat = _square(payoff)
    n = mat.shape[0]
    scale = _scale(mat)
    eps = 1e-6 * scale if epsilon is None else float(epsilon)
    if eps < 0 or not np.isfinite(eps):
        raise ValueError(f"epsilon must be finite and >= 0, got {epsilon}")
    if n_starts < 0:
        raise ValueError(f"n_starts must be >= 0, got {n_starts}")
    tol = 1e-9 * scale

    def regret(mx: tuple[FloatArray, ...]) -> float:
        return _regret1(mat, mx[0])

    def solve(supports: tuple[tuple[int, ...], ...]) -> tuple[FloatArray, ...] | None:
        (s,) = supports
        if not s:
            return None
        p = _face_solve(mat, s, s, tol)
        if p is None:
            return None
        x = np.zeros(n)
        x[list(s)] = p
        return (x,)

    cands: list[_Candidate] = []
    if n_starts > 0:
        gen = as_generator(rng)
        z0 = _log(_dirichlet_starts(gen, n_starts, n)).ravel()
        sol_y = _ivp(
            _rhs1(mat / scale, n_starts),
            (0.0, t_max),
            z0,
            method="RK45",
            t_eval=[t_max],
            rtol=1e-7,
            atol=1e-9,
        )
        for z in sol_y[:, -1].reshape(n_starts, n):
            snapped = _snap((softmax(z),), solve, regret, eps, 0.05)
            if snapped is not None:
                _merge(cands, snapped, "replicator", dedupe_tol)
    if support_enumeration:
        if 2**n - 1 > max_supports:
            warnings.warn(
                f"support enumeration skipped: {2**n - 1} supports > max_supports="
                f"{max_supports}; unstable equilibria may be missed",
                RuntimeWarning,
                stacklevel=2,
            )
        else:
            for s in _subsets(n):
                mx = solve((s,))
                if mx is not None and regret(mx) <= eps:
                    _merge(cands, mx, "support", dedupe_tol)
    return _finish(cands, lambda mx: (_regret1(mat, mx[0]),), n_starts, eps)


# --------------------------------------------------------------------------- 3. alpha-Rank


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
    n_prof = int(np.prod(sizes))
    profiles = np.array(list(np.ndindex(*sizes)), dtype=np.int64).reshape(n_prof, len(sizes))
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
                    r_id = int(np.ravel_multi_index(tuple(new), sizes))
                    if single:
                        lr = _log_fixation_singlepop(
                            mat, r, int(prof[0]), alpha, m, local_selection
                        )
                    else:
                        d = tables[k][tuple(new)] - tables[k][tuple(prof)]
                        lr = float(_log_fixation_const(np.array(d), alpha, m))
                    log_c[s_id, r_id] = np.log(eta) + lr
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


@dataclass(frozen=True)
class CoalitionCurve:
    """Result of :func:`coalition_curve`: profit per member against coalition size/share.

    Attributes:
        centers: ``(n_bins,)`` bin centres (the distinct x values for discrete sizes).
        edges: ``(n_bins + 1,)`` bin edges (None for discrete sizes).
        estimates: per bin, the mean profit per member with its bootstrap interval.
        counts: ``(n_bins,)`` runs per bin.
    """

    centers: FloatArray
    edges: FloatArray | None
    estimates: list[Estimate]
    counts: NDArray[np.int64]

    @property
    def means(self) -> FloatArray:
        """Bin means."""
        return np.array([e.mean for e in self.estimates])

    @property
    def lows(self) -> FloatArray:
        """Lower interval bounds."""
        return np.array([e.low for e in self.estimates])

    @property
    def highs(self) -> FloatArray:
        """Upper interval bounds."""
        return np.array([e.high for e in self.estimates])


def coalition_curve(
    x: ArrayLike,
    profit: ArrayLike,
    *,
    bins: int | ArrayLike | None = None,
    min_count: int = 2,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    rng: SeedLike = 0,
) -> CoalitionCurve:
    """Binned mean profit per coalition member against coalition size or stake share.

    Nash analysis considers one agent deviating at a time and misses collusion; a
    coalition curve shows whether a cabal's per-member profit rises with its size or
    stake share (cf. the coalition-proofness critique, Bernheim, Peleg & Whinston 1987,
    J. Econ. Theory 42:1). Each run (seed x coalition setting) gives one point; runs are
    grouped into bins and each bin's mean gets a BCa interval
    (:func:`analysis.stats.bootstrap_ci`, runs as replications).

    Args:
        x: ``(n_runs,)`` coalition size (members) or stake share per run.
        profit: ``(n_runs,)`` profit per member per run.
        bins: None: one bin per distinct x value if there are at most 20 (discrete
            sizes), else 10 equal-width bins; an int: that many equal-width bins; an
            array: bin edges (``numpy.histogram`` convention, last bin closed).
        min_count: bins with fewer runs are left out (an interval needs >= 2).
        confidence, n_resamples, rng: as in :func:`analysis.stats.bootstrap_ci`.
    """
    xv = _finite_array(x, "x", 1)
    pv = _finite_array(profit, "profit", 1)
    if xv.shape != pv.shape:
        raise ValueError(f"x and profit must have the same length ({xv.size} vs {pv.size})")
    if min_count < 2:
        raise ValueError(f"min_count must be >= 2 (an interval needs 2 runs), got {min_count}")
    gen = as_generator(rng)
    uniq = np.unique(xv)
    edges: FloatArray | None
    if bins is None and uniq.size <= 20:
        edges = None
        groups = [(float(u), pv[xv == u]) for u in uniq]
    else:
        if bins is None:
            bins = 10
        if isinstance(bins, int | np.integer):
            if bins < 1:
                raise ValueError(f"bins must be >= 1, got {bins}")
            edges = np.histogram_bin_edges(xv, bins=int(bins))
        else:
            edges = _finite_array(bins, "bins", 1)
            if edges.size < 2 or np.any(np.diff(edges) <= 0):
                raise ValueError("bins edges must be strictly increasing, at least 2 of them")
        idx = np.digitize(xv, edges[1:-1], right=False)
        inside = (xv >= edges[0]) & (xv <= edges[-1])
        groups = [
            (0.5 * (edges[i] + edges[i + 1]), pv[(idx == i) & inside])
            for i in range(edges.size - 1)
        ]
    centers, ests, counts = [], [], []
    for c, g in groups:
        if g.size < min_count:
            continue
        centers.append(c)
        ests.append(bootstrap_ci(g, confidence=confidence, n_resamples=n_resamples, rng=gen))
        counts.append(g.size)
    return CoalitionCurve(
        np.array(centers, dtype=float), edges, ests, np.array(counts, dtype=np.int64)
    )
