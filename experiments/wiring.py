"""From a validated experiment to a world model: parameters, population and dynamics.

``world`` never reads experiment files or knows about experiments (it reads a metagraph
snapshot only when asked, ``world.metagraph``); this module is the only bridge.
It also holds the table of population processes an experiment's ``dynamics:`` section
may name. To add a process, add its class to ``DYNAMICS`` below: its keyword arguments
become the ``params`` of the section (their types and defaults are read from the
signature), and a first positional parameter called ``model`` receives the model.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

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


def _resolve_annotation(fn: Any, name: str, annotation: Any) -> Any:
    """The evaluated annotation of parameter ``name`` of ``fn`` (Any if unresolvable)."""
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, dict(vars(typing)), fn.__globals__)  # noqa: S307 (code, not data)
    except Exception:
        return Any


def _param_type(tp: Any) -> Any:
    """Schema type of a constructor parameter (sequences -> lists, dataclasses -> specs)."""
    from experiments.schema import spec_for

    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return spec_for(tp)
    if origin in (Sequence, list, tuple) and args:
        return list[_param_type(args[0])]  # type: ignore[misc]
    if origin in (Mapping, dict):
        return dict[str, Any]
    if origin in (typing.Union, __import__("types").UnionType):
        return typing.Union[tuple(_param_type(a) for a in args)]  # noqa: UP007
    return tp


@functools.cache
def dynamics_params_model(process: str) -> Any:
    """A pydantic model of the keyword arguments of population process ``process``."""
    from pydantic import Field, create_model

    from experiments.schema import Spec

    cls = dynamics_registry()[process]
    sig = inspect.signature(cls.__init__)
    fields: dict[str, Any] = {}
    for i, (name, p) in enumerate(sig.parameters.items()):
        if i == 0 or (i == 1 and name == "model") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        tp = _param_type(_resolve_annotation(cls.__init__, name, p.annotation))
        if p.default is inspect.Parameter.empty:
            fields[name] = (tp, Field())
        else:
            default = list(p.default) if isinstance(p.default, tuple) else p.default
            fields[name] = (tp, Field(default=default))
    doc = inspect.cleandoc(cls.__doc__ or process)
    return create_model(  # type: ignore[call-overload]
        f"{cls.__name__}Params", __base__=Spec, __doc__=doc, __module__=__name__, **fields
    )


def _needs_model(cls: type) -> bool:
    names = list(inspect.signature(cls.__init__).parameters)
    return len(names) > 1 and names[1] == "model"


def check_dynamics_params(process: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` validated against ``process``'s signature, defaults filled.

    Processes that do not need the model are also constructed here, so their own checks
    run when the file is loaded; the others are checked when the model is built.
    """
    from pydantic import ValidationError

    from experiments.schema import LocatedValueError

    model = dynamics_params_model(process)
    try:
        spec = model.model_validate(params)
    except ValidationError as err:
        first = err.errors()[0]
        raise LocatedValueError(("params", *first["loc"]), first["msg"]) from None
    values = spec.model_dump(mode="python")
    cls = dynamics_registry()[process]
    if not _needs_model(cls):
        try:
            cls(**_world_kwargs(spec))
        except ValueError as err:
            raise LocatedValueError(("params",), str(err)) from None
    return values


def _world_kwargs(spec: Any) -> dict[str, Any]:
    from experiments.schema import WorldSpec

    def conv(v: Any) -> Any:
        if isinstance(v, WorldSpec):
            return v.to_world()
        if isinstance(v, list):
            return tuple(conv(x) for x in v)
        return v

    return {k: conv(getattr(spec, k)) for k in type(spec).model_fields}


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
    (the same agents on the same UIDs), each with its own values."""
    from agents.catalog import get
    from world.model import Cohort

    population = []
    for i, c in enumerate(exp.population):
        own = (per_agent or {}).get(i)
        if not own:
            population.append(Cohort(get(c.strategy), c.count, c.subnet, dict(c.params)))
            continue
        population += [Cohort(get(c.strategy), 1, c.subnet,
                              {**c.params, **{k: v[j] for k, v in own.items()}})
                       for j in range(c.count)]
    extra = [get(name) for d in exp.dynamics for name in _strategies_named(d.params)]
    extra += [s for c in population for s in c.strategy.spawned_strategies()]
    return network_params(exp), population, extra


def attach_dynamics(model: Network, exp: Experiment) -> None:
    """Append ``exp``'s population processes to ``model.dynamics``, in file order."""
    from experiments.schema import LocatedValueError

    for i, d in enumerate(exp.dynamics):
        cls = dynamics_registry()[d.process]
        kwargs = _world_kwargs(dynamics_params_model(d.process).model_validate(d.params))
        try:
            model.dynamics.append(cls(model, **kwargs) if _needs_model(cls) else cls(**kwargs))
        except ValueError as err:
            raise LocatedValueError(("dynamics", i, "params"), str(err)) from None


def build_model(exp: Experiment, seed: int,
                per_agent: Mapping[int, Mapping[str, Sequence[Any]]] | None = None) -> Network:
    """The model of one run: scenario, population and dynamics, seeded with ``seed``
    (``per_agent``: parameter values drawn per agent, see ``model_arguments``)."""
    from experiments.schema import LocatedValueError
    from world.model import Network

    params, population, extra = model_arguments(exp, per_agent)
    try:
        model = Network(params, population, rng=int(seed), strategies=extra)
    except ValueError as err:
        raise LocatedValueError(("population",), str(err)) from None
    from experiments.snapshot import apply

    try:
        apply(model, exp)  # subnets started from a metagraph snapshot
    except ValueError as err:
        raise LocatedValueError(("scenario", "subnets"), str(err)) from None
    attach_dynamics(model, exp)
    return model


def run_seed(master: int, seed_index: int) -> int:
    """The seed of run ``seed_index`` under ``master``: a 64-bit integer from
    ``SeedSequence(master, spawn_key=(seed_index,))`` (independent of every other index,
    so adding seeds never changes earlier runs)."""
    ss = np.random.SeedSequence(int(master), spawn_key=(int(seed_index),))
    return int(ss.generate_state(1, dtype=np.uint64)[0])
