"""Uncertain parameters: priors over a scenario's parameters, drawn once per run (issue 14).

An experiment file may declare ``uncertain:``, a mapping from a parameter path (the
notation of ``sweep:``: ``price.initial_usd``, ``subnets.0.yuma.kappa``,
``population.2.params.quality``) to a distribution (MODEL.md section 11: a seed then
samples a plausible world, not only the noise of one fixed world)::

    uncertain:
      price.initial_usd: {dist: uniform, low: 235, high: 314}
      population.2.params.quality: {dist: beta, a: 8, b: 3, per_agent: true}

Distributions (``Prior.ppf`` is each one's inverse CDF):

- ``{dist: uniform, low, high}``; ``{dist: loguniform, low, high}`` (0 < low < high);
- ``{dist: normal, mean, sd}``, truncated to ``[low, high]`` when either is given;
- ``{dist: beta, a, b}`` on [0, 1], scaled to ``[low, high]`` when both are given;
- ``{dist: triangular, low, mode, high}``;
- ``{dist: choice, values: [...]}`` (equally likely; numbers, strings or booleans);
- ``{dist: pareto, alpha, scale}`` (minimum ``scale``, tail index ``alpha``; optionally
  truncated at ``high``): heavy-tailed stakes.

``per_agent: true`` (only for a cohort's parameter, ``population.<i>.params.<name>``) draws
one value per agent of the cohort instead of one for the whole cohort: heterogeneous
miners' qualities, validators' capabilities, Pareto stakes. The model's builder gives
them to the cohort's agents in order (``experiments.wiring.model_arguments``).

Draws. Every prior has its own stream, ``SeedSequence(run seed, spawn_key=(PRIOR_STREAM,
crc32(path)))``: disjoint from the model's streams (``Network`` spawns children of the run
seed with one-element keys) and from the other priors', so adding or removing an uncertain
parameter changes neither the model's randomness nor the other parameters' draws. A
value is ``ppf(u)`` for ``u`` uniform from that stream (per agent: the first ``count``
values), so every sweep cell and strategy profile of a seed index samples the same world
(common random numbers), and a sensitivity design (``experiments.sensitivity``) maps its
unit-cube points through the same ``ppf``. Values at an integer parameter are rounded.
"""

from __future__ import annotations

import copy
import math
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

PRIOR_STREAM = 0x5052494F  # "PRIO": the first spawn-key word of every prior's stream
UNBOUNDED_Q = 1e-6  # quantiles checked at load time where a prior's support is unbounded

# dist -> (required keys, optional keys); ``per_agent`` is allowed everywhere
DISTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "uniform": (("low", "high"), ()),
    "loguniform": (("low", "high"), ()),
    "normal": (("mean", "sd"), ("low", "high")),
    "beta": (("a", "b"), ("low", "high")),
    "triangular": (("low", "mode", "high"), ()),
    "choice": (("values",), ()),
    "pareto": (("alpha", "scale"), ("high",)),
}


class PriorError(ValueError):
    """A refused prior; ``key`` is the key of the distribution that is wrong (or None)."""

    def __init__(self, key: str | None, message: str) -> None:
        super().__init__(message)
        self.key = key


def _allowed(dist: str) -> str:
    req, opt = DISTS[dist]
    text = ", ".join(req)
    extra = [*opt, "per_agent"]
    return f"{dist} takes {text} (optional: {', '.join(extra)})"


