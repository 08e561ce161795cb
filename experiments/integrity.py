"""Whether a results directory is intact: run checksums, damage, stray temporary files.

Every finished run carries ``runs/<run_id>/_checksums.json`` (written inside the run's
temporary directory before the atomic rename, so it exists exactly when the run does)::

    {"format": "tao-arena-checksums/1",
     "files": {"metrics.parquet": {"sha256": "...", "bytes": 1234},
               "agents.parquet": {"sha256": "...", "bytes": 5678}}}

(the leading ``_`` keeps it out of ``pyarrow.dataset`` / Hive-style discovery of the run
files). A run is intact when both Parquet files are there with the recorded size and
sha256. A run directory from before the checksum file (format ``tao-arena-results/1``
without it) is checked against the sha256 the manifest recorded, else by reading its
Parquet files in full.

``verify_results_dir`` reads a directory and changes nothing (``tao-arena verify``); the
writer (``experiments.store.ResultsDir.open``) uses ``check_run`` and
``stray_temporaries`` to remove what is damaged or left over, so the next run redoes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

MANIFEST = "manifest.json"
SUMMARY = "summary.parquet"
RUNS = "runs"
METRICS_FILE = "metrics.parquet"
AGENTS_FILE = "agents.parquet"
CHECKSUMS_FILE = "_checksums.json"
CHECKSUMS_FORMAT = "tao-arena-checksums/1"
RUN_FILES = (METRICS_FILE, AGENTS_FILE)
TMP_PREFIX = ".tmp-"
_KIND = {METRICS_FILE: "metrics", AGENTS_FILE: "agents"}


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checksums(files: dict[str, bytes]) -> bytes:
    """The ``_checksums.json`` of a run whose files (name -> bytes) are ``files``."""
    record = {"format": CHECKSUMS_FORMAT,
              "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                        for name, data in sorted(files.items())}}
    return (json.dumps(record, indent=1, sort_keys=True) + "\n").encode()


def is_temporary(name: str) -> bool:
    """A name tao-arena (or a tool writing beside it) uses for a file not yet complete:
    ``.tmp-*`` (tao-arena's own) or ``*.tmp``."""
    return name.startswith(TMP_PREFIX) or name.endswith(".tmp")


def stray_temporaries(results_dir: Path) -> list[Path]:
    """Temporary files and directories left in a results directory, its ``runs/`` and
    every run directory (a process killed mid-write leaves them; none is ever complete)."""
    out: list[Path] = []
    parents = [results_dir, results_dir / RUNS]
    runs = results_dir / RUNS
    if runs.is_dir():
        parents += [d for d in sorted(runs.iterdir())
                    if d.is_dir() and not is_temporary(d.name)]
    for parent in parents:
        if parent.is_dir():
            out += [e for e in sorted(parent.iterdir()) if is_temporary(e.name)]
    return out


def _parquet_readable(path: Path) -> str | None:
    try:
        pq.read_table(path)
    except Exception as err:  # noqa: BLE001 - any failure to read is damage
        return f"{path.name} is not a readable Parquet file ({str(err).splitlines()[0]})"
    return None


def check_run(run_dir: Path, recorded: dict[str, Any] | None = None) -> str | None:
    """Why the run in ``run_dir`` is not intact (missing, damaged or incomplete), or None.

    Args:
        run_dir: ``runs/<run_id>/``.
        recorded: the run's manifest record (its ``sha256`` is used for a run directory
            written before ``_checksums.json`` existed).
    """
    if not run_dir.is_dir():
        return "its folder is missing"
    missing = [n for n in RUN_FILES if not (run_dir / n).is_file()]
    if missing:
        return f"{', '.join(missing)} missing (incomplete run)"
    expected: dict[str, dict[str, Any]] = {}
    sums = run_dir / CHECKSUMS_FILE
    if sums.is_file():
        try:
            data = json.loads(sums.read_text())
            expected = {n: data["files"][n] for n in RUN_FILES}
            for n in RUN_FILES:
                int(expected[n]["bytes"]), str(expected[n]["sha256"])
        except (OSError, ValueError, KeyError, TypeError):
            return f"{CHECKSUMS_FILE} is unreadable"
    else:
        sha = (recorded or {}).get("sha256") or {}
        size = (recorded or {}).get("bytes") or {}
        if all(_KIND[n] in sha for n in RUN_FILES):
            expected = {n: {"sha256": sha[_KIND[n]], "bytes": size.get(_KIND[n])}
                        for n in RUN_FILES}
        else:  # no checksum anywhere: the files must at least read as Parquet
            for n in RUN_FILES:
                problem = _parquet_readable(run_dir / n)
                if problem:
                    return problem
            return None
    for n in RUN_FILES:
        path = run_dir / n
        want = expected[n].get("bytes")
        got = path.stat().st_size
        if want is not None and got != int(want):
            return f"{n} has {got} bytes, {int(want)} when the run finished (truncated or damaged)"
        if sha256_file(path) != expected[n]["sha256"]:
            return f"{n} is damaged (its sha256 differs from the one recorded when the run " \
                   f"finished)"
    return None


@dataclass
class Verification:
    """What ``verify_results_dir`` found in one results directory.

    Attributes:
        path: the results directory.
        source: the experiment file the manifest names, or None.
        heal: the command that redoes damaged runs, as the last invocation recorded it
            (``heal_command``), or None (a manifest written before it was recorded).
        intact: run ids whose files are intact.
        damaged: ``(run_id, problem)`` for every run that is recorded complete or has a
            folder, but is missing, damaged or incomplete.
        strays: leftover temporary files and directories.
        problems: other problems (an unreadable manifest, a summary out of step).
    """

    path: Path
    source: str | None = None
    heal: list[str] | None = None
    intact: list[str] = field(default_factory=list)
    damaged: list[tuple[str, str]] = field(default_factory=list)
    strays: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether nothing needs healing."""
        return not (self.damaged or self.strays or self.problems)

    def lines(self) -> list[str]:
        """One line per damaged run, stray file and other problem (nothing when ok)."""
        out = [f"DAMAGED {self.path / RUNS / rid}: {why}" for rid, why in self.damaged]
        out += [f"STRAY {p}: temporary file left by an interrupted write" for p in self.strays]
        out += [f"PROBLEM {self.path}: {p}" for p in self.problems]
        return out


def _read_manifest(path: Path) -> tuple[dict[str, Any], str | None]:
    try:
        data = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as err:
        return {}, f"{MANIFEST} is unreadable ({err})"
    if not isinstance(data, dict):
        return {}, f"{MANIFEST} is not a JSON object"
    return data, None


def _summary_runs(path: Path) -> set[str] | str:
    try:
        return set(pq.read_table(path / SUMMARY, columns=["run_id"]).column(0).to_pylist())
    except Exception as err:  # noqa: BLE001 - any failure to read is damage
        return f"{SUMMARY} is not readable ({str(err).splitlines()[0]})"


def _heal_command(manifest: dict[str, Any]) -> list[str] | None:
    """The last invocation's ``heal_command`` (a list of strings), else None."""
    invocations = manifest.get("invocations")
    if not isinstance(invocations, list):
        return None
    for inv in reversed(invocations):
        cmd = inv.get("heal_command") if isinstance(inv, dict) else None
        if isinstance(cmd, list) and cmd and all(isinstance(c, str) for c in cmd):
            return cmd
    return None


def verify_results_dir(path: str | Path) -> Verification:
    """Check one ``results/<experiment>/<hash>/`` directory; nothing is changed."""
    path = Path(path)
    manifest, problem = _read_manifest(path)
    v = Verification(path, source=(manifest.get("source") or {}).get("file"),
                     heal=_heal_command(manifest))
    if problem:
        v.problems.append(problem)
    records: dict[str, Any] = manifest.get("runs") or {}
    runs = path / RUNS
    on_disk = sorted(d.name for d in runs.iterdir()
                     if d.is_dir() and not is_temporary(d.name)) if runs.is_dir() else []
    recorded_complete = [r for r, rec in records.items()
                         if isinstance(rec, dict) and rec.get("status") == "complete"]
    for rid in sorted(set(on_disk) | set(recorded_complete)):
        why = check_run(runs / rid, records.get(rid))
        if why is None:
            v.intact.append(rid)
        else:
            v.damaged.append((rid, why))
    v.strays = stray_temporaries(path)
    if (path / SUMMARY).is_file():
        listed = _summary_runs(path)
        if isinstance(listed, str):
            v.problems.append(listed)
        else:
            bad = sorted(listed - set(v.intact))
            if bad:
                v.problems.append(f"{SUMMARY} holds runs that are not intact: "
                                  f"{', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}")
            new = len(set(v.intact) - listed)
            if new:
                v.problems.append(f"{SUMMARY} is out of date ({new} intact run(s) not in it)")
    elif v.intact:
        v.problems.append(f"{SUMMARY} is missing")
    return v


def result_dirs(root: str | Path) -> list[Path]:
    """Every results directory (holding ``manifest.json``) at or below ``root``.

    Raises:
        ValueError: ``root`` does not exist or holds no results directory.
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: no such results directory")
    if (root / MANIFEST).is_file():
        return [root]
    found = sorted(p.parent for p in root.rglob(MANIFEST))
    if not found:
        raise ValueError(f"{root} holds no results directory (no {MANIFEST} at or below it)")
    return found


def verify_tree(root: str | Path) -> list[Verification]:
    """``verify_results_dir`` of every results directory at or below ``root``."""
    return [verify_results_dir(d) for d in result_dirs(root)]


def damaged_lines(found: Iterable[Verification]) -> list[str]:
    """One line per damaged run (files present but not intact, or recorded complete and
    missing) across ``found``: what a report must not read."""
    return [line for v in found for line in v.lines() if line.startswith("DAMAGED")]
