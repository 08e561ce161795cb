"""The results directory of one experiment: layout, manifest, atomic files, resume.

Layout (``results/<experiment>/<config-hash>/``)::

    manifest.json            resolved config, grid, every run's seed and status (with the
                             traceback of a failed run), software versions, git commit,
                             invocations with start and end times
    summary.parquet          one row per complete run (rebuilt from the runs every time)
    runs/<run_id>/metrics.parquet   per-epoch metrics of one run
    runs/<run_id>/agents.parquet    per-agent records of one run (every
                                    scenario.agent_record_interval epochs)
    runs/<run_id>/_checksums.json   size and sha256 of the run's two files
    .lock                    held (flock) while a tao-arena process works here

A run's two files are written into ``runs/.tmp-<run_id>-<random>/`` and that directory is
renamed to ``runs/<run_id>/`` when both are complete (an atomic rename), so a run
directory exists only complete; ``manifest.json`` and ``summary.parquet`` are replaced
atomically too (written under a temporary name, then renamed). Resume heals the
directory (``experiments.integrity``): leftover temporary files (``.tmp-*``, ``*.tmp``) are
removed, every run directory is checked against its checksums and a missing, damaged or
incomplete run is removed and recorded pending (said on stderr by the runner) so it runs
again; the manifest is reconciled with the directory on every start, so a process killed
between a run and a manifest update loses nothing. A write that fails (a full disk, an
unwritable root) raises ``ResultsWriteError`` and leaves every complete run complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import math
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.execute import ID_COLUMNS
from experiments.integrity import (
    AGENTS_FILE,
    CHECKSUMS_FILE,
    MANIFEST,
    METRICS_FILE,
    RUNS,
    SUMMARY,
    TMP_PREFIX,
    check_run,
    checksums,
    sha256_file,
    stray_temporaries,
)
from experiments.plan import Plan, RunSpec
from experiments.wiring import run_seed

FORMAT = "tao-arena-results/1"
PACKAGES = ("numpy", "scipy", "pandas", "pyarrow", "mesa", "ray", "pydantic", "pyyaml",
            "networkx", "tqdm")
MANIFEST_SAVE_INTERVAL_S = 5.0


class ResultsLocked(RuntimeError):
    """Another tao-arena process is writing the same results directory."""


class ResultsWriteError(ValueError):
    """The results directory cannot be created or written (a bad root, a full disk): one
    line, exit code 2 from the CLI (a ValueError, as bad input is)."""


RUN_AGAIN = "every complete run stays complete (run the same command again to finish)"


@contextlib.contextmanager
def _writing(what: Path, opening: bool = False, role: str = "a results directory",
             hint: str = RUN_AGAIN) -> Any:
    """Turn an ``OSError`` while writing ``what`` into a one-line ``ResultsWriteError``."""
    try:
        yield
    except OSError as err:
        reason = err.strerror or str(err)
        if opening:
            raise ResultsWriteError(f"cannot use {what} as {role}: {reason}") from None
        tail = f"; {hint}" if hint else ""
        raise ResultsWriteError(f"cannot write {what}: {reason}{tail}") from None


def finite_json(value: Any) -> Any:
    """JSON-safe copy of ``value``: NaN and infinities as null (strict JSON has neither;
    written with ``allow_nan=False``)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    return value


def make_dir(path: Path, role: str = "a results directory") -> Path:
    """Create ``path`` and its parents; one that cannot be created is a one-line
    ``ResultsWriteError`` (exit 2 from the CLI) naming it, never a traceback. Every
    command that writes an output directory goes through here."""
    with _writing(path, opening=True, role=role):
        path.mkdir(parents=True, exist_ok=True)
    return path


def now() -> str:
    """The wall-clock time, UTC, ISO 8601 (manifest only: never inside run data)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


@functools.cache
def software() -> dict[str, Any]:
    """tao-arena's version and git commit, Python, platform and package versions."""
    from experiments.plan import package_version

    repo = Path(__file__).resolve().parent.parent
    commit = dirty = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        if out.returncode == 0:
            commit = out.stdout.strip()
            st = subprocess.run(["git", "-C", str(repo), "status", "--porcelain",
                                 "--untracked-files=no"], capture_output=True, text=True,
                                timeout=30)
            dirty = bool(st.stdout.strip()) if st.returncode == 0 else None
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "tao_arena": package_version(), "git_commit": commit, "git_dirty": dirty,
        "python": sys.version.split()[0], "platform": platform.platform(),
        "packages": packages,
    }


