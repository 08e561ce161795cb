"""Experiments that start a subnet from a real metagraph snapshot (issue 19).

In an experiment file::

    scenario:
      subnets:
        - metagraph: ../data/sn15_block4769998.npz   # relative to the experiment file
          metagraph_delegated_share: 0.3            # optional, see below
    population:
      - {strategy: weight_copier, subnet: 0, uids: [21]}
      - {strategy: honest_validator, subnet: 0, uids: setting_weights}
      - {strategy: honest_miner, subnet: 0, uids: rest}

When the file is loaded (``preprocess``, called by ``experiments.loader.preprocess``)
the snapshot is read and validated (``world.metagraph.load_metagraph``; a malformed one
is refused naming its field) and its arrays are written into the subnet's
``metagraph_data`` (compactly: weights and bonds as their non-zero entries), so the
resolved config, its hash and the manifest carry the data itself and a Ray worker on
another machine needs no file. The subnet's ``n_uids`` is the snapshot's.

Every miner and validator cohort on such a subnet names the snapshot UIDs it plays with
``uids``: a list of UIDs, or ``setting_weights`` (UIDs whose weight row is not zero),
``validator_permit`` (UIDs holding a permit), or ``rest`` (every UID no other cohort
took). Lists are taken first, then the named selectors in file order (each takes its
UIDs not yet taken), then ``rest``; ``count`` is filled in (or must match). Every
snapshot UID must be played by exactly one agent.

Delegators: with ``metagraph_delegated_share: f > 0`` the delegators of the experiment
are placed on the snapshot's validators in proportion to their stake, and each hotkey's
stake is split: ``f`` of it belongs to the delegators on it (equal parts), the rest is
the validator's own. Without it (``f = 0``) an experiment with a metagraph subnet has no
delegators (the snapshot's stake would otherwise change).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from experiments.loader import Inputs, Issue, Loc

if TYPE_CHECKING:
    from experiments.schema import Experiment
    from world.metagraph import Metagraph
    from world.model import Network

SELECTORS = ("setting_weights", "validator_permit", "rest")


def _sparse(a: np.ndarray) -> dict[str, list[Any]]:
    rows, cols = np.nonzero(a)
    return {"rows": rows.tolist(), "cols": cols.tolist(), "values": a[rows, cols].tolist()}


def _dense(sparse: dict[str, list[Any]], n: int) -> np.ndarray:
    out = np.zeros((n, n))
    out[np.asarray(sparse["rows"], dtype=np.int64),
        np.asarray(sparse["cols"], dtype=np.int64)] = np.asarray(sparse["values"], dtype=float)
    return out


def to_data(mg: Metagraph, sha256: str) -> dict[str, Any]:
    """A snapshot as the subnet's ``metagraph_data`` (JSON-able; weights and bonds as
    their non-zero entries)."""
    return {
        "sha256": sha256, "n": mg.n, "netuid": mg.netuid, "block": mg.block,
        "stake_tao": mg.stake_tao.tolist(), "weights": _sparse(mg.weights),
        "bonds": _sparse(mg.bonds), "validator_permit": mg.validator_permit.tolist(),
        "active": mg.active.tolist(),
        "last_update": None if mg.last_update is None else mg.last_update.tolist(),
        "filled": list(mg.filled),
    }


@functools.lru_cache(maxsize=8)
def _from_data(key: str, data_json: str) -> Metagraph:
    import json

    from world.metagraph import from_arrays

    data = json.loads(data_json)
    n = int(data["n"])
    fields: dict[str, Any] = {
        "stake_tao": np.asarray(data["stake_tao"], dtype=float),
        "weights": _dense(data["weights"], n), "bonds": _dense(data["bonds"], n),
        "validator_permit": np.asarray(data["validator_permit"], dtype=bool),
    }
    for k in ("netuid", "block"):
        if data.get(k) is not None:
            fields[k] = np.int64(data[k])
    if data.get("last_update") is not None:
        fields["last_update"] = np.asarray(data["last_update"], dtype=np.int64)
    mg = from_arrays(fields, source=f"metagraph {key[:12]}")
    active = np.asarray(data["active"], dtype=bool)  # as derived from the file, kept
    active.setflags(write=False)
    return dataclasses.replace(mg, active=active)


def from_data(data: dict[str, Any]) -> Metagraph:
    """The snapshot a subnet's ``metagraph_data`` holds (cached by its content)."""
    import json

    return _from_data(str(data.get("sha256")), json.dumps(data, sort_keys=True))


