"""The experiment file format: a typed schema (pydantic v2) over the world's parameters.

An experiment file (YAML) names a scenario, a population, the number of epochs, the seeds
and, optionally, a sweep, the strategy profiles an analysis needs, and population dynamics.
See ``docs/experiments.md`` for the format with examples.

The scenario sections mirror the world's frozen dataclasses (``world.params``,
``world.yuma``): their models are generated from the dataclasses' fields, so a parameter
added to the world appears here (with the comment beside it as its description) without
an edit. Each section is checked by building the dataclass itself, so the world's own
range checks run and their errors surface at the section's key path. Strategy names and
parameters are checked against the registry (``agents.catalog``).

Every model forbids unknown keys and is strict about types (YAML already types values: a
quoted ``"0.5"`` is a string, not a number; ``1`` is accepted where a float is expected).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import inspect
import itertools
import re
import types
import typing
from typing import Annotated, Any, ClassVar, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)

from world.eras import ERA_NAMES, era_variants, fill_scenario
from world.params import NetworkParams, PriceParams

__all__ = [
    "CohortSpec",
    "DynamicsSpec",
    "Experiment",
    "LocatedValueError",
    "PriceSpec",
    "ProfilesSpec",
    "ScenarioSpec",
    "SeedSpec",
    "SweepSpec",
    "json_schema",
    "parse_path",
]

MAX_CELLS = 100_000  # cells of one sweep (sweep values x profiles)
MAX_SEEDS = 100_000
MAX_EPOCHS = 1_000_000
ROLES = ("miner", "validator", "delegator")
# Top-level keys a sweep may not vary: they name or shape the sweep itself.
UNSWEEPABLE = ("name", "description", "seeds", "sweep", "profiles")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class LocatedValueError(ValueError):
    """A ``ValueError`` that knows the key path below the location pydantic reports.

    Raised inside validators; ``experiments.loader`` appends ``subloc`` to the error's
    location so a message names e.g. ``population[2].params.quality`` rather than
    ``population[2]``.
    """

    def __init__(self, subloc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.subloc = tuple(subloc)


class Spec(BaseModel):
    """Base of every section: unknown keys rejected, strict types, no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


# ---------------------------------------------------------------------------------------
# Scenario sections generated from the world's dataclasses
# ---------------------------------------------------------------------------------------


