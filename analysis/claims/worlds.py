"""A claim over plausible worlds: the share of sampled worlds where it holds, and what decides it.

MODEL.md section 11. With ``uncertain:`` priors, each seed index of an experiment draws one
world (the same world in every cell: common random numbers), so the seed indices are
independent draws from the prior. A claim's cells carry their effect per world
(:class:`analysis.claims.verdicts.CellTest.effects`); in one world the claim **holds** when
its prediction is borne out in every tested cell that has that world (the claim as stated,
everywhere its premise is created). Over the worlds:

- ``p_holds`` with its exact (Clopper-Pearson) 95% interval (``analysis.plausible``);
- ``deciding_parameters``: one-split trees over the drawn parameters (``param:<path>``,
  recorded with each run), largest impurity gain first: the threshold that best separates
  worlds where the claim holds from worlds where it fails, and the share holding on each
  side;
- ``per_world``: each world's outcome beside its drawn values (for notebooks and the
  figure of ``analysis.claims.figure``);
- per tested cell, the share of worlds where it holds there, and the share of its
  effect's variance across worlds that the drawn parameters explain (a linear fit,
  adjusted R^2: ``analysis.plausible.variance_split``), the rest being seed noise: seed
  noise and parameter uncertainty reported separately; ``parameter_share`` is their mean
  over the tested cells.

Without priors the worlds differ only in their noise; the share is then over seeds of one
world, and the report says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.claims.verdicts import CellTest
from analysis.plausible import deciding_region, holds_probability, variance_split
from analysis.results import ResultSet


def world_holds(cells: list[CellTest]) -> dict[int, bool]:
    """World (seed index) -> whether the claim holds in every tested cell that has it."""
    out: dict[int, bool] = {}
    for c in cells:
        if not c.tested:
            continue
        for w in c.effects:
            h = c.holds_in(w)
            if h is not None:
                out[w] = out.get(w, True) and h
    return out


def drawn_parameters(rs: ResultSet) -> pd.DataFrame:
    """The drawn parameter values of each world (rows: seed index; columns ``param:<path>``);
    empty without priors. A world's values are the same in every cell."""
    rows: dict[int, dict[str, Any]] = {}
    for r in rs.runs:
        drawn = r.extra.get("drawn") or {}
        if drawn and r.seed_index not in rows:
            rows[r.seed_index] = {k: v for k, v in drawn.items() if _number(v)}
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def summarise(cells: list[CellTest], rs: ResultSet) -> dict[str, Any]:
    """``p_holds``, its interval, the worlds, the deciding parameters and each cell's share
    (module docstring); ``{}`` when no tested cell carries per-world effects."""
    holds = world_holds(cells)
    if not holds:
        return {}
    worlds = sorted(holds)
    flags = [holds[w] for w in worlds]
    prob = holds_probability(flags)
    params = drawn_parameters(rs)
    deciding: list[dict[str, Any]] = []
    if not params.empty:
        aligned = params.reindex(worlds)
        deciding = [
            {"parameter": d["parameter"], "threshold": d["threshold"],
             "p_holds_below": d["holds_below"], "p_holds_above": d["holds_above"],
             "worlds_below": d["worlds_below"], "worlds_above": d["worlds_above"],
             "gain": d["gain"]}
            for d in deciding_region(pd.Series(flags).to_numpy(), aligned) if d["gain"] > 0]
    per_cell = []
    for c in cells:
        marks = [h for h in (c.holds_in(w) for w in sorted(c.effects)) if h is not None]
        if c.tested and marks:
            per_cell.append({"coords": c.coords, "p_holds": sum(marks) / len(marks),
                             "worlds": len(marks),
                             "explained_by_parameters": _explained(c, params)})
    shares = [c["explained_by_parameters"] for c in per_cell
              if c["explained_by_parameters"] is not None]
    return {"p_holds": prob["probability"], "p_low": prob["interval"][0],
            "p_high": prob["interval"][1], "worlds": len(worlds),
            "holding": int(sum(flags)), "priors": sorted(params.columns.str.removeprefix(
                "param:")) if not params.empty else [],
            "deciding_parameters": deciding, "cells": per_cell,
            "per_world": [{"world": int(w), "holds": bool(holds[w]),
                           **({k.removeprefix("param:"): float(v)
                               for k, v in params.loc[w].items()}
                              if w in params.index else {})} for w in worlds],
            "parameter_share": float(np.mean(shares)) if shares else None}


def _explained(cell: CellTest, params: pd.DataFrame) -> float | None:
    """Share of the cell's effect variance across worlds that the drawn parameters
    explain (adjusted R^2 of a linear fit; None without priors or with too few worlds)."""
    if params.empty:
        return None
    worlds = [w for w in sorted(cell.effects) if w in params.index]
    if not worlds:
        return None
    split = variance_split(np.array([cell.effects[w] for w in worlds], dtype=float),
                           params.loc[worlds])
    return split["explained_by_parameters"]
