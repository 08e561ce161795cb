"""Claims 9 and 10: where delegated stake goes, and what the network spends per useful answer."""

from __future__ import annotations

import numpy as np

from analysis.claims.cells import (
    SweepCell,
    after,
    config_value,
    judge,
    paired,
    sweep_cells,
)
from analysis.claims.verdicts import (
    CellTest,
    Verdict,
    estimate,
    interval_test,
)
from analysis.report import fmt_est
from analysis.results import ResultSet

DESIGNS = {
    10: "Predicts that the network spends N + V times the compute of one useful answer. "
        "Measured from the customer's side: one answer per round reaches a customer while "
        "each of the V permitted validators runs its own round over N sampled miners and "
        "grades the answers; the world counts answers computed and graded per round. "
        "Swept: N (10, 25, 50), V (4 or 16) and a quarter of the miners lazy or not; 6 "
        "worlds, 5 days. The multiple V x 2N follows from the protocol and is labelled so; "
        "the runs measure what lazy miners take off it.",
}


def _claim9(sets: list[ResultSet]) -> Verdict:
    """Claim 9: Nakamoto coefficient of validator stake at the end (last 20 epochs), paired
    against the all-loyal cell, and its change over the run within each cell.

    Holds in a cell when the end Nakamoto's paired difference to the loyal cell lies below
    0 (stake more concentrated than where delegators stay put), fails when it lies at or
    above 0 with a degenerate or positive interval.
    """
    rs = sets[0]
    cells = sweep_cells(rs)
    ends = {c.index: {r.seed_index: float(r.metrics["nakamoto_stake"].iloc[-20:].mean())
                      for r in c.runs} for c in cells}
    starts = {c.index: {r.seed_index: float(r.metrics["nakamoto_stake"].iloc[0])
                        for r in c.runs} for c in cells}
    loyal = None
    for c in cells:
        if all(co["count"] == 0 for co in c.population
               if co.get("subnet") is None and co["strategy"] != "loyal_delegator"):
            loyal = c.index

    def test(c: SweepCell) -> CellTest:
        e_end = estimate(list(ends[c.index].values()))
        change = paired(ends[c.index], starts[c.index])
        if c.index == loyal or loyal is None:
            return c.test(None, f"all loyal (reference): Nakamoto {fmt_est(e_end)} at the end, "
                          f"change over the run {fmt_est(change)}", tested=False)
        d = paired(ends[c.index], ends[loyal])
        return c.test(interval_test(d, 0.0, above=False),
                      f"Nakamoto at the end {fmt_est(e_end)} (all loyal "
                      f"{fmt_est(estimate(list(ends[loyal].values())))}; difference "
                      f"{fmt_est(d)}); change over the run {fmt_est(change)}")

    return judge(9, rs, map(test, cells),
                 notes=["The claim's premise (that delegators follow popularity) is "
                        "behavioural; the model shows its consequence for each policy. "
                        "Delegators choose at genesis by their policy, so concentration "
                        "under popularity shows from the first epoch. A difference with no "
                        "variation across seeds decides nothing by itself."])


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
