"""Everything the report computes from one result set (the ``Analysis`` of a ResultSet):
payoffs, deviation gains, the empirical game, phase diagrams and coalitions."""


import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis import figures as F
from analysis.deviations import MIN_EFFECT_SHARE, STAKE_UNIT_TAO, DeviationResult, deviation_results
from analysis.game import (
    AlphaSweep,
    alpharank_sweep,
    find_equilibria,
)
from analysis.game.rolesym import (
    RoleSymmetricGame,
    role_symmetric_game,
    rolesym_alpharank_sweep,
)
from analysis.payoffs import agent_payoffs, paired_samples, payoff_table
from analysis.report.format import _t_band, axis_title, cell_labels, fmt, path_title
from analysis.results import ResultSet, RunData
from analysis.stats import Estimate, mean_ci

MAX_PANEL_CELLS = 6
N_RESAMPLES = 4999




@dataclass
class GameResult:
    """The empirical game of monomorphic profiles at one sweep point."""

    point: int
    point_label: str
    roles: list[str]
    strategies: list[list[str]]
    payoffs: list[np.ndarray]  # per role, shape (n_1, ..., n_K): mean payoff
    cells: dict[tuple[int, ...], Estimate | None] = field(default_factory=dict)
    estimates: list[dict[tuple[int, ...], Estimate]] = field(default_factory=list)
    equilibria: list[Any] = field(default_factory=list)
    alpharank: Any = None
    alpha_converged: float | None = None


@dataclass
class RoleSymGame:
    """The role-symmetric game (players are agents) at one sweep point.

    ``game``: the game over the strategy sets the data name; ``run``: its pure profiles
    that were run with every single deviation (``game.measured()``), alpha-Rank's nodes;
    ``bases``: profile run -> the id of its deviations' base; ``not_pure``: bases whose
    runs are not pure profiles; ``sweep``: alpha-Rank over ``run`` (None for one profile);
    ``epsilon``: the tolerance of the point's equilibria.
    """

    point: int
    point_label: str
    game: RoleSymmetricGame
    run: list[tuple[str, ...]]
    bases: dict[tuple[str, ...], str]
    not_pure: list[str]
    sweep: AlphaSweep | None
    epsilon: float


@dataclass
class PhaseResult:
    """Winner per cell of a two-parameter sweep, for one role.

    ``best_response``: True when the winner is the best response to the baseline (from
    the deviation profiles: one agent's profit playing each strategy against it), False
    when it is the best-paid strategy of the population as written.
    """

    best_response: bool
    role: str
    x_path: str
    y_path: str
    x_values: list[Any]
    y_values: list[Any]
    names: list[str]
    winner: np.ndarray
    overlap: np.ndarray
    honest_eq: np.ndarray | None
    annotations: list[list[str]]
    fixed: list[str] = field(default_factory=list)  # other axes, held at their first value


