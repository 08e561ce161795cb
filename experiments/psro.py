"""``tao-arena psro``: grow the profiles of a role-symmetric game where the data lead.

An experiment with a ``profiles:`` block names strategy sets per role; the role-symmetric
game over them (players are agents, ``analysis.game.rolesym``) has one pure profile per
combination, and each costs a run of the profile plus one per single deviation, per sweep
point and seed. Running them all is rarely affordable; most are never reached by anyone
acting in their own interest. This loop runs the ones that are, in the manner of the
double oracle (McMahan, Gordon & Blum 2003) and PSRO (Lanctot et al. 2017) restricted to
pure profiles:

1. run the file as written: the baseline and every single deviation from it (and the
   ``pure`` profiles it names, with theirs);
2. analyse the role-symmetric game of what has run (``analysis.report``'s deviation gains
   against each deviator's own cohort, paired by seed);
3. from every profile that has run, the best response the data *establish* (the single
   deviation with the largest mean gain among those whose lower confidence bound exceeds
   the report's epsilon) leads to the profile where that role plays the deviation's
   strategy; each such profile not yet run is added to ``profiles.pure``;
4. repeat until no established better response leads to a new profile (every profile
   reached has run: the game's epsilon-equilibria among them are found, or a cycle is
   closed) or ``budget`` profiles have been added.

Every iteration is a complete experiment of its own (results/<name>/<hash>/, rerunnable
with the same command); runs an earlier iteration completed are copied, not run again
(``experiments.reuse``). It writes ``psro.json`` and ``psro.md`` in
``<results root>/<name>/psro/`` and the report of the last iteration's results.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from experiments.loader import ConfigError, Issue
from experiments.plan import Plan, load_plan
from experiments.reuse import RunIndex
from experiments.runner import Outcome, report_hook, results_root, run_plan
from experiments.schema import ROLES

PSRO_DIR = "psro"


def _pure_adder(pure: list[dict[str, str]]) -> Any:
    def edit(raw: dict[str, Any]) -> str:
        exp = raw.get("experiment", raw) if isinstance(raw.get("experiment"), dict) else raw
        profiles = exp.get("profiles")
        if not isinstance(profiles, dict) or not any(profiles.get(r) for r in ROLES):
            raise ConfigError(str(exp.get("name", "the file")), [Issue(
                ("profiles",), "psro needs a profiles: block with a strategy set per role "
                               f"(any of {', '.join(ROLES)})")])
        profiles["deviations"] = True
        named = list(profiles.get("pure") or [])
        profiles["pure"] = named + [p for p in pure if p not in named]
        return f"psro: {len(pure)} pure profile(s) added"
    return edit


def _established(results_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(games, moves) of the role-symmetric game in ``results_dir``: per sweep point its
    profiles with their bound-equilibrium verdicts, and every best response the data
    establish from a profile that has run, with the profile it leads to."""
    from analysis.report.findings import Analysis
    from analysis.results import load_results

    an = Analysis(load_results(results_dir))
    games, moves = [], []
    for g in an.role_symmetric():
        gm, roles = g.game, g.game.roles
        bound = set(gm.equilibria(g.epsilon, bound=True))
        games.append({"cell": an.overrides_of_point(g.point), "roles": list(roles),
                      "epsilon_usd_per_day": g.epsilon,
                      "profiles": [{"profile": dict(zip(roles, p, strict=True)),
                                    "is_equilibrium": p in bound} for p in g.bases]})
        for prof in g.bases:
            best = gm.better_responses(prof, g.epsilon)
            if not best:
                continue
            gain, k, r = best[0]
            new = tuple(r if i == k else s for i, s in enumerate(prof))
            moves.append({"cell": an.overrides_of_point(g.point),
                          "from": dict(zip(roles, prof, strict=True)), "role": roles[k],
                          "to": r, "gain_usd_per_day": gain,
                          "low": gm.lower[(prof, k, r)],
                          "profile": dict(zip(roles, new, strict=True)),
                          "already_run": new in g.bases})
    return games, moves


