"""Numbers, names and markdown for the report: formatting helpers and the document."""


from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.results import ResultSet
from analysis.stats import Estimate


def fmt(x: float, unit: str = "") -> str:
    """A number for the text: thousands separators for large values, 3 significant digits."""
    if x is None or not np.isfinite(x):
        return "n/a"
    if abs(x) < 1e-9:  # float noise of a sum that is zero
        x = 0.0
    a = abs(x)
    if a >= 1000:
        s = f"{x:,.0f}"
    elif a >= 100:
        s = f"{x:.0f}"
    elif a >= 10:
        s = f"{x:.1f}"
    elif a >= 0.01 or a == 0:
        s = f"{x:.3g}" if a < 1 else f"{x:.2f}"
    else:
        s = f"{x:.2e}"
    return f"{unit}{s}" if unit == "$" else f"{s}{unit}"


def fmt_est(est: Estimate | dict[str, Any] | pd.Series, unit: str = "") -> str:
    """``mean [low, high]`` (or the mean alone without an interval; "mean (no variation
    across seeds)" when every seed gave the same number)."""
    if isinstance(est, Estimate):
        m, lo, hi = est.mean, est.low, est.high
        if est.method == "no variation":
            return f"{fmt(m, unit)} (no variation across seeds)"
    else:
        m, lo, hi = float(est["mean"]), float(est["low"]), float(est["high"])
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return fmt(m, unit)
    return f"{fmt(m, unit)} [{fmt(lo, unit)}, {fmt(hi, unit)}]"


def path_title(path: str, config: dict[str, Any]) -> str:
    """A swept path as a reader says it: ``population.2.params.quality`` ->
    ``honest_miner.quality`` (the cohort's strategy), ``subnets.0.yuma.kappa`` ->
    ``yuma.kappa``."""
    parts = path.split(".")
    if parts[0] in ("population", "dynamics") and len(parts) > 2 and parts[1].isdigit():
        items = config.get(parts[0]) or []
        k = int(parts[1])
        item = items[k] if k < len(items) else {}
        if parts[0] == "population" and parts[2] == "strategy":
            return ("delegator" if item.get("subnet") is None else f"cohort {k}") + " strategy"
        who = item.get("strategy") or item.get("process") or f"{parts[0]} {k}"
        key = "strategy" if parts[0] == "population" else "process"
        if sum(1 for it in items if it.get(key) == who) > 1:
            who = f"{who}#{k}"  # several cohorts of one strategy: say which
        rest = parts[3:] if parts[2] == "params" else parts[2:]
        return ".".join([str(who), *rest])
    if parts[0] == "scenario":
        parts = parts[1:]
    if parts[0] == "subnets" and len(parts) > 2:
        parts = parts[2:]
    return ".".join(parts)


def axis_title(paths: Sequence[str], config: dict[str, Any]) -> str:
    """The readable name of a sweep axis (a zip group's distinct path titles, joined)."""
    return " & ".join(dict.fromkeys(path_title(p, config) for p in paths))


def cell_labels(rs: ResultSet) -> dict[int, str]:
    """A short readable label per cell: ``param=value, ...`` and the profile."""
    out = {}
    for k, c in rs.cells.items():
        parts = [f"{path_title(p, rs.config)}={v}"
                 for p, v in (c.get("overrides") or {}).items()]
        prof = c.get("profile")
        if prof:
            parts.append(str(prof.get("id")))
        out[k] = ", ".join(parts) if parts else "all runs"
    return out


def _t_band(values: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, ...]:
    """Mean and pointwise t-interval across rows (seeds) of a (seeds, T) array."""
    n = np.sum(np.isfinite(values), axis=0)
    with np.errstate(invalid="ignore"), __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore")
        mean = np.nanmean(values, axis=0)
        sd = np.nanstd(values, axis=0, ddof=1)
    q = np.where(n > 1, sps.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)), np.nan)
    half = q * sd / np.sqrt(np.maximum(n, 1))
    return mean, mean - half, mean + half



class Doc:
    """The markdown being written: lines and the figures it shows."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.figures: list[str] = []
        self.data: dict[str, Any] = {}  # the numbers the text states, for report.json

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def figure(self, path: Path, caption: str) -> None:
        self.figures.append(path.name)
        self.add(f"![{caption}]({path.name})", "", f"*Figure `{path.name}`: {caption}*", "")

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.add("| " + " | ".join(header) + " |", "|" + "---|" * len(header))
        self.add(*("| " + " | ".join(str(c) for c in r) + " |" for r in rows))
        self.add("")

