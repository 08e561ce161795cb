"""From a validated experiment to a world model: parameters, population and dynamics.

``world`` never reads experiment files or knows about experiments (it reads a metagraph
snapshot only when asked, ``world.metagraph``); this module is the only bridge.
It also holds the table of population processes an experiment's ``dynamics:`` section
may name. To add a process, add its class to ``_dynamics_table`` below: its ``Params``
(a parameter set declared with ``world.parameters``) are the ``params`` of the section,
and it is built as ``cls(model, **params)`` if its ``needs_model`` is true, else
``cls(**params)``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from world.parameters import ParameterError

if TYPE_CHECKING:
    from experiments.schema import Experiment
    from world.model import Network
    from world.params import NetworkParams


def _dynamics_table() -> dict[str, type]:
    """Process name -> class. The mapping the ``dynamics:`` section of a file uses."""
    from agents import population

    return {
        "entry": population.Entry,  # newcomers arrive and register when profitable
        "exit": population.Exit,  # participants leave after sustained losses
        "imitation": population.Imitation,  # Fermi-rule imitation of better-paid peers
    }


@functools.cache
def dynamics_registry() -> dict[str, type]:
    """The population processes experiment files may name (see ``_dynamics_table``)."""
    return _dynamics_table()


def _strategies_named(value: Any) -> list[str]:
    """Every ``strategy`` name inside a dynamics' parameters (for ``Network(strategies=)``)."""
    out: list[str] = []
    if isinstance(value, Mapping):
        for k, v in value.items():
            if k == "strategy" and isinstance(v, str):
                out.append(v)
            else:
                out += _strategies_named(v)
    elif isinstance(value, list | tuple):
        for v in value:
            out += _strategies_named(v)
    return out


def network_params(exp: Experiment) -> NetworkParams:
    """The world's ``NetworkParams`` of a validated experiment."""
    return exp.scenario.to_world()


def model_arguments(
    exp: Experiment, per_agent: Mapping[int, Mapping[str, Sequence[Any]]] | None = None,
) -> tuple[NetworkParams, list[Any], list[type]]:
    """``Network(params, population, strategies=...)``'s arguments for ``exp``.

    ``per_agent``: cohort index -> {parameter: one value per agent} (priors drawn per agent,
    ``experiments.uncertainty``): such a cohort becomes cohorts of one agent each, in order
    (the same agents on the same UIDs, recorded as entry i), each with its own values."""
    from agents.catalog import get
    from world.model import Cohort

    population = []
    for i, c in enumerate(exp.population):
        own = (per_agent or {}).get(i)
        if not own:
            population.append(Cohort(get(c.strategy), c.count, c.subnet, dict(c.params)))
            continue
        population += [Cohort(get(c.strategy), 1, c.subnet,
                              {**c.params, **{k: v[j] for k, v in own.items()}}, entry=i)
                       for j in range(c.count)]
    extra = [get(name) for d in exp.dynamics for name in _strategies_named(d.params)]
    extra += [s for c in population for s in c.strategy.spawned_strategies()]
    return network_params(exp), population, extra


def attach_dynamics(model: Network, exp: Experiment) -> None:
    """Append ``exp``'s population processes to ``model.dynamics``, in file order."""
    for i, d in enumerate(exp.dynamics):
        cls = dynamics_registry()[d.process]
        try:
            model.dynamics.append(cls(model, **d.params) if cls.needs_model else cls(**d.params))
        except ValueError as err:
            raise ParameterError(("dynamics", i, "params"), str(err)) from None


def build_model(exp: Experiment, seed: int,
                per_agent: Mapping[int, Mapping[str, Sequence[Any]]] | None = None) -> Network:
    """The model of one run: scenario, population and dynamics, seeded with ``seed``
    (``per_agent``: parameter values drawn per agent, see ``model_arguments``); a subnet
    with a metagraph snapshot starts from it (``experiments.snapshot``)."""
    from experiments.snapshot import apply
    from world.model import Network

    params, population, extra = model_arguments(exp, per_agent)
    try:
        model = Network(params, population, rng=int(seed), strategies=extra)
    except ValueError as err:
        raise ParameterError(("population",), str(err)) from None
    try:
        apply(model, exp)  # subnets started from a metagraph snapshot
    except ValueError as err:
        raise ParameterError(("scenario", "subnets"), str(err)) from None
    attach_dynamics(model, exp)
    return model


def run_seed(master: int, seed_index: int) -> int:
    """The seed of run ``seed_index`` under ``master``: a 64-bit integer from
    ``SeedSequence(master, spawn_key=(seed_index,))`` (independent of every other index,
    so adding seeds never changes earlier runs)."""
    ss = np.random.SeedSequence(int(master), spawn_key=(int(seed_index),))
    return int(ss.generate_state(1, dtype=np.uint64)[0])