class Analysis:
    """Everything the report computes from one :class:`ResultSet`."""

    def __init__(self, rs: ResultSet, *, confidence: float = 0.95) -> None:
        self.rs = rs
        self.confidence = confidence
        self.labels = cell_labels(rs)
        self.table = payoff_table(rs.runs)
        self.table["label"] = self.table["cell"].map(self.labels)
        self.axes = rs.axes()
        # sweep points: cells sharing the same overrides (they differ by profile)
        keys: dict[str, int] = {}
        self.point_of: dict[int, int] = {}
        self.point_labels: dict[int, str] = {}
        for k in sorted(rs.cells):
            ov = rs.cells[k].get("overrides") or {}
            key = repr(sorted(ov.items()))
            if key not in keys:
                keys[key] = len(keys)
                self.point_labels[keys[key]] = (
                    ", ".join(f"{path_title(p, rs.config)}={v}" for p, v in ov.items())
                    or "all runs")
            self.point_of[k] = keys[key]
        self.table["point"] = self.table["cell"].map(self.point_of)
        self.roles = self._roles()
        self._estimates: dict[tuple[int, str, str], Estimate] = {}
        self._agent_payoffs: dict[str, pd.DataFrame] = {}
        self._deviations: list[DeviationResult] | None = None

    # -- basic facts ----------------------------------------------------------------
    def _roles(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for s, r in zip(self.table["strategy"], self.table["role"], strict=True):
            if r and s not in out:
                out[s] = r
        return out

    def overrides_of_point(self, point: int) -> dict[str, Any]:
        """The swept values of a sweep point (its cells' common overrides)."""
        k = next(c for c, p in self.point_of.items() if p == point)
        return dict(self.rs.cells[k].get("overrides") or {})

    def profile(self, cell: int) -> dict[str, Any] | None:
        """The cell's profile description (None without profiles)."""
        return self.rs.cells.get(cell, {}).get("profile")

    def population_cells(self) -> list[int]:
        """Cells that show the population as written: no profiles, or the baselines."""
        out = []
        for k in sorted(self.rs.cells):
            p = self.profile(k)
            if p is None or p.get("kind") == "baseline":
                out.append(k)
        present = set(self.table["cell"])
        return [k for k in out if k in present]

    def representative_cells(self, limit: int = MAX_PANEL_CELLS) -> list[int]:
        """At most ``limit`` population cells, evenly spread over the sweep."""
        cells = self.population_cells() or sorted(set(self.table["cell"]))
        if len(cells) <= limit:
            return cells
        idx = np.unique(np.linspace(0, len(cells) - 1, limit).round().astype(int))
        return [cells[i] for i in idx]

    def agent_payoffs_of(self, run: RunData) -> pd.DataFrame:
        """``analysis.payoffs.agent_payoffs`` of a run (cached)."""
        if run.run_id not in self._agent_payoffs:
            self._agent_payoffs[run.run_id] = agent_payoffs(
                run.agents, warmup=run.warmup, epochs_per_day=run.epochs_per_day)
        return self._agent_payoffs[run.run_id]

    def runs_of(self, cell: int) -> list[RunData]:
        """The cell's runs, by seed index."""
        return [r for r in self.rs.runs if r.cell == cell]

    def estimate(self, cell: int, strategy: str, value: str = "profit_usd_per_day") -> Estimate:
        """Mean across seeds of one payoff measure of ``strategy`` in ``cell`` (``mean_ci``,
        cached)."""
        key = (cell, strategy, value)
        if key not in self._estimates:
            self._estimates[key] = self._estimate(cell, strategy, value)
        return self._estimates[key]

    def _estimate(self, cell: int, strategy: str, value: str) -> Estimate:
        x = self.table.loc[(self.table["cell"] == cell) & (self.table["strategy"] == strategy),
                           value].to_numpy(float)
        return mean_ci(x, confidence=self.confidence)

    def strategies_of(self, cell: int) -> list[str]:
        """Strategies with a finite payoff in ``cell``, role order then name."""
        sub = self.table[(self.table["cell"] == cell)
                         & np.isfinite(self.table["profit_usd_per_day"])]
        order = {"validator": 0, "miner": 1, "delegator": 2, "": 3}
        return sorted(set(sub["strategy"]), key=lambda s: (order.get(self.roles.get(s, ""), 3), s))

    # -- time series ------------------------------------------------------------------
    def series(self, cell: int, column: str, cumulative: bool = False) -> F.Band | None:
        """Mean across the cell's seeds of a per-epoch metric, with a pointwise band."""
        runs = self.runs_of(cell)
        cols = [r.metrics[column].to_numpy(float) for r in runs if column in r.metrics]
        if not cols:
            return None
        t = min(len(c) for c in cols)
        arr = np.vstack([c[:t] for c in cols])
        if cumulative:
            arr = np.cumsum(np.nan_to_num(arr, nan=0.0), axis=1)
        epochs = runs[0].metrics["epoch"].to_numpy(float)[:t]
        mean, lo, hi = _t_band(arr, self.confidence)
        return F.Band(column, epochs, mean, lo, hi)

    # -- deviations ------------------------------------------------------------------
    def deviations(self) -> list[DeviationResult]:
        """Deviation gains from the baseline at every sweep point with deviation profiles,
        each against the deviator's own cohort in the paired baseline run
        (``analysis.deviations``)."""
        if self._deviations is None:
            self._deviations = deviation_results(self.rs, self.point_of, self.point_labels,
                                                 self.agent_payoffs_of,
                                                 confidence=self.confidence)
        return self._deviations

    # -- the role-symmetric game ----------------------------------------------------------
    def pure_profile(self, cell: int, roles: list[str]) -> tuple[str, ...] | None:
        """The strategy every agent of each role plays in ``cell`` (miners and validators:
        on the profiles' subnet), from the per-agent records of its first run; None when a
        role plays more than one (the cell is not a pure role-symmetric profile)."""
        runs = [r for r in self.runs_of(cell) if r.agents is not None and not r.agents.empty]
        if not runs:
            return None
        ag = runs[0].agents
        ag = ag[ag["epoch"] == ag["epoch"].min()]
        subnet = int((self.rs.config.get("profiles") or {}).get("subnet", 0))
        out = []
        for role in roles:
            sel = ag[ag["role"] == role]
            if role != "delegator" and "netuid" in sel:
                sel = sel[sel["netuid"] == subnet]
            names = sorted(set(sel["strategy"]))
            if len(names) != 1:
                return None
            out.append(names[0])
        return tuple(out)

    def role_symmetric(self) -> list[RoleSymGame]:
        """Per sweep point with deviation profiles, the role-symmetric game (players are
        agents) of its pure profiles and their single deviations
        (:mod:`analysis.game.rolesym`), with alpha-Rank over the profiles run, swept to its
        large-alpha limit, when there is more than one."""
        by_point: dict[int, list[DeviationResult]] = {}
        for d in self.deviations():
            by_point.setdefault(d.point, []).append(d)
        out = []
        for point, results in sorted(by_point.items()):
            roles = list(dict.fromkeys(x.role for d in results for x in d.deviations))
            sets: dict[str, list[str]] = {r: [] for r in roles}
            gains, upper, lower, bases, not_pure = {}, {}, {}, {}, []
            for d in results:
                prof = self.pure_profile(d.baseline_cell, roles)
                if prof is None:
                    not_pure.append(d.base)
                    continue
                bases[prof] = d.base
                for k, s in enumerate(prof):
                    sets[roles[k]].append(s)
                for x in d.deviations:
                    k = roles.index(x.role)
                    sets[x.role].append(x.target)
                    gains[(prof, k, x.target)] = x.gain.mean
                    upper[(prof, k, x.target)] = x.gain.high
                    # a sample with no variation across seeds establishes nothing, and a
                    # target that behaves as an earlier one here is that move, not another
                    lower[(prof, k, x.target)] = (x.gain.low if x.gain.varies
                                                  and not x.same_as else math.nan)
            if not bases:
                continue
            game = role_symmetric_game(roles, [sets[r] for r in roles], gains, upper, lower)
            run = game.measured()
            sweep = (rolesym_alpharank_sweep(game, profiles=run) if len(run) > 1 else None)
            out.append(RoleSymGame(point, results[0].point_label, game, run, bases,
                                   not_pure, sweep, results[0].epsilon))
        return out

    # -- the empirical game -----------------------------------------------------------
    def games(self) -> list[GameResult]:
        """The monomorphic-profile game at every sweep point that has one."""
        by_point: dict[int, list[tuple[int, dict[str, str]]]] = {}
        for k in sorted(self.rs.cells):
            p = self.profile(k)
            if p and p.get("kind") == "monomorphic" and k in set(self.table["cell"]):
                by_point.setdefault(self.point_of[k], []).append((k, p["strategies"]))
        out = []
        for point, cells in sorted(by_point.items()):
            roles = list(cells[0][1])
            strategies = [list(dict.fromkeys(c[1][r] for c in cells)) for r in roles]
            shape = tuple(len(s) for s in strategies)
            pay = [np.full(shape, np.nan) for _ in roles]
            ests: list[dict[tuple[int, ...], Estimate]] = [{} for _ in roles]
            for cell, chosen in cells:
                idx = tuple(strategies[i].index(chosen[r]) for i, r in enumerate(roles))
                for i, r in enumerate(roles):
                    e = self.estimate(cell, chosen[r])
                    pay[i][idx] = e.mean
                    ests[i][idx] = e
            g = GameResult(point, self.point_labels[point], roles, strategies, pay,
                           estimates=ests)
            complete = all(np.all(np.isfinite(p)) for p in pay)
            if complete and len(roles) >= 2:
                sw = alpharank_sweep(pay)
                g.alpharank, g.alpha_converged = sw.final, sw.converged_alpha
            if complete and len(roles) == 2:
                g.equilibria = find_equilibria(pay[0], pay[1], rng=0, n_starts=64)
            out.append(g)
        return out

    # -- phase diagrams -----------------------------------------------------------------
    def phases(self, deviations: list[DeviationResult]) -> list[PhaseResult]:
        """Winner per role over the first two swept parameters (others at their first value)."""
        if len(self.axes) < 2:
            return []
        # the last axis varies fastest in the sweep: it goes along x
        xa, ya = self.axes[-1], self.axes[-2]
        xs, ys = xa.values, ya.values
        fixed = [(a, a.values[0]) for a in self.axes[:-2]]
        dev_by_point = {d.point: d for d in deviations}
        cells = self.population_cells()
        where: dict[tuple[int, int], int] = {}
        for k in cells:
            ov = self.rs.cells[k].get("overrides") or {}
            if any(a.coord(ov) != v for a, v in fixed):
                continue
            where[(ys.index(ya.coord(ov)), xs.index(xa.coord(ov)))] = k
        out = []
        for role in ("miner", "validator", "delegator"):
            by_dev = bool(dev_by_point) and any(role in d.roles for d in deviations)
            if by_dev:  # the best response to the baseline, among the role's deviations
                names = sorted({s for d in deviations for s in d.responses(role)})
            else:  # the best-paid strategy in the population as written
                names = sorted({s for s, r in self.roles.items() if r == role
                                and s in set(self.table.loc[self.table["cell"].isin(cells),
                                                            "strategy"])})
            if len(names) < 2:
                continue
            win = np.full((len(ys), len(xs)), -1)
            ovl = np.zeros((len(ys), len(xs)), dtype=bool)
            heq = np.full((len(ys), len(xs)), np.nan)
            ann = [["" for _ in xs] for _ in ys]
            for (i, j), k in where.items():
                d = dev_by_point.get(self.point_of[k])
                if by_dev:
                    if d is None:
                        continue
                    w, ru, overlap, lead = _best(d.responses(role))
                else:
                    w, ru, overlap, lead = self._winner(k, names)
                if w is None:
                    continue
                win[i, j] = names.index(w)
                ovl[i, j] = overlap
                ann[i][j] = f"{w}\n+{fmt(lead, '$')}/d" if ru else w
                honest = [s for s in names if s.startswith("honest")]
                if d is not None and role in d.roles:
                    heq[i, j] = float(d.is_equilibrium(role))
                elif honest:
                    heq[i, j] = float(w in honest or (overlap and ru in honest))
            cfg = self.rs.config
            out.append(PhaseResult(by_dev, role, axis_title(xa.paths, cfg),
                                   axis_title(ya.paths, cfg), [xa.label(v) for v in xs],
                                   [ya.label(v) for v in ys], names, win, ovl,
                                   heq if np.any(np.isfinite(heq)) else None, ann,
                                   [f"{axis_title(a.paths, cfg)} = {a.label(v)}"
                                    for a, v in fixed]))
        return out

    def _winner(self, cell: int, names: list[str]) -> tuple[str | None, str | None, bool, float]:
        """(winner, runner-up, lead not significant, lead in $/day) among ``names``."""
        means = {s: self.estimate(cell, s).mean for s in names}
        ok = sorted((s for s in names if np.isfinite(means[s])), key=lambda s: -means[s])
        if not ok:
            return None, None, False, math.nan
        if len(ok) == 1:
            return ok[0], None, False, math.nan
        w, ru = ok[0], ok[1]
        seeds, a, b = paired_samples(self.table, "profit_usd_per_day",
                                     {"cell": cell, "strategy": w},
                                     {"cell": cell, "strategy": ru})
        return w, ru, not beats(a, b), float(np.mean(a - b)) if len(seeds) else math.nan

    # -- coalitions -------------------------------------------------------------------
    def coalitions(self) -> pd.DataFrame:
        """Per run, cabal and role: the cabal's size and validator stake share (of all
        validator stake, at the first record after the warm-up), its members' mean profit per
        day and the non-members' of the same role (validators: per 1,000 TAO staked)."""
        rows = []
        for r in self.rs.runs:
            if r.agents is None or r.agents.empty or "cabal" not in r.agents:
                continue
            if not (r.agents["cabal"] >= 0).any():
                continue
            ap = self.agent_payoffs_of(r)
            val = ap[ap["role"] == "validator"]
            total_stake = float(val["stake_tao"].sum())
            for cab, grp in ap[ap["cabal"] >= 0].groupby("cabal"):
                share = (float(grp.loc[grp["role"] == "validator", "stake_tao"].sum())
                         / total_stake if total_stake > 0 else 0.0)
                for role, g in grp.groupby("role"):
                    others = ap[(ap["cabal"] < 0) & (ap["role"] == role)]
                    rows.append({"cell": r.cell, "seed_index": r.seed_index,
                                 "profile": str((self.profile(r.cell) or {}).get("id") or ""),
                                 "cabal": int(cab), "role": role, "size": len(grp),
                                 "stake_share": round(share, 3),
                                 "members_of_role": len(g),
                                 "member_profit": _per_unit(g, role),
                                 "nonmember_profit": _per_unit(others, role)
                                 if len(others) else math.nan})
        return pd.DataFrame(rows)


def _per_unit(agents: pd.DataFrame, role: str) -> float:
    """Mean profit per day of ``agents``; for validators per 1,000 TAO of their stake (a
    cabal of 20k-TAO validators is not compared with non-members that include 200k-TAO
    ones, whose profit is larger only for their stake)."""
    profit = float(agents["profit_usd_per_day"].mean())
    if role != "validator":
        return profit
    stake = float(agents["stake_tao"].mean())
    return profit / stake * STAKE_UNIT_TAO if stake > 0 else math.nan


def _best(samples: dict[str, np.ndarray]) -> tuple[str | None, str | None, bool, float]:
    """(winner, runner-up, lead not significant, lead) of per-seed samples paired by seed."""
    if not samples:
        return None, None, False, math.nan
    order = sorted(samples, key=lambda s: -float(np.mean(samples[s])))
    if len(order) == 1:
        return order[0], None, False, math.nan
    w, ru = order[0], order[1]
    return w, ru, not beats(samples[w], samples[ru]), float(np.mean(samples[w] - samples[ru]))


def beats(a: np.ndarray, b: np.ndarray) -> bool:
    """Per-seed payoffs ``a`` beat ``b`` (paired by seed): the 95% interval of ``a - b``
    lies above 0, the seeds vary, and the mean lead exceeds the minimum effect size
    (``analysis.deviations.MIN_EFFECT_SHARE`` of the smaller payoff)."""
    if len(a) < 2:
        return False
    e = mean_ci(np.asarray(a, float) - np.asarray(b, float))
    floor = MIN_EFFECT_SHARE * min(abs(float(np.mean(a))), abs(float(np.mean(b))))
    return e.varies and e.low > 0.0 and e.mean > floor


