"""Claim 11's verdict logic on synthetic results (issue 18): a boost is judged against the
boost-0 control of the same world, per unit of the cabal's stake, and cells with mass exits
of honest miners are outside the claim's premise."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_report import agents_frame, metrics_frame, write_results

from analysis.claims import CLAIMS, FAILS, HOLDS, INCONCLUSIVE, evaluate, latest_results


def _claim11_results(root: Path, joint_gain: float, exits: bool = False,
                     era: str = "dec2023") -> None:
    """Cells boost 0 and 0.5: the cabal (1 validator of 10,000 TAO, 2 miners) gains
    ``joint_gain`` USD a day at boost 0.5; honest validators (much more stake) earn more
    in every cell, which must not matter. In ``dtao`` the genesis TAO bought alpha: the
    records hold no TAO stake."""
    held = 10000.0 if era == "dec2023" else 0.0
    config = {"name": "claim11_cabal_validators", "epochs": 40, "warmup_epochs": 10,
              "scenario": {"era": era},
              "population": [
                  {"strategy": "honest_validator", "count": 2, "params": {"stake_tao": 90000}},
                  {"strategy": "cabal_validator", "count": 1,
                   "params": {"stake_tao": 10000, "boost": 0.3}},
                  {"strategy": "honest_miner", "count": 6, "params": {}}]}
    grid = {"paths": ["population.1.params.boost"], "zip": []}
    cells, runs = [], []
    for k, boost in enumerate((0.0, 0.5)):
        cells.append({"cell": k, "profile": None,
                      "overrides": {"population.1.params.boost": boost}})
        for seed in range(5):
            gain = (joint_gain / 20 * (1 + 0.05 * (seed - 2))) if boost else 0.0
            agents = {0: {"strategy": "honest_validator", "role": "validator", "profit": 50.0,
                          "stake": 90000.0},
                      1: {"strategy": "honest_validator", "role": "validator", "profit": 50.0,
                          "stake": 90000.0},
                      2: {"strategy": "cabal_validator", "role": "validator",
                          "profit": 5.0 + gain, "stake": held}}
            agents |= {a: {"strategy": "honest_miner", "role": "miner", "profit": 1.0,
                           **({"until": 20} if exits and boost and a > 4 else {})}
                       for a in range(3, 9)}
            frame = agents_frame(range(0, 40, 5), agents)
            frame.loc[frame["account"].isin([2, 3, 4]), "cabal"] = 0
            runs.append((k, seed, metrics_frame(40, {}), frame))
    write_results(root / "claim11_cabal_validators" / "h", config, cells, runs, grid)


@pytest.mark.parametrize(("gain", "status", "era"), [
    (40.0, HOLDS, "dec2023"), (-40.0, FAILS, "dec2023"), (40.0, HOLDS, "dtao")])
def test_claim11_compares_each_boost_with_its_control_per_unit_of_stake(
        tmp_path: Path, gain: float, status: str, era: str) -> None:
    """Per 1,000 TAO the cabal staked at genesis, in both eras (in dtao that TAO bought
    alpha: the unit is still the TAO put in)."""
    _claim11_results(tmp_path, gain, era=era)
    v = evaluate(CLAIMS[10], latest_results(tmp_path))
    assert v.status == status, [c.detail for c in v.cells]
    control, boosted = v.cells
    assert not control.tested and boosted.tested
    # +-40 $/day on 10,000 TAO = +-4 $/day per 1,000 TAO
    assert f"cabal joint ${gain / 10:.2f} [" in boosted.detail


def test_claim11_mass_exits_are_outside_the_premise(tmp_path: Path) -> None:
    _claim11_results(tmp_path, 40.0, exits=True)
    v = evaluate(CLAIMS[10], latest_results(tmp_path))
    assert not v.cells[1].tested and v.status == INCONCLUSIVE
    assert "honest miners staying, relative to the control, 0 (" in v.cells[1].detail
    assert v.where.startswith("no cell creates the claim's premise")


def test_claim5_reports_the_break_even_api_price(tmp_path: Path) -> None:
    """Pass-through minus GPU = +10 at $0.01 a query and -10 at $0.03: holds at the cheap
    price, fails at the dear one, break-even $0.020; capability 1.0 is outside the premise."""
    config = {"name": "claim05_passthrough", "epochs": 20, "warmup_epochs": 5,
              "scenario": {"tempo": 360, "subnets": [{"work": {"query_rounds": 30}}]},
              "population": [
                  {"strategy": "honest_validator", "count": 4, "params": {"capability": 0.6}},
                  {"strategy": "honest_miner", "count": 4, "params": {"quality": 0.69}},
                  {"strategy": "gpt_passthrough", "count": 4,
                   "params": {"quality": 0.93, "query_cost_usd": 0.02}}]}
    grid = {"paths": ["population.0.params.capability", "population.2.params.query_cost_usd"],
            "zip": []}
    cells, runs = [], []
    for cap in (0.6, 1.0):
        for cost, diff in ((0.01, 10.0), (0.03, -10.0)):
            k = len(cells)
            cells.append({"cell": k, "profile": None, "overrides": {
                "population.0.params.capability": cap,
                "population.2.params.query_cost_usd": cost}})
            for seed in range(4):
                noise = 0.3 * (seed - 1.5)
                m = metrics_frame(20, {"gpt_passthrough": {"profit": (100 + diff) / 20 + noise
                                                           + 0.01 * (seed % 2)},
                                       "honest_miner": {"profit": 100 / 20 + noise}})
                runs.append((k, seed, m, None))
    write_results(tmp_path / "claim05_passthrough" / "h", config, cells, runs, grid)
    v = evaluate(CLAIMS[4], latest_results(tmp_path))
    assert [(c.tested, c.outcome) for c in v.cells] == [
        (True, True), (True, False), (False, True), (False, False)]
    assert "capability 0.6, 30 query rounds an epoch: break-even API price $0.020 a query." \
        in v.numbers
