"""Reading experiment files safely and reporting what is wrong with them.

A file is refused before anything runs. ``ConfigError`` carries one ``Issue`` per
problem: the key path (``population[2].strategy``), what was wrong and what is allowed;
``str(err)`` prefixes each with the file name. The CLI prints it and exits with code 2.

YAML is read with a guarded ``yaml.SafeLoader`` (nothing in a file is ever executed):
the file is at most ``MAX_FILE_BYTES``; anchors and aliases are allowed (``<<:`` merges
are handy for repeated blocks) but at most ``MAX_ALIASES`` of them, recursive ones are
refused, and the document must expand to at most ``MAX_NODES`` nodes, so a "billion
laughs" file is refused before anything walks it; nesting is limited to ``MAX_DEPTH``;
duplicate keys are refused (YAML would silently keep the last).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import math
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from experiments.schema import Experiment
from experiments.sections import describe_error, short_repr
from world.parameters import ParameterError

MAX_FILE_BYTES = 1 << 20  # 1 MiB: experiment files are small; anything bigger is a mistake
MAX_SERIES_BYTES = 64 << 20  # price series CSV
MAX_ALIASES = 64
MAX_NODES = 200_000
MAX_DEPTH = 64

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Issue:
    """One problem: where (a key path), and what (the message says what is allowed)."""

    loc: Loc
    message: str

    def render(self) -> str:
        where = format_loc(self.loc)
        return f"{where}: {self.message}" if where else self.message


class ConfigError(ValueError):
    """A refused experiment file: the file name and every issue found."""

    def __init__(self, source: str, issues: Sequence[Issue]) -> None:
        self.source = source
        self.issues = list(issues)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.source}: {i.render()}" for i in self.issues)


def format_loc(loc: Iterable[str | int]) -> str:
    """``("population", 2, "strategy")`` -> ``population[2].strategy``."""
    out = ""
    for key in loc:
        if isinstance(key, int):
            out += f"[{key}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            out += f".{key}" if out else key
        else:
            out += f"[{json.dumps(key)}]"
    return out


# ---------------------------------------------------------------------------------------
# YAML
# ---------------------------------------------------------------------------------------


class _YamlRefused(Exception):
    """The YAML guard refused a document."""

    def __init__(self, message: str, mark: Any = None) -> None:
        super().__init__(message)
        self.mark = mark


class GuardedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with limits on aliases, depth and duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _YamlRefused(
                    f"more than {MAX_ALIASES} YAML aliases (*name): refused as a possible "
                    "YAML bomb", self.peek_event().start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _YamlRefused(f"nested deeper than {MAX_DEPTH} levels",
                                   self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:  # noqa: D102
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                except TypeError:
                    raise _YamlRefused(f"a mapping key must be a plain value, got {key!r}",
                                       key_node.start_mark) from None
                if duplicate:
                    raise _YamlRefused(f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: Any) -> int:
    """Nodes of the document with every alias expanded (memoised; cycles refused)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(n: Any) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _YamlRefused("a recursive alias (a node containing itself)", n.start_mark)
        active.add(key)
        total = 1
        if isinstance(n, yaml.SequenceNode):
            total += sum(size(c) for c in n.value)
        elif isinstance(n, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in n.value)
        active.discard(key)
        sizes[key] = min(total, MAX_NODES + 1)
        return sizes[key]

    return size(node)


def _mark(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or ``ConfigError``."""
    source = str(path)
    try:
        st = path.stat()
    except OSError as err:
        raise ConfigError(source, [Issue((), f"cannot read the file: {err.strerror}")]) from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(source, [Issue((), "not a regular file")])
    if st.st_size > limit:
        raise ConfigError(source, [Issue((), f"the file is {st.st_size} bytes; at most "
                                             f"{limit} are allowed")])
    with path.open("rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ConfigError(source, [Issue((), f"the file is larger than {limit} bytes")])
    return data


def load_yaml(data: bytes, source: str) -> dict[str, Any]:
    """Parse one YAML document (a mapping) with the guarded safe loader."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(source, [Issue((), f"not UTF-8 text (byte {err.start}): an "
                                             "experiment file is YAML")]) from None
    if "\x00" in text:
        raise ConfigError(source, [Issue((), "not a text file (contains NUL bytes)")])
    loader = GuardedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(source, [Issue((), "the file is empty; an experiment needs at "
                                                 "least name and population")])
        n = _expanded_size(node)
        if n > MAX_NODES:
            raise _YamlRefused(f"the document expands to more than {MAX_NODES} nodes "
                               "(aliases): refused as a possible YAML bomb", node.start_mark)
        value = loader.construct_document(node)
    except _YamlRefused as err:
        raise ConfigError(source, [Issue((), f"{_mark(err.mark)}{err}")]) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        what = " ".join(x for x in (err.context, err.problem) if x)
        raise ConfigError(source, [Issue((), f"{_mark(mark)}not valid YAML: {what}")]) from None
    except yaml.YAMLError as err:
        raise ConfigError(source, [Issue((), f"not valid YAML: {err}")]) from None
    except RecursionError:
        raise ConfigError(source, [Issue((), "nested too deeply")]) from None
    finally:
        loader.dispose()
    if not isinstance(value, dict):
        kind = type(value).__name__
        raise ConfigError(source, [Issue((), f"the file must be a YAML mapping (keys such as "
                                             f"name, scenario, population), got a {kind}")])
    return value


