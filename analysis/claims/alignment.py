"""Claim 6: whether validators weaker than the miners they grade can still rank them."""

from __future__ import annotations

import numpy as np

from analysis.claims.cells import (
    SweepCell,
    after,
    config_value,
    judge,
    payoffs_of,
    sweep_cells,
)
from analysis.claims.verdicts import (
    CellTest,
    Verdict,
    estimate,
)
from analysis.report import fmt_est
from analysis.results import ResultSet

DESIGNS = {
    6: "Predicts that alignment (the rank correlation of miners' true quality and their "
       "incentive) collapses once miners are better than their validators. Four miner "
       "cohorts 0.05 apart in a band (0.40-0.55, 0.60-0.75 or 0.80-0.95) graded by "
       "validators of capability 0.5 to 1.0, so that the gap between the band's mean "
       "quality and the capability runs from -0.53 to +0.38: a dose-response. Under the "
       "grader min a band above the capability is one perceived level, so its collapse is "
       "an identity (shown, not judged); under the graded judge, whose discrimination "
       "fades above its capability by an amount drawn per world from priors, it is "
       "measured: in bands wholly above the capability the best cohort must earn at most "
       "5% more than the worst (the ranking collapsed); the bands below are the contrast. "
       "6 worlds, 7.5 days.",
}


def _claim6(sets: list[ResultSet]) -> Verdict:
    """Claim 6: whether validators rank miners better than themselves, against the gap
    between the miners' mean quality and the validators' capability (a dose-response).

    Per run: the best cohort's income over the worst's (miners ranked, they are paid by
    rank; 1 when they cannot be told apart) and alignment (the rank correlation of quality
    and incentive, post-warm-up mean; with four tied cohorts its ceiling is 0.97, so it
    cannot show how much is left of the ranking: the ratio does). Judged under the graded
    judge: where every miner is above the capability the claim predicts collapse (holds
    when the ratio's interval lies below 1.05: the best earn at most 5% more), fails when
    above. Bands below or straddling the capability (the contrast), and every cell of the
    grader ``min`` (a band above the capability is one perceived level there: an
    identity), are shown, not judged; the dose-response over all of them is reported.
    """
    rs = sets[0]
    curve: dict[str, list[tuple[float, float, float]]] = {}

    def test(c: SweepCell) -> CellTest:
        cap = c.param("honest_validator", "capability")
        grader = str(config_value(c.config, "scenario.subnets.0.work.grader"))
        qs = {i: co["params"]["quality"] for i, co in enumerate(c.population)
              if co["strategy"] == "honest_miner"}
        hi, lo = max(qs, key=qs.get), min(qs, key=qs.get)
        gap = float(np.mean(list(qs.values()))) - cap
        ratio, align = {}, {}
        for r in c.runs:
            inc = payoffs_of(r).groupby("cohort")["income_usd_per_day"].mean()
            ratio[r.seed_index] = float(inc.loc[hi] / inc.loc[lo])
            align[r.seed_index] = float(np.nanmean(after(r.metrics, r.warmup)["alignment"]))
        e, ea = estimate(list(ratio.values())), estimate(list(align.values()))
        curve.setdefault(grader, []).append((gap, e.mean, ea.mean))
        q = sorted(qs.values())
        if q[0] > cap:
            what, above = "above", False
        elif q[-1] < cap:
            what, above = "below", True
        else:
            what, above = "across", True
        detail = (f"{grader} grader: miners {q[0]}-{q[-1]} {what} capability {cap} (gap "
                  f"{gap:+.3f}): best / worst cohort income {fmt_est(e)}; alignment "
                  f"{fmt_est(ea)}")
        if grader == "min" and what == "above":
            detail += " (follows from the rules: min(q, c) = c for every miner)"
        judged = grader != "min" and what == "above"
        return c.compare(ratio, 1.05, detail, above=above, tested=judged)

    tests = list(map(test, sweep_cells(rs)))
    nums = [f"{g} grader, by gap (mean quality - capability): best / worst cohort income "
            + ", ".join(f"{gap:+.2f}: {x:.3f}" for gap, x, _ in sorted(pts)) + "."
            for g, pts in sorted(curve.items())]
    return judge(6, rs, tests, numbers=nums, notes=[
        "Under the graded judge each answer is perceived less sharply above the judge's "
        "capability, but a validator grades many answers of each miner and averages them, "
        "so a small perceived difference still orders the miners unless grading noise is "
        "as large as the difference."])
