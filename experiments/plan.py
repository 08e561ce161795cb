"""From an experiment file to a plan: the cells of its sweep and profiles, and its runs.

``load_plan(path)`` reads and validates a file completely before anything runs: every
sweep cell and strategy profile is expanded, validated and its world model built once,
so a value that is wrong in one cell only is refused up front, located at the sweep key
that produced it. The plan knows its config hash (the results directory) and every
run's seed.

Cells: the cartesian product of the sweep's axes (the last varying fastest), and within
each the strategy profiles (baseline, deviations, monomorphic profiles) when the file
asks for them. Runs: every cell with every seed index; a run's seed depends on the seed
index only (``experiments.wiring.run_seed``), so cells share common random numbers.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from experiments.loader import (
    ConfigError,
    Inputs,
    Issue,
    Loc,
    deep_copy,
    dry_build,
    format_loc,
    load_yaml,
    preprocess,
    read_text,
    validate,
)
from experiments.schema import ROLES, Experiment, ProfilesSpec, parse_path
from experiments.wiring import run_seed

MAX_REPORTED = 20  # issues listed for a sweep before "... and N more"


@functools.cache
def package_version() -> str:
    """The installed tao-arena version."""
    try:
        return metadata.version("tao-arena")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class Cell:
    """One point of the sweep (and one strategy profile): a complete single-run config."""

    index: int
    overrides: dict[str, Any]  # sweep path (as written in the file) -> value
    profile: dict[str, Any] | None  # {"id", "kind", ...} or None without profiles
    config: dict[str, Any]  # the resolved experiment of this cell (JSON-able)

    def describe(self) -> dict[str, Any]:
        """The cell as the manifest lists it."""
        return {"cell": self.index, "overrides": self.overrides, "profile": self.profile}


@dataclass(frozen=True)
class RunSpec:
    """One run: a cell and a seed index; ``seed`` is the integer given to the model."""

    run_id: str
    cell: int
    seed_index: int
    seed: int


def run_id(cell: int, seed_index: int) -> str:
    """The run's name: ``c<cell>-s<seed index>`` (zero-padded to 4 digits)."""
    return f"c{cell:04d}-s{seed_index:04d}"


@dataclass
class Plan:
    """A validated experiment, expanded into cells and runs."""

    source: str
    source_sha256: str
    experiment: Experiment
    config: dict[str, Any]  # the resolved experiment as written (defaults filled)
    cells: list[Cell]
    config_hash: str
    inputs: dict[str, str] = field(default_factory=dict)  # other files read -> sha256
    version: str = field(default_factory=package_version)

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.experiment.name

    @property
    def master_seed(self) -> int:
        """The master seed every run seed derives from."""
        return self.experiment.seeds.master

    @property
    def seed_indices(self) -> list[int]:
        """The seed indices of this plan."""
        return self.experiment.seeds.seed_indices()

    def runs(self, cells: list[int] | None = None) -> list[RunSpec]:
        """Every run of the plan (or of the given cells), cell-major."""
        chosen = self.cells if cells is None else [self.cells[i] for i in cells]
        return [RunSpec(run_id(c.index, k), c.index, k, run_seed(self.master_seed, k))
                for c in chosen for k in self.seed_indices]

    def eras(self) -> list[dict[str, Any]]:
        """The era of each distinct scenario of the plan with every rule's effective value
        (``world.eras.world_manifest``) and the cells that run it, for the manifest."""
        from experiments.sections import scenario
        from world.eras import world_manifest

        groups: dict[str, dict[str, Any]] = {}
        for c in self.cells:
            if not c.config:
                continue
            key = json.dumps(c.config["scenario"], sort_keys=True)
            if key not in groups:
                params = scenario(c.config["scenario"]).to_world()
                groups[key] = {"cells": [], **world_manifest(params)}
            groups[key]["cells"].append(c.index)
        return list(groups.values())

    def task(self, run: RunSpec) -> dict[str, Any]:
        """What a worker needs to execute ``run`` (plain data, no classes)."""
        cell = self.cells[run.cell]
        return {
            "run_id": run.run_id, "cell": run.cell, "seed_index": run.seed_index,
            "seed": run.seed, "config_hash": self.config_hash, "version": self.version,
            "profile": cell.profile["id"] if cell.profile else None, "config": cell.config,
        }