def psro(path: str | Path, budget: int, *, root: str | Path | None = None,
         backend: str = "serial", workers: int | None = None, progress: bool = True,
         stream: TextIO | None = None) -> tuple[Path, int]:
    """Run the loop of the module docstring on the experiment file ``path``; returns
    (the path of ``psro.json``, exit code: 0, or 1 when runs failed)."""
    from analysis.output import write_json, write_text

    if budget < 0:
        raise ValueError(f"--budget must be >= 0, got {budget}")
    stream = stream or sys.stderr
    pure: list[dict[str, str]] = []
    index = RunIndex()
    iterations: list[dict[str, Any]] = []
    stopped = "budget spent"
    plan: Plan | None = None
    outcome: Outcome | None = None
    while True:
        plan = load_plan(path, edit=_pure_adder(pure))
        outcome = run_plan(plan, root=root, backend=backend, workers=workers,
                           progress=progress, stream=stream, reuse=index,
                           command=["tao-arena", "psro", str(path), "--budget", str(budget)])
        print(outcome.report(), file=stream)
        if outcome.failed:
            stopped = "runs failed"
            break
        index.add(plan, outcome.results_dir)
        games, moves = _established(outcome.results_dir)
        fresh = [m for m in moves if not m["already_run"]]
        added = []
        for m in sorted(fresh, key=lambda m: -m["gain_usd_per_day"]):
            if m["profile"] not in pure and m["profile"] not in added:
                added.append(m["profile"])
        room = budget - len(pure)
        iterations.append({
            "iteration": len(iterations), "results": str(outcome.results_dir),
            "pure_profiles_added_so_far": list(pure), "runs": _runs(outcome),
            "games": games, "better_responses": moves, "adds": added[:max(room, 0)]})
        if not added:
            stopped = ("every better response the runs establish leads to a profile "
                       "already run")
            break
        if room <= 0:
            break
        pure += added[:room]
    assert plan is not None and outcome is not None
    report = report_hook(outcome.results_dir)
    out_dir = results_root(root) / plan.name / PSRO_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {"format": "tao-arena-psro/1", "experiment": plan.name, "file": str(path),
           "budget": budget, "pure_profiles_added": pure, "stopped": stopped,
           "iterations": iterations, "final_results": str(outcome.results_dir),
           "final_report": str(report)}
    write_json(out_dir / "psro.json", doc)
    write_text(out_dir / "psro.md", _markdown(doc))
    return out_dir / "psro.json", outcome.exit_code


def _runs(outcome: Outcome) -> dict[str, int]:
    return {"planned": outcome.planned, "already_complete": outcome.skipped,
            "ran": outcome.completed, "copied": outcome.copied, "failed": len(outcome.failed)}


def _label(profile: dict[str, str]) -> str:
    return " / ".join(f"{r}: {s}" for r, s in profile.items())


def _markdown(doc: dict[str, Any]) -> str:
    lines = [f"# PSRO over the pure profiles of `{doc['experiment']}`", "",
             f"File `{doc['file']}`, budget {doc['budget']} added profile(s); stopped: "
             f"{doc['stopped']}. The full analysis of the last iteration: "
             f"`{doc['final_report']}`.", ""]
    for it in doc["iterations"]:
        r = it["runs"]
        lines += [f"## Iteration {it['iteration']}", "",
                  f"`{it['results']}`: {r['planned']} runs ({r['ran']} ran, {r['copied']} "
                  f"copied from earlier iterations, {r['already_complete']} already "
                  "complete).", ""]
        for g in it["games"]:
            cell = ", ".join(f"{k} = {v}" for k, v in g["cell"].items()) or "the experiment"
            eq = [_label(p["profile"]) for p in g["profiles"] if p["is_equilibrium"]]
            lines.append(f"- {cell}: {len(g['profiles'])} profile(s) run; epsilon-equilibria "
                         f"(epsilon ${g['epsilon_usd_per_day']:,.2f}/day): "
                         + ("; ".join(eq) if eq else "none established") + ".")
        for m in it["better_responses"]:
            cell = ", ".join(f"{k} = {v}" for k, v in m["cell"].items()) or "the experiment"
            lines.append(f"- {cell}: from {_label(m['from'])}, one {m['role']} gains "
                         f"${m['gain_usd_per_day']:,.2f}/day (lower bound "
                         f"${m['low']:,.2f}) by playing {m['to']}"
                         + (" (that profile has run)" if m["already_run"] else ""))
        if it["adds"]:
            lines.append("- added: " + "; ".join(_label(p) for p in it["adds"]))
        lines.append("")
    return "\n".join(lines)