@functools.cache
def _field_comments(dc: type) -> dict[str, str]:
    """``{field: comment}`` from the ``name: type = default  # comment`` lines of ``dc``."""
    try:
        source = inspect.getsource(dc)
    except (OSError, TypeError):
        return {}
    out: dict[str, str] = {}
    for line in source.splitlines():
        m = re.match(r"^\s{4}(\w+)\s*:[^#]*#\s*(.+?)\s*$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


class WorldSpec(Spec):
    """A section generated from a world dataclass; ``to_world()`` builds the dataclass."""

    world_class: ClassVar[type]

    def to_world(self) -> Any:
        """The world dataclass with this section's values (nested sections built too)."""
        ours = type(self).model_fields
        values = {f.name: _to_world_value(getattr(self, f.name))
                  for f in dataclasses.fields(self.world_class) if f.name in ours}
        return self.world_class(**values)

    @model_validator(mode="after")
    def _world_checks(self) -> WorldSpec:
        """Run the world's own validation; its error is located at the offending field."""
        try:
            self.to_world()
        except ValueError as err:
            raise LocatedValueError(_field_from_message(type(self), str(err)), str(err)) from None
        return self


def _to_world_value(value: Any) -> Any:
    if isinstance(value, WorldSpec):
        return value.to_world()
    if isinstance(value, list):
        return tuple(_to_world_value(v) for v in value)
    return value


def _field_from_message(model: type[BaseModel], message: str) -> tuple[str | int, ...]:
    """The field a world error message names (its first dotted word), as a key path.

    World messages start with the parameter's name, e.g. ``registration.min_burn_tao
    must ...`` or ``subnet.yuma.max_validators must ...``: the longest suffix of that name
    that is a path of fields of ``model`` is the location; ``()`` if none is.
    """
    m = re.match(r"^([A-Za-z_][\w.\[\]*]*)", message)
    if not m:
        return ()
    parts = [re.sub(r"\[.*?\]", "", p) for p in m.group(1).split(".")]
    for start in range(len(parts)):
        path = parts[start:]
        cls: Any = model
        ok = True
        for p in path:
            fields = getattr(cls, "model_fields", None)
            if not fields or p not in fields:
                ok = False
                break
            cls = _inner_model(fields[p].annotation)
        if ok and path:
            return tuple(path)
    return ()


def _inner_model(annotation: Any) -> Any:
    """The pydantic model inside ``annotation`` (through lists and optionals), or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        inner = _inner_model(arg)
        if inner is not None:
            return inner
    return None


_SPEC_OF: dict[type, type[WorldSpec]] = {}


def _spec_type(tp: Any) -> Any:
    """The schema type for a dataclass field type (nested dataclasses -> their sections)."""
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return spec_for(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return list[_spec_type(args[0])]  # type: ignore[misc]
    if origin in (collections.abc.Sequence, list) and args:
        return list[_spec_type(args[0])]  # type: ignore[misc]
    if origin in (collections.abc.Mapping, dict):
        return dict[str, Any]
    if origin in (Union, types.UnionType):
        return Union[tuple(_spec_type(a) for a in args)]  # noqa: UP007
    return tp


def _spec_default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        spec = spec_for(type(value))
        return spec(**{f.name: _spec_default(getattr(value, f.name))
                       for f in dataclasses.fields(value)})
    if isinstance(value, tuple):
        return [_spec_default(v) for v in value]
    return value


def spec_for(
    dc: type,
    *,
    name: str | None = None,
    base: type[WorldSpec] = WorldSpec,
    exclude: tuple[str, ...] = (),
) -> type[WorldSpec]:
    """The section model of world dataclass ``dc`` (cached: one model per dataclass)."""
    if dc in _SPEC_OF and name is None:
        return _SPEC_OF[dc]
    hints = typing.get_type_hints(dc)
    comments = _field_comments(dc)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(dc):
        if f.name in exclude or not f.init:
            continue
        tp = _spec_type(hints[f.name])
        desc = comments.get(f.name)
        if f.default is not dataclasses.MISSING:
            default = f.default
            if dataclasses.is_dataclass(default) or isinstance(default, tuple):
                fields[f.name] = (tp, Field(default_factory=functools.partial(_spec_default,
                                                                              default),
                                            description=desc))
            else:
                fields[f.name] = (tp, Field(default=default, description=desc))
        elif f.default_factory is not dataclasses.MISSING:
            factory = f.default_factory
            fields[f.name] = (tp, Field(default_factory=lambda fac=factory: _spec_default(fac()),
                                        description=desc))
        else:
            fields[f.name] = (tp, Field(description=desc))
    model = create_model(  # type: ignore[call-overload]
        name or f"{dc.__name__.removesuffix('Params')}Spec",
        __base__=base,
        __doc__=inspect.cleandoc(dc.__doc__ or dc.__name__),
        __module__=__name__,
        **fields,
    )
    model.world_class = dc
    if name is None:
        _SPEC_OF[dc] = model
    return model


class _PriceBase(WorldSpec):
    """Adds ``series_file`` to the price section: a CSV read by ``experiments``."""

    series_file: str | None = Field(
        default=None,
        description="CSV of TAO/USD per epoch (column price_usd, or a single column), "
        "relative to the experiment file; read into series_usd when the file is loaded",
    )

    @model_validator(mode="after")
    def _series_consistency(self) -> _PriceBase:
        kind = getattr(self, "kind", None)
        if self.series_file is not None and kind != "series":
            raise LocatedValueError(
                ("series_file",), f"series_file is only used with kind 'series', got kind {kind!r}"
            )
        return self


class _ScenarioBase(WorldSpec):
    """Fills in the rules of the scenario's era (``era``, ``era_variant``) that the file
    does not give (``world.eras.fill_scenario``): an era sets the defaults, any single
    value given in the file overrides its rule (MODEL.md section 9)."""

    @model_validator(mode="before")
    @classmethod
    def _era_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        era, variant = data.get("era", "dtao"), data.get("era_variant")
        if era not in ERA_NAMES or not (variant is None or isinstance(variant, str)):
            return data  # the field checks report it
        if variant is not None and variant not in era_variants(era):
            return data
        return fill_scenario(data, era, variant)


PriceSpec = spec_for(PriceParams, name="PriceSpec", base=_PriceBase)
_SPEC_OF[PriceParams] = PriceSpec
ScenarioSpec = spec_for(NetworkParams, name="ScenarioSpec", base=_ScenarioBase)


# ---------------------------------------------------------------------------------------
# Population, dynamics, seeds, sweeps, profiles
# ---------------------------------------------------------------------------------------

ParamValue = float  # strategy parameters are numbers (strict: int accepted, bool and str not)
PathStr = Annotated[str, StringConstraints(min_length=1, max_length=300)]


def _strategy_names() -> list[str]:
    from agents.catalog import REGISTRY

    return sorted(REGISTRY)


def _strategy_class(name: str) -> Any:
    from agents.catalog import get

    return get(name)


def check_strategy_params(strategy: str, params: dict[str, float]) -> dict[str, float]:
    """Every parameter of ``strategy`` with defaults filled; ``LocatedValueError`` names a
    bad or unknown key and what is allowed."""
    cls = _strategy_class(strategy)
    spec = cls.all_params()
    for key in params:
        if key not in spec:
            raise LocatedValueError(
                ("params", key),
                f"{strategy} has no parameter {key!r}; "
                f"allowed: {', '.join(sorted(spec)) or 'none'}",
            )
    out: dict[str, float] = {}
    for key, p in spec.items():
        try:
            value = p.validate(strategy, key, params.get(key, p.default))
        except ValueError as err:
            raise LocatedValueError(("params", key), str(err)) from None
        out[key] = int(value) if p.integer else value
    return out


def _strategy_schema(schema: dict[str, Any]) -> None:
    schema["enum"] = _strategy_names()


class CohortSpec(Spec):
    """``count`` agents of one strategy (by registry name), on subnet ``subnet``.

    Miners and validators need a subnet; delegators have none (they stake network-wide).
    ``params`` override the strategy's defaults within its declared ranges
    (``tao-arena strategies`` and ``docs/strategies.md`` list them).
    """

    strategy: str = Field(description="strategy name from the registry",
                          json_schema_extra=_strategy_schema)
    count: int = Field(ge=0, le=100_000, description="number of agents")
    subnet: int | None = Field(default=None, ge=0, description="subnet index (None: delegators)")
    params: dict[str, ParamValue] = Field(default_factory=dict,
                                          description="strategy parameters (defaults filled)")
    label: str | None = Field(default=None, max_length=100,
                              description="an optional name for this cohort")

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        _strategy_class(value)  # ValueError lists the allowed names
        return value

    @model_validator(mode="after")
    def _params_in_range(self) -> CohortSpec:
        self.params = check_strategy_params(self.strategy, self.params)
        return self

    @property
    def role(self) -> str:
        """The strategy's role: miner, validator or delegator."""
        return str(_strategy_class(self.strategy).role)


class DynamicsSpec(Spec):
    """A population process run after every epoch (entry, exit, imitation, ...).

    ``process`` is a name from ``experiments.wiring.dynamics_registry()``; ``params`` its
    keyword arguments.
    """

    process: str = Field(description="population process name")
    params: dict[str, Any] = Field(default_factory=dict, description="its parameters")

    @field_validator("process")
    @classmethod
    def _known_process(cls, value: str) -> str:
        from experiments.wiring import dynamics_registry

        known = dynamics_registry()
        if value not in known:
            raise ValueError(
                f"unknown population process {value!r}; "
                f"allowed: {', '.join(sorted(known)) or 'none'}"
            )
        return value

    @model_validator(mode="after")
    def _params_ok(self) -> DynamicsSpec:
        from experiments.wiring import check_dynamics_params

        self.params = check_dynamics_params(self.process, self.params)
        return self


class SeedSpec(Spec):
    """Seeds: a count (indices 0..count-1) or a list of seed indices, under one master seed.

    Run seeds come from ``numpy.random.SeedSequence(master, spawn_key=(index,))``: adding
    seeds never changes the earlier ones, and every sweep cell uses the same seed for the
    same index (common random numbers). Shorthand: ``seeds: 10`` or ``seeds: [0, 3, 7]``.
    """

    master: int = Field(default=0, ge=0, lt=2**128, description="the master seed")
    count: int | None = Field(default=None, ge=1, le=MAX_SEEDS,
                              description="run seed indices 0..count-1")
    indices: list[Annotated[int, Field(ge=0, lt=2**32)]] | None = Field(
        default=None, min_length=1, max_length=MAX_SEEDS, description="explicit seed indices"
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, int) and not isinstance(data, bool):
            return {"count": data}
        if isinstance(data, list):
            return {"indices": data}
        return data

    @model_validator(mode="after")
    def _one_of(self) -> SeedSpec:
        if self.count is not None and self.indices is not None:
            raise ValueError("give seeds.count or seeds.indices, not both")
        if self.count is None and self.indices is None:
            self.count = 1
        if self.indices is not None and len(set(self.indices)) != len(self.indices):
            raise LocatedValueError(("indices",), "seeds.indices must not repeat an index")
        return self

    def seed_indices(self) -> list[int]:
        """The seed indices this experiment runs, in order."""
        if self.indices is not None:
            return list(self.indices)
        return list(range(self.count or 1))


def parse_path(path: str) -> tuple[str | int, ...]:
    """``"subnets.0.yuma.kappa"`` or ``"population[2].params.x"`` -> a key tuple.

    Paths into the scenario may omit the leading ``scenario.``.
    """
    parts: list[str | int] = []
    for token in re.split(r"\.|(?=\[)", path.strip()):
        if not token:
            raise ValueError(f"bad parameter path {path!r}: empty component")
        m = re.fullmatch(r"\[(\d+)\]", token)
        if m:
            parts.append(int(m.group(1)))
        elif token.isdigit():
            parts.append(int(token))
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token):
            parts.append(token)
        else:
            raise ValueError(
                f"bad parameter path {path!r}: {token!r} is neither a key nor an index"
            )
    if parts and parts[0] in ScenarioSpec.model_fields:
        parts.insert(0, "scenario")
    if not parts or not isinstance(parts[0], str) or parts[0] not in Experiment.model_fields:
        allowed = sorted(set(Experiment.model_fields) - set(UNSWEEPABLE))
        raise ValueError(
            f"bad parameter path {path!r}: it must start with one of {', '.join(allowed)} "
            f"(or a scenario key: {', '.join(ScenarioSpec.model_fields)})"
        )
    if parts[0] in UNSWEEPABLE:
        raise ValueError(f"bad parameter path {path!r}: {parts[0]!r} cannot be swept")
    return tuple(parts)


