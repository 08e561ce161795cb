"""Claim 6: whether validators weaker than the miners they grade can still rank them."""

from __future__ import annotations

import numpy as np

from analysis.claims.cells import (
    SweepCell,
    after,
    judge,
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


def _claim6(sets: list[ResultSet]) -> Verdict:
    """Claim 6: alignment (rank correlation of quality and incentive, post-warm-up mean).

    Where every miner's quality is at or above the validators' capability, the claim
    predicts collapse: holds when the alignment's interval lies below 0.2, fails when
    above. Where every miner is below it, the contrast: alignment should stay (interval
    above 0.5). Bands straddling the capability are shown, not judged.
    """
    rs = sets[0]

    def test(c: SweepCell) -> CellTest:
        cap = c.param("honest_validator", "capability")
        qs = [co["params"]["quality"] for co in c.population
              if co["strategy"] == "honest_miner"]
        e = estimate([float(np.nanmean(after(r.metrics, r.warmup)["alignment"]))
                      for r in c.runs])
        if min(qs) >= cap:
            out, tested, what = interval_test(e, 0.2, above=False), True, "above"
        elif max(qs) < cap:
            out, tested, what = interval_test(e, 0.5), True, "below"
        else:
            out, tested, what = None, False, "across"
        return c.test(out, f"miners {min(qs)}-{max(qs)} {what} capability {cap}: alignment "
                      f"{fmt_est(e)}", tested)

    return judge(6, rs, map(test, sweep_cells(rs)))