def write_atomic(path: Path, data: bytes, hint: str = RUN_AGAIN) -> None:
    """Replace ``path`` by ``data`` atomically; on any failure the old file stays and no
    temporary file is left behind. An ``OSError`` is a one-line ``ResultsWriteError``
    naming ``path`` (``hint`` ends the line)."""
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}-{secrets.token_hex(4)}")
    try:
        with _writing(path, hint=hint):
            with tmp.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class ResultsDir:
    """``results/<experiment>/<config-hash>/`` of one plan, opened for writing."""

    def __init__(self, root: str | Path, plan: Plan) -> None:
        self.plan = plan
        self.path = Path(root) / plan.name / plan.config_hash
        self.runs_dir = self.path / RUNS
        self.manifest: dict[str, Any] = {}
        self._lock_fd: int | None = None
        self._last_save = 0.0
        self._invocation: dict[str, Any] = {}
        self.begun = False  # whether this process recorded an invocation (``begin``)
        self.notes: list[str] = []  # what opening healed (the runner prints it on stderr)

    # -- opening ------------------------------------------------------------------------
    def open(self) -> ResultsDir:
        """Create the directory, take its lock, heal it and reconcile the manifest.

        Raises:
            ResultsLocked: another process works here.
            ResultsWriteError: the directory cannot be created or written.
        """
        with _writing(self.path, opening=True):
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ResultsLocked(f"{self.path} is in use by another tao-arena process") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd
        self._remove_partial()
        self.manifest = self._load_manifest()
        self._reconcile()
        return self

    def close(self) -> None:
        """Release the lock."""
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> ResultsDir:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _remove_partial(self) -> None:
        for entry in stray_temporaries(self.path):
            if entry.parent != self.runs_dir or entry.is_file():
                self.notes.append(f"removed a stray temporary file: {entry}")
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)

    def _load_manifest(self) -> dict[str, Any]:
        path = self.path / MANIFEST
        plan = self.plan
        fresh = {
            "format": FORMAT,
            "experiment": plan.name,
            "config_hash": plan.config_hash,
            "status": "incomplete",
            "started_at": None,
            "ended_at": None,
            "source": {"file": plan.source, "sha256": plan.source_sha256,
                       "inputs": plan.inputs},
            "config": plan.config,
            "eras": plan.eras(),
            "grid": {
                "paths": list(plan.experiment.sweep.grid) if plan.experiment.sweep else [],
                "zip": [list(g) for g in plan.experiment.sweep.zip]
                if plan.experiment.sweep else [],
                "profiles": plan.experiment.profiles is not None,
                "cells": [c.describe() for c in plan.cells],
            },
            "seeds": {"master": plan.master_seed, "indices": [],
                      "derivation": "numpy.random.SeedSequence(master, spawn_key=(seed_index,))"
                                    ".generate_state(1, uint64)[0]"},
            "layout": {"metrics": f"{RUNS}/<run_id>/{METRICS_FILE}",
                       "agents": f"{RUNS}/<run_id>/{AGENTS_FILE}", "summary": SUMMARY},
            "software": software(),
            "counts": {},
            "runs": {},
            "invocations": [],
        }
        if path.exists():
            try:
                old = json.loads(path.read_text())
            except (OSError, ValueError):
                old = {}
                self.notes.append(f"{path} was unreadable: rebuilt from the run directories "
                                  f"(earlier invocations' records are lost)")
            if not isinstance(old, dict):
                old = {}
            if old.get("format") == FORMAT and old.get("config_hash") == plan.config_hash:
                fresh["runs"] = old.get("runs", {})
                fresh["invocations"] = old.get("invocations", [])
                fresh["started_at"] = old.get("started_at")
                fresh["seeds"]["indices"] = old.get("seeds", {}).get("indices", [])
        return fresh

    def _reconcile(self) -> None:
        """Make the manifest's run statuses agree with the run directories on disk,
        removing every run directory that is not intact (``integrity.check_run``)."""
        runs = self.manifest["runs"]
        for entry in sorted(self.runs_dir.iterdir()):
            if not entry.is_dir():
                continue
            why = check_run(entry, runs.get(entry.name))
            if why is not None:
                shutil.rmtree(entry, ignore_errors=True)
                rec = runs.get(entry.name)
                if rec is not None:
                    rec["status"] = "pending"
                    rec["note"] = f"removed as damaged: {why}"
                self.notes.append(f"run {entry.name}: {why}; removed, it runs again")
        on_disk = self.complete_run_ids()
        for rid, rec in runs.items():
            if rec.get("status") == "complete" and rid not in on_disk:
                rec["status"] = "pending"  # its files were removed: run it again
                rec["note"] = "recorded complete, but its folder was missing"
                self.notes.append(f"run {rid}: recorded complete but its folder is missing; "
                                  f"it runs again")
        for rid in on_disk:
            rec = runs.get(rid)
            if rec is None or rec.get("status") != "complete":
                rec = runs.setdefault(rid, {})
                m = re.fullmatch(r"c(\d+)-s(\d+)", rid)
                if m and "seed" not in rec:
                    k = int(m.group(2))
                    rec.update({"cell": int(m.group(1)), "seed_index": k,
                                "seed": run_seed(self.plan.master_seed, k)})
                rec.update(self._file_record(rid))
                rec["status"] = "complete"
                rec.setdefault("note", "found complete on disk (the manifest was not updated "
                                       "before the previous process ended)")
                rec.pop("error", None)
                rec.pop("traceback", None)

    # -- queries --------------------------------------------------------------------------
    def complete_run_ids(self) -> set[str]:
        """Runs whose directory exists: complete by construction, and intact (``open``
        removed every damaged one)."""
        out = set()
        for entry in self.runs_dir.iterdir():
            if entry.name.startswith(TMP_PREFIX) or not entry.is_dir():
                continue
            if (entry / METRICS_FILE).is_file() and (entry / AGENTS_FILE).is_file():
                out.add(entry.name)
        return out

    def is_complete(self, run_id: str) -> bool:
        """Whether ``run_id`` is complete on disk."""
        d = self.runs_dir / run_id
        return (d / METRICS_FILE).is_file() and (d / AGENTS_FILE).is_file()

    # -- invocations ------------------------------------------------------------------------
    def begin(self, runs: list[RunSpec], todo: int, info: dict[str, Any]) -> None:
        """Record the start of an invocation and the runs it plans."""
        started = now()
        self.manifest["started_at"] = self.manifest["started_at"] or started
        self.manifest["config"] = self.plan.config
        self.manifest["status"] = "running"
        indices = set(self.manifest["seeds"]["indices"]) | {r.seed_index for r in runs}
        self.manifest["seeds"]["indices"] = sorted(indices)
        for r in runs:
            rec = self.manifest["runs"].setdefault(r.run_id, {"status": "pending"})
            rec.update({"cell": r.cell, "seed_index": r.seed_index, "seed": r.seed})
        self._invocation = {"started_at": started, "ended_at": None, "planned": len(runs),
                            "skipped_complete": len(runs) - todo, "to_run": todo,
                            "completed": 0, "failed": 0, "pid": os.getpid(),
                            "software": software(), **info}
        self.manifest["invocations"].append(self._invocation)
        self.begun = True
        self.save()

    def end(self, status: str) -> None:
        """Record the end of the invocation and save the manifest."""
        self._invocation["ended_at"] = self.manifest["ended_at"] = now()
        self._invocation["status"] = status
        self._count()
        runs = self.manifest["runs"]
        if status == "interrupted":
            self.manifest["status"] = "interrupted"
        elif any(r.get("status") == "failed" for r in runs.values()):
            self.manifest["status"] = "failed"
        elif all(r.get("status") == "complete" for r in runs.values()):
            self.manifest["status"] = "complete"
        else:
            self.manifest["status"] = "incomplete"
        self.save()

    def _count(self) -> None:
        counts: dict[str, int] = {}
        for r in self.manifest["runs"].values():
            counts[r.get("status", "pending")] = counts.get(r.get("status", "pending"), 0) + 1
        self.manifest["counts"] = counts

    # -- writing runs ----------------------------------------------------------------------
    def _file_record(self, run_id: str) -> dict[str, Any]:
        d = self.runs_dir / run_id
        files = {"metrics": d / METRICS_FILE, "agents": d / AGENTS_FILE}
        return {
            "files": {k: str(p.relative_to(self.path)) for k, p in files.items()},
            "sha256": {k: sha256_file(p) for k, p in files.items()},
            "bytes": {k: p.stat().st_size for k, p in files.items()},
        }

    def write_run(self, task: dict[str, Any], out: dict[str, Any]) -> None:
        """Write a complete run's files (atomically) and record it in the manifest."""
        rid = task["run_id"]
        final = self.runs_dir / rid
        rec = self.manifest["runs"].setdefault(rid, {})
        rec.update({"cell": task["cell"], "seed_index": task["seed_index"],
                    "seed": task["seed"]})
        if final.exists():  # written meanwhile by this very process (a retried duplicate)
            return
        tmp = self.runs_dir / f"{TMP_PREFIX}{rid}-{secrets.token_hex(4)}"
        files = {METRICS_FILE: out["metrics"], AGENTS_FILE: out["agents"]}
        try:
            with _writing(final):
                tmp.mkdir()
                for name, data in (*files.items(), (CHECKSUMS_FILE, checksums(files))):
                    with (tmp / name).open("wb") as f:
                        f.write(data)
                        f.flush()
                        os.fsync(f.fileno())
                _fsync_dir(tmp)
                os.rename(tmp, final)
                _fsync_dir(self.runs_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        hashes = {"metrics": hashlib.sha256(out["metrics"]).hexdigest(),
                  "agents": hashlib.sha256(out["agents"]).hexdigest()}
        rec.update({
            "status": "complete",
            "files": {"metrics": f"{RUNS}/{rid}/{METRICS_FILE}",
                      "agents": f"{RUNS}/{rid}/{AGENTS_FILE}"},
            "sha256": hashes,
            "bytes": {"metrics": len(out["metrics"]), "agents": len(out["agents"])},
            "rows": out.get("rows"),
            "duration_s": round(float(out.get("duration_s", 0.0)), 4),
            "worker": out.get("worker"),
            "started_at": out.get("started_at"),
            "ended_at": now(),
            "attempts": rec.get("attempts", 0) + 1,
        })
        if out.get("params"):
            rec["params"] = out["params"]  # the values drawn for its priors (issue 14)
        for key in ("error", "traceback", "note"):
            rec.pop(key, None)
        self._invocation["completed"] = self._invocation.get("completed", 0) + 1
        self.maybe_save()

    def record_failure(self, task: dict[str, Any], out: dict[str, Any]) -> None:
        """Record a failed run (error and traceback) and save the manifest now."""
        rec = self.manifest["runs"].setdefault(task["run_id"], {})
        rec.update({
            "cell": task["cell"], "seed_index": task["seed_index"], "seed": task["seed"],
            "status": "failed", "error": out.get("error"), "traceback": out.get("traceback"),
            "duration_s": round(float(out.get("duration_s", 0.0)), 4),
            "worker": out.get("worker"), "started_at": out.get("started_at"),
            "ended_at": now(), "attempts": rec.get("attempts", 0) + 1,
        })
        self._invocation["failed"] = self._invocation.get("failed", 0) + 1
        self.save()

    # -- manifest and summary -----------------------------------------------------------------
    def maybe_save(self) -> None:
        """Save the manifest if the last save is older than a few seconds."""
        import time

        if time.monotonic() - self._last_save >= MANIFEST_SAVE_INTERVAL_S:
            self.save()

    def save(self) -> None:
        """Write ``manifest.json`` atomically."""
        import time

        self._count()
        data = json.dumps(self.manifest, indent=1, sort_keys=False, default=str).encode()
        write_atomic(self.path / MANIFEST, data)
        self._last_save = time.monotonic()

    def rebuild_summary(self) -> Path:
        """``summary.parquet``: one row per complete run, rebuilt from the run files."""
        warmups: dict[int, int] = {}
        rows = [summary_row(self.runs_dir / rid / METRICS_FILE, self.plan, warmups)
                for rid in sorted(self.complete_run_ids())]
        sweep = self.plan.experiment.sweep
        paths = [] if sweep is None else list(sweep.grid) + [p for g in sweep.zip for p in g]
        table = summary_table(rows, paths)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        path = self.path / SUMMARY
        write_atomic(path, sink.getvalue().to_pybytes())
        return path


# ---------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------

SUMMARY_ID_COLUMNS = ("run_id", "cell", "seed_index", "seed", "profile", "profile_kind",
                      "profile_role", "profile_strategy", "epochs", "warmup_epochs")


def summary_row(metrics_path: Path, plan: Plan,
                warmups: dict[int, int] | None = None) -> dict[str, Any]:
    """One run's summary: identifiers, the cell's sweep values, and for every metric its
    mean over the epochs after the warm-up (``mean:<metric>``) and its last value
    (``final:<metric>``)."""
    df = pq.read_table(metrics_path).to_pandas()
    meta = json.loads(pq.read_schema(metrics_path).metadata[b"tao_arena.run"])
    cell = plan.cells[int(meta["cell"])]
    warmups = {} if warmups is None else warmups
    if cell.index not in warmups:
        from experiments.schema import Experiment

        warmups[cell.index] = Experiment.model_validate(cell.config).resolved_warmup
    warm = warmups[cell.index]
    profile = cell.profile or {}
    row: dict[str, Any] = {
        "run_id": meta["run_id"], "cell": int(meta["cell"]),
        "seed_index": int(meta["seed_index"]), "seed": int(meta["seed"]),
        "profile": profile.get("id"), "profile_kind": profile.get("kind"),
        "profile_role": profile.get("role"), "profile_strategy": profile.get("strategy"),
        "epochs": len(df), "warmup_epochs": warm,
    }
    row.update({f"sweep:{k}": v for k, v in cell.overrides.items()})
    row.update(meta.get("params") or {})  # param:<path>, drawn from priors (issue 14)
    after = df[df["epoch"] >= warm] if len(df) > warm else df
    for col in df.columns:
        if col in ID_COLUMNS or col == "epoch":
            continue
        values = pd.to_numeric(df[col], errors="coerce")
        row[f"mean:{col}"] = float(pd.to_numeric(after[col], errors="coerce").mean())
        row[f"final:{col}"] = float(values.iloc[-1]) if len(values) else float("nan")
    return row


def _column(values: list[Any]) -> pa.Array:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(values, type=pa.bool_())
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    if all(isinstance(v, str) for v in present):
        return pa.array(values, type=pa.string())
    return pa.array([None if v is None else json.dumps(v, sort_keys=True) for v in values],
                    type=pa.string())


def summary_table(rows: Iterable[dict[str, Any]], sweep_paths: list[str]) -> pa.Table:
    """The summary rows as a table: identifiers, ``sweep:<path>`` columns, then metrics."""
    rows = list(rows)
    keys: list[str] = list(SUMMARY_ID_COLUMNS) + [f"sweep:{p}" for p in sweep_paths]
    seen = set(keys)
    for r in rows:
        for k in r:
            if k not in seen:
                seen.add(k)
                keys.append(k)
    cols: dict[str, pa.Array] = {}
    for k in keys:
        values = [r.get(k) for r in rows]
        if k == "seed":
            cols[k] = pa.array(values, type=pa.uint64())
        elif k in ("cell", "seed_index", "epochs", "warmup_epochs"):
            cols[k] = pa.array(values, type=pa.int64())
        elif k.startswith(("mean:", "final:")):
            cols[k] = pa.array([float("nan") if v is None else v for v in values],
                               type=pa.float64())
        else:
            cols[k] = _column(values)
    return pa.table(cols)
