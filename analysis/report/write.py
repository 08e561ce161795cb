"""Writing ``report.md``: a readable report of one experiment's results.

Writes ``report.md`` and PNG figures next to the results (issue 6). Every number in the
text is computed here from the run files, with its interval; nothing is typed in by hand.
What it contains and how to read it: ``docs/report.md``.

Methods (the statistics live in ``analysis.stats`` and ``analysis.game``):

- Payoffs per run and strategy (``analysis.payoffs``), the seed the unit of replication;
  means across seeds with 95% intervals (``analysis.stats.mean_ci``: Student-t below 20
  seeds, BCa bootstrap from 20, Efron 1987; "no variation across seeds" when they agree).
- Comparisons between cells or strategies are paired on the seed index (common random
  numbers, Law 2015 sec. 11.2); p-values within one table are Holm-corrected (Holm 1979).
- Deviation gains from the all-honest profile and its regret (Wellman 2006).
- The miner x validator table of monomorphic profiles as an empirical game: Nash
  equilibria by replicator dynamics and support enumeration, replicator trajectories
  (Taylor & Jonker 1978), alpha-Rank (Omidshafiei et al. 2019) in its large-alpha limit.
- Phase diagrams over two swept parameters: the winning strategy of each role per cell,
  hatched where the winner's lead is not significant (the paired 95% interval of winner
  minus runner-up covers 0), with the contour of the cells where honest play stays an
  equilibrium.
- Time series (cumulative profit, network metrics): mean across seeds with a pointwise
  95% t-interval (Student), computed per epoch.
"""



from pathlib import Path
from typing import Any

import numpy as np

from analysis import figures as F
from analysis.deviations import (
    EPSILON_SHARE,
    EPSILON_USD_PER_DAY,
    MIN_EFFECT_SHARE,
)
from analysis.output import json_safe, write_json, write_text
from analysis.report.findings import Analysis
from analysis.report.format import Doc, axis_title, fmt, fmt_est
from analysis.report.game_sections import (
    deviation_section,
    game_section,
    phase_section,
    rolesym_section,
)
from analysis.results import ResultSet, find_result_dirs, load_results
from analysis.stats import Estimate, mean_ci, seeds_for_half_width

NETWORK_METRICS = {
    "alignment": "Spearman rho (quality vs incentive)",
    "gini_emission": "Gini of emission",
    "nakamoto_stake": "validators holding > 50% stake",
    "compute_per_useful_answer": "(computed + graded) / useful",
}
MAX_FOREST_CELLS = 8


def report(results_dir: Path) -> Path:
    """The report hook of ``tao-arena main`` (``experiments.runner.report_hook``): writes
    the report of ``results_dir`` next to it and returns the path of ``report.md``."""
    return write_report(results_dir)


