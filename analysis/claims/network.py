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
from analysis.report import fmt, fmt_est
from analysis.results import ResultSet


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
    """Claim 10: (answers computed + answers graded) per useful answer against N + V.

    N = the miners a query reaches (the sample size), V = the responses the validator
    grades (N). Holds in a cell when the post-warm-up overhead's interval lies within 10%
    of N + V, fails when it lies entirely outside.
    """
    rs = sets[0]

    def test(c: SweepCell) -> CellTest:
        n = config_value(c.config, "scenario.subnets.0.work.sample_size")
        e = estimate([float(np.nanmean(after(r.metrics, r.warmup)["compute_per_useful_answer"]))
                      for r in c.runs])
        target = 2.0 * n
        lo, hi = 0.9 * target, 1.1 * target
        if not e.varies:
            out: bool | None = None
        elif lo <= e.low and e.high <= hi:
            out = True
        elif e.high < lo or e.low > hi:
            out = False
        else:
            out = None
        return c.test(out, f"overhead {fmt_est(e)} answers per useful answer; N + V = "
                      f"{fmt(target)} (N = {n})")

    return judge(10, rs, map(test, sweep_cells(rs)),
                 notes=["In the model the overhead is an accounting identity of the query "
                        "protocol: each query round computes about N answers and grades "
                        "them; miners that do not compute (lazy, copies) lower it."])
