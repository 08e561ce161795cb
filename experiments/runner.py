"""Running a plan: skip what is complete, execute the rest, record everything.

``run_plan`` is what ``tao-arena run``, ``tao-arena sweep`` and ``tao-arena main`` call.
It opens the results directory (``experiments.store``), works out which runs are still
missing, executes them on a backend (``experiments.backends``), writes each run as it
arrives, rebuilds ``summary.parquet`` and returns an outcome whose ``exit_code`` is 0
when every planned run is complete and 1 when some failed (failures are recorded with
their tracebacks in the manifest; the other runs still ran).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from experiments.backends import BACKENDS, Progress, RaySession, ray_results, serial_results
from experiments.plan import Plan
from experiments.store import ResultsDir, ResultsWriteError

if TYPE_CHECKING:
    from experiments.reuse import RunIndex

DEFAULT_RESULTS_ROOT = "results"


def results_root(given: str | Path | None = None) -> Path:
    """Where results go: ``given``, else ``$TAO_ARENA_RESULTS``, else ``./results``."""
    return Path(given or os.environ.get("TAO_ARENA_RESULTS") or DEFAULT_RESULTS_ROOT)


@dataclass
class Outcome:
    """What a run of a plan did."""

    results_dir: Path
    planned: int
    skipped: int
    completed: int = 0
    copied: int = 0  # identical runs copied from earlier directories (``reuse``)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (run_id, error)
    elapsed_s: float = 0.0
    backend: str = "serial"

    @property
    def exit_code(self) -> int:
        """0: every planned run is complete; 1: some failed."""
        return 1 if self.failed else 0

    def report(self) -> str:
        """A short human summary, listing failures."""
        lines = [
            f"{self.planned} runs planned: {self.skipped} already complete, "
            f"{self.completed} ran, "
            + (f"{self.copied} copied from identical earlier runs, " if self.copied else "")
            + f"{len(self.failed)} failed "
            f"({self.backend}, {self.elapsed_s:.1f} s)",
            f"results: {self.results_dir}",
        ]
        for rid, err in self.failed[:10]:
            lines.append(f"  FAILED {rid}: {err}")
        if len(self.failed) > 10:
            lines.append(f"  ... and {len(self.failed) - 10} more")
        if self.failed:
            lines.append(f"  tracebacks: {self.results_dir / 'manifest.json'} (runs.<id>)")
        return "\n".join(lines)


def run_plan(
    plan: Plan,
    *,
    root: str | Path | None = None,
    backend: str = "serial",
    workers: int | None = None,
    address: str | None = None,
    cells: list[int] | None = None,
    max_retries: int = 3,
    progress: bool = True,
    stream: TextIO | None = None,
    command: list[str] | None = None,
    heal: list[str] | None = None,
    reuse: RunIndex | None = None,
) -> Outcome:
    """Execute the missing runs of ``plan`` (or of some of its cells) on ``backend``.

    ``command``: the invocation, recorded in the manifest; ``heal``: the command that
    redoes this directory's damaged runs (``tao-arena verify`` quotes it; default
    ``command``, right for ``run``, ``sensitivity`` and ``calibrate``, which run the same
    plan again); ``reuse``: earlier complete runs that compute the same thing
    (``experiments.reuse``), copied instead of executed."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    stream = stream or sys.stderr
    t0 = time.monotonic()
    runs = plan.runs(cells)
    store = ResultsDir(results_root(root), plan).open()
    for note in store.notes:
        print(f"tao-arena: {note}", file=stream)
    outcome = Outcome(store.path, len(runs), 0, backend=backend)
    status = "interrupted"
    try:
        todo = [r for r in runs if not store.is_complete(r.run_id)]
        outcome.skipped = len(runs) - len(todo)
        info: dict[str, Any] = {"backend": backend, "command": command or sys.argv,
                                "heal_command": heal or command or sys.argv, "cells": cells}
        copies = [r for r in todo if reuse is not None and reuse.has(plan.task(r))]
        copied = {r.run_id for r in copies}
        tasks = (plan.task(r) for r in todo if r.run_id not in copied)
        bar = Progress(len(todo), plan.name, enabled=progress, stream=stream)

        def copy_first(results: Any) -> Any:
            for r in copies:
                task = plan.task(r)
                out = reuse.copy(task) if reuse is not None else None
                if out is None:  # its files changed since: run it after all
                    yield from serial_results([task])
                    continue
                yield task, out
            yield from results

        try:
            if backend == "ray" and todo:
                with RaySession(workers, address) as session:
                    info["ray"] = session.info
                    store.begin(runs, len(todo), info)
                    _consume(copy_first(ray_results(tasks, max_retries=max_retries)), store,
                             bar, outcome)
            else:
                info["workers"] = 1
                store.begin(runs, len(todo), info)
                _consume(copy_first(serial_results(tasks)), store, bar, outcome)
        finally:
            bar.close()
        store.rebuild_summary()
        status = "complete" if not outcome.failed else "failed"
    finally:
        outcome.elapsed_s = time.monotonic() - t0
        try:
            if store.begun:
                if sys.exc_info()[0] is None:
                    store.end(status)
                else:  # keep the error that is on its way out (a full disk, an interrupt)
                    with contextlib.suppress(ResultsWriteError):
                        store.end(status)
        finally:
            store.close()
    return outcome


