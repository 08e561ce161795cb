"""Calibration targets, their statistics in result files, the distance and its region.

Reads result files only (``summary.parquet``, ``runs/<id>/agents.parquet``, the manifest).
``experiments/calibrate.py`` proposes parameter values and runs them; this module says how
far each trial is from the observed figures and what the fit is (MODEL.md section 11:
calibration is an estimate by a named method, with its uncertainty).

Targets (YAML; ``load_targets``)::

    fit:                               # used for the distance
      - name: sn1_top_validator
        agents: {netuid: 0, role: validator, rank: 1}   # by income per day, 1 = the top
        observed: 11000
        tolerance: 3000
        source: "MODEL.md 8: the top one about $11k a day"
      - name: sn1_mean_miner
        agents: {netuid: 0, role: miner, stat: mean}
        observed: 55
        tolerance: 10
      - name: alignment
        column: mean:alignment         # a summary.parquet column
        observed: 0.5
        tolerance: 0.1
    holdout:                           # not used for fitting: checked at the estimate
      - ...

An ``agents`` statistic takes the run's per-agent payoffs (``analysis.payoffs.
agent_payoffs``: per day, after the warm-up), keeps the agents matching ``netuid``,
``role`` and ``strategy`` (each optional), and takes the one at ``rank`` (1-based, by
``value`` descending) or the ``stat`` (mean, median, max, min) of ``value``
(``income_usd_per_day`` by default; ``profit_usd_per_day``, ``cost_usd_per_day``). A
trial's simulated figure is the mean over its seeds.

Distance (stated): ``D = sum_i ((s_i - o_i) / tau_i)^2`` over the fit targets, the
squared deviations in units of each target's tolerance: ``-2 log`` of a Gaussian
likelihood whose observation error has standard deviation ``tau_i`` (up to a constant).
The estimate is the trial of least ``D``; its neighbourhood, the trials with ``D <=
D_min + chi2_{0.95}(p)`` (``p`` parameters): the likelihood-ratio 95% region under that
reading, as far as the trials cover it. Per parameter the interval is the marginal 95%
likelihood-ratio interval of a quadratic surrogate of ``D`` fitted near the estimate
(``quadratic_intervals``), or, where that surrogate is not positive definite, the range
of the parameter's values in the region (each says which it is).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

VALUES = ("income_usd_per_day", "profit_usd_per_day", "cost_usd_per_day")
STATS = ("mean", "median", "max", "min")
AGENT_KEYS = ("netuid", "role", "strategy", "rank", "stat", "value")
TARGET_KEYS = ("name", "agents", "column", "observed", "tolerance", "source")
REGION_LEVEL = 0.95


def _num(where: str, value: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{where} must be > 0, got {value!r}")
    return float(value)


def check_target(where: str, t: Any) -> dict[str, Any]:
    """One target, checked; ``ValueError`` names the key and what is allowed."""
    if not isinstance(t, dict):
        raise ValueError(f"{where}: a target is a mapping with name, agents or column, "
                         f"observed, tolerance; got {t!r}")
    for key in t:
        if key not in TARGET_KEYS:
            raise ValueError(f"{where}: unknown key {key!r}; allowed: {', '.join(TARGET_KEYS)}")
    if not isinstance(t.get("name"), str) or not t["name"]:
        raise ValueError(f"{where}.name: a target needs a name (a string)")
    if ("agents" in t) == ("column" in t):
        raise ValueError(f"{where}: give agents (a per-agent statistic) or column (a summary "
                         "column), one of them")
    out = {"name": t["name"], "observed": _num(f"{where}.observed", t.get("observed")),
           "tolerance": _num(f"{where}.tolerance", t.get("tolerance"), positive=True),
           "source": str(t.get("source", ""))}
    if "column" in t:
        if not isinstance(t["column"], str) or not t["column"].startswith(("mean:", "final:")):
            raise ValueError(f"{where}.column: a summary column such as mean:alignment, got "
                             f"{t['column']!r}")
        out["column"] = t["column"]
        return out
    a = t["agents"]
    if not isinstance(a, dict):
        raise ValueError(f"{where}.agents: a mapping of {', '.join(AGENT_KEYS)}; got {a!r}")
    for key in a:
        if key not in AGENT_KEYS:
            raise ValueError(f"{where}.agents: unknown key {key!r}; allowed: "
                             f"{', '.join(AGENT_KEYS)}")
    if ("rank" in a) == ("stat" in a):
        raise ValueError(f"{where}.agents: give rank (1 = the top) or stat "
                         f"({', '.join(STATS)}), one of them")
    if "rank" in a and (isinstance(a["rank"], bool) or not isinstance(a["rank"], int)
                        or a["rank"] < 1):
        raise ValueError(f"{where}.agents.rank must be an integer >= 1, got {a['rank']!r}")
    if "stat" in a and a["stat"] not in STATS:
        raise ValueError(f"{where}.agents.stat must be one of {', '.join(STATS)}, got "
                         f"{a['stat']!r}")
    if a.get("value", VALUES[0]) not in VALUES:
        raise ValueError(f"{where}.agents.value must be one of {', '.join(VALUES)}, got "
                         f"{a['value']!r}")
    if "role" in a and a["role"] not in ("miner", "validator", "delegator"):
        raise ValueError(f"{where}.agents.role must be miner, validator or delegator, got "
                         f"{a['role']!r}")
    out["agents"] = {"value": VALUES[0], **a}
    return out


def load_targets(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """``{"fit": [...], "holdout": [...]}`` from a targets file; ``ValueError`` (prefixed
    with the file) says what is wrong."""
    import yaml

    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"{p}: cannot read the targets: {err}") from None
    if not isinstance(raw, dict) or not raw.get("fit"):
        raise ValueError(f"{p}: a targets file is a mapping with a non-empty fit: list (and "
                         "optionally holdout:)")
    for key in raw:
        if key not in ("fit", "holdout"):
            raise ValueError(f"{p}: unknown key {key!r}; allowed: fit, holdout")
    out: dict[str, list[dict[str, Any]]] = {}
    names: set[str] = set()
    for part in ("fit", "holdout"):
        items = raw.get(part) or []
        if not isinstance(items, list):
            raise ValueError(f"{p}: {part} must be a list of targets")
        out[part] = []
        for i, t in enumerate(items):
            try:
                target = check_target(f"{part}[{i}]", t)
            except ValueError as err:
                raise ValueError(f"{p}: {err}") from None
            if target["name"] in names:
                raise ValueError(f"{p}: {part}[{i}].name: {target['name']!r} is used twice")
            names.add(target["name"])
            out[part].append(target)
    return out


# ---------------------------------------------------------------------------------------
# Statistics in result files
# ---------------------------------------------------------------------------------------


def agent_statistic(payoffs: pd.DataFrame, spec: dict[str, Any]) -> float:
    """A per-agent statistic of one run's payoffs (``analysis.payoffs.agent_payoffs``)."""
    sel = payoffs
    for key in ("netuid", "role", "strategy"):
        if key in spec:
            sel = sel[sel[key] == spec[key]]
    values = np.sort(sel[spec["value"]].to_numpy(dtype=float))[::-1]
    if "rank" in spec:
        return float(values[spec["rank"] - 1]) if len(values) >= spec["rank"] else math.nan
    if not len(values):
        return math.nan
    return float(getattr(np, spec["stat"])(values))


