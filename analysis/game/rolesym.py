"""The role-symmetric empirical game, players being agents, and its alpha-Rank.

In a role-symmetric game (Wellman 2006, "Methods for empirical game-theoretic analysis",
AAAI) the players are the agents; the agents of one role share a strategy set and are
interchangeable. A *pure* role-symmetric profile gives every agent of a role the same
strategy (one strategy per role). What an agent can do is switch alone: its incentive at
profile ``s`` is the **deviation gain** ``g_k(s, r)`` = payoff of one role-``k`` agent playing
``r`` against everyone else at ``s`` minus its payoff at ``s`` (measured by
:mod:`analysis.deviations` against the deviator's own cohort in the paired run). A profile
is a Nash equilibrium of the role-symmetric game when no gain is positive (Tuyls et al.
2020, "Bounds and dynamics for empirical game theoretic analysis", AAMAS J. 34:7, for the
epsilon version with intervals). This differs from the game of whole-role switches
(:func:`analysis.game.alpharank` over a miner x validator table of monomorphic profiles),
where a role's payoff at ``(r, s_-k)`` is what *every* agent of the role earns when all
switch: with miners splitting a fixed pot, quality cannot matter there.

alpha-Rank over this game (Omidshafiei et al. 2019, "alpha-Rank: Multi-Agent Evaluation by
Evolution", Sci. Rep. 9:9937): the Markov chain over pure profiles of
:func:`analysis.game.alpharank.alpharank_chain`, where a mutant ``r`` appears among the
``m`` agents of role ``k`` at ``s`` and takes the role over with the Fermi fixation
probability of a constant fitness advantage ``d = g_k(s, r)``,
``rho = (1 - e^{-alpha d}) / (1 - e^{-m alpha d})`` (1/m at d = 0). Taking the advantage
of the first mutant for all of them is the approximation this data allows: only the
profiles with one mutant are run. As alpha grows the chain's mass settles on the sink
components of the better-response graph, which are the profiles no single agent can leave
profitably (the pure Nash equilibria of the role-symmetric game) when there are any.

An empirical game rarely has every gain ``g_k(s, r)`` of every pure profile ``s`` of the
product of the strategy sets. alpha-Rank then runs over the profiles that were run with
all their deviations (``profiles=game.measured()``): a mutation that leads to a profile
not run stays put, so a profile with an established better response to a profile not run
(:meth:`RoleSymmetricGame.better_responses`) keeps mass it would lose in the full game;
``tao-arena psro`` runs those profiles until none is left. :meth:`RoleSymmetricGame.
complete` gives the largest product game instead (dropping the strategy in fewest
measured profiles first) and says what it dropped.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis.game.alpharank import (
    AlphaRankResult,
    AlphaSweep,
    _log_fixation_const,
    alpharank_chain,
    sweep_result,
)
from analysis.game.tables import _finite_array

Profile = tuple[str, ...]
"""A pure role-symmetric profile: one strategy per role, in the game's role order."""


