"""Replicator dynamics (Taylor & Jonker 1978) of one- and two-population games."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import solve_ivp
from scipy.special import softmax

from analysis.game.tables import FloatArray, _bimatrix, _mix, _square


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




def slowest_time(*tables: FloatArray, cap: float = 1e5) -> float:
    """An integration horizon long enough for the slowest direction of the dynamics: 50
    over the smallest non-zero payoff difference within a row or column of the (scaled)
    tables, between 100 and ``cap``. A mix approaching a strict equilibrium along a gap g
    shrinks like exp(-g t), so 50 / g leaves a residual of e^-50."""
    gaps = []
    for t in tables:
        for axis in range(t.ndim):
            d = np.abs(np.diff(np.sort(t, axis=axis), axis=axis))
            gaps.append(d[d > 1e-12 * max(1.0, float(np.max(np.abs(t))))])
    g = np.concatenate(gaps) if gaps else np.zeros(0)
    return float(np.clip(50.0 / g.min(), 100.0, cap)) if g.size else 100.0


def run_to_rest(
    rhs: Callable[[int], Callable[[float, FloatArray], FloatArray]],
    regret: Callable[[FloatArray], float],
    z0: FloatArray,
    *,
    t_limit: float,
    tol: float = 1e-7,
    t_first: float = 10.0,
) -> tuple[FloatArray, NDArray[np.bool_], FloatArray]:
    """Integrate many replicator starts (rows of log-coordinates ``z0``) until each is at
    rest: its regret (in the scaled payoffs) is below ``tol``, or the time reaches
    ``t_limit`` (then it did not converge: a cycle, or slower than the limit). Time grows
    tenfold per stage from ``t_first``, so a slow direction is followed as long as it needs
    and no longer. ``rhs(k)`` is the field of ``k`` stacked starts, ``regret(z)`` one
    start's regret.

    Returns:
        ``(z_end, converged, t_end)``: final log-coordinates, whether each start came to
        rest, and when (NaN if it did not).
    """
    z = np.array(z0, dtype=float)
    done = np.zeros(len(z), dtype=bool)
    t_end = np.full(len(z), np.nan)
    t, stage = 0.0, min(t_first, t_limit)
    while True:
        todo = np.flatnonzero(~done)
        if todo.size == 0:
            break
        sol = _ivp(rhs(todo.size), (t, stage), z[todo].ravel(), method="RK45",
                   t_eval=[stage], rtol=1e-7, atol=1e-9)
        z[todo] = sol[:, -1].reshape(todo.size, -1)
        for i in todo:
            if regret(z[i]) < tol:
                done[i], t_end[i] = True, stage
        if stage >= t_limit:
            break
        t, stage = stage, min(stage * 10.0, t_limit)
    return z, done, t_end


def rest_points_two_pop(
    payoff_row: ArrayLike,
    payoff_col: ArrayLike,
    starts: Sequence[tuple[ArrayLike, ArrayLike]],
    *,
    t_limit: float | None = None,
) -> list[tuple[FloatArray, FloatArray, float]]:
    """Where two-population replicator dynamics from each start ``(x0, y0)`` come to rest:
    ``(x, y, t)`` per start, ``t`` the time it came to rest (NaN: not by ``t_limit``, then
    ``x, y`` are the mixes at ``t_limit``). Each role's payoffs are scaled by that role's
    own range; ``t_limit`` defaults to :func:`slowest_time` of the scaled tables."""
    a, b = _bimatrix(payoff_row, payoff_col)
    ua, ub = a / (np.ptp(a) or 1.0), b / (np.ptp(b) or 1.0)
    n, m = a.shape
    z0 = np.array([np.concatenate([np.log(_mix(x0, n, "x0")), np.log(_mix(y0, m, "y0"))])
                   for x0, y0 in starts])
    if np.any(~np.isfinite(z0)):
        raise ValueError("starts must be interior (every strategy present)")

    def regret(z: FloatArray) -> float:
        x, y = softmax(z[:n]), softmax(z[n:])
        fx, fy = ua @ y, x @ ub
        return float(max(fx.max() - x @ fx, fy.max() - fy @ y))

    limit = slowest_time(ua, ub) if t_limit is None else float(t_limit)
    z, done, t_end = run_to_rest(lambda k: _rhs2(ua, ub, k), regret, z0, t_limit=limit)
    return [(softmax(zz[:n]), softmax(zz[n:]), float(t) if d else math.nan)
            for zz, d, t in zip(z, done, t_end, strict=True)]
