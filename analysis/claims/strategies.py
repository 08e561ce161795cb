"""Claims 3, 4, 5 and 11: what a strategy earns against the one it replaces (weight copying,
copy cabals, pass-through miners, cabal validators)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.claims.cells import (
    MissingData,
    SweepCell,
    config_value,
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
from analysis.results import ResultSet, RunData
from analysis.stats import Estimate

DESIGNS = {
    3: "Predicts that weight copying pays as well as honest grading at lower cost unless "
       "commit-reveal or bonds make copies stale enough to lose. One validator of a "
       "cohort of 16 equal-stake validators copies the consensus instead of grading (a "
       "single deviation, compared with its own cohort in the paired all-honest run); "
       "miners' qualities drift (model arbitrage, exits, entries); commit-reveal swept "
       "finely (off, 1, 2, 3, 4, 6, 8 epochs) x liquid alpha; UIDs immune through the "
       "warm-up so that only the steady state is compared. 6 worlds, 15 days.",
    4: "Predicts that copy cabals (one paid GPT-4 Turbo answer relayed by every member) "
       "out-earn pass-through miners who pay for each query. Detection is not a switch: "
       "the chance a copy is caught is the share of the 16 equal-stake validators that zero "
       "duplicate answers, swept 0 to 1 in quarters, for cabals of 4 and 16 members; each "
       "member is compared with the pass-through miners of the same run, world by world, "
       "and the break-even detecting share per cabal size is reported. 8 worlds, 7.5 days.",
    5: "Predicts that pass-through miners beat honest GPU miners when validators grade "
       "worse than the API model. GPT-4 Turbo pass-through (0.93, paid per query) against "
       "Llama-2-70B on a rented A100 (0.69, paid by the hour), graded by a judge of "
       "capability 0.6, 0.8 or 1.0 (1.0 is outside the premise: shown), with the API price "
       "and the query volume swept jointly, since the pass-through pays per query and the "
       "GPU by the hour; the break-even API price per capability and volume is reported. "
       "Paired by world; 8 worlds, 7.5 days.",
    11: "Predicts that validators who favour their own miners, at a rate that avoids mass "
        "exits, go unpunished. Four cabal validators boost their 16 miners by a share of "
        "their weight (0.1 to 1) beside twelve honest validators, with the cabal holding "
        "25% or 62.5% of the validator stake; honest miners leave after 20 losing epochs "
        "and newcomers arrive. Each boost is compared with the control boost 0 (the cabal "
        "grading honestly) at the same stake share in the same world: the change in the "
        "cabal's joint profit (validators plus miners) per 1,000 TAO of its stake, so stake "
        "is never read as a gain. Cells where honest miners stay less than 90% as often as "
        "in the control are outside the premise. 8 worlds, 10 days.",
}


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
                 notes=["The subnet's UIDs are immune through the warm-up, so a copier is "
                        "never pruned before its first copies are revealed; after it, stale "
                        "copies cost it dividends and, under the era's pruning by score "
                        "(not stake), its UID, in more worlds the longer the reveal period "
                        "(the detail counts them): staleness defeats it by deregistration "
                        "rather than by a lower steady-state profit."])


def _absent_at_end(agents: pd.DataFrame | None, strategy: str) -> bool:
    """True when an agent of ``strategy`` was present at the first record and not the last."""
    if agents is None or agents.empty:
        return False
    first = agents[agents["epoch"] == agents["epoch"].min()]
    last = agents[agents["epoch"] == agents["epoch"].max()]
    had = set(first.loc[first["strategy"] == strategy, "account"])
    return bool(had - set(last.loc[last["strategy"] == strategy, "account"]))


def _pair(c: SweepCell, an: Analysis, a: str, b: str
          ) -> tuple[dict[int, float], Estimate, Estimate, Estimate]:
    """(a - b per seed, a - b paired by seed, a, b) of profit per day in cell ``c``."""
    t = an.table[an.table["cell"] == c.index]
    va = dict(zip(t.loc[t["strategy"] == a, "seed_index"],
                  t.loc[t["strategy"] == a, "profit_usd_per_day"], strict=True))
    vb = dict(zip(t.loc[t["strategy"] == b, "seed_index"],
                  t.loc[t["strategy"] == b, "profit_usd_per_day"], strict=True))
    if not va or not vb:
        raise MissingData(f"cell {c.index} has no {a if not va else b} payoffs")
    return (paired_effects(va, vb), paired(va, vb), an.estimate(c.index, a),
            an.estimate(c.index, b))


def _claim4(sets: list[ResultSet]) -> Verdict:
    """Claim 4: a copy-cabal member's profit against a pass-through miner's (paired by
    world), as the chance that a copy is caught rises.

    The chance is the share of validators (of equal stake) that zero duplicate answers.
    Holds in a cell when the difference's interval lies above 0, fails when below. Per
    cabal size, the break-even share of detecting validators (where the mean difference
    crosses 0, linear between the swept shares) is reported.
    """
    rs = sets[0]
    an = Analysis(rs)
    cells = sweep_cells(rs)
    diffs: dict[tuple[int, float], float] = {}

    def share(c: SweepCell) -> float:
        vals = [co for co in c.population if co["strategy"] == "honest_validator"]
        total = sum(co["count"] for co in vals)
        return sum(co["count"] for co in vals if co["params"].get("dedup")) / total

    def test(c: SweepCell) -> CellTest:
        eff, d, a, b = _pair(c, an, "copy_cabal", "gpt_passthrough")
        members = sum(co["count"] for co in c.population if co["strategy"] == "copy_cabal")
        diffs[(members, share(c))] = d.mean
        return c.compare(eff, 0.0, f"cabal member {fmt_est(a, '$')}/day vs pass-through "
                         f"{fmt_est(b, '$')}/day: difference {fmt_est(d, '$')}")

    tests = list(map(test, cells))
    nums = []
    for members in sorted({m for m, _ in diffs}):
        pts = sorted((p, d) for (m, p), d in diffs.items() if m == members)
        cross = next((p0 + (p1 - p0) * d0 / (d0 - d1) for (p0, d0), (p1, d1)
                      in zip(pts, pts[1:], strict=False) if d0 > 0 >= d1), None)
        nums.append(f"{members} members: break-even share of validators detecting copies "
                    + (f"{cross:.2f}" if cross is not None else
                       "not within 0-1 (copying " + ("always pays" if pts[-1][1] > 0
                                                     else "never pays") + ")")
                    + "; mean difference by share: "
                    + ", ".join(f"{p:.2f}: {fmt(d, '$')}" for p, d in pts) + ".")
    return judge(4, rs, tests, numbers=nums)


def _break_even(points: list[tuple[float, float]]) -> float | None:
    """The x where a mean difference falling with x crosses 0 (linear between points)."""
    pts = sorted(points)
    return next((x0 + (x1 - x0) * d0 / (d0 - d1) for (x0, d0), (x1, d1)
                 in zip(pts, pts[1:], strict=False) if d0 > 0 >= d1), None)


def _claim5(sets: list[ResultSet]) -> Verdict:
    """Claim 5: pass-through minus honest GPU miner profit, where validators grade worse
    than the API model (capability < its quality); other cells are shown, not judged.

    Holds in a cell when the paired difference's interval lies above 0, fails when below.
    The sign is decided by what the pass-through pays per query, so per capability and
    query volume the break-even API price (where the mean difference crosses 0, linear
    between the swept prices) is reported.
    """
    rs = sets[0]
    an = Analysis(rs)
    diffs: dict[tuple[float, int], list[tuple[float, float]]] = {}

    def test(c: SweepCell) -> CellTest:
        eff, d, a, b = _pair(c, an, "gpt_passthrough", "honest_miner")
        cap = c.param("honest_validator", "capability")
        api = c.param("gpt_passthrough", "quality")
        rounds = int(config_value(c.config, "scenario.subnets.0.work.query_rounds"))
        cost = float(c.param("gpt_passthrough", "query_cost_usd"))
        diffs.setdefault((cap, rounds), []).append((cost, d.mean))
        return c.compare(eff, 0.0, f"pass-through {fmt_est(a, '$')}/day vs GPU "
                         f"{fmt_est(b, '$')}/day: difference {fmt_est(d, '$')}",
                         tested=cap < api)

    tests = list(map(test, sweep_cells(rs)))
    nums = []
    for (cap, rounds), pts in sorted(diffs.items()):
        x = _break_even(pts)
        nums.append(f"capability {cap}, {rounds} query rounds an epoch: break-even API price "
                    + (f"${x:.3f} a query" if x is not None else
                       "outside the prices swept (" + ("the pass-through wins at all"
                                                      if min(pts)[1] > 0 and max(pts)[1] > 0
                                                      else "the GPU miner wins at all"
                                                      if max(d for _, d in pts) <= 0
                                                      else "no single crossing") + ")")
                    + ".")
    return judge(5, rs, tests, numbers=nums,
                 notes=["Cells with capability >= the API model's quality are outside the "
                        "claim's premise: shown, not judged."])


def _cabal_run(r: RunData) -> dict[str, float]:
    """One run's cabal figures: its validators' and miners' profit per day (sums) and the
    share of the honest miners present at the start still there at the end."""
    ap = payoffs_of(r)
    first = r.agents[r.agents["epoch"] == r.agents["epoch"].min()]
    last = r.agents[r.agents["epoch"] == r.agents["epoch"].max()]
    cab, mi, va = ap["cabal"] >= 0, ap["role"] == "miner", ap["role"] == "validator"
    honest0 = set(first.loc[(first["role"] == "miner") & (first["cabal"] < 0), "account"])
    return {
        "validators": float(ap.loc[cab & va, "profit_usd_per_day"].sum()),
        "miners": float(ap.loc[cab & mi, "profit_usd_per_day"].sum()),
        "stay": len(honest0 & set(last["account"])) / max(len(honest0), 1),
    }


def _claim11(sets: list[ResultSet]) -> Verdict:
    """Claim 11: cabal validators that boost their own miners go unpunished, at a rate
    that avoids mass exits.

    Every boost b > 0 is compared with the control b = 0 (the same cabal grading honestly)
    at the same cabal stake share, world by world: the effect is the change in the cabal's
    joint profit (its validators' plus its miners', USD a day) per 1,000 TAO of the cabal
    validators' stake, so a difference of stake is never read as a gain. Holds in a cell
    when that interval lies above 0 (favouring pays and is not punished), fails when below.
    The premise "a rate that avoids mass exits": the cell's honest miners stay at least 90%
    as often as in the control; cells with mass exits are shown, not judged.
    """
    rs = sets[0]
    cells = sweep_cells(rs)
    figs = {c.index: {r.seed_index: _cabal_run(r) for r in c.runs} for c in cells}
    # the TAO the cabal validators staked at genesis (in dtao it bought alpha, whose
    # records are in alpha; the TAO put in is what one unit of stake means in both eras)
    staked = {c.index: sum(p["count"] * p["params"].get("stake_tao", 0.0)
                           for p in c.population if p["strategy"] == "cabal_validator")
              for c in cells}

    def level(c: SweepCell) -> str:
        return repr({p: v for p, v in c.overrides.items() if not p.endswith(".boost")})

    control = {level(c): c for c in cells if c.param("cabal_validator", "boost") == 0}
    tests = []
    for c in cells:
        boost = c.param("cabal_validator", "boost")
        base = control.get(level(c))
        if boost == 0 or base is None:
            tests.append(c.test(None, "the control (boost 0): the cabal grades honestly",
                                tested=False))
            continue
        a, b = figs[c.index], figs[base.index]
        seeds = sorted(set(a) & set(b))

        def per_k(f: dict[str, float], key: str, stake: float = staked[c.index]) -> float:
            return 1000.0 * f[key] / stake

        joint = {s: per_k(a[s], "validators") + per_k(a[s], "miners")
                 - per_k(b[s], "validators") - per_k(b[s], "miners") for s in seeds}
        vals = estimate([per_k(a[s], "validators") - per_k(b[s], "validators")
                         for s in seeds])
        mins = estimate([per_k(a[s], "miners") - per_k(b[s], "miners") for s in seeds])
        stay = estimate([a[s]["stay"] / max(b[s]["stay"], 1e-9) for s in seeds])
        detail = (f"against boost 0, per 1,000 TAO of cabal stake: cabal joint "
                  f"{fmt_est(estimate(list(joint.values())), '$')}/day (its validators "
                  f"{fmt_est(vals, '$')}, its miners {fmt_est(mins, '$')}); honest miners "
                  f"staying, relative to the control, {fmt_est(stay)}")
        tests.append(c.compare(joint, 0.0, detail, tested=stay.mean >= 0.9))
    return judge(11, rs, tests, notes=[
        "Each boost is compared with boost 0 at the same stake share in the same world, "
        "per unit of the cabal's stake: the cabal validators' stake, which alone made them "
        "out-earn honest ones before, cancels. In today's cells (dtao) every stake is a "
        "hundredth of December 2023's (docs/claims.md), so figures per 1,000 TAO are a "
        "hundred times larger there."])
