"""Results do not move: the same file and seed give the same Parquet content.

The content of chosen runs (the quickstart, cells of the main sweep covering the
baseline, a miner and a validator deviation, a monomorphic profile and a commit-reveal
cell, three runs of today's chain on many subnets) is hashed column by column and
compared with hashes recorded in ``tests/data/result_hashes.json``. A refactor must leave
every recorded column identical (but the run's identifiers ``run_id`` and ``cell``, which
move when profiles are added to a file); new columns may appear. A deliberate change of
results (a bug fixed) re-records the file with ``TAO_ARENA_RECORD_HASHES=1 pytest
tests/test_results_stable.py`` and its commit says which numbers changed and why.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from experiments.execute import execute_run
from experiments.plan import Plan, load_plan

ROOT = Path(__file__).resolve().parents[1]
RECORD = Path(__file__).parent / "data" / "result_hashes.json"
CASES = {
    "quickstart": ("experiments/configs/quickstart.yaml", [(0, 0), (0, 1)]),
    # cells of main.yaml: baseline, copier deviation (validator), lazy deviation (miner),
    # a monomorphic profile, and the baseline under commit-reveal with bonds penalty 1
    "main": ("experiments/configs/main.yaml", [(0, 0), (5, 0), (4, 1), (16, 0), (88, 0)]),
    # today's chain on many subnets: 128 subnets with owners, a founder's registration and
    # every strategy (recorded before the subnets' turns ran phase by phase), and a
    # stake attacker's events on two subnets
    "dtao_network": ("experiments/configs/dtao_network.yaml", [(0, 0)]),
    "takeover_dtao": ("experiments/configs/claims/claim07_takeover_dtao.yaml", [(0, 0)]),
    # subnets of two sizes with events, cabals and draws (tests/data/mixed_shapes.yaml)
    "mixed_shapes": ("tests/data/mixed_shapes.yaml", [(0, 0)]),
}
# main.yaml's cells as recorded (its cell numbers when the hashes were taken): the profile
# and the sweep point, so that profiles added to the file later do not change what is
# compared
MAIN_CELLS = {
    0: ("baseline", 0), 5: ("deviation:validator:weight_copier", 0),
    4: ("deviation:miner:lazy_miner", 0),
    16: ("mono:miner=model_arbitrage,validator=honest_validator", 0), 88: ("baseline", 4),
}


def _cell(plan: Plan, config: str, cell: int) -> int:
    """The plan's index of recorded cell ``cell`` (see ``MAIN_CELLS``)."""
    if not config.endswith("main.yaml"):
        return cell
    profile, point = MAIN_CELLS[cell]
    points = list(dict.fromkeys(json.dumps(c.overrides, sort_keys=True) for c in plan.cells))
    [found] = [c.index for c in plan.cells if c.profile["id"] == profile
               and json.dumps(c.overrides, sort_keys=True) == points[point]]
    return found


def column_hashes(parquet: bytes) -> dict[str, str]:
    """sha256 of each column's values (bit-exact for floats), file metadata ignored."""
    df = pq.read_table(io.BytesIO(parquet)).to_pandas()
    return {
        name: hashlib.sha256(
            pd.util.hash_pandas_object(df[name], index=False).to_numpy().tobytes()
        ).hexdigest()
        for name in df.columns
    }


def run_hashes(config: str, cell: int, seed_index: int) -> dict[str, dict[str, str]]:
    """The column hashes of one run's metrics and agents tables."""
    plan = load_plan(ROOT / config)
    spec = next(r for r in plan.runs([_cell(plan, config, cell)]) if r.seed_index == seed_index)
    out = execute_run(plan.task(spec))
    assert out["status"] == "complete", out.get("traceback")
    return {"metrics": column_hashes(out["metrics"]), "agents": column_hashes(out["agents"])}


def _runs() -> list[tuple[str, str, int, int]]:
    return [(name, cfg, c, k) for name, (cfg, cells) in CASES.items() for c, k in cells]


@pytest.mark.parametrize(("name", "config", "cell", "seed_index"), _runs(),
                         ids=[f"{n}-cell{c}-seed{k}" for n, _, c, k in _runs()])
def test_run_content_unchanged(name: str, config: str, cell: int, seed_index: int) -> None:
    key = f"{name}/cell{cell}/seed{seed_index}"
    got = run_hashes(config, cell, seed_index)
    if os.environ.get("TAO_ARENA_RECORD_HASHES") == "1":
        recorded = json.loads(RECORD.read_text()) if RECORD.exists() else {}
        recorded[key] = got
        RECORD.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
        return
    recorded = json.loads(RECORD.read_text())[key]
    for table, columns in recorded.items():
        missing = sorted(set(columns) - set(got[table]))
        assert not missing, f"{key} {table}: columns gone: {missing}"
        # the run's place in its plan (``run_id``, ``cell``) is an identifier, not a result
        changed = sorted(c for c in columns if got[table][c] != columns[c]
                         and c not in ("run_id", "cell"))
        assert not changed, f"{key} {table}: content changed in columns {changed}"