@dataclass(frozen=True)
class RoleSymmetricGame:
    """Deviation gains of the pure profiles of a role-symmetric game.

    Attributes:
        roles: the roles, in profile order.
        strategies: per role, its strategy set.
        gains: ``(profile, role index, strategy) -> mean gain`` of one agent of that role
            switching from the profile's strategy to ``strategy`` (USD/day).
        upper: the same key -> upper confidence bound of the gain (optional).
        lower: the same key -> lower confidence bound of the gain (optional).
        dropped: strategies left out to make the game complete (``role: strategy``).
    """

    roles: tuple[str, ...]
    strategies: tuple[tuple[str, ...], ...]
    gains: dict[tuple[Profile, int, str], float]
    upper: dict[tuple[Profile, int, str], float] = field(default_factory=dict)
    lower: dict[tuple[Profile, int, str], float] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()

    @property
    def sizes(self) -> tuple[int, ...]:
        """Strategies per role."""
        return tuple(len(s) for s in self.strategies)

    def profiles(self) -> list[Profile]:
        """Every pure profile, C order (the last role varies fastest)."""
        return [tuple(p) for p in itertools.product(*self.strategies)]

    def deviations_of(self, profile: Profile) -> list[tuple[int, str]]:
        """(role index, strategy) of every single deviation from ``profile``."""
        return [(k, r) for k, ss in enumerate(self.strategies) for r in ss if r != profile[k]]

    def measured_deviations(self, profile: Profile) -> list[tuple[int, str]]:
        """(role index, strategy) of every single deviation from ``profile`` with a measured
        gain, to any strategy (also those :meth:`complete` dropped from the sets: they are
        still moves an agent can make)."""
        return sorted({(k, r) for (p, k, r) in self.gains if p == profile})

    def better_responses(self, profile: Profile, epsilon: float = 0.0
                         ) -> list[tuple[float, int, str]]:
        """(mean gain, role index, strategy) of the single deviations from ``profile`` whose
        lower confidence bound exceeds ``epsilon`` (a gain the data establish), largest
        mean first."""
        return sorted(((self.gains[(p, k, r)], k, r) for (p, k, r), lo in self.lower.items()
                       if p == profile and lo > epsilon), key=lambda x: -x[0])

    def missing(self) -> list[tuple[Profile, int, str]]:
        """Gains the game needs and does not have."""
        return [(p, k, r) for p in self.profiles() for k, r in self.deviations_of(p)
                if (p, k, r) not in self.gains]

    def measured(self) -> list[Profile]:
        """Pure profiles with every one of their gains (within the strategy sets)."""
        return [p for p in self.profiles()
                if all((p, k, r) in self.gains for k, r in self.deviations_of(p))]

    def complete(self) -> RoleSymmetricGame:
        """The largest game this data completes: while a gain is missing, drop the
        strategy (of a role with more than one) that the fewest measured profiles play,
        last listed first on ties. A one-profile game is complete."""
        game = self
        while game.missing():
            counts = []
            measured = game.measured()
            for k, ss in enumerate(game.strategies):
                if len(ss) < 2:
                    continue
                for i, s in enumerate(ss):
                    counts.append((sum(p[k] == s for p in measured), -k, -i, k, s))
            if not counts:
                break
            *_, k, s = min(counts)
            strategies = tuple(tuple(x for x in ss if not (j == k and x == s))
                               for j, ss in enumerate(game.strategies))
            game = RoleSymmetricGame(game.roles, strategies, game.gains, game.upper,
                                     game.lower, (*game.dropped, f"{game.roles[k]}: {s}"))
        return game

    def gain_array(self, k: int) -> NDArray[np.float64]:
        """Role ``k``'s gains as an array ``sizes + (n_k,)``: ``[s..., r]`` = the gain of
        switching to strategy ``r`` at ``s`` (0 at ``r = s_k``; NaN where missing)."""
        out = np.full((*self.sizes, self.sizes[k]), np.nan)
        for idx in np.ndindex(*self.sizes):
            prof = tuple(ss[i] for ss, i in zip(self.strategies, idx, strict=True))
            for r, name in enumerate(self.strategies[k]):
                out[(*idx, r)] = (0.0 if name == prof[k]
                                  else self.gains.get((prof, k, name), np.nan))
        return out

    def equilibria(self, epsilon: float = 0.0, *, bound: bool = False) -> list[Profile]:
        """Pure profiles where no measured single deviation gains more than ``epsilon``
        (every one, also to strategies :meth:`complete` dropped): the mean gains
        (``bound`` False: Nash equilibria of the mean game at epsilon 0), or their upper
        bounds (``bound`` True: epsilon-equilibria that the intervals establish)."""
        table = self.upper if bound else self.gains
        return [p for p in self.measured()
                if all(table.get((p, k, r), np.inf) < epsilon
                       or (not bound and table.get((p, k, r), np.inf) <= epsilon)
                       for k, r in self.measured_deviations(p))]


