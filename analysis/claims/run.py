"""Running the claims: find each claim's latest results, evaluate it, write ``claims.md``."""

from __future__ import annotations

import contextlib
from pathlib import Path

from analysis.claims.cells import MissingData
from analysis.claims.network import _claim6, _claim7, _claim8, _claim9, _claim10, _claim12
from analysis.claims.payouts import _claim1, _claim2
from analysis.claims.strategies import _claim3, _claim4, _claim5, _claim11
from analysis.claims.verdicts import INCONCLUSIVE, NOT_RUN, Claim, Verdict
from analysis.payoffs import ResultSet, find_result_dirs, load_results
from analysis.report import report_one

CLAIMS: tuple[Claim, ...] = (
    Claim(1, "Validators out-earn miners by a wide margin; the top earners are validators.",
          ("claim01_sn1_calibration",), _claim1),
    Claim(2, "Miner payouts are flat: quality barely moves a miner's income.",
          ("claim01_sn1_calibration", "claim02_flat_payouts"), _claim2),
    Claim(3, "Weight copying pays as well as honest grading at lower cost, unless "
             "commit-reveal or bonds make it stale enough to lose.",
          ("claim03_weight_copying",), _claim3),
    Claim(4, "Miner cabals that copy one answer are more cost-effective than paying per "
             "answer.", ("claim04_copy_cabals",), _claim4),
    Claim(5, "Pass-through miners beat honest GPU miners when validators are weaker graders "
             "than the API model.", ("claim05_passthrough",), _claim5),
    Claim(6, "Inferior validators cannot rank superior miners: alignment collapses once miner "
             "quality exceeds validator capability.", ("claim06_alignment",), _claim6),
    Claim(7, "Small subnets are cheap to take over: the stake needed scales with the "
             "subnet's own stake, not the network's.", ("claim07_takeover",), _claim7),
    Claim(8, "A poison-pill validator that gathered trust and delegation can turn and "
             "capture emission.", ("claim08_poison_pill",), _claim8),
    Claim(9, "Delegation follows popularity, so stake concentrates over time (the Nakamoto "
             "coefficient falls).", ("claim09_delegation",), _claim9),
    Claim(10, "The network spends N + V times the compute of one useful answer.",
          ("claim10_overhead",), _claim10),
    Claim(11, "Validators favouring their own miners, at a rate that avoids mass exits, go "
              "unpunished.", ("claim11_cabal_validators",), _claim11),
    Claim(12, "As inflows fall, cabals consolidate.", ("claim12_consolidation",), _claim12),
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


def evaluate(claim: Claim, found: dict[str, Path],
             loaded: dict[str, ResultSet] | None = None) -> Verdict:
    """The verdict of one claim from the results directories ``found`` (name -> dir)."""
    loaded = {} if loaded is None else loaded
    sets: list[ResultSet | None] = []
    for name in claim.experiments:
        if name in found and name not in loaded:
            with contextlib.suppress(ValueError):  # no complete run: "not run"
                loaded[name] = load_results(found[name])
        sets.append(loaded.get(name))
    if all(s is None for s in sets) or (claim.number != 2 and any(s is None for s in sets)):
        return Verdict(claim.number, claim.title, NOT_RUN, "", [
            "no results for " + ", ".join(claim.experiments)], list(claim.experiments))
    try:
        v = claim.test(sets)  # type: ignore[arg-type]
    except MissingData as err:  # a data condition; a programming error raises
        return Verdict(claim.number, claim.title, INCONCLUSIVE, "", [
            f"the results lack what this claim needs: {err}"], list(claim.experiments))
    v.title = claim.title
    return v


def claims_report(results_root: str | Path, out_dir: str | Path | None = None, *,
                  experiment_reports: bool = True) -> Path:
    """Write ``claims.md``: a verdict per claim, with the numbers behind it.

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
    verdicts = [evaluate(c, found, loaded) for c in CLAIMS]
    reports: dict[str, str] = {}
    if experiment_reports:
        for name, rs in loaded.items():
            path = report_one(rs, rs.root)
            reports[name] = str(Path(path).resolve().relative_to(out.resolve())) \
                if out.resolve() in Path(path).resolve().parents else str(path)
    lines = ["# The claims of the report: verdicts", "",
             "Each claim of ../shared/MODEL.md section 7, tested on its experiment in "
             "`experiments/configs/claims/`. Verdicts: **holds**, **does not hold**, **holds "
             "in part** (where is said), **inconclusive** (no interval decided), **not run**. "
             "Numbers are means over seeds with 95% intervals (Student-t below 20 seeds, BCa "
             "from 20; no variation across seeds decides nothing); how each claim is tested "
             "is in `analysis/claims/` and `docs/report.md`.", "",
             "| # | claim | verdict | where |", "|---|---|---|---|"]
    for v in verdicts:
        lines.append(f"| {v.claim} | {v.title} | **{v.status}** | {v.where or '-'} |")
    lines.append("")
    for v in verdicts:
        lines += [f"## Claim {v.claim}: {v.title}", "", f"**Verdict: {v.status}.**"
                  + (f" {v.where[0].upper() + v.where[1:]}." if v.where else ""), ""]
        lines += [f"- {n}" if not n.startswith("  ") else n for n in v.numbers]
        if v.numbers:
            lines.append("")
        if v.cells:
            axes = list(dict.fromkeys(a for c in v.cells for a in c.coords))  # sweep order
            lines += ["| " + " | ".join([*axes, "outcome", "numbers"]) + " |",
                      "|" + "---|" * (len(axes) + 2)]
            for c in v.cells:
                oc = ("holds" if c.outcome else "fails" if c.outcome is False else
                      "inconclusive") if c.tested else "not judged"
                lines.append("| " + " | ".join([*(c.coords.get(a, "") for a in axes), oc,
                                                c.detail]) + " |")
            lines.append("")
        for n in v.notes:
            lines += [f"*Note: {n}*", ""]
        exps = [f"[`{e}`]({reports[e]})" if e in reports else f"`{e}`" for e in v.experiments]
        lines += [f"Experiment: {', '.join(exps)}.", ""]
    path = out / "claims.md"
    path.write_text("\n".join(lines) + "\n")
    return path