# ---------------------------------------------------------------------------------------
# Sweep overrides
# ---------------------------------------------------------------------------------------


class _PathError(ValueError):
    pass


def apply_override(raw: dict[str, Any], resolved: dict[str, Any], path: Loc, value: Any) -> None:
    """Set ``path`` in ``raw`` to ``value``; sections missing from ``raw`` are copied from
    ``resolved`` (the defaults) on the way. ``_PathError`` names an unknown key."""
    node_raw: Any = raw
    node_res: Any = resolved
    for depth, key in enumerate(path):
        where = format_loc(path[:depth]) or "the experiment"
        if isinstance(node_res, dict):
            if not isinstance(key, str) or key not in node_res:
                allowed = ", ".join(map(str, node_res)) or "none"
                raise _PathError(f"{where} has no key {key!r}; allowed: {allowed}")
        elif isinstance(node_res, list):
            if not isinstance(key, int) or not 0 <= key < len(node_res):
                raise _PathError(f"{where} is a list of {len(node_res)}; {key!r} is not an "
                                 f"index in [0, {len(node_res) - 1}]")
        else:
            raise _PathError(f"{where} is a value ({node_res!r}), not a section")
        if depth == len(path) - 1:
            if isinstance(node_raw, list) and key >= len(node_raw):  # type: ignore[operator]
                raise _PathError(f"{where} has only {len(node_raw)} entries in the file")
            node_raw[key] = value
            return
        child_res = node_res[key]
        if isinstance(node_raw, dict):
            if not isinstance(node_raw.get(key), dict | list):
                node_raw[key] = deep_copy({"x": child_res})["x"]
        elif isinstance(node_raw, list) and key >= len(node_raw):  # type: ignore[operator]
            raise _PathError(f"{where} has only {len(node_raw)} entries in the file")
        node_raw = node_raw[key]
        node_res = child_res


# ---------------------------------------------------------------------------------------
# Strategy profiles (issue 6)
# ---------------------------------------------------------------------------------------


def _carried(old: str, new: str, params: dict[str, Any]) -> dict[str, Any]:
    """Parameters an agent keeps when it switches from ``old`` to ``new``: those both
    strategies inherit from the same declaration (e.g. a validator's ``stake_tao``)."""
    from agents.catalog import get

    old_spec, new_spec = get(old).all_params(), get(new).all_params()
    return {k: v for k, v in params.items() if k in new_spec and new_spec[k] is old_spec.get(k)}


def _role_of(strategy: str) -> str:
    from agents.catalog import get

    return str(get(strategy).role)


def _on_subnet(cohort: dict[str, Any], role: str, subnet: int) -> bool:
    return role == "delegator" or cohort.get("subnet") == subnet


def _switched(population: list[dict[str, Any]], chosen: dict[str, Any], subnet: int
              ) -> list[dict[str, Any]]:
    """``population`` with every cohort of each role in ``chosen`` (on ``subnet``) switched
    to that role's chosen strategy (a ``ProfileStrategy``)."""
    pop = deep_copy({"p": population})["p"]
    for c in pop:
        role = _role_of(c["strategy"])
        if role in chosen and _on_subnet(c, role, subnet):
            alt = chosen[role]
            params = _carried(c["strategy"], alt.strategy, c["params"])
            params.update(alt.params)
            c["strategy"], c["params"] = alt.strategy, params
    return pop