def write_report(results_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Write ``report.md`` and figures for a results directory (or every one below it).

    Args:
        results_dir: ``results/<experiment>/<hash>/`` (holding ``manifest.json``), or a
            directory above several of them: each gets its own report and an index
            ``report.md`` links them.
        out_dir: where to write (default: next to the results).

    Returns:
        The path of the (top) ``report.md``.
    """
    root = Path(results_dir)
    dirs = find_result_dirs(root)
    if not dirs:
        raise ValueError(f"{root} holds no results directory (no manifest.json below it)")
    if len(dirs) == 1 and dirs[0] == root:
        return report_one(load_results(root), Path(out_dir) if out_dir else root)
    base = Path(out_dir) if out_dir else root
    index = ["# tao-arena reports", "", f"Results below `{root}`:", ""]
    for d in dirs:
        rel = d.relative_to(root)
        try:
            path = report_one(load_results(d), base / rel)
            index.append(f"- [{rel}]({(rel / path.name).as_posix()})")
        except ValueError as err:
            index.append(f"- {rel}: no report ({err})")
    base.mkdir(parents=True, exist_ok=True)
    out = base / "report.md"
    out.write_text("\n".join(index) + "\n")
    return out


def report_one(rs: ResultSet, out: Path) -> Path:
    """Write the report of one results directory into ``out``; returns ``report.md``."""
    out.mkdir(parents=True, exist_ok=True)
    an = Analysis(rs)
    doc = Doc()
    _header(doc, an)
    _payoff_section(doc, an, out)
    _sweep_section(doc, an, out)
    devs = an.deviations()
    deviation_section(doc, an, devs, out)
    rolesym_section(doc, an, out)
    game_section(doc, an, out)
    phase_section(doc, an, devs, out)
    _coalition_section(doc, an, out)
    _network_section(doc, an, out)
    _methods(doc, an)
    path = out / "report.md"
    write_text(path, "\n".join(doc.lines) + "\n")
    write_json(out / "report.json", _report_json(an, doc))
    return path


def _report_json(an: Analysis, doc: Doc) -> dict[str, Any]:
    """report.json: the numbers report.md states (documented in docs/report.md)."""
    rs = an.rs
    return json_safe({
        "format": "tao-arena-report/1",
        "experiment": rs.name,
        "config_hash": rs.manifest.get("config_hash"),
        "runs": len(rs.runs),
        "seeds": len({r.seed_index for r in rs.runs}),
        "epochs": rs.epochs,
        "warmup_epochs": rs.warmup,
        "epochs_per_day": rs.epochs_per_day,
        "tolerances": {"epsilon_usd_per_day": EPSILON_USD_PER_DAY,
                       "epsilon_share_of_income": EPSILON_SHARE,
                       "min_effect_share": MIN_EFFECT_SHARE},
        "figures": doc.figures,
        "seeds_needed_for_epsilon": doc.data.get("seeds_needed_for_epsilon"),
        **{k: doc.data.get(k, []) for k in ("payoffs", "deviations", "equilibria",
                                            "role_symmetric", "games", "network")},
    })


def _header(doc: Doc, an: Analysis) -> None:
    rs = an.rs
    cfg = rs.config
    seeds = sorted({r.seed_index for r in rs.runs})
    runs_meta = rs.manifest.get("runs", {})
    failed = sum(1 for r in runs_meta.values() if r.get("status") == "failed")
    sc = cfg.get("scenario") or {}
    subnets = sc.get("subnets") or []
    doc.add(f"# Report: {rs.name}", "")
    if cfg.get("description"):
        doc.add(str(cfg["description"]).strip(), "")
    sw = rs.manifest.get("software") or {}
    doc.add(
        f"- Results: `{rs.root}` (config hash `{rs.manifest.get('config_hash', '?')}`, "
        f"tao-arena {sw.get('tao_arena', '?')}, commit `{str(sw.get('git_commit'))[:10]}`)",
        f"- Runs: {len(rs.runs)} complete"
        + (f", {failed} failed (left out)" if failed else "")
        + f", over {len(rs.cells)} cell(s) x {len(seeds)} seed(s) (seed indices "
        f"{seeds[0]}..{seeds[-1]}); the seed is the unit of replication.",
        f"- Each run: {rs.epochs} epochs ({fmt(rs.epochs / rs.epochs_per_day)} days at "
        f"{fmt(rs.epochs_per_day)} epochs a day); payoffs skip the first {rs.warmup} epochs "
        "(warm-up: bonds and moving averages start empty).",
    )
    if subnets:
        desc = ", ".join(f"subnet {i}: {s.get('n_uids')} UIDs" for i, s in enumerate(subnets))
        price = (sc.get("price") or {})
        doc.add(f"- Scenario: {desc}; TAO price {price.get('kind', 'constant')} from "
                f"${fmt(float(price.get('initial_usd', float('nan'))))}.")
    pop = cfg.get("population") or []
    if pop:
        doc.add("- Population: " + "; ".join(
            f"{c.get('count')} x {c.get('strategy')}"
            + (f" (subnet {c.get('subnet')})" if c.get("subnet") is not None else "")
            for c in pop) + ".")
    if an.axes:
        doc.add("- Sweep: " + "; ".join(
            f"`{a.name}` ({axis_title(a.paths, cfg)}) in {[a.label(v) for v in a.values]}"
            for a in an.axes) + ".")
    profs = {(c.get("profile") or {}).get("kind") for c in rs.cells.values()} - {None}
    if profs:
        doc.add(f"- Strategy profiles: {', '.join(sorted(profs))}.")
    doc.add("", "Money is in USD; a day is 7,200 blocks. Intervals are 95% "
                "(Student-t over seeds below 20 seeds, BCa bootstrap from 20; 'no variation "
                "across seeds' where every seed gave the same number).", "")


def _payoff_section(doc: Doc, an: Analysis, out: Path) -> None:
    doc.add("## Strategy payoffs", "")
    doc.add("Profit per agent per day after the warm-up (income valued at the epoch's TAO "
            "price, minus GPU, API, grading, server and registration costs), averaged over "
            "a strategy's agents within a run (every cohort together: validators of "
            "different stakes share a row; an agent that left counts with 0 afterwards), "
            "then across seeds. Comparisons that must hold stake fixed are in the deviations "
            "section (each deviator against its own cohort).", "")
    measures = ("profit_usd_per_day", "income_usd_per_day", "cost_usd_per_day",
                "return_on_capital", "survival")
    rows = []
    shown = an.population_cells() or sorted(set(an.table["cell"]))
    if len(shown) < len(set(an.table["cell"])):
        doc.add("The table lists the population as written (the baselines); the cells of "
                "deviation and monomorphic profiles are in their own sections below.", "")
    doc.data["payoffs"] = []
    for k in shown:
        for s in an.strategies_of(k):
            e = {m: an.estimate(k, s, m) for m in measures}
            doc.data["payoffs"].append({
                "cell": dict(an.rs.cells[k].get("overrides") or {}),
                "profile": (an.profile(k) or {}).get("id"), "strategy": s,
                "role": an.roles.get(s, ""),
                **{m: {"mean": e[m].mean, "low": e[m].low, "high": e[m].high,
                       "n": e[m].n, "interval": e[m].method} for m in measures}})
            roc = e["return_on_capital"]
            roc_txt = fmt_est(Estimate(roc.mean * 100, roc.low * 100, roc.high * 100, roc.n,
                                       roc.method), "%") if np.isfinite(roc.mean) else "n/a"
            rows.append([an.labels[k], s, an.roles.get(s, ""),
                         fmt_est(e["profit_usd_per_day"], "$"),
                         fmt_est(e["income_usd_per_day"], "$"),
                         fmt_est(e["cost_usd_per_day"], "$"), roc_txt,
                         fmt(e["survival"].mean)])
    doc.table(["cell", "strategy", "role", "profit $/day", "income $/day", "cost $/day",
               "return on capital %/yr", "survival"], rows)
    cells = an.representative_cells(MAX_FOREST_CELLS)
    items = []
    multi = len(set(an.table["cell"])) > 1
    for k in cells:
        for s in an.strategies_of(k):
            e = an.estimate(k, s)
            items.append(F.Interval(f"{s} | {an.labels[k]}" if multi else s, e.mean, e.low,
                                    e.high, s))
    note = "" if len(cells) == len(set(an.table["cell"])) else \
        f" ({len(cells)} of {len(set(an.table['cell']))} cells shown, spread over the sweep)"
    path = F.forest_figure(items, out / "fig_payoffs.png",
                           title=f"{an.rs.name}: profit per agent per day (95% CI)",
                           xlabel="profit per agent per day (USD)")
    doc.figure(path, "strategy payoffs: mean profit per agent per day across seeds, with "
                     "95% intervals" + note + ".")
    panels = {}
    for k in an.representative_cells():
        bands = []
        for s in an.strategies_of(k):
            b = an.series(k, f"profit_usd_per_agent:{s}", cumulative=True)
            if b is not None:
                bands.append(F.Band(s, b.x, b.mean, b.low, b.high))
        panels[an.labels[k]] = bands
    path = F.cumulative_figure(panels, out / "fig_cumulative.png",
                               title="cumulative profit per agent (mean across seeds, "
                                     "95% pointwise t-band)",
                               ylabel="cumulative profit per agent (USD)")
    doc.figure(path, "cumulative profit per agent over epochs, from epoch 0 (the warm-up "
                     "included), mean across seeds with a pointwise 95% band.")


def _sweep_section(doc: Doc, an: Analysis, out: Path) -> None:
    """The payoff table heatmap: monomorphic game if present, else strategy x cell."""
    games = [g for g in an.games() if len(g.roles) == 2]
    doc.add("## Payoff table", "")
    if games:
        g = games[0]
        rl, cl = g.strategies
        mats, anns = {}, {}
        for i, role in enumerate(g.roles):
            mats[f"{role}s' profit ($/day)"] = g.payoffs[i]
            anns[f"{role}s' profit ($/day)"] = [
                [_cell_text(g.estimates[i].get((a, b))) for b in range(len(cl))]
                for a in range(len(rl))]
        path = F.heatmap_figure(mats, out / "fig_payoff_table.png", row_labels=rl,
                                col_labels=cl, row_title=f"{g.roles[0]} strategy (all "
                                f"{g.roles[0]}s)", col_title=f"{g.roles[1]} strategy (all "
                                f"{g.roles[1]}s)", title=f"monomorphic profiles "
                                f"({g.point_label}): mean [95% CI]",
                                cbar_label="profit per agent per day (USD)", annotations=anns)
        doc.add(f"Each cell of the table is a run in which every {g.roles[0]} plays the row "
                f"strategy and every {g.roles[1]} the column strategy ({g.point_label}).", "")
        doc.figure(path, f"payoff table of the {g.roles[0]} x {g.roles[1]} game: each "
                         "role's mean profit per agent per day with its 95% interval.")
        return
    cells = sorted(set(an.table["cell"]))
    strategies = sorted(set(an.table["strategy"]),
                        key=lambda s: ({"validator": 0, "miner": 1}.get(an.roles.get(s, ""), 2), s))
    mat = np.full((len(strategies), len(cells)), np.nan)
    ann = [["n/a"] * len(cells) for _ in strategies]
    for j, k in enumerate(cells):
        for i, s in enumerate(strategies):
            e = an.estimate(k, s)
            if np.isfinite(e.mean):
                mat[i, j] = e.mean
                ann[i][j] = _cell_text(e)
    labels = [an.labels[k] for k in cells]
    if len(cells) > 6:  # many cells: one row each, strategies across
        path = F.heatmap_figure({"profit ($/day)": mat.T}, out / "fig_payoff_table.png",
                                row_labels=labels, col_labels=strategies,
                                row_title="cell", col_title="strategy",
                                title="payoff table: mean [95% CI] per cell and strategy",
                                cbar_label="profit per agent per day (USD)",
                                annotations={"profit ($/day)": [list(r) for r in zip(*ann,
                                                                                    strict=True)]})
    else:
        path = F.heatmap_figure({"profit ($/day)": mat}, out / "fig_payoff_table.png",
                                row_labels=strategies, col_labels=labels,
                                row_title="strategy", col_title="cell",
                                title="payoff table: mean [95% CI] per strategy and cell",
                                cbar_label="profit per agent per day (USD)",
                                annotations={"profit ($/day)": ann})
    doc.add("No monomorphic profiles in this experiment: the table shows each strategy's "
            "payoff in each cell of the sweep.", "")
    doc.figure(path, "payoff table: mean profit per agent per day of each strategy in "
                     "each cell, annotated with its 95% interval.")
    if len(an.axes) == 1:
        axis = an.axes[0]
        series = {}
        for role in sorted(set(an.roles.values())):
            for s in [s for s, r in an.roles.items() if r == role]:
                pts = []
                for x in axis.values:
                    k = next((c for c in an.population_cells()
                              if axis.coord(an.rs.cells[c].get("overrides") or {}) == x), None)
                    e = an.estimate(k, s) if k is not None else None
                    pts.append(e)
                if any(p is not None and np.isfinite(p.mean) for p in pts):
                    series[s] = pts
        items = [F.Interval(f"{s} @ {axis.label(x)}", e.mean, e.low, e.high, s)
                 for s, pts in series.items() for x, e in zip(axis.values, pts, strict=True)
                 if e is not None and np.isfinite(e.mean)]
        path = F.forest_figure(items, out / "fig_sweep.png",
                               title="profit per agent per day along "
                                     f"{axis_title(axis.paths, an.rs.config)}",
                               xlabel="profit per agent per day (USD)")
        doc.figure(path, f"payoffs along the swept parameter `{axis.name}` (95% intervals).")


def _cell_text(e: Estimate | None) -> str:
    if e is None or not np.isfinite(e.mean):
        return "n/a"
    if not np.isfinite(e.low):
        return fmt(e.mean)
    return f"{fmt(e.mean)}\n[{fmt(e.low)}, {fmt(e.high)}]"


def _coalition_section(doc: Doc, an: Analysis, out: Path) -> None:
    co = an.coalitions()
    if co.empty:
        return
    # the curve's x: the cabal's size if it varies, else its validators' stake share
    if co["size"].nunique() < 2 and co["stake_share"].nunique() >= 2:
        xcol, xname = "stake_share", "cabal's share of validator stake"
    else:
        xcol, xname = "size", "cabal size (members)"
    doc.add("## Coalitions", "")
    series = {}
    rows = []
    for (role, prof), grp in co.groupby(["role", "profile"], sort=False):
        per_run = grp.groupby(["cell", "seed_index", xcol], as_index=False).agg(
            member=("member_profit", "mean"), nonmember=("nonmember_profit", "mean"))
        for what in ("member", "nonmember"):
            pts = []
            for xv, g in per_run.groupby(xcol):
                v = g[what].to_numpy(float)
                v = v[np.isfinite(v)]
                if v.size >= 2:
                    e = mean_ci(v)
                    pts.append((xv, e))
                    rows.append([role, what + "s", prof, fmt(float(xv)), fmt_est(e, "$"),
                                 str(v.size)])
            if pts:
                x = np.array([p[0] for p in pts], float)
                series[f"{role}s, cabal {what}s" + (f" ({prof})" if prof else "")] = (
                    x, np.array([p[1].mean for p in pts]), np.array([p[1].low for p in pts]),
                    np.array([p[1].high for p in pts]))
    if not series:
        return
    doc.add("Profit per agent per day (validators: per 1,000 TAO staked, so that stake "
            "does not pass for membership) of cabal members and of the non-members of the "
            f"same role, by the {xname}, per strategy profile (runs pooled over the cells of one "
            "profile with the same value; a curve never joins different profiles).", "")
    doc.table(["role", "who", "profile", xname,
               "profit $/day [95% CI] (validators: per 1,000 TAO)", "runs"], rows)
    path = F.coalition_figure(series, out / "fig_coalitions.png",
                              title=f"coalition curve: profit per agent by {xname}",
                              xlabel=xname,
                              ylabel="profit per agent per day, USD\n(validators: per 1,000 TAO)")
    doc.figure(path, "coalition curves: profit per cabal member (and per non-member of the "
                     f"same role) against the {xname}, with 95% intervals.")


def _network_section(doc: Doc, an: Analysis, out: Path) -> None:
    doc.add("## Network metrics", "")
    cells = an.representative_cells()
    rows = []
    panels: dict[str, list[F.Band]] = {m: [] for m in NETWORK_METRICS}
    for k in cells:
        row = [an.labels[k]]
        for m in NETWORK_METRICS:
            b = an.series(k, m)
            if b is None or not np.isfinite(b.mean).any():  # not measured: no empty panel
                row.append("n/a")
                continue
            panels[m].append(F.Band(an.labels[k], b.x, b.mean, b.low, b.high))
            vals = []
            for r in an.runs_of(k):
                post = r.metrics.loc[r.metrics["epoch"] >= r.warmup, m].to_numpy(float)
                post = post[np.isfinite(post)]
                if post.size:
                    vals.append(float(post.mean()))
            if len(vals) >= 2:
                e = mean_ci(np.array(vals))
                row.append(fmt_est(e))
                doc.data.setdefault("network", []).append({
                    "cell": dict(an.rs.cells[k].get("overrides") or {}), "metric": m,
                    "mean": e.mean, "low": e.low, "high": e.high, "interval": e.method})
            elif vals:
                row.append(fmt(vals[0]))
            else:
                row.append("n/a")
        rows.append(row)
    doc.add("Post-warm-up means per run, then across seeds (95% intervals):", "")
    doc.table(["cell", *NETWORK_METRICS], rows)
    panels = {k: v for k, v in panels.items() if v}
    path = F.metrics_figure(panels, out / "fig_network.png",
                            title="network metrics over time (mean across seeds, 95% band)",
                            ylabels=NETWORK_METRICS, ylims={"alignment": (-1.05, 1.05)})
    doc.figure(path, "network metrics per epoch: alignment (rank correlation of true quality "
                     "and incentive), Gini of emission, Nakamoto coefficient of validator "
                     "stake, and compute spent per useful answer.")


def _seeds_needed(an: Analysis) -> int | None:
    """How many seeds would resolve every deviation gain to epsilon (the seed advisor, from
    the pilot variance of these runs); None without deviation gains that vary."""
    need = []
    for d in an.deviations():
        for x in d.deviations:
            g = np.array([x.deviator[s] - x.baseline[s] for s in x.seeds])
            if len(g) >= 2 and np.std(g) > 0:
                need.append(seeds_for_half_width(d.epsilon / 2, pilot=g))
    return max(need) if need else None


def _methods(doc: Doc, an: Analysis) -> None:
    need = doc.data["seeds_needed_for_epsilon"] = _seeds_needed(an)
    advice = "" if need is None else (
        f"- Seeds: {len({r.seed_index for r in an.rs.runs})}; for every deviation gain's 95% "
        "interval to be at most epsilon wide the seed advisor "
        f"(`analysis.stats.seeds_for_half_width`, from these runs' variance) asks for {need}.")
    doc.add("## Methods", "",
            "- Payoff of a strategy in a run: with per-agent records, the mean over the "
            "agents that started the window playing it of each one's profit per day over "
            "the window (an agent that exits or is deregistered earns 0 afterwards and keeps "
            "the costs it paid); without them, the mean over post-warm-up epochs of its "
            "living agents' profit (`analysis/payoffs.py`); per day = per epoch x "
            f"{fmt(an.rs.epochs_per_day)}.",
            *([advice] if advice else []),
            "- Intervals: Student-t across seeds below 20 seeds, BCa bootstrap from 20 "
            "(`analysis.stats.mean_ci`; `scipy.stats.bootstrap`, Efron 1987); "
            "time-series bands: pointwise Student t-intervals across seeds.",
            "- Paired comparisons on the seed index (common random numbers); deviation "
            "gains against the deviator's own cohort in the paired baseline run "
            "(`analysis/deviations.py`), one-sided t-tests Holm-corrected within each sweep "
            "point; the baseline is an epsilon-equilibrium when every gain's upper bound "
            "is below epsilon (Tuyls et al. 2020).",
            "- Empirical game: Wellman 2006; equilibria by replicator dynamics + support "
            "enumeration (`analysis.game.find_equilibria`); alpha-Rank: Omidshafiei et al. "
            "2019, multi-population, alpha swept to its large-alpha limit.",
            "- How to read this report: `docs/report.md`.", "")
