"""One way to declare and validate a parameter: name, type, default, range, meaning, source.

A :class:`Param` is the declaration. It is used two ways, with the same checks and the
same error wording everywhere:

* as a field of a parameter set, a frozen pydantic dataclass made with
  :func:`parameters` (the world's ``NetworkParams`` ... ``YumaParams``, the population
  processes' parameters): ``kappa: float = param(0.5, 0, 1, "doc", source="...")``. The
  field's name and annotation give the name and type; pydantic builds the validator and
  the JSON Schema from the declaration (:meth:`Param.__get_pydantic_core_schema__`,
  :meth:`Param.__get_pydantic_json_schema__`), so an experiment file, the Python API and
  an editor's schema refuse the same values with the same message;
* in a dictionary of declarations (a strategy's ``params``), validated by
  :meth:`Param.validate`, whose values live in float columns.

Messages read ``<owner>.<name> must be <what is allowed> (<meaning>), got <value>``; the
owner is the parameter set's section name (``yuma``, ``price``, ``Exit``) or the
strategy's registry name. Checks across parameters raise :class:`ParameterError`, which
carries the key path of the field it blames so that an experiment file's error points at
that key.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import pydantic
from pydantic import ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError, core_schema

__all__ = ["Param", "ParameterError", "declarations", "param", "parameters"]

Kind = Literal["number", "integer", "bool", "choice", "numbers", "subset"]
_T = TypeVar("_T")


class ParameterError(ValueError):
    """A ``ValueError`` that names the key path (below its parameter set) it blames.

    Raised by checks across parameters (e.g. ``alpha_low <= alpha_high``); an experiment
    file's error is then located at ``path`` inside the section that raised it.
    """

    def __init__(self, path: tuple[str | int, ...] | str, message: str) -> None:
        super().__init__(message)
        self.path: tuple[str | int, ...] = (path,) if isinstance(path, str) else tuple(path)


def _number(value: float) -> str:
    """A bound as written: whole numbers in full (``1000000``), others as ``%g``."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def _is_number(value: Any) -> bool:
    """Real numbers, numpy's included; not booleans."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (``np.int64(3)`` -> ``3``)."""
    if _is_number(value) and not isinstance(value, int | float):
        return value.item() if hasattr(value, "item") else float(value)
    return value


