"""Deviation gains against the deviator's own counterfactual, and epsilon-equilibria.

A deviation profile (``profiles: deviations: true``) is the baseline with one agent of a
named cohort (a population entry) switched to another strategy; the runner records the
cohort it left (``cohort``) and the cohort it forms (``deviator_cohort``) in the profile,
and every per-agent record carries its ``cohort``. The deviator's **gain** in one seed is
its profit per day in the deviation run minus the mean profit per day of the agents of the
*same cohort* in the baseline run of the *same seed* (Wellman 2006, "Methods for empirical
game-theoretic analysis"; the paired baseline is common random numbers, Law 2015 sec.
11.2). Never a role average: a 20k-TAO validator's counterfactual is a 20k-TAO validator,
not the mean of validators that include 200k-TAO ones.

Payoffs are per-agent (``analysis.payoffs.agent_payoffs``): an agent that exits or is
deregistered earns 0 for the rest of the run and keeps the costs it paid (survivorship).
Per unit of stake: the gain over the cohort's stake at the start of the window, in USD/day
per 1,000 TAO (validators; NaN where the cohort holds no stake).

Statistics over seeds (the unit of replication): the gain's interval is
``analysis.stats.mean_ci``; a one-sided paired t-test (H1: gain > 0), Holm-corrected over
the deviations of one sweep point; a deviation is *significant* only when Holm rejects and
the gain exceeds the minimum effect size (:data:`MIN_EFFECT_SHARE` of the smaller of the
two payoffs). A gain with no variation across seeds has no p-value and is never
significant by itself. A deviation whose runs are behaviourally identical to another's
(every agent's income and stake equal, epoch by epoch, in every seed) is flagged
``same_as`` that strategy: a degenerate strategy in this profile, never a separate finding.

The baseline is an **epsilon-equilibrium** of the empirical game when the upper bound of
every deviation's gain lies below epsilon (Tuyls et al. 2020, "Bounds and dynamics for
empirical game theoretic analysis", AAMAS J. 34:7): epsilon is :data:`EPSILON_USD_PER_DAY`
or :data:`EPSILON_SHARE` of the smallest deviating cohort's baseline income, whichever is
larger. Absence of a significant gain is not enough.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.results import ResultSet, RunData
from analysis.stats import Estimate, holm, mean_ci

__all__ = [
    "EPSILON_SHARE",
    "EPSILON_USD_PER_DAY",
    "MIN_EFFECT_SHARE",
    "Deviation",
    "DeviationResult",
    "cohort_payoffs",
    "deviation_results",
]

EPSILON_USD_PER_DAY = 1.0
"""The smallest tolerance of an epsilon-equilibrium, USD per day."""
EPSILON_SHARE = 0.01
"""Tolerance as a share of the smallest deviating cohort's baseline income per day."""
MIN_EFFECT_SHARE = 0.01
"""A gain counts only when it exceeds this share of the smaller of the two payoffs."""
STAKE_UNIT_TAO = 1000.0
"""Gains per unit of stake are per this many TAO."""

PayoffsOf = Callable[[RunData], pd.DataFrame]


@dataclass
class Deviation:
    """One deviation at one sweep point: ``cohort`` leaves ``source`` for ``target``.

    ``deviator`` / ``baseline``: seed index -> profit per day of the deviating agents in
    the deviation run / of the same cohort in the paired baseline run. ``income``: the
    cohort's baseline income per day (mean over seeds), ``stake_tao``: its agents' mean
    stake at the start of the window.
    """

    cell: int
    role: str
    source: str
    target: str
    cohort: int
    deviator_cohort: int
    deviator: dict[int, float]
    baseline: dict[int, float]
    income: float
    stake_tao: float
    gain: Estimate = field(init=False)
    per_stake: Estimate = field(init=False)
    p_value: float = field(init=False)
    significant: bool = False
    same_as: str | None = None  # an earlier target that behaves identically here
    confidence: float = 0.95  # of the gain's interval

    def __post_init__(self) -> None:
        d = self.gains
        self.gain = mean_ci(d, confidence=self.confidence)
        unit = self.stake_tao / STAKE_UNIT_TAO
        self.per_stake = (mean_ci(d / unit, confidence=self.confidence) if unit > 0 and d.size
                          else Estimate(math.nan, math.nan, math.nan, d.size, "none"))
        self.p_value = (float(sps.ttest_1samp(d, 0.0, alternative="greater").pvalue)
                        if self.gain.varies else math.nan)

    @property
    def seeds(self) -> list[int]:
        """Seed indices with both the deviation and its baseline."""
        return sorted(set(self.deviator) & set(self.baseline))

    @property
    def gains(self) -> np.ndarray:
        """The paired gain of each of :attr:`seeds` (deviator minus its cohort's baseline)."""
        return np.array([self.deviator[s] - self.baseline[s] for s in self.seeds], dtype=float)

    @property
    def label(self) -> str:
        """``role: source -> target``."""
        return f"{self.role}: {self.source} -> {self.target}"

    @property
    def min_effect(self) -> float:
        """The smallest gain that counts (:data:`MIN_EFFECT_SHARE` of the smaller payoff)."""
        a = abs(float(np.mean([self.deviator[s] for s in self.seeds])))
        b = abs(float(np.mean([self.baseline[s] for s in self.seeds])))
        return MIN_EFFECT_SHARE * min(a, b)


