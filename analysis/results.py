"""Reading results: a results directory's manifest and runs as the analysis sees them.

The layout is the runner's (docs/experiments.md, "Results"): ``manifest.json`` and
``runs/<run_id>/{metrics,agents}.parquet``. :func:`load_results` returns a
:class:`ResultSet` (the resolved experiment, its cells and every complete run as a
:class:`RunData`); :func:`find_result_dirs` finds the results directories below a root.
This module reads files only; it never imports the simulator.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

EPOCHS_PER_DAY_DEFAULT = 20.0  # 7,200 blocks a day / tempo 360 (MODEL.md section 2)


@dataclass
class RunData:
    """One run's data as the analysis sees it.

    Attributes:
        run_id: the run's identifier (unique within a results directory).
        cell: index of the sweep cell (0 when there is no sweep).
        seed_index: the seed index (the unit of replication; equal indices share random
            numbers across cells).
        params: the cell's coordinates: swept parameter path -> value, and ``profile``
            for an empirical-game profile (e.g. ``"baseline"``, ``"miner:copy_cabal"``).
        metrics: per-epoch metrics, one row per epoch (column ``epoch``).
        agents: per-agent records (columns ``epoch, account, strategy, role, ...``), or
            None when the run recorded none.
        epochs_per_day: epochs per simulated day (20 at tempo 360).
        warmup: epochs skipped at the start (the first epoch counted is ``warmup``).
    """

    run_id: str
    cell: int
    seed_index: int
    params: dict[str, Any]
    metrics: pd.DataFrame
    agents: pd.DataFrame | None = None
    epochs_per_day: float = EPOCHS_PER_DAY_DEFAULT
    warmup: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


RUN_META_KEY = b"tao_arena.run"
SECONDS_PER_BLOCK = 12.0  # MODEL.md section 2
BLOCKS_PER_DAY = 7_200


@dataclass
class ResultSet:
    """A results directory: the manifest and every complete run.

    Attributes:
        root: the directory (``results/<experiment>/<config-hash>/``).
        manifest: ``manifest.json`` as a dict.
        config: the experiment as resolved (defaults filled), from the manifest.
        cells: per cell index, ``{"cell", "overrides", "profile"}`` (``profile`` None
            without profiles).
        runs: the complete runs, ordered by (cell, seed index).
    """

    root: Path
    manifest: dict[str, Any]
    config: dict[str, Any]
    cells: dict[int, dict[str, Any]]
    runs: list[RunData]

    @property
    def name(self) -> str:
        """The experiment's name."""
        return str(self.config.get("name") or self.manifest.get("name") or self.root.name)

    @property
    def epochs(self) -> int:
        """Epochs per run."""
        return int(self.config.get("epochs", 0))

    @property
    def warmup(self) -> int:
        """Warm-up epochs skipped by the payoffs (the file's, or epochs // 5)."""
        return warmup_of(self.config)

    @property
    def epochs_per_day(self) -> float:
        """Epochs per simulated day (7,200 blocks / tempo)."""
        return epochs_per_day_of(self.config)

    def axes(self) -> list[Axis]:
        """The sweep's axes in sweep order: each grid path alone, each zip group together
        (``manifest.grid.paths`` and ``manifest.grid.zip``), with their values in the order
        the cells visit them."""
        grid = self.manifest.get("grid") or {}
        groups: list[tuple[str, ...]] = [(p,) for p in grid.get("paths") or []]
        groups += [tuple(g) for g in grid.get("zip") or []]
        seen = {p for g in groups for p in g} | set(grid.get("constant") or [])
        for c in (self.cells[k] for k in sorted(self.cells)):  # older manifests: no grid
            for path in c.get("overrides") or {}:
                if path not in seen:
                    seen.add(path)
                    groups.append((path,))
        out = []
        for paths in groups:
            values: list[tuple[Any, ...]] = []
            for c in (self.cells[k] for k in sorted(self.cells)):
                ov = c.get("overrides") or {}
                if all(p in ov for p in paths):
                    v = tuple(ov[p] for p in paths)
                    if v not in values:
                        values.append(v)
            out.append(Axis(paths, values))
        return out

    def era_of(self, cell: int) -> str | None:
        """The era a cell ran (``manifest.eras``: each era group lists its cells), or None
        for results written before the manifest named eras."""
        for group in self.manifest.get("eras") or []:
            if cell in (group.get("cells") or []):
                return str(group.get("era"))
        return None

    def eras(self) -> list[str]:
        """The eras the complete runs ran, in the order their cells first appear."""
        return list(dict.fromkeys(e for e in (self.era_of(r.cell) for r in self.runs)
                                  if e is not None))

    def subset(self, cells: Iterable[int]) -> ResultSet:
        """The same results directory restricted to ``cells``: their runs only, and a sweep
        whose axes are those that still vary among them (an axis with one value left, such
        as the era in one era's cells, is no longer an axis)."""
        keep = set(cells)
        manifest = dict(self.manifest)
        grid = dict(manifest.get("grid") or {})
        overrides = [self.cells[k].get("overrides") or {} for k in sorted(keep)
                     if k in self.cells]

        def varies(paths: Sequence[str]) -> bool:
            values = {tuple(repr(ov.get(p)) for p in paths) for ov in overrides}
            return len(values) > 1

        grid["paths"] = [p for p in grid.get("paths") or [] if varies([p])]
        grid["zip"] = [g for g in grid.get("zip") or [] if varies(g)]
        grid["cells"] = [c for c in grid.get("cells") or [] if int(c["cell"]) in keep]
        manifest["grid"] = grid
        dropped = {p for g in (self.manifest.get("grid") or {}).get("zip") or [] for p in g}
        dropped |= set((self.manifest.get("grid") or {}).get("paths") or [])
        dropped -= set(grid["paths"]) | {p for g in grid["zip"] for p in g}
        grid["constant"] = sorted(dropped | set(grid.get("constant") or []))
        return ResultSet(self.root, manifest, self.config,
                         {k: v for k, v in self.cells.items() if k in keep},
                         [r for r in self.runs if r.cell in keep])


