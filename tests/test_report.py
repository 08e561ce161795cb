"""The payoffs and the report (issue 6).

- Payoffs on a tiny synthetic results directory written here: known numbers in, known
  table out; the warm-up is excluded; agents are averaged within a run before runs are
  averaged across seeds (the seed is the unit of replication).
- ``tao-arena report`` on a small real sweep (the quickstart experiment, few epochs, a
  2 x 2 grid and empirical-game profiles): every figure exists, is a non-empty PNG and is
  named in report.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from analysis.payoffs import agent_payoffs, paired_samples, payoff_table, run_payoffs, summarize
from analysis.results import load_results

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- synthetic data


def write_run(root: Path, run_id: str, cell: int, seed_index: int, metrics: pd.DataFrame,
              agents: pd.DataFrame | None) -> None:
    """One run's Parquet files in the runner's layout, identity in the file metadata."""
    d = root / "runs" / run_id
    d.mkdir(parents=True, exist_ok=True)
    for kind, df in (("metrics", metrics), ("agents", agents)):
        if df is None:
            continue
        meta = {"run_id": run_id, "cell": cell, "seed_index": seed_index, "seed": "0",
                "config_hash": "synthetic", "profile": None, "table": kind}
        table = pa.Table.from_pandas(df, preserve_index=False)
        table = table.replace_schema_metadata({b"tao_arena.run": json.dumps(meta).encode()})
        pq.write_table(table, d / f"{kind}.parquet")


def write_results(root: Path, config: dict[str, Any], cells: list[dict[str, Any]],
                  runs: list[tuple[int, int, pd.DataFrame, pd.DataFrame | None]],
                  grid: dict[str, Any] | None = None) -> Path:
    """A results directory: manifest.json and the runs ``(cell, seed, metrics, agents)``."""
    root.mkdir(parents=True, exist_ok=True)
    manifest = {"format": "tao-arena-results/1", "experiment": config["name"],
                "config_hash": "synthetic", "config": config,
                "grid": {**(grid or {"paths": [], "zip": []}), "cells": cells},
                "runs": {}, "software": {"tao_arena": "test", "git_commit": None}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    for cell, seed, m, a in runs:
        write_run(root, f"c{cell:04d}-s{seed:04d}", cell, seed, m, a)
    return root


def metrics_frame(epochs: int, per_strategy: dict[str, dict[str, Any]],
                  price: float = 100.0, **extra: Any) -> pd.DataFrame:
    """Per-epoch metrics; ``per_strategy[s]`` gives ``profit`` (per agent per epoch, scalar
    or per-epoch array), ``income_tao`` (per agent per epoch) and ``population``."""
    e = np.arange(epochs)
    cols: dict[str, Any] = {"epoch": e, "price_usd": np.full(epochs, price)}
    for s, v in per_strategy.items():
        pop = np.broadcast_to(np.asarray(v.get("population", 1), float), (epochs,))
        cols[f"population:{s}"] = pop
        cols[f"emission_tao:{s}"] = np.broadcast_to(
            np.asarray(v.get("income_tao", 0.0), float), (epochs,)) * pop
        cols[f"profit_usd_per_agent:{s}"] = np.broadcast_to(
            np.asarray(v["profit"], float), (epochs,))
        cols[f"profit_usd:{s}"] = cols[f"profit_usd_per_agent:{s}"] * pop
    for k, v in extra.items():
        cols[k] = np.broadcast_to(np.asarray(v, float), (epochs,))
    return pd.DataFrame(cols)


def agents_frame(epochs: range, agents: dict[int, dict[str, Any]]) -> pd.DataFrame:
    """Per-agent records at ``epochs``; ``agents[acct]`` has strategy, role, profit per
    epoch (constant), stake, liquid, income_usd and optional ``until`` (last epoch alive)."""
    rows = []
    for acct, a in agents.items():
        total = 0.0
        for e in range(max(epochs) + 1):
            if e > a.get("until", 10**9):
                break
            total += a["profit"]
            if e in epochs:
                rows.append({"epoch": e, "account": acct, "strategy": a["strategy"],
                             "role": a["role"], "netuid": 0, "uid": acct, "cabal": -1,
                             "cohort": a.get("cohort", -1),
                             "stake_tao": a.get("stake", 0.0), "liquid_tao": a.get("liquid", 0.0),
                             "income_tao": 0.0, "income_usd": a.get("income_usd", a["profit"]),
                             "cost_usd": 0.0, "profit_usd": a["profit"],
                             "profit_usd_total": total})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- payoffs


def test_run_payoffs_skip_warmup_and_convert_units() -> None:
    profit = np.r_[np.full(4, 1000.0), np.full(6, 10.0)]  # the warm-up is wildly different
    m = metrics_frame(10, {"miner_x": {"profit": profit, "income_tao": 0.5, "population": 3}},
                      price=100.0)
    agents = agents_frame(range(0, 10, 2), {
        a: {"strategy": "miner_x", "role": "miner", "profit": 10.0, "stake": 0.0,
            "liquid": 4.0, "income_usd": 50.0} for a in (5, 6, 7)})
    p = run_payoffs(m, agents, warmup=4, epochs_per_day=20.0).set_index("strategy")
    row = p.loc["miner_x"]
    assert row["profit_usd_per_epoch"] == pytest.approx(10.0)
    assert row["profit_usd_per_day"] == pytest.approx(200.0)
    assert row["income_usd_per_day"] == pytest.approx(0.5 * 100.0 * 20.0)  # TAO x price
    assert row["cost_usd_per_day"] == pytest.approx(1000.0 - 200.0)
    # capital: 4 TAO x $100 at the first record at/after the warm-up; 365 days a year
    assert row["return_on_capital"] == pytest.approx(200.0 * 365 / 400.0)
    assert row["survival"] == 1.0 and row["role"] == "miner"


def test_agent_payoffs_from_cumulative_profit_and_leavers() -> None:
    # records every 2 epochs; warm-up 4: the window is epochs 4..8 (5 epochs)
    agents = agents_frame(range(0, 9, 2), {
        1: {"strategy": "a", "role": "miner", "profit": 3.0},
        2: {"strategy": "a", "role": "miner", "profit": 5.0, "until": 6},  # leaves after 6
        3: {"strategy": "b", "role": "miner", "profit": 7.0, "until": 2},  # gone before it
    })
    ap = agent_payoffs(agents, warmup=4, epochs_per_day=1.0).set_index("account")
    assert ap.loc[1, "profit_usd_per_day"] == pytest.approx(3.0)
    # 3 epochs (4, 5, 6) of 5 in the window, nothing after it left
    assert ap.loc[2, "profit_usd_per_day"] == pytest.approx(5.0 * 3 / 5)
    assert ap.loc[3, "profit_usd_per_day"] == 0.0 and ap.loc[3, "strategy"] == "b"


def test_a_deregistered_agent_counts_in_its_strategy_payoff() -> None:
    """Survivorship: the strategy's payoff includes the agent that left (0 after leaving,
    its costs kept), not only the survivors; the per-epoch metric alone would say 10."""
    m = metrics_frame(10, {"s": {"profit": 10.0, "population": 2}})
    agents = agents_frame(range(0, 10), {
        1: {"strategy": "s", "role": "miner", "profit": 10.0},
        2: {"strategy": "s", "role": "miner", "profit": -4.0, "until": 5},  # deregistered
    })
    row = run_payoffs(m, agents, warmup=4, epochs_per_day=1.0).set_index("strategy").loc["s"]
    # agent 2: epochs 4 and 5 at -4, then 0 for 4 epochs: -8 / 6 over the window
    assert row["profit_usd_per_day"] == pytest.approx((10.0 + (-8.0 / 6)) / 2)
    assert row["survival"] == 0.5


def _two_seed_results(tmp_path: Path) -> Path:
    """Strategy 'a': seed 0 has agents earning 10 and 30 an epoch (mean 20), seed 1 one
    agent earning 50. Strategy 'b': 5 in both. Warm-up epochs (0-3) earn 1000."""
    config = {"name": "synthetic", "epochs": 10, "warmup_epochs": 4,
              "scenario": {"tempo": 360}, "population": []}
    runs = []
    for seed, a_agents in ((0, [10.0, 30.0]), (1, [50.0])):
        per_agent = float(np.mean(a_agents))
        m = metrics_frame(10, {
            "a": {"profit": np.r_[np.full(4, 1000.0), np.full(6, per_agent)],
                  "population": len(a_agents)},
            "b": {"profit": np.r_[np.full(4, 1000.0), np.full(6, 5.0)]}})
        ag = {i + 1: {"strategy": "a", "role": "miner", "profit": p}
              for i, p in enumerate(a_agents)}
        ag[9] = {"strategy": "b", "role": "validator", "profit": 5.0}
        runs.append((0, seed, m, agents_frame(range(0, 10, 2), ag)))
    cells = [{"cell": 0, "overrides": {}, "profile": None}]
    return write_results(tmp_path / "res", config, cells, runs)


def test_payoff_table_averages_agents_within_a_run_then_seeds(tmp_path: Path) -> None:
    rs = load_results(_two_seed_results(tmp_path))
    assert rs.warmup == 4 and rs.epochs_per_day == 20.0 and len(rs.runs) == 2
    table = payoff_table(rs.runs)
    a = table[table["strategy"] == "a"].set_index("seed_index")["profit_usd_per_epoch"]
    assert a.to_dict() == pytest.approx({0: 20.0, 1: 50.0})
    s = summarize(table, "profit_usd_per_epoch", ("cell", "strategy")).set_index("strategy")
    # (20 + 50) / 2 = 35, not the mean over the three agents (30)
    assert s.loc["a", "mean"] == pytest.approx(35.0) and s.loc["a", "n"] == 2
    assert s.loc["b", "mean"] == pytest.approx(5.0)
    assert s.loc["a", "low"] <= 35.0 <= s.loc["a", "high"]
    seeds, x, y = paired_samples(table, "profit_usd_per_epoch", {"strategy": "a"},
                                 {"strategy": "b"})
    assert list(seeds) == [0, 1] and list(x - y) == pytest.approx([15.0, 45.0])


def test_load_results_refuses_a_directory_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="manifest.json"):
        load_results(tmp_path)


# --------------------------------------------------------------------------- the report


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart experiment, cut down: 30 epochs, 2 seeds, a 2 x 2 grid, profiles."""
    from experiments.cli import main

    tmp = tmp_path_factory.mktemp("report")
    exp = yaml.safe_load((ROOT / "experiments" / "configs" / "quickstart.yaml").read_text())
    exp.update(name="report-test", epochs=30, warmup_epochs=10,
               seeds={"master": 1, "count": 2})
    exp["sweep"] = {"grid": {"subnets.0.yuma.bonds_penalty": [0.0, 1.0],
                             "population.0.params.capability": [0.7, 0.93]}}
    exp["profiles"] = {"miner": ["honest_miner", "gpt_passthrough"],
                       "validator": ["honest_validator", "weight_copier"],
                       "deviations": True, "monomorphic": True}
    f = tmp / "report-test.yaml"
    f.write_text(yaml.safe_dump(exp))
    assert main(["run", str(f), "--results", str(tmp / "results"), "--no-progress"]) == 0
    return next((tmp / "results" / "report-test").iterdir())