def _consume(results: Any, store: ResultsDir, bar: Progress, outcome: Outcome) -> None:
    for task, out in results:
        if out.get("status") == "complete":
            store.write_run(task, out)
            if "copied_from" in (out.get("worker") or {}):
                outcome.copied += 1
            else:
                outcome.completed += 1
            bar.update(True)
        else:
            store.record_failure(task, out)
            outcome.failed.append((task["run_id"], str(out.get("error"))))
            bar.update(False)


# ---------------------------------------------------------------------------------------
# The main job (`make run`)
# ---------------------------------------------------------------------------------------


def main_config() -> Path:
    """``experiments/configs/main.yaml``: the sweep ``make run`` runs."""
    return Path(__file__).resolve().parent / "configs" / "main.yaml"


def report_hook(results_dir: Path) -> Path:
    """Write the analysis report of ``results_dir`` (``analysis.report.report``) and return
    the path of its ``report.md``."""
    from analysis.report import report

    return Path(report(Path(results_dir)))


def claims_configs() -> list[Path]:
    """The claims suite: one experiment per claim of MODEL.md section 7."""
    return sorted((Path(__file__).resolve().parent / "configs" / "claims").glob("*.yaml"))


def run_claims_suite(
    root: Path | str | None, *, backend: str = "ray", workers: int | None = None,
    progress: bool = True, stream: TextIO | None = None, full: bool = False,
) -> int:
    """Run every claims experiment (complete runs are kept) under one Ray session; with
    ``full``, each at its ``full:`` size.

    Returns 0, 1 if a run failed, or 2 if a file was refused (then nothing is run).
    """
    from experiments.loader import ConfigError
    from experiments.plan import load_plan
    from experiments.store import ResultsLocked

    stream = stream or sys.stdout
    try:
        plans = [load_plan(f, full=full) for f in claims_configs()]
    except ConfigError as err:
        print(f"tao-arena: error: refused (nothing was run or written):\n{err}",
              file=sys.stderr)
        return 2
    code = 0
    session = RaySession(workers) if backend == "ray" else contextlib.nullcontext()
    with session:
        for plan in plans:
            try:
                outcome = run_plan(plan, root=root, backend=backend, workers=workers,
                                   progress=progress)
            except ResultsLocked as err:
                print(f"tao-arena: error: {err}", file=sys.stderr)
                code = max(code, 1)
                continue
            print(outcome.report(), file=stream)
            code = max(code, outcome.exit_code)
    return code