@dataclass(frozen=True)
class Axis:
    """One axis of a sweep: a grid path, or a zip group of paths varying together."""

    paths: tuple[str, ...]
    values: list[tuple[Any, ...]]

    @property
    def name(self) -> str:
        """The paths, joined by " & "."""
        return " & ".join(self.paths)

    def coord(self, overrides: dict[str, Any]) -> tuple[Any, ...] | None:
        """This axis' value in a cell with ``overrides`` (None if the cell lacks it)."""
        if not all(p in overrides for p in self.paths):
            return None
        return tuple(overrides[p] for p in self.paths)

    @staticmethod
    def label(value: tuple[Any, ...]) -> str:
        """A value as a tick label: ``"3"`` or ``"True/3"`` for a zip group."""
        return "/".join(str(v) for v in value)


def warmup_of(config: dict[str, Any]) -> int:
    """The warm-up of a resolved experiment config (``warmup_epochs`` or epochs // 5)."""
    w = config.get("warmup_epochs")
    return int(w) if w is not None else int(config.get("epochs", 0)) // 5


def epochs_per_day_of(config: dict[str, Any]) -> float:
    """Epochs per day of a resolved experiment config (7,200 blocks / tempo)."""
    tempo = (config.get("scenario") or {}).get("tempo", 360)
    return BLOCKS_PER_DAY / float(tempo)


