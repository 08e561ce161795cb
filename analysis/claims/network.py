"""Claims 9 and 10: where delegated stake goes, and what the network spends per useful answer."""

from __future__ import annotations

import numpy as np

from analysis.claims.cells import (
    MissingData,
    SweepCell,
    after,
    config_value,
    judge,
    paired,
    paired_effects,
    sweep_cells,
)
from analysis.claims.verdicts import (
    CellTest,
    Verdict,
    estimate,
)
from analysis.report import fmt_est
from analysis.results import ResultSet, RunData

DESIGNS = {
    9: "Predicts that delegation follows popularity, so stake concentrates over time. 16 "
       "validators of unequal stake (60k, 30k, 15k TAO) and 60 delegators of 2k TAO each: "
       "all loyal (placed at random and staying: the control), half or all following "
       "popularity (the premise: judged), or all chasing yield (outside the premise: "
       "shown). Each cell's Nakamoto coefficient of validator stake at the end of a month "
       "is compared with the control's in the same world; the change after the first "
       "week says whether concentration keeps growing. 6 worlds, 30 days.",
    10: "Predicts that the network spends N + V times the compute of one useful answer. "
        "Measured from the customer's side: one answer per round reaches a customer while "
        "each of the V permitted validators runs its own round over N sampled miners and "
        "grades the answers; the world counts answers computed and graded per round. "
        "Swept: N (10, 25, 50), V (4 or 16) and a quarter of the miners lazy or not; 6 "
        "worlds, 5 days. The multiple V x 2N follows from the protocol and is labelled so; "
        "the runs measure what lazy miners take off it.",
}


def _claim9(sets: list[ResultSet]) -> Verdict:
    """Claim 9: Nakamoto coefficient of validator stake at the end (mean of the last 20
    epochs), paired by world against the all-loyal control (delegators placed at random,
    staying), and its trend after the first week within each cell.

    The premise is that delegators follow popularity: cells with popularity followers are
    judged (holds when the end Nakamoto's paired difference to the control lies below 0,
    fails when above); cells without them (all loyal, all yield-chasing) are shown, not
    judged. "Over time" is reported as the change from the first week's end to the run's.
    """
    rs = sets[0]
    cells = sweep_cells(rs)

    def window(r: RunData, start: int, end: int | None) -> float:
        m = r.metrics
        sel = m[(m["epoch"] >= start) & ((m["epoch"] < end) if end is not None else True)]
        return float(sel["nakamoto_stake"].mean())

    ends = {c.index: {r.seed_index: float(r.metrics["nakamoto_stake"].iloc[-20:].mean())
                      for r in c.runs} for c in cells}
    week = {c.index: {r.seed_index: window(r, 120, 140) for r in c.runs} for c in cells}

    def count(c: SweepCell, strategy: str) -> int:
        return sum(co["count"] for co in c.population if co["strategy"] == strategy)

    loyal = next((c.index for c in cells if count(c, "loyal_delegator") > 0
                  and count(c, "popularity_follower") == count(c, "yield_chaser") == 0), None)
    if loyal is None:
        raise MissingData("no all-loyal control cell")

    def test(c: SweepCell) -> CellTest:
        e_end = estimate(list(ends[c.index].values()))
        later = paired(ends[c.index], week[c.index])
        d = paired_effects(ends[c.index], ends[loyal])
        detail = (f"Nakamoto at the end {fmt_est(e_end)} (all loyal "
                  f"{fmt_est(estimate(list(ends[loyal].values())))}; difference "
                  f"{fmt_est(paired(ends[c.index], ends[loyal]))}); change after the first "
                  f"week {fmt_est(later)}")
        premise = count(c, "popularity_follower") > 0
        if c.index == loyal:
            return c.test(None, "all loyal (the control): " + detail, tested=False)
        return c.compare(d, 0.0, detail, above=False, tested=premise)

    return judge(9, rs, map(test, cells),
                 notes=["Delegators choose by their policy from the first epoch and "
                        "popularity followers move when the largest validator leads theirs "
                        "by the hurdle, so the concentration comes within days and then "
                        "stays: the change after the first week shows whether anything "
                        "more happens over the month. Cells without popularity followers "
                        "are outside the claim's premise and shown."])


def _claim10(sets: list[ResultSet]) -> Verdict:
    """Claim 10: the network spends N + V times the compute of one useful answer.

    The customer's side: one answer reaches a customer per round of queries, while each of
    the V permitted validators sends its own round to N sampled miners and grades what
    comes back. Per customer answer the network computes the miners' answers and the
    gradings of all V rounds: ``V * compute_per_useful_answer`` (the world's measure of
    answers computed plus graded per validator round; lazy miners compute nothing, copies
    once). Holds in a cell when that multiple's interval lies above N + V (the network
    spends at least what the report says), fails when below. The protocol makes it
    about ``V * 2N``: labelled as following from the rules; what the runs measure is how
    far lazy miners and unanswered queries pull it down.
    """
    rs = sets[0]

    def test(c: SweepCell) -> CellTest:
        n = int(config_value(c.config, "scenario.subnets.0.work.sample_size"))
        vals = sum(co["count"] for co in c.population if co["strategy"].endswith("validator"))
        v = min(vals, int(config_value(c.config, "scenario.subnets.0.yuma.max_validators")))
        per_round = {r.seed_index: float(np.nanmean(
            after(r.metrics, r.warmup)["compute_per_useful_answer"])) for r in c.runs}
        multiple = {s: v * x for s, x in per_round.items()}
        return c.compare(multiple, float(n + v), (
            f"per customer answer {fmt_est(estimate(list(multiple.values())))} answers "
            f"computed and graded (V = {v} validators x "
            f"{fmt_est(estimate(list(per_round.values())))} per round); N + V = {n + v}, "
            f"the protocol's V x 2N = {2 * n * v}"))

    return judge(10, rs, map(test, sweep_cells(rs)), follows_from_rules=(
        "each of the V permitted validators queries N sampled miners per round and grades "
        "their answers (MODEL.md section 5), so a round computes up to N answers and grades "
        "N, and one customer answer costs V rounds: V x 2N answers computed and graded, "
        "which exceeds N + V for any N, V >= 1 (2NV - N - V = N(V - 1) + V(N - 1) >= 0). "
        "Only miners that do not compute (lazy ones, copies) lower it."), notes=[
        "The report's N + V counts one validator's query and the validators' grading once; "
        "the chain runs V separate query rounds, one per validator."])