@dataclasses.dataclass(frozen=True)
class Param:
    """A parameter's declaration: default, allowed range, meaning (with units) and source.

    ``low``/``high`` bound a number (``None``: unbounded; ``low_open``/``high_open``
    exclude the bound itself); ``integer`` asks for a whole number; ``choices`` names the
    allowed options (a strategy stores the chosen option's index as a float); ``source``
    says where the default comes from (a MODEL.md section, a subtensor function, a
    measurement). ``kind`` and ``nullable`` are filled from the field's type when the
    declaration is a field of a parameter set.
    """

    default: Any
    low: float | None = None
    high: float | None = None
    doc: str = ""
    integer: bool = False
    choices: tuple[str, ...] = ()
    source: str = ""
    low_open: bool = False
    high_open: bool = False
    kind: Kind | None = None
    nullable: bool = False

    # -- what is allowed ----------------------------------------------------------------
    @property
    def resolved_kind(self) -> Kind:
        """The kind of value: from the field's type, else from ``choices``/``integer``."""
        if self.kind is not None:
            return self.kind
        return "choice" if self.choices else "integer" if self.integer else "number"

    def bounds(self) -> str:
        """The range as an interval, e.g. ``[0, 1]`` or ``(0, inf]``."""
        lo = "-inf" if self.low is None else _number(self.low)
        hi = "inf" if self.high is None else _number(self.high)
        return f"{'(' if self.low_open else '['}{lo}, {hi}{')' if self.high_open else ']'}"

    def allowed(self) -> str:
        """What the parameter accepts, in words (``an integer in [1, inf]``)."""
        kind = self.resolved_kind
        text = {
            "number": f"a number in {self.bounds()}",
            "integer": f"an integer in {self.bounds()}",
            "bool": "true or false",
            "choice": "one of " + ", ".join(map(repr, self.choices)),
            "numbers": f"a list of numbers in {self.bounds()}",
            "subset": "a non-empty list of " + ", ".join(map(repr, self.choices)),
        }[kind]
        return text + (" or null" if self.nullable else "")

    def message(self, owner: str, name: str, value: Any) -> str:
        """The one error message for a refused value of this parameter."""
        meaning = f" ({self.doc})" if self.doc else ""
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return f"{owner}.{name} must be {self.allowed()}{meaning}, got {shown}"

    def _in_range(self, value: Any) -> bool:
        if not (_is_number(value) and math.isfinite(value)):
            return False
        if self.low is not None and not (value > self.low if self.low_open else value >= self.low):
            return False
        if self.high is not None and not (
            value < self.high if self.high_open else value <= self.high
        ):
            return False
        return not (self.resolved_kind == "integer" and not float(value).is_integer())

    def accepts(self, value: Any) -> bool:
        """True if ``value`` is allowed (a choice by name or, for strategies, by index)."""
        if value is None:
            return self.nullable
        kind = self.resolved_kind
        if kind == "bool":
            return isinstance(value, bool)
        if kind == "choice":
            if isinstance(value, str):
                return value in self.choices
            return (self.kind is None and _is_number(value) and float(value).is_integer()
                    and 0 <= value < len(self.choices))
        if kind == "numbers":
            return isinstance(value, list | tuple) and all(self._in_range(v) for v in value)
        if kind == "subset":
            return (isinstance(value, list | tuple) and len(value) > 0
                    and all(isinstance(v, str) and v in self.choices for v in value))
        if kind == "integer" and self.kind == "integer" and not isinstance(value, numbers.Integral):
            return False  # a field typed int takes whole numbers only as integers
        return self._in_range(value)

    def validate(self, owner: str, name: str, value: Any) -> float:
        """A strategy parameter's value as a float (a choice as its index), or
        ``ValueError`` with :meth:`message`."""
        if not self.accepts(value):
            raise ValueError(self.message(owner, name, value))
        if self.choices and isinstance(value, str):
            return float(self.choices.index(value))
        return float(value)

    def show(self, value: Any = None) -> str:
        """``value`` (default: the default) as a user writes it: a name for a choice."""
        v = self.default if value is None else value
        if self.choices and _is_number(v):
            return self.choices[int(v)]
        if isinstance(v, str):
            return v
        if v is None:
            return "null"
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, tuple | list):
            return "[" + ", ".join(x if isinstance(x, str) else f"{x:g}" for x in v) + "]"
        return f"{v:g}"

    # -- JSON Schema -----------------------------------------------------------------------
    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema keywords of this declaration: range, meaning and source."""
        out: dict[str, Any] = {}
        if self.doc:
            out["description"] = self.doc
        if self.source:
            out["x-source"] = self.source
        kind = self.resolved_kind
        if kind in ("number", "integer", "numbers"):
            rng: dict[str, Any] = {}
            if self.low is not None:
                rng["exclusiveMinimum" if self.low_open else "minimum"] = self.low
            if self.high is not None:
                rng["exclusiveMaximum" if self.high_open else "maximum"] = self.high
            if kind == "numbers":
                out["items"] = {"type": "number", **rng}
            else:
                out.update(rng)
        if kind == "choice" and self.kind is None:  # a strategy's option: name or index
            out["anyOf"] = [{"enum": list(self.choices)},
                            {"type": "integer", "minimum": 0,
                             "maximum": len(self.choices) - 1}]
        elif kind == "choice":
            out["enum"] = list(self.choices)
        elif kind == "subset":
            out["items"] = {"enum": list(self.choices)}
            out["minItems"] = 1
        if self.kind is None:  # standalone (a strategy's): the type too
            if kind in ("number", "integer"):
                out["type"] = kind
            out["default"] = self.default
        return out

    # -- as a pydantic field -----------------------------------------------------------------
    def bind(self, annotation: Any) -> Param:
        """This declaration with ``kind``/``nullable`` (and choices) from a field's type."""
        nullable = False
        args = typing.get_args(annotation)
        if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
            nullable = True
            rest = [a for a in args if a is not type(None)]
            annotation = rest[0] if len(rest) == 1 else annotation
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        choices = self.choices
        kind: Kind
        if annotation is bool:
            kind = "bool"
        elif annotation is int:
            kind = "integer"
        elif annotation is float:
            kind = "number"
        elif origin is Literal:
            kind, choices = "choice", tuple(str(a) for a in args)
        elif origin is tuple and len(args) == 2 and args[1] is Ellipsis and args[0] is float:
            kind = "numbers"
        elif (origin is tuple and len(args) == 2 and args[1] is Ellipsis
              and typing.get_origin(args[0]) is Literal):
            kind, choices = "subset", tuple(str(a) for a in typing.get_args(args[0]))
        else:
            raise TypeError(f"a Param cannot declare a field of type {annotation!r}")
        return dataclasses.replace(self, kind=kind, nullable=nullable, choices=choices,
                                   integer=kind == "integer")

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Validate with :meth:`accepts` (strict: no strings for numbers, no 1 for true),
        then by the field's type; a refusal carries :meth:`message`."""
        bound = self.bind(source)
        inner = handler(source)

        def check(value: Any, next_: Callable[[Any], Any], info: Any) -> Any:
            if bound.accepts(value):
                try:
                    return next_(_plain(value))
                except pydantic.ValidationError:
                    pass
            owner = (info.config or {}).get("title") or "parameter"
            raise PydanticCustomError("parameter", "{message}",
                                      {"message": bound.message(owner, info.field_name, value)})

        return core_schema.with_info_wrap_validator_function(check, inner)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        out = handler(schema)
        out.update(self.bind(_annotation_of(schema)).json_schema())
        return out