def _number(dist: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PriorError(key, f"{dist}: {key} must be a finite number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Prior:
    """One uncertain parameter: its path as written, parsed, and its distribution."""

    path: str
    loc: tuple[str | int, ...]
    dist: str
    args: dict[str, Any] = field(default_factory=dict)
    per_agent: bool = False

    # -- the distribution ------------------------------------------------------------------
    def _frozen(self) -> Any:
        a = self.args
        if self.dist == "normal":
            lo, hi = a.get("low", -math.inf), a.get("high", math.inf)
            return stats.truncnorm((lo - a["mean"]) / a["sd"], (hi - a["mean"]) / a["sd"],
                                   loc=a["mean"], scale=a["sd"])
        if self.dist == "beta":
            lo, hi = a.get("low", 0.0), a.get("high", 1.0)
            return stats.beta(a["a"], a["b"], loc=lo, scale=hi - lo)
        if self.dist == "triangular":
            width = a["high"] - a["low"]
            return stats.triang((a["mode"] - a["low"]) / width, loc=a["low"], scale=width)
        if self.dist == "pareto":
            return stats.pareto(a["alpha"], scale=a["scale"])
        return None

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The inverse CDF at ``u`` in [0, 1] (for ``choice``: the values, as objects)."""
        u = np.asarray(u, dtype=np.float64)
        a = self.args
        if self.dist == "uniform":
            return a["low"] + u * (a["high"] - a["low"])
        if self.dist == "loguniform":
            lo, hi = math.log(a["low"]), math.log(a["high"])
            return np.exp(lo + u * (hi - lo))
        if self.dist == "choice":
            values = a["values"]
            idx = np.minimum((u * len(values)).astype(np.int64), len(values) - 1)
            return np.array([values[i] for i in idx], dtype=object)
        frozen = self._frozen()
        if self.dist == "pareto" and "high" in a:
            u = u * frozen.cdf(a["high"])  # truncated at high
        return frozen.ppf(u)

    def support(self) -> tuple[Any, Any]:
        """The smallest and largest values a draw can take (unbounded sides at the
        ``UNBOUNDED_Q`` quantiles), for the load-time check."""
        if self.dist == "choice":
            return self.args["values"][0], self.args["values"][-1]
        lo, hi = self.ppf(np.array([0.0, 1.0]))
        if not math.isfinite(lo):
            lo = float(self.ppf(np.array([UNBOUNDED_Q]))[0])
        if not math.isfinite(hi):
            hi = float(self.ppf(np.array([1.0 - UNBOUNDED_Q]))[0])
        return float(lo), float(hi)

    def describe(self) -> dict[str, Any]:
        """The prior as written (for the manifest and sensitivity.json)."""
        out: dict[str, Any] = {"dist": self.dist, **self.args}
        if self.per_agent:
            out["per_agent"] = True
        return out


def parse_prior(path: str, spec: Any) -> Prior:
    """A ``Prior`` from one entry of ``uncertain:``; ``PriorError`` says what is allowed."""
    from experiments.schema import parse_path

    try:
        loc = parse_path(path)
    except ValueError as err:
        raise PriorError(None, str(err)) from None
    names = ", ".join(DISTS)
    if not isinstance(spec, dict):
        raise PriorError(None, f"a distribution is a mapping such as {{dist: uniform, low: 0, "
                               f"high: 1}}; dist is one of {names}; got {spec!r}")
    dist = spec.get("dist")
    if dist not in DISTS:
        raise PriorError("dist", f"dist must be one of {names}; got {dist!r}")
    req, opt = DISTS[dist]
    for key in spec:
        if key not in (*req, *opt, "dist", "per_agent"):
            raise PriorError(key, f"unknown key {key!r}: {_allowed(dist)}")
    for key in req:
        if key not in spec:
            raise PriorError(key, f"{key} is missing: {_allowed(dist)}")
    per_agent = spec.get("per_agent", False)
    if not isinstance(per_agent, bool):
        raise PriorError("per_agent", f"per_agent must be true or false, got {per_agent!r}")
    if per_agent and not (len(loc) == 4 and loc[0] == "population" and loc[2] == "params"):
        raise PriorError("per_agent", "per_agent applies to a cohort's parameter "
                                      "(population.<i>.params.<name>), not to " + path)
    if dist == "choice":
        values = spec["values"]
        if not isinstance(values, list) or not values or not all(
                isinstance(v, bool | int | float | str) for v in values):
            raise PriorError("values", "choice: values must be a non-empty list of numbers, "
                                       f"strings or booleans; got {values!r}")
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            raise PriorError("values", "choice: values must be finite")
        return Prior(path, loc, dist, {"values": list(values)}, per_agent)
    args = {k: _number(dist, k, spec[k]) for k in (*req, *opt) if k in spec}
    _check_args(dist, args)
    return Prior(path, loc, dist, args, per_agent)


def _check_args(dist: str, a: dict[str, float]) -> None:
    if "low" in a and "high" in a and not a["low"] < a["high"]:
        raise PriorError("high", f"{dist}: low must be smaller than high, got low = {a['low']}"
                                 f", high = {a['high']}")
    if dist == "loguniform" and a["low"] <= 0:
        raise PriorError("low", f"loguniform: low must be > 0, got {a['low']}")
    if dist == "normal":
        if a["sd"] <= 0:
            raise PriorError("sd", f"normal: sd must be > 0, got {a['sd']}")
        lo, hi = a.get("low", -math.inf), a.get("high", math.inf)
        if stats.norm.cdf(hi, a["mean"], a["sd"]) - stats.norm.cdf(lo, a["mean"], a["sd"]) < 1e-9:
            raise PriorError("mean", f"normal: the truncation [{lo}, {hi}] holds no probability "
                                     f"of N({a['mean']}, {a['sd']})")
    if dist == "beta":
        for k in ("a", "b"):
            if a[k] <= 0:
                raise PriorError(k, f"beta: {k} must be > 0, got {a[k]}")
        if ("low" in a) != ("high" in a):
            raise PriorError("low" if "low" not in a else "high",
                             "beta: give both low and high to scale it, or neither")
    if dist == "triangular" and not a["low"] <= a["mode"] <= a["high"]:
        raise PriorError("mode", f"triangular: need low <= mode <= high, got {a['low']}, "
                                 f"{a['mode']}, {a['high']}")
    if dist == "pareto":
        for k in ("alpha", "scale"):
            if a[k] <= 0:
                raise PriorError(k, f"pareto: {k} must be > 0, got {a[k]}")
        if "high" in a and a["high"] <= a["scale"]:
            raise PriorError("high", f"pareto: high must exceed scale ({a['scale']}), "
                                     f"got {a['high']}")


def check_priors(value: dict[str, Any]) -> dict[str, Any]:
    """The ``uncertain:`` mapping, checked (the schema's validator). Raises
    ``ParameterError`` at ``uncertain.<path>[.<key>]`` naming what is allowed."""
    from world.parameters import ParameterError

    seen: dict[tuple[str | int, ...], str] = {}
    for path, spec in value.items():
        try:
            prior = parse_prior(path, spec)
        except PriorError as err:
            sub = (path,) if err.key is None else (path, err.key)
            raise ParameterError(sub, f"{path}: {err}") from None
        for other, name in seen.items():
            if prior.loc[: len(other)] == other or other[: len(prior.loc)] == prior.loc:
                raise ParameterError((path,), f"uncertain path {path!r} overlaps "
                                                 f"{name!r}; each parameter has one prior")
        seen[prior.loc] = path
    return value


def priors_of(config: dict[str, Any]) -> list[Prior]:
    """The priors of a resolved experiment config (in file order)."""
    return [parse_prior(p, s) for p, s in (config.get("uncertain") or {}).items()]


# ---------------------------------------------------------------------------------------
# Draws
# ---------------------------------------------------------------------------------------


def canonical(loc: tuple[str | int, ...]) -> str:
    """A path's canonical spelling (``scenario.`` prefix included): its stream's name."""
    return ".".join(map(str, loc))


def stream(seed: int, prior: Prior) -> np.random.Generator:
    """The dedicated random stream of ``prior`` in the run of ``seed`` (module docstring)."""
    key = zlib.crc32(canonical(prior.loc).encode())
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(int(seed), spawn_key=(PRIOR_STREAM, key))))


def get_at(config: Any, loc: tuple[str | int, ...]) -> Any:
    """The value at ``loc`` of a resolved config; ``KeyError`` names the missing key."""
    node = config
    for depth, key in enumerate(loc):
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            raise KeyError(f"{canonical(loc)}: no {key!r} at {canonical(loc[:depth]) or 'top'}"
                           ) from None
    return node


def _python(value: Any, like: Any) -> Any:
    """A drawn value as the config holds it: rounded where the parameter is an integer."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(like, int) and not isinstance(like, bool) and isinstance(value, float):
        return int(round(value))
    return value


def column(prior: Prior, config: dict[str, Any], u: np.ndarray) -> list[Any]:
    """The parameter's values at quantiles ``u``, as the config holds them."""
    like = get_at(config, prior.loc)
    return [_python(v, like) for v in prior.ppf(u)]


def values_at(prior: Prior, config: dict[str, Any], u: np.ndarray) -> Any:
    """The parameter value(s) for quantiles ``u`` (a list per agent, else a scalar)."""
    values = column(prior, config, u)
    return values if prior.per_agent else values[0]


def draw(config: dict[str, Any], seed: int) -> dict[str, Any]:
    """Every prior's value in the run of ``seed``: ``{path: value}`` (per agent: a list of
    the cohort's ``count`` values)."""
    priors = priors_of(config)
    out: dict[str, Any] = {}
    for prior in priors:
        if not prior.per_agent:
            out[prior.path] = values_at(prior, config, stream(seed, prior).random(1))
    drawn = apply(config, out)  # a cohort's count may itself be drawn
    for prior in priors:
        if prior.per_agent:
            n = int(drawn["population"][prior.loc[1]]["count"])
            out[prior.path] = values_at(prior, config, stream(seed, prior).random(n))
    return {p.path: out[p.path] for p in priors}


def apply(config: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` with scalar ``values`` set at their paths and no
    ``uncertain:`` (per-agent values, lists, are left to ``per_agent``)."""
    from experiments.schema import parse_path

    out = copy.deepcopy(config)
    out["uncertain"] = {}
    for path, value in values.items():
        if isinstance(value, list):
            continue
        loc = parse_path(path)
        parent = get_at(out, loc[:-1])
        get_at(out, loc)  # the key exists
        parent[loc[-1]] = value
    return out


def per_agent(values: dict[str, Any]) -> dict[int, dict[str, list[Any]]]:
    """Per-agent values by cohort: ``{cohort index: {parameter: [one per agent]}}``, for
    ``experiments.wiring.build_model`` (the cohort's agents get them in order)."""
    from experiments.schema import parse_path

    out: dict[int, dict[str, list[Any]]] = {}
    for path, value in values.items():
        if isinstance(value, list):
            loc = parse_path(path)
            out.setdefault(int(loc[1]), {})[str(loc[3])] = value
    return out


def realise(config: dict[str, Any], seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's world: ``(config with its scalar priors drawn, every drawn value)``;
    ``per_agent(values)`` holds the rest for the model's builder."""
    if not config.get("uncertain"):
        return config, {}
    values = draw(config, seed)
    return apply(config, values), values


def recorded(values: dict[str, Any]) -> dict[str, Any]:
    """Drawn values as summary columns (``param:<path>``; per agent: their mean)."""
    out = {}
    for path, v in values.items():
        if isinstance(v, list):
            nums = [float(x) for x in v if isinstance(x, int | float)]
            out[f"param:{path}"] = float(np.mean(nums)) if nums else None
        else:
            out[f"param:{path}"] = v
    return out


# ---------------------------------------------------------------------------------------
# Load-time checks against the experiment
# ---------------------------------------------------------------------------------------


def check_against(config: dict[str, Any], cells: list[dict[str, Any]],
                  sweep_paths: list[str]) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems of ``config``'s priors: ``[(location, message)]``.

    A path must exist in every cell, must not be swept as well, and the extremes of its
    support must be accepted where it lands (so a draw cannot be refused at run time).
    """
    from experiments.loader import validate
    from experiments.schema import parse_path

    problems: list[tuple[tuple[str | int, ...], str]] = []
    swept = {parse_path(p): p for p in sweep_paths}
    for prior in priors_of(config):
        where = ("uncertain", prior.path)
        before = len(problems)
        for loc, name in swept.items():
            if prior.loc[: len(loc)] == loc or loc[: len(prior.loc)] == prior.loc:
                problems.append((where, f"{prior.path} is also swept ({name}); a parameter is "
                                        "either swept or uncertain"))
        try:
            for cell in cells or [config]:
                get_at(cell, prior.loc)
        except KeyError as err:
            problems.append((where, f"no such parameter: {err.args[0]}"))
            continue
        if len(problems) > before:
            continue
        trial = {k: v for k, v in config.items() if k not in ("sweep", "profiles")}
        like = get_at(trial, prior.loc)
        ends = prior.args["values"] if prior.dist == "choice" else prior.support()
        for end in ends:
            value = _python(end, like)  # per agent: every agent at that end
            _, issues = validate(apply(trial, {prior.path: value}))
            if issues:
                shown = value
                every = " (every agent)" if prior.per_agent else ""
                hint = ("; truncate it with low and high" if prior.dist in ("normal", "pareto")
                        else "")
                problems.append((where, f"the prior reaches {shown!r}{every}, which is "
                                        f"refused: {issues[0].render()}{hint}"))
                break
    return problems
