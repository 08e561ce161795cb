"""The report's sections on the empirical game: deviations from the baseline (with the
epsilon-equilibrium test), the game of monomorphic profiles (equilibria, alpha-Rank,
replicator dynamics; sweep points that give the same game analysed once) and the phase
diagrams."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from analysis import figures as F
from analysis.deviations import (
    EPSILON_SHARE,
    EPSILON_USD_PER_DAY,
    MIN_EFFECT_SHARE,
    DeviationResult,
)
from analysis.game import replicator_trajectory_two_pop
from analysis.game.replicator import rest_points_two_pop, slowest_time
from analysis.report.findings import Analysis, GameResult
from analysis.report.format import Doc, fmt, fmt_est


def deviation_section(doc: Doc, an: Analysis, devs: list[DeviationResult], out: Path
                       ) -> None:
    doc.add("## Deviations from all-honest (and from the pure profiles asked for)", "")
    doc.data["deviations"], doc.data["equilibria"] = [], []
    if not devs:
        doc.add("This experiment has no deviation profiles with per-agent records "
                "(`profiles: deviations: true` in the experiment file asks for them).", "")
        return
    doc.add("One agent of a cohort switches strategy; its **gain** is its profit per day "
            "minus that of the same cohort (same population entry: same stake, same "
            "parameters) in the baseline run of the same seed. An agent that is "
            "deregistered earns 0 afterwards and keeps the costs it paid. *epsilon*: "
            f"the larger of ${fmt(EPSILON_USD_PER_DAY)}/day and {EPSILON_SHARE:.0%} of the "
            "smallest deviating cohort's baseline income; the baseline is an "
            "epsilon-equilibrium when the upper bound of every gain is below it. A "
            "deviation is significant when Holm's correction rejects a one-sided t-test "
            f"and its gain exceeds {MIN_EFFECT_SHARE:.0%} of the smaller payoff.", "")
    for d in devs:
        eq = d.is_equilibrium()
        sig = [x.label for x in d.deviations if x.significant]
        doc.add(f"At {d.point_label}" + ("" if d.base == "baseline" else
                                          f", deviating from the pure profile `{d.base}`")
                + f" ({d.n_seeds} paired seeds, epsilon {fmt(d.epsilon, '$')}/day): "
                + ("the baseline " if d.base == "baseline" else "the profile ")
                + ("**is** an epsilon-equilibrium" if eq else "is **not** an "
                   "epsilon-equilibrium")
                + f" (largest upper bound of a gain: {fmt(d.max_gain_upper, '$')}/day). "
                + (f"Deviations that gain significantly: {', '.join(sig)}." if sig else
                   "No deviation gains significantly."), "")
        doc.table(["deviation", "cohort", "gain $/day [95% CI]", "per 1,000 TAO staked",
                   "one-sided p", "significant"],
                  [[x.label, str(x.cohort), fmt_est(x.gain, "$"), fmt_est(x.per_stake, "$"),
                    fmt(x.p_value),
                    f"same as {x.same_as}" if x.same_as else "yes" if x.significant else "no"]
                   for x in d.deviations])
        same = [x for x in d.deviations if x.same_as]
        if same:
            doc.add("Degenerate here: " + "; ".join(
                f"{x.target} behaves exactly as {x.same_as} (every agent's income and stake "
                "equal in every seed), so it is not a separate finding" for x in same) + ".",
                "")
        cell = {p: _plain(v) for p, v in d.overrides.items()}
        for x in d.deviations:
            doc.data["deviations"].append({
                "cell": cell, "role": x.role, "from": x.source, "to": x.target,
                "cohort": x.cohort, "gain_usd_per_day": x.gain.mean, "low": x.gain.low,
                "high": x.gain.high, "p_value": x.p_value, "significant": x.significant,
                "interval": x.gain.method, "n_seeds": len(x.seeds), "same_as": x.same_as,
                "deviator_usd_per_day": float(np.mean([x.deviator[s] for s in x.seeds])),
                "baseline_usd_per_day": float(np.mean([x.baseline[s] for s in x.seeds])),
                "gain_usd_per_day_per_1000_tao": x.per_stake.mean})
        doc.data["equilibria"].append({
            "cell": cell, "profile": d.base, "epsilon_usd_per_day": d.epsilon,
            "max_gain_upper": d.max_gain_upper, "is_equilibrium": d.is_equilibrium()})
    panels: dict[str, list[F.Interval]] = {}
    multi = len(devs) > 1
    for d in devs:
        for x in d.deviations:
            label = (f"{x.source} -> {x.target}" + (f" | {d.point_label}" if multi else "")
                     + ("" if d.base == "baseline" else f" | from {d.base}"))
            panels.setdefault(x.role, []).append(
                F.Interval(label, x.gain.mean, x.gain.low, x.gain.high, x.target))
    path = F.deviation_figure(panels, out / "fig_deviations.png",
                              title="gain of one agent deviating from the baseline, against "
                                    "its own cohort in the paired baseline run",
                              xlabel="gain (USD/day)",
                              epsilon=devs[0].epsilon if len(devs) == 1 else None)
    doc.figure(path, "deviation gains from the baseline profile, one panel per role: the "
                     "deviator's profit minus its cohort's in the baseline, paired by seed, "
                     "with 95% intervals; colour = the strategy deviated to; right of zero, "
                     "deviating pays.")


def _plain(v: Any) -> Any:
    """A swept value as JSON holds it."""
    return v.item() if isinstance(v, np.generic) else v


def rolesym_section(doc: Doc, an: Analysis, out: Path) -> None:
    """The role-symmetric game (players are agents): its pure profiles' deviation gains,
    equilibria by a bound, and alpha-Rank over it (``analysis.game.rolesym``)."""
    games = an.role_symmetric()
    doc.add("## The role-symmetric game: players are agents", "")
    doc.data["role_symmetric"] = []
    if not games:
        doc.add("No pure profile of this experiment was run with its single deviations "
                "(`profiles: deviations: true` from an all-one-strategy population, or "
                "`profiles: pure`), so there is no role-symmetric game to analyse.", "")
        return
    doc.add("The players are the agents: a pure profile gives every agent of a role one "
            "strategy, and what an agent can do is switch **alone**. A profile's incentive "
            "to leave it is each single deviation's gain (above, against the deviator's own "
            "cohort). alpha-Rank (Omidshafiei et al. 2019; m = 50, alpha swept to its "
            "large-alpha limit) runs over the profiles that were run, with the fixation "
            "probability of a mutant whose fitness advantage is the single agent's gain: its "
            "mass settles on the profiles no single agent leaves profitably (among those "
            "run: a better response to a profile not run is listed, not followed). It "
            "differs from the game of "
            "whole-role switches below, where a strategy is judged by what *every* agent of "
            "the role earns when all switch together.", "")
    for g in games:
        gm, roles = g.game, list(g.game.roles)
        sizes = " x ".join(f"{len(s)} {r}" for r, s in zip(roles, gm.strategies, strict=True))
        doc.add(f"### {g.point_label}", "")
        eps = g.epsilon
        open_moves = [(p, gm.roles[k], r, gain) for p in g.run
                      for gain, k, r in gm.better_responses(p, eps)
                      if tuple(r if i == k else x for i, x in enumerate(p)) not in g.run]
        doc.add(f"The game over {sizes} strateg{'y' if gm.sizes == (1,) else 'ies'}: "
                f"{len(g.run)} of its {len(gm.profiles())} pure profiles were run with all "
                "their single deviations"
                + (f"; not pure profiles (a role plays several strategies), so not in this "
                   f"game: {', '.join(g.not_pure)}" if g.not_pure else "") + ". "
                + ("Every better response the runs establish leads to a profile that was run."
                   if not open_moves else
                   "Better responses the runs establish that lead to profiles not run "
                   "(alpha-Rank below cannot follow them; `tao-arena psro` runs them): "
                   + "; ".join(f"from {' / '.join(p)} one {role} gains {fmt(gain, '$')}/day "
                               f"by playing {r}" for p, role, r, gain in open_moves) + "."),
                "")
        bound = set(gm.equilibria(eps, bound=True))
        nash = set(gm.equilibria())
        pi = (dict(zip(map(tuple, ([gm.strategies[k][i] for k, i in enumerate(p)]
                                   for p in g.sweep.final.profiles)), g.sweep.final.pi,
                       strict=True)) if g.sweep is not None else {})
        rows, data = [], []
        for p in g.run:
            devs = gm.measured_deviations(p)
            ups = [gm.upper.get((p, k, r), math.nan) for k, r in devs]
            top = max(ups) if ups and all(np.isfinite(ups)) else math.nan
            mass = pi.get(p, 1.0 if g.sweep is None else math.nan)
            rows.append([" / ".join(p), fmt(top, "$"), "yes" if p in bound else "no",
                         "yes" if p in nash else "no", f"{mass:.3f}"])
            data.append({"profile": dict(zip(roles, p, strict=True)), "base": g.bases.get(p),
                         "max_gain_upper": top, "is_equilibrium": p in bound,
                         "nash_of_means": p in nash, "alpharank": mass})
        doc.table([" / ".join(roles), "largest gain upper bound $/day",
                   f"epsilon-equilibrium (epsilon {fmt(eps, '$')}/day)",
                   "no mean gain > 0", "alpha-Rank mass"], rows)
        if g.sweep is None:
            doc.add("One profile: alpha-Rank needs the deviations of at least two pure "
                    "profiles (`profiles: pure` asks for them).", "")
        else:
            fin = g.sweep.final
            labels = [" / ".join(gm.strategies[k][i] for k, i in enumerate(p))
                      for p in fin.profiles]
            doc.add("alpha-Rank" + (f" converged at alpha = {g.sweep.converged_alpha:.3g}"
                                    if g.sweep.converged_alpha else
                                    " did not converge within the sweep") + ": "
                    + "; ".join(f"{labels[i]} {fin.pi[i]:.3f}" for i in fin.ranking[:3])
                    + ".", "")
            path = F.alpharank_figure(
                labels, fin.pi, {r: (list(gm.strategies[k]), fin.marginals[k])
                                 for k, r in enumerate(roles)},
                out / f"fig_alpharank_agents{'' if g is games[0] else f'_{g.point}'}.png",
                title=f"alpha-Rank of the role-symmetric game, agents as players "
                      f"({g.point_label})")
            doc.figure(path, "alpha-Rank over pure role-symmetric profiles, a mutation being "
                             "one agent's switch with its measured gain: stationary mass of "
                             "each profile (left) and of each role's strategies (right).")
        doc.data["role_symmetric"].append({
            "cell": {p: _plain(v) for p, v in an.overrides_of_point(g.point).items()},
            "roles": roles, "strategies": [list(s) for s in gm.strategies],
            "profiles_spanned": len(gm.profiles()), "not_pure": g.not_pure,
            "open_better_responses": [
                {"from": dict(zip(roles, p, strict=True)), "role": role, "to": r,
                 "gain_usd_per_day": gain} for p, role, r, gain in open_moves],
            "epsilon_usd_per_day": eps,
            "alpha_converged": None if g.sweep is None else g.sweep.converged_alpha,
            "profiles": data})


def game_section(doc: Doc, an: Analysis, out: Path) -> None:
    games = an.games()
    doc.add("## The game of whole-role switches: equilibria, alpha-Rank, replicator dynamics",
            "")
    two = [g for g in games if len(g.roles) == 2 and g.alpharank is not None]
    if not two:
        doc.add("This experiment has no complete miner x validator table of monomorphic "
                "profiles (`profiles: monomorphic: true` with strategy sets for two roles), "
                "so there is no game to solve.", "")
        return
    doc.data["games"] = []
    for g, same in _distinct_games(two):
        label = g.point_label + "".join(f"; {o.point_label}" for o in same)
        doc.add(f"### {label}", "")
        if same:
            doc.add(f"These {len(same) + 1} sweep points give the same game (every mean "
                    f"payoff within {SAME_GAME_SHARE:.0%} of its role's payoff range): one "
                    "analysis and one set of figures for all of them.", "")
        rl, cl = g.strategies
        mix = lambda v, names: ", ".join(  # noqa: E731
            f"{n} {p:.2f}" for n, p in zip(names, v, strict=True) if p > 1e-3)
        if g.equilibria:
            rows = [[mix(e.x, rl), mix(e.y, cl), fmt(e.regret), f"{e.basin:.2f}", e.found_by]
                    for e in g.equilibria]
            doc.add("Nash equilibria of the table of means (replicator dynamics from 64 "
                    "random starts, each role's payoffs in its own unit, run until each "
                    "start comes to rest, plus support enumeration; basin = the fraction of "
                    "starts that converge there):", "")
            doc.table([f"{g.roles[0]} mix", f"{g.roles[1]} mix", "regret ($/day)",
                       "basin", "found by"], rows)
        ar = g.alpharank
        labels = [f"{rl[p[0]]} / {cl[p[1]]}" for p in ar.profiles]
        top = ar.ranking[:3]
        doc.add("alpha-Rank (multi-population, m = 50, alpha swept to the large-alpha "
                "limit" + (f", converged at alpha = {g.alpha_converged:.3g}" if
                           g.alpha_converged else ", not converged within the sweep") + "): "
                + "; ".join(f"{labels[i]} {ar.pi[i]:.3f}" for i in top) + ".", "")
        path = F.alpharank_figure(labels, ar.pi, {
            g.roles[0]: (rl, ar.marginals[0]), g.roles[1]: (cl, ar.marginals[1])},
            out / f"fig_alpharank{_suffix(g, two)}.png",
            title=f"alpha-Rank of the {g.roles[0]} x {g.roles[1]} game ({label})")
        doc.figure(path, "alpha-Rank: stationary mass of each joint profile (left) and of "
                         "each role's strategies (right); mass concentrates on the profiles "
                         "evolution keeps returning to.")
        a, b = g.payoffs
        ua, ub = a / _range(a), b / _range(b)
        gen = np.random.default_rng(0)
        starts = [(np.full(len(rl), 1 / len(rl)), np.full(len(cl), 1 / len(cl)))]
        starts += [(gen.dirichlet(np.ones(len(rl))), gen.dirichlet(np.ones(len(cl))))
                   for _ in range(5)]
        rests = rest_points_two_pop(a, b, starts)
        t_rest = np.array([r[2] for r in rests])
        horizon = (float(np.nanmax(t_rest)) if np.isfinite(t_rest).any()
                   else slowest_time(ua, ub))
        trajs = []
        for x0, y0 in starts:
            tr = replicator_trajectory_two_pop(ua, ub, x0, y0, t_max=horizon, n_points=401)
            trajs.append((tr.t, tr.x, tr.y))
        path = F.replicator_figure(trajs, (rl, cl), out / f"fig_replicator{_suffix(g, two)}.png",
                                   title=f"replicator dynamics ({label}); thick: uniform "
                                         "start, thin: random starts",
                                   roles=(f"{g.roles[0]}s", f"{g.roles[1]}s"))
        end_x, end_y, t0 = rests[0]
        doc.add(("From the uniform mix, the replicator dynamics come to rest (at time "
                 f"{fmt(t0)}) at " if np.isfinite(t0) else
                 "From the uniform mix, the replicator dynamics do not come to rest by time "
                 f"{fmt(horizon)}; they are at ")
                + mix(end_x, rl) + f" ({g.roles[0]}s) and " + mix(end_y, cl)
                + f" ({g.roles[1]}s).", "")
        doc.figure(path, "replicator trajectories of each role's strategy mix on the payoff "
                         "table (each role's payoffs scaled by their own range), until the "
                         "starts come to rest.")
        for pt in [g, *same]:
            doc.data["games"].append({
                "cell": {p: _plain(v) for p, v in an.overrides_of_point(pt.point).items()},
                "roles": g.roles, "strategies": g.strategies,
                "payoffs_usd_per_day": [t.tolist() for t in pt.payoffs],
                "same_game_as": None if pt is g else g.point_label,
                "equilibria": [{"mixes": [m.tolist() for m in e.mixes], "regret": e.regret,
                                "basin": e.basin, "found_by": e.found_by}
                               for e in g.equilibria],
                "alpharank": {" / ".join(lab.split(" / ")): float(p)
                              for lab, p in zip(labels, ar.pi, strict=True)},
                "uniform_start_rest": {"converged": bool(np.isfinite(t0)),
                                       "mixes": [end_x.tolist(), end_y.tolist()]}})


SAME_GAME_SHARE = 0.02
"""Two sweep points give the same game when every mean payoff differs by less than this
share of its role's payoff range."""


