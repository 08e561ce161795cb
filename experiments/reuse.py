"""Copying complete runs from earlier results directories instead of running them again.

A run is a pure function of its cell's resolved config, its profile, its seed and the
software version (``experiments.execute``: all randomness flows from the seed). So when a
later plan asks for a run that an earlier plan of the same experiment already completed,
``RunIndex`` hands the runner a copy: the earlier files, checked against the sha256 its
manifest recorded, with the run's identifiers (``run_id``, ``cell``, the Parquet file
metadata) rewritten for the new plan. The data are the earlier run's, row for row; the
manifest records where each copy came from (``worker.copied_from``). ``tao-arena psro``
uses it: each iteration adds profiles and keeps every run of the iterations before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from experiments.execute import _id_arrays, parquet_bytes
from experiments.plan import Plan
from experiments.store import AGENTS_FILE, METRICS_FILE, RUNS

META_KEY = b"tao_arena.run"


def run_key(task: dict[str, Any]) -> str:
    """What a run computes: its cell's config, profile, seed and software version."""
    return json.dumps([task["config"], task.get("profile"), task["seed_index"], task["seed"],
                       task.get("version")], sort_keys=True, separators=(",", ":"))


class RunIndex:
    """The complete runs of earlier ``(plan, results directory)`` pairs, by what they
    compute (``run_key``)."""

    def __init__(self, earlier: Iterable[tuple[Plan, Path]] = ()) -> None:
        self._where: dict[str, tuple[Path, str, dict[str, Any]]] = {}
        for plan, path in earlier:
            self.add(plan, path)

    def add(self, plan: Plan, path: Path) -> None:
        """Index the complete runs of ``plan`` in its results directory ``path``."""
        manifest = json.loads((Path(path) / "manifest.json").read_text())
        for run in plan.runs():
            rec = manifest["runs"].get(run.run_id, {})
            if rec.get("status") == "complete":
                self._where.setdefault(run_key(plan.task(run)), (Path(path), run.run_id, rec))

    def __len__(self) -> int:
        return len(self._where)

    def has(self, task: dict[str, Any]) -> bool:
        """Whether an earlier complete run computed ``task``."""
        return run_key(task) in self._where

    def copy(self, task: dict[str, Any]) -> dict[str, Any] | None:
        """``task``'s run as ``experiments.execute.execute_run`` would return it, from the
        earlier run's files; None when there is none or its files no longer match the
        sha256 its manifest recorded (then the run is executed)."""
        found = self._where.get(run_key(task))
        if found is None:
            return None
        path, rid, rec = found
        out: dict[str, Any] = {"run_id": task["run_id"], "status": "complete",
                               "rows": rec.get("rows"), "duration_s": 0.0,
                               "worker": {"copied_from": f"{path}/{RUNS}/{rid}"},
                               "started_at": rec.get("started_at"), "params": rec.get("params")}
        for kind, name in (("metrics", METRICS_FILE), ("agents", AGENTS_FILE)):
            data = (path / RUNS / rid / name).read_bytes()
            if hashlib.sha256(data).hexdigest() != rec.get("sha256", {}).get(kind):
                return None
            table = pq.read_table(pa.BufferReader(data))
            meta = json.loads((table.schema.metadata or {}).get(META_KEY, b"{}"))
            for col, arr in _id_arrays(task, table.num_rows).items():
                table = table.set_column(table.schema.get_field_index(col), col, arr)
            out[kind] = parquet_bytes(table.replace_schema_metadata(None),
                                      {**task, "params": meta.get("params")}, kind)
        return out
