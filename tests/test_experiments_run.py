"""Running experiments serially: results layout, resume, new directories, failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from agents.base import REGISTRY
from agents.miners import HonestMiner
from experiments.cli import main
from experiments.plan import load_plan
from experiments.runner import report_hook, run_plan
from experiments.store import ResultsDir, ResultsLocked

ROOT = Path(__file__).resolve().parent.parent

TINY = """\
name: tiny
epochs: 12
warmup_epochs: 2
seeds: {master: 5, count: 2}
scenario:
  agent_record_interval: 4
  subnets:
    - {n_uids: 24, yuma: {max_validators: 8}}
population:
  - {strategy: honest_miner, count: 14, subnet: 0}
  - {strategy: honest_validator, count: 3, subnet: 0}
  - {strategy: yield_chaser, count: 4}
sweep:
  grid:
    population.0.params.quality: [0.4, 0.8]
"""


def write(path: Path, text: str = TINY) -> Path:
    path.write_text(text)
    return path


def file_state(d: Path) -> dict[str, tuple[int, int]]:
    """``{relative path: (inode, mtime_ns)}`` of every run file under ``d``."""
    return {str(p.relative_to(d)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted((d / "runs").rglob("*.parquet"))}


def test_run_writes_the_documented_layout(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    exp = write(tmp_path / "tiny.yaml")
    assert main(["run", str(exp), "--results", str(tmp_path / "res")]) == 0
    plan = load_plan(exp)
    d = tmp_path / "res" / "tiny" / plan.config_hash
    assert str(d) in capsys.readouterr().out
    names = sorted(p.name for p in d.iterdir())
    assert names == [".lock", "manifest.json", "runs", "summary.parquet"]
    runs = sorted(p.name for p in (d / "runs").iterdir())
    assert runs == ["c0000-s0000", "c0000-s0001", "c0001-s0000", "c0001-s0001"]
    for r in runs:
        assert sorted(p.name for p in (d / "runs" / r).iterdir()) == [
            "_checksums.json", "agents.parquet", "metrics.parquet"]

    m = json.loads((d / "manifest.json").read_text())
    assert m["status"] == "complete" and m["counts"] == {"complete": 4}
    assert m["config"]["name"] == "tiny" and m["config_hash"] == plan.config_hash
    assert [c["overrides"] for c in m["grid"]["cells"]] == [
        {"population.0.params.quality": 0.4}, {"population.0.params.quality": 0.8}]
    assert m["seeds"]["master"] == 5 and m["seeds"]["indices"] == [0, 1]
    assert m["software"]["tao_arena"] and "numpy" in m["software"]["packages"]
    assert "git_commit" in m["software"]
    inv = m["invocations"][0]
    assert inv["started_at"] <= inv["ended_at"] and inv["completed"] == 4
    rec = m["runs"]["c0001-s0001"]
    assert rec["status"] == "complete" and rec["seed"] == plan.runs()[3].seed
    assert rec["files"]["metrics"] == "runs/c0001-s0001/metrics.parquet"

    metrics = pd.read_parquet(d / "runs" / "c0001-s0001" / "metrics.parquet")
    assert list(metrics.columns[:5]) == ["run_id", "cell", "seed_index", "profile", "epoch"]
    assert metrics["epoch"].tolist() == list(range(12))
    assert "profit_usd_per_agent:honest_miner" in metrics.columns
    agents = pd.read_parquet(d / "runs" / "c0001-s0001" / "agents.parquet")
    assert sorted(agents["epoch"].unique()) == [0, 4, 8]
    assert {"account", "strategy", "role", "profit_usd", "cabal"} <= set(agents.columns)

    summary = pd.read_parquet(d / "summary.parquet")
    assert len(summary) == 4
    assert summary["sweep:population.0.params.quality"].tolist() == [0.4, 0.4, 0.8, 0.8]
    assert (summary["warmup_epochs"] == 2).all()
    after = metrics[metrics["epoch"] >= 2]["profit_usd_per_agent:honest_miner"].mean()
    row = summary.set_index("run_id").loc["c0001-s0001"]
    assert row["mean:profit_usd_per_agent:honest_miner"] == pytest.approx(after)

    # every run file together, as a dataset (pyarrow), and with DuckDB / polars if present
    table = ds.dataset(str(d / "runs"), format="parquet").to_table()
    assert table.num_rows == 4 * 12 + 4 * len(agents)
    metrics_all = ds.dataset(sorted(str(p) for p in d.glob("runs/*/metrics.parquet")),
                             format="parquet").to_table()
    assert metrics_all.num_rows == 48
    import duckdb
    import polars

    con = duckdb.connect()
    n = con.execute(f"select count(*), count(distinct run_id) from read_parquet("
                    f"'{d}/runs/*/metrics.parquet', union_by_name = true)").fetchall()
    assert n == [(48, 4)]
    assert polars.read_parquet(d / "summary.parquet").height == 4
    assert polars.read_parquet(d / "runs" / "c0000-s0000" / "agents.parquet").height == len(
        pd.read_parquet(d / "runs" / "c0000-s0000" / "agents.parquet"))


def test_run_data_is_reproducible_and_has_no_wall_clock(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path / "tiny.yaml"))
    a = run_plan(plan, root=tmp_path / "a", progress=False)
    b = run_plan(plan, root=tmp_path / "b", progress=False)
    files_a = sorted(p.relative_to(a.results_dir) for p in a.results_dir.rglob("*.parquet"))
    assert files_a == sorted(p.relative_to(b.results_dir)
                             for p in b.results_dir.rglob("*.parquet"))
    for rel in files_a:
        assert (a.results_dir / rel).read_bytes() == (b.results_dir / rel).read_bytes(), rel


def test_resume_skips_complete_runs(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path / "tiny.yaml"))
    first = run_plan(plan, root=tmp_path, progress=False)
    assert (first.planned, first.skipped, first.completed) == (4, 0, 4)
    before = file_state(first.results_dir)
    again = run_plan(plan, root=tmp_path, progress=False)
    assert (again.planned, again.skipped, again.completed) == (4, 4, 0)
    assert file_state(first.results_dir) == before
    m = json.loads((first.results_dir / "manifest.json").read_text())
    assert len(m["invocations"]) == 2 and m["invocations"][1]["skipped_complete"] == 4

    # a deleted run and a leftover partial directory: only that run runs again
    import shutil

    shutil.rmtree(first.results_dir / "runs" / "c0001-s0000")
    partial = first.results_dir / "runs" / ".tmp-c0001-s0000-dead"
    partial.mkdir()
    (partial / "metrics.parquet").write_bytes(b"half a file")
    third = run_plan(plan, root=tmp_path, progress=False)
    assert (third.skipped, third.completed) == (3, 1)
    assert not partial.exists()
    after = file_state(first.results_dir)
    assert {k: v for k, v in after.items() if "c0001-s0000" not in k} == {
        k: v for k, v in before.items() if "c0001-s0000" not in k}


def test_added_seeds_reuse_the_directory(tmp_path: Path) -> None:
    plan2 = load_plan(write(tmp_path / "tiny.yaml"))
    first = run_plan(plan2, root=tmp_path, progress=False)
    before = file_state(first.results_dir)
    plan3 = load_plan(write(tmp_path / "tiny.yaml", TINY.replace("count: 2}", "count: 3}")))
    assert plan3.config_hash == plan2.config_hash
    more = run_plan(plan3, root=tmp_path, progress=False)
    assert more.results_dir == first.results_dir
    assert (more.planned, more.skipped, more.completed) == (6, 4, 2)
    after = file_state(first.results_dir)
    assert {k: after[k] for k in before} == before  # earlier runs untouched
    assert len(pd.read_parquet(first.results_dir / "summary.parquet")) == 6


def test_changed_config_gets_a_new_directory(tmp_path: Path) -> None:
    first = run_plan(load_plan(write(tmp_path / "tiny.yaml")), root=tmp_path, progress=False)
    before = file_state(first.results_dir)
    changed = load_plan(write(tmp_path / "tiny.yaml", TINY.replace("epochs: 12", "epochs: 10")))
    second = run_plan(changed, root=tmp_path, progress=False)
    assert second.results_dir != first.results_dir
    assert second.results_dir.parent == first.results_dir.parent
    assert second.completed == 4
    assert file_state(first.results_dir) == before


def test_run_one_cell(tmp_path: Path) -> None:
    exp = write(tmp_path / "tiny.yaml")
    assert main(["run", str(exp), "--cell", "1", "--results", str(tmp_path),
                 "--no-progress"]) == 0
    d = next(tmp_path.glob("tiny/*"))
    assert sorted(p.name for p in (d / "runs").iterdir()) == ["c0001-s0000", "c0001-s0001"]


class ExplodingMiner(HonestMiner):
    """A test strategy that raises in its third epoch."""

    name = "test_exploding_miner"
    # it changes what it does with the epoch: it adapts (the world keeps the answers of
    # miners that neither adapt nor draw at random, and would not ask it again)
    classifier: ClassVar[dict] = {**HonestMiner.classifier, "adapts": True}

    @classmethod
    def produce(cls, group, ctx):  # type: ignore[no-untyped-def]
        if ctx.epoch >= 2:
            raise RuntimeError("boom: the exploding miner exploded")
        return super().produce(group, ctx)


def test_failing_run_is_recorded_and_the_sweep_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(REGISTRY, ExplodingMiner.name, ExplodingMiner)
    text = TINY.replace("  - {strategy: yield_chaser, count: 4}\n",
                        "  - {strategy: yield_chaser, count: 4}\n"
                        "  - {strategy: test_exploding_miner, count: 1, subnet: 0}\n")
    text = text.replace("population.0.params.quality: [0.4, 0.8]",
                        "population.3.count: [0, 1]")
    exp = write(tmp_path / "boom.yaml", text)
    assert main(["run", str(exp), "--results", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "2 failed" in out and "FAILED c0001-s0000" in out and "boom" in out
    d = next(tmp_path.glob("tiny/*"))
    m = json.loads((d / "manifest.json").read_text())
    assert m["status"] == "failed" and m["counts"] == {"complete": 2, "failed": 2}
    rec = m["runs"]["c0001-s0001"]
    assert rec["status"] == "failed" and "RuntimeError: boom" in rec["error"]
    assert "Traceback" in rec["traceback"] and "produce" in rec["traceback"]
    assert sorted(p.name for p in (d / "runs").iterdir()) == ["c0000-s0000", "c0000-s0001"]
    assert len(pd.read_parquet(d / "summary.parquet")) == 2
    # a second invocation retries only the failed runs
    assert main(["run", str(exp), "--results", str(tmp_path)]) == 1
    m = json.loads((d / "manifest.json").read_text())
    inv = m["invocations"][1]
    assert (inv["skipped_complete"], inv["to_run"], inv["failed"]) == (2, 2, 2)
    assert m["runs"]["c0001-s0001"]["attempts"] == 2


def test_results_directory_lock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exp = write(tmp_path / "tiny.yaml")
    plan = load_plan(exp)
    with ResultsDir(tmp_path, plan):
        with pytest.raises(ResultsLocked):
            ResultsDir(tmp_path, plan).open()
        assert main(["run", str(exp), "--results", str(tmp_path)]) == 1
        assert "in use" in capsys.readouterr().err


def test_main_writes_the_report_next_to_the_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exp = write(tmp_path / "tiny.yaml")
    assert main(["main", "--config", str(exp), "--backend", "serial", "--no-claims",
                 "--results", str(tmp_path / "res")]) == 0
    out = capsys.readouterr().out
    assert "results:" in out and "report:" in out
    reports = list((tmp_path / "res").glob("*/*/report.md"))
    assert len(reports) == 1 and reports[0].stat().st_size > 0
    assert report_hook(reports[0].parent) == reports[0]


def test_main_runs_the_claims_suite_and_writes_the_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import experiments.runner as runner

    suite = write(tmp_path / "tiny_claim.yaml", TINY.replace("name: tiny", "name: tiny_claim"))
    monkeypatch.setattr(runner, "claims_configs", lambda: [suite])
    exp = write(tmp_path / "tiny.yaml")
    assert main(["main", "--config", str(exp), "--backend", "serial", "--no-progress",
                 "--results", str(tmp_path / "res")]) == 0
    out = capsys.readouterr().out
    assert "claims report:" in out
    assert (tmp_path / "res" / "claims.md").stat().st_size > 0
    # the suite's experiment ran into the same results root as the main sweep
    assert len(list((tmp_path / "res").glob("*/*/manifest.json"))) == 2


def test_console_script_quickstart(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("tao-arena")
    proc = subprocess.run(
        [str(exe), "run", str(ROOT / "experiments" / "configs" / "quickstart.yaml"),
         "--results", str(tmp_path)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "RAY_ADDRESS": ""})
    assert proc.returncode == 0, proc.stderr
    assert "results:" in proc.stdout
    d = next(tmp_path.glob("quickstart/*"))
    assert len(pq.read_table(d / "summary.parquet")) == 3


def test_strategies_a_participant_brings_in_mid_run_are_in_the_epoch_data(
    tmp_path: Path,
) -> None:
    """A stake attacker registers its own (lazy) miners mid-run; their population and
    income must be in the per-epoch metrics from the first epoch on (claim 7)."""
    from experiments.plan import load_plan
    from experiments.wiring import build_model

    attacker = ("  - {strategy: stake_attacker, count: 1, subnet: 0,\n"
                "     params: {entry_epoch: 3, outside_stake_tao: 100000, n_miners: 2}}\n")
    text = TINY.replace("name: tiny", "name: attack").replace("sweep:", attacker + "sweep:")
    exp = write(tmp_path / "attack.yaml", text)
    model = build_model(load_plan(exp).experiment, 1)
    for _ in range(8):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert frame["population:lazy_miner"].iloc[0] == 0
    assert frame["population:lazy_miner"].iloc[-1] == 2


def test_agents_table_keeps_strings_and_missing_values_as_before() -> None:
    """Arrow's own strings (the records' strategy and role) go to the table as they are,
    the same strings the element loop gives; a column with missing values keeps the
    element loop's conversion unchanged (which writes a missing value as the text "nan":
    a quirk of that loop, left as it was; the records never miss a name)."""
    from experiments.execute import agents_table

    task = {"run_id": "r", "cell": 0, "seed_index": 0, "seed": 1}
    df = pd.DataFrame({"strategy": pd.array(["a", "bb", "a"], dtype="str"),
                       "gap": pd.array(["x", None, "y"], dtype="str"),
                       "plain": np.array(["u", "v", "w"], dtype=object),
                       "n": np.arange(3)})
    table = agents_table(df, task)
    assert table.column("strategy").to_pylist() == ["a", "bb", "a"]
    assert table.column("gap").to_pylist() == ["x", "nan", "y"]
    assert table.column("plain").to_pylist() == ["u", "v", "w"]
    assert table.schema.field("strategy").type == table.schema.field("gap").type == "string"
    assert table.column("n").to_pylist() == [0, 1, 2]