def _file_meta(path: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(RUN_META_KEY)
    return json.loads(raw) if raw else {}


def load_results(root: str | Path) -> ResultSet:
    """Read a results directory written by ``tao-arena run/sweep``.

    Per-run Parquet files are recognised by the run identity in their metadata (key
    ``tao_arena.run``: ``run_id``, ``cell``, ``seed_index``, ``table`` = ``metrics`` or
    ``agents``), so the reader does not depend on file names; ``summary.parquet`` and
    temporary files are ignored. Runs without a metrics file (failed or incomplete) are
    left out.

    Raises:
        ValueError: no ``manifest.json`` in ``root`` or no complete run.
    """
    root = Path(root)
    mpath = root / "manifest.json"
    if not mpath.is_file():
        raise ValueError(f"{root} is not a results directory (no manifest.json)")
    manifest = json.loads(mpath.read_text())
    config = manifest.get("config") or manifest.get("experiment") or {}
    cell_list = manifest.get("cells") or (manifest.get("grid") or {}).get("cells") or []
    cells = {int(c["cell"]): c for c in cell_list}
    found: dict[str, dict[str, Any]] = {}
    for f in sorted(root.rglob("*.parquet")):
        if f.name == "summary.parquet" or ".tmp" in f.name:
            continue
        meta = _file_meta(f)
        if not meta.get("run_id") or meta.get("table") not in ("metrics", "agents"):
            continue
        entry = found.setdefault(meta["run_id"], {"meta": meta})
        entry[meta["table"]] = f
    runs = []
    for rid, entry in found.items():
        if "metrics" not in entry:
            continue
        meta = entry["meta"]
        cell = int(meta["cell"])
        metrics = _strip_ids(pd.read_parquet(entry["metrics"]))
        agents = _strip_ids(pd.read_parquet(entry["agents"])) if "agents" in entry else None
        info = cells.get(cell, {})
        params = dict(info.get("overrides") or {})
        cfg = _cell_config(config, params)
        warmup, per_day = warmup_of(cfg), epochs_per_day_of(cfg)
        tempo = _effective(manifest, cell, "network.tempo")
        if tempo:  # the era's (or its variant's) tempo as the run used it
            per_day = BLOCKS_PER_DAY / float(tempo)
        profile = info.get("profile")
        if profile:
            params["profile"] = profile.get("id")
        runs.append(RunData(rid, cell, int(meta["seed_index"]), params, metrics, agents,
                            per_day, warmup,
                            {"profile": profile, "drawn": dict(meta.get("params") or {})}))
    if not runs:
        raise ValueError(f"{root} holds no complete run")
    runs.sort(key=lambda r: (r.cell, r.seed_index))
    for c in {r.cell for r in runs} - set(cells):
        cells[c] = {"cell": c, "overrides": {}, "profile": None}
    return ResultSet(root, manifest, config, cells, runs)


def _effective(manifest: dict[str, Any], cell: int, key: str) -> Any:
    """The value rule ``key`` had in ``cell`` (``manifest.eras``: each era group's rules with
    their effective values, an era variant's included), or None when not recorded."""
    for group in manifest.get("eras") or []:
        if cell in (group.get("cells") or []):
            for rule in group.get("rules") or []:
                if rule.get("key") == key:
                    return rule.get("value")
    return None


def _cell_config(config: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The config keys the payoffs depend on (epochs, warm-up, tempo) with a cell's overrides."""
    scenario = dict(config.get("scenario") or {})
    out = {k: config.get(k) for k in ("epochs", "warmup_epochs")}
    for path, value in overrides.items():
        key = path.removeprefix("scenario.")
        if key in ("epochs", "warmup_epochs"):
            out[key] = value
        elif key == "tempo":
            scenario["tempo"] = value
    out["scenario"] = scenario
    return out


def _strip_ids(df: pd.DataFrame) -> pd.DataFrame:
    drop = [c for c in ("run_id", "cell", "seed_index", "profile") if c in df.columns]
    return df.drop(columns=drop)


def find_result_dirs(root: str | Path) -> list[Path]:
    """Every results directory (holding ``manifest.json``) at or below ``root``."""
    root = Path(root)
    if (root / "manifest.json").is_file():
        return [root]
    return sorted(p.parent for p in root.rglob("manifest.json"))