# ---------------------------------------------------------------------------------------
# Validation errors -> issues
# ---------------------------------------------------------------------------------------


def issues_from_validation(err: ValidationError, prefix: Loc = ()) -> list[Issue]:
    """Pydantic errors as issues: locations completed, messages saying what is allowed
    (``experiments.sections.describe_error``: a declared parameter's own message)."""
    out = []
    for e in err.errors(include_url=False):
        loc, msg = describe_error(e, Experiment)
        out.append(Issue(prefix + loc, msg))
    return _dedupe(out)


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[Loc, str]] = set()
    out = []
    for i in issues:
        if (i.loc, i.message) not in seen:
            seen.add((i.loc, i.message))
            out.append(i)
    return out


# ---------------------------------------------------------------------------------------
# Price series files
# ---------------------------------------------------------------------------------------

_SERIES_COLUMNS = ("price_usd", "usd", "price", "close")


def read_series(path: Path) -> list[float]:
    """TAO/USD per epoch from a CSV: the column ``price_usd`` (or usd, price, close), or
    the only column; a header row is optional. ``ValueError`` says which line is wrong."""
    data = read_text(path, MAX_SERIES_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"{path}: the series file is empty")
    col = 0
    first = [c.strip().lower() for c in rows[0]]
    start = 0
    if not _is_number(first[0]) or len(first) > 1:
        names = [c for c in first]
        if any(n in _SERIES_COLUMNS for n in names):
            col = next(i for i, n in enumerate(names) if n in _SERIES_COLUMNS)
            start = 1
        elif len(first) == 1:
            start = 1  # a one-column file with a header of another name
        else:
            raise ValueError(f"{path}: the series file has several columns; name one of them "
                             f"{' or '.join(_SERIES_COLUMNS)}")
    values = []
    for line, row in enumerate(rows[start:], start=start + 1):
        cell = row[col].strip() if col < len(row) else ""
        if not _is_number(cell):
            raise ValueError(f"{path}: line {line}: {cell!r} is not a number")
        values.append(float(cell))
    if not values:
        raise ValueError(f"{path}: the series file has no values")
    return values


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------
# Validating an experiment (one cell)
# ---------------------------------------------------------------------------------------


@dataclass
class Inputs:
    """Files an experiment read besides itself (their sha256, for the manifest)."""

    files: dict[str, str] = field(default_factory=dict)
    series: dict[str, list[float]] = field(default_factory=dict)


def preprocess(raw: dict[str, Any], base_dir: Path, inputs: Inputs) -> list[Issue]:
    """Read the files a raw experiment names into it (the price series); issues found."""
    price = raw.get("scenario", {}) if isinstance(raw.get("scenario"), dict) else {}
    price = price.get("price") if isinstance(price.get("price"), dict) else None
    if price is None or price.get("series_file") is None:
        return []
    loc: Loc = ("scenario", "price", "series_file")
    name = price["series_file"]
    if not isinstance(name, str):
        return [Issue(loc, f"must be a file name (a string), got {short_repr(name)}")]
    if price.get("series_usd"):
        return [Issue(loc, "give series_file or series_usd, not both")]
    path = (base_dir / name) if not Path(name).is_absolute() else Path(name)
    if name not in inputs.series:
        try:
            inputs.series[name] = read_series(path)
        except ConfigError as err:
            return [Issue(loc, f"{path}: {i.message}") for i in err.issues]
        except ValueError as err:
            return [Issue(loc, str(err))]
        inputs.files[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    price["series_usd"] = list(inputs.series[name])
    return []


def validate(raw: dict[str, Any]) -> tuple[Experiment | None, list[Issue]]:
    """The experiment, or the issues that prevent it."""
    try:
        return Experiment.model_validate(raw), []
    except ValidationError as err:
        return None, issues_from_validation(err)


def dry_build(exp: Experiment) -> list[Issue]:
    """Build the world model once (seed 0), to catch what only the world checks."""
    from experiments.wiring import build_model

    try:
        build_model(exp, seed=0)
    except ParameterError as err:
        return [Issue(err.path, str(err))]
    except ValueError as err:
        return [Issue(("population",), str(err))]
    return []


def deep_copy(raw: dict[str, Any]) -> dict[str, Any]:
    """An independent copy of a raw document."""
    return copy.deepcopy(raw)
