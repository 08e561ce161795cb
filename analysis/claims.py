"""The claims report: a verdict on each of the 12 claims of ../shared/MODEL.md section 7.

Each claim has an experiment in ``experiments/configs/claims/`` (claims 1 and 2 share the
calibration scenario of the report's own setting). For each, this module computes, from
the result files only, a per-cell test of the claim with its numbers, and combines the
cells into a verdict (:func:`combine`):

- **holds**: the claim's prediction is borne out in every tested cell;
- **does not hold**: it fails in every decisive cell;
- **holds in part**: it holds in some cells and fails in others; ``where`` says where
  (e.g. "holds for reveal_period <= 1; not for reveal_period >= 2");
- **inconclusive**: no cell is decisive (every interval straddles the threshold);
- **not run**: no results for the claim's experiment.

A cell is decisive when its 95% interval (BCa bootstrap over seeds, ``analysis.stats``)
lies entirely on one side of the claim's threshold; comparisons between strategies in a
cell are paired by seed (common random numbers). The thresholds are written next to each
claim's test below with the reason for them.

``tao-arena claims RESULTS_ROOT`` writes ``claims.md`` (and per-experiment reports).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.payoffs import Axis, ResultSet, agent_payoffs, find_result_dirs, load_results
from analysis.report import Analysis, axis_title, fmt, fmt_est, report_one
from analysis.stats import Estimate, bootstrap_ci, paired_difference

__all__ = [
    "CLAIMS",
    "CellTest",
    "Claim",
    "Verdict",
    "claims_report",
    "combine",
    "describe_region",
    "estimate",
    "evaluate",
    "interval_test",
]

HOLDS, FAILS, PART, INCONCLUSIVE, NOT_RUN = (
    "holds", "does not hold", "holds in part", "inconclusive", "not run")
N_RESAMPLES = 4999


# --------------------------------------------------------------------------- verdict logic


@dataclass
class CellTest:
    """The claim tested in one cell of a sweep.

    Attributes:
        coords: axis name -> value label of the cell (empty without a sweep).
        outcome: True (the claim holds here), False (it fails here), None (inconclusive).
        detail: the numbers behind the outcome, for the report.
        tested: False for cells outside the claim's premise (reported, not judged).
    """

    coords: dict[str, str]
    outcome: bool | None
    detail: str
    tested: bool = True


@dataclass
class Verdict:
    """A claim's verdict with the numbers behind it."""

    claim: int
    title: str
    status: str
    where: str
    numbers: list[str]
    experiments: list[str]
    cells: list[CellTest] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def interval_test(est: Estimate, threshold: float, *, above: bool = True) -> bool | None:
    """True if the interval lies entirely above ``threshold`` (below if ``above=False``),
    False if entirely on the other side, None if it straddles it (or has no interval:
    then the point estimate decides only when the interval is degenerate)."""
    lo, hi = est.low, est.high
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    if above:
        return True if lo > threshold else (False if hi < threshold else None)
    return True if hi < threshold else (False if lo > threshold else None)


def estimate(samples: Sequence[float] | np.ndarray) -> Estimate:
    """Mean of per-seed samples with a 95% BCa interval (NaNs dropped; none: NaN)."""
    x = np.asarray(samples, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, "none")
    if x.size == 1:
        return Estimate(float(x[0]), math.nan, math.nan, 1, "none")
    return bootstrap_ci(x, n_resamples=N_RESAMPLES, rng=0)


def describe_region(cells: Sequence[CellTest], axes_order: Sequence[str]) -> str:
    """Where the claim holds, in words, from the tested cells' outcomes.

    One axis: "holds for X <= v" / "X >= v" when the cells where it holds form a prefix
    or suffix of the axis' values, else "holds for X in {...}". Several axes: one such
    phrase along the last axis for each combination of the others.
    """
    tested = [c for c in cells if c.tested]
    if not tested or not axes_order:
        return ""
    if all(c.outcome is True for c in tested):
        return f"in every cell tested ({len(tested)})"
    # an outcome that depends on one axis alone is described along that axis only
    for axis in [*axes_order[::-1]]:
        by_value: dict[str, set[bool | None]] = {}
        for c in tested:
            by_value.setdefault(c.coords.get(axis, ""), set()).add(c.outcome)
        if len(axes_order) > 1 and all(len(v) == 1 for v in by_value.values()) \
                and len(by_value) > 1:
            firsts = {}
            for c in tested:
                firsts.setdefault(c.coords.get(axis, ""), c)
            return _along(list(firsts.values()), axis)
    last = axes_order[-1]
    others = list(axes_order[:-1])
    groups: dict[tuple[str, ...], list[CellTest]] = {}
    for c in tested:
        groups.setdefault(tuple(c.coords.get(a, "") for a in others), []).append(c)
    phrases: dict[str, list[tuple[str, ...]]] = {}
    for key, grp in groups.items():
        phrases.setdefault(_along(grp, last), []).append(key)
    if not others:
        return "; ".join(phrases)
    parts = []
    for phrase, keys in phrases.items():
        if len(others) == 1:
            vals = [k[0] for k in keys]
            at = f"{others[0]} = {vals[0]}" if len(vals) == 1 else \
                f"{others[0]} in {{{', '.join(vals)}}}"
        else:
            at = " or ".join("(" + ", ".join(f"{a} = {v}" for a, v in
                                             zip(others, k, strict=True)) + ")" for k in keys)
        parts.append(f"at {at}: {phrase}")
    return "; ".join(parts)


