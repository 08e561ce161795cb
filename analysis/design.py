"""Objectives of a mechanism-design trial, read from its results directory (issue 17).

A trial of ``tao-arena design`` is one experiment at one setting of the searched
hyperparameters: the all-honest baseline profile and its single deviations (cells of the
same sweep point, ``profiles: deviations: true``), each on the same seeds. This module reads
the trial's ``manifest.json`` and Parquet files (nothing else) and measures:

* ``regret``: the regret of honest play, the largest upper confidence bound of any
  deviation's gain, computed by the empirical-game analysis the report uses
  (:func:`analysis.deviations.deviation_results`; the same numbers as ``report.json``'s
  ``deviations`` on the same runs). For a deviation profile and seed ``i``, the gain is the
  mean payoff (profit in USD per day after the warm-up, per agent; 0 after deregistration)
  of the deviators minus the mean payoff of the deviators' OWN cohort in the baseline run
  of the same seed (the population entry they were taken from), never a role average. Each
  deviation's mean gain over the paired seeds gets the interval of
  :func:`analysis.stats.mean_ci` (Student t below its seed threshold, BCa from it);
  ``regret.value`` is the largest upper bound (honest play is an equilibrium with the
  stated confidence when it is <= 0), ``regret.mean`` the largest mean gain (Wellman 2006;
  Jordan, Schvartzman & Wellman 2010: the regret of a profile is
  ``max_i max_s' u_i(s', s_-i) - u_i(s)``).
* ``miner_income`` / ``validator_income``: the mean income in USD per day of the miners /
  validators of the baseline run (per agent, averaged over the recorded epochs after the
  warm-up; optionally only those playing given strategies, e.g. honest miners), mean over
  seeds with its t interval. With a fixed emission and price, a role's total income is
  fixed by the emission split: what settings move is how it is shared (honest miners
  against pass-through or lazy ones), so name the strategies whose income matters.
* ``alignment``: the baseline run's mean alignment after the warm-up (Spearman correlation of
  miners' true quality and incentive, MODEL.md section 5), mean over seeds.

Payoffs per agent come from :func:`analysis.payoffs.agent_payoffs` (the report's own
per-agent measure).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.results import epochs_per_day_of, load_results, warmup_of

OBJECTIVES = {  # name -> direction
    "regret": "minimize",
    "miner_income": "maximize",
    "validator_income": "maximize",
    "alignment": "maximize",
}
PAYOFF = "profit_usd_per_day"


def t_interval(x: Sequence[float], confidence: float) -> dict[str, float]:
    """Mean of ``x`` with a two-sided Student t interval (NaN bounds for fewer than 2)."""
    a = np.asarray(x, dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return {"mean": math.nan, "low": math.nan, "high": math.nan, "n": 0}
    mean = float(a.mean())
    if a.size < 2:
        return {"mean": mean, "low": math.nan, "high": math.nan, "n": int(a.size)}
    half = float(stats.t.ppf(0.5 + confidence / 2, a.size - 1) * a.std(ddof=1)
                 / math.sqrt(a.size))
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": int(a.size)}


def _runs(results_dir: Path) -> tuple[dict[str, Any], dict[tuple[int, int], Path]]:
    manifest = json.loads((results_dir / "manifest.json").read_text())
    runs = {}
    for rid, rec in manifest["runs"].items():
        if rec.get("status") == "complete":
            runs[(int(rec["cell"]), int(rec["seed_index"]))] = results_dir / "runs" / rid
    return manifest, runs


def deviation_gains(results_dir: str | Path, confidence: float = 0.95) -> list[dict[str, Any]]:
    """Every single deviation from the all-honest baseline in ``results_dir``, computed by
    the empirical-game analysis itself (:func:`analysis.deviations.deviation_results`, as
    the report's ``report.json`` ``deviations``): paired gains over the deviator's own
    cohort, per seed, with the interval of :func:`analysis.stats.mean_ci`."""
    from analysis.report.findings import Analysis

    an = Analysis(load_results(results_dir), confidence=confidence)
    out = []
    for res in an.deviations():
        if res.base != "baseline":
            continue
        for d in res.deviations:
            prof = an.profile(d.cell) or {}
            g = d.gain
            out.append({"profile": prof.get("id"), "role": d.role, "from": d.source,
                        "to": d.target, "deviators": prof.get("deviators"),
                        "source_cohort": d.cohort, "deviator_cohort": d.deviator_cohort,
                        "seeds": d.seeds, "gains": [float(x) for x in d.gains],
                        "gain": {"mean": g.mean, "low": g.low, "high": g.high, "n": g.n,
                                 "method": g.method},
                        "p_value": d.p_value, "significant": d.significant,
                        "same_as": d.same_as})
    return out


def _baseline_runs(manifest: dict[str, Any], runs: dict[tuple[int, int], Path]) -> list[Path]:
    base = [c["cell"] for c in manifest["grid"]["cells"]
            if (c.get("profile") or {}).get("kind") == "baseline"]
    return [p for (cell, _), p in sorted(runs.items()) if cell in base]


def trial_objectives(results_dir: str | Path, confidence: float = 0.95, *,
                     income_of: dict[str, Sequence[str]] | None = None) -> dict[str, Any]:
    """Every objective of the trial whose runs are in ``results_dir``, with intervals:
    ``{"regret": {"value", "mean", "best_deviation"}, "miner_income": {...}, ...,
    "deviations": [...]}`` (each objective's ``value`` is what the search optimises).

    ``income_of``: per role, the strategies whose agents' income counts (default: every
    agent of the role)."""
    results_dir = Path(results_dir)
    manifest, runs = _runs(results_dir)
    config = manifest["config"]
    warmup, per_day = warmup_of(config), epochs_per_day_of(config)
    devs = deviation_gains(results_dir, confidence)
    if not devs:
        raise ValueError(f"{results_dir}: no deviation profiles (profiles: deviations: true)")
    highs = [d["gain"]["high"] if math.isfinite(d["gain"]["high"]) else d["gain"]["mean"]
             for d in devs]
    best = int(np.nanargmax(highs))
    income: dict[str, list[float]] = {"miner": [], "validator": []}
    alignment = []
    for path in _baseline_runs(manifest, runs):
        agents = pd.read_parquet(path / "agents.parquet")
        window = agents[agents["epoch"] >= warmup]
        if window.empty:
            window = agents[agents["epoch"] == agents["epoch"].max()]
        for role in income:
            mine = window[window["role"] == role]
            if income_of and income_of.get(role):
                mine = mine[mine["strategy"].isin(list(income_of[role]))]
            income[role].append(float(mine["income_usd"].mean() * per_day)
                                if len(mine) else math.nan)
        metrics = pd.read_parquet(path / "metrics.parquet", columns=["epoch", "alignment"])
        alignment.append(float(metrics.loc[metrics["epoch"] >= warmup, "alignment"].mean()))
    out: dict[str, Any] = {
        "regret": {"value": float(highs[best]),
                   "mean": float(max(d["gain"]["mean"] for d in devs)),
                   "best_deviation": devs[best]["profile"]},
        "deviations": devs,
        "confidence": confidence,
    }
    for name, xs in (("miner_income", income["miner"]),
                     ("validator_income", income["validator"]), ("alignment", alignment)):
        est = t_interval(xs, confidence)
        out[name] = {"value": est["mean"], **est}
    return out


# ---------------------------------------------------------------------------------------
# The front and the recommendation
# ---------------------------------------------------------------------------------------


def pareto_mask(values: np.ndarray, directions: Sequence[str], rtol: float = 1e-9
                ) -> np.ndarray:
    """Rows of ``values`` (trials x objectives) that no other row dominates. Differences
    within ``rtol`` (relative) count as ties, so float noise in an objective that the
    settings do not move (e.g. a role's income fixed by the emission split) decides nothing."""
    sign = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
    v = np.asarray(values, dtype=float) * sign  # all minimised
    n = len(v)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        tol = rtol * (1.0 + np.abs(v[i]))
        dominated = np.all(v <= v[i] + tol, axis=1) & np.any(v < v[i] - tol, axis=1)
        keep[i] = not dominated.any()
    return keep


def recommend(trials: list[dict[str, Any]], *, max_regret: float, prefer: str
              ) -> dict[str, Any] | None:
    """The recommended trial among the Pareto front (``trials``: complete trials with
    ``objectives`` and ``pareto``).

    Of the front's settings whose regret upper bound is at most ``max_regret`` (no deviation
    gains at the stated confidence), those whose ``prefer`` objective cannot be told apart
    from the best one (its interval reaches the best's lower bound) are equally good for it;
    among them the one with the smallest regret bound (the most robust) is recommended. If
    no setting meets ``max_regret``, the one with the smallest regret bound is.
    """
    front = [t for t in trials if t.get("pareto")]
    if not front:
        return None

    def regret(t: dict[str, Any]) -> float:
        return float(t["objectives"]["regret"]["value"])

    def pref(t: dict[str, Any]) -> dict[str, float]:
        o = t["objectives"][prefer]
        low, high = o.get("low", math.nan), o.get("high", math.nan)
        v = float(o["value"])
        return {"value": v, "low": v if low is None or not math.isfinite(low) else low,
                "high": v if high is None or not math.isfinite(high) else high}

    ok = [t for t in front if regret(t) <= max_regret]
    tied: list[dict[str, Any]] = []
    if ok:
        top = max(ok, key=lambda t: pref(t)["value"])
        tied = [t for t in ok if pref(t)["high"] >= pref(top)["low"]]
        best = min(tied, key=regret)
        why = (f"{len(ok)} setting(s) on the Pareto front keep the regret upper bound <= "
               f"{max_regret:g} (no deviation gains at the stated confidence); the {prefer} of "
               f"{len(tied)} of them cannot be told apart from the highest (trial "
               f"{top['number']}, {pref(top)['value']:.4g}); of those this one has the "
               f"smallest regret bound ({regret(best):.4g})")
    else:
        best = min(front, key=regret)
        why = (f"no setting on the front keeps the regret upper bound <= {max_regret:g}; this "
               f"one has the smallest ({regret(best):.4g})")
    return {"trial": best["number"], "params": best["params"], "reason": why,
            "objectives": best["objectives"], "results_dir": best.get("results_dir"),
            "qualifying": [t["number"] for t in ok], "tied_on_" + prefer:
            [t["number"] for t in tied]}