def _subnets(raw: dict[str, Any]) -> list[Any]:
    scenario = raw.get("scenario")
    subnets = scenario.get("subnets") if isinstance(scenario, dict) else None
    return subnets if isinstance(subnets, list) else []


def preprocess(raw: dict[str, Any], base_dir: Path, inputs: Inputs) -> list[Issue]:
    """Read every subnet's ``metagraph`` into ``metagraph_data`` and resolve the
    population's ``uids`` selectors; the issues found (nothing read is ever unpickled)."""
    from world.metagraph import load_metagraph

    issues: list[Issue] = []
    snapshots: dict[int, Metagraph] = {}
    for k, sub in enumerate(_subnets(raw)):
        if not isinstance(sub, dict) or sub.get("metagraph") is None:
            continue
        loc: Loc = ("scenario", "subnets", k, "metagraph")
        name = sub["metagraph"]
        if not isinstance(name, str):
            issues.append(Issue(loc, f"must be a file name (a string), got {name!r}"))
            continue
        path = Path(name) if Path(name).is_absolute() else base_dir / name
        yuma = sub.get("yuma") if isinstance(sub.get("yuma"), dict) else {}
        try:
            mg = load_metagraph(path, max_validators=int(yuma.get("max_validators", 64)),
                                activity_cutoff=int(sub.get("activity_cutoff", 5000)))
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except (ValueError, TypeError) as err:
            issues.append(Issue(loc, str(err)))
            continue
        inputs.files[name] = digest
        if sub.get("n_uids", mg.n) != mg.n:
            issues.append(Issue(loc[:-1] + ("n_uids",), f"is {sub['n_uids']!r} but the "
                                f"metagraph {name} has {mg.n} UIDs (leave n_uids out)"))
            continue
        sub["n_uids"] = mg.n
        data = to_data(mg, digest)
        if sub.get("metagraph_data") not in (None, data):  # a resolved config read back
            issues.append(Issue(loc[:-1] + ("metagraph_data",), "does not match the metagraph "
                                "file: it is filled in from the file when the experiment is "
                                "loaded (leave it out)"))
            continue
        sub["metagraph_data"] = data
        snapshots[k] = mg
    issues += _resolve_population(raw, snapshots)
    if snapshots and raw.get("profiles") is not None:
        issues.append(Issue(("profiles",), "profiles change the cohorts' counts, which a subnet "
                            "started from a metagraph fixes (one agent per UID): use a sweep "
                            "over the cohorts' strategies or uids instead"))
    return issues