def _distinct_games(games: list[GameResult]) -> list[tuple[GameResult, list[GameResult]]]:
    """The games in order, each with the later sweep points that give the same game."""
    out: list[tuple[GameResult, list[GameResult]]] = []
    for g in games:
        for first, same in out:
            if first.strategies == g.strategies and all(
                    np.max(np.abs(p - q)) <= SAME_GAME_SHARE * _range(p)
                    for p, q in zip(first.payoffs, g.payoffs, strict=True)):
                same.append(g)
                break
        else:
            out.append((g, []))
    return out


def _suffix(g: GameResult, games: list[GameResult]) -> str:
    return "" if g is games[0] else f"_{g.point}"


def _range(a: np.ndarray) -> float:
    r = float(np.ptp(a))
    return r if r > 0 else 1.0


def phase_section(doc: Doc, an: Analysis, devs: list[DeviationResult], out: Path) -> None:
    phases = an.phases([d for d in devs if d.base == "baseline"])
    doc.add("## Phase diagrams", "")
    if not phases:
        doc.add("A phase diagram needs a sweep over at least two parameters with at least two "
                "strategies of one role; this experiment has "
                f"{len(an.axes)} swept parameter(s).", "")
        return
    for ph in phases:
        p = out / f"fig_phase_{ph.role}.png"
        path = F.phase_figure(ph.x_values, ph.y_values, ph.winner, ph.overlap, ph.honest_eq,
                              ph.names, p, xlabel=ph.x_path, ylabel=ph.y_path,
                              title=(f"best response of one {ph.role} to the baseline "
                                     "(profit/day)" if ph.best_response else
                                     f"best-paid {ph.role} strategy per cell (profit/day)"),
                              annotations=ph.annotations)
        counts = {n: int(np.sum(ph.winner == i)) for i, n in enumerate(ph.names)}
        doc.add(f"{ph.role.capitalize()}s: " + ", ".join(
            f"{n} wins {c} of {ph.winner.size} cells" for n, c in counts.items() if c)
            + f"; the lead is not significant in {int(ph.overlap.sum())} cell(s) (hatched)."
            + ("" if ph.honest_eq is None else
               f" Honest play is an epsilon-best response of the {ph.role}s in "
               f"{int(np.nansum(ph.honest_eq))} of {int(np.sum(np.isfinite(ph.honest_eq)))} "
               "cells (inside the black outline: the upper bound of every deviation gain of "
               "the role is below epsilon; the all-honest profile is an epsilon-equilibrium "
               "where this holds for every role)."),
            "")
        held = f" ({'; '.join(ph.fixed)})" if ph.fixed else ""
        what = ("the best response to the baseline (the strategy one agent earns most "
                "with when all others play the baseline)" if ph.best_response else
                "the strategy with the highest mean profit")
        doc.figure(path, f"phase diagram of the {ph.role}s over `{ph.x_path}` x "
                         f"`{ph.y_path}`{held}: colour = {what}, "
                         "hatched where its lead is not significant (the paired 95% "
                         "interval covers 0 or the lead is below the minimum effect size), "
                         "black outline around the cells where honest play is an "
                         "epsilon-best response of this role.")


