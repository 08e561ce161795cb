"""``tao-arena sensitivity``: a global sensitivity design over a file's priors, run as a sweep.

The factors are the file's ``uncertain:`` parameters (per-agent priors excepted: they stay
drawn per run, as part of the seed's noise). SALib builds the design on the unit cube:
Morris trajectories (``--n`` trajectories of ``k + 1`` points at 4 levels) or a Saltelli
design for Sobol indices (``--n`` base samples, ``N (k + 2)`` points, a power of 2). Each
column is mapped through its prior's inverse CDF (``experiments.uncertainty.Prior.ppf``;
unbounded sides clipped at the ``CLIP`` quantiles), so a design point is a complete world.

Every design point becomes one cell of an ordinary plan (``experiments.plan.Plan``): its
values are fixed (they are the cell's overrides, ``sweep:<path>`` columns in the summary)
and the file's seeds run at each point (common random numbers across points). The plan
runs through ``experiments.runner.run_plan`` (serial or Ray, one task per run, resumable:
the design is a function of the file, the method, ``--n`` and the master seed, so the
same command finds its results directory and runs only what is missing). Then
``analysis.sensitivity`` writes ``sensitivity.json``, ``sensitivity.md`` and a figure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from experiments.loader import ConfigError, Issue
from experiments.plan import Cell, Plan, config_hash, load_plan
from experiments.uncertainty import Prior, apply, column, priors_of

METHODS = ("morris", "sobol")
MORRIS_LEVELS = 4
CLIP = 1e-3  # quantiles where a design column stops on a prior's unbounded side


def factors(plan: Plan) -> list[Prior]:
    """The design's factors: the file's priors that are not drawn per agent."""
    return [p for p in priors_of(plan.config) if not p.per_agent]


def unit_design(k: int, method: str, n: int, seed: int) -> np.ndarray:
    """The design on the unit cube ``[0, 1]^k`` (SALib)."""
    names = [f"x{i}" for i in range(k)]
    problem = {"num_vars": k, "names": names, "bounds": [[0.0, 1.0]] * k}
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, N=n, num_levels=MORRIS_LEVELS, seed=seed)
    from SALib.sample import sobol

    return sobol.sample(problem, N=n, calc_second_order=False, seed=seed)


def _quantiles(prior: Prior, u: np.ndarray) -> np.ndarray:
    """``u`` moved off the prior's unbounded sides (where its inverse CDF is infinite)."""
    if prior.dist == "choice":
        return u
    ends = prior.ppf(np.array([0.0, 1.0]))
    lo = CLIP if not np.isfinite(ends[0]) else 0.0
    hi = 1.0 - CLIP if not np.isfinite(ends[1]) else 1.0
    return np.clip(u, lo, hi)


def design_plan(plan: Plan, method: str, n: int) -> tuple[Plan, dict[str, Any]]:
    """The sensitivity plan of ``plan`` and its design record (``sensitivity_design.json``).

    ``ConfigError`` (exit 2) when the file has no priors to vary, or a sweep or profiles
    (the design replaces the sweep)."""
    issues = []
    if plan.experiment.sweep is not None:
        issues.append(Issue(("sweep",), "sensitivity runs its own design over uncertain: in "
                                        "place of the sweep; remove sweep: (or fix a cell)"))
    if plan.experiment.profiles is not None:
        issues.append(Issue(("profiles",), "sensitivity varies uncertain: parameters in one "
                                           "population; remove profiles:"))
    chosen = factors(plan)
    if len(chosen) < 2:
        issues.append(Issue(("uncertain",), f"sensitivity needs at least 2 uncertain "
                                            f"parameters that are not per_agent, got "
                                            f"{len(chosen)}"))
    if method == "sobol" and n & (n - 1):
        issues.append(Issue((), f"--n {n}: a Saltelli design for Sobol indices needs a power "
                                "of 2 (e.g. 64, 128, 256)"))
    if issues:
        raise ConfigError(plan.source, issues)
    unit = unit_design(len(chosen), method, n, seed=plan.master_seed % 2**32)
    base = {k: v for k, v in plan.config.items() if k not in ("sweep", "profiles")}
    base["sweep"], base["profiles"] = None, None
    columns = [column(p, base, _quantiles(p, unit[:, j])) for j, p in enumerate(chosen)]
    cells = []
    rest = {p: s for p, s in plan.config["uncertain"].items()
            if p not in {f.path for f in chosen}}
    for i in range(len(unit)):
        values = {p.path: columns[j][i] for j, p in enumerate(chosen)}
        config = apply(base, values)
        config["uncertain"] = dict(rest)  # per-agent priors stay drawn per run
        cells.append(Cell(i, values, None, config))
    design = {
        "method": method, "n": n, "seed": plan.master_seed % 2**32,
        "num_levels": MORRIS_LEVELS if method == "morris" else None,
        "parameters": [p.path for p in chosen],
        "priors": {p.path: p.describe() for p in chosen},
        "unit": unit.tolist(), "values": [list(c.overrides.values()) for c in cells],
        "source": plan.source,
    }
    sens = Plan(source=plan.source, source_sha256=plan.source_sha256,
                experiment=plan.experiment, config=plan.config, cells=cells,
                config_hash=config_hash(cells, plan.master_seed,
                                        f"{plan.name}/sensitivity-{method}-{n}", plan.version),
                inputs=plan.inputs, version=plan.version)
    return sens, design


