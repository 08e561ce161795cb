"""Verdicts over plausible worlds (issue 14): the share of sampled worlds where a test
holds, its interval, the parameter that decides it, and seed noise kept apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.plausible import holds_probability, plausible_verdict, stump
from experiments.plan import load_plan
from experiments.runner import run_plan


def test_probability_interval_region_and_variance_on_known_worlds() -> None:
    rng = np.random.default_rng(1)
    n = 400
    a, b = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    effect = 4 * (a - 0.7) + 0.1 * rng.normal(size=n)  # a decides; b does nothing
    summary = pd.DataFrame({"param:a": a, "param:b": b, "mean:x": effect})
    verdict = plausible_verdict(summary, effect > 0, effect)
    assert abs(verdict["probability"] - 0.3) < 0.06
    lo, hi = verdict["interval"]
    assert lo < verdict["probability"] < hi and hi - lo < 0.1
    top = verdict["region"][0]
    assert top["parameter"] == "a" and abs(top["threshold"] - 0.7) < 0.05
    assert top["holds_below"] < 0.1 and top["holds_above"] > 0.9
    assert verdict["region"][1]["gain"] < 0.05 * top["gain"]
    assert verdict["variance"]["explained_by_parameters"] > 0.95
    # pure seed noise: the parameters explain nothing
    noise = rng.normal(size=n)
    assert plausible_verdict(summary, noise > 0, noise)["variance"][
        "explained_by_parameters"] < 0.05


def test_exact_interval_and_degenerate_inputs() -> None:
    p = holds_probability(np.array([True] * 10))
    assert p["probability"] == 1.0 and p["interval"][1] == 1.0
    assert abs(p["interval"][0] - 0.025 ** (1 / 10)) < 1e-9  # Clopper-Pearson, k = n
    assert stump(np.array([True, False]), np.array([1.0, 1.0])) is None


def test_a_verdict_over_sampled_worlds_of_a_run(tmp_path: Path) -> None:
    exp = {
        "name": "plaus", "epochs": 10, "seeds": {"master": 3, "count": 12},
        "scenario": {"economy": {"fixed_emission_per_block": 0.068},
                     "subnets": [{"n_uids": 16, "yuma": {"max_validators": 4}}]},
        "population": [{"strategy": "honest_validator", "count": 2, "subnet": 0},
                       {"strategy": "honest_miner", "count": 10, "subnet": 0}],
        "uncertain": {
            "price.initial_usd": {"dist": "uniform", "low": 100, "high": 400},
            "subnets.0.yuma.kappa": {"dist": "uniform", "low": 0.4, "high": 0.6},
        },
    }
    f = tmp_path / "e.yaml"
    f.write_text(yaml.safe_dump(exp))
    out = run_plan(load_plan(f), root=tmp_path / "r", progress=False)
    summary = pd.read_parquet(out.results_dir / "summary.parquet")
    income = summary["mean:profit_usd_per_agent:honest_validator"].to_numpy()
    verdict = plausible_verdict(summary, income > np.median(income), income)
    assert verdict["worlds"] == 12
    # the dollar income of validators is decided by the TAO price and nothing else here
    assert verdict["region"][0]["parameter"] == "price.initial_usd"
    assert verdict["region"][0]["holds_below"] == 0 and verdict["region"][0]["holds_above"] == 1
