"""Everything the report computes from one result set (the ``Analysis`` of a ResultSet):
payoffs, deviation gains, the empirical game, phase diagrams and coalitions."""


import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis import figures as F
from analysis.game import (
    alpharank_sweep,
    deviation_regret,
    find_equilibria,
)
from analysis.payoffs import (
    ResultSet,
    RunData,
    agent_payoffs,
    paired_samples,
    payoff_table,
)
from analysis.report.format import _t_band, axis_title, cell_labels, fmt, path_title
from analysis.stats import Estimate, bootstrap_ci, holm, paired_difference

MAX_PANEL_CELLS = 6
N_RESAMPLES = 4999




@dataclass
class DeviationResult:
    """Deviation gains from the baseline (all-honest) profile at one sweep point."""

    point: int
    point_label: str
    labels: list[str]  # "role: from -> to"
    gains: list[Estimate]
    max_gain: Estimate
    best: int
    pvalues: list[float]
    holm_reject: list[bool]
    n_seeds: int
    roles: list[str] = field(default_factory=list)  # per deviation: the deviator's role
    sources: list[str] = field(default_factory=list)  # per deviation: the strategy it left
    targets: list[str] = field(default_factory=list)  # per deviation: the one it played
    deviator: np.ndarray | None = None  # (n_dev, n_seeds) deviator's profit per day
    baseline: np.ndarray | None = None  # (n_dev, n_seeds) its profit in the baseline

    @property
    def honest_is_equilibrium(self) -> bool:
        """No deviation gains significantly (Holm-corrected, one-sided 5%)."""
        return not any(self.holm_reject)

    def honest_for(self, role: str) -> bool:
        """No deviation of ``role`` gains significantly: honest play is a best response of
        that role (the baseline is an equilibrium when this holds for every role)."""
        return not any(r for r, ro in zip(self.holm_reject, self.roles, strict=True)
                       if ro == role)

    def responses(self, role: str) -> dict[str, np.ndarray]:
        """Per strategy of ``role``, the per-seed profit of one agent playing it against
        the baseline: the strategy it left (its baseline payoff) and each deviation."""
        out: dict[str, np.ndarray] = {}
        if self.deviator is None or self.baseline is None:
            return out
        for i, r in enumerate(self.roles):
            if r != role:
                continue
            out.setdefault(self.sources[i], self.baseline[i])
            out[self.targets[i]] = self.deviator[i]
        return out


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

    # -- basic facts ----------------------------------------------------------------
    def _roles(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for s, r in zip(self.table["strategy"], self.table["role"], strict=True):
            if r and s not in out:
                out[s] = r
        return out

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
        """Mean across seeds of one payoff measure of ``strategy`` in ``cell`` (BCa, cached)."""
        key = (cell, strategy, value)
        if key not in self._estimates:
            self._estimates[key] = self._estimate(cell, strategy, value)
        return self._estimates[key]

    def _estimate(self, cell: int, strategy: str, value: str) -> Estimate:
        x = self.table.loc[(self.table["cell"] == cell) & (self.table["strategy"] == strategy),
                           value].to_numpy(float)
        x = x[np.isfinite(x)]
        if x.size == 0:
            return Estimate(math.nan, math.nan, math.nan, 0, "none", self.confidence)
        if x.size == 1:
            return Estimate(float(x[0]), math.nan, math.nan, 1, "none", self.confidence)
        return bootstrap_ci(x, confidence=self.confidence, n_resamples=N_RESAMPLES, rng=0)

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
        """Deviation gains from the baseline at every sweep point with deviation profiles."""
        out = []
        by_point: dict[int, dict[str, Any]] = {}
        for k in sorted(self.rs.cells):
            p = self.profile(k)
            if not p or p.get("kind") not in ("baseline", "deviation"):
                continue
            d = by_point.setdefault(self.point_of[k], {"baseline": None, "devs": []})
            if p["kind"] == "baseline":
                d["baseline"] = k
            else:
                d["devs"].append((k, p))
        for point, d in sorted(by_point.items()):
            if d["baseline"] is None or not d["devs"]:
                continue
            res = self._deviation_at(point, d["baseline"], d["devs"])
            if res is not None:
                out.append(res)
        return out

    def _per_seed_agent_payoff(self, cell: int, pick: Any) -> dict[int, float]:
        """Seed index -> mean per-agent profit per day of the agents ``pick`` selects."""
        out: dict[int, float] = {}
        for r in self.runs_of(cell):
            if r.agents is None or r.agents.empty:
                continue
            ap = self.agent_payoffs_of(r)
            first_epoch = r.agents["epoch"].min()
            first = r.agents[r.agents["epoch"] == first_epoch]
            accts = pick(first)
            vals = ap.loc[ap["account"].isin(accts), "profit_usd_per_day"].to_numpy(float)
            if vals.size:
                out[r.seed_index] = float(np.mean(vals))
        return out

    def _deviation_at(self, point: int, base: int, devs: list[tuple[int, dict[str, Any]]]
                      ) -> DeviationResult | None:
        rows_dev, rows_base, labels, meta = [], [], [], []
        for cell, p in devs:
            alt, src, role, k = p["strategy"], p.get("from"), p.get("role"), p.get("deviators", 1)
            meta.append((role, src, alt))

            def pick_dev(first: pd.DataFrame, alt: str = alt, k: int = k) -> np.ndarray:
                # the deviators are the cohort appended last: the newest accounts playing alt
                acc = np.sort(first.loc[first["strategy"] == alt, "account"].to_numpy())
                return acc[-k:]

            def pick_src(first: pd.DataFrame, src: str = src) -> np.ndarray:
                return first.loc[first["strategy"] == src, "account"].to_numpy()

            dv = self._per_seed_agent_payoff(cell, pick_dev)
            bv = self._per_seed_agent_payoff(base, pick_src)
            if not dv or not bv:  # no agent records: the strategies' run payoffs
                seeds, a, b = paired_samples(self.table, "profit_usd_per_day",
                                             {"cell": cell, "strategy": alt},
                                             {"cell": base, "strategy": src})
                dv, bv = dict(zip(seeds, a, strict=True)), dict(zip(seeds, b, strict=True))
            rows_dev.append(dv)
            rows_base.append(bv)
            labels.append(f"{role}: {src} -> {alt}")
        seeds = sorted(set.intersection(*(set(d) & set(b) for d, b in
                                          zip(rows_dev, rows_base, strict=True))))
        if len(seeds) < 2:
            return None
        dev = np.array([[d[s] for s in seeds] for d in rows_dev])
        bas = np.array([[b[s] for s in seeds] for b in rows_base])
        reg = deviation_regret(bas, dev, confidence=self.confidence, n_resamples=N_RESAMPLES,
                               rng=0)
        pvals = [paired_difference(dev[i], bas[i], alternative="greater",
                                   n_resamples=200).p_value for i in range(len(labels))]
        rej = holm(pvals).reject.tolist()
        return DeviationResult(point, self.point_labels[point], labels, reg.gains,
                               reg.max_gain, reg.best_deviation, pvals, rej, len(seeds),
                               [m[0] for m in meta], [m[1] for m in meta],
                               [m[2] for m in meta], dev, bas)

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
                    heq[i, j] = float(d.honest_for(role))
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
        if len(seeds) < 2:
            return w, ru, True, means[w] - means[ru]
        diff = paired_difference(a, b, n_resamples=N_RESAMPLES).diff
        return w, ru, bool(diff.low <= 0.0), diff.mean

    # -- coalitions -------------------------------------------------------------------
    def coalitions(self) -> pd.DataFrame:
        """Per run, cabal and role: the cabal's size and validator stake share (of all
        validator stake, at the first record after the warm-up), its members' mean profit per
        day and the non-members' of the same role."""
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
                                 "cabal": int(cab), "role": role, "size": len(grp),
                                 "stake_share": round(share, 3),
                                 "members_of_role": len(g),
                                 "member_profit": float(g["profit_usd_per_day"].mean()),
                                 "nonmember_profit": float(others["profit_usd_per_day"].mean())
                                 if len(others) else math.nan})
        return pd.DataFrame(rows)


def _best(samples: dict[str, np.ndarray]) -> tuple[str | None, str | None, bool, float]:
    """(winner, runner-up, lead not significant, lead) of per-seed samples paired by seed."""
    if not samples:
        return None, None, False, math.nan
    order = sorted(samples, key=lambda s: -float(np.mean(samples[s])))
    if len(order) == 1:
        return order[0], None, False, math.nan
    w, ru = order[0], order[1]
    diff = paired_difference(samples[w], samples[ru], n_resamples=N_RESAMPLES).diff
    return w, ru, bool(diff.low <= 0.0), diff.mean


