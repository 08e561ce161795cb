"""Claims 9 and 12's verdict logic on synthetic results (issue 18): claim 9 judges the cells
where delegators follow popularity against the all-loyal control of the same world and
shows the others; claim 12 judges consolidation per inflow and reports the honest miners'
break-even inflow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_report import metrics_frame, write_results

from analysis.claims import CLAIMS, FAILS, HOLDS, evaluate, latest_results


def _claim9_results(root: Path, popular_nakamoto: float) -> None:
    config = {"name": "claim09_delegation", "epochs": 200, "warmup_epochs": 10,
              "scenario": {"era": "dec2023"},
              "population": [{"strategy": "honest_validator", "count": 4, "subnet": 0},
                             {"strategy": "loyal_delegator", "count": 10},
                             {"strategy": "popularity_follower", "count": 0},
                             {"strategy": "yield_chaser", "count": 0}]}
    grid = {"paths": [], "zip": [["population.1.count", "population.2.count",
                                  "population.3.count"]]}
    cells, runs = [], []
    for k, (counts, nak) in enumerate((((10, 0, 0), 6.0), ((0, 10, 0), popular_nakamoto),
                                       ((0, 0, 10), 6.0))):
        cells.append({"cell": k, "profile": None, "overrides": {
            "population.1.count": counts[0], "population.2.count": counts[1],
            "population.3.count": counts[2]}})
        for seed in range(5):
            m = metrics_frame(200, {}, nakamoto_stake=np.full(200, nak + 0.1 * seed
                                                              + 0.05 * (seed % 2) * k))
            runs.append((k, seed, m, None))
    write_results(root / "claim09_delegation" / "h", config, cells, runs, grid)


@pytest.mark.parametrize(("nakamoto", "status"), [(3.0, HOLDS), (8.0, FAILS)])
def test_claim9_judges_popularity_against_the_loyal_control(
        tmp_path: Path, nakamoto: float, status: str) -> None:
    _claim9_results(tmp_path, nakamoto)
    v = evaluate(CLAIMS[8], latest_results(tmp_path))
    assert v.status == status, [c.detail for c in v.cells]
    loyal, popular, chasers = v.cells
    assert not loyal.tested and popular.tested and not chasers.tested
    assert "change after the first week 0 (no variation" in popular.detail


def _claim12_results(root: Path) -> None:
    """Inflows $2,250 / $20,250 a day (price 10 / 90 at 0.03125 TAO a block): the cabal's
    share grows at the low inflow and shrinks at the high one; honest miners share 1 TAO
    an epoch, against a $1.6/hour GPU each: a loss at $10 a TAO, a profit at $90."""
    config = {"name": "claim12_consolidation", "epochs": 40, "warmup_epochs": 5,
              "scenario": {"era": "dec2023", "price": {"initial_usd": 90.0},
                           "economy": {"fixed_emission_per_block": 0.03125}},
              "population": [
                  {"strategy": "honest_validator", "count": 2, "params": {}},
                  {"strategy": "honest_miner", "count": 10,
                   "params": {"gpu_usd_per_hour": 1.6}},
                  {"strategy": "copy_cabal", "count": 5, "params": {"share_costs": 1}}]}
    grid = {"paths": ["price.initial_usd"], "zip": []}
    cells, runs = [], []
    for k, (price, change) in enumerate(((10.0, 0.10), (90.0, -0.10))):
        cells.append({"cell": k, "profile": None, "overrides": {"price.initial_usd": price}})
        for seed in range(4):
            end = (5 / 15 + change) + 0.005 * seed
            cab = np.linspace(5, end * 15, 40)
            m = metrics_frame(40, {}, **{
                "population:copy_cabal": cab, "population:honest_miner": 15 - cab,
                "emission_tao:copy_cabal": np.full(40, 1.0),
                "emission_miners_tao": np.full(40, 6.0),
                "emission_tao:honest_miner": np.full(40, 1.0),
                "price_usd": np.full(40, price)})
            runs.append((k, seed, m, None))
    write_results(root / "claim12_consolidation" / "h", config, cells, runs, grid)


def test_claim12_consolidation_by_inflow_with_the_break_even(tmp_path: Path) -> None:
    _claim12_results(tmp_path)
    v = evaluate(CLAIMS[11], latest_results(tmp_path))
    assert [c.outcome for c in v.cells] == [True, False], [c.detail for c in v.cells]
    assert "inflow $2,250 a day" in v.cells[0].detail
    assert v.numbers[0].startswith("cabal's model shared by every member: honest GPU "
                                   "miners break even at an inflow of $")