# the most subnets a file may have pools on, for the names of their per-subnet metrics
MAX_POOL_SUBNETS = 1024


def summary_metrics() -> set[str]:
    """Every per-epoch metric a run can record: the world's metric names
    (``world.measure.metric_keys``) for every registered strategy and pools on up to
    ``MAX_POOL_SUBNETS`` subnets, a superset of any one run's, so a name outside it is a
    typo known before anything runs."""
    from agents.base import REGISTRY
    from world.measure import metric_keys

    return set(metric_keys(sorted(REGISTRY), MAX_POOL_SUBNETS))


def unknown_column(column: str, parameters: list[str] | None = None) -> str | None:
    """Why summary column ``column`` cannot exist (``None`` when it can): ``mean:`` or
    ``final:`` and a metric of ``summary_metrics()``, or ``param:`` and one of
    ``parameters`` (the uncertain parameters drawn per run)."""
    kind, _, name = column.partition(":")
    if kind == "param":
        if parameters is None or name in parameters:
            return None
        return f"{column!r} is not a drawn parameter; allowed: " + ", ".join(
            f"param:{p}" for p in parameters)
    if kind in ("mean", "final"):
        if name in summary_metrics():
            return None
        return (f"{column!r} names no metric a run records (a network metric such as "
                f"alignment or price_usd, or <metric>:<strategy> such as "
                f"profit_usd_per_agent:honest_miner, with a registered strategy)")
    return f"{column!r}: a summary column starts with mean:, final: or param:"


def write_design(results_dir: Path, design: dict[str, Any]) -> Path:
    """``sensitivity_design.json`` in the results directory (atomically)."""
    from analysis.sensitivity import DESIGN_FILE
    from experiments.store import make_dir, write_atomic

    make_dir(results_dir)
    path = results_dir / DESIGN_FILE
    write_atomic(path, (json.dumps(design, indent=1, allow_nan=False) + "\n").encode())
    return path


# ---------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------


def add_parser(sub: Any) -> None:
    """``tao-arena sensitivity``."""
    from experiments.commands import _execution_options, _positive_int

    p = sub.add_parser("sensitivity", help="global sensitivity analysis over a file's "
                                           "uncertain: parameters (Morris or Sobol, SALib)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--method", choices=METHODS, default="morris",
                   help="morris: screening by elementary effects; sobol: first-order and "
                        "total indices (default: morris)")
    p.add_argument("--n", type=_positive_int, default=None,
                   help="Morris trajectories (default 20) or Sobol base samples, a power "
                        "of 2 (default 64)")
    p.add_argument("--outcome", action="append", default=None, metavar="COLUMN",
                   help="a summary.parquet column (repeatable; default: each strategy's "
                        "profit per agent and the network metrics)")
    _execution_options(p, "ray")


def run(args: argparse.Namespace) -> int:
    """Run the design (missing runs only) and analyse it; the exit code."""
    from analysis import sensitivity as analysis
    from experiments.runner import results_root, run_plan
    from experiments.store import ResultsLocked

    try:
        plan = load_plan(args.file)
        n = args.n or (20 if args.method == "morris" else 64)
        sens, design = design_plan(plan, args.method, n)
    except ConfigError as err:
        print(f"tao-arena: error: refused (nothing was run or written):\n{err}",
              file=sys.stderr)
        return 2
    outcomes = args.outcome
    for o in outcomes or []:  # checked before any run (issue 14 review, B1)
        why = unknown_column(o, design["parameters"])
        if why:
            print(f"tao-arena: error: --outcome {why}", file=sys.stderr)
            return 2
    out_dir = results_root(args.results) / sens.name / sens.config_hash
    write_design(out_dir, design)
    print(f"{args.method} design: {len(sens.cells)} points x {len(sens.seed_indices)} "
          f"seed(s) over {len(design['parameters'])} parameters", file=sys.stderr)
    try:
        outcome = run_plan(sens, root=args.results, backend=args.backend,
                           workers=args.workers, address=args.address,
                           max_retries=args.max_retries, progress=not args.no_progress,
                           command=getattr(args, "argv", None)
                           or [sys.argv[0].rsplit("/", 1)[-1], *sys.argv[1:]])
    except ResultsLocked as err:
        print(f"tao-arena: error: {err}", file=sys.stderr)
        return 1
    print(outcome.report())
    if outcome.exit_code:
        return outcome.exit_code
    try:
        paths = analysis.write(outcome.results_dir, outcomes)
    except ValueError as err:
        print(f"tao-arena: error: {err}", file=sys.stderr)
        return 2
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0