@dataclass
class DeviationResult:
    """Every single deviation from one profile (``base``: ``"baseline"``, the population
    as written, or a pure profile's id) at one sweep point, with the profile's epsilon."""

    point: int
    point_label: str
    overrides: dict[str, Any]
    baseline_cell: int
    deviations: list[Deviation]
    base: str = "baseline"

    @property
    def n_seeds(self) -> int:
        """Seeds paired in every deviation."""
        return min((len(d.seeds) for d in self.deviations), default=0)

    @property
    def epsilon(self) -> float:
        """The tolerance of the epsilon-equilibrium test, USD per day."""
        incomes = [abs(d.income) for d in self.deviations if np.isfinite(d.income)]
        return max(EPSILON_USD_PER_DAY, EPSILON_SHARE * min(incomes, default=0.0))

    @property
    def max_gain_upper(self) -> float:
        """The largest upper bound of a deviation gain (NaN when one has no interval)."""
        highs = [d.gain.high for d in self.deviations]
        return float(max(highs)) if highs and all(np.isfinite(highs)) else math.nan

    def is_equilibrium(self, role: str | None = None) -> bool:
        """True when the upper bound of every deviation gain (of ``role``) is below epsilon:
        the baseline is an epsilon-equilibrium (for that role's deviations)."""
        devs = [d for d in self.deviations if role is None or d.role == role]
        eps = self.epsilon
        return bool(devs) and all(np.isfinite(d.gain.high) and d.gain.high < eps
                                  for d in devs)

    @property
    def best(self) -> Deviation:
        """The deviation with the largest mean gain."""
        return max(self.deviations, key=lambda d: d.gain.mean)

    def responses(self, role: str) -> dict[str, np.ndarray]:
        """Per strategy of ``role``, the per-seed profit of one agent of the deviating cohort
        playing it against the baseline: the strategy it left and each deviation (seeds
        common to all, in order; a strategy flagged ``same_as`` another is left out)."""
        devs = [d for d in self.deviations if d.role == role and d.same_as is None]
        if not devs:
            return {}
        seeds = sorted(set.intersection(*(set(d.seeds) for d in devs)))
        out: dict[str, np.ndarray] = {}
        for d in devs:
            out.setdefault(d.source, np.array([d.baseline[s] for s in seeds]))
            out[d.target] = np.array([d.deviator[s] for s in seeds])
        return out

    @property
    def roles(self) -> list[str]:
        """The roles that deviate here."""
        return list(dict.fromkeys(d.role for d in self.deviations))


def cohort_payoffs(ap: pd.DataFrame, cohort: int) -> tuple[float, float, float]:
    """(profit per day, income per day, stake) of a cohort's agents, means over them."""
    sel = ap[ap["cohort"] == cohort]
    if sel.empty:
        return math.nan, math.nan, math.nan
    return (float(sel["profit_usd_per_day"].mean()), float(sel["income_usd_per_day"].mean()),
            float(sel["stake_tao"].mean()))


def _cohorts(p: dict[str, Any], base: pd.DataFrame, dev: pd.DataFrame) -> tuple[int, int]:
    """(source cohort, deviator cohort) of a deviation profile; manifests written before
    profiles named them: the first cohort playing the source in the baseline and the last
    playing the target in the deviation run (the deviators are appended last)."""
    if "cohort" in p and "deviator_cohort" in p:
        return int(p["cohort"]), int(p["deviator_cohort"])
    src = base.loc[(base["strategy"] == p["from"]) & (base["cohort"] >= 0), "cohort"]
    tgt = dev.loc[(dev["strategy"] == p["strategy"]) & (dev["cohort"] >= 0), "cohort"]
    return int(src.min()), int(tgt.max())


