"""The experiment file format: a typed schema (pydantic v2) over the world's parameters.

An experiment file (YAML) names a scenario, a population, the number of epochs, the seeds
and, optionally, a sweep, the strategy profiles an analysis needs, and population dynamics.
See ``docs/experiments.md`` for the format with examples.

Every parameter is declared once (``world.parameters``): the scenario is the world's own
parameter sets (``experiments.sections``), a cohort's ``params`` are its strategy's
declarations and a population process's ``params`` are its declared parameter set
(``agents.population``). Their defaults, ranges, descriptions and error messages are
those declarations'. Strategy names are checked against the registry (``agents.catalog``).

Every model forbids unknown keys and is strict about types (YAML already types values: a
quoted ``"0.5"`` is a string, not a number; ``1`` is accepted where a float is expected).
To add a top-level section, add a field to ``Experiment`` with its own ``Spec`` model.
"""

from __future__ import annotations

import itertools
import re
import typing
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from experiments.sections import (
    PriceSpec,
    ScenarioSpec,
    SubnetSpec,
    check_strategy_params,
    describe_error,
    strategy_class,
    strategy_names,
)
from experiments.sections import model_at as _model_at
from world.parameters import ParameterError, param

__all__ = [
    "CohortSpec",
    "DynamicsSpec",
    "Experiment",
    "ParameterError",
    "PriceSpec",
    "ProfilesSpec",
    "ScenarioSpec",
    "SeedSpec",
    "SubnetSpec",
    "SweepSpec",
    "check_strategy_params",
    "json_schema",
    "parse_path",
]

MAX_CELLS = 100_000  # cells of one sweep (sweep values x profiles)
MAX_SEEDS = 100_000
MAX_EPOCHS = 1_000_000
ROLES = ("miner", "validator", "delegator")
# Top-level keys a sweep may not vary: they name or shape the sweep itself.
UNSWEEPABLE = ("name", "description", "seeds", "sweep", "profiles", "uncertain")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class Spec(BaseModel):
    """Base of every section: unknown keys rejected, strict types, no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


# ---------------------------------------------------------------------------------------
# Population, dynamics, seeds, sweeps, profiles
# ---------------------------------------------------------------------------------------

PathStr = Annotated[str, StringConstraints(min_length=1, max_length=300)]


def _strategy_schema(schema: dict[str, Any]) -> None:
    schema["enum"] = strategy_names()


class CohortSpec(Spec):
    """``count`` agents of one strategy (by registry name), on subnet ``subnet``.

    Miners and validators need a subnet; delegators and root validators have none (they
    stake network-wide).
    ``params`` override the strategy's defaults within its declared ranges
    (``tao-arena strategies`` and ``docs/strategies.md`` list them).
    """

    strategy: str = Field(description="strategy name from the registry",
                          json_schema_extra=_strategy_schema)
    model_config = ConfigDict(title="population")

    count: int = param(..., 0, 100_000, "number of agents")
    subnet: int | None = param(None, 0, None, "subnet index (null: delegators, root validators)")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="strategy parameters (defaults filled)")
    label: str | None = Field(default=None, max_length=100,
                              description="an optional name for this cohort")
    uids: list[int] | typing.Literal["setting_weights", "validator_permit", "rest"] | None = \
        Field(default=None, description="on a subnet started from a metagraph: the snapshot "
              "UIDs this cohort plays (a list, or setting_weights, validator_permit or rest: "
              "experiments.snapshot); count is their number")

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        strategy_class(value)  # ValueError lists the allowed names
        return value

    @model_validator(mode="after")
    def _params_in_range(self) -> CohortSpec:
        self.params = check_strategy_params(self.strategy, self.params)
        if isinstance(self.uids, str):
            raise ParameterError(("uids",), f"uids: {self.uids} is resolved when the "
                                               f"experiment file is loaded (load_plan)")
        if self.uids is not None and (sorted(set(self.uids)) != sorted(self.uids)
                                      or len(self.uids) != self.count):
            raise ParameterError(("uids",), f"uids must be distinct, one per agent (count "
                                               f"{self.count}), got {len(self.uids)}")
        return self

    @property
    def role(self) -> str:
        """The strategy's role: miner, validator or delegator."""
        return str(strategy_class(self.strategy).role)


