"""Running the claims: find each claim's latest results, evaluate it, write ``claims.md``."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from analysis.claims import alignment, control, network, payouts, strategies, takeover
from analysis.claims.alignment import _claim6
from analysis.claims.cells import MissingData
from analysis.claims.control import _claim8, _claim12
from analysis.claims.figure import worlds_figure
from analysis.claims.markdown import claims_markdown
from analysis.claims.network import _claim9, _claim10
from analysis.claims.payouts import _claim1, _claim2
from analysis.claims.strategies import _claim3, _claim4, _claim5, _claim11
from analysis.claims.takeover import _claim7
from analysis.claims.verdicts import INCONCLUSIVE, NOT_RUN, Claim, Verdict
from analysis.claims.worlds import summarise
from analysis.output import write_json, write_text
from analysis.report import report_one
from analysis.results import ResultSet, find_result_dirs, load_results

# Each claim family's module may hold DESIGNS: claim number -> its design in words (what
# it predicts, how the premise is created, the mechanism measured, the control, the horizon)
DESIGNS: dict[int, str] = {
    n: text for module in (payouts, strategies, alignment, takeover, control, network)
    for n, text in getattr(module, "DESIGNS", {}).items()}

CLAIMS: tuple[Claim, ...] = (
    Claim(1, "Validators out-earn miners by a wide margin; the top earners are validators.",
          ("claim01_sn1_calibration",), _claim1, DESIGNS.get(1, "")),
    Claim(2, "Miner payouts are flat: quality barely moves a miner's income.",
          ("claim01_sn1_calibration", "claim02_flat_payouts"), _claim2,
          DESIGNS.get(2, "")),
    Claim(3, "Weight copying pays as well as honest grading at lower cost, unless "
             "commit-reveal or bonds make it stale enough to lose.",
          ("claim03_weight_copying",), _claim3,
          DESIGNS.get(3, "")),
    Claim(4, "Miner cabals that copy one answer are more cost-effective than paying per "
             "answer.", ("claim04_copy_cabals",), _claim4,
          DESIGNS.get(4, "")),
    Claim(5, "Pass-through miners beat honest GPU miners when validators are weaker graders "
             "than the API model.", ("claim05_passthrough",), _claim5,
          DESIGNS.get(5, "")),
    Claim(6, "Inferior validators cannot rank superior miners: alignment collapses once miner "
             "quality exceeds validator capability.", ("claim06_alignment",), _claim6,
          DESIGNS.get(6, "")),
    Claim(7, "Small subnets are cheap to take over: the stake needed scales with the "
             "subnet's own stake, not the network's.",
          ("claim07_takeover", "claim07_takeover_dtao"), _claim7, DESIGNS.get(7, ""),
          one_per_era=True),
    Claim(8, "A poison-pill validator that gathered trust and delegation can turn and "
             "capture emission.", ("claim08_poison_pill",), _claim8,
          DESIGNS.get(8, "")),
    Claim(9, "Delegation follows popularity, so stake concentrates over time (the Nakamoto "
             "coefficient falls).", ("claim09_delegation",), _claim9,
          DESIGNS.get(9, "")),
    Claim(10, "The network spends N + V times the compute of one useful answer.",
          ("claim10_overhead",), _claim10,
          DESIGNS.get(10, "")),
    Claim(11, "Validators favouring their own miners, at a rate that avoids mass exits, go "
              "unpunished.", ("claim11_cabal_validators",), _claim11,
          DESIGNS.get(11, "")),
    Claim(12, "As inflows fall, cabals consolidate.", ("claim12_consolidation",), _claim12,
          DESIGNS.get(12, "")),
)




def latest_results(root: str | Path) -> dict[str, Path]:
    """Experiment name -> its most recently written results directory below ``root``."""
    out: dict[str, tuple[float, Path]] = {}
    for d in find_result_dirs(root):
        name = d.parent.name
        t = (d / "manifest.json").stat().st_mtime
        if name not in out or t > out[name][0]:
            out[name] = (t, d)
    return {k: v[1] for k, v in out.items()}


ERAS = ("dec2023", "dtao")  # the order of the verdicts: the report's era first


def _era_of_set(rs: ResultSet) -> str | None:
    """The era of results that do not name one per cell: the file's ``scenario.era``."""
    era = (rs.config.get("scenario") or {}).get("era")
    return str(era) if era else None


def _split_by_era(rs: ResultSet) -> dict[str | None, ResultSet]:
    """Era -> the results of the cells that ran it (one entry for a one-era experiment)."""
    cells: dict[str | None, list[int]] = {}
    for r in rs.runs:
        cells.setdefault(rs.era_of(r.cell) or _era_of_set(rs), []).append(r.cell)
    if len(cells) <= 1:
        return {next(iter(cells), _era_of_set(rs)): rs}
    return {e: rs.subset(set(c)) for e, c in cells.items()}


def evaluate(claim: Claim, found: dict[str, Path],
             loaded: dict[str, ResultSet] | None = None) -> Verdict:
    """The verdict of one claim over all its results, whatever their eras (see
    :func:`evaluate_eras` for one verdict per era)."""
    return _evaluate(claim, _load(claim, found, loaded), None)