BEHAVIOUR = ("epoch", "account", "uid", "income_tao", "stake_tao")
"""What two strategies must give every agent, epoch by epoch, to behave identically."""


def identical_behaviour(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """True when two runs' per-agent records agree on every agent's :data:`BEHAVIOUR`
    columns (same answers and weights give everyone the same income and stake)."""
    cols = [c for c in BEHAVIOUR if c in a and c in b]
    if len(a) != len(b) or "income_tao" not in cols:
        return False
    return bool(a[cols].reset_index(drop=True).equals(b[cols].reset_index(drop=True)))


def _flag_identical(devs: list[Deviation], runs: dict[int, dict[int, RunData]]) -> None:
    """Mark each deviation whose runs are, seed by seed, behaviourally identical to an
    earlier deviation's of the same role (e.g. a one-member copy cabal and a pass-through
    miner): a degenerate strategy in this profile, not a separate finding."""
    for j, b in enumerate(devs):
        for a in devs[:j]:
            if a.role != b.role or a.same_as is not None:
                continue
            seeds = sorted(set(runs[a.cell]) & set(runs[b.cell]))
            if seeds and all(identical_behaviour(runs[a.cell][s].agents,  # type: ignore[arg-type]
                                                 runs[b.cell][s].agents) for s in seeds):
                b.same_as = a.target
                break


def deviation_results(rs: ResultSet, point_of: dict[int, int], point_labels: dict[int, str],
                      payoffs_of: PayoffsOf, *, confidence: float = 0.95
                      ) -> list[DeviationResult]:
    """The deviations of every sweep point from every profile they deviate from (the
    baseline, and the pure profiles of ``profiles: pure``), baseline first.

    ``point_of``: cell -> sweep point; ``payoffs_of(run)``: the run's per-agent payoffs
    (with ``cohort``); ``confidence``: of every gain's interval. Points whose runs have no
    per-agent records or no ``cohort`` column are left out (a cohort counterfactual needs
    both).
    """
    by_point: dict[tuple[int, str], dict[str, Any]] = {}
    ids = {}
    for k in sorted(rs.cells):
        p = rs.cells[k].get("profile") or {}
        if p.get("id"):
            ids[(point_of[k], p["id"])] = k
        if p.get("kind") == "deviation":
            key = (point_of[k], str(p.get("base", "baseline")))
            by_point.setdefault(key, {"devs": []})["devs"].append((k, p))
    for (point, base), d in by_point.items():
        d["baseline"] = ids.get((point, base))
    runs: dict[int, dict[int, RunData]] = {}
    for r in rs.runs:
        if r.agents is not None and not r.agents.empty and "cohort" in r.agents:
            runs.setdefault(r.cell, {})[r.seed_index] = r
    out = []
    for (point, base_id), d in sorted(by_point.items(), key=lambda kv: (
            kv[0][0], kv[0][1] != "baseline", kv[0][1])):
        base = d["baseline"]
        if base is None or base not in runs:
            continue
        devs = []
        for cell, p in d["devs"]:
            if cell not in runs:
                continue
            seeds = sorted(set(runs[cell]) & set(runs[base]))
            if not seeds:
                continue
            s0 = seeds[0]
            src, tgt = _cohorts(p, payoffs_of(runs[base][s0]), payoffs_of(runs[cell][s0]))
            dv, bv, inc, stake = {}, {}, [], []
            for s in seeds:
                b_profit, b_income, b_stake = cohort_payoffs(payoffs_of(runs[base][s]), src)
                d_profit = cohort_payoffs(payoffs_of(runs[cell][s]), tgt)[0]
                if np.isfinite(b_profit) and np.isfinite(d_profit):
                    dv[s], bv[s] = d_profit, b_profit
                    inc.append(b_income)
                    stake.append(b_stake)
            if dv:
                devs.append(Deviation(cell, str(p.get("role")), str(p.get("from")),
                                      str(p.get("strategy")), src, tgt, dv, bv,
                                      float(np.mean(inc)), float(np.nanmean(stake)),
                                      confidence=confidence))
        if not devs:
            continue
        _flag_identical(devs, runs)
        ps = [dv.p_value for dv in devs]
        finite = [i for i, pv in enumerate(ps) if np.isfinite(pv)]
        if finite:
            rej = holm([ps[i] for i in finite]).reject
            for i, r in zip(finite, rej, strict=True):
                devs[i].significant = (bool(r) and devs[i].gain.mean > devs[i].min_effect
                                       and devs[i].same_as is None)
        out.append(DeviationResult(point, point_labels[point],
                                   dict(rs.cells[base].get("overrides") or {}), base, devs,
                                   base_id))
    return out
