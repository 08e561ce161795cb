"""The report of a mechanism-design search, drawn from ``design.json`` alone (issue 17).

``write_report(design_json, out)`` writes ``design.md`` (the recommended setting and the
evidence for it, the Pareto front with every objective's interval) and two figures:
``fig_front.png`` (the regret of honest play against each other objective, every trial, the
front highlighted and the recommendation starred) and ``fig_objectives_by_param.png``
(each objective against each searched hyperparameter).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

from analysis.output import save_figure, write_text

DPI = 120
LABELS = {
    "regret": "regret of honest play\n(largest deviation gain, upper bound, $/day)",
    "miner_income": "miners' income ($/day per miner)",
    "validator_income": "validators' income ($/day per validator)",
    "alignment": "alignment (quality-incentive rank corr.)",
}


def _save(fig: Figure, path: Path) -> Path:
    return save_figure(fig, path, dpi=DPI)


def _num(v: Any) -> float:
    """A number of design.json, where null stands for a non-finite value (NaN)."""
    return math.nan if v is None else float(v)


def _g(v: Any) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{v:.4g}"


def _err(obj: dict[str, Any]) -> tuple[float, list[list[float]]]:
    v = _num(obj["value"])
    low, high = obj.get("low", math.nan), obj.get("high", math.nan)
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return v, [[0.0], [0.0]]
    return v, [[max(0.0, v - low)], [max(0.0, high - v)]]


def front_figure(doc: dict[str, Any], path: Path) -> Path:
    """Regret against each other objective over every complete trial."""
    done = [t for t in doc["trials"] if t["state"] == "complete"]
    others = [o for o in doc["objectives"] if o != "regret"] or ["regret"]
    rec = (doc.get("recommended") or {}).get("trial")
    fig = Figure(figsize=(5.2 * len(others), 4.2), layout="constrained")
    for k, name in enumerate(others):
        ax = fig.add_subplot(1, len(others), k + 1)
        for t in done:
            x = _num(t["objectives"]["regret"]["value"])
            y, yerr = _err(t["objectives"][name])
            on = t.get("pareto", False)
            ax.errorbar([x], [y], yerr=yerr, fmt="o", ms=6 if on else 4,
                        color="tab:red" if on else "0.6", ecolor="0.8", zorder=3 if on else 2)
            if on:
                ax.annotate(str(t["number"]), (x, y), fontsize=7, xytext=(3, 3),
                            textcoords="offset points")
            if t["number"] == rec:
                ax.plot([x], [y], marker="*", ms=16, color="gold", mec="k", zorder=4)
        ax.axvline(0.0, color="k", lw=0.8, ls=":")
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.set_xlabel(LABELS["regret"], fontsize=8)
        ax.set_ylabel(LABELS.get(name, name), fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{doc['design']}: {len(done)} trials, Pareto front in red, "
                 f"recommended starred", fontsize=9)
    return _save(fig, path)


def params_figure(doc: dict[str, Any], path: Path) -> Path:
    """Each objective (rows) against each searched hyperparameter (columns)."""
    done = [t for t in doc["trials"] if t["state"] == "complete"]
    names = list(doc["search"])
    objs = list(doc["objectives"])
    fig = Figure(figsize=(3.4 * len(names), 2.6 * len(objs)))
    for r, o in enumerate(objs):
        for c, p in enumerate(names):
            ax = fig.add_subplot(len(objs), len(names), r * len(names) + c + 1)
            dim = doc["search"][p]
            cats = (list(dim["options"]) if "options" in dim
                    else [str(x) for x in dim["choices"]] if "choices" in dim else None)
            for t in done:
                v = t["params"][p]
                x = cats.index(str(v)) if cats is not None else v
                y, yerr = _err(t["objectives"][o])
                ax.errorbar([x], [y], yerr=yerr, fmt="o", ms=4,
                            color="tab:red" if t.get("pareto") else "tab:blue", ecolor="0.8")
            if cats is not None:
                ax.set_xticks(range(len(cats)), cats, fontsize=7, rotation=20)
            elif dim.get("log"):
                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())
            ax.ticklabel_format(axis="y", useOffset=False)
            if r == len(objs) - 1:
                ax.set_xlabel(p, fontsize=8)
            if c == 0:
                ax.set_ylabel(LABELS.get(o, o).split("\n")[0], fontsize=7)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    fig.suptitle(f"{doc['design']}: objectives against each hyperparameter "
                 f"(Pareto front in red)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _fmt(obj: dict[str, Any]) -> str:
    v = obj.get("mean", obj["value"])
    low, high = obj.get("low"), obj.get("high")
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return _g(v)
    return f"{_g(v)} [{low:.4g}, {high:.4g}]"


def _value(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _regret(obj: dict[str, Any]) -> str:
    return f"{_g(obj['value'])} (max mean gain {_g(obj['mean'])}; {obj['best_deviation']})"


def design_markdown(doc: dict[str, Any]) -> str:
    """``design.md``: the recommendation with its evidence, then the Pareto front."""
    conf = doc["confidence"]
    objs = list(doc["objectives"])
    done = [t for t in doc["trials"] if t["state"] == "complete"]
    failed = [t for t in doc["trials"] if t["state"] == "fail"]
    lines = [f"# Mechanism design: {doc['design']}", "", doc.get("description", "").strip(), "",
             f"{len(done)} complete trial(s) ({len(failed)} failed) of a budget of "
             f"{doc['budget']}, sampler `{doc['sampler']}` (seed {doc['seed']}); intervals are "
             f"{conf:.0%} Student t intervals over the paired seeds. Objectives: "
             + ", ".join(f"{o} ({d})" for o, d in doc["objectives"].items())
             + ". Machine-readable: `design.json`.", ""]
    rec = doc.get("recommended")
    lines += ["## Recommended setting", ""]
    if rec is None:
        lines += ["No trial completed.", ""]
    else:
        lines += [f"Trial {rec['trial']}: " + ", ".join(f"`{k}` = {_value(v)}"
                                                        for k, v in rec["params"].items()),
                  "", f"Why: {rec['reason']}.", "",
                  "| objective | value |", "| --- | --- |"]
        for o in objs:
            ob = rec["objectives"][o]
            lines.append(f"| {o} | {_regret(ob) if o == 'regret' else _fmt(ob)} |")
        lines += ["", "Deviation gains from the all-honest profile at this setting (deviators' "
                  "payoff minus their own cohort's in the paired baseline run, $/day):", "",
                  "| deviation | from | gain [interval] | seeds |", "| --- | --- | --- | --- |"]
        for d in rec["objectives"]["deviations"]:
            lines.append(f"| {d['profile']} | {d['from']} (cohort {d['source_cohort']}) | "
                         f"{_fmt({'value': d['gain']['mean'], **d['gain']})} | "
                         f"{len(d['seeds'])} |")
        lines += ["", f"Runs: `{rec.get('results_dir')}`.", ""]
    lines += ["## Pareto front", "", "| trial | " + " | ".join(doc["search"]) + " | "
              + " | ".join(objs) + " |", "|" + " --- |" * (1 + len(doc["search"]) + len(objs))]
    for t in done:
        if not t.get("pareto"):
            continue
        cells = [_value(t["params"][p]) for p in doc["search"]]
        vals = [(_g(t["objectives"][o]["value"]) if o == "regret"
                 else _fmt(t["objectives"][o])) for o in objs]
        lines.append(f"| {t['number']} | " + " | ".join(cells) + " | " + " | ".join(vals) + " |")
    lines += ["", "![front](fig_front.png)", "",
              "![objectives by hyperparameter](fig_objectives_by_param.png)", ""]
    if failed:
        lines += ["## Failed trials", ""]
        lines += [f"- trial {t['number']} {t['params']}: {str(t.get('error', ''))[:300]}"
                  for t in failed]
        lines.append("")
    return "\n".join(lines)


def write_report(design_json: str | Path, out: str | Path) -> Path:
    """Write ``design.md`` and the figures of ``design_json`` into ``out``."""
    doc = json.loads(Path(design_json).read_text())
    out = Path(out)
    if any(t["state"] == "complete" for t in doc["trials"]):
        front_figure(doc, out / "fig_front.png")
        params_figure(doc, out / "fig_objectives_by_param.png")
    return write_text(out / "design.md", design_markdown(doc))
