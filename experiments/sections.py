"""The scenario sections of an experiment file, and pydantic errors in the files' words.

The scenario of an experiment file *is* the world's parameter sets (``world.params``,
``world.yuma``): every key, default, range and description is the world's declaration
(``world.parameters``). Only what a file adds is declared here: ``price.series_file`` (a
CSV the loader reads into ``series_usd``). To add a key that only files have, subclass
the world's set here as ``PriceSpec`` does, list the subclass in ``_WORLD_OF``, and use it
in ``ScenarioSpec``; :func:`to_world` drops the file-only keys.

Strategy parameters (``population[i].params``) are checked against the registry's
declarations (``agents.base.Param`` is ``world.parameters.Param``), with their messages.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import Field, TypeAdapter, model_validator

from world.eras import ERA_NAMES, era_variants, fill_scenario
from world.parameters import ParameterError, parameters, section
from world.params import NetworkParams, PriceParams, SubnetParams

__all__ = ["PriceSpec", "ScenarioSpec", "SubnetSpec", "check_strategy_params", "describe_error",
           "fields_of", "scenario", "short_repr", "to_world"]


@parameters("price")
class PriceSpec(PriceParams):
    """The TAO/USD price path (MODEL.md section 4), or a CSV file of it (``series_file``)."""

    series_file: str | None = Field(
        default=None,
        description="CSV of TAO/USD per epoch (column price_usd, or a single column), "
        "relative to the experiment file; read into series_usd when the file is loaded",
    )

    @model_validator(mode="after")
    def _series_file_needs_series(self) -> PriceSpec:
        if self.series_file is not None and self.kind != "series":
            raise ParameterError("series_file", "series_file is only used with kind 'series', "
                                 f"got kind {self.kind!r}")
        return self


@parameters("subnet")
class SubnetSpec(SubnetParams):
    """One subnet's hyperparameters (MODEL.md section 3 defaults), as a file gives them."""


@parameters("network")
class ScenarioSpec(NetworkParams):
    """The scenario: the world's ``NetworkParams`` with the keys files add."""

    subnets: tuple[SubnetSpec, ...] = section(lambda: (SubnetSpec(),), "the subnets")
    price: PriceSpec = section(PriceSpec, "the TAO/USD price path")

    @model_validator(mode="before")
    @classmethod
    def _era_defaults(cls, data: Any) -> Any:
        """Fill in the rules of the scenario's era (``era``, ``era_variant``) that the file
        does not give (``world.eras.fill_scenario``): an era sets the defaults, any value
        given in the file overrides its rule (MODEL.md section 9)."""
        if not isinstance(data, dict):
            return data
        era, variant = data.get("era", "dtao"), data.get("era_variant")
        if era not in ERA_NAMES or not (variant is None or isinstance(variant, str)):
            return data  # the field checks report it
        if variant is not None and variant not in era_variants(era):
            return data
        return fill_scenario(data, era, variant)

    def to_world(self) -> NetworkParams:
        """The world's parameters of this scenario."""
        return to_world(self)  # type: ignore[no-any-return]


def scenario(data: dict[str, Any]) -> ScenarioSpec:
    """The scenario section of a file (or of a resolved config), validated."""
    return TypeAdapter(ScenarioSpec).validate_python(data)


_WORLD_OF: dict[type, type] = {
    ScenarioSpec: NetworkParams, SubnetSpec: SubnetParams, PriceSpec: PriceParams,
}


def to_world(value: Any) -> Any:
    """A file's section as the world's parameter set (file-only keys dropped), recursively."""
    world = _WORLD_OF.get(type(value))
    if world is not None:
        return world(**{f.name: to_world(getattr(value, f.name))
                        for f in dataclasses.fields(world)})
    if isinstance(value, tuple):
        return tuple(to_world(v) for v in value)
    return value


def fields_of(cls: Any) -> dict[str, Any] | None:
    """The fields of a pydantic model or pydantic dataclass (None for anything else)."""
    return getattr(cls, "__pydantic_fields__", None) if isinstance(cls, type) else None


# ---------------------------------------------------------------------------------------
# Strategy parameters
# ---------------------------------------------------------------------------------------


def strategy_class(name: str) -> Any:
    """The strategy registered as ``name``; ``ValueError`` lists the allowed names."""
    from agents.catalog import get

    return get(name)


def strategy_names() -> list[str]:
    """Every registered strategy name, sorted."""
    from agents.catalog import REGISTRY

    return sorted(REGISTRY)


def check_strategy_params(strategy: str, params: dict[str, Any]) -> dict[str, float]:
    """Every parameter of ``strategy`` with defaults filled, as the floats its columns hold
    (an option as its index); ``ParameterError`` names a bad or unknown key and what is
    allowed."""
    spec = strategy_class(strategy).all_params()
    for key in params:
        if key not in spec:
            raise ParameterError(("params", key), f"{strategy} has no parameter {key!r}; "
                                 f"allowed: {', '.join(sorted(spec)) or 'none'}")
    out: dict[str, Any] = {}
    for key, p in spec.items():
        try:
            out[key] = p.validate(strategy, key, params.get(key, p.default))
        except ValueError as err:
            raise ParameterError(("params", key), str(err)) from None
    return out


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------

Loc = tuple[str | int, ...]


def short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_error(error: dict[str, Any], root: Any) -> tuple[Loc, str]:
    """One pydantic error (``ValidationError.errors()`` item) as ``(key path, message)``.

    Declared parameters and checks across them carry their own message (``Param.message``,
    ``ParameterError``, which also names the key it blames); the rest say what is allowed
    from the section models (``root`` is the model the path starts from).
    """
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    cause = (error.get("ctx") or {}).get("error")
    if kind == "parameter":
        msg = error["msg"]
    elif isinstance(cause, ParameterError):
        loc, msg = loc + cause.path, str(cause)
    elif isinstance(cause, BaseException):
        msg = str(cause)
    elif kind in ("extra_forbidden", "unexpected_keyword_argument"):
        parent = fields_of(model_at(root, loc[:-1]))
        allowed = ", ".join(parent) if parent else "none"
        msg = f"unknown key {loc[-1]!r}; allowed here: {allowed}"
    elif kind in ("missing", "missing_keyword_argument"):
        msg = "required key is missing"
    elif kind in ("dataclass_type", "model_type", "dict_type"):
        keys = fields_of(model_at(root, loc))
        what = f" with keys among {', '.join(keys)}" if keys else ""
        msg = f"must be a mapping{what}, got {short_repr(error.get('input'))}"
    else:
        msg = f"{error['msg']}, got {short_repr(error.get('input'))}"
    # drop pydantic's union-branch markers (e.g. 'int', 'list[...]') from locations
    loc = tuple(k for k in loc if not (isinstance(k, str) and ("[" in k or "]" in k)
                                       or k in ("int", "float", "str", "bool", "none")))
    return loc, msg


def _inner_model(annotation: Any) -> Any:
    """The model or parameter set inside ``annotation`` (through tuples, lists, optionals)."""
    if fields_of(annotation) is not None:
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        inner = _inner_model(arg)
        if inner is not None:
            return inner
    return None


def model_at(root: Any, loc: Loc) -> Any:
    """The section model at key path ``loc`` below ``root`` (None where the path leaves
    the models)."""
    cls: Any = root
    for key in loc:
        if isinstance(key, int):
            continue
        fields = fields_of(cls)
        if not fields or key not in fields:
            return None
        cls = _inner_model(fields[key].annotation)
        if cls is None:
            return None
    return cls
