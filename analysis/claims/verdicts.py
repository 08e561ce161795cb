"""Verdicts: a claim tested cell by cell and the cells combined into one verdict.

- **holds**: the claim's prediction is borne out in every tested cell;
- **does not hold**: it fails in every decisive cell;
- **holds in part**: it holds in some cells and fails in others; ``where`` says where
  (e.g. "holds for reveal_period <= 1; not for reveal_period >= 2");
- **inconclusive**: no cell is decisive (every interval straddles the threshold);
- **not run**: no results for the claim's experiment.

A cell is decisive when its 95% interval lies entirely on one side of the claim's
threshold. An interval of zero width (every seed gave the same number) is "no variation
across seeds": it says the seeds agree, not that the model is right, and decides nothing
by itself.

Each cell may also carry its effect per sampled world (seed index) and the threshold its
test reads, so that ``analysis.claims.worlds`` can say in what share of the worlds drawn
from the experiment's priors the claim holds, and which parameters decide it (MODEL.md
section 11). A verdict whose outcome is an identity of the model's rules (not an empirical
finding) carries ``follows_from_rules`` and the derivation; the report says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.results import ResultSet
from analysis.stats import Estimate, mean_ci

HOLDS, FAILS, PART, INCONCLUSIVE, NOT_RUN = (
    "holds", "does not hold", "holds in part", "inconclusive", "not run")


@dataclass
class CellTest:
    """The claim tested in one cell of a sweep.

    Attributes:
        coords: axis name -> value label of the cell (empty without a sweep).
        outcome: True (the claim holds here), False (it fails here), None (inconclusive).
        detail: the numbers behind the outcome, for the report.
        tested: False for cells outside the claim's premise (reported, not judged).
    """

    coords: dict[str, str]
    outcome: bool | None
    detail: str
    tested: bool = True
    effects: dict[int, float] = field(default_factory=dict)
    threshold: float = 0.0
    above: bool = True

    def holds_in(self, world: int) -> bool | None:
        """Whether the claim's prediction is borne out in one sampled world (seed index):
        its effect there beyond the threshold, as the cell's interval test reads it; None
        when the cell has no per-world effect for it."""
        v = self.effects.get(world)
        if v is None or not np.isfinite(v):
            return None
        return bool(v > self.threshold) if self.above else bool(v < self.threshold)


@dataclass
class Verdict:
    """A claim's verdict with the numbers behind it."""

    claim: int
    title: str
    status: str
    where: str
    numbers: list[str]
    experiments: list[str]
    cells: list[CellTest] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    era: str | None = None
    follows_from_rules: bool = False
    derivation: str = ""
    worlds: dict[str, object] = field(default_factory=dict)


def interval_test(est: Estimate, threshold: float, *, above: bool = True) -> bool | None:
    """True if the interval lies entirely above ``threshold`` (below if ``above=False``),
    False if entirely on the other side, None if it straddles it, has no interval (fewer
    than two seeds) or has no width (no variation across seeds: not decisive by itself)."""
    lo, hi = est.low, est.high
    if not (np.isfinite(lo) and np.isfinite(hi)) or not est.varies:
        return None
    if above:
        return True if lo > threshold else (False if hi < threshold else None)
    return True if hi < threshold else (False if lo > threshold else None)


def estimate(samples: Sequence[float] | np.ndarray) -> Estimate:
    """Mean of per-seed samples with its 95% interval (``analysis.stats.mean_ci``: Student-t
    below 20 seeds, BCa from 20; NaNs dropped)."""
    return mean_ci(samples)


