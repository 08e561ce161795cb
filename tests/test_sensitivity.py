"""Global sensitivity analysis (issue 14): known indices through the same analysis code,
a parameter that cannot move an outcome, and the command end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import sensitivity as analysis
from experiments.cli import main
from experiments.sensitivity import unit_design, write_design


def _ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def _design_dir(tmp_path: Path, method: str, n: int, seeds: int = 1,
                noise: float = 0.0) -> Path:
    """A results directory holding a design over the Ishigami function (uniform priors on
    [-pi, pi]) and its summary, as `tao-arena sensitivity` writes them."""
    unit = unit_design(3, method, n, seed=3)
    x = -np.pi + 2 * np.pi * unit
    y = _ishigami(x)
    rng = np.random.default_rng(0)
    rows = [{"cell": i, "seed_index": s, "mean:ishigami": float(v + noise * rng.normal()),
             "mean:flat": 1.0}
            for i, v in enumerate(y) for s in range(seeds)]
    pd.DataFrame(rows).to_parquet(tmp_path / "summary.parquet")
    prior = {"dist": "uniform", "low": -np.pi, "high": np.pi}
    write_design(tmp_path, {"method": method, "n": n, "seed": 3,
                            "num_levels": 4 if method == "morris" else None,
                            "parameters": ["x1", "x2", "x3"],
                            "priors": {p: prior for p in ("x1", "x2", "x3")},
                            "unit": unit.tolist()})
    return tmp_path


def test_sobol_recovers_ishigami_indices(tmp_path: Path) -> None:
    d = _design_dir(tmp_path, "sobol", 2048)
    paths = analysis.write(d, ["mean:ishigami", "mean:flat"])
    result = json.loads(paths["json"].read_text())
    res = result["outcomes"]["mean:ishigami"]
    # analytical values (Ishigami & Homma 1990; a = 7, b = 0.1)
    assert np.allclose(res["S1"], [0.3139, 0.4424, 0.0], atol=0.04)
    assert np.allclose(res["ST"], [0.5576, 0.4424, 0.2437], atol=0.04)
    assert all(c > 0 for c in res["ST_conf"])
    assert result["parameters"] == ["x1", "x2", "x3"]
    assert "mean:flat" in result["skipped"]  # a constant outcome has no indices
    assert analysis.deciding(result, "mean:ishigami")[0][0] == "x1"
    assert paths["figure"].stat().st_size > 10_000


def test_morris_ranks_ishigami_and_separates_seed_noise(tmp_path: Path) -> None:
    d = _design_dir(tmp_path, "morris", 40, seeds=3, noise=0.5)
    result = analysis.analyse(d, ["mean:ishigami"])
    res = result["outcomes"]["mean:ishigami"]
    # x3 alone does nothing (its effect is through x1): its mu* is the smallest
    assert res["mu_star"][2] < res["mu_star"][0] and res["mu_star"][2] < res["mu_star"][1]
    noise = result["noise"]["mean:ishigami"]
    assert noise["between_seeds_sd"] == pytest.approx(0.5, rel=0.2)
    assert noise["across_design_sd"] > 2


SMALL = {
    "name": "sens",
    "epochs": 12,
    "seeds": {"master": 5, "count": 1},
    "scenario": {"economy": {"fixed_emission_per_block": 0.068},
                 "subnets": [{"n_uids": 24, "yuma": {"max_validators": 8}}]},
    "population": [
        {"strategy": "honest_validator", "count": 3, "subnet": 0},
        {"strategy": "honest_miner", "count": 12, "subnet": 0},
        {"strategy": "gpt_passthrough", "count": 3, "subnet": 0},
    ],
    # the TAO price converts income to dollars and nothing else in this world (no entry
    # or exit): it cannot move the ranking of miners, so alignment's index must be zero
    "uncertain": {
        "price.initial_usd": {"dist": "uniform", "low": 235, "high": 314},
        "population.1.params.quality": {"dist": "uniform", "low": 0.5, "high": 0.95},
    },
}


@pytest.mark.parametrize("method, n", [("morris", 6), ("sobol", 8)])
def test_a_parameter_that_cannot_move_an_outcome_gets_zero(
        tmp_path: Path, method: str, n: int, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(SMALL))
    args = ["sensitivity", str(f), "--method", method, "--n", str(n), "--backend", "serial",
            "--results", str(tmp_path / "res"), "--no-progress",
            "--outcome", "mean:alignment", "--outcome", "mean:price_usd"]
    assert main(args) == 0
    out = capsys.readouterr().out
    path = Path(next(line.split(": ", 1)[1] for line in out.splitlines()
                     if line.startswith("json: ")))
    result = json.loads(path.read_text())
    assert result["method"] == method and result["n"] == n
    price, quality = result["parameters"].index("price.initial_usd"), 1 - result[
        "parameters"].index("price.initial_usd")
    key = "mu_star" if method == "morris" else "ST"
    alignment = result["outcomes"]["mean:alignment"][key]
    assert abs(alignment[price]) < 1e-9 and alignment[quality] > 0.01
    dollars = result["outcomes"]["mean:price_usd"][key]
    assert dollars[price] > 0 and abs(dollars[quality]) < 1e-9
    # resumable: the same command runs nothing again
    assert main(args) == 0
    assert "0 ran" in capsys.readouterr().out


def test_sensitivity_refuses_bad_requests(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({**SMALL, "uncertain": {
        "price.initial_usd": SMALL["uncertain"]["price.initial_usd"]}}))
    assert main(["sensitivity", str(f), "--backend", "serial",
                 "--results", str(tmp_path / "r")]) == 2
    assert "at least 2 uncertain parameters" in capsys.readouterr().err
    f.write_text(yaml.safe_dump(SMALL))
    assert main(["sensitivity", str(f), "--method", "sobol", "--n", "10",
                 "--results", str(tmp_path / "r")]) == 2
    assert "power of 2" in capsys.readouterr().err
    assert main(["sensitivity", str(f), "--outcome", "profit", "--backend", "serial",
                 "--results", str(tmp_path / "r")]) == 2
    assert "starts with mean:" in capsys.readouterr().err
    # names no run records are refused before anything runs (not after every run)
    for outcome, needle in (("mean:profit_usd_per_agent:honest_minr", "names no metric"),
                            ("param:price.initial_use", "is not a drawn parameter")):
        assert main(["sensitivity", str(f), "--outcome", outcome, "--backend", "serial",
                     "--results", str(tmp_path / "r")]) == 2
        assert needle in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_outcomes_state_their_unit_profit_per_epoch_not_per_day(tmp_path: Path) -> None:
    assert analysis.unit_of("mean:profit_usd_per_agent:honest_miner") == \
        "USD per agent per epoch"
    assert analysis.unit_of("final:emission_tao") == "TAO per epoch"
    d = _design_dir(tmp_path, "morris", 8)
    paths = analysis.write(d, ["mean:ishigami"])
    result = json.loads(paths["json"].read_text())
    assert result["outcomes"]["mean:ishigami"]["unit"] == analysis.unit_of("mean:ishigami")
    assert f"**mean:ishigami** ({analysis.unit_of('mean:ishigami')})" in \
        paths["report"].read_text()