SweepValues = Annotated[list[Any], Field(min_length=1, max_length=10_000)]


class SweepSpec(Spec):
    """A grid over parameter paths.

    ``grid``: ``{path: [values]}``, every combination (cartesian product). ``zip``: groups
    of paths whose value lists have equal length and vary together (each group is one
    axis of the product). Paths are dotted (``subnets.0.yuma.bonds_penalty``,
    ``population.2.params.quality``; ``scenario.`` may be omitted).
    """

    grid: dict[PathStr, SweepValues] = Field(default_factory=dict)
    zip: list[dict[PathStr, SweepValues]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _paths_and_lengths(self) -> SweepSpec:
        seen: dict[tuple[str | int, ...], str] = {}
        groups: list[tuple[str, dict[str, list[Any]]]] = [("grid", self.grid)] + [
            (f"zip.{i}", g) for i, g in enumerate(self.zip)
        ]
        for where, group in groups:
            for key in group:
                try:
                    parsed = parse_path(key)
                except ValueError as err:
                    raise LocatedValueError((*where.split("."), key), str(err)) from None
                for other, name in seen.items():
                    if parsed[: len(other)] == other or other[: len(parsed)] == parsed:
                        raise LocatedValueError(
                            (*where.split("."), key),
                            f"sweep path {key!r} overlaps {name!r}; each parameter may be "
                            "swept once",
                        )
                seen[parsed] = key
        for i, group in enumerate(self.zip):
            if not group:
                raise LocatedValueError(("zip", i), "a zip group needs at least one path")
            lengths = {k: len(v) for k, v in group.items()}
            if len(set(lengths.values())) > 1:
                raise LocatedValueError(
                    ("zip", i),
                    "the value lists of a zip group must have equal lengths, got "
                    + ", ".join(f"{k}: {n}" for k, n in lengths.items()),
                )
        if self.n_cells() > MAX_CELLS:
            raise ValueError(f"the sweep has {self.n_cells()} cells; at most {MAX_CELLS}")
        return self

    def axes(self) -> list[dict[str, list[Any]]]:
        """The axes of the product: each grid path alone, then each zip group."""
        return [{k: v} for k, v in self.grid.items()] + [dict(g) for g in self.zip]

    def n_cells(self) -> int:
        """Number of cells (combinations) in the sweep."""
        n = 1
        for axis in self.axes():
            n *= len(next(iter(axis.values())))
        return n

    def cells(self) -> list[dict[str, tuple[int, Any]]]:
        """Every combination: ``{path: (index in its value list, value)}``, in order (the
        last axis varies fastest)."""
        axes = self.axes()
        ranges = [range(len(next(iter(a.values())))) for a in axes]
        out = []
        for combo in itertools.product(*ranges):
            cell: dict[str, tuple[int, Any]] = {}
            for axis, k in zip(axes, combo, strict=True):
                for path, values in axis.items():
                    cell[path] = (k, values[k])
            out.append(cell)
        return out


class ProfileStrategy(Spec):
    """A strategy in a profile set, with parameters for agents switching to it."""

    strategy: str = Field(json_schema_extra=_strategy_schema)
    params: dict[str, ParamValue] = Field(default_factory=dict)

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        _strategy_class(value)
        return value

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"strategy": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _params_in_range(self) -> ProfileStrategy:
        check_strategy_params(self.strategy, self.params)
        return self


class ProfilesSpec(Spec):
    """The strategy profiles an empirical-game analysis needs (issue 6), as extra cells.

    Per role, a strategy set (``miner``, ``validator``, ``delegator``). The baseline is the
    population as written (e.g. all honest). ``deviations``: the baseline plus, for each
    role and each strategy of its set, the baseline with ``deviators`` agents of that role
    (taken from the role's first cohort on ``subnet``) switched to it.
    ``monomorphic``: every combination of one strategy per listed role, each role's
    cohorts on ``subnet`` all switched to it. Agents that switch keep the parameters the
    new strategy also declares (e.g. their stake) and take the ones given here.
    """

    subnet: int = Field(default=0, ge=0, description="the subnet whose agents switch")
    miner: list[ProfileStrategy] = Field(default_factory=list)
    validator: list[ProfileStrategy] = Field(default_factory=list)
    delegator: list[ProfileStrategy] = Field(default_factory=list)
    deviations: bool = Field(default=True, description="baseline + each single deviation")
    monomorphic: bool = Field(default=False, description="every one-strategy-per-role pair")
    deviators: int = Field(default=1, ge=1, description="agents that switch in a deviation")

    @model_validator(mode="after")
    def _roles(self) -> ProfilesSpec:
        for role in ROLES:
            for i, s in enumerate(getattr(self, role)):
                actual = _strategy_class(s.strategy).role
                if actual != role:
                    raise LocatedValueError(
                        (role, i, "strategy"),
                        f"{s.strategy!r} is a {actual} strategy, listed under {role}",
                    )
        if not (self.deviations or self.monomorphic):
            raise ValueError("profiles: set deviations or monomorphic (or drop profiles)")
        if not any(getattr(self, r) for r in ROLES):
            raise ValueError("profiles: list the strategy set of at least one role")
        return self


class Experiment(Spec):
    """One experiment: a scenario, a population, epochs, seeds and an optional sweep."""

    name: str = Field(pattern=NAME_PATTERN,
                      description="experiment name; results go to results/<name>/<hash>/")
    description: str = Field(default="", max_length=10_000)
    epochs: int = Field(default=100, ge=1, le=MAX_EPOCHS, description="epochs per run")
    warmup_epochs: int | None = Field(
        default=None, ge=0,
        description="epochs the summary skips (bonds and averages start empty); "
        "default epochs // 5",
    )
    seeds: SeedSpec = Field(default_factory=SeedSpec)
    scenario: ScenarioSpec = Field(default_factory=ScenarioSpec)  # type: ignore[valid-type]
    population: list[CohortSpec] = Field(min_length=1, max_length=1_000)
    dynamics: list[DynamicsSpec] = Field(default_factory=list, max_length=100)
    sweep: SweepSpec | None = None
    profiles: ProfilesSpec | None = None

    @model_validator(mode="after")
    def _population_fits(self) -> Experiment:
        subnets = self.scenario.subnets
        used = [0] * len(subnets)
        for i, c in enumerate(self.population):
            if c.role == "delegator":
                if c.subnet is not None:
                    raise LocatedValueError(
                        ("population", i, "subnet"),
                        f"{c.strategy} is a delegator strategy: delegators have no subnet "
                        "(leave subnet out)",
                    )
                continue
            if c.subnet is None or c.subnet >= len(subnets):
                raise LocatedValueError(
                    ("population", i, "subnet"),
                    f"{c.strategy} is a {c.role} strategy and needs a subnet index in "
                    f"[0, {len(subnets) - 1}], got {c.subnet!r}",
                )
            used[c.subnet] += c.count
        for k, (n, s) in enumerate(zip(used, subnets, strict=True)):
            if n > s.n_uids:
                raise LocatedValueError(
                    ("population",),
                    f"the population puts {n} miners and validators on subnet {k}, which has "
                    f"n_uids = {s.n_uids} (scenario.subnets[{k}].n_uids)",
                )
        if self.warmup_epochs is not None and self.warmup_epochs >= self.epochs:
            raise LocatedValueError(
                ("warmup_epochs",),
                f"warmup_epochs must be smaller than epochs ({self.epochs}), "
                f"got {self.warmup_epochs}",
            )
        if self.profiles is not None and self.profiles.subnet >= len(subnets):
            raise LocatedValueError(
                ("profiles", "subnet"),
                f"profiles.subnet must be a subnet index in [0, {len(subnets) - 1}], "
                f"got {self.profiles.subnet}",
            )
        return self

    @property
    def resolved_warmup(self) -> int:
        """Warm-up epochs the summary skips."""
        return self.warmup_epochs if self.warmup_epochs is not None else self.epochs // 5


def json_schema() -> dict[str, Any]:
    """The JSON Schema of an experiment file (for editors' completion and checking).

    Each cohort's ``params`` gets the parameters of its strategy (an ``if``/``then`` per
    strategy), with their ranges and meanings.
    """
    schema = Experiment.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "tao-arena experiment"
    cohort = schema.get("$defs", {}).get("CohortSpec")
    if cohort is not None:
        rules = []
        for name in _strategy_names():
            props: dict[str, Any] = {}
            for key, p in _strategy_class(name).all_params().items():
                prop: dict[str, Any] = {"type": "integer" if p.integer else "number",
                                        "description": p.doc, "default": p.default}
                if p.low is not None:
                    prop["minimum"] = p.low
                if p.high is not None:
                    prop["maximum"] = p.high
                props[key] = prop
            rules.append({
                "if": {"properties": {"strategy": {"const": name}}, "required": ["strategy"]},
                "then": {"properties": {"params": {"type": "object", "properties": props,
                                                   "additionalProperties": False}}},
            })
        cohort["allOf"] = rules
    # shorthands accepted by "before" validators: seeds: 10 / [0, 3]; profiles: [name, ...]
    seeds = schema["properties"]["seeds"]
    schema["properties"]["seeds"] = {
        "anyOf": [{"$ref": "#/$defs/SeedSpec"},
                  {"type": "integer", "minimum": 1, "description": "seed count"},
                  {"type": "array", "items": {"type": "integer", "minimum": 0},
                   "description": "seed indices"}],
        **{k: v for k, v in seeds.items() if k not in ("$ref", "anyOf", "allOf")},
    }
    profiles = schema.get("$defs", {}).get("ProfilesSpec")
    if profiles is not None:
        for role in ROLES:
            prop = profiles["properties"][role]
            prop["items"] = {"anyOf": [{"type": "string", "enum": _strategy_names()},
                                       prop["items"]]}
    dynamics = schema.get("$defs", {}).get("DynamicsSpec")
    if dynamics is not None:
        from experiments.wiring import dynamics_params_model, dynamics_registry

        names = sorted(dynamics_registry())
        dynamics["properties"]["process"]["enum"] = names
        rules = []
        for name in names:
            sub = dynamics_params_model(name).model_json_schema(ref_template="#/$defs/{model}")
            schema["$defs"].update(sub.pop("$defs", {}))
            rules.append({
                "if": {"properties": {"process": {"const": name}}, "required": ["process"]},
                "then": {"properties": {"params": sub}},
            })
        dynamics["allOf"] = rules
    return schema


def model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The section model at key path ``loc`` (``None`` where the path leaves the models)."""
    cls: Any = Experiment
    for key in loc:
        if isinstance(key, int):
            continue
        fields = getattr(cls, "model_fields", None)
        if not fields or key not in fields:
            return None
        cls = _inner_model(fields[key].annotation)
        if cls is None:
            return None
    return cls

