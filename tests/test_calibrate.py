"""Calibration (issue 14): recovers the parameters that generated synthetic targets, within
its stated interval, checks hold-out targets, and refuses bad targets."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.cli import main
from experiments.plan import load_plan
from experiments.runner import run_plan

BASE = {
    "name": "calib",
    "epochs": 12,
    "seeds": {"master": 5, "count": 1},
    "scenario": {"economy": {"fixed_emission_per_block": 0.068},
                 "subnets": [{"n_uids": 24, "yuma": {"max_validators": 8}}]},
    "population": [
        {"strategy": "honest_validator", "count": 3, "subnet": 0},
        {"strategy": "honest_miner", "count": 12, "subnet": 0},
        {"strategy": "gpt_passthrough", "count": 3, "subnet": 0},
    ],
}
TRUTH = {"price": 280.0, "gpu": 1.6}
PRIORS = {
    "price.initial_usd": {"dist": "uniform", "low": 200, "high": 350},
    "population.1.params.gpu_usd_per_hour": {"dist": "uniform", "low": 0.5, "high": 3.0},
}
VALIDATOR = "mean:profit_usd_per_agent:honest_validator"
PASSTHROUGH = "mean:profit_usd_per_agent:gpt_passthrough"


def _truth_figures(tmp_path: Path) -> tuple[dict[str, float], float]:
    """The figures of the world at TRUTH (same seeds): what the targets are made of."""
    world = {**BASE, "scenario": {**BASE["scenario"], "price": {"initial_usd": TRUTH["price"]}},
             "population": [dict(c) for c in BASE["population"]]}
    world["population"][1]["params"] = {"gpu_usd_per_hour": TRUTH["gpu"]}
    f = tmp_path / "truth.yaml"
    f.write_text(yaml.safe_dump(world))
    out = run_plan(load_plan(f), root=tmp_path / "truth", progress=False)
    summary = pd.read_parquet(out.results_dir / "summary.parquet")
    from analysis.calibration import run_statistics

    miner = {"name": "m", "agents": {"netuid": 0, "role": "miner", "strategy": "honest_miner",
                                     "stat": "mean", "value": "cost_usd_per_day"}}
    stats = run_statistics(out.results_dir, [miner])
    return {c: float(summary[c].mean()) for c in (VALIDATOR, PASSTHROUGH)}, float(
        stats["m"].mean())


def test_calibration_recovers_the_generating_parameters(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    figures, miner = _truth_figures(tmp_path)
    targets = {
        "fit": [
            {"name": "validator", "column": VALIDATOR, "observed": figures[VALIDATOR],
             "tolerance": 0.02 * abs(figures[VALIDATOR])},
            # an honest miner's cost per day identifies the GPU rent
            {"name": "miner", "agents": {"netuid": 0, "strategy": "honest_miner",
                                         "stat": "mean", "value": "cost_usd_per_day"},
             "observed": miner, "tolerance": 0.1 * abs(miner)},
        ],
        "holdout": [{"name": "passthrough", "column": PASSTHROUGH,
                     "observed": figures[PASSTHROUGH],
                     "tolerance": 0.05 * abs(figures[PASSTHROUGH])}],
    }
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(targets))
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({**BASE, "uncertain": PRIORS}))
    args = ["calibrate", str(tmp_path / "c.yaml"), "--targets", str(tmp_path / "t.yaml"),
            "--trials", "40", "--batch", "8", "--backend", "serial",
            "--results", str(tmp_path / "res"), "--no-progress"]
    assert main(args) == 0
    out = capsys.readouterr().out
    path = Path(next(line.split(": ", 1)[1] for line in out.splitlines()
                     if line.startswith("calibration: ")))
    result = json.loads(path.read_text())
    lo, hi = result["intervals"]["price.initial_usd"]
    assert lo <= TRUTH["price"] <= hi and hi - lo < 0.5 * (350 - 200)
    lo, hi = result["intervals"]["population.1.params.gpu_usd_per_hour"]
    assert lo <= TRUTH["gpu"] <= hi and hi - lo < 0.5 * (3.0 - 0.5)
    # the estimate fits (within two tolerances: 40 trials are a coarse search) and predicts
    # a figure it never fitted
    assert all(abs(f["z"]) < 2 for f in result["fit"] + result["holdout"])
    assert result["trials"] == 40 and len(result["all_trials"]) == 40
    assert (path.parent / "calibration.md").read_text().startswith("# Calibration of calib")
    # resumable: the same command proposes the same trials and runs nothing again
    assert main(args) == 0
    assert json.loads(path.read_text())["estimate"] == result["estimate"]


@pytest.mark.parametrize("targets, needle", [
    ({"fit": []}, "non-empty fit"),
    ({"fit": [{"name": "a", "column": "mean:x", "observed": 1}]}, "fit[0].tolerance"),
    ({"fit": [{"name": "a", "agents": {"role": "miner"}, "observed": 1, "tolerance": 1}]},
     "give rank (1 = the top) or stat"),
    ({"fit": [{"name": "a", "agents": {"role": "minor", "rank": 1}, "observed": 1,
               "tolerance": 1}]}, "role must be miner, validator or delegator"),
    ({"fit": [{"name": "a", "column": "alignment", "observed": 1, "tolerance": 1}]},
     "a summary column such as mean:alignment"),
    ({"fit": [{"name": "a", "column": "mean:x", "observed": 1, "tolerance": 1}],
      "holdot": []}, "unknown key 'holdot'"),
    # a column no run records is refused before anything runs
    ({"fit": [{"name": "a", "column": "mean:alignmnt", "observed": 1, "tolerance": 1}]},
     "'mean:alignmnt' names no metric a run records"),
    ({"fit": [{"name": "a", "column": "mean:alignment", "observed": 1, "tolerance": 1}],
      "holdout": [{"name": "b", "column": "final:profit_usd:honest_minr", "observed": 1,
                   "tolerance": 1}]}, "target b: 'final:profit_usd:honest_minr'"),
])
def test_bad_targets_are_refused(tmp_path: Path, targets: dict, needle: str,
                                 capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(targets))
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({**BASE, "uncertain": PRIORS}))
    assert main(["calibrate", str(tmp_path / "c.yaml"), "--targets", str(tmp_path / "t.yaml"),
                 "--backend", "serial", "--results", str(tmp_path / "res")]) == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "res").exists()


def test_a_region_of_too_few_trials_gives_no_interval() -> None:
    """One trial in the region of two parameters: no zero-width range posing as
    uncertainty, in calibration.json's intervals nor in calibration.md."""
    from analysis import calibration as cal

    trials = [{"params": {"a": 0.1 * i, "b": float(i)}, "distance": d}
              for i, d in enumerate([0.0, 50.0, 80.0, 99.0])]
    best, members = cal.region(trials, 2)
    assert members == [0]
    assert cal.intervals(trials, members, ["a", "b"]) == {"a": cal.UNDETERMINED,
                                                          "b": cal.UNDETERMINED}
    assert cal.intervals(trials, [0, 1, 2], ["a", "b"]) == {"a": [0.0, 0.2], "b": [0.0, 2.0]}
    result = {"experiment": "x", "method": "m", "trials": 4, "seeds": [0], "distance": "D",
              "region": "r", "estimate": {"params": best["params"]},
              "intervals": cal.intervals(trials, members, ["a", "b"]),
              "priors": {"a": "uniform", "b": "uniform"}, "fit": [], "holdout": []}
    text = cal.words(result)
    assert "a = 0.0 (interval undetermined (too few trials in the region)" in text
    assert "neighbourhood" not in text
