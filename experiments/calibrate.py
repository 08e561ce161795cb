"""``tao-arena calibrate FILE --targets TARGETS.yaml``: estimate a file's priors from figures.

Method (stated in every output): a distance minimised by an optimiser. Optuna's TPE
sampler (seeded by the file's master seed; its first trials are draws from the prior)
proposes values of the file's uncertain parameters (per-agent priors excepted: they stay
drawn per run) in quantile space, each mapped through its prior's inverse CDF, so the
search covers the prior and nothing else. Each batch of ``--batch`` trials is one plan
(one cell per trial, the file's seeds each) run through ``experiments.runner.run_plan``
on Ray or serially, one task per run; ``analysis.calibration`` measures every target in
every run, takes the mean over seeds and the distance ``sum ((s - o) / tau)^2`` over the
fit targets, which is told to the optimiser. The result: the trial of least distance, the
neighbourhood of trials within ``chi2_{0.95}(p)`` of it and each parameter's range there,
the fit of every target and the hold-out targets (never used for fitting) at the estimate.

Resumable: the sampler is deterministic given its seed and the distances told, and the
runs are deterministic, so the same command proposes the same batches and finds their
runs complete. Output: ``results/<name>/calibration-<hash>/calibration.json`` and
``calibration.md`` (docs/uncertainty.md).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from experiments.loader import ConfigError, Issue
from experiments.plan import Cell, Plan, config_hash, load_plan
from experiments.sensitivity import CLIP, factors, unknown_column
from experiments.store import finite_json, make_dir, write_atomic
from experiments.uncertainty import Prior, apply, column

METHOD = ("distance minimised by Optuna's TPE sampler (optuna.samplers.TPESampler, seeded "
          "by the master seed), over each prior's quantiles")
DISTANCE = ("sum over fit targets of ((simulated - observed) / tolerance)^2, simulated = "
            "mean over seeds")


def _bounds(prior: Prior) -> tuple[float, float]:
    if prior.dist == "choice":
        return 0.0, 1.0
    ends = prior.ppf(np.array([0.0, 1.0]))
    return (0.0 if np.isfinite(ends[0]) else CLIP), (1.0 if np.isfinite(ends[1]) else 1 - CLIP)


def batch_plan(plan: Plan, base: dict[str, Any], rest: dict[str, Any],
               trials: list[dict[str, Any]]) -> Plan:
    """One plan running ``trials`` (``{path: value}`` each), one cell per trial."""
    cells = []
    for i, values in enumerate(trials):
        config = apply(base, values)
        config["uncertain"] = dict(rest)
        cells.append(Cell(i, values, None, config))
    return Plan(source=plan.source, source_sha256=plan.source_sha256,
                experiment=plan.experiment, config=plan.config, cells=cells,
                config_hash=config_hash(cells, plan.master_seed, f"{plan.name}/calibrate",
                                        plan.version),
                inputs=plan.inputs, version=plan.version)


def calibrate(file: str | Path, targets_file: str | Path, *, trials: int = 48,
              batch: int = 8, root: str | Path | None = None, backend: str = "serial",
              workers: int | None = None, address: str | None = None,
              progress: bool = False, command: list[str] | None = None
              ) -> tuple[dict[str, Any], Path]:
    """Run the calibration; ``(result, output directory)``. ``ConfigError`` or
    ``ValueError`` for bad input (nothing is run)."""
    import optuna

    from analysis import calibration as cal
    from experiments.backends import RaySession
    from experiments.runner import results_root, run_plan

    plan = load_plan(file)
    targets = cal.load_targets(targets_file)
    chosen = factors(plan)
    issues = []
    if plan.experiment.sweep is not None or plan.experiment.profiles is not None:
        issues.append(Issue(("sweep",), "calibrate estimates uncertain: parameters of one "
                                        "population; remove sweep: and profiles:"))
    if not chosen:
        issues.append(Issue(("uncertain",), "calibrate needs at least one uncertain "
                                            "parameter that is not per_agent"))
    for t in targets["fit"] + targets["holdout"]:  # known before any run
        why = "column" in t and unknown_column(t["column"])
        if why:
            raise ValueError(f"{targets_file}: target {t['name']}: {why}")
    if issues:
        raise ConfigError(plan.source, issues)
    base = {k: v for k, v in plan.config.items() if k not in ("sweep", "profiles")}
    base["sweep"], base["profiles"] = None, None
    rest = {p: s for p, s in plan.config["uncertain"].items()
            if p not in {f.path for f in chosen}}
    everything = targets["fit"] + targets["holdout"]
    key = json.dumps({"plan": plan.config_hash, "targets": targets, "trials": trials,
                      "batch": batch}, sort_keys=True)
    out_dir = (results_root(root) / plan.name /
               f"calibration-{hashlib.sha256(key.encode()).hexdigest()[:16]}")

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=plan.master_seed % 2**32,
                                         n_startup_trials=max(batch, min(16, trials // 3)))
    study = optuna.create_study(direction="minimize", sampler=sampler)
    dists = {p.path: optuna.distributions.FloatDistribution(*_bounds(p)) for p in chosen}
    records: list[dict[str, Any]] = []
    batches: list[str] = []
    session = (RaySession(workers, address) if backend == "ray"
               else contextlib.nullcontext())
    with session:
        while len(records) < trials:
            asked = [study.ask(dists) for _ in range(min(batch, trials - len(records)))]
            values = [{p.path: column(p, base, np.array([t.params[p.path]]))[0]
                       for p in chosen} for t in asked]
            bp = batch_plan(plan, base, rest, values)
            outcome = run_plan(bp, root=root, backend=backend, workers=workers,
                               address=address, progress=progress,
                               command=command or ["tao-arena", "calibrate", str(file),
                                                   str(targets_file)])
            batches.append(str(outcome.results_dir))
            stats = cal.run_statistics(outcome.results_dir, everything)
            for i, (trial, vals) in enumerate(zip(asked, values, strict=True)):
                mine = stats[stats["cell"] == i]
                sim = {t["name"]: float(mine[t["name"]].mean()) if len(mine) else math.nan
                       for t in everything}
                sd = {t["name"]: float(mine[t["name"]].std(ddof=1)) if len(mine) > 1
                      else math.nan for t in everything}
                d = cal.distance(sim, targets["fit"])
                study.tell(trial, d if math.isfinite(d) else 1e300)
                records.append({"trial": len(records), "params": vals, "distance": d,
                                "quantiles": [trial.params[p.path] for p in chosen],
                                "simulated": sim, "seed_sd": sd,
                                "results": str(outcome.results_dir), "cell": i})
    best, members = cal.region(records, len(chosen))
    names = [p.path for p in chosen]
    ranges = cal.intervals(records, members, names)
    quad = cal.quadratic_intervals(np.array([r["quantiles"] for r in records]),
                                   np.array([r["distance"] for r in records]))
    bounds, how = ranges, "range of the trials in the region (no positive-definite surrogate)"
    if quad is not None:
        bounds = {p.path: [column(p, base, np.array([q]))[0] for q in (quad[0][j], quad[1][j])]
                  for j, p in enumerate(chosen)}
        how = ("marginal 95% likelihood-ratio interval of a quadratic surrogate of the "
               "distance fitted near the estimate (in quantile space, mapped by each prior)")
    result = {
        "experiment": plan.name, "method": METHOD, "distance": DISTANCE,
        "region": f"trials with distance <= least + chi2.ppf({cal.REGION_LEVEL}, "
                  f"{len(chosen)}) (likelihood-ratio region, Gaussian errors of sd = tolerance)",
        "parameters": names,
        "priors": {p.path: p.describe() for p in chosen},
        "trials": len(records), "seeds": plan.seed_indices,
        "estimate": {"trial": best["trial"], "params": best["params"],
                     "distance": best["distance"]},
        "intervals": bounds, "interval_method": how, "region_ranges": ranges,
        "neighbourhood": [{"trial": records[i]["trial"], "params": records[i]["params"],
                           "distance": records[i]["distance"]} for i in members],
        "fit": cal.fit_table(best["simulated"], best["seed_sd"], targets["fit"]),
        "holdout": cal.fit_table(best["simulated"], best["seed_sd"], targets["holdout"]),
        "holdout_over_neighbourhood": {
            t["name"]: [min(records[i]["simulated"][t["name"]] for i in members),
                        max(records[i]["simulated"][t["name"]] for i in members)]
            if cal.determined(members, len(chosen)) else cal.UNDETERMINED
            for t in targets["holdout"]},
        "all_trials": [{k: r[k] for k in ("trial", "params", "distance", "simulated")}
                       for r in records],
        "batches": batches, "targets_file": str(targets_file),
    }
    make_dir(out_dir)
    _write(out_dir / "calibration.json",
           json.dumps(finite_json(result), indent=1, allow_nan=False) + "\n")
    _write(out_dir / "calibration.md", cal.words(result))
    return result, out_dir


def _write(path: Path, text: str) -> None:
    write_atomic(path, text.encode())


# ---------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------


def add_parser(sub: Any) -> None:
    """``tao-arena calibrate``."""
    from experiments.commands import _execution_options, _positive_int

    p = sub.add_parser("calibrate", help="estimate a file's uncertain: parameters from "
                                         "observed figures (a stated distance, Optuna)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--targets", required=True, metavar="TARGETS.yaml",
                   help="observed figures: fit: targets and holdout: targets")
    p.add_argument("--trials", type=_positive_int, default=48,
                   help="parameter values tried (default 48)")
    p.add_argument("--batch", type=_positive_int, default=8,
                   help="trials proposed and run at once (default 8)")
    _execution_options(p, "ray")


def run(args: argparse.Namespace) -> int:
    """The command's exit code: 0, 1 (runs failed, results locked) or 2 (bad input)."""
    from experiments.store import ResultsLocked

    try:
        result, out_dir = calibrate(args.file, args.targets, trials=args.trials,
                                    batch=args.batch, root=args.results,
                                    backend=args.backend, workers=args.workers,
                                    address=args.address, progress=not args.no_progress,
                                    command=getattr(args, "argv", None))
    except ConfigError as err:
        print(f"tao-arena: error: refused (nothing was run or written):\n{err}",
              file=sys.stderr)
        return 2
    except ResultsLocked as err:
        print(f"tao-arena: error: {err}", file=sys.stderr)
        return 1
    print(f"estimate (trial {result['estimate']['trial']}, distance "
          f"{result['estimate']['distance']:.3g}): {result['estimate']['params']}")
    print(f"calibration: {out_dir / 'calibration.json'}")
    print(f"report: {out_dir / 'calibration.md'}")
    return 0