def _cohort_profit_per_day(agents: pd.DataFrame, cohort: int, warmup: int) -> float:
    """Independent of analysis.payoffs: each agent's cumulative profit over [first record at
    or after the warm-up, last record of the run], per epoch x 20; 0 once it left."""
    end = agents["epoch"].max()
    start = agents.loc[agents["epoch"] >= warmup, "epoch"].min()
    out = []
    for _, a in agents[agents["cohort"] == cohort].groupby("account"):
        w = a[a["epoch"] >= start].sort_values("epoch")
        if w.empty:
            out.append(0.0)
            continue
        before = w["profit_usd_total"].iloc[0] - w["profit_usd"].iloc[0]
        out.append((w["profit_usd_total"].iloc[-1] - before)
                   / (end - w["epoch"].iloc[0] + 1) * 20.0)
    return float(np.mean(out))


def test_report_deviation_gains_match_the_parquet_files(small_sweep: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    """report.json (and the text) state each deviation's gain over its own cohort in the
    paired baseline, as recomputed here from the runs' Parquet files; every figure the
    text links exists."""
    from experiments.cli import main

    assert main(["report", str(small_sweep)]) == 0
    assert f"report: {small_sweep / 'report.md'}" in capsys.readouterr().out
    data = json.loads((small_sweep / "report.json").read_text())
    manifest = json.loads((small_sweep / "manifest.json").read_text())
    cells = manifest["grid"]["cells"] if "cells" in manifest.get("grid", {}) else \
        manifest["cells"]
    agents = {(int(m["cell"]), int(m["seed_index"])): pd.read_parquet(f)
              for f in small_sweep.rglob("agents.parquet")
              for m in [json.loads(pq.read_schema(f).metadata[b"tao_arena.run"])]}
    warmup = manifest["config"]["warmup_epochs"]
    assert len(data["deviations"]) == 4 * 2  # 4 sweep points x 2 single deviations
    for dev in data["deviations"]:
        base = next(c["cell"] for c in cells if c["overrides"] == dev["cell"]
                    and c["profile"]["kind"] == "baseline")
        cell = next(c for c in cells if c["overrides"] == dev["cell"]
                    and c["profile"]["kind"] == "deviation"
                    and c["profile"]["strategy"] == dev["to"])
        prof = cell["profile"]
        gains = [_cohort_profit_per_day(agents[(k, s)], prof["deviator_cohort"], warmup)
                 - _cohort_profit_per_day(agents[(base, s)], prof["cohort"], warmup)
                 for (k, s) in agents if k == cell["cell"]]
        assert dev["cohort"] == prof["cohort"]
        assert dev["gain_usd_per_day"] == pytest.approx(np.mean(gains), rel=1e-9, abs=1e-9)
        assert dev["low"] <= dev["gain_usd_per_day"] <= dev["high"]
    text = (small_sweep / "report.md").read_text()
    linked = set(re.findall(r"\]\((fig_[\w.]+\.png)\)", text))
    assert linked and linked == {p.name for p in small_sweep.glob("fig_*.png")}
    assert set(data["figures"]) == linked


def test_report_of_a_results_root_indexes_each_experiment(small_sweep: Path,
                                                          tmp_path: Path) -> None:
    from analysis.report import write_report

    out = write_report(small_sweep.parent.parent, tmp_path / "out")
    index = out.read_text()
    assert "report-test" in index and out == tmp_path / "out" / "report.md"
    assert (tmp_path / "out" / "report-test" / small_sweep.name / "report.md").is_file()
