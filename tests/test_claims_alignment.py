"""Claim 6's verdict logic on synthetic results (issue 18): judged on the graded judge's
bands above the validators' capability (collapse = the best cohort earns at most 5% more
than the worst); the min grader's cells are the identity, shown not judged."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_report import agents_frame, metrics_frame, write_results

from analysis.claims import CLAIMS, FAILS, HOLDS, evaluate, latest_results


def _results(root: Path, graded_ratio: float) -> None:
    config = {"name": "claim06_alignment", "epochs": 40, "warmup_epochs": 10,
              "scenario": {"era": "dec2023", "subnets": [{"work": {"grader": "min"}}]},
              "population": [
                  {"strategy": "honest_validator", "count": 2, "params": {"capability": 0.5}},
                  {"strategy": "honest_miner", "count": 2, "params": {"quality": 0.8}},
                  {"strategy": "honest_miner", "count": 2, "params": {"quality": 0.95}}]}
    grid = {"paths": ["subnets.0.work.grader"], "zip": []}
    cells, runs = [], []
    for k, (grader, ratio) in enumerate((("min", 1.0), ("graded", graded_ratio))):
        cells.append({"cell": k, "profile": None,
                      "overrides": {"subnets.0.work.grader": grader}})
        for seed in range(5):
            noise = 1.0 + 0.01 * (seed - 2)
            agents = {0: {"strategy": "honest_validator", "role": "validator", "cohort": 0,
                          "profit": 50.0}}
            agents |= {a: {"strategy": "honest_miner", "role": "miner", "cohort": 1,
                           "profit": 1.0} for a in (1, 2)}
            agents |= {a: {"strategy": "honest_miner", "role": "miner", "cohort": 2,
                           "profit": ratio * noise} for a in (3, 4)}
            m = metrics_frame(40, {}, alignment=0.9 + 0.001 * seed)
            runs.append((k, seed, m, agents_frame(range(0, 40, 5), agents)))
    write_results(root / "claim06_alignment" / "h", config, cells, runs, grid)


@pytest.mark.parametrize(("ratio", "status"), [(1.01, HOLDS), (1.30, FAILS)])
def test_claim6_judges_bands_above_capability_under_the_graded_judge(
        tmp_path: Path, ratio: float, status: str) -> None:
    _results(tmp_path, ratio)
    v = evaluate(CLAIMS[5], latest_results(tmp_path))
    assert v.status == status, [c.detail for c in v.cells]
    by = {c.coords["work.grader"]: c for c in v.cells}
    assert not by["min"].tested and "follows from the rules" in by["min"].detail
    assert by["graded"].tested and "above capability 0.5 (gap +0.375)" in by["graded"].detail
