"""``claims.md``: the verdicts of the twelve claims in both eras, in words and tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analysis.claims.verdicts import Claim, Verdict

ERA_TITLES = {"dec2023": "December 2023", "dtao": "today (dynamic TAO)"}


def _era_title(era: str | None) -> str:
    return ERA_TITLES.get(era or "", era or "as run")


def _p(worlds: dict[str, Any]) -> str:
    """"P 0.75 [0.19, 0.99] over 4 worlds" or "" without per-world effects."""
    if worlds.get("p_holds") is None:
        return ""
    return (f"P(holds) {worlds['p_holds']:.2f} [{worlds['p_low']:.2f}, "
            f"{worlds['p_high']:.2f}] over {worlds['worlds']} worlds")


def _short(v: Verdict) -> str:
    text = f"**{v.status}**"
    if v.follows_from_rules:
        text += " (follows from the rules)"
    p = _p(v.worlds)
    return text + (f"; {p}" if p else "")


def claims_markdown(by_claim: Sequence[tuple[Claim, list[Verdict]]],
                    reports: dict[str, str], figure: str | None = None) -> str:
    """The whole report (see ``analysis.claims.run.claims_report``); ``figure``: the file
    name of the figure of worlds against their deciding parameters, if drawn."""
    eras = list(dict.fromkeys(v.era for _, vs in by_claim for v in vs))
    lines = [
        "# The claims of the report: verdicts in the report's era and in today's", "",
        "Each claim of ../shared/MODEL.md section 7, tested on its experiment in "
        "`experiments/configs/claims/`, in the rules of December 2023 (the report's chain) "
        "and of today (dynamic TAO) where the experiment runs both (MODEL.md section 9). "
        "Verdicts: **holds**, **does not hold**, **holds in part** (where is said), "
        "**inconclusive** (no interval decided), **not run**. A verdict that is an identity "
        "of the model's rules, not a finding, says **follows from the rules** with the "
        "derivation. Numbers are means over seeds with 95% intervals (Student-t below 20 "
        "seeds, BCa from 20; no variation across seeds decides nothing). Each seed draws "
        "one world from the experiment's priors (`uncertain:`); P(holds) is the share of "
        "those worlds in which the claim holds in every tested cell, with its exact "
        "(Clopper-Pearson) interval, and the deciding parameters are the splits of the "
        "drawn values that best separate worlds where it holds from worlds where it fails "
        "(MODEL.md section 11; docs/claims.md). The same numbers are in `claims.json`.", "",
        "| # | claim | " + " | ".join(_era_title(e) for e in eras) + " |",
        "|---|---|" + "---|" * len(eras)]
    for claim, vs in by_claim:
        by_era = {v.era: v for v in vs}
        lines.append(f"| {claim.number} | {claim.title} | " + " | ".join(
            _short(by_era[e]) if e in by_era else "not asked in this era (docs/claims.md)"
            for e in eras) + " |")
    lines.append("")
    if figure:
        lines += [f"![Where each claim holds among the sampled worlds]({figure})", "",
                  "Each point is a sampled world, at its drawn value of the parameter that "
                  "best separates worlds where the claim holds from worlds where it fails "
                  "(dashed: the split).", ""]
    for claim, vs in by_claim:
        lines += [f"## Claim {claim.number}: {claim.title}", ""]
        if claim.design:
            lines += [f"**Design.** {claim.design}", ""]
        for v in vs:
            lines += _era_section(v, reports, several=len(vs) > 1 or v.era is not None)
    return "\n".join(lines) + "\n"


def _era_section(v: Verdict, reports: dict[str, str], several: bool) -> list[str]:
    lines = [f"### {_era_title(v.era)}", ""] if several else []
    lines += [f"**Verdict: {v.status}.**" + (f" {v.where[0].upper() + v.where[1:]}."
                                             if v.where else ""), ""]
    if v.follows_from_rules:
        lines += [f"**Follows from the rules:** {v.derivation}", ""]
    w = v.worlds
    if w.get("p_holds") is not None:
        text = _p(w)
        text += (f" drawn from priors on {', '.join(f'`{p}`' for p in w['priors'])}"
                 if w.get("priors") else " (no priors: the worlds differ only in their noise)")
        lines += [f"- {text}."]
        for d in w.get("deciding_parameters", [])[:3]:
            lines.append(f"  - decided by `{d['parameter']}`: holds in "
                         f"{d['p_holds_below']:.0%} of {d['worlds_below']} worlds at or "
                         f"below {d['threshold']:.4g}, {d['p_holds_above']:.0%} of "
                         f"{d['worlds_above']} above (gain {d['gain']:.3f})")
        if w.get("parameter_share") is not None:
            lines.append(f"  - seed noise against the priors: the drawn parameters explain "
                         f"{w['parameter_share']:.0%} of the effect's variance across worlds "
                         f"(mean over the tested cells; linear fit, adjusted R^2); the rest "
                         f"is seed noise")
    lines += [f"- {n}" if not n.startswith("  ") else n for n in v.numbers]
    if v.numbers or w.get("p_holds") is not None:
        lines.append("")
    if v.cells:
        share = {tuple(sorted(c["coords"].items())): c for c in w.get("cells", [])}
        axes = list(dict.fromkeys(a for c in v.cells for a in c.coords))  # sweep order
        lines += ["| " + " | ".join([*axes, "outcome", "P(holds)", "numbers"]) + " |",
                  "|" + "---|" * (len(axes) + 3)]
        for c in v.cells:
            oc = ("holds" if c.outcome else "fails" if c.outcome is False else
                  "inconclusive") if c.tested else "not judged"
            s = share.get(tuple(sorted(c.coords.items())))
            p = f"{s['p_holds']:.2f} ({s['worlds']})" if s else "-"
            lines.append("| " + " | ".join([*(c.coords.get(a, "") for a in axes), oc, p,
                                            c.detail]) + " |")
        lines.append("")
    for n in v.notes:
        lines += [f"*Note: {n}*", ""]
    exps = [f"[`{e}`]({reports[e]})" if e in reports else f"`{e}`" for e in v.experiments]
    lines += [f"Experiment: {', '.join(exps)}.", ""]
    return lines