def _along(cells: Sequence[CellTest], axis: str) -> str:
    values = [c.coords.get(axis, "") for c in cells]
    marks = [c.outcome for c in cells]
    yes = [v for v, m in zip(values, marks, strict=True) if m is True]
    no = [v for v, m in zip(values, marks, strict=True) if m is False]
    unk = [v for v, m in zip(values, marks, strict=True) if m is None]
    if not no and not unk:
        return f"holds for every {axis}"
    if not yes and not unk:
        return f"does not hold for any {axis}"
    n = len(values)
    k = len(yes)
    out = ""
    numeric = all(_is_number(v) for v in values)
    if not numeric:
        out = f"holds for {axis} in {{{', '.join(yes)}}}" if k else "holds nowhere"
    elif k and all(m is True for m in marks[:k]) and all(m is not True for m in marks[k:]):
        out = f"holds for {axis} <= {values[k - 1]}"
    elif k and all(m is True for m in marks[n - k:]) and all(m is not True for m in marks[:n - k]):
        out = f"holds for {axis} >= {values[n - k]}"
    elif k:
        out = f"holds for {axis} in {{{', '.join(yes)}}}"
    else:
        out = "holds nowhere"
    if no:
        out += f", not for {{{', '.join(no)}}}"
    if unk:
        out += f", inconclusive for {{{', '.join(unk)}}}"
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text not in ("True", "False")


def combine(cells: Sequence[CellTest], axes_order: Sequence[str] = ()) -> tuple[str, str]:
    """(status, where) of a claim from its cell tests (see the module docstring)."""
    tested = [c for c in cells if c.tested]
    if not tested:
        return NOT_RUN, "no cell tests the claim"
    yes = sum(c.outcome is True for c in tested)
    no = sum(c.outcome is False for c in tested)
    unk = sum(c.outcome is None for c in tested)
    region = describe_region(tested, axes_order)
    if yes == 0 and no == 0:
        return INCONCLUSIVE, region
    if no == 0 and unk == 0:
        return HOLDS, region
    if yes == 0 and unk == 0:
        return FAILS, region
    if yes == 0:
        return FAILS, region
    return PART, region


# --------------------------------------------------------------------------- helpers


def _ctx(rs: ResultSet) -> tuple[Analysis, list[Axis]]:
    return Analysis(rs), rs.axes()


def _display_path(a: Axis) -> int | None:
    """The path of a zip group that tells its values apart (the last such), or None."""
    for i in range(len(a.paths) - 1, -1, -1):
        vals = [v[i] for v in a.values]
        if len(set(map(repr, vals))) == len(vals):
            return i
    return None


def _coords(rs: ResultSet, axes: list[Axis], overrides: dict[str, Any]) -> dict[str, str]:
    """A cell's coordinates: readable axis name -> value label. A zip group is shown by
    the one path whose values tell its cells apart, when there is one."""
    out = {}
    for a in axes:
        v = a.coord(overrides)
        if v is None:
            continue
        i = _display_path(a) if len(a.paths) > 1 else None
        if i is None:
            out[axis_title(a.paths, rs.config)] = a.label(v)
        else:
            out[axis_title([a.paths[i]], rs.config)] = str(v[i])
    return out


def _order(rs: ResultSet, axes: list[Axis]) -> list[str]:
    out = []
    for a in axes:
        i = _display_path(a) if len(a.paths) > 1 else None
        out.append(axis_title(a.paths if i is None else [a.paths[i]], rs.config))
    return out


