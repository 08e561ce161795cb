"""Claims 7 and 8: verdict logic on synthetic results (issue 18). Claim 8: a turning pill
is compared with the same world where it never turns, and its stake share at the turn is
measured. Claim 7: the stake needed for a takeover, in each era's design."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_report import agents_frame, metrics_frame, write_results

from analysis.claims import CLAIMS, FAILS, HOLDS, evaluate, latest_results
from analysis.claims.run import evaluate_eras


def _results(root: Path, cabal_gain: float) -> None:
    """Cells turn 0 (control) and 1: after epoch 20 the cabal (pill + 2 miners) earns
    ``cabal_gain`` USD an epoch more when the pill turns; the pill holds 60% of the stake."""
    config = {"name": "claim08_poison_pill", "epochs": 40, "warmup_epochs": 5,
              "scenario": {"era": "dec2023"},
              "population": [
                  {"strategy": "honest_validator", "count": 2, "params": {"stake_tao": 10000}},
                  {"strategy": "poison_pill", "count": 1,
                   "params": {"stake_tao": 30000, "trigger_epoch": 20, "turn": 1.0}},
                  {"strategy": "honest_miner", "count": 4, "params": {}}]}
    grid = {"paths": ["population.1.params.turn"], "zip": []}
    cells, runs = [], []
    for k, turn in enumerate((0.0, 1.0)):
        cells.append({"cell": k, "profile": None,
                      "overrides": {"population.1.params.turn": turn}})
        for seed in range(5):
            extra = turn * cabal_gain * (1 + 0.05 * (seed - 2))
            agents = {0: {"strategy": "honest_validator", "role": "validator", "profit": 1.0},
                      1: {"strategy": "honest_validator", "role": "validator", "profit": 1.0},
                      2: {"strategy": "poison_pill", "role": "validator", "profit": 1.0}}
            agents |= {a: {"strategy": "honest_miner", "role": "miner", "profit": 1.0}
                       for a in range(3, 7)}
            f = agents_frame(range(0, 40, 5), agents)
            f["hotkey_stake_tao"] = f["account"].map({0: 10000.0, 1: 10000.0, 2: 30000.0})
            f.loc[f["account"].isin([2, 3, 4]), "cabal"] = 0
            late = (f["epoch"] >= 30) & f["account"].isin([2, 3, 4])
            f.loc[late, "income_usd"] += extra
            runs.append((k, seed, metrics_frame(40, {}), f))
    write_results(root / "claim08_poison_pill" / "h", config, cells, runs, grid)


@pytest.mark.parametrize(("gain", "status"), [(5.0, HOLDS), (-5.0, FAILS)])
def test_claim8_compares_the_turn_with_the_same_world_without_it(
        tmp_path: Path, gain: float, status: str) -> None:
    _results(tmp_path, gain)
    v = evaluate(CLAIMS[7], latest_results(tmp_path))
    assert v.status == status, [c.detail for c in v.cells]
    control, turned = v.cells
    assert not control.tested and turned.tested
    assert "stake share at the turn 0.6" in turned.detail


def _capture_runs(k: int, share: float) -> list[tuple]:
    """Four worlds of cell ``k`` where the attacker's miners take about ``share`` of the
    subnet's miner income."""
    runs = []
    for seed in range(4):
        s = share + 0.01 * (seed - 1.5)
        agents = {1: {"strategy": "stake_attacker", "role": "miner", "profit": s},
                  2: {"strategy": "honest_miner", "role": "miner", "profit": 1 - s}}
        f = agents_frame(range(0, 40, 5), agents)
        f["income_tao"] = f["profit_usd"]
        f.loc[f["account"] == 1, "cabal"] = 0
        runs.append((k, seed, metrics_frame(40, {}), f))
    return runs


