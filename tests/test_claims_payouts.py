"""Claims 1 and 2's verdict logic on synthetic results (issue 18): claim 1 holds as an
identity of the rules and states how far the held-out report figures are; claim 2 is
judged on the graded grader's cells only (holds when flat, fails when not) while the
``min`` grader's cells are shown as following from the rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_report import agents_frame, metrics_frame, write_results

from analysis.claims import CLAIMS, FAILS, HOLDS, evaluate, latest_results

ECONOMY = {"validator_share": 0.41, "miner_share": 0.41, "owner_share": 0.18}


def _claim1_results(root: Path, validator_usd: float, miner_usd: float) -> None:
    config = {"name": "claim01_sn1_calibration", "epochs": 40, "warmup_epochs": 10,
              "scenario": {"era": "dec2023", "economy": ECONOMY},
              "population": [{"strategy": "honest_validator", "count": 4, "params": {}},
                             {"strategy": "honest_miner", "count": 60, "params": {}}]}
    runs = []
    for seed in range(5):
        noise = 1.0 + 0.02 * (seed - 2)
        agents = {a: {"strategy": "honest_validator", "role": "validator", "cohort": 0,
                      "profit": validator_usd / 20 * noise * (1 + a)} for a in range(4)}
        agents |= {a: {"strategy": "honest_miner", "role": "miner", "cohort": 1,
                       "profit": miner_usd / 20 * noise} for a in range(4, 64)}
        runs.append((0, seed, metrics_frame(40, {}), agents_frame(range(0, 40, 5), agents)))
    write_results(root / "claim01_sn1_calibration" / "h", config,
                  [{"cell": 0, "profile": None, "overrides": {}}], runs)


def test_claim1_holds_as_an_identity_and_states_the_held_out_figures(tmp_path: Path) -> None:
    _claim1_results(tmp_path, validator_usd=2000.0, miner_usd=50.0)
    v = evaluate(CLAIMS[0], latest_results(tmp_path))
    assert v.status == HOLDS and v.follows_from_rules, v.numbers
    assert "(0.41 / 64) / (0.41 / 960) = 15" in v.derivation
    detail = v.cells[0].detail
    # the rule's ratio for 4 validators beside 60 miners, equal shares: 60 / 4 = 15
    assert "(the rules: 15.0)" in detail
    # the held-out comparison: the top validator earns 4 x 2000 x (1 +- noise) a day
    assert "x the report's $11,000" in detail and "top validator $8,000" in detail


def test_claim1_fails_when_miners_out_earn_validators(tmp_path: Path) -> None:
    _claim1_results(tmp_path, validator_usd=10.0, miner_usd=500.0)
    v = evaluate(CLAIMS[0], latest_results(tmp_path))
    assert v.status == FAILS, v.numbers


def _claim2_results(root: Path, graded_ratio: float) -> None:
    """Cells grader min / graded: the 0.93 cohort earns ``ratio`` x the 0.69 cohort."""
    config = {"name": "claim02_flat_payouts", "epochs": 40, "warmup_epochs": 10,
              "scenario": {"era": "dec2023", "subnets": [{"work": {"grader": "min"}}]},
              "population": [
                  {"strategy": "honest_validator", "count": 2, "params": {"capability": 0.83}},
                  {"strategy": "honest_miner", "count": 3, "params": {"quality": 0.69}},
                  {"strategy": "honest_miner", "count": 3, "params": {"quality": 0.93}}]}
    grid = {"paths": ["subnets.0.work.grader"], "zip": []}
    cells, runs = [], []
    for k, (grader, ratio) in enumerate((("min", 0.83 / 0.69), ("graded", graded_ratio))):
        cells.append({"cell": k, "profile": None,
                      "overrides": {"subnets.0.work.grader": grader}})
        for seed in range(6):
            noise = 1.0 + 0.01 * (seed - 2.5)
            agents = {a: {"strategy": "honest_validator", "role": "validator", "cohort": 0,
                          "profit": 100.0} for a in range(2)}
            agents |= {a: {"strategy": "honest_miner", "role": "miner", "cohort": 1,
                           "profit": 1.0} for a in range(2, 5)}
            agents |= {a: {"strategy": "honest_miner", "role": "miner", "cohort": 2,
                           "profit": ratio * noise} for a in range(5, 8)}
            runs.append((k, seed, metrics_frame(40, {}), agents_frame(range(0, 40, 5), agents)))
    write_results(root / "claim02_flat_payouts" / "h", config, cells, runs, grid)


@pytest.mark.parametrize(("ratio", "status"), [(1.05, HOLDS), (1.40, FAILS)])
def test_claim2_is_judged_on_the_graded_grader(tmp_path: Path, ratio: float,
                                                status: str) -> None:
    _claim2_results(tmp_path, ratio)
    v = evaluate(CLAIMS[1], latest_results(tmp_path))
    assert v.status == status, [c.detail for c in v.cells]
    by = {c.coords["work.grader"]: c for c in v.cells}
    assert by["graded"].tested and not by["min"].tested
    assert "follows from the rules: min(0.93, 0.83) / min(0.69, 0.83) = 1.20" in \
        by["min"].detail
    assert f"= {ratio:.2f} [" in by["graded"].detail
    assert np.isfinite(v.worlds["p_holds"])