def _resolve_population(raw: dict[str, Any], snapshots: dict[int, Metagraph]) -> list[Issue]:
    """Expand ``uids`` selectors into lists (filling ``count``); check that every snapshot
    UID is played exactly once."""
    from agents.catalog import REGISTRY

    population = raw.get("population")
    if not isinstance(population, list):
        return []
    issues: list[Issue] = []
    taken: dict[int, dict[int, int]] = {k: {} for k in snapshots}  # subnet -> uid -> cohort
    named: list[tuple[int, int, str]] = []
    delegators = False
    for i, c in enumerate(population):
        if not isinstance(c, dict):
            continue
        loc: Loc = ("population", i, "uids")
        cls = REGISTRY.get(c.get("strategy")) if isinstance(c.get("strategy"), str) else None
        role = getattr(cls, "role", None)
        delegators |= role == "delegator" and c.get("count", 0) != 0
        sub = c.get("subnet")
        if c.get("uids") is None:
            if sub in snapshots and role in ("miner", "validator"):
                issues.append(Issue(loc, f"subnet {sub} starts from a metagraph: say which of "
                                    f"its UIDs this cohort plays (a list, or one of "
                                    f"{', '.join(SELECTORS)})"))
            continue
        if sub not in snapshots:
            issues.append(Issue(loc, f"uids are only for a subnet started from a metagraph "
                                     f"(scenario.subnets[{sub}].metagraph), got subnet {sub!r}"))
            continue
        uids, n = c["uids"], snapshots[sub].n
        if isinstance(uids, str):
            if uids not in SELECTORS:
                issues.append(Issue(loc, f"must be a list of UIDs or one of "
                                         f"{', '.join(SELECTORS)}, got {uids!r}"))
            else:
                named.append((i, sub, uids))
            continue
        if not (isinstance(uids, list) and all(isinstance(u, int) and not isinstance(u, bool)
                                               and 0 <= u < n for u in uids)):
            issues.append(Issue(loc, f"must be a list of UIDs in [0, {n - 1}] (or one of "
                                     f"{', '.join(SELECTORS)}), got {uids!r}"))
            continue
        for u in uids:
            if u in taken[sub]:
                issues.append(Issue(loc, f"UID {u} is already played by population "
                                         f"{taken[sub][u]}"))
            taken[sub][u] = i
    named.sort(key=lambda t: (t[2] == "rest", t[0]))  # lists first, then selectors, rest last
    for i, sub, sel in named:
        mg = snapshots[sub]
        if sel == "rest":
            mask = np.ones(mg.n, dtype=bool)
        else:
            mask = mg.setting_weights if sel == "setting_weights" else mg.validator_permit
        uids = [int(u) for u in np.flatnonzero(mask) if int(u) not in taken[sub]]
        for u in uids:
            taken[sub][u] = i
        population[i]["uids"] = uids
    for i, c in enumerate(population):
        if isinstance(c, dict) and isinstance(c.get("uids"), list) and c.get("subnet") in snapshots:
            if "count" not in c:
                c["count"] = len(c["uids"])
            elif c["count"] != len(c["uids"]):
                issues.append(Issue(("population", i, "count"), f"is {c['count']!r} but uids "
                                    f"names {len(c['uids'])} UIDs (leave count out)"))
    for k, mg in snapshots.items():
        missing = sorted(set(range(mg.n)) - set(taken[k]))
        if missing:
            issues.append(Issue(("population",), f"subnet {k} starts from a metagraph of "
                                f"{mg.n} UIDs and {len(missing)} are played by no cohort "
                                f"(e.g. {missing[:5]}); add a cohort with uids: rest"))
    if snapshots and delegators:
        shares = [s.get("metagraph_delegated_share", 0.0) for k, s in
                  enumerate(_subnets(raw)) if k in snapshots]
        if not any(isinstance(f, int | float) and f > 0 for f in shares):
            issues.append(Issue(("population",), "delegators with a subnet started from a "
                                "metagraph need scenario.subnets[k].metagraph_delegated_share "
                                "> 0: the share of each hotkey's snapshot stake they hold"))
    return issues


def apply(model: Network, exp: Experiment) -> None:
    """Start every subnet of ``exp`` that names a metagraph from its snapshot
    (``world.genesis.start_from_metagraph``), right after the model is built."""
    from world.genesis import start_from_metagraph

    for k, sub in enumerate(exp.scenario.subnets):
        data = getattr(sub, "metagraph_data", None)
        if data is None:
            continue
        order = [u for c in exp.population if c.subnet == k for u in (c.uids or [])]
        start_from_metagraph(model, k, from_data(data), np.asarray(order, dtype=np.int64),
                             delegated_share=float(sub.metagraph_delegated_share))