def _single_deviations(population: list[dict[str, Any]], spec: ProfilesSpec,
                       roles: list[str], base: str
                       ) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each single deviation from the profile ``base`` (whose population is ``population``):
    for each role and each other strategy of its set, ``deviators`` agents of the role's
    first cohort on the subnet switch to it, as a cohort of their own appended last."""
    out = []
    for role in roles:
        idx = next((i for i, c in enumerate(population)
                    if _role_of(c["strategy"]) == role and _on_subnet(c, role, spec.subnet)
                    and c["count"] >= spec.deviators), None)
        if idx is None:
            where = "network-wide" if role == "delegator" else f"on subnet {spec.subnet}"
            raise ValueError(f"no {role} cohort {where} has {spec.deviators} agent(s) to "
                             f"deviate (profiles.deviators = {spec.deviators})")
        src = population[idx]
        for alt in getattr(spec, role):
            if alt.strategy == src["strategy"]:
                continue
            pop = deep_copy({"p": population})["p"]
            pop[idx]["count"] -= spec.deviators
            params = _carried(src["strategy"], alt.strategy, src["params"])
            params.update(alt.params)
            pop.append({"strategy": alt.strategy, "count": spec.deviators,
                        "subnet": src.get("subnet"), "params": params,
                        "label": f"deviator:{alt.strategy}"})
            pid = f"deviation:{role}:{alt.strategy}"
            desc = {"id": pid if base == "baseline" else f"{base}|{pid}", "kind": "deviation",
                    "role": role, "strategy": alt.strategy, "from": src["strategy"],
                    "deviators": spec.deviators, "cohort": idx,
                    "deviator_cohort": len(pop) - 1}
            if base != "baseline":
                desc["base"] = base
            out.append((desc, pop))
    return out


def _mono_id(chosen: dict[str, Any]) -> str:
    return "mono:" + ",".join(f"{r}={s.strategy}" for r, s in chosen.items())


def expand_profiles(
    population: list[dict[str, Any]], spec: ProfilesSpec
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The profiles ``spec`` asks for: ``[(profile description, population)]``.

    ``population`` is the resolved population (cohorts with every parameter filled).
    A deviation's description names ``cohort``, the population entry the deviators leave
    (their counterfactual: the same entry in the run of the profile they deviate from),
    ``deviator_cohort``, the entry they form (the ``cohort`` column of the per-agent
    records), and, when it is not the baseline, ``base``: the id of that profile.
    ``ValueError`` when a role has no cohort to switch.
    """
    roles = [r for r in ROLES if getattr(spec, r)]
    out: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if spec.deviations:
        out.append(({"id": "baseline", "kind": "baseline"}, deep_copy({"p": population})["p"]))
        out += _single_deviations(population, spec, roles, "baseline")
    monos = set()
    if spec.monomorphic:
        for combo in itertools.product(*(getattr(spec, r) for r in roles)):
            chosen = dict(zip(roles, combo, strict=True))
            pid = _mono_id(chosen)
            monos.add(pid)
            out.append(({"id": pid, "kind": "monomorphic",
                         "strategies": {r: s.strategy for r, s in chosen.items()}},
                        _switched(population, chosen, spec.subnet)))
    for named in spec.pure:
        chosen = {r: next(s for s in getattr(spec, r) if s.strategy == named[r])
                  for r in roles if r in named}
        pid = _mono_id(chosen)
        pop = _switched(population, chosen, spec.subnet)
        if pid not in monos:
            monos.add(pid)
            out.append(({"id": pid, "kind": "monomorphic",
                         "strategies": {r: s.strategy for r, s in chosen.items()}}, pop))
        out += _single_deviations(pop, spec, roles, pid)
    return out


# ---------------------------------------------------------------------------------------
# Loading a plan
# ---------------------------------------------------------------------------------------