def describe_region(cells: Sequence[CellTest], axes_order: Sequence[str]) -> str:
    """Where the claim holds, in words, from the tested cells' outcomes.

    One axis: "holds for X <= v" / "X >= v" when the cells where it holds form a prefix
    or suffix of the axis' values, else "holds for X in {...}". Several axes: one such
    phrase along the last axis for each combination of the others.
    """
    tested = [c for c in cells if c.tested]
    if not tested or not axes_order:
        return ""
    if all(c.outcome is True for c in tested):
        return f"in every cell tested ({len(tested)})"
    # an outcome that depends on one axis alone is described along that axis only
    for axis in [*axes_order[::-1]]:
        by_value: dict[str, set[bool | None]] = {}
        for c in tested:
            by_value.setdefault(c.coords.get(axis, ""), set()).add(c.outcome)
        if len(axes_order) > 1 and all(len(v) == 1 for v in by_value.values()) \
                and len(by_value) > 1:
            firsts = {}
            for c in tested:
                firsts.setdefault(c.coords.get(axis, ""), c)
            return _along(list(firsts.values()), axis)
    last = axes_order[-1]
    others = list(axes_order[:-1])
    groups: dict[tuple[str, ...], list[CellTest]] = {}
    for c in tested:
        groups.setdefault(tuple(c.coords.get(a, "") for a in others), []).append(c)
    phrases: dict[str, list[tuple[str, ...]]] = {}
    for key, grp in groups.items():
        phrases.setdefault(_along(grp, last), []).append(key)
    if not others:
        return "; ".join(phrases)
    parts = []
    for phrase, keys in phrases.items():
        if len(others) == 1:
            vals = [k[0] for k in keys]
            at = f"{others[0]} = {vals[0]}" if len(vals) == 1 else \
                f"{others[0]} in {{{', '.join(vals)}}}"
        else:
            at = " or ".join("(" + ", ".join(f"{a} = {v}" for a, v in
                                             zip(others, k, strict=True)) + ")" for k in keys)
        parts.append(f"at {at}: {phrase}")
    return "; ".join(parts)


def _along(cells: Sequence[CellTest], axis: str) -> str:
    values = [c.coords.get(axis, "") for c in cells]
    marks = [c.outcome for c in cells]
    yes = [v for v, m in zip(values, marks, strict=True) if m is True]
    no = [v for v, m in zip(values, marks, strict=True) if m is False]
    unk = [v for v, m in zip(values, marks, strict=True) if m is None]
    if not no and not unk:
        return f"holds for every {axis}"
    if not yes and not unk:
        return f"does not hold for any {axis}"
    n = len(values)
    k = len(yes)
    out = ""
    numeric = all(_is_number(v) for v in values)
    if not numeric:
        out = f"holds for {axis} in {{{', '.join(yes)}}}" if k else "holds nowhere"
    elif k and all(m is True for m in marks[:k]) and all(m is not True for m in marks[k:]):
        out = f"holds for {axis} <= {values[k - 1]}"
    elif k and all(m is True for m in marks[n - k:]) and all(m is not True for m in marks[:n - k]):
        out = f"holds for {axis} >= {values[n - k]}"
    elif k:
        out = f"holds for {axis} in {{{', '.join(yes)}}}"
    else:
        out = "holds nowhere"
    if no:
        out += f", not for {{{', '.join(no)}}}"
    if unk:
        out += f", inconclusive for {{{', '.join(unk)}}}"
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text not in ("True", "False")


def combine(cells: Sequence[CellTest], axes_order: Sequence[str] = ()) -> tuple[str, str]:
    """(status, where) of a claim from its cell tests (see the module docstring)."""
    tested = [c for c in cells if c.tested]
    if not tested:
        return INCONCLUSIVE, "no cell creates the claim's premise (every cell shown, none judged)"
    yes = sum(c.outcome is True for c in tested)
    no = sum(c.outcome is False for c in tested)
    unk = sum(c.outcome is None for c in tested)
    region = describe_region(tested, axes_order)
    if yes == 0 and no == 0:
        return INCONCLUSIVE, region
    if no == 0 and unk == 0:
        return HOLDS, region
    if yes == 0 and unk == 0:
        return FAILS, region
    if yes == 0:
        return FAILS, region
    return PART, region


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Claim:
    """One claim of MODEL.md section 7: its number, words, experiments and test.

    The test receives the results of ``experiments`` in order; with ``one_per_era`` the
    experiments are alternatives, one for each era (a design of its own per era), and the
    test receives those that ran the era being judged."""

    number: int
    title: str
    experiments: tuple[str, ...]
    test: Callable[[list[ResultSet]], Verdict]
    design: str = ""
    one_per_era: bool = False