def _claim7_results(root: Path, threshold: dict[int, float]) -> None:
    """Attacker stakes 1x and 2x the subnet's 40k TAO, without and with a defender; the
    attacker's miners take 90% of the miner income from ``threshold[defence]`` x up."""
    config = {"name": "claim07_takeover", "epochs": 40, "warmup_epochs": 5,
              "scenario": {"era": "dec2023", "price": {"initial_usd": 100.0}},
              "population": [
                  {"strategy": "honest_validator", "count": 8, "subnet": 0,
                   "params": {"stake_tao": 5000}},
                  {"strategy": "stake_attacker", "count": 1, "subnet": 0,
                   "params": {"outside_stake_tao": 40000}},
                  {"strategy": "honest_validator", "count": 8, "subnet": 1,
                   "params": {"stake_tao": 10000}},
                  {"strategy": "subnet_hopper", "count": 0, "subnet": 1,
                   "params": {"stake_tao": 100000}}]}
    grid = {"paths": ["population.3.count", "population.1.params.outside_stake_tao"],
            "zip": []}
    cells, runs = [], []
    for defence in (0, 1):
        for ratio in (1.0, 2.0):
            k = len(cells)
            cells.append({"cell": k, "profile": None, "overrides": {
                "population.3.count": defence,
                "population.1.params.outside_stake_tao": 40000 * ratio}})
            runs += _capture_runs(k, 0.9 if ratio >= threshold[defence] else 0.1)
    write_results(root / "claim07_takeover" / "h", config, cells, runs, grid)


@pytest.mark.parametrize(("threshold", "status"), [
    ({0: 1.0, 1: 1.0}, HOLDS),       # a defender changes nothing
    ({0: 1.0, 1: 2.0}, "holds in part"),  # the network's defender doubles the stake needed
])
def test_claim7_asks_whether_the_network_can_defend_a_subnet(
        tmp_path: Path, threshold: dict[int, float], status: str) -> None:
    _claim7_results(tmp_path, threshold)
    v = evaluate(CLAIMS[6], latest_results(tmp_path))
    assert v.status == status, v.numbers
    undefended = next(c for c in v.cells if c.coords == {"defence": "no defence"})
    assert undefended.outcome is True and "network 80,000: 1.00x" in undefended.detail
    # per world: the largest ratio between multiples that should be equal (1: equal)
    defended = next(c for c in v.cells if c.coords == {"defence": "a large network "
                                                                   "validator defends"})
    assert undefended.effects == {w: 1.0 for w in range(4)}
    assert defended.effects == {w: threshold[1] / threshold[0] for w in range(4)}
    assert v.worlds["p_holds"] == (1.0 if status == HOLDS else 0.0)
    assert any("from 1.00 x the subnet's stake = 40,000 TAO ($4,000,000)" in n
               for n in v.numbers), v.numbers
    # the multiple is the consensus rule's: a majority of the stake on the subnet
    assert v.follows_from_rules
    assert ("subnet 40,000 TAO, network 80,000 TAO, defended by 100,000 TAO: needs "
            f"{threshold[1]:.2f}x (the stake majority: more than 3.50x)") in v.numbers


def _claim7_dtao_results(root: Path, need: dict[tuple[float, float], float]) -> None:
    """Today's design (its own file): subnet stakes 40k and 400k TAO, pools of 50k and
    500k TAO; the attacker's miners take 90% from ``need[(pool, subnet)]`` x up."""
    config = {"name": "claim07_takeover_dtao", "epochs": 40, "warmup_epochs": 5,
              "scenario": {"era": "dtao", "price": {"initial_usd": 100.0},
                           "dtao": {"pools": True, "pool_tao": [500000, 2000000]}},
              "population": [
                  {"strategy": "honest_validator", "count": 8, "subnet": 0,
                   "params": {"stake_tao": 5000}},
                  {"strategy": "stake_attacker", "count": 1, "subnet": 0,
                   "params": {"outside_stake_tao": 40000}},
                  {"strategy": "honest_validator", "count": 8, "subnet": 1,
                   "params": {"stake_tao": 10000}}]}
    paths = ["dtao.pool_tao", "population.0.params.stake_tao",
             "population.1.params.outside_stake_tao"]
    cells, runs = [], []
    for pool in (50000.0, 500000.0):
        for subnet in (40000.0, 400000.0):
            for ratio in (1.0, 4.0):
                k = len(cells)
                cells.append({"cell": k, "profile": None, "overrides": dict(zip(
                    paths, [[pool, 2000000.0], subnet / 8, subnet * ratio], strict=True))})
                runs += _capture_runs(k, 0.9 if ratio >= need[(pool, subnet)] else 0.1)
    write_results(root / "claim07_takeover_dtao" / "h", config, cells, runs,
                  {"paths": paths, "zip": []})


