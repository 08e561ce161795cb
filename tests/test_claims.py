"""The claims' verdict logic on synthetic inputs (issue 6): holds / does not hold / holds
in part (with where) / inconclusive, and two claims end to end on synthetic results."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_report import agents_frame, metrics_frame, write_results

from analysis.claims import (
    CLAIMS,
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    PART,
    CellTest,
    claims_report,
    combine,
    evaluate,
    interval_test,
    latest_results,
)
from analysis.stats import Estimate


def est(mean: float, low: float, high: float) -> Estimate:
    return Estimate(mean, low, high, 5, "BCa")


def cells(axis: str, outcomes: dict[str, bool | None]) -> list[CellTest]:
    return [CellTest({axis: v}, o, "") for v, o in outcomes.items()]


def test_interval_test_three_ways() -> None:
    assert interval_test(est(3, 1, 5), 0.0) is True
    assert interval_test(est(-3, -5, -1), 0.0) is False
    assert interval_test(est(0.5, -1, 2), 0.0) is None
    assert interval_test(est(0.5, -1, 2), 3.0, above=False) is True
    assert interval_test(Estimate(1.0, math.nan, math.nan, 1, "none"), 0.0) is None


def test_combine_holds_fails_and_inconclusive() -> None:
    assert combine(cells("x", {"1": True, "2": True}), ["x"])[0] == HOLDS
    assert combine(cells("x", {"1": False, "2": False}), ["x"])[0] == FAILS
    assert combine(cells("x", {"1": None, "2": None}), ["x"])[0] == INCONCLUSIVE
    # no cell within the premise: shown, and inconclusive (not "not run": runs exist)
    assert combine([CellTest({"x": "1"}, True, "", tested=False)], ["x"]) == (
        INCONCLUSIVE, "no cell creates the claim's premise (every cell shown, none judged)")
    # untested cells do not count
    c = cells("x", {"1": True}) + [CellTest({"x": "2"}, False, "", tested=False)]
    assert combine(c, ["x"])[0] == HOLDS


def test_combine_partial_says_where_along_one_axis() -> None:
    status, where = combine(cells("reveal_period", {"0": True, "1": True, "2": False,
                                                     "4": False}), ["reveal_period"])
    assert status == PART
    assert where == "holds for reveal_period <= 1, not for {2, 4}"
    status, where = combine(cells("capability", {"0.6": False, "0.8": None, "1.0": True}),
                            ["capability"])
    assert status == PART
    assert where == "holds for capability >= 1.0, not for {0.6}, inconclusive for {0.8}"
    _, where = combine(cells("policy", {"popular": True, "loyal": False}), ["policy"])
    assert where == "holds for policy in {popular}, not for {loyal}"


def test_combine_partial_over_two_axes() -> None:
    # the outcome depends on the stake share only: described along that axis alone
    grid = [CellTest({"stake": s, "boost": b}, s == "high", "")
            for s in ("low", "high") for b in ("0.1", "0.5")]
    status, where = combine(grid, ["stake", "boost"])
    assert status == PART and where == "holds for stake in {high}, not for {low}"
    # both matter: one phrase along the last axis per value of the other, merged
    grid = [CellTest({"price": p, "rate": r}, p == "30" and r == "0", "")
            for p in ("275", "60", "30") for r in ("0", "2")]
    status, where = combine(grid, ["price", "rate"])
    assert status == PART
    assert where == ("at price in {275, 60}: does not hold for any rate; "
                     "at price = 30: holds for rate <= 0, not for {2}")


def _claim10_config(sample_size: int | None = 10) -> dict:
    scenario: dict = {"tempo": 360, "subnets": [{"yuma": {"max_validators": 16}}]}
    if sample_size is not None:
        scenario["subnets"][0]["work"] = {"sample_size": sample_size}
    return {"name": "claim10_overhead", "epochs": 20, "warmup_epochs": 5,
            "scenario": scenario,
            "population": [{"strategy": "honest_validator", "count": 4, "subnet": 0},
                           {"strategy": "honest_miner", "count": 112, "subnet": 0}]}


def test_claim10_multiplies_a_round_by_the_validators_and_follows_from_the_rules(
        tmp_path: Path) -> None:
    """Per customer answer: V rounds of N computed + N graded; holds above N + V, fails
    below (a network where almost no miner computes), and says it follows from the rules."""
    grid = {"paths": ["population.0.count"], "zip": []}
    cells_, runs = [], []
    for k, (v, per_round) in enumerate(((4, 20.0), (16, 1.0))):
        cells_.append({"cell": k, "profile": None, "overrides": {"population.0.count": v}})
        for seed in range(3):
            over = per_round + np.random.default_rng(seed).normal(0, 0.01, 20)
            runs.append((k, seed, metrics_frame(20, {"m": {"profit": 1.0}},
                                                compute_per_useful_answer=over), None))
    write_results(tmp_path / "claim10_overhead" / "h", _claim10_config(), cells_, runs, grid)
    v = evaluate(CLAIMS[9], latest_results(tmp_path))
    assert v.claim == 10 and v.status == PART and v.follows_from_rules, v.numbers
    assert [c.outcome for c in v.cells] == [True, False]
    # 4 validators x 20 per round = 80 > N + V = 14; 16 x 1 = 16 < N + V = 26
    assert "per customer answer 80.0" in v.cells[0].detail and "N + V = 14" in \
        v.cells[0].detail
    assert "N + V = 26" in v.cells[1].detail
    assert "V x 2N" in v.derivation


def _claim4_results(root: Path, cabal_minus_passthrough: dict[int, float]) -> None:
    """Copy-cabal vs pass-through payoffs per dedup setting (cell)."""
    config = {"name": "claim04_copy_cabals", "epochs": 20, "warmup_epochs": 5,
              "scenario": {"tempo": 360},
              "population": [{"strategy": "honest_validator", "count": 16, "subnet": 0}]}
    grid = {"paths": ["population.0.params.dedup"], "zip": []}
    cells_, runs = [], []
    for k, (dedup, diff) in enumerate(cabal_minus_passthrough.items()):
        cells_.append({"cell": k, "profile": None,
                       "overrides": {"population.0.params.dedup": dedup}})
        for seed in range(4):
            noise = 0.5 * (seed - 1.5)
            # the difference varies a little across seeds: with none it would decide nothing
            m = metrics_frame(20, {"copy_cabal": {"profit": 10.0 + diff + noise
                                                  + 0.2 * (seed % 2)},
                                   "gpt_passthrough": {"profit": 10.0 + noise}})
            runs.append((k, seed, m, None))
    write_results(root / "claim04_copy_cabals" / "h", config, cells_, runs, grid)


@pytest.mark.parametrize(("diffs", "status"), [
    ({0: 5.0, 1: 3.0}, HOLDS),
    ({0: -5.0, 1: -3.0}, FAILS),
    ({0: 5.0, 1: -3.0}, PART),
])
def test_claim4_verdicts(tmp_path: Path, diffs: dict[int, float], status: str) -> None:
    _claim4_results(tmp_path, diffs)
    v = evaluate(CLAIMS[3], latest_results(tmp_path))
    assert v.status == status
    if status == PART:
        assert v.where == "holds for honest_validator.dedup <= 0, not for {1}"
    assert len(v.cells) == 2 and "difference" in v.cells[0].detail


def test_no_variation_across_seeds_decides_nothing(tmp_path: Path) -> None:
    _claim4_results(tmp_path, {0: 5.0, 1: -3.0})
    assert interval_test(Estimate(5.0, 5.0, 5.0, 4, "no variation"), 0.0) is None
    # the same difference in every seed: reported, not decisive
    config = {"name": "claim04_copy_cabals", "epochs": 20, "warmup_epochs": 5,
              "population": [{"strategy": "honest_validator", "count": 16, "subnet": 0}]}
    runs = [(0, seed, metrics_frame(20, {"copy_cabal": {"profit": 15.0},
                                         "gpt_passthrough": {"profit": 10.0}}), None)
            for seed in range(4)]
    write_results(tmp_path / "x" / "claim04_copy_cabals" / "h", config,
                  [{"cell": 0, "profile": None, "overrides": {}}], runs,
                  {"paths": [], "zip": []})
    v = evaluate(CLAIMS[3], latest_results(tmp_path / "x"))
    assert v.status == INCONCLUSIVE and "no variation" not in v.where
    assert v.cells[0].outcome is None
    assert "difference $100 (no variation across seeds)" in v.cells[0].detail


def test_claim10_reads_the_sample_size_the_run_recorded(tmp_path: Path) -> None:
    """N comes from the run's resolved config (here 30, not the world's default of 50)."""
    runs = [(0, seed, metrics_frame(20, {"m": {"profit": 1.0}},
                                    compute_per_useful_answer=60 + np.random.default_rng(
                                        seed).normal(0, 0.01, 20)), None)
            for seed in range(3)]
    write_results(tmp_path / "claim10_overhead" / "h", _claim10_config(30),
                  [{"cell": 0, "profile": None, "overrides": {}}], runs,
                  {"paths": [], "zip": []})
    v = evaluate(CLAIMS[9], latest_results(tmp_path))
    assert v.status == HOLDS and "N + V = 34" in v.cells[0].detail
    # a config that does not say: a data condition
    write_results(tmp_path / "b" / "claim10_overhead" / "h", _claim10_config(None),
                  [{"cell": 0, "profile": None, "overrides": {}}], runs,
                  {"paths": [], "zip": []})
    v = evaluate(CLAIMS[9], latest_results(tmp_path / "b"))
    assert v.status == INCONCLUSIVE and "sample_size" in v.numbers[0]


def test_a_programming_error_in_a_claim_raises(tmp_path: Path) -> None:
    """A KeyError from code (here a metrics table without the claim's column) is not
    reported as a research result."""
    runs = [(0, seed, metrics_frame(20, {"m": {"profit": 1.0}}), None) for seed in range(3)]
    write_results(tmp_path / "claim10_overhead" / "h", _claim10_config(30),
                  [{"cell": 0, "profile": None, "overrides": {}}], runs,
                  {"paths": [], "zip": []})
    with pytest.raises(KeyError, match="compute_per_useful_answer"):
        evaluate(CLAIMS[9], latest_results(tmp_path))


def test_claim3_compares_the_copier_with_its_own_cohort(tmp_path: Path) -> None:
    """A 20k-TAO copier gaining $112/day over its cohort holds claim 3, although it earns
    far less than the mean honest validator (which includes 200k-TAO ones)."""
    from test_analysis_deviations import _confounded

    _confounded(tmp_path, {"weight_copier": 5.0}, name="claim03_weight_copying")
    v = evaluate(CLAIMS[2], latest_results(tmp_path))
    assert v.status == HOLDS, v.numbers
    assert "copier - honest = $112 [" in v.cells[0].detail


def test_claims_report_lists_every_claim(tmp_path: Path) -> None:
    _claim4_results(tmp_path, {0: 5.0, 1: -3.0})
    path = claims_report(tmp_path, experiment_reports=False)
    text = path.read_text()
    for c in CLAIMS:
        assert f"## Claim {c.number}:" in text
    assert "**holds in part**" in text and "**not run**" in text
    table = [line for line in text.splitlines() if line.startswith("| 4 |")]
    assert table and "holds in part" in table[0]


def test_agents_frame_helper_is_consistent() -> None:
    # guards the synthetic data the payoff tests rely on
    a = agents_frame(range(0, 4, 2), {1: {"strategy": "s", "role": "miner", "profit": 2.0}})
    assert isinstance(a, pd.DataFrame)
    assert a["profit_usd_total"].tolist() == [2.0, 6.0]