def run_statistics(results_dir: Path, targets: list[dict[str, Any]]
                   ) -> pd.DataFrame:
    """Every target's figure in every complete run: one row per run (``run_id``, ``cell``,
    ``seed_index`` and a column per target name)."""
    from analysis.payoffs import agent_payoffs

    d = Path(results_dir)
    summary = pd.read_parquet(d / "summary.parquet")
    manifest = json.loads((d / "manifest.json").read_text())
    cfg = manifest["config"]
    warm = cfg.get("warmup_epochs")
    warm = int(warm) if warm is not None else int(cfg["epochs"]) // 5
    epochs_per_day = 24.0 / (float(cfg["scenario"]["tempo"]) * 12.0 / 3600.0)
    rows = []
    need_agents = any("agents" in t for t in targets)
    for t in targets:
        if "column" in t and t["column"] not in summary.columns:
            allowed = [c for c in summary.columns if c.startswith(("mean:", "final:"))]
            raise ValueError(f"target {t['name']}: {t['column']!r} is not a summary column; "
                             f"allowed: {', '.join(allowed)}")
    for rec in summary.to_dict("records"):
        row: dict[str, Any] = {"run_id": rec["run_id"], "cell": int(rec["cell"]),
                               "seed_index": int(rec["seed_index"])}
        payoffs = None
        if need_agents:
            agents = pd.read_parquet(d / "runs" / rec["run_id"] / "agents.parquet")
            payoffs = agent_payoffs(agents, warmup=warm, epochs_per_day=epochs_per_day)
        for t in targets:
            row[t["name"]] = (float(rec[t["column"]]) if "column" in t
                              else agent_statistic(payoffs, t["agents"]))
        rows.append(row)
    return pd.DataFrame(rows)


