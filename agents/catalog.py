"""The strategy registry: names used in experiment files -> strategy classes.

Importing this module imports every strategy module, so ``REGISTRY`` is complete.
``tao-arena strategies`` prints ``strategies_table()``; ``docs/strategies.md`` is
``strategies_markdown()`` (regenerate with ``python -m agents.catalog > docs/strategies.md``).
"""

from __future__ import annotations

import inspect

from agents import (  # noqa: F401  (they register)
    delegators,
    miners,
    owners,
    population,
    roots,
    validators,
)
from agents.base import CLASSIFIER_KEYS, REGISTRY, Param, Participant
from world.parameters import declarations, sections


def get(name: str) -> type[Participant]:
    """The strategy class registered as ``name``; ``ValueError`` lists the allowed names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown strategy {name!r}; allowed: {', '.join(sorted(REGISTRY))}"
        ) from None


def strategies_table() -> str:
    """A plain-text table of every strategy and its classifier, then each strategy's
    declared parameters."""
    cols = ["name", *CLASSIFIER_KEYS]
    rows = [[cls.name, *(str(cls.classifier[k]) for k in CLASSIFIER_KEYS)]
            for cls in sorted(REGISTRY.values(), key=lambda c: (c.role, c.name))]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    out += ["", "Parameters (default, what is allowed, meaning):"]
    for cls in sorted(REGISTRY.values(), key=lambda c: (c.role, c.name)):
        params = cls.all_params()
        width = max(len(k) for k in params)
        out += ["", cls.name]
        out += [f"  {k.ljust(width)}  {p.show():>9}  {p.allowed()}: {p.doc}"
                for k, p in params.items()]
    return "\n".join(out)


def strategies_markdown() -> str:
    """``docs/strategies.md``: every strategy, its classifier, parameters and docstring,
    and the population processes with theirs (all from their declarations)."""
    parts = ["# Strategies", "",
             "Generated from the registry by `python -m agents.catalog`; do not edit by hand.",
             ""]
    for role in ("miner", "validator", "delegator", "root"):
        parts += [f"## {role.capitalize()}s", ""]
        for cls in sorted((c for c in REGISTRY.values() if c.role == role),
                          key=lambda c: c.name):
            parts += [f"### `{cls.name}` ({cls.__name__})", "",
                      inspect.cleandoc(cls.__doc__ or ""), "",
                      "| classifier | value |", "|---|---|"]
            parts += [f"| {k} | {cls.classifier[k]} |" for k in CLASSIFIER_KEYS]
            parts += ["", *parameter_table(cls.all_params())]
            parts.append("")
    parts += ["## Population dynamics", "",
              "Appended to `model.dynamics` (`agents.population`); each runs after every epoch.",
              "An experiment file names them in `dynamics:` with these parameters.", ""]
    for dyn in (population.Entry, population.Exit, population.Imitation):
        parts += [f"### `{dyn.__name__}`", "", inspect.cleandoc(dyn.__doc__ or ""), "",
                  *parameter_table(declarations(dyn.Params))]
        for name, inner in sections(dyn.Params).items():
            parts += ["", f"Each of `{name}`:", "", *parameter_table(declarations(inner))]
        parts.append("")
    return "\n".join(parts)


def parameter_table(params: dict[str, Param]) -> list[str]:
    """Markdown rows of declared parameters: name, default, what is allowed, meaning and
    where the default comes from."""
    rows = ["| parameter | default | allowed | meaning | source |", "|---|---|---|---|---|"]
    rows += [f"| `{key}` | {p.show()} | {p.allowed()} | {p.doc} | {p.source} |"
             for key, p in params.items()]
    return rows


if __name__ == "__main__":
    print(strategies_markdown(), end="")