class DynamicsSpec(Spec):
    """A population process run after every epoch (entry, exit, imitation, ...).

    ``process`` is a name from ``experiments.wiring.dynamics_registry()``; ``params`` its
    declared parameters (the process's ``Params``, e.g. ``agents.population.ExitParams``).
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
        """Checked against the process's declared parameters (``Params``), defaults
        filled; the first problem is reported at its key."""
        from experiments.wiring import dynamics_registry

        declared = dynamics_registry()[self.process].Params
        adapter = TypeAdapter(declared)
        try:
            values = adapter.validate_python(self.params)
        except ValidationError as err:
            loc, msg = describe_error(err.errors(include_url=False)[0], declared)
            raise ParameterError(("params", *loc), msg) from None
        self.params = adapter.dump_python(values, mode="json")
        return self


class SeedSpec(Spec):
    """Seeds: a count (indices 0..count-1) or a list of seed indices, under one master seed.

    Run seeds come from ``numpy.random.SeedSequence(master, spawn_key=(index,))``: adding
    seeds never changes the earlier ones, and every sweep cell uses the same seed for the
    same index (common random numbers). Shorthand: ``seeds: 10`` or ``seeds: [0, 3, 7]``.
    """

    model_config = ConfigDict(title="seeds")

    master: int = Field(default=0, ge=0, lt=2**128, description="the master seed")
    count: int | None = param(None, 1, MAX_SEEDS, "run seed indices 0..count-1")
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
            raise ParameterError(("indices",), "seeds.indices must not repeat an index")
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
    if parts and parts[0] in ScenarioSpec.__pydantic_fields__:
        parts.insert(0, "scenario")
    if not parts or not isinstance(parts[0], str) or parts[0] not in Experiment.model_fields:
        allowed = sorted(set(Experiment.model_fields) - set(UNSWEEPABLE))
        raise ValueError(
            f"bad parameter path {path!r}: it must start with one of {', '.join(allowed)} "
            f"(or a scenario key: {', '.join(ScenarioSpec.__pydantic_fields__)})"
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
                    raise ParameterError((*where.split("."), key), str(err)) from None
                for other, name in seen.items():
                    if parsed[: len(other)] == other or other[: len(parsed)] == parsed:
                        raise ParameterError(
                            (*where.split("."), key),
                            f"sweep path {key!r} overlaps {name!r}; each parameter may be "
                            "swept once",
                        )
                seen[parsed] = key
        for i, group in enumerate(self.zip):
            if not group:
                raise ParameterError(("zip", i), "a zip group needs at least one path")
            lengths = {k: len(v) for k, v in group.items()}
            if len(set(lengths.values())) > 1:
                raise ParameterError(
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
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        strategy_class(value)
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
    cohorts on ``subnet`` all switched to it. ``pure``: pure profiles of the role-symmetric
    game (role -> a strategy of its set; unnamed roles keep the population as written),
    each run with every single deviation from it, as for the baseline: whether a profile
    is an equilibrium for *agents* (no one agent gains by switching) is then measured, not
    assumed. Agents that switch keep the parameters the new strategy also declares (e.g.
    their stake) and take the ones given here.
    """

    model_config = ConfigDict(title="profiles")

    subnet: int = param(0, 0, None, "the subnet whose agents switch")
    miner: list[ProfileStrategy] = Field(default_factory=list)
    validator: list[ProfileStrategy] = Field(default_factory=list)
    delegator: list[ProfileStrategy] = Field(default_factory=list)
    deviations: bool = param(True, doc="baseline + each single deviation")
    monomorphic: bool = param(False, doc="every one-strategy-per-role pair")
    deviators: int = param(1, 1, None, "agents that switch in a deviation")
    pure: list[dict[str, str]] = Field(
        default_factory=list,
        description="pure profiles (role -> strategy of its set) to run with every single "
                    "deviation from each")

    @model_validator(mode="after")
    def _roles(self) -> ProfilesSpec:
        for role in ROLES:
            for i, s in enumerate(getattr(self, role)):
                actual = strategy_class(s.strategy).role
                if actual != role:
                    raise ParameterError(
                        (role, i, "strategy"),
                        f"{s.strategy!r} is a {actual} strategy, listed under {role}",
                    )
        for i, prof in enumerate(self.pure):
            for role, strategy in prof.items():
                names = [s.strategy for s in getattr(self, role, None) or []] \
                    if role in ROLES else []
                if strategy not in names:
                    raise ParameterError(
                        ("pure", i, role),
                        f"{role}: {strategy!r} is not in the {role} strategy set {names}"
                        if role in ROLES else f"unknown role {role!r}; roles are {ROLES}")
        if not (self.deviations or self.monomorphic or self.pure):
            raise ValueError("profiles: set deviations, monomorphic or pure (or drop profiles)")
        if not any(getattr(self, r) for r in ROLES):
            raise ValueError("profiles: list the strategy set of at least one role")
        return self


class FullSize(Spec):
    """The size of an experiment for a cluster (``--full``): more seeds (sampled worlds)
    and, optionally, a longer horizon than the file's default size, which ``make run``
    uses. ``tao-arena run --full`` / ``tao-arena main --full`` run this size."""

    model_config = ConfigDict(title="full")

    seeds: int | None = param(None, 1, MAX_SEEDS, "seed count (sampled worlds) at full "
                              "size (null: the file's)")
    epochs: int | None = param(None, 1, MAX_EPOCHS, "epochs per run at full size "
                               "(null: the file's)")
    warmup_epochs: int | None = param(None, 0, MAX_EPOCHS, "warm-up at full size "
                                      "(null: the file's)")


