"""Deviation gains on synthetic results with known answers (issue 13): the counterfactual is
the deviator's own cohort, never a role average; identical strategies are flagged; the
report's report.json says what its text says."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_report import agents_frame, metrics_frame, write_results

from analysis.report import Analysis
from analysis.report.write import report_one
from analysis.results import load_results
from analysis.stats import bootstrap_ci, mean_ci

EPOCHS, WARMUP = 10, 2
POP = [{"strategy": "honest_validator", "count": 3, "subnet": 0,
        "params": {"stake_tao": 20000.0}},
       {"strategy": "honest_validator", "count": 2, "subnet": 0,
        "params": {"stake_tao": 200000.0}}]


def _agents(profits: dict[int, tuple[str, int, float, float]], *, step: float = 0.0
            ) -> pd.DataFrame:
    """Per-agent records: account -> (strategy, cohort, profit per epoch, stake)."""
    return agents_frame(range(EPOCHS), {
        a: {"strategy": s, "role": "validator", "profit": p + step, "stake": stake,
            "cohort": c} for a, (s, c, p, stake) in profits.items()})


def _confounded(root: Path, gains: dict[str, float], name: str = "confounded") -> Path:
    """Baseline: three 20k-TAO validators (cohort 0) earn 100 an epoch, two 200k-TAO ones
    (cohort 1) 1,000. In each deviation one of cohort 0 (now cohort 2) plays the strategy
    and earns 100 + gain. The role average of honest validators is 460 an epoch, so against
    it every deviation looks like a loss of about 355; against its own cohort it gains."""
    config = {"name": name, "epochs": EPOCHS, "warmup_epochs": WARMUP,
              "scenario": {"tempo": 360}, "population": POP}
    cells = [{"cell": 0, "overrides": {}, "profile": {"id": "baseline", "kind": "baseline"}}]
    for i, s in enumerate(gains):
        cells.append({"cell": i + 1, "overrides": {}, "profile": {
            "id": f"deviation:validator:{s}", "kind": "deviation", "role": "validator",
            "strategy": s, "from": "honest_validator", "deviators": 1, "cohort": 0,
            "deviator_cohort": 2}})
    runs = []
    for seed in range(5):
        noise = 0.5 * (seed - 2) + 0.1 * seed**2  # varies across seeds, shared by cells
        base = {1: ("honest_validator", 0, 100.0, 2e4), 2: ("honest_validator", 0, 100.0, 2e4),
                3: ("honest_validator", 0, 100.0, 2e4), 4: ("honest_validator", 1, 1e3, 2e5),
                5: ("honest_validator", 1, 1e3, 2e5)}
        m = metrics_frame(EPOCHS, {"honest_validator": {"profit": 460.0, "population": 5}})
        runs.append((0, seed, m, _agents(base, step=noise)))
        for i, (s, g) in enumerate(gains.items()):
            dev = {**base, 6: (s, 2, 100.0 + g + 0.3 * seed, 2e4)}
            del dev[3]
            m = metrics_frame(EPOCHS, {"honest_validator": {"profit": 460.0, "population": 4},
                                       s: {"profit": 100.0 + g}})
            runs.append((i + 1, seed, m, _agents(dev, step=noise)))
    return write_results(root / name / "h", config, cells, runs)


def test_gain_is_against_the_deviators_own_cohort(tmp_path: Path) -> None:
    rs = load_results(_confounded(tmp_path, {"weight_copier": 5.0, "cabal_validator": -20.0}))
    [d] = Analysis(rs).deviations()
    copier, cabal = d.deviations
    # per day (20 epochs): +5 an epoch plus the seeds' 0.3 * seed -> 20 * (5 + 0.6) = 112
    assert copier.gain.mean == pytest.approx(20 * (5.0 + 0.6))
    assert copier.gain.low > 0 and copier.significant and copier.cohort == 0
    # the role average would have said roughly 20 * (105 - 460) < 0: the wrong sign
    role_avg = 20 * (105.6 - (3 * 100 + 2 * 1000) / 5)
    assert role_avg < 0 < copier.gain.mean
    # per 1,000 TAO of the cohort's 20,000
    assert copier.per_stake.mean == pytest.approx(copier.gain.mean / 20)
    assert cabal.gain.high < 0 and not cabal.significant
    assert not d.is_equilibrium() and d.max_gain_upper == pytest.approx(copier.gain.high)


def test_baseline_is_an_epsilon_equilibrium_only_when_every_upper_bound_is_below(
        tmp_path: Path) -> None:
    rs = load_results(_confounded(tmp_path, {"weight_copier": -3.0}))
    [d] = Analysis(rs).deviations()
    # gain 20 * (-3 + 0.6) = -48 [...]: the upper bound is below epsilon (1% of $2,000/day)
    assert d.epsilon == pytest.approx(0.01 * 20 * 100.0, rel=0.01)
    assert d.deviations[0].gain.high < d.epsilon and d.is_equilibrium()


def test_identical_strategies_are_flagged_not_reported_twice(tmp_path: Path) -> None:
    # two strategies with the same gain give byte-identical behaviour (income, stake)
    rs = load_results(_confounded(tmp_path, {"gpt_passthrough": 5.0, "copy_cabal": 5.0}))
    [d] = Analysis(rs).deviations()
    a, b = d.deviations
    assert a.same_as is None and a.significant
    assert b.same_as == "gpt_passthrough" and not b.significant


def test_report_json_states_the_deviations_of_the_text(tmp_path: Path) -> None:
    root = _confounded(tmp_path, {"weight_copier": 5.0})
    rs = load_results(root)
    path = report_one(rs, tmp_path / "out")
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    [dev] = data["deviations"]
    assert {k: dev[k] for k in ("role", "from", "to", "cohort", "significant")} == {
        "role": "validator", "from": "honest_validator", "to": "weight_copier", "cohort": 0,
        "significant": True}
    assert dev["gain_usd_per_day"] == pytest.approx(112.0)
    assert dev["low"] < 112.0 < dev["high"] and 0 <= dev["p_value"] < 0.05
    [eq] = data["equilibria"]
    assert eq["profile"] == "baseline" and eq["max_gain_upper"] == pytest.approx(dev["high"])
    assert eq["epsilon_usd_per_day"] == pytest.approx(20.0, rel=0.01)
    text = path.read_text()
    assert "$112 [" in text and "is **not** an epsilon-equilibrium" in text


# ----------------------------------------------------------------------------- coverage


@pytest.mark.parametrize("n", [3, 4, 6, 10])
@pytest.mark.parametrize("dist", ["normal", "gamma"])
def test_intervals_keep_their_stated_coverage(n: int, dist: str) -> None:
    """The interval the reports use covers the true mean at >= 93% at nominal 95%, for
    normal and mildly skewed per-seed payoffs, where a bootstrap interval at n = 4 does not."""
    gen = np.random.default_rng(n)
    reps = 3000
    x = (gen.normal(10.0, 3.0, (reps, n)) if dist == "normal"
         else gen.gamma(10.0, 1.0, (reps, n)))
    truth = 10.0
    cover = np.mean([(e.low <= truth <= e.high) for e in map(mean_ci, x)])
    assert cover >= 0.93, cover


def test_a_bootstrap_interval_with_four_seeds_undercovers() -> None:
    gen = np.random.default_rng(4)
    x = gen.normal(0.0, 1.0, (400, 4))
    cover = np.mean([(e.low <= 0.0 <= e.high)
                     for e in (bootstrap_ci(v, n_resamples=999, rng=0) for v in x)])
    assert cover < 0.9  # why mean_ci uses Student-t for few seeds


def test_no_variation_is_said_not_hidden() -> None:
    e = mean_ci([3.0, 3.0, 3.0])
    assert e.method == "no variation" and not e.varies and e.low == e.high == 3.0
    assert mean_ci([1.0]).method == "none" and mean_ci([]).n == 0
    assert mean_ci(np.arange(25.0)).method == "BCa" and mean_ci([1.0, 2.0]).method == "t"


# ----------------------------------------------------------------- the role-symmetric game


def _symmetric(root: Path) -> Path:
    """A role-symmetric game of 4 miners with strategies a and b, each pure profile run with
    its single deviation. Per epoch: in all-a everyone earns 10 and a lone b earns 8; in
    all-b everyone earns 6 and a lone a earns 9. So all-a is the symmetric pure equilibrium
    (no agent gains by switching) and all-b is not (an agent gains 3 an epoch)."""
    config = {"name": "sym", "epochs": EPOCHS, "warmup_epochs": WARMUP,
              "population": [{"strategy": "a", "count": 4, "subnet": 0}]}
    cells, runs = [], []
    for base, other, own, dev in (("a", "b", 10.0, 8.0), ("b", "a", 6.0, 9.0)):
        pid = f"mono:miner={base}"
        k = len(cells)
        cells.append({"cell": k, "overrides": {}, "profile": {
            "id": pid, "kind": "monomorphic", "strategies": {"miner": base}}})
        cells.append({"cell": k + 1, "overrides": {}, "profile": {
            "id": f"{pid}|deviation:miner:{other}", "kind": "deviation", "role": "miner",
            "strategy": other, "from": base, "deviators": 1, "cohort": 0,
            "deviator_cohort": 1, "base": pid}})
        for seed in range(4):
            wobble = 0.05 * seed * (seed - 1)
            m = metrics_frame(EPOCHS, {base: {"profit": own}})
            runs.append((k, seed, m, agents_frame(range(EPOCHS), {
                i: {"strategy": base, "role": "miner", "profit": own + wobble, "cohort": 0}
                for i in range(4)})))
            ag = {i: {"strategy": base, "role": "miner", "profit": own + wobble, "cohort": 0}
                  for i in range(3)}
            ag[4] = {"strategy": other, "role": "miner", "profit": dev + 2 * wobble,
                     "cohort": 1}
            runs.append((k + 1, seed, m, agents_frame(range(EPOCHS), ag)))
    return write_results(root / "sym" / "h", config, cells, runs)


def test_role_symmetric_game_finds_its_symmetric_pure_equilibrium(tmp_path: Path) -> None:
    rs = load_results(_symmetric(tmp_path))
    by_base = {d.base: d for d in Analysis(rs).deviations()}
    all_a, all_b = by_base["mono:miner=a"], by_base["mono:miner=b"]
    assert all_a.is_equilibrium() and not all_b.is_equilibrium()
    # the wobble adds 0.1 an epoch to the deviator on average (0, 0, 0.1, 0.3)
    assert all_a.deviations[0].gain.mean == pytest.approx(20 * (8.0 - 10.0 + 0.1))
    assert all_b.deviations[0].gain.mean == pytest.approx(20 * (9.0 - 6.0 + 0.1))
    assert all_b.deviations[0].significant
    report_one(rs, tmp_path / "out")
    eqs = json.loads((tmp_path / "out" / "report.json").read_text())["equilibria"]
    assert {e["profile"]: e["is_equilibrium"] for e in eqs} == {
        "mono:miner=a": True, "mono:miner=b": False}


def test_an_experiment_asks_for_the_deviations_from_a_pure_profile(tmp_path: Path) -> None:
    import yaml

    from experiments.plan import load_plan

    root = Path(__file__).resolve().parents[1]
    exp = yaml.safe_load((root / "experiments/configs/quickstart.yaml").read_text())
    exp["profiles"] = {"miner": ["honest_miner", "gpt_passthrough"],
                       "validator": ["honest_validator", "weight_copier"],
                       "deviations": True,
                       "pure": [{"miner": "gpt_passthrough", "validator": "weight_copier"}]}
    f = tmp_path / "pure.yaml"
    f.write_text(yaml.safe_dump(exp))
    profiles = [c.profile for c in load_plan(f).cells]
    ids = [p["id"] for p in profiles]
    base = "mono:miner=gpt_passthrough,validator=weight_copier"
    assert ids == ["baseline", "deviation:miner:gpt_passthrough",
                   "deviation:validator:weight_copier", base,
                   f"{base}|deviation:miner:honest_miner",
                   f"{base}|deviation:validator:honest_validator"]
    dev = profiles[-1]
    assert dev["base"] == base and dev["from"] == "weight_copier" and dev["cohort"] == 0
    # the population of the pure profile: the deviators leave its first validator cohort
    exp["profiles"]["pure"] = [{"miner": "lazy_miner"}]
    f.write_text(yaml.safe_dump(exp))
    from experiments.loader import ConfigError

    with pytest.raises(ConfigError, match="lazy_miner"):
        load_plan(f)
