"""Mechanism design (``tao-arena design``, issue 17).

The search finds a known optimum of a cheap synthetic objective and resumes where it
stopped; a design trial's regret equals a direct recomputation from the same runs' Parquet
files (deviators against their own cohort in the paired baseline run) and the empirical-game
analysis of the report (``report.json``) on the same runs; bad design files are refused
with exit 2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from analysis.design import pareto_mask, recommend
from analysis.report import write_report
from experiments.cli import main
from experiments.design import JOURNAL, Dimension, TrialFailed, search

TINY = {
    "name": "tiny_design",
    "description": "a small subnet; one validator may copy weights",
    "experiment": {
        "epochs": 30, "warmup_epochs": 10, "seeds": {"master": 5, "count": 3},
        "scenario": {
            "agent_record_interval": 5,
            "price": {"kind": "constant", "initial_usd": 275.0},
            "economy": {"fixed_emission_per_block": 0.03125},
            "subnets": [{"n_uids": 32, "yuma": {"version": "yuma3", "max_validators": 8}}],
        },
        "population": [
            {"strategy": "honest_validator", "count": 6, "subnet": 0,
             "params": {"stake_tao": 20000}},
            {"strategy": "honest_miner", "count": 10, "subnet": 0, "params": {"quality": 0.7}},
            {"strategy": "honest_miner", "count": 6, "subnet": 0, "params": {"quality": 0.85}},
            {"strategy": "lazy_miner", "count": 4, "subnet": 0},
        ],
        "profiles": {"subnet": 0, "validator": [{"strategy": "weight_copier"}],
                     "deviations": True},
    },
    "search": {
        "subnets.0.yuma.kappa": {"low": 0.3, "high": 0.7},
        "reveal": {"options": {
            "off": {"subnets.0.commit_reveal": False, "subnets.0.reveal_period": 0},
            "2": {"subnets.0.commit_reveal": True, "subnets.0.reveal_period": 2}}},
    },
    "trials": 2,
    "seed": 1,
}


def _synthetic(calls: list[dict[str, float]]):
    def evaluate(number: int, params: dict[str, float]) -> tuple[list[float], dict]:
        calls.append(params)
        d = (params["x"] - 0.3) ** 2 + (params["y"] - 0.7) ** 2
        return [d, -((params["x"] - 0.3) ** 2)], {"d": d}
    return evaluate


SPACE = {"x": Dimension(low=0.0, high=1.0), "y": Dimension(low=0.0, high=1.0)}


def test_search_finds_the_known_optimum(tmp_path: Path) -> None:
    calls: list[dict[str, float]] = []
    study = search(tmp_path, "synthetic", SPACE, ["minimize", "maximize"],
                   _synthetic(calls), trials=60, sampler="tpe", seed=3, log=lambda m: None)
    assert len(calls) == 60
    values = np.array([t.values for t in study.trials])
    front = pareto_mask(values, ["minimize", "maximize"])
    trials = [{"number": t.number, "params": t.params, "pareto": bool(on),
               "objectives": {"regret": {"value": t.values[0]},
                              "miner_income": {"value": t.values[1]}}}
              for t, on in zip(study.trials, front, strict=True)]
    rec = recommend(trials, max_regret=0.01, prefer="miner_income")
    assert rec is not None
    assert abs(rec["params"]["x"] - 0.3) < 0.08 and abs(rec["params"]["y"] - 0.7) < 0.1
    # every point of the front is undominated, and the best regret is on it
    best = int(np.argmin(values[:, 0]))
    assert front[best]


@pytest.mark.parametrize("sampler", ["nsga2", "random"])
def test_other_samplers_improve_on_their_start(tmp_path: Path, sampler: str) -> None:
    calls: list[dict[str, float]] = []
    search(tmp_path, "synthetic", SPACE, ["minimize", "maximize"], _synthetic(calls),
           trials=40, sampler=sampler, seed=0, log=lambda m: None)
    d = [(c["x"] - 0.3) ** 2 + (c["y"] - 0.7) ** 2 for c in calls]
    assert min(d) < 0.01 < float(np.median(d[:8]))


def test_search_resumes_from_its_journal(tmp_path: Path) -> None:
    first: list[dict[str, float]] = []
    s1 = search(tmp_path, "synthetic", SPACE, ["minimize", "maximize"], _synthetic(first),
                trials=5, seed=0, log=lambda m: None)
    kept = [t.params for t in s1.trials]
    # an interrupted process leaves a trial running: it is failed and its setting retried
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(tmp_path / JOURNAL)))
    hanging = optuna.load_study(study_name="synthetic", storage=storage).ask()
    hanging_params = {"x": hanging.suggest_float("x", 0, 1), "y": hanging.suggest_float("y", 0, 1)}
    second: list[dict[str, float]] = []
    s2 = search(tmp_path, "synthetic", SPACE, ["minimize", "maximize"], _synthetic(second),
                trials=8, seed=0, log=lambda m: None)
    assert len(second) == 3  # only what was missing
    assert second[0] == hanging_params
    assert [t.params for t in s2.trials[:5]] == kept
    states = [t.state.name for t in s2.trials]
    assert states.count("COMPLETE") == 8 and states.count("FAIL") == 1
    assert len({(c["x"], c["y"]) for c in first + second}) == 8  # no repeated settings


def test_failed_trials_count_and_are_recorded(tmp_path: Path) -> None:
    def evaluate(number: int, params: dict) -> tuple[list[float], dict]:
        if number == 1:
            raise TrialFailed("runs failed")
        return [params["x"], params["x"]], {}

    study = search(tmp_path, "f", {"x": Dimension(low=0.0, high=1.0)},
                   ["minimize", "maximize"], evaluate, trials=3, log=lambda m: None)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "FAIL", "COMPLETE"]
    assert study.trials[1].user_attrs["error"] == "runs failed"


def _window_payoffs(agents: pd.DataFrame, warmup: int, per_day: float) -> pd.DataFrame:
    """Per account: profit per day over [first record >= warmup, last record of the run]."""
    start = agents.loc[agents["epoch"] >= warmup, "epoch"].min()
    end = agents["epoch"].max()
    rows = []
    for account, g in agents.sort_values("epoch").groupby("account"):
        w = g[g["epoch"] >= start]
        first, last = w.iloc[0], w.iloc[-1]
        gained = last["profit_usd_total"] - (first["profit_usd_total"] - first["profit_usd"])
        rows.append({"account": account, "cohort": int(g.iloc[0]["cohort"]),
                     "pay": gained / (end - first["epoch"] + 1) * per_day})
    return pd.DataFrame(rows)


def test_design_trial_regret_equals_a_recomputation(tmp_path: Path) -> None:
    f = tmp_path / "tiny.yaml"
    f.write_text(yaml.safe_dump(TINY))
    out = tmp_path / "out"
    assert main(["design", str(f), "--out", str(out), "--no-progress"]) == 0
    doc = json.loads((out / "design.json").read_text())
    assert len(doc["trials"]) == 2
    assert (out / "design.md").is_file() and (out / "fig_front.png").is_file()
    assert (out / "fig_objectives_by_param.png").is_file()
    assert doc["recommended"]["trial"] in doc["pareto_front"]
    for trial in doc["trials"]:
        rdir = out / trial["results_dir"]
        manifest = json.loads((rdir / "manifest.json").read_text())
        cells = {c["profile"]["kind"]: c["cell"] for c in manifest["grid"]["cells"]}
        gains = []
        for seed in range(3):
            dev = pd.read_parquet(rdir / "runs" / f"c{cells['deviation']:04d}-s{seed:04d}"
                                  / "agents.parquet")
            base = pd.read_parquet(rdir / "runs" / f"c{cells['baseline']:04d}-s{seed:04d}"
                                   / "agents.parquet")
            dp, bp = _window_payoffs(dev, 10, 20.0), _window_payoffs(base, 10, 20.0)
            # the deviator is the appended cohort (4); its own cohort is the first (0)
            assert (dp["cohort"] == 4).sum() == 1
            gains.append(dp.loc[dp["cohort"] == 4, "pay"].mean()
                         - bp.loc[bp["cohort"] == 0, "pay"].mean())
        g = np.array(gains)
        upper = g.mean() + stats.t.ppf(0.975, 2) * g.std(ddof=1) / math.sqrt(3)
        reg = trial["objectives"]["regret"]
        assert reg["value"] == pytest.approx(upper, rel=1e-9, abs=1e-9)
        assert reg["mean"] == pytest.approx(g.mean(), rel=1e-9, abs=1e-9)
        assert trial["values"][0] == pytest.approx(upper, rel=1e-9, abs=1e-9)
        # honest miners' income in the baseline, per miner per day
        incomes = []
        for seed in range(3):
            base = pd.read_parquet(rdir / "runs" / f"c{cells['baseline']:04d}-s{seed:04d}"
                                   / "agents.parquet")
            w = base[(base["epoch"] >= 10) & (base["strategy"] == "honest_miner")]
            incomes.append(w["income_usd"].mean() * 20.0)
        assert trial["objectives"]["miner_income"]["value"] == pytest.approx(np.mean(incomes))
        # the regret is the empirical-game analysis of the same runs: report.json's numbers
        write_report(rdir, tmp_path / f"report{trial['number']}")
        report = json.loads((tmp_path / f"report{trial['number']}" / "report.json").read_text())
        [eq] = report["equilibria"]
        assert reg["value"] == eq["max_gain_upper"]
        assert [(d["role"], d["from"], d["to"], d["gain_usd_per_day"], d["low"], d["high"])
                for d in report["deviations"]] == [
            (d["role"], d["from"], d["to"], d["gain"]["mean"], d["gain"]["low"],
             d["gain"]["high"]) for d in trial["objectives"]["deviations"]]
    # resume: a larger budget runs only the missing trials
    assert main(["design", str(f), "--out", str(out), "--no-progress", "--trials", "3"]) == 0
    doc2 = json.loads((out / "design.json").read_text())
    assert [t["params"] for t in doc2["trials"][:2]] == [t["params"] for t in doc["trials"]]
    assert len(doc2["trials"]) == 3


@pytest.mark.parametrize(("change", "needle"), [
    ({"search": {"subnets.0.yuma.kapa": {"low": 0.3, "high": 0.7}}}, "kapa"),
    ({"search": {"subnets.0.yuma.kappa": {"low": 0.7, "high": 0.3}}}, "low < high"),
    ({"search": {"subnets.0.yuma.kappa": {"low": 0.3, "high": 1.5}}}, "kappa"),
    ({"trials": 0}, "trials"),
    ({"sampler": "cma"}, "sampler"),
    ({"objectives": ["miner_income"]}, "regret"),
    ({"experiment": {**TINY["experiment"], "profiles": None}}, "profiles"),
])
def test_bad_design_files_exit_2(tmp_path: Path, change: dict, needle: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    bad = {**TINY, **change}
    if bad["experiment"].get("profiles") is None:
        bad["experiment"] = {k: v for k, v in bad["experiment"].items() if k != "profiles"}
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(bad))
    out = tmp_path / "out"
    assert main(["design", str(f), "--out", str(out)]) == 2
    assert needle in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.ray
def test_design_trials_on_ray_equal_serial(ray_local: object, tmp_path: Path) -> None:
    """The same trial on Ray workers gives the same objectives as in this process."""
    from experiments.design import load_design, run_design

    f = tmp_path / "tiny.yaml"
    f.write_text(yaml.safe_dump({**TINY, "trials": 1}))
    design = load_design(f)
    docs = []
    for backend in ("serial", "ray"):
        path = run_design(design, out=tmp_path / backend, backend=backend, log=lambda m: None)
        docs.append(json.loads(path.read_text()))
    serial, ray = (d["trials"][0] for d in docs)
    assert serial["params"] == ray["params"]
    assert serial["values"] == ray["values"]
    manifest = json.loads((tmp_path / "ray" / ray["results_dir"] / "manifest.json").read_text())
    assert manifest["invocations"][-1]["backend"] == "ray"


def test_recommendation_prefers_robust_among_indistinguishable_incomes() -> None:
    def trial(n: int, regret: float, income: float, low: float, high: float) -> dict:
        return {"number": n, "params": {"n": n}, "pareto": True,
                "objectives": {"regret": {"value": regret},
                               "miner_income": {"value": income, "low": low, "high": high}}}

    trials = [trial(0, -1.0, 100.0, 90.0, 110.0), trial(1, -5.0, 95.0, 85.0, 105.0),
              trial(2, 2.0, 200.0, 190.0, 210.0)]
    rec = recommend(trials, max_regret=0.0, prefer="miner_income")
    assert rec is not None and rec["trial"] == 1  # as good for miners, more robust
    assert rec["qualifying"] == [0, 1]
    trials[1] = trial(1, -5.0, 65.0, 60.0, 70.0)  # now clearly worse for miners
    assert recommend(trials, max_regret=0.0, prefer="miner_income")["trial"] == 0
    # nothing meets the bound: the smallest regret
    assert recommend(trials, max_regret=-10.0, prefer="miner_income")["trial"] == 1


def test_pareto_ignores_float_noise() -> None:
    values = np.array([[1.0, 5.0], [2.0, 5.0 + 1e-12], [0.5, 4.0]])
    assert pareto_mask(values, ["minimize", "maximize"]).tolist() == [True, False, True]


def test_a_search_killed_in_its_first_trial_resumes_without_repeating(tmp_path: Path) -> None:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    from experiments.design import make_sampler, suggest

    storage = JournalStorage(JournalFileBackend(str(tmp_path / JOURNAL)))
    study = optuna.create_study(study_name="s", storage=storage,
                                directions=["minimize", "maximize"],
                                sampler=make_sampler("tpe", 0))
    hanging = suggest(study.ask(), SPACE)  # the process died here
    calls: list[dict[str, float]] = []
    s = search(tmp_path, "s", SPACE, ["minimize", "maximize"], _synthetic(calls), trials=3,
               seed=0, log=lambda m: None)
    assert calls[0] == hanging
    assert len({(c["x"], c["y"]) for c in calls}) == 3
    assert s.trials[0].state.name == "FAIL" and "interrupted" in s.trials[0].user_attrs["error"]


def test_integer_ranges_choices_and_options_are_searched(tmp_path: Path) -> None:
    space = {"k": Dimension(low=2, high=10, step=2), "c": Dimension(choices=["a", "b"]),
             "o": Dimension(options={"off": {"p.q": 0}, "on": {"p.q": 1}})}
    seen: list[dict] = []

    def evaluate(number: int, params: dict) -> tuple[list[float], dict]:
        seen.append(params)
        return [float(params["k"]), 0.0], {}

    search(tmp_path, "ints", space, ["minimize", "maximize"], evaluate, trials=12,
           sampler="random", seed=1, log=lambda m: None)
    assert all(isinstance(p["k"], int) and p["k"] in (2, 4, 6, 8, 10) for p in seen)
    assert {p["c"] for p in seen} == {"a", "b"} and {p["o"] for p in seen} == {"off", "on"}


def test_shipped_design_files_load() -> None:
    from experiments.design import load_design

    files = sorted((Path(__file__).resolve().parents[1] / "experiments" / "configs"
                    / "design").glob("*.yaml"))
    assert files
    for f in files:
        design = load_design(f)
        assert "regret" in design.spec.objectives and design.spec.search


def test_design_json_is_strict_json_with_null_for_non_finite_values(tmp_path: Path) -> None:
    """A one-seed interval (NaN) is written as null, and the report still draws."""
    from experiments.design import write_design_doc

    nan = float("nan")
    objective = {"value": 1.5, "mean": 1.5, "low": nan, "high": nan, "n": 1}
    trial = {"number": 0, "state": "complete", "params": {"kappa": 0.5}, "pareto": True,
             "values": [nan, 1.5],
             "objectives": {"regret": {"value": nan, "mean": nan, "low": nan, "high": nan,
                                       "best_deviation": "none", "deviations": []},
                            "miner_income": objective}}
    doc = {"design": "d", "description": "", "objectives": {"regret": "r", "miner_income": "m"},
           "search": {"kappa": {"low": 0.3, "high": 0.7}}, "sampler": "tpe", "seed": 1,
           "budget": 1, "confidence": 0.95, "trials": [trial], "pareto_front": [0],
           "recommended": None}
    path = write_design_doc(tmp_path, doc)

    def refuse(name: str) -> None:
        raise AssertionError(f"design.json holds {name}")

    back = json.loads(path.read_text(), parse_constant=refuse)
    assert back["trials"][0]["values"] == [None, 1.5]
    assert back["trials"][0]["objectives"]["regret"]["value"] is None
    assert "n/a" in (tmp_path / "design.md").read_text()
