"""Nash equilibria of empirical games: replicator dynamics from many starts plus support
enumeration."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import softmax

from analysis.game.regret import _regret1, _regrets2
from analysis.game.replicator import (
    _ivp,
    _log,
    _rhs1,
    _rhs2,
    run_to_rest,
    slowest_time,
)
from analysis.game.tables import FloatArray, Mixes, _bimatrix, _scale, _square
from analysis.stats import (
    SeedLike,
    as_generator,
)


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
    t_max: float | None = None,
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
       simplex, drawn from ``rng``), integrated with ``solve_ivp`` in log coordinates,
       each role's payoffs scaled by that role's own payoff range, until each start is at
       rest (its regret below 1e-7 in those units; :func:`analysis.game.replicator.
       run_to_rest`) or the time reaches ``t_max`` (default: 50 over the slowest payoff
       difference, :func:`~analysis.game.replicator.slowest_time`). Each rest point is
       snapped to the exact rest point of its face (the indifference equations on its
       support) when one is within 0.05; starts that never come to rest (cycles, as in
       matching pennies) are dropped, so a **basin** is the fraction of starts that
       converge to an equilibrium. Interior starts converge only to Nash equilibria
       (the "folk theorem", Hofbauer & Sigmund 1998, thm. 7.2.1), and only to the
       dynamically stable ones.
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
        t_max: the longest integration time, in payoff-range units (None: from the game).
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
        z0 = np.concatenate([_log(xs), _log(ys)], axis=1)
        # each role's payoffs in its own unit: a role with a small payoff range moves as
        # fast as one with a large range (one common scale would freeze the small one)
        sa, sb = _scale(a), _scale(b)
        ua, ub = a / sa, b / sb
        limit = slowest_time(ua, ub) if t_max is None else float(t_max)

        def scaled_regret(z: FloatArray) -> float:
            return max(_regrets2(ua, ub, softmax(z[:n]), softmax(z[n:])))

        zend, done, _ = run_to_rest(lambda k: _rhs2(ua, ub, k), scaled_regret, z0,
                                    t_limit=limit)
        for z in zend[done]:
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


