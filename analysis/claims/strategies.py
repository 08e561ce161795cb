"""Claims 3, 4, 5 and 11: what a strategy earns against the one it replaces (weight copying,
copy cabals, pass-through miners, cabal validators)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.claims.cells import (
    MissingData,
    SweepCell,
    judge,
    paired,
    paired_effects,
    payoffs_of,
    sweep_cells,
)
from analysis.claims.verdicts import (
    CellTest,
    Verdict,
    estimate,
    interval_test,
)
from analysis.report import Analysis, fmt, fmt_est
from analysis.results import ResultSet
from analysis.stats import Estimate


def _claim3(sets: list[ResultSet]) -> Verdict:
    """Claim 3: the weight copier's deviation gain over an honest validator of its own
    cohort (``analysis.deviations``: the same population entry in the paired baseline).

    "Pays as well as honest grading": non-inferiority with a margin of 1% of the honest
    validator's profit (the copier saves its grading cost, ~1% of a validator's income
    here, so a smaller gap is within what copying is meant to trade). Holds in a cell when
    the gain's interval lies above -1%, fails when it lies below.
    """
    rs = sets[0]
    an = Analysis(rs)
    coords = {c.index: c.coords for c in sweep_cells(rs)}
    tests = []
    for d in (d for d in an.deviations() if d.base == "baseline"):
        x = next((x for x in d.deviations if x.target == "weight_copier"), None)
        if x is None:
            raise MissingData(f"no weight_copier deviation at {d.point_label}")
        hv = float(np.mean([x.baseline[s] for s in x.seeds]))  # its own cohort, as honest
        margin = 0.01 * abs(hv)
        runs = an.runs_of(x.cell)
        gone = sum(_absent_at_end(r.agents, "weight_copier") for r in runs)
        effects = paired_effects(x.deviator, x.baseline)
        tests.append(CellTest(coords[d.baseline_cell], interval_test(x.gain, -margin),
                              f"copier - honest = {fmt_est(x.gain, '$')}/day (its cohort as "
                              f"honest validators {fmt(hv, '$')}/day; margin "
                              f"-{fmt(margin, '$')}); the copier was deregistered in {gone} "
                              f"of {len(runs)} seeds", True, effects, -margin))
    return judge(3, rs, tests,
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


def _pair(c: SweepCell, an: Analysis, a: str, b: str) -> tuple[Estimate, Estimate, Estimate]:
    """(a - b paired by seed, a, b) of profit per day in cell ``c``."""
    t = an.table[an.table["cell"] == c.index]
    va = dict(zip(t.loc[t["strategy"] == a, "seed_index"],
                  t.loc[t["strategy"] == a, "profit_usd_per_day"], strict=True))
    vb = dict(zip(t.loc[t["strategy"] == b, "seed_index"],
                  t.loc[t["strategy"] == b, "profit_usd_per_day"], strict=True))
    if not va or not vb:
        raise MissingData(f"cell {c.index} has no {a if not va else b} payoffs")
    return paired(va, vb), an.estimate(c.index, a), an.estimate(c.index, b)


def _claim4(sets: list[ResultSet]) -> Verdict:
    """Claim 4: a copy-cabal member's profit against a pass-through miner's (paired).

    Holds in a cell when the difference's interval lies above 0, fails when below.
    """
    rs = sets[0]
    an = Analysis(rs)

    def test(c: SweepCell) -> CellTest:
        d, a, b = _pair(c, an, "copy_cabal", "gpt_passthrough")
        return c.test(interval_test(d, 0.0), f"cabal member {fmt_est(a, '$')}/day vs "
                      f"pass-through {fmt_est(b, '$')}/day: difference {fmt_est(d, '$')}")

    return judge(4, rs, map(test, sweep_cells(rs)))


def _claim5(sets: list[ResultSet]) -> Verdict:
    """Claim 5: pass-through minus honest GPU miner profit, where validators grade worse
    than the API model (capability < its quality); other cells are shown, not judged.

    Holds in a cell when the paired difference's interval lies above 0, fails when below.
    """
    rs = sets[0]
    an = Analysis(rs)

    def test(c: SweepCell) -> CellTest:
        d, a, b = _pair(c, an, "gpt_passthrough", "honest_miner")
        cap = c.param("honest_validator", "capability")
        api = c.param("gpt_passthrough", "quality")
        return c.test(interval_test(d, 0.0), f"pass-through {fmt_est(a, '$')}/day vs GPU "
                      f"{fmt_est(b, '$')}/day: difference {fmt_est(d, '$')}", tested=cap < api)

    return judge(5, rs, map(test, sweep_cells(rs)),
                 notes=["Cells with capability >= the API model's quality are outside the "
                        "claim's premise: shown, not judged."])


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

    def test(c: SweepCell) -> CellTest:
        boost = c.param("cabal_validator", "boost")
        dm, dv, surv, hv = {}, {}, {}, {}
        for r in c.runs:
            ap = payoffs_of(r)
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
        return c.test(out, f"cabal miners - honest miners {fmt_est(em, '$')}/day; cabal "
                      f"validators - honest validators {fmt_est(ev, '$')}/day; honest miners "
                      f"still there at the end {fmt_est(es)}", tested=boost > 0)

    return judge(11, rs, map(test, sweep_cells(rs)),
                 notes=["boost = 0 is the control (the cabal does not favour): shown, not "
                        "judged."])