def _annotation_of(schema: Any) -> Any:
    """The Python type a field's core schema validates (for :meth:`Param.bind` in JSON
    Schema generation, where only the schema is at hand)."""
    while schema.get("type") in ("function-wrap", "default", "nullable"):
        if schema["type"] == "nullable":
            return _annotation_of(schema["schema"]) | None
        schema = schema["schema"]
    kind = schema.get("type")
    if kind == "literal":
        return Literal[tuple(schema["expected"])]
    if kind == "tuple":
        items = schema.get("items_schema") or [{}]
        if items[0].get("type") == "literal":
            return tuple[Literal[tuple(items[0]["expected"])], ...]  # type: ignore[misc]
        return tuple[float, ...]
    return {"bool": bool, "int": int, "float": float}[kind]


def param(
    default: Any,
    low: float | None = None,
    high: float | None = None,
    doc: str = "",
    *,
    source: str = "",
    low_open: bool = False,
    high_open: bool = False,
) -> Any:
    """A field of a parameter set declared by a :class:`Param` (type from the annotation)."""
    declared = Param(default, low, high, doc, source=source, low_open=low_open,
                     high_open=high_open)
    info: FieldInfo = Field(default=default, description=doc or None)
    info.metadata.append(declared)
    return info


def section(default_factory: Callable[[], Any], doc: str) -> Any:
    """A field holding a nested parameter set (e.g. a subnet's ``yuma``)."""
    return Field(default_factory=default_factory, description=doc)


def parameters(title: str) -> Callable[[type[_T]], type[_T]]:
    """Class decorator: a frozen pydantic dataclass of declared parameters.

    ``title`` is the section name messages use (``yuma.kappa must be ...``). Unknown keys
    are refused; NaN and infinity are refused by every declared number.
    """
    config = ConfigDict(title=title, extra="forbid", allow_inf_nan=False)

    def wrap(cls: type[_T]) -> type[_T]:
        return pydantic.dataclasses.dataclass(frozen=True, config=config)(cls)

    return wrap


def declarations(cls: type) -> dict[str, Param]:
    """Every declared parameter of a parameter set, bound to its field's type, by name."""
    out: dict[str, Param] = {}
    for name, info in cls.__pydantic_fields__.items():  # type: ignore[attr-defined]
        for meta in info.metadata:
            if isinstance(meta, Param):
                out[name] = meta.bind(info.annotation)
    return out


def sections(cls: type) -> dict[str, type]:
    """The nested parameter sets of a parameter set (``yuma``, ``subnets``, ...), by name."""
    out: dict[str, type] = {}
    for name, info in cls.__pydantic_fields__.items():  # type: ignore[attr-defined]
        tp = info.annotation
        args = typing.get_args(tp)
        inner = args[0] if typing.get_origin(tp) is tuple and args else tp
        if isinstance(inner, type) and hasattr(inner, "__pydantic_fields__"):
            out[name] = inner
    return out


def title_of(cls: type) -> str:
    """A parameter set's section name (``yuma``)."""
    return str(cls.__pydantic_config__.get("title", cls.__name__))  # type: ignore[attr-defined]