def config_hash(cells: list[Cell], master: int, name: str, version: str) -> str:
    """The results directory key: what the runs compute, not the seed list.

    Hashes the tao-arena version, the name, the master seed and every cell's resolved
    config without its description and seed list, so adding seeds reuses the directory
    (the earlier runs are unchanged) while any other change gets a new one.
    """
    payload = []
    for c in cells:
        cfg = {k: v for k, v in c.config.items() if k not in ("description", "seeds")}
        payload.append({"overrides": c.overrides, "profile": c.profile, "config": cfg})
    blob = json.dumps({"tao_arena": version, "name": name, "master_seed": master,
                       "cells": payload}, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _locate(issue: Issue, cell_index: int, overrides: list[tuple[Loc, Loc, int, str, Any]],
            profile: dict[str, Any] | None) -> Issue:
    """Move an issue found in one cell to the sweep or profiles key that caused it."""
    matches = [o for o in overrides if issue.loc[: len(o[0])] == o[0]]
    inner = format_loc(issue.loc) or "the experiment"
    if len(matches) == 1:
        _, where, k, _, value = matches[0]
        return Issue(where + (k,), f"value {value!r} (sweep cell {cell_index}) is refused at "
                                   f"{inner}: {issue.message}")
    desc = ", ".join(f"{p} = {v!r}" for _, _, _, p, v in overrides)
    if profile is not None and issue.loc[:1] == ("population",):
        return Issue(("profiles",), f"profile {profile['id']!r}"
                                    f"{f' in sweep cell {cell_index} ({desc})' if desc else ''}"
                                    f" is refused at {inner}: {issue.message}")
    if overrides:
        return Issue(("sweep",), f"sweep cell {cell_index} ({desc}) is refused at {inner}: "
                                 f"{issue.message}")
    return issue


def full_size(raw: dict[str, Any]) -> dict[str, Any]:
    """The experiment at its ``full:`` size (seeds, epochs, warm-up replaced); unchanged
    when the file gives no ``full:`` (a malformed one is refused by validation)."""
    full = raw.get("full")
    if not isinstance(full, dict):
        return raw
    out = dict(raw)
    if isinstance(full.get("seeds"), int):
        seeds = raw.get("seeds")
        master = seeds.get("master", 0) if isinstance(seeds, dict) else 0
        out["seeds"] = {"master": master, "count": full["seeds"]}
    for key in ("epochs", "warmup_epochs"):
        if full.get(key) is not None:
            out[key] = full[key]
    return out


def load_plan(path: str | Path, *, full: bool = False,
              edit: Callable[[dict[str, Any]], str] | None = None) -> Plan:
    """Read, validate and expand an experiment file; ``ConfigError`` if it is refused.

    ``full``: the file at its ``full:`` size (``full_size``), for a cluster. ``edit``:
    changes the parsed file in place before it is validated and returns what it changed,
    which the plan's ``source`` names (``tao-arena psro`` adds pure profiles this way)."""
    path = Path(path)
    source = str(path)
    data = read_text(path)
    raw = load_yaml(data, source)
    if full and isinstance(raw, dict):
        raw = full_size(raw)
    if edit is not None and isinstance(raw, dict):
        source = f"{source} ({edit(raw)})"
    original = deep_copy(raw)
    inputs = Inputs()
    base_dir = path.parent
    issues = preprocess(raw, base_dir, inputs)
    if issues:
        raise ConfigError(source, issues)
    exp, issues = validate(raw)
    if exp is None:
        raise ConfigError(source, issues)
    issues = dry_build(exp)
    if issues:
        raise ConfigError(source, issues)
    resolved = exp.model_dump(mode="json")

    # sweep cells
    sweep_cells: list[list[tuple[Loc, Loc, int, str, Any]]] = [[]]
    if exp.sweep is not None:
        where_of: dict[str, Loc] = {p: ("sweep", "grid", p) for p in exp.sweep.grid}
        for g, group in enumerate(exp.sweep.zip):
            where_of.update({p: ("sweep", "zip", g, p) for p in group})
        sweep_cells = [[(parse_path(p), where_of[p], k, p, v) for p, (k, v) in cell.items()]
                       for cell in exp.sweep.cells()]
        # unknown paths are reported once, before any cell is built
        path_issues = []
        for p, where in where_of.items():
            try:
                apply_override(deep_copy(original), resolved, parse_path(p), None)
            except _PathError as err:
                path_issues.append(Issue(where, f"no such parameter: {err}"))
        if path_issues:
            raise ConfigError(source, path_issues)

    cells: list[Cell] = []
    issues = []
    built: dict[str, list[Issue]] = {}
    for overrides in sweep_cells:
        cell_raw = {k: v for k, v in deep_copy(original).items()
                    if k not in ("sweep", "profiles")}
        for parsed, _, _, _, value in overrides:
            apply_override(cell_raw, resolved, parsed, deep_copy({"v": value})["v"])
        cell_exp, found = _check_cell(cell_raw, base_dir, inputs, built)
        label = {p: v for _, _, _, p, v in overrides}
        if found or cell_exp is None:
            issues += [_locate(i, len(cells), overrides, None) for i in found]
            cells.append(Cell(len(cells), label, None, {}))
            continue
        if exp.profiles is None:
            cells.append(Cell(len(cells), label, None, cell_exp.model_dump(mode="json")))
            continue
        cell_resolved = cell_exp.model_dump(mode="json")
        try:
            profiles = expand_profiles(cell_resolved["population"], exp.profiles)
        except ValueError as err:
            issues.append(Issue(("profiles",), str(err)))
            break
        for profile, population in profiles:
            prof_raw = dict(cell_resolved, population=population)
            prof_exp, found = _check_cell(prof_raw, base_dir, inputs, built, read_files=False)
            if found or prof_exp is None:
                issues += [_locate(i, len(cells), overrides, profile) for i in found]
                cells.append(Cell(len(cells), label, profile, {}))
            else:
                cells.append(Cell(len(cells), label, profile, prof_exp.model_dump(mode="json")))
        if len(issues) > MAX_REPORTED:
            break
    if issues:
        shown = issues[:MAX_REPORTED]
        if len(issues) > MAX_REPORTED:
            shown.append(Issue(("sweep",), f"... and {len(issues) - MAX_REPORTED} more"))
        raise ConfigError(source, shown)
    if exp.uncertain:  # priors: paths exist in every cell, not swept, support accepted
        from experiments.uncertainty import check_against

        swept = [] if exp.sweep is None else [p for a in exp.sweep.axes() for p in a]
        found = check_against(resolved, [c.config for c in cells], swept)
        if found:
            raise ConfigError(source, [Issue(loc, msg) for loc, msg in found])
    version = package_version()
    return Plan(
        source=source,
        source_sha256=hashlib.sha256(data).hexdigest(),
        experiment=exp,
        config=resolved,
        cells=cells,
        config_hash=config_hash(cells, exp.seeds.master, exp.name, version),
        inputs=inputs.files,
        version=version,
    )


def _check_cell(raw: dict[str, Any], base_dir: Path, inputs: Inputs,
                built: dict[str, list[Issue]], *, read_files: bool = True,
                ) -> tuple[Experiment | None, list[Issue]]:
    """Validate one cell and build its model once (memoised on what the build reads).

    ``read_files``: the cell is as written (read the files it names); otherwise it is
    already resolved (the files' contents are in it)."""
    if read_files:
        issues = preprocess(raw, base_dir, inputs)
        if issues:
            return None, issues
    exp, issues = validate(raw)
    if exp is None:
        return None, issues
    key = json.dumps(exp.model_dump(mode="json", include={"scenario", "population", "dynamics"}),
                     sort_keys=True)
    if key not in built:
        built[key] = dry_build(exp)
    return (None, built[key]) if built[key] else (exp, [])
