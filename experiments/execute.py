"""Executing one run: the function every backend calls (in-process or in a Ray worker).

``execute_run(task)`` takes plain data (``Plan.task``), builds the model, steps it, and
returns the run's data as Parquet bytes, so a worker on another machine needs nothing but
tao-arena installed and the driver writes every file. It never raises for a failing
run: a run that raises returns ``status: "failed"`` with its traceback (failures are
data). Run data holds no wall-clock time; durations travel beside it for the manifest.
"""

from __future__ import annotations

import json
import os
import platform
import time
import traceback
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ID_COLUMNS = ("run_id", "cell", "seed_index", "profile")
PARQUET_COMPRESSION = "zstd"


def _id_arrays(task: dict[str, Any], n: int) -> dict[str, pa.Array]:
    return {
        "run_id": pa.array([task["run_id"]] * n, type=pa.string()),
        "cell": pa.array(np.full(n, task["cell"], dtype=np.int64)),
        "seed_index": pa.array(np.full(n, task["seed_index"], dtype=np.int64)),
        "profile": pa.array([task.get("profile")] * n, type=pa.string()),
    }


def metrics_table(df: pd.DataFrame, task: dict[str, Any]) -> pa.Table:
    """Per-epoch metrics with the run's identifiers first; ``epoch`` as int64."""
    cols = _id_arrays(task, len(df))
    for name in df.columns:
        values = df[name].to_numpy()
        if name == "epoch":
            values = values.astype(np.int64)
        elif values.dtype == object:
            values = values.astype(np.float64)
        cols[str(name)] = pa.array(values)
    return pa.table(cols)


def agents_table(df: pd.DataFrame, task: dict[str, Any]) -> pa.Table:
    """Per-agent records with the run's identifiers first."""
    cols = _id_arrays(task, len(df))
    for name in df.columns:
        column = df[name]
        if (isinstance(column.array, pd.arrays.ArrowStringArray)
                and not column.isna().any()):  # Arrow's own strings, as the loop gives them
            cols[str(name)] = pa.array(column, type=pa.string())
            continue
        values = column.to_numpy()
        if values.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            cols[str(name)] = pa.array([None if v is None else str(v) for v in values],
                                       type=pa.string())
        else:
            cols[str(name)] = pa.array(values)
    return pa.table(cols)


def parquet_bytes(table: pa.Table, task: dict[str, Any], kind: str) -> bytes:
    """The table as a Parquet file, with the run's identity in the file metadata."""
    meta = {
        "run_id": task["run_id"], "cell": task["cell"], "seed_index": task["seed_index"],
        "seed": str(task["seed"]), "config_hash": task["config_hash"],
        "profile": task.get("profile"), "tao_arena": task.get("version"), "table": kind,
    }
    if task.get("params"):
        meta["params"] = task["params"]  # drawn priors, as summary columns (param:<path>)
    table = table.replace_schema_metadata({b"tao_arena.run": json.dumps(meta).encode()})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=PARQUET_COMPRESSION)
    return sink.getvalue().to_pybytes()


def execute_run(task: dict[str, Any]) -> dict[str, Any]:
    """Run one task; a dict with ``status`` "complete" (and the data) or "failed"."""
    t0 = time.perf_counter()
    started = time.time()
    where = {"node": platform.node(), "pid": os.getpid()}
    try:
        from experiments.plan import package_version

        if task.get("version") and task["version"] != package_version():
            raise RuntimeError(
                f"this worker has tao-arena {package_version()}, the driver "
                f"{task['version']}: install the same version on every node"
            )
        from experiments.schema import Experiment
        from experiments.uncertainty import per_agent, realise, recorded
        from experiments.wiring import build_model

        config, drawn = realise(task["config"], int(task["seed"]))  # priors (issue 14)
        exp = Experiment.model_validate(config)
        model = build_model(exp, int(task["seed"]), per_agent(drawn))
        task = {**task, "params": recorded(drawn)}
        for _ in range(exp.epochs):
            model.step()
        metrics = metrics_table(model.datacollector.get_model_vars_dataframe(), task)
        agents = agents_table(model.agent_records(), task)
        return {
            "run_id": task["run_id"], "status": "complete",
            "metrics": parquet_bytes(metrics, task, "metrics"),
            "agents": parquet_bytes(agents, task, "agents"),
            "rows": {"metrics": metrics.num_rows, "agents": agents.num_rows},
            "duration_s": time.perf_counter() - t0, "worker": where,
            "started_at": _iso(started), "params": drawn,
        }
    except Exception as err:  # a failing run is data, not a crash of the sweep
        return {
            "run_id": task["run_id"], "status": "failed",
            "error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc(),
            "duration_s": time.perf_counter() - t0, "worker": where,
            "started_at": _iso(started),
        }


def _iso(t: float) -> str:
    """A wall-clock time for the manifest (never written into run data)."""
    import datetime as dt

    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="milliseconds")