def cell_population(config: dict[str, Any], overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """The population of a cell: the config's cohorts with ``population.K...`` overrides."""
    pop = [dict(c, params=dict(c.get("params") or {})) for c in config.get("population", [])]
    for path, value in overrides.items():
        parts = path.split(".")
        if parts[0] != "population":
            continue
        k = int(parts[1])
        if parts[2] == "params":
            pop[k]["params"][parts[3]] = value
        else:
            pop[k][parts[2]] = value
    return pop


def cohort_accounts(agents: pd.DataFrame, population: list[dict[str, Any]]) -> list[np.ndarray]:
    """Accounts of each genesis cohort, from the first per-agent record.

    The world opens the genesis accounts in population order, miners and validators first
    and delegators after them (``world.model.Network._populate``), so the sorted genesis
    accounts split into the cohorts by their counts. Checked against the strategies.
    """
    first = agents[agents["epoch"] == agents["epoch"].min()].sort_values("account")
    order = [i for i, c in enumerate(population) if c.get("subnet") is not None] + \
            [i for i, c in enumerate(population) if c.get("subnet") is None]
    accts = first["account"].to_numpy()
    strat = first["strategy"].to_numpy()
    out: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(population)
    at = 0
    for i in order:
        n = int(population[i]["count"])
        chunk = accts[at:at + n]
        if len(chunk) != n or np.any(strat[at:at + n] != population[i]["strategy"]):
            raise ValueError(f"per-agent records do not match cohort {i} "
                             f"({population[i]['strategy']} x {n})")
        out[i] = chunk
        at += n
    return out


def _post(frame: pd.DataFrame, start: int, end: int | None = None) -> pd.DataFrame:
    m = frame["epoch"] >= start
    if end is not None:
        m &= frame["epoch"] < end
    return frame[m]


def _runs_by_cell(rs: ResultSet) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for r in rs.runs:
        out.setdefault(r.cell, []).append(r)
    return out


def _seed_map(values: dict[int, float]) -> tuple[list[int], np.ndarray]:
    seeds = sorted(values)
    return seeds, np.array([values[s] for s in seeds], dtype=float)


def _paired(a: dict[int, float], b: dict[int, float]) -> Estimate:
    seeds = sorted(set(a) & set(b))
    if len(seeds) < 2:
        return Estimate(math.nan, math.nan, math.nan, len(seeds), "none")
    x = np.array([a[s] for s in seeds])
    y = np.array([b[s] for s in seeds])
    return paired_difference(x, y, n_resamples=N_RESAMPLES).diff


# --------------------------------------------------------------------------- the claims


@dataclass(frozen=True)
class Claim:
    """One claim of MODEL.md section 7: its number, words, experiments and test."""

    number: int
    title: str
    experiments: tuple[str, ...]
    test: Callable[[list[ResultSet]], Verdict]


def _claim1(sets: list[ResultSet]) -> Verdict:
    """Claim 1 on the calibration: validators' and miners' daily income (USD).

    Income, not profit: the report's figures are earnings (it had no costs). Per seed: the
    validators' mean over the miners' mean; whether the top three earners are validators;
    the best miner; the middling validator among those above the best miner (the report's
    "middle of the pack validator" in the list above the first miner); miners at ranks 28
    and 151. Holds when the ratio's interval lies above 2 (a "wide margin": at least twice)
    and the top three earners are validators in every seed; fails when the ratio's
    interval lies below 1 or a miner is among the top three in every seed.
    """
    rs = sets[0]
    per: dict[str, dict[int, float]] = {k: {} for k in (
        "ratio", "top3", "best_miner", "middling", "top_validator", "rank28", "rank151",
        "mean_miner", "median_validator", "n_above", "rank14")}
    for r in rs.runs:
        ap = agent_payoffs(r.agents, warmup=r.warmup, epochs_per_day=r.epochs_per_day)
        ap = ap.sort_values("income_usd_per_day", ascending=False).reset_index(drop=True)
        m = ap[ap["role"] == "miner"]["income_usd_per_day"].to_numpy()
        v = ap[ap["role"] == "validator"]["income_usd_per_day"].to_numpy()
        s = r.seed_index
        per["ratio"][s] = float(v.mean() / m.mean())
        per["top3"][s] = float(all(ap["role"][:3] == "validator"))
        per["best_miner"][s] = float(m.max())
        above = v[v > m.max()]
        per["n_above"][s] = float(len(above))
        per["middling"][s] = float(np.median(above)) if len(above) else math.nan
        per["top_validator"][s] = float(v.max())
        per["rank28"][s] = float(m[27]) if len(m) > 27 else math.nan
        per["rank151"][s] = float(m[150]) if len(m) > 150 else math.nan
        per["mean_miner"][s] = float(m.mean())
        per["median_validator"][s] = float(np.median(v))
        per["rank14"][s] = float(np.sort(v)[::-1][13]) if len(v) > 13 else math.nan
    est = {k: estimate(list(v.values())) for k, v in per.items()}
    top3_all = est["top3"].mean == 1.0
    ratio_ok = interval_test(est["ratio"], 2.0)
    if ratio_ok is True and top3_all:
        outcome: bool | None = True
    elif ratio_ok is False and est["ratio"].high < 1.0 or est["top3"].mean == 0.0:
        outcome = False
    else:
        outcome = None
    detail = (f"validators' mean income / miners' mean income = {fmt_est(est['ratio'])}; "
              f"top three earners validators in {fmt(est['top3'].mean * 100)}% of seeds")
    status, _ = combine([CellTest({}, outcome, detail)])
    nums = [
        detail + ".",
        f"Calibration against the report (USD a day, mean [95% CI] over {len(rs.runs)} "
        "seeds):",
        f"  - top validator: {fmt_est(est['top_validator'], '$')} (report: $11k+ on a "
        "$278m stake);",
        f"  - middling validator of the {est['n_above'].mean:.0f} above the best miner: "
        f"{fmt_est(est['middling'], '$')} (report: roughly $400); median of all validators: "
        f"{fmt_est(est['median_validator'], '$')}; validator at rank 14: "
        f"{fmt_est(est['rank14'], '$')};",
        f"  - best miner: {fmt_est(est['best_miner'], '$')} (report: no miner above about "
        "$58);",
        f"  - miner at rank 28: {fmt_est(est['rank28'], '$')} (report: about $57); at rank "
        f"151: {fmt_est(est['rank151'], '$')} (report: about $50);",
        f"  - average miner: {fmt_est(est['mean_miner'], '$')} (report: $50; the one "
        "calibrated number: the subnet's emission).",
    ]
    notes = ["The validators' incomes follow from their stakes, which the scenario sets from "
             "the report's own validator figures; the structural reason validators out-earn "
             "miners is that Yuma pays the two roles equal halves of the non-owner emission "
             "while there are 15 times more miners than validators (960 vs 64)."]
    return Verdict(1, "", status, "in the calibrated SN1 setting", nums,
                   [rs.name], [CellTest({}, outcome, detail)], notes=notes)


def _claim2(sets: list[ResultSet]) -> Verdict:
    """Claim 2: income ratio of GPT-4-class (0.93) to Llama-2-70B (0.69) miners.

    Flat = the 35% better miner earns at most 15% more (the report: 14% between the
    miners at ranks 28 and 151, ~$57 vs ~$50). Per cell of the sweep (validators'
    capability x sharpening): holds when the ratio's interval lies below 1.15, fails when
    above. The calibration's rank-28 / rank-151 ratio is reported beside it.
    """
    cal, sweep = sets[0], sets[1]
    nums = []
    if cal is not None:
        ratios = {}
        for r in cal.runs:
            ap = agent_payoffs(r.agents, warmup=r.warmup, epochs_per_day=r.epochs_per_day)
            m = np.sort(ap.loc[ap["role"] == "miner", "income_usd_per_day"].to_numpy())[::-1]
            if len(m) > 150:
                ratios[r.seed_index] = m[27] / m[150]
        e = estimate(list(ratios.values()))
        nums.append(f"Calibration (SN1, validators of capability 0.83): the rank-28 miner earns "
                    f"{fmt_est(e)} times the rank-151 miner (report: 57/50 = 1.14).")
    cells = []
    if sweep is not None:
        axes = sweep.axes()
        byc = _runs_by_cell(sweep)
        for k, runs in sorted(byc.items()):
            ov = sweep.cells[k].get("overrides") or {}
            pop = cell_population(sweep.config, ov)
            qs = {i: c["params"].get("quality") for i, c in enumerate(pop)
                  if c["strategy"] == "honest_miner"}
            hi_i, lo_i = max(qs, key=lambda i: qs[i]), min(qs, key=lambda i: qs[i])
            ratio = {}
            for r in runs:
                ap = agent_payoffs(r.agents, warmup=r.warmup, epochs_per_day=r.epochs_per_day)
                co = cohort_accounts(r.agents, pop)
                inc = ap.set_index("account")["income_usd_per_day"]
                ratio[r.seed_index] = (inc.loc[co[hi_i]].mean() / inc.loc[co[lo_i]].mean())
            e = estimate(list(ratio.values()))
            out = interval_test(e, 1.15, above=False)
            cells.append(CellTest(_coords(sweep, axes, ov), out,
                                  f"income({qs[hi_i]}) / income({qs[lo_i]}) = {fmt_est(e)}"))
        status, where = combine(cells, _order(sweep, axes))
    else:
        status, where = NOT_RUN, ""
    return Verdict(2, "", status, where, nums, [s.name for s in sets if s is not None], cells)


def _claim3(sets: list[ResultSet]) -> Verdict:
    """Claim 3: the weight copier's deviation gain over an honest validator.

    "Pays as well as honest grading": non-inferiority with a margin of 1% of the honest
    validator's profit (the copier saves its grading cost, ~1% of a validator's income
    here, so a smaller gap is within what copying is meant to trade). Holds in a cell when
    the gain's interval lies above -1%, fails when it lies below.
    """
    rs = sets[0]
    an, axes = _ctx(rs)
    cells = []
    for d in an.deviations():
        i = next(j for j, lab in enumerate(d.labels) if lab.endswith("weight_copier"))
        base_cell = next(k for k, c in rs.cells.items() if an.point_of.get(k) == d.point and
                         (c.get("profile") or {}).get("kind") == "baseline")
        hv = an.estimate(base_cell, "honest_validator").mean
        g = d.gains[i]
        margin = 0.01 * abs(hv)
        ov = rs.cells[base_cell].get("overrides") or {}
        dev_cell = next(k for k, c in rs.cells.items() if an.point_of.get(k) == d.point and
                        (c.get("profile") or {}).get("strategy") == "weight_copier")
        runs = an.runs_of(dev_cell)
        gone = sum(_absent_at_end(r.agents, "weight_copier") for r in runs)
        cells.append(CellTest(_coords(rs, axes, ov), interval_test(g, -margin),
                              f"copier - honest = {fmt_est(g, '$')}/day (honest validator "
                              f"{fmt(hv, '$')}/day; margin -{fmt(margin, '$')}); the copier "
                              f"was deregistered in {gone} of {len(runs)} seeds"))
    status, where = combine(cells, _order(rs, axes))
    return Verdict(3, "", status, where, [], [rs.name], cells,
                   notes=["A copier earns nothing until its copies of the consensus are "
                          "revealed, so with a long reveal period it has the lowest emission "
                          "when newcomers register and is pruned (MODEL.md 4): that, not a "
                          "lower steady-state profit, is how staleness defeats it here."])


def _absent_at_end(agents: pd.DataFrame | None, strategy: str) -> bool:
    """True when an agent of ``strategy`` was present at the first record and not the last."""
    if agents is None or agents.empty:
        return False
    first = agents[agents["epoch"] == agents["epoch"].min()]
    last = agents[agents["epoch"] == agents["epoch"].max()]
    had = set(first.loc[first["strategy"] == strategy, "account"])
    return bool(had - set(last.loc[last["strategy"] == strategy, "account"]))


def _within_cell_pair(rs: ResultSet, a: str, b: str) -> list[tuple[int, dict[str, Any], Estimate,
                                                                    Estimate, Estimate]]:
    """Per cell: (cell, overrides, a - b paired, a, b) of profit per day."""
    an = Analysis(rs)
    out = []
    for k in sorted(set(an.table["cell"])):
        sel = an.table[an.table["cell"] == k].set_index(["seed_index", "strategy"])
        va = {s: sel.loc[(s, a), "profit_usd_per_day"] for s in sel.index.levels[0]
              if (s, a) in sel.index}
        vb = {s: sel.loc[(s, b), "profit_usd_per_day"] for s in sel.index.levels[0]
              if (s, b) in sel.index}
        out.append((k, rs.cells[k].get("overrides") or {}, _paired(va, vb),
                    an.estimate(k, a), an.estimate(k, b)))
    return out


def _claim4(sets: list[ResultSet]) -> Verdict:
    """Claim 4: a copy-cabal member's profit against a pass-through miner's (paired).

    Holds in a cell when the difference's interval lies above 0, fails when below.
    """
    rs = sets[0]
    axes = rs.axes()
    cells = []
    for _, ov, d, a, b in _within_cell_pair(rs, "copy_cabal", "gpt_passthrough"):
        cells.append(CellTest(_coords(rs, axes, ov), interval_test(d, 0.0),
                              f"cabal member {fmt_est(a, '$')}/day vs pass-through "
                              f"{fmt_est(b, '$')}/day: difference {fmt_est(d, '$')}"))
    status, where = combine(cells, _order(rs, axes))
    return Verdict(4, "", status, where, [], [rs.name], cells)


def _claim5(sets: list[ResultSet]) -> Verdict:
    """Claim 5: pass-through minus honest GPU miner profit, where validators grade worse
    than the API model (capability < its quality); other cells are shown, not judged.

    Holds in a cell when the paired difference's interval lies above 0, fails when below.
    """
    rs = sets[0]
    axes = rs.axes()
    cells = []
    for _, ov, d, a, b in _within_cell_pair(rs, "gpt_passthrough", "honest_miner"):
        pop = cell_population(rs.config, ov)
        cap = next(c["params"].get("capability", 0.93) for c in pop
                   if c["strategy"] == "honest_validator")
        api = next(c["params"].get("quality", 0.93) for c in pop
                   if c["strategy"] == "gpt_passthrough")
        cells.append(CellTest(_coords(rs, axes, ov), interval_test(d, 0.0),
                              f"pass-through {fmt_est(a, '$')}/day vs GPU {fmt_est(b, '$')}/day:"
                              f" difference {fmt_est(d, '$')}", tested=cap < api))
    status, where = combine(cells, _order(rs, axes))
    return Verdict(5, "", status, where, [], [rs.name], cells,
                   notes=["Cells with capability >= the API model's quality are outside the "
                          "claim's premise: shown, not judged."])


def _claim6(sets: list[ResultSet]) -> Verdict:
    """Claim 6: alignment (rank correlation of quality and incentive, post-warm-up mean).

    Where every miner's quality is at or above the validators' capability, the claim
    predicts collapse: holds when the alignment's interval lies below 0.2, fails when
    above. Where every miner is below it, the contrast: alignment should stay (interval
    above 0.5). Bands straddling the capability are shown, not judged.
    """
    rs = sets[0]
    axes = rs.axes()
    cells = []
    for k, runs in sorted(_runs_by_cell(rs).items()):
        ov = rs.cells[k].get("overrides") or {}
        pop = cell_population(rs.config, ov)
        cap = next(c["params"].get("capability", 0.93) for c in pop
                   if c["strategy"] == "honest_validator")
        qs = [c["params"].get("quality", 0.69) for c in pop if c["strategy"] == "honest_miner"]
        vals = [float(np.nanmean(_post(r.metrics, r.warmup)["alignment"])) for r in runs]
        e = estimate(vals)
        if min(qs) >= cap:
            out, tested, what = interval_test(e, 0.2, above=False), True, "above"
        elif max(qs) < cap:
            out, tested, what = interval_test(e, 0.5), True, "below"
        else:
            out, tested, what = None, False, "across"
        cells.append(CellTest(_coords(rs, axes, ov), out,
                              f"miners {min(qs)}-{max(qs)} {what} capability {cap}: alignment "
                              f"{fmt_est(e)}", tested))
    status, where = combine(cells, _order(rs, axes))
    return Verdict(6, "", status, where, [], [rs.name], cells)


def _claim7(sets: list[ResultSet]) -> Verdict:
    """Claim 7: share of the small subnet's miner income taken by the attacker's miners.

    For each (subnet stake, network stake) pair, the stake needed is the smallest swept
    attacker stake whose capture interval lies above 50%, as a multiple of the subnet's
    honest stake. Holds when that multiple is the same for both subnet stakes (the stake
    needed scales with the subnet's stake) and for both network stakes (not with the
    network's); fails when it differs.
    """
    rs = sets[0]
    axes = rs.axes()
    rows = []
    for k, runs in sorted(_runs_by_cell(rs).items()):
        ov = rs.cells[k].get("overrides") or {}
        pop = cell_population(rs.config, ov)
        honest = sum(c["count"] * c["params"].get("stake_tao", 0) for c in pop
                     if c["strategy"] == "honest_validator" and c.get("subnet") == 0)
        network = sum(c["count"] * c["params"].get("stake_tao", 0) for c in pop
                      if c["strategy"] == "honest_validator" and c.get("subnet") != 0)
        attacker = next(c["params"].get("outside_stake_tao") for c in pop
                        if c["strategy"] == "stake_attacker")
        caps = []
        for r in runs:
            a = _post(r.agents, r.warmup)
            m = a[(a["role"] == "miner") & (a["netuid"] == 0)]
            total = m["income_tao"].sum()
            caps.append(float(m.loc[m["cabal"] >= 0, "income_tao"].sum() / total)
                        if total > 0 else math.nan)
        rows.append({"cell": k, "honest": honest, "network": network, "attacker": attacker,
                     "ratio": attacker / honest if honest else math.nan,
                     "capture": estimate(caps), "ov": ov})
    cells, thresholds, below = [], {}, {}
    for (h, n), grp in pd.DataFrame(rows).groupby(["honest", "network"]):
        grp = grp.sort_values("ratio")
        need = next((r for r in grp.itertuples() if r.capture.low > 0.5), None)
        thresholds[(h, n)] = need.ratio if need is not None else math.inf
        fail = [r.ratio for r in grp.itertuples() if r.capture.high < 0.5
                and r.ratio < thresholds[(h, n)]]
        below[(h, n)] = max(fail) if fail else 0.0
        for r in grp.itertuples():
            cells.append(CellTest(_coords(rs, axes, r.ov), interval_test(r.capture, 0.5),
                                  f"attacker {fmt(r.attacker)} TAO = {fmt(r.ratio)} x the "
                                  f"subnet's {fmt(h)} TAO (network {fmt(n)} TAO): captures "
                                  f"{fmt_est(r.capture)} of its miner income", tested=False))
    nums = [f"Subnet stake {fmt(h)} TAO, rest of network {fmt(n)} TAO: takeover (capture > 50%) "
            f"from {fmt(t)} x the subnet's stake = {fmt(t * h)} TAO (${fmt(t * h * _price(rs))} "
            "at the run's price)" if np.isfinite(t) else
            f"Subnet stake {fmt(h)} TAO, rest of network {fmt(n)} TAO: no swept stake takes over"
            for (h, n), t in sorted(thresholds.items())]
    mult = set(thresholds.values())
    finite = all(np.isfinite(t) for t in thresholds.values())
    if finite and len(mult) == 1:
        lo = max(below.values())
        status, where = HOLDS, (f"a takeover needs more than {fmt(lo)} and at most "
                                f"{fmt(next(iter(mult)))} times the subnet's own stake, "
                                "whatever the rest of the network holds")
    elif not finite and all(not np.isfinite(t) for t in thresholds.values()):
        status, where = INCONCLUSIVE, "no swept attacker stake took a subnet over"
    else:
        by_net = {}
        for (h, _n), t in thresholds.items():
            by_net.setdefault(h, set()).add(t)
        same_net = all(len(v) == 1 for v in by_net.values())
        status = PART if same_net else FAILS
        where = ("independent of the network's stake, but the multiple of the subnet's stake "
                 "differs between subnet sizes" if same_net else
                 "the stake needed depends on the rest of the network")
    return Verdict(7, "", status, where, nums, [rs.name], cells,
                   notes=["In the model a validator's stake counts only on the subnet it is "
                          "registered on, so the rest of the network cannot defend a subnet; "
                          "on the 2023 chain a large validator's stake counted on every subnet "
                          "it validated."])


def _price(rs: ResultSet) -> float:
    return float(((rs.config.get("scenario") or {}).get("price") or {}).get("initial_usd", 0.0))


def _claim8(sets: list[ResultSet]) -> Verdict:
    """Claim 8: what a poison pill captures after it turns, and whether it pays.

    Per seed, from the per-agent records: its cabal miners' share of the subnet's miner
    income before the turn (warm-up to trigger) and after it (trigger + 10 epochs to the
    end, the first 10 letting weights and bonds move); the cabal's income (the pill and its
    miners) per day before and after; the pill's own income before and after (delegators
    leaving would cut it). Holds in a cell when the capture rises by more than 5 percentage
    points (interval) and the cabal's income rises (interval above 0); fails when either
    interval lies entirely on the wrong side.
    """
    rs = sets[0]
    axes = rs.axes()
    cells = []
    for k, runs in sorted(_runs_by_cell(rs).items()):
        ov = rs.cells[k].get("overrides") or {}
        pop = cell_population(rs.config, ov)
        trig = next(int(c["params"].get("trigger_epoch", 100)) for c in pop
                    if c["strategy"] == "poison_pill")
        dcap, dgain, dpill, late = {}, {}, {}, {}
        for r in runs:
            a = r.agents
            pill = a["strategy"] == "poison_pill"
            miners = a["role"] == "miner"

            def share(fr: pd.DataFrame) -> float:
                m = fr[fr["role"] == "miner"]
                t = m["income_tao"].sum()
                return float(m.loc[m["cabal"] >= 0, "income_tao"].sum() / t) if t > 0 else 0.0

            def per_day(fr: pd.DataFrame, mask: pd.Series, r: Any = r) -> float:
                sub = fr[mask.loc[fr.index]]
                n_ep = fr["epoch"].nunique()
                return float(sub["income_usd"].sum() / max(n_ep, 1) * r.epochs_per_day)

            pre, post = _post(a, r.warmup, trig), _post(a, trig + 10)
            tail = _post(a, int(a["epoch"].max()) - 50)
            cabal = (a["cabal"] >= 0) & (pill | miners)
            dcap[r.seed_index] = share(post) - share(pre)
            late[r.seed_index] = share(tail)
            dgain[r.seed_index] = per_day(post, cabal) - per_day(pre, cabal)
            dpill[r.seed_index] = per_day(post, pill) - per_day(pre, pill)
        ec, eg, ep, el = (estimate(list(d.values())) for d in (dcap, dgain, dpill, late))
        t1, t2 = interval_test(ec, 0.05), interval_test(eg, 0.0)
        out = True if (t1 and t2) else (False if (t1 is False or t2 is False) else None)
        cells.append(CellTest(_coords(rs, axes, ov), out,
                              f"capture +{fmt_est(ec)} of miner income (last 50 epochs: "
                              f"{fmt_est(el)}); cabal income {fmt_est(eg, '$')}/day; the "
                              f"pill's own income {fmt_est(ep, '$')}/day after turning"))
    status, where = combine(cells, _order(rs, axes))
    return Verdict(8, "", status, where, [], [rs.name], cells,
                   notes=["Delegators' punishment is read from the pill's own income (its take "
                          "and stake share shrink when nominators leave); the stake behind its "
                          "hotkey is in the per-agent records (hotkey_stake_tao) for a direct "
                          "look."])


def _claim9(sets: list[ResultSet]) -> Verdict:
    """Claim 9: Nakamoto coefficient of validator stake at the end (last 20 epochs), paired
    against the all-loyal cell, and its change over the run within each cell.

    Holds in a cell when the end Nakamoto's paired difference to the loyal cell lies below
    0 (stake more concentrated than where delegators stay put), fails when it lies at or
    above 0 with a degenerate or positive interval.
    """
    rs = sets[0]
    axes = rs.axes()
    byc = _runs_by_cell(rs)
    ends, starts = {}, {}
    for k, runs in byc.items():
        ends[k] = {r.seed_index: float(r.metrics["nakamoto_stake"].iloc[-20:].mean())
                   for r in runs}
        starts[k] = {r.seed_index: float(r.metrics["nakamoto_stake"].iloc[0]) for r in runs}
    loyal = None
    for k in byc:
        pop = cell_population(rs.config, rs.cells[k].get("overrides") or {})
        if all(c["count"] == 0 for c in pop
               if c.get("subnet") is None and c["strategy"] != "loyal_delegator"):
            loyal = k
    cells = []
    for k in sorted(byc):
        ov = rs.cells[k].get("overrides") or {}
        e_end = estimate(list(ends[k].values()))
        change = _paired(ends[k], starts[k])
        if k == loyal or loyal is None:
            cells.append(CellTest(_coords(rs, axes, ov), None,
                                  f"all loyal (reference): Nakamoto {fmt_est(e_end)} at the end, "
                                  f"change over the run {fmt_est(change)}", tested=False))
            continue
        d = _paired(ends[k], ends[loyal])
        out = interval_test(d, 0.0, above=False)
        if out is None and d.n >= 2 and d.low == d.high:
            out = d.mean < 0
        cells.append(CellTest(_coords(rs, axes, ov), out,
                              f"Nakamoto at the end {fmt_est(e_end)} (all loyal "
                              f"{fmt_est(estimate(list(ends[loyal].values())))}; difference "
                              f"{fmt_est(d)}); change over the run {fmt_est(change)}"))
    status, where = combine(cells, _order(rs, axes))
    return Verdict(9, "", status, where, [], [rs.name], cells,
                   notes=["The claim's premise (that delegators follow popularity) is "
                          "behavioural; the model shows its consequence for each policy. "
                          "Delegators choose at genesis by their policy, so concentration "
                          "under popularity shows from the first epoch."])


def _claim10(sets: list[ResultSet]) -> Verdict:
    """Claim 10: (answers computed + answers graded) per useful answer against N + V.

    N = the miners a query reaches (the sample size), V = the responses the validator
    grades (N). Holds in a cell when the post-warm-up overhead's interval lies within 10%
    of N + V, fails when it lies entirely outside.
    """
    rs = sets[0]
    axes = rs.axes()
    cells = []
    for k, runs in sorted(_runs_by_cell(rs).items()):
        ov = rs.cells[k].get("overrides") or {}
        n = ov.get("subnets.0.work.sample_size") or (
            ((rs.config.get("scenario") or {}).get("subnets") or [{}])[0].get("work") or {}
        ).get("sample_size", 50)
        vals = [float(np.nanmean(_post(r.metrics, r.warmup)["compute_per_useful_answer"]))
                for r in runs]
        e = estimate(vals)
        target = 2.0 * n
        lo, hi = 0.9 * target, 1.1 * target
        if np.isfinite(e.low) and lo <= e.low and e.high <= hi:
            out: bool | None = True
        elif np.isfinite(e.low) and (e.high < lo or e.low > hi):
            out = False
        elif not np.isfinite(e.low) and np.isfinite(e.mean):
            out = bool(lo <= e.mean <= hi)
        else:
            out = None
        cells.append(CellTest(_coords(rs, axes, ov), out,
                              f"overhead {fmt_est(e)} answers per useful answer; N + V = "
                              f"{fmt(target)} (N = {n})"))
    status, where = combine(cells, _order(rs, axes))
    return Verdict(10, "", status, where, [], [rs.name], cells,
                   notes=["In the model the overhead is an accounting identity of the query "
                          "protocol: each query round computes about N answers and grades "
                          "them; miners that do not compute (lazy, copies) lower it."])


def _claim11(sets: list[ResultSet]) -> Verdict:
    """Claim 11: cabal validators that boost their own miners, against honest ones.

    Per seed, from per-agent payoffs: cabal miners minus honest miners (favouring pays),
    cabal validators minus honest validators (punished?), and the survival of the honest
    miners present at the start (mass exits?). Holds in a cell (boost > 0) when favouring
    pays (interval above 0), the cabal validators are not punished (interval above -1% of
    the honest validators' profit) and at least 90% of honest miners stay; fails when
    favouring does not pay or the validators are punished (intervals on the wrong side)
    or more than 10% of honest miners leave.
    """
    rs = sets[0]
    axes = rs.axes()
    cells = []
    for k, runs in sorted(_runs_by_cell(rs).items()):
        ov = rs.cells[k].get("overrides") or {}
        pop = cell_population(rs.config, ov)
        boost = next(c["params"].get("boost", 0.3) for c in pop
                     if c["strategy"] == "cabal_validator")
        dm, dv, surv, hv = {}, {}, {}, {}
        for r in runs:
            ap = agent_payoffs(r.agents, warmup=r.warmup, epochs_per_day=r.epochs_per_day)
            first = r.agents[r.agents["epoch"] == r.agents["epoch"].min()]
            last = r.agents[r.agents["epoch"] == r.agents["epoch"].max()]
            cab = ap["cabal"] >= 0
            mi, va = ap["role"] == "miner", ap["role"] == "validator"
            s = r.seed_index
            dm[s] = (ap.loc[cab & mi, "profit_usd_per_day"].mean()
                     - ap.loc[~cab & mi, "profit_usd_per_day"].mean())
            dv[s] = (ap.loc[cab & va, "profit_usd_per_day"].mean()
                     - ap.loc[~cab & va, "profit_usd_per_day"].mean())
            hv[s] = ap.loc[~cab & va, "profit_usd_per_day"].mean()
            honest0 = set(first.loc[(first["role"] == "miner") & (first["cabal"] < 0),
                                    "account"])
            surv[s] = len(honest0 & set(last["account"])) / max(len(honest0), 1)
        em, ev, es = estimate(list(dm.values())), estimate(list(dv.values())), \
            estimate(list(surv.values()))
        margin = 0.01 * abs(estimate(list(hv.values())).mean)
        pays, unpunished = interval_test(em, 0.0), interval_test(ev, -margin)
        stays = es.mean >= 0.9
        if pays and unpunished and stays:
            out: bool | None = True
        elif pays is False or unpunished is False or not stays:
            out = False
        else:
            out = None
        cells.append(CellTest(_coords(rs, axes, ov), out,
                              f"cabal miners - honest miners {fmt_est(em, '$')}/day; cabal "
                              f"validators - honest validators {fmt_est(ev, '$')}/day; honest "
                              f"miners still there at the end {fmt_est(es)}", tested=boost > 0))
    status, where = combine(cells, _order(rs, axes))
    return Verdict(11, "", status, where, [], [rs.name], cells,
                   notes=["boost = 0 is the control (the cabal does not favour): shown, not "
                          "judged."])


def _claim12(sets: list[ResultSet]) -> Verdict:
    """Claim 12: the copy cabal's share of the miners, at the end minus at the start.

    Shares of the miner population (``population:<strategy>``; the emission share at the
    end is shown too). Holds in a cell when the change's interval lies above 2 percentage
    points (the cabal consolidates), fails when it lies below; the region then says at
    which inflows (TAO price, newcomer rate) the cabal consolidates.
    """
    rs = sets[0]
    axes = rs.axes()
    cells = []
    for k, runs in sorted(_runs_by_cell(rs).items()):
        ov = rs.cells[k].get("overrides") or {}
        ch, endp, pop_end, pop_start = {}, {}, {}, {}
        for r in runs:
            m = r.metrics
            miner_cols = [c for c in m.columns if c.startswith("population:")
                          and c.split(":", 1)[1] in ("honest_miner", "copy_cabal")]
            miners = m[miner_cols].sum(axis=1).clip(lower=1)
            share_pop = m["population:copy_cabal"] / miners
            emis = m["emission_tao:copy_cabal"] / m["emission_miners_tao"]
            pop_start[r.seed_index] = float(share_pop.iloc[0])
            pop_end[r.seed_index] = float(share_pop.iloc[-20:].mean())
            ch[r.seed_index] = pop_end[r.seed_index] - pop_start[r.seed_index]
            endp[r.seed_index] = float(emis.iloc[-20:].mean())
        e, el, ep, es = (estimate(list(d.values())) for d in (ch, endp, pop_end, pop_start))
        cells.append(CellTest(_coords(rs, axes, ov), interval_test(e, 0.02),
                              f"cabal share of miners {fmt_est(es)} at the start, "
                              f"{fmt_est(ep)} at the end (change {fmt_est(e)}); its share of "
                              f"miner emission at the end {fmt_est(el)}"))
    status, where = combine(cells, _order(rs, axes))
    return Verdict(12, "", status, where, [], [rs.name], cells)


CLAIMS: tuple[Claim, ...] = (
    Claim(1, "Validators out-earn miners by a wide margin; the top earners are validators.",
          ("claim01_sn1_calibration",), _claim1),
    Claim(2, "Miner payouts are flat: quality barely moves a miner's income.",
          ("claim01_sn1_calibration", "claim02_flat_payouts"), _claim2),
    Claim(3, "Weight copying pays as well as honest grading at lower cost, unless "
             "commit-reveal or bonds make it stale enough to lose.",
          ("claim03_weight_copying",), _claim3),
    Claim(4, "Miner cabals that copy one answer are more cost-effective than paying per "
             "answer.", ("claim04_copy_cabals",), _claim4),
    Claim(5, "Pass-through miners beat honest GPU miners when validators are weaker graders "
             "than the API model.", ("claim05_passthrough",), _claim5),
    Claim(6, "Inferior validators cannot rank superior miners: alignment collapses once miner "
             "quality exceeds validator capability.", ("claim06_alignment",), _claim6),
    Claim(7, "Small subnets are cheap to take over: the stake needed scales with the "
             "subnet's own stake, not the network's.", ("claim07_takeover",), _claim7),
    Claim(8, "A poison-pill validator that gathered trust and delegation can turn and "
             "capture emission.", ("claim08_poison_pill",), _claim8),
    Claim(9, "Delegation follows popularity, so stake concentrates over time (the Nakamoto "
             "coefficient falls).", ("claim09_delegation",), _claim9),
    Claim(10, "The network spends N + V times the compute of one useful answer.",
          ("claim10_overhead",), _claim10),
    Claim(11, "Validators favouring their own miners, at a rate that avoids mass exits, go "
              "unpunished.", ("claim11_cabal_validators",), _claim11),
    Claim(12, "As inflows fall, cabals consolidate.", ("claim12_consolidation",), _claim12),
)


# --------------------------------------------------------------------------- running it


def latest_results(root: str | Path) -> dict[str, Path]:
    """Experiment name -> its most recently written results directory below ``root``."""
    out: dict[str, tuple[float, Path]] = {}
    for d in find_result_dirs(root):
        name = d.parent.name
        t = (d / "manifest.json").stat().st_mtime
        if name not in out or t > out[name][0]:
            out[name] = (t, d)
    return {k: v[1] for k, v in out.items()}


def evaluate(claim: Claim, found: dict[str, Path],
             loaded: dict[str, ResultSet] | None = None) -> Verdict:
    """The verdict of one claim from the results directories ``found`` (name -> dir)."""
    loaded = {} if loaded is None else loaded
    sets: list[ResultSet | None] = []
    for name in claim.experiments:
        if name in found and name not in loaded:
            with contextlib.suppress(ValueError):  # no complete run: "not run"
                loaded[name] = load_results(found[name])
        sets.append(loaded.get(name))
    if all(s is None for s in sets) or (claim.number != 2 and any(s is None for s in sets)):
        return Verdict(claim.number, claim.title, NOT_RUN, "", [
            "no results for " + ", ".join(claim.experiments)], list(claim.experiments))
    try:
        v = claim.test(sets)  # type: ignore[arg-type]
    except (KeyError, ValueError, IndexError, StopIteration) as err:
        return Verdict(claim.number, claim.title, INCONCLUSIVE, "", [
            f"the results could not be analysed for this claim: {type(err).__name__}: {err}"],
            list(claim.experiments))
    v.title = claim.title
    return v


def claims_report(results_root: str | Path, out_dir: str | Path | None = None, *,
                  experiment_reports: bool = True) -> Path:
    """Write ``claims.md``: a verdict per claim, with the numbers behind it.

    Args:
        results_root: the results root (``results/``) holding ``<experiment>/<hash>/``.
        out_dir: where to write (default ``results_root``).
        experiment_reports: also write each claim experiment's own ``report.md``.

    Returns:
        The path of ``claims.md``.
    """
    root = Path(results_root)
    out = Path(out_dir) if out_dir else root
    out.mkdir(parents=True, exist_ok=True)
    found = latest_results(root)
    loaded: dict[str, ResultSet] = {}
    verdicts = [evaluate(c, found, loaded) for c in CLAIMS]
    reports: dict[str, str] = {}
    if experiment_reports:
        for name, rs in loaded.items():
            path = report_one(rs, rs.root)
            reports[name] = str(Path(path).resolve().relative_to(out.resolve())) \
                if out.resolve() in Path(path).resolve().parents else str(path)
    lines = ["# The claims of the report: verdicts", "",
             "Each claim of ../shared/MODEL.md section 7, tested on its experiment in "
             "`experiments/configs/claims/`. Verdicts: **holds**, **does not hold**, **holds "
             "in part** (where is said), **inconclusive** (no interval decided), **not run**. "
             "Numbers are means over seeds with 95% BCa intervals; how each claim is tested "
             "is in `analysis/claims.py` and `docs/report.md`.", "",
             "| # | claim | verdict | where |", "|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| {v.claim} | {v.title} | **{v.status}** | {v.where or '-'} |")
    lines.append("")
    for v in verdicts:
        lines += [f"## Claim {v.claim}: {v.title}", "", f"**Verdict: {v.status}.**"
                  + (f" {v.where[0].upper() + v.where[1:]}." if v.where else ""), ""]
        lines += [f"- {n}" if not n.startswith("  ") else n for n in v.numbers]
        if v.numbers:
            lines.append("")
        if v.cells:
            axes = list(dict.fromkeys(a for c in v.cells for a in c.coords))  # sweep order
            lines += ["| " + " | ".join([*axes, "outcome", "numbers"]) + " |",
                      "|" + "---|" * (len(axes) + 2)]
            for c in v.cells:
                oc = ("holds" if c.outcome else "fails" if c.outcome is False else
                      "inconclusive") if c.tested else "not judged"
                lines.append("| " + " | ".join([*(c.coords.get(a, "") for a in axes), oc,
                                                c.detail]) + " |")
            lines.append("")
        for n in v.notes:
            lines += [f"*Note: {n}*", ""]
        exps = [f"[`{e}`]({reports[e]})" if e in reports else f"`{e}`" for e in v.experiments]
        lines += [f"Experiment: {', '.join(exps)}.", ""]
    path = out / "claims.md"
    path.write_text("\n".join(lines) + "\n")
    return path
