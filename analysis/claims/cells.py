"""What every claim test shares: the cells of its sweep with their runs and resolved
config, paired per-seed estimates, and the one step from cell tests to a verdict.

A claim test reads ``for c in sweep_cells(rs)`` and returns ``judge(number, rs, tests)``;
nothing else about looping over cells or combining outcomes is repeated in the claims.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.claims.verdicts import CellTest, Verdict, combine, interval_test
from analysis.payoffs import agent_payoffs
from analysis.report import axis_title
from analysis.results import Axis, ResultSet, RunData
from analysis.stats import Estimate, mean_ci


class MissingData(Exception):
    """The results lack what a claim's test needs (a documented data condition, e.g. a run
    without per-agent records, or a strategy the claim compares absent from a cell); the
    claim is then "inconclusive" with this message. Programming errors are not caught."""


def _display_path(a: Axis) -> int | None:
    """The path of a zip group that tells its values apart (the last such), or None."""
    for i in range(len(a.paths) - 1, -1, -1):
        vals = [v[i] for v in a.values]
        if len(set(map(repr, vals))) == len(vals):
            return i
    return None


def coords_of(rs: ResultSet, axes: list[Axis], overrides: dict[str, Any]) -> dict[str, str]:
    """A cell's coordinates: readable axis name -> value label. A zip group is shown by
    the one path whose values tell its cells apart, when there is one."""
    out = {}
    for a in axes:
        v = a.coord(overrides)
        if v is None:
            continue
        i = _display_path(a) if len(a.paths) > 1 else None
        if i is None:
            out[axis_title(a.paths, rs.config)] = a.label(v)
        else:
            out[axis_title([a.paths[i]], rs.config)] = str(v[i])
    return out


def axes_order(rs: ResultSet, axes: list[Axis]) -> list[str]:
    """The readable axis names in sweep order (as :func:`coords_of` names them)."""
    out = []
    for a in axes:
        i = _display_path(a) if len(a.paths) > 1 else None
        out.append(axis_title(a.paths if i is None else [a.paths[i]], rs.config))
    return out


def _set_path(cfg: dict[str, Any], parts: list[str], value: Any) -> None:
    node: Any = cfg
    for p in parts[:-1]:
        key: Any = int(p) if isinstance(node, list) else p
        if isinstance(node, dict) and key not in node:
            node[key] = {}
        node = node[key]
    last: Any = int(parts[-1]) if isinstance(node, list) else parts[-1]
    node[last] = value


def cell_config(config: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The resolved experiment of one cell: the recorded config with the cell's overrides
    applied (paths as written in the file; ``subnets.``, ``price.``, ... are scenario keys)."""
    cfg = copy.deepcopy(config)
    for path, value in overrides.items():
        parts = path.split(".")
        if parts[0] not in cfg and parts[0] not in ("population", "dynamics", "epochs"):
            parts = ["scenario", *parts]
        _set_path(cfg, parts, value)
    for c in cfg.get("population") or []:
        c["params"] = dict(c.get("params") or {})
    return cfg


def config_value(cfg: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of a resolved config; :class:`MissingData` when absent."""
    node: Any = cfg
    for p in path.split("."):
        try:
            node = node[int(p)] if isinstance(node, list) else node[p]
        except (KeyError, IndexError, ValueError) as err:
            raise MissingData(f"the run's recorded config has no {path}") from err
    return node


@dataclass(frozen=True)
class SweepCell:
    """One cell of a claim's sweep: its index, overrides, readable coordinates, resolved
    config (``population`` with every parameter) and runs (by seed index)."""

    index: int
    overrides: dict[str, Any]
    coords: dict[str, str]
    config: dict[str, Any]
    runs: list[RunData]

    @property
    def population(self) -> list[dict[str, Any]]:
        """The cell's cohorts, overrides applied."""
        return list(self.config.get("population") or [])

    def param(self, strategy: str, name: str, default: Any = None) -> Any:
        """Parameter ``name`` of the first cohort playing ``strategy`` (its value as
        resolved; ``default`` only where the cohort leaves it out)."""
        for c in self.population:
            if c["strategy"] == strategy:
                return c["params"].get(name, default)
        raise MissingData(f"no {strategy} cohort in cell {self.index}")

    def test(self, outcome: bool | None, detail: str, tested: bool = True) -> CellTest:
        """This cell's outcome for the claim."""
        return CellTest(self.coords, outcome, detail, tested)

    def compare(self, effects: dict[int, float], threshold: float, detail: str, *,
                above: bool = True, tested: bool = True) -> CellTest:
        """This cell's outcome from per-world effects (seed index -> effect, e.g. a paired
        difference): the claim holds when the interval of their mean lies above
        ``threshold`` (below with ``above=False``), fails when it lies on the other side;
        the effects are kept so that the share of worlds where it holds can be computed."""
        est = mean_ci(np.array([effects[k] for k in sorted(effects)], dtype=float))
        return CellTest(self.coords, interval_test(est, threshold, above=above), detail,
                        tested, dict(effects), threshold, above)


def sweep_cells(rs: ResultSet) -> list[SweepCell]:
    """Every cell with complete runs, in cell order."""
    axes = rs.axes()
    by: dict[int, list[RunData]] = {}
    for r in rs.runs:
        by.setdefault(r.cell, []).append(r)
    out = []
    for k in sorted(by):
        ov = rs.cells.get(k, {}).get("overrides") or {}
        out.append(SweepCell(k, ov, coords_of(rs, axes, ov), cell_config(rs.config, ov),
                             by[k]))
    return out


def judge(number: int, rs: ResultSet, tests: Iterable[CellTest], *,
          numbers: Sequence[str] = (), notes: Sequence[str] = (),
          follows_from_rules: str = "") -> Verdict:
    """The verdict of claim ``number`` on experiment ``rs`` from its cells' tests.

    ``follows_from_rules``: the derivation, when the outcome is an identity of the model's
    rules rather than a finding (the report then says "follows from the rules: ...")."""
    cells = list(tests)
    status, where = combine(cells, axes_order(rs, rs.axes()))
    return Verdict(number, "", status, where, list(numbers), [rs.name], cells,
                   notes=list(notes), follows_from_rules=bool(follows_from_rules),
                   derivation=follows_from_rules)


def paired_effects(a: dict[int, float], b: dict[int, float]) -> dict[int, float]:
    """``a - b`` per seed index (world) both have: the paired effect of a cell."""
    return {s: a[s] - b[s] for s in sorted(set(a) & set(b))}


def agents_of(run: RunData) -> pd.DataFrame:
    """The run's per-agent records; :class:`MissingData` when it recorded none."""
    if run.agents is None or run.agents.empty:
        raise MissingData(f"run {run.run_id} has no per-agent records")
    return run.agents


def after(frame: pd.DataFrame, start: int, end: int | None = None) -> pd.DataFrame:
    """Rows with ``start <= epoch < end``."""
    m = frame["epoch"] >= start
    if end is not None:
        m &= frame["epoch"] < end
    return frame[m]


def paired(a: dict[int, float], b: dict[int, float]) -> Estimate:
    """Mean of ``a - b`` over the seeds both have, with its interval (:func:`mean_ci`)."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return Estimate(math.nan, math.nan, math.nan, 0, "none")
    return mean_ci(np.array([a[s] - b[s] for s in seeds], dtype=float))


def payoffs_of(run: RunData) -> pd.DataFrame:
    """Per-agent payoffs of a run (``analysis.payoffs.agent_payoffs``, with ``cohort``)."""
    return agent_payoffs(agents_of(run), warmup=run.warmup, epochs_per_day=run.epochs_per_day)