def distance(simulated: dict[str, float], targets: list[dict[str, Any]]) -> float:
    """``sum ((s - o) / tau)^2`` over ``targets`` (inf if a figure is undefined)."""
    total = 0.0
    for t in targets:
        s = simulated.get(t["name"], math.nan)
        if not math.isfinite(s):
            return math.inf
        total += ((s - t["observed"]) / t["tolerance"]) ** 2
    return total


def fit_table(simulated: dict[str, float], spread: dict[str, float],
              targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per target: observed, tolerance, simulated (mean over seeds, its sd), z, within."""
    out = []
    for t in targets:
        s = simulated.get(t["name"], math.nan)
        z = (s - t["observed"]) / t["tolerance"] if math.isfinite(s) else math.nan
        out.append({"name": t["name"], "observed": t["observed"], "tolerance": t["tolerance"],
                    "simulated": _clean(s), "seed_sd": _clean(spread.get(t["name"], math.nan)),
                    "z": _clean(z), "within": bool(math.isfinite(z) and abs(z) <= 1.0),
                    "source": t.get("source", "")})
    return out


def region(trials: list[dict[str, Any]], n_params: int) -> tuple[dict[str, Any], list[int]]:
    """The estimate (least distance) and the indices of its neighbourhood's trials."""
    from scipy.stats import chi2

    finite = [i for i, t in enumerate(trials) if math.isfinite(t["distance"])]
    if not finite:
        raise ValueError("no trial produced every fit target (all distances are undefined)")
    best = min(finite, key=lambda i: trials[i]["distance"])
    limit = trials[best]["distance"] + float(chi2.ppf(REGION_LEVEL, max(n_params, 1)))
    return trials[best], [i for i in finite if trials[i]["distance"] <= limit]


UNDETERMINED = "undetermined (too few trials in the region)"


def determined(members: list[int], n_params: int) -> bool:
    """Whether the region holds enough trials (at least ``p + 1``) for its ranges to
    describe uncertainty; with fewer, a range is (nearly) zero-width by construction."""
    return len(members) >= n_params + 1


def intervals(trials: list[dict[str, Any]], members: list[int],
              parameters: list[str]) -> dict[str, list[Any] | str]:
    """Per parameter, the range of its values over the neighbourhood's trials, or
    ``UNDETERMINED`` when the region holds fewer than ``p + 1`` trials."""
    if not determined(members, len(parameters)):
        return dict.fromkeys(parameters, UNDETERMINED)
    out: dict[str, list[Any] | str] = {}
    for p in parameters:
        vals = [trials[i]["params"][p] for i in members]
        nums = [v for v in vals if isinstance(v, int | float) and not isinstance(v, bool)]
        out[p] = [min(nums), max(nums)] if len(nums) == len(vals) else sorted(set(map(str, vals)))
    return out


def quadratic_intervals(u: np.ndarray, dist: np.ndarray, level: float = REGION_LEVEL
                        ) -> tuple[np.ndarray, np.ndarray] | None:
    """Marginal intervals from a quadratic surrogate of the distance, in quantile space.

    ``u``: the trials' quantiles (n x p); ``dist``: their distances. Near its minimum
    ``D(u) ~ D* + (u - u*)' A (u - u*)``; fitted by least squares on the trials closest
    to the best one, the profile of parameter i rises by ``chi2_level(1)`` at
    ``u*_i +- sqrt(chi2_level(1) (A^-1)_ii)`` (the likelihood-ratio interval under the
    Gaussian reading of D). ``None`` when there are too few trials or the fitted ``A`` is
    not positive definite (the distance is flat or not yet bracketed in some direction).
    """
    from scipy.stats import chi2

    ok = np.isfinite(dist)
    u, dist = u[ok], dist[ok]
    n, p = u.shape
    need = 1 + p + p * (p + 1) // 2
    if n < need + 2:
        return None
    best = int(np.argmin(dist))
    window = dist <= dist[best] + 4 * chi2.ppf(level, p)
    if window.sum() < need + 2:
        window = np.zeros(n, dtype=bool)
        window[np.argsort(dist)[: 2 * need]] = True
    x = u[window] - u[best]
    pairs = [(j, k) for j in range(p) for k in range(j, p)]
    design = np.column_stack([np.ones(len(x)), x] + [x[:, j] * x[:, k] for j, k in pairs])
    coef, *_ = np.linalg.lstsq(design, dist[window], rcond=None)
    a = np.zeros((p, p))
    for (j, k), c in zip(pairs, coef[1 + p:], strict=True):
        a[j, k] = a[k, j] = c if j == k else c / 2
    try:
        np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        return None
    cov = np.linalg.inv(a)
    centre = u[best] - 0.5 * cov @ coef[1 : 1 + p]
    half = np.sqrt(chi2.ppf(level, 1) * np.diag(cov))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _clean(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


def words(result: dict[str, Any]) -> str:
    """The calibration in words (calibration.md)."""
    lines = [f"# Calibration of {result['experiment']}", "",
             f"Method: {result['method']}. {result['trials']} trials x {len(result['seeds'])} "
             f"seed(s). Distance: {result['distance']}. Region: {result['region']}. "
             "Machine-readable: calibration.json.", "", "## Estimate", ""]
    for p, v in result["estimate"]["params"].items():
        lo_hi = result["intervals"][p]
        if isinstance(lo_hi, str):
            lines.append(f"- {p} = {v} (interval {lo_hi}; prior {result['priors'][p]})")
            continue
        lines.append(f"- {p} = {v:.4g} (neighbourhood {lo_hi[0]:.4g} to {lo_hi[1]:.4g}; "
                     f"prior {result['priors'][p]})" if isinstance(v, int | float)
                     else f"- {p} = {v} (neighbourhood {lo_hi})")
    for title, key in (("Fit (targets used)", "fit"), ("Hold-out (not used)", "holdout")):
        if not result[key]:
            continue
        lines += ["", f"## {title}", "", "| target | observed | tolerance | simulated | z | "
                  "within |", "|---|---:|---:|---:|---:|---|"]
        for f in result[key]:
            sim = "n/a" if f["simulated"] is None else f"{f['simulated']:.4g}"
            z = "n/a" if f["z"] is None else f"{f['z']:+.2f}"
            lines.append(f"| {f['name']} | {f['observed']:.4g} | {f['tolerance']:.4g} | {sim} | "
                         f"{z} | {'yes' if f['within'] else 'no'} |")
    return "\n".join(lines) + "\n"
