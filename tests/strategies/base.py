"""Shared helpers for the strategy tests: small networks built from registry names.

Imported as ``base`` by the modules beside it and as ``strategies.base`` from ``tests/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.catalog import get
from world.model import Cohort, Network
from world.params import NetworkParams, SubnetParams, WorkParams
from world.yuma import YumaParams

Spec = tuple[str, int] | tuple[str, int, dict[str, Any]] | tuple[str, int, dict[str, Any], int]


def build(
    population: Sequence[Spec],
    *,
    seed: int = 1,
    n_uids: int = 64,
    max_validators: int = 16,
    query_rounds: int = 10,
    sample_size: int = 20,
    strategies: Sequence[str] = (),
    network: dict[str, Any] | None = None,
    **subnet: Any,
) -> Network:
    """A network from (strategy name, count[, params[, subnet]]) specs.

    Delegators go to no subnet, everyone else to subnet 0 unless the spec names another
    (the network has as many identical subnets as the specs name; a subnet has one
    owner). Work is lighter than the default (10 query rounds of 20 miners) to keep
    tests fast.
    """
    cohorts = []
    for spec in population:
        name, count = spec[0], spec[1]
        params = spec[2] if len(spec) > 2 else {}
        netuid = spec[3] if len(spec) > 3 else 0
        cls = get(name)
        cohorts.append(Cohort(cls, count, None if cls.role in ("delegator", "root") else netuid,
                              params))
    k = 1 + max((c.subnet for c in cohorts if c.subnet is not None), default=0)
    sp = SubnetParams(
        n_uids=n_uids, yuma=YumaParams(max_validators=max_validators),
        work=WorkParams(query_rounds=query_rounds, sample_size=sample_size), **subnet,
    )
    return Network(
        NetworkParams(subnets=(sp,) * k, **(network or {})), cohorts, rng=seed,
        strategies=[get(s) for s in strategies],
    )


def accounts(model: Network, name: str) -> np.ndarray:
    """Accounts of the live participants of strategy ``name``."""
    return np.array(sorted(a.acct for a in model.agents if a.name == name), dtype=np.int64)


def uids(model: Network, name: str) -> np.ndarray:
    """Their UIDs on subnet 0."""
    return model.uids_of(accounts(model, name), 0)


def run(model: Network, epochs: int) -> Network:
    for _ in range(epochs):
        model.step()
    return model