class Experiment(Spec):
    """One experiment: a scenario, a population, epochs, seeds and an optional sweep."""

    name: str = Field(pattern=NAME_PATTERN,
                      description="experiment name; results go to results/<name>/<hash>/")
    description: str = Field(default="", max_length=10_000)
    model_config = ConfigDict(title="experiment")

    epochs: int = param(100, 1, MAX_EPOCHS, "epochs per run")
    warmup_epochs: int | None = param(
        None, 0, MAX_EPOCHS, "epochs the summary skips (bonds and averages start empty); "
        "null: epochs // 5")
    seeds: SeedSpec = Field(default_factory=SeedSpec)
    scenario: ScenarioSpec = Field(default_factory=ScenarioSpec)
    population: list[CohortSpec] = Field(min_length=1, max_length=1_000)
    dynamics: list[DynamicsSpec] = Field(default_factory=list, max_length=100)
    sweep: SweepSpec | None = None
    profiles: ProfilesSpec | None = None
    full: FullSize | None = Field(
        default=None, description="the size for a cluster, run with --full: seeds and "
        "epochs that replace the file's")
    uncertain: dict[PathStr, Any] = Field(
        default_factory=dict, description="priors: parameter path -> distribution, drawn "
        "once per run (experiments/uncertainty.py, docs/uncertainty.md)")

    @field_validator("uncertain")
    @classmethod
    def _priors(cls, value: dict[str, Any]) -> dict[str, Any]:
        from experiments.uncertainty import check_priors

        return check_priors(value)

    @model_validator(mode="after")
    def _population_fits(self) -> Experiment:
        subnets = self.scenario.subnets
        used = [0] * len(subnets)
        for i, c in enumerate(self.population):
            if c.role in ("delegator", "root"):
                if c.subnet is not None:
                    raise ParameterError(
                        ("population", i, "subnet"),
                        f"{c.strategy} is a {c.role} strategy: {c.role} participants have "
                        "no subnet (leave subnet out)",
                    )
                continue
            if c.subnet is None or c.subnet >= len(subnets):
                raise ParameterError(
                    ("population", i, "subnet"),
                    f"{c.strategy} is a {c.role} strategy and needs a subnet index in "
                    f"[0, {len(subnets) - 1}], got {c.subnet!r}",
                )
            used[c.subnet] += c.count
        for k, (n, s) in enumerate(zip(used, subnets, strict=True)):
            if n > s.n_uids:
                raise ParameterError(
                    ("population",),
                    f"the population puts {n} miners and validators on subnet {k}, which has "
                    f"n_uids = {s.n_uids} (scenario.subnets[{k}].n_uids)",
                )
        if self.warmup_epochs is not None and self.warmup_epochs >= self.epochs:
            raise ParameterError(
                ("warmup_epochs",),
                f"warmup_epochs must be smaller than epochs ({self.epochs}), "
                f"got {self.warmup_epochs}",
            )
        if self.profiles is not None and self.profiles.subnet >= len(subnets):
            raise ParameterError(
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

    Every declared parameter carries its range, description and source (``x-source``).
    Each cohort's ``params`` gets the parameters of its strategy and each population
    process's ``params`` its declared parameter set (an ``if``/``then`` per name).
    """
    schema = Experiment.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "tao-arena experiment"
    defs = schema.setdefault("$defs", {})
    cohort = defs["CohortSpec"]
    cohort["allOf"] = [_when("strategy", name, {"params": {
        "type": "object", "additionalProperties": False,
        "properties": {key: p.json_schema()
                       for key, p in strategy_class(name).all_params().items()}}})
        for name in strategy_names()]
    # shorthands accepted by "before" validators: seeds: 10 / [0, 3]; profiles: [name, ...]
    seeds = schema["properties"]["seeds"]
    schema["properties"]["seeds"] = {
        "anyOf": [{"$ref": "#/$defs/SeedSpec"},
                  {"type": "integer", "minimum": 1, "description": "seed count"},
                  {"type": "array", "items": {"type": "integer", "minimum": 0},
                   "description": "seed indices"}],
        **{k: v for k, v in seeds.items() if k not in ("$ref", "anyOf", "allOf")},
    }
    profiles = defs["ProfilesSpec"]
    for role in ROLES:
        prop = profiles["properties"][role]
        prop["items"] = {"anyOf": [{"type": "string", "enum": strategy_names()},
                                   prop["items"]]}
    from experiments.wiring import dynamics_registry

    names = sorted(dynamics_registry())
    dynamics = defs["DynamicsSpec"]
    dynamics["properties"]["process"]["enum"] = names
    rules = []
    for name in names:
        sub = TypeAdapter(dynamics_registry()[name].Params).json_schema(
            ref_template="#/$defs/{model}")
        defs.update(sub.pop("$defs", {}))
        rules.append(_when("process", name, {"params": sub}))
    dynamics["allOf"] = rules
    return schema


def _when(key: str, name: str, then: dict[str, Any]) -> dict[str, Any]:
    return {"if": {"properties": {key: {"const": name}}, "required": [key]},
            "then": {"properties": then}}


def model_at(loc: tuple[str | int, ...]) -> Any:
    """The section model at key path ``loc`` (``None`` where the path leaves the models)."""
    return _model_at(Experiment, loc)
