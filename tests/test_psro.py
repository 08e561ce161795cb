"""``tao-arena psro``: the loop runs the pure profile an established better response leads
to, keeps every earlier run (copied runs are the runs themselves, row for row), stops when
no established better response leads anywhere new, and refuses bad input with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis.report import write_report
from experiments.cli import main
from experiments.plan import load_plan
from experiments.psro import _pure_adder
from experiments.runner import run_plan

TINY = {
    "name": "tiny_psro",
    "description": "a small subnet; miners may pass answers through or idle, validators copy",
    "epochs": 30, "warmup_epochs": 10, "seeds": {"master": 5, "count": 4},
    "scenario": {
        "agent_record_interval": 5,
        "price": {"kind": "constant", "initial_usd": 275.0},
        "economy": {"fixed_emission_per_block": 0.03125},
        "subnets": [{"n_uids": 32, "yuma": {"version": "yuma3", "max_validators": 8}}],
    },
    "population": [
        {"strategy": "honest_validator", "count": 6, "subnet": 0, "params": {"stake_tao": 20000}},
        {"strategy": "honest_miner", "count": 10, "subnet": 0, "params": {"quality": 0.7}},
        {"strategy": "honest_miner", "count": 6, "subnet": 0, "params": {"quality": 0.85}},
    ],
    "profiles": {"subnet": 0,
                 "miner": [{"strategy": "honest_miner"}, {"strategy": "gpt_passthrough"},
                           {"strategy": "lazy_miner"}],
                 "validator": [{"strategy": "honest_validator"}, {"strategy": "weight_copier"}],
                 "deviations": True},
}


def _tables(results: Path, run_id: str) -> list[pd.DataFrame]:
    return [pd.read_parquet(results / "runs" / run_id / f) for f in
            ("metrics.parquet", "agents.parquet")]


def test_psro_follows_the_established_better_response_and_copies_earlier_runs(
        tmp_path: Path) -> None:
    f = tmp_path / "tiny.yaml"
    f.write_text(yaml.safe_dump(TINY))
    root = tmp_path / "res"
    assert main(["psro", str(f), "--budget", "3", "--results", str(root),
                 "--no-progress"]) == 0
    doc = json.loads((root / "tiny_psro" / "psro" / "psro.json").read_text())
    first, *rest = doc["iterations"]
    # from all-honest, the largest established gain is the report's own deviation gain
    write_report(first["results"], tmp_path / "report0")
    report = json.loads((tmp_path / "report0" / "report.json").read_text())
    move = max(first["better_responses"], key=lambda m: m["gain_usd_per_day"])
    assert move["from"] == {"miner": "honest_miner", "validator": "honest_validator"}
    assert move["low"] > first["games"][0]["epsilon_usd_per_day"]
    assert first["adds"] == [move["profile"]] and doc["pure_profiles_added"][0] == move["profile"]
    [dev] = [d for d in report["deviations"] if d["to"] == move["to"]]
    assert dev["gain_usd_per_day"] == pytest.approx(move["gain_usd_per_day"])
    assert dev["low"] == pytest.approx(move["low"]) and dev["significant"]
    # the last iteration ran the added profile and stopped for a stated reason
    last = rest[-1]
    assert move["profile"] in [p["profile"] for p in last["games"][0]["profiles"]]
    # here the pass-through profile is an equilibrium: nothing new to run
    assert doc["stopped"] == ("every better response the runs establish leads to a "
                              "profile already run")
    assert last["runs"]["copied"] == first["runs"]["planned"]
    assert (root / "tiny_psro" / "psro" / "psro.md").read_text().startswith("# PSRO")
    # a copied run is the run itself: the same iteration run afresh gives the same tables
    plan = load_plan(f, edit=_pure_adder(doc["pure_profiles_added"][:1]))
    fresh = run_plan(plan, root=tmp_path / "fresh", progress=False)
    assert fresh.results_dir.name == Path(rest[0]["results"]).name
    for run in plan.runs():
        for a, b in zip(_tables(Path(rest[0]["results"]), run.run_id),
                        _tables(fresh.results_dir, run.run_id), strict=True):
            pd.testing.assert_frame_equal(a, b)
    assert main(["verify", str(root / "tiny_psro")]) == 0


def test_psro_refuses_a_file_without_strategy_sets_and_a_negative_budget(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "plain.yaml"
    f.write_text(yaml.safe_dump({k: v for k, v in TINY.items() if k != "profiles"}))
    assert main(["psro", str(f), "--budget", "2", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "profiles" in err and "Traceback" not in err
    g = tmp_path / "tiny.yaml"
    g.write_text(yaml.safe_dump(TINY))
    assert main(["psro", str(g), "--budget", "-1", "--results", str(tmp_path)]) == 2
    assert "--budget" in capsys.readouterr().err
    assert not (tmp_path / "tiny_psro").exists()