@pytest.mark.parametrize(("big", "status"), [(4.0, HOLDS), (1.0, FAILS)])
def test_claim7_today_compares_subnets_whose_pools_scale_with_them(
        tmp_path: Path, big: float, status: str) -> None:
    """In dtao the claim has a design of its own (claim07_takeover_dtao): "scales with the
    subnet's own stake" compares a subnet ten times larger whose pool is ten times deeper
    (40k in 50k against 400k in 500k: the same stake-to-pool ratio); the other cells are
    shown against the pool arithmetic's multiple, (P + H) / (P - H), never when H >= P.
    The verdict follows from the rules (the pool's constant product). December 2023's file
    is judged beside."""
    _claim7_dtao_results(tmp_path, {(50000.0, 40000.0): 4.0, (50000.0, 400000.0): 99.0,
                                    (500000.0, 40000.0): 1.0, (500000.0, 400000.0): big})
    _claim7_results(tmp_path, {0: 1.0, 1: 1.0})
    verdicts = evaluate_eras(CLAIMS[6], latest_results(tmp_path))
    assert [v.era for v in verdicts] == ["dec2023", "dtao"]
    assert verdicts[0].status == HOLDS and "stake majority" in verdicts[0].derivation
    today = verdicts[1]
    [test] = [c for c in today.cells if c.tested]
    assert test.coords == {"question": "scales with the subnet's own stake (its stake 0.8 "
                                       "of its pool's TAO)"}
    assert today.status == status, today.where
    assert today.follows_from_rules and "constant product" in today.derivation
    # per world too: a world holds when the multiples compared are equal
    assert today.worlds["p_holds"] == (1.0 if status == HOLDS else 0.0)
    assert ("subnet 400,000 TAO in a 50,000-TAO pool: needs more than the sweep (the pool "
            "arithmetic: never, the subnet's stake exceeds its pool's TAO); the same "
            "whatever the network holds") in today.numbers
    assert ("subnet 40,000 TAO in a 500,000-TAO pool: needs 1.00x (the pool arithmetic: "
            "more than 1.17x); the same whatever the network holds") in today.numbers


def test_claim7_a_world_without_a_takeover_in_one_cell_fails_there(tmp_path: Path) -> None:
    """A takeover within the sweep against none is a failing world (its effect is not
    dropped as missing)."""
    _claim7_dtao_results(tmp_path, {(50000.0, 40000.0): 4.0, (50000.0, 400000.0): 99.0,
                                    (500000.0, 40000.0): 1.0, (500000.0, 400000.0): 99.0})
    [today] = evaluate_eras(CLAIMS[6], latest_results(tmp_path))
    [test] = [c for c in today.cells if c.tested]
    assert test.outcome is False and today.status == FAILS
    assert set(test.effects) == {0, 1, 2, 3} and all(not test.holds_in(w) for w in range(4))
    assert today.worlds["p_holds"] == 0.0


def test_claim7_today_alone_is_judged_without_the_2023_file(tmp_path: Path) -> None:
    """The eras' files are alternatives: today's verdict does not wait for 2023's."""
    _claim7_dtao_results(tmp_path, {k: 1.0 for k in [(50000.0, 40000.0),
                                                     (50000.0, 400000.0),
                                                     (500000.0, 40000.0),
                                                     (500000.0, 400000.0)]})
    [today] = evaluate_eras(CLAIMS[6], latest_results(tmp_path))
    assert today.era == "dtao" and today.status == HOLDS
