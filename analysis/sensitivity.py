"""Global sensitivity analysis of a design's results: Morris screening and Sobol indices.

Reads result files only: ``sensitivity_design.json`` (written by ``tao-arena sensitivity``,
``experiments/sensitivity.py``: the method, the uncertain parameters, the unit-cube design
and the cell of each design row) and ``summary.parquet``; writes ``sensitivity.json`` and
figures beside them (format in docs/uncertainty.md).

- Morris elementary effects (Morris 1991; mu* of Campolongo et al. 2007): per parameter
  the mean absolute effect ``mu_star`` (with its bootstrap interval) and the standard
  deviation of the effects ``sigma`` (non-linearity or interactions), in outcome units per
  full range of the parameter's quantiles (the design lives on the unit cube and each
  column is mapped through the prior's inverse CDF).
- Sobol indices by Saltelli's estimators (Saltelli et al. 2010): first-order ``S1`` (the
  share of the outcome's variance a parameter explains alone) and total ``ST`` (with
  every interaction), each with a bootstrap interval at ``conf_level``.

Both come from SALib (``SALib.analyze.morris`` / ``SALib.analyze.sobol``). An outcome is
the mean over the design row's seeds; the seed noise is reported beside the indices
(``noise``: the spread between seeds at a design point vs the spread across the design),
so parameter uncertainty and seed noise are never mixed up in one number.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.output import save_figure, write_text

DESIGN_FILE = "sensitivity_design.json"
OUTPUT_FILE = "sensitivity.json"
FIGURES = {"morris": "sensitivity_morris.png", "sobol": "sensitivity_sobol.png"}
CONF_LEVEL = 0.95
NUM_RESAMPLES = 1000
NETWORK_OUTCOMES = ("mean:alignment", "mean:gini_emission", "mean:nakamoto_stake",
                    "mean:compute_per_useful_answer")
PROFIT_PREFIX = "mean:profit_usd_per_agent:"


def problem(parameters: list[str]) -> dict[str, Any]:
    """SALib's problem on the unit cube (the design's own coordinates)."""
    return {"num_vars": len(parameters), "names": list(parameters),
            "bounds": [[0.0, 1.0]] * len(parameters)}


def morris_indices(parameters: list[str], x: np.ndarray, y: np.ndarray, *,
                   num_levels: int = 4, seed: int = 0) -> dict[str, list[float]]:
    """Morris ``mu_star``, ``mu_star_conf``, ``sigma`` of outcome ``y`` at design ``x``."""
    from SALib.analyze import morris

    res = morris.analyze(problem(parameters), np.asarray(x, dtype=float),
                         np.asarray(y, dtype=float), num_resamples=NUM_RESAMPLES,
                         conf_level=CONF_LEVEL, num_levels=num_levels, seed=seed)
    return {k: [float(v) for v in res[k]] for k in ("mu_star", "mu_star_conf", "sigma")}


def sobol_indices(parameters: list[str], y: np.ndarray, *,
                  seed: int = 0) -> dict[str, list[float]]:
    """Sobol ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` of outcome ``y`` on a Saltelli design
    of ``N (k + 2)`` rows (no second-order terms)."""
    from SALib.analyze import sobol

    res = sobol.analyze(problem(parameters), np.asarray(y, dtype=float),
                        calc_second_order=False, num_resamples=NUM_RESAMPLES,
                        conf_level=CONF_LEVEL, seed=seed)
    return {k: [float(v) for v in res[k]] for k in ("S1", "S1_conf", "ST", "ST_conf")}


# The unit of each per-epoch metric of metrics.parquet (world/measure.py; the list in
# docs/experiments.md). A summary column ``mean:<metric>`` or ``final:<metric>`` keeps it:
# profits are per EPOCH (x 20 for per day at the default tempo, docs/report.md).
UNITS = {
    "price_usd": "USD per TAO",
    "issuance_tao": "TAO (supply so far)", "burned_tao": "TAO (burned so far)",
    "emission_tao": "TAO per epoch", "emission_owner_tao": "TAO per epoch",
    "emission_miners_tao": "TAO per epoch", "emission_validators_tao": "TAO per epoch",
    "nominator_payout_tao": "TAO per epoch",
    "alignment": "rank correlation (no unit)", "gini_emission": "Gini coefficient (no unit)",
    "nakamoto_stake": "entities (count)",
    "compute_per_useful_answer": "compute per useful answer (ratio)",
    "population": "agents", "profit_usd": "USD per epoch (the strategy's agents together)",
    "profit_usd_per_agent": "USD per agent per epoch",
}


def unit_of(column: str) -> str:
    """The unit of summary column ``column`` (``mean:profit_usd_per_agent:honest_miner``
    is USD per agent per EPOCH, not per day); a metric not listed is named as such."""
    parts = column.split(":")
    metric = parts[1] if len(parts) > 1 and parts[0] in ("mean", "final") else parts[0]
    return UNITS.get(metric, f"the unit of metric {metric!r} (per epoch)")


def default_outcomes(columns: list[str]) -> list[str]:
    """Each strategy's profit per agent (mean over the post-warm-up epochs) and the network
    metrics, where the summary has them."""
    profits = sorted(c for c in columns if c.startswith(PROFIT_PREFIX))
    return profits + [c for c in NETWORK_OUTCOMES if c in columns]


def design_outcomes(summary: pd.DataFrame, rows: int, outcome: str
                    ) -> tuple[np.ndarray, dict[str, float]]:
    """The outcome per design row (mean over its seeds) and the seed-noise figures."""
    by_cell = summary.groupby("cell")[outcome]
    y = by_cell.mean().reindex(range(rows)).to_numpy(dtype=float)
    sd = by_cell.std(ddof=1).reindex(range(rows)).to_numpy(dtype=float)
    noise = {
        "between_seeds_sd": float(np.nanmean(sd)) if np.isfinite(sd).any() else None,
        "across_design_sd": float(np.nanstd(y, ddof=1)) if np.isfinite(y).sum() > 1 else None,
    }
    return y, noise


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def analyse(results_dir: str | Path, outcomes: list[str] | None = None) -> dict[str, Any]:
    """Indices of every outcome of a design's results; ``ValueError`` names a missing
    outcome column (and the allowed ones) or missing runs."""
    d = Path(results_dir)
    design = json.loads((d / DESIGN_FILE).read_text())
    summary = pd.read_parquet(d / "summary.parquet")
    parameters: list[str] = design["parameters"]
    x = np.asarray(design["unit"], dtype=float)
    rows = len(x)
    missing_rows = sorted(set(range(rows)) - set(summary["cell"].astype(int)))
    if missing_rows:
        raise ValueError(f"{d}: {len(missing_rows)} of {rows} design rows have no complete "
                         f"run (e.g. cell {missing_rows[0]}); run the command again")
    columns = list(summary.columns)
    chosen = outcomes or default_outcomes(columns)
    unknown = [c for c in chosen if c not in columns]
    if unknown:
        allowed = [c for c in columns if c.startswith(("mean:", "final:"))]
        raise ValueError(f"--outcome {unknown[0]!r} is not a column of {d / 'summary.parquet'};"
                         f" allowed: {', '.join(allowed)}")
    out: dict[str, Any] = {
        "method": design["method"], "n": design["n"], "parameters": parameters,
        "priors": design["priors"], "runs": int(len(summary)),
        "seeds": sorted(int(s) for s in summary["seed_index"].unique()),
        "conf_level": CONF_LEVEL, "outcomes": {}, "noise": {}, "skipped": {},
    }
    seed = int(design.get("seed", 0))
    for col in chosen:
        y, noise = design_outcomes(summary, rows, col)
        out["noise"][col] = noise
        if not np.isfinite(y).all():
            out["skipped"][col] = f"undefined (NaN) at {int((~np.isfinite(y)).sum())} rows"
            continue
        if np.ptp(y) == 0:
            out["skipped"][col] = "constant over the design: no parameter moves it"
            continue
        if design["method"] == "morris":
            res = morris_indices(parameters, x, y, num_levels=design["num_levels"], seed=seed)
        else:
            res = sobol_indices(parameters, y, seed=seed)
        out["outcomes"][col] = {"unit": unit_of(col),
                                **{k: [_finite(v) for v in vals] for k, vals in res.items()}}
    return out


def deciding(result: dict[str, Any], outcome: str, top: int = 3) -> list[tuple[str, float]]:
    """The parameters that decide ``outcome``, largest first: by total index ``ST``
    (Sobol) or ``mu_star`` (Morris); what the claims cite for a verdict."""
    res = result["outcomes"].get(outcome)
    if res is None:
        return []
    key = "ST" if result["method"] == "sobol" else "mu_star"
    pairs = [(p, v) for p, v in zip(result["parameters"], res[key], strict=True)
             if v is not None]
    return sorted(pairs, key=lambda pv: -pv[1])[:top]


def figure(result: dict[str, Any], path: Path) -> Path:
    """Morris: mu* against sigma per outcome; Sobol: S1 and ST bars with intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result["outcomes"])
    ncol = min(3, max(1, len(names)))
    nrow = max(1, math.ceil(len(names) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 3.8 * nrow), squeeze=False)
    params = result["parameters"]
    short = [p.replace("population.", "pop.").replace("params.", "") for p in params]
    for ax, col in zip(axes.ravel(), names, strict=False):
        res = result["outcomes"][col]
        if result["method"] == "morris":
            mu = np.array([np.nan if v is None else v for v in res["mu_star"]])
            sig = np.array([np.nan if v is None else v for v in res["sigma"]])
            conf = np.array([0.0 if v is None else v for v in res["mu_star_conf"]])
            ax.errorbar(mu, sig, xerr=conf, fmt="o", ms=4, capsize=2)
            for label, a, b in zip(short, mu, sig, strict=True):
                ax.annotate(label, (a, b), fontsize=6, xytext=(3, 3),
                            textcoords="offset points")
            ax.set_xlabel("mu* (mean |elementary effect|)")
            ax.set_ylabel("sigma")
        else:
            pos = np.arange(len(params))
            for off, key, colour in ((-0.2, "S1", "#4c72b0"), (0.2, "ST", "#dd8452")):
                vals = np.array([np.nan if v is None else v for v in res[key]])
                err = np.array([0.0 if v is None else v for v in res[f"{key}_conf"]])
                ax.bar(pos + off, vals, 0.4, yerr=err, capsize=2, color=colour, label=key)
            ax.set_xticks(pos, short, rotation=60, ha="right", fontsize=6)
            ax.axhline(0, color="black", lw=0.5)
            ax.set_ylabel("index")
            ax.legend(fontsize=7)
        ax.set_title(col, fontsize=8)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    fig.suptitle(f"{result['method']} sensitivity, {result['runs']} runs", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, tight=False)
    plt.close(fig)
    return path


def words(result: dict[str, Any]) -> str:
    """The analysis in words: for each outcome, the parameters that decide it."""
    key = "ST" if result["method"] == "sobol" else "mu_star"
    lines = [f"# Sensitivity ({result['method']}, {result['runs']} runs)", "",
             f"Parameters: {', '.join(result['parameters'])}. Ranked by {key} "
             f"({'total Sobol index' if key == 'ST' else 'Morris mean absolute effect'});"
             f" intervals at {result['conf_level']:.0%}. Machine-readable: {OUTPUT_FILE}.", ""]
    for col, res in result["outcomes"].items():
        top = deciding(result, col)
        conf = dict(zip(result["parameters"], res[f"{key}_conf"], strict=True))
        ranked = "; ".join(f"{p} {v:.3g} ± {conf[p] or 0:.2g}" for p, v in top)
        noise = result["noise"][col]
        seeds = noise["between_seeds_sd"]
        lines.append(f"- **{col}** ({res['unit']}) is decided by {ranked}. Spread across "
                     f"the design "
                     f"{noise['across_design_sd']:.3g}"
                     + (f", between seeds at one point {seeds:.3g}." if seeds is not None
                        else " (one seed per point: seed noise not separated)."))
    for col, why in result["skipped"].items():
        lines.append(f"- {col}: not analysed, {why}.")
    return "\n".join(lines) + "\n"


def write(results_dir: str | Path, outcomes: list[str] | None = None) -> dict[str, Path]:
    """Analyse a design's results and write ``sensitivity.json``, ``sensitivity.md`` and
    the figure."""
    d = Path(results_dir)
    result = analyse(d, outcomes)
    json_path = d / OUTPUT_FILE
    write_text(json_path, json.dumps(result, indent=1, allow_nan=False) + "\n")
    paths = {"json": json_path}
    write_text(d / "sensitivity.md", words(result))
    paths["report"] = d / "sensitivity.md"
    if result["outcomes"]:
        paths["figure"] = figure(result, d / FIGURES[result["method"]])
    return paths