def evaluate_eras(claim: Claim, found: dict[str, Path],
                  loaded: dict[str, ResultSet] | None = None) -> list[Verdict]:
    """One verdict per era the claim's experiments ran (``dec2023`` first, then ``dtao``):
    each on that era's cells only (an experiment sweeps ``era`` as one of its axes)."""
    sets = _load(claim, found, loaded)
    split = [_split_by_era(s) if s is not None else {} for s in sets]
    eras = [e for e in dict.fromkeys(e for sp in split for e in sp)]
    eras.sort(key=lambda e: ERAS.index(e) if e in ERAS else len(ERAS))
    if not eras:
        return [_evaluate(claim, sets, None)]
    return [_evaluate(claim, [sp.get(e) for sp in split], e) for e in eras]


def _load(claim: Claim, found: dict[str, Path],
          loaded: dict[str, ResultSet] | None) -> list[ResultSet | None]:
    loaded = {} if loaded is None else loaded
    sets: list[ResultSet | None] = []
    for name in claim.experiments:
        if name in found and name not in loaded:
            with contextlib.suppress(ValueError):  # no complete run: "not run"
                loaded[name] = load_results(found[name])
        sets.append(loaded.get(name))
    return sets


def _evaluate(claim: Claim, sets: list[ResultSet | None], era: str | None) -> Verdict:
    if claim.one_per_era:  # one file per era: judge (and summarise) one of them
        sets = [s for s in sets if s is not None][:1] or [None]
    if all(s is None for s in sets) or (claim.number != 2 and any(s is None for s in sets)):
        return Verdict(claim.number, claim.title, NOT_RUN, "", [
            "no results for " + ", ".join(claim.experiments)], list(claim.experiments),
            era=era)
    try:
        v = claim.test(sets)  # type: ignore[arg-type]
    except MissingData as err:  # a data condition; a programming error raises
        return Verdict(claim.number, claim.title, INCONCLUSIVE, "", [
            f"the results lack what this claim needs: {err}"], list(claim.experiments),
            era=era)
    v.title, v.era = claim.title, era
    # the claim's own experiment is the last it names (claim 2 reads the calibration too)
    primary = sets[-1] if sets[-1] is not None else next(s for s in sets if s is not None)
    v.worlds = summarise(v.cells, primary)
    return v


def claims_json(verdicts: list[Verdict]) -> dict[str, Any]:
    """``claims.json``: one entry per claim and era (docs/claims.md lists the keys)."""
    out = []
    for v in verdicts:
        w = v.worlds
        out.append({
            "claim": v.claim, "era": v.era, "title": v.title, "status": v.status,
            "p_holds": w.get("p_holds"), "p_low": w.get("p_low"), "p_high": w.get("p_high"),
            "worlds": w.get("worlds", 0), "priors": w.get("priors", []),
            "where": v.where, "deciding_parameters": w.get("deciding_parameters", []),
            "parameter_share": w.get("parameter_share"),
            "follows_from_rules": v.follows_from_rules, "derivation": v.derivation,
            "numbers": v.numbers, "experiments": v.experiments, "notes": v.notes,
            "cells": [{"coords": c.coords, "outcome": c.outcome, "tested": c.tested,
                       "detail": c.detail,
                       "effects": {str(k): x for k, x in sorted(c.effects.items())},
                       "threshold": c.threshold if c.effects else None,
                       "above": c.above if c.effects else None} for c in v.cells],
            "cell_p_holds": w.get("cells", []), "per_world": w.get("per_world", []),
        })
    return {"format": "tao-arena-claims/2", "claims": out}


def claims_report(results_root: str | Path, out_dir: str | Path | None = None, *,
                  experiment_reports: bool = True) -> Path:
    """Write ``claims.md`` and ``claims.json``: a verdict per claim and era, with the
    numbers behind it.

    Args:
        results_root: the results root (``results/``) holding ``<experiment>/<hash>/``.
        out_dir: where to write (default ``results_root``).
        experiment_reports: also write each claim experiment's own ``report.md``.

    Returns:
        The path of ``claims.md``.
    """
    root = Path(results_root)
    out = Path(out_dir) if out_dir else root
    out.mkdir(parents=True, exist_ok=True)
    found = latest_results(root)
    loaded: dict[str, ResultSet] = {}
    by_claim = [(c, evaluate_eras(c, found, loaded)) for c in CLAIMS]
    reports: dict[str, str] = {}
    if experiment_reports:
        for name, rs in loaded.items():
            path = report_one(rs, rs.root)
            reports[name] = str(Path(path).resolve().relative_to(out.resolve())) \
                if out.resolve() in Path(path).resolve().parents else str(path)
    verdicts = [v for _, vs in by_claim for v in vs]
    write_json(out / "claims.json", claims_json(verdicts))
    figure = worlds_figure(verdicts, out / "fig_claims_worlds.png")
    return write_text(out / "claims.md", claims_markdown(
        by_claim, reports, figure=figure.name if figure else None))
