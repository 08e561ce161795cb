"""The claims report: a verdict on each of the 12 claims of ../shared/MODEL.md section 7.

Each claim has an experiment in ``experiments/configs/claims/`` (claims 1 and 2 share the
calibration scenario of the report's own setting). For each, this package computes, from
the result files only, a per-cell test of the claim with its numbers, and combines the
cells into a verdict (``verdicts``: holds, does not hold, holds in part with where,
inconclusive, not run). The tests, one function per claim, live by family: ``payouts``
(1, 2), ``strategies`` (3, 4, 5, 11), ``network`` (6-10, 12); ``cells`` holds what they
share; the thresholds are written next to each test with the reason for them.

A cell is decisive when its 95% interval (``analysis.stats.mean_ci`` over seeds) lies
entirely on one side of the claim's threshold; comparisons between strategies in a cell
are paired by seed (common random numbers). A claim whose results lack what its test
needs (``cells.MissingData``) is "inconclusive" with the reason; any other error raises.

Each claim is judged in every era its experiments ran (``evaluate_eras``: an experiment
sweeps ``era`` over ``dec2023`` and ``dtao``, and each era's cells are judged apart), with
the share of sampled worlds where it holds and the parameters that decide it
(``worlds``), and whether the verdict follows from the model's rules (``judge(...,
follows_from_rules=derivation)``).

``tao-arena claims RESULTS_ROOT`` writes ``claims.md`` and ``claims.json`` (and
per-experiment reports).
"""

from __future__ import annotations

from analysis.claims.run import (
    CLAIMS,
    claims_json,
    claims_report,
    evaluate,
    evaluate_eras,
    latest_results,
)
from analysis.claims.verdicts import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    NOT_RUN,
    PART,
    CellTest,
    Claim,
    Verdict,
    combine,
    describe_region,
    estimate,
    interval_test,
)

__all__ = [
    "CLAIMS",
    "FAILS",
    "HOLDS",
    "INCONCLUSIVE",
    "NOT_RUN",
    "PART",
    "CellTest",
    "Claim",
    "Verdict",
    "claims_json",
    "claims_report",
    "combine",
    "describe_region",
    "estimate",
    "evaluate",
    "evaluate_eras",
    "interval_test",
    "latest_results",
]
