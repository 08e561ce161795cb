"""Uncertain parameters (issue 14): priors are validated, drawn reproducibly from a stream
of their own, applied before the model is built and recorded in the manifest and summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.cli import main
from experiments.plan import load_plan
from experiments.runner import run_plan
from experiments.uncertainty import apply, draw, parse_prior, per_agent, stream

BASE = {
    "name": "unc",
    "epochs": 12,
    "seeds": {"master": 7, "count": 2},
    "scenario": {"economy": {"fixed_emission_per_block": 0.068},
                 "subnets": [{"n_uids": 24, "yuma": {"max_validators": 8}}]},
    "population": [
        {"strategy": "honest_validator", "count": 3, "subnet": 0},
        {"strategy": "honest_miner", "count": 12, "subnet": 0},
    ],
}
PRIORS = {
    "price.initial_usd": {"dist": "uniform", "low": 235, "high": 314},
    "subnets.0.yuma.kappa": {"dist": "triangular", "low": 0.4, "mode": 0.5, "high": 0.6},
    "population.1.params.quality": {"dist": "beta", "a": 8, "b": 3, "per_agent": True},
}


def _write(tmp_path: Path, name: str = "e.yaml", **extra: object) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({**BASE, **extra}, sort_keys=False))
    return path


def _summary(out_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(out_dir / "summary.parquet").sort_values("run_id")


def test_priors_drawn_reproducibly_recorded_and_common_to_cells(tmp_path: Path) -> None:
    f = _write(tmp_path, uncertain=PRIORS,
               sweep={"grid": {"subnets.0.commit_reveal": [False, True]}})
    plan = load_plan(f)
    a = run_plan(plan, root=tmp_path / "a", progress=False)
    b = run_plan(load_plan(f), root=tmp_path / "b", progress=False)
    assert a.exit_code == b.exit_code == 0
    sa, sb = _summary(a.results_dir), _summary(b.results_dir)
    cols = [f"param:{p}" for p in PRIORS]
    pd.testing.assert_frame_equal(sa[cols].reset_index(drop=True),
                                  sb[cols].reset_index(drop=True))
    assert sa["param:price.initial_usd"].between(235, 314).all()
    assert sa["param:subnets.0.yuma.kappa"].between(0.4, 0.6).all()
    # common random numbers: both sweep cells sample the same world for a seed index
    by_seed = sa.groupby("seed_index")[cols].nunique()
    assert (by_seed == 1).all().all()
    assert sa.groupby("cell")["param:price.initial_usd"].nunique().eq(2).all()
    # the manifest holds every drawn value, per agent as the list of the cohort's values
    manifest = json.loads((a.results_dir / "manifest.json").read_text())
    rec = manifest["runs"]["c0000-s0001"]
    assert len(rec["params"]["population.1.params.quality"]) == 12
    assert manifest["config"]["uncertain"]["price.initial_usd"]["dist"] == "uniform"
    assert rec["params"] == draw(plan.cells[0].config, rec["seed"])


def test_an_added_prior_changes_neither_other_draws_nor_the_model_streams(
        tmp_path: Path) -> None:
    one = {"price.initial_usd": PRIORS["price.initial_usd"]}
    # a second prior whose only value is the default: the world is the same, so the run
    # must be too if its stream is disjoint from the model's
    two = {**one, "subnets.0.yuma.kappa": {"dist": "choice", "values": [0.5]}}
    runs = []
    for i, priors in enumerate((one, two)):
        out = run_plan(load_plan(_write(tmp_path, f"e{i}.yaml", uncertain=priors)),
                       root=tmp_path / f"r{i}", progress=False)
        runs.append(_summary(out.results_dir))
    a, b = runs
    assert list(a["param:price.initial_usd"]) == list(b["param:price.initial_usd"])
    metrics = [c for c in a.columns if c.startswith("mean:")]
    pd.testing.assert_frame_equal(a[metrics].reset_index(drop=True),
                                  b[metrics].reset_index(drop=True))
    # and differs from the run without any prior (the price really is drawn)
    plain = run_plan(load_plan(_write(tmp_path, "e2.yaml")), root=tmp_path / "r2",
                     progress=False)
    assert not np.allclose(_summary(plain.results_dir)["mean:price_usd"], a["mean:price_usd"])


def test_per_agent_draws_give_each_agent_its_value() -> None:
    from experiments.schema import Experiment
    from experiments.wiring import build_model

    config = Experiment.model_validate({**BASE, "uncertain": PRIORS}).model_dump(mode="json")
    values = draw(config, seed=123)
    q = values["population.1.params.quality"]
    assert len(q) == 12 and len(set(q)) == 12 and all(0 < v < 1 for v in q)
    model = build_model(Experiment.model_validate(apply(config, values)), seed=123,
                        per_agent=per_agent(values))
    miners = np.array([a.acct for a in model.agent_of
                       if a is not None and a.name == "honest_miner"])
    assert np.allclose(model.columns.get("quality", miners), q)
    # drawn per agent or not, every agent's records name its population entry
    model.step()
    cohorts = model.agent_records().groupby("strategy")["cohort"].unique()
    assert {k: sorted(v) for k, v in cohorts.items()} == {
        c["strategy"]: [i] for i, c in enumerate(config["population"])}
    # the stream is a function of the seed and the path only
    prior = parse_prior("subnets.0.yuma.kappa", PRIORS["subnets.0.yuma.kappa"])
    same = parse_prior("scenario.subnets.0.yuma.kappa", PRIORS["subnets.0.yuma.kappa"])
    assert stream(5, prior).random() == stream(5, same).random() != stream(6, prior).random()


@pytest.mark.parametrize("priors, needles", [
    ({"price.initial_usd": {"dist": "gauss", "mean": 1, "sd": 1}},
     ["uncertain", "price.initial_usd", "dist must be one of uniform, loguniform, normal"]),
    ({"price.initial_usd": {"dist": "uniform", "low": 3, "high": 2}},
     ["price.initial_usd", "low must be smaller than high"]),
    ({"price.initial_usd": {"dist": "normal", "mean": 1, "sigma": 1}},
     ["unknown key 'sigma'", "normal takes mean, sd (optional: low, high, per_agent)"]),
    ({"price.initial_usd": {"dist": "loguniform", "low": 0, "high": 2}},
     ["loguniform: low must be > 0"]),
    ({"price.initial_usd": {"dist": "beta", "a": 2}}, ["b is missing", "beta takes a, b"]),
    ({"price.initial_usd": {"dist": "choice", "values": []}}, ["non-empty list"]),
    ({"subnets.0.yuma.kappa": {"dist": "uniform", "low": 0, "high": 1, "per_agent": True}},
     ["per_agent applies to a cohort's parameter"]),
    ({"price.initial_usdd": {"dist": "uniform", "low": 1, "high": 2}},
     ['uncertain["price.initial_usdd"]', "no such parameter"]),
    ({"population.1.params.quality": {"dist": "normal", "mean": 0.7, "sd": 0.1}},
     ["population.1.params.quality", "refused", "quality", "truncate it with low and high"]),
    ({"seeds.master": {"dist": "uniform", "low": 1, "high": 2}}, ["cannot be swept"]),
])
def test_bad_distribution_is_refused(tmp_path: Path, priors: dict, needles: list[str],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    f = _write(tmp_path, uncertain=priors)
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    for needle in needles:
        assert needle in err, f"{needle!r} not in:\n{err}"


def test_swept_and_uncertain_at_once_is_refused(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    f = _write(tmp_path, uncertain={"subnets.0.yuma.kappa": PRIORS["subnets.0.yuma.kappa"]},
               sweep={"grid": {"subnets.0.yuma.kappa": [0.4, 0.6]}})
    assert main(["validate", str(f)]) == 2
    assert "either swept or uncertain" in capsys.readouterr().err


def test_per_agent_draws_follow_a_drawn_count() -> None:
    from experiments.schema import Experiment

    priors = {"population.1.count": {"dist": "uniform", "low": 4, "high": 12},
              "population.1.params.quality": PRIORS["population.1.params.quality"]}
    config = Experiment.model_validate({**BASE, "uncertain": priors}).model_dump(mode="json")
    counts = set()
    for seed in range(8):
        values = draw(config, seed)
        n = values["population.1.count"]
        assert isinstance(n, int) and 4 <= n <= 12
        assert len(values["population.1.params.quality"]) == n
        counts.add(n)
    assert len(counts) > 1