def role_symmetric_game(roles: Sequence[str], strategies: Sequence[Sequence[str]],
                        gains: dict[tuple[Profile, int, str], float],
                        upper: dict[tuple[Profile, int, str], float] | None = None,
                        lower: dict[tuple[Profile, int, str], float] | None = None
                        ) -> RoleSymmetricGame:
    """A :class:`RoleSymmetricGame` after validation (finite gains, known strategies)."""
    if len(roles) != len(strategies) or not roles:
        raise ValueError("give one strategy set per role (at least one role)")
    sets = tuple(tuple(dict.fromkeys(ss)) for ss in strategies)
    if any(not ss for ss in sets):
        raise ValueError("every role needs at least one strategy")
    for (prof, k, r), g in gains.items():
        if not (0 <= k < len(roles)) or len(prof) != len(roles):
            raise ValueError(f"gain key {(prof, k, r)} does not fit roles {tuple(roles)}")
        if r not in sets[k] or any(s not in ss for s, ss in zip(prof, sets, strict=True)):
            raise ValueError(f"gain key {(prof, k, r)} names a strategy outside the sets")
        if not np.isfinite(g):
            raise ValueError(f"gain {(prof, k, r)} is not finite")
    return RoleSymmetricGame(tuple(roles), sets, dict(gains), dict(upper or {}),
                             dict(lower or {}))


def rolesym_alpharank(game: RoleSymmetricGame, *, alpha: float = 1.0, m: int = 50,
                      profiles: Sequence[Profile] | None = None) -> AlphaRankResult:
    """alpha-Rank of a role-symmetric game (see the module docstring): over every pure
    profile of a complete game, or over ``profiles`` (e.g. ``game.measured()``: the
    profiles that were run, a mutation leading to a profile not among them staying put).
    Profile rows of the result index ``game.strategies`` per role (C order without
    ``profiles``)."""
    if profiles is None and game.missing():
        raise ValueError(f"the game lacks {len(game.missing())} deviation gain(s); "
                         "use game.complete() or name the profiles")
    nodes = None
    if profiles is not None:
        if any(p not in game.measured() for p in profiles):
            raise ValueError("every profile needs all its deviation gains (game.measured())")
        nodes = np.array([[game.strategies[k].index(s) for k, s in enumerate(p)]
                          for p in profiles], dtype=np.int64).reshape(len(profiles),
                                                                      len(game.roles))
    if not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be finite and >= 0, got {alpha}")
    if int(m) != m or m < 2:
        raise ValueError(f"m must be an integer >= 2, got {m}")
    arrays = [game.gain_array(k) for k in range(len(game.roles))]

    def log_rho(prof: NDArray[np.int64], k: int, r: int, new: NDArray[np.int64]) -> float:
        d = arrays[k][(*(int(i) for i in prof), r)]
        return float(_log_fixation_const(np.array(d), alpha, int(m)))

    return alpharank_chain(game.sizes, log_rho, alpha=alpha, m=int(m), nodes=nodes)


def rolesym_alpharank_sweep(game: RoleSymmetricGame, *, alphas: ArrayLike | None = None,
                            m: int = 50, tol: float = 1e-4,
                            profiles: Sequence[Profile] | None = None) -> AlphaSweep:
    """:func:`rolesym_alpharank` over increasing alphas (default: 41 log-spaced values from
    1e-2 to 1e6 over the largest absolute gain), as :func:`analysis.game.alpharank_sweep`."""
    if alphas is None:
        scale = max((abs(g) for g in game.gains.values()), default=0.0) or 1.0
        grid = np.logspace(-2, 6, 41) / scale
    else:
        grid = _finite_array(alphas, "alphas", 1)
        if np.any(np.diff(grid) <= 0) or grid[0] < 0:
            raise ValueError("alphas must be non-negative and strictly increasing")
    results = [rolesym_alpharank(game, alpha=float(a), m=m, profiles=profiles) for a in grid]
    return sweep_result(grid, results, tol)
