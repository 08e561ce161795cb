"""The experiment subcommands of ``tao-arena``: validate, schema, run, sweep, main, verify,
psro.

``experiments.cli`` adds them with ``add_commands`` and hands parsed arguments to
``dispatch``. Exit codes: 0 success; 1 some runs failed (or the results directory is in
use; ``verify``: damage found); 2 bad input (a refused file or option: nothing is
written) or a results directory that cannot be written (a bad root, a full disk: every
complete run stays complete); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

COMMANDS = ("validate", "schema", "run", "sweep", "main", "verify", "psro")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _execution_options(p: argparse.ArgumentParser, default_backend: str) -> None:
    p.add_argument("--backend", choices=("serial", "ray"), default=default_backend,
                   help=f"where runs execute (default: {default_backend})")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="CPUs of the local Ray instance (default: all)")
    p.add_argument("--address", default=None,
                   help="connect to an existing Ray cluster (default: $RAY_ADDRESS, else "
                        "start a local instance on 127.0.0.1)")
    p.add_argument("--results", default=None, metavar="DIR",
                   help="results root (default: $TAO_ARENA_RESULTS, else ./results)")
    p.add_argument("--max-retries", type=int, default=3,
                   help="Ray: retries of a task whose worker process died (default: 3)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--full", action="store_true",
                   help="run each file at its full: size (more seeds and epochs, for a "
                        "cluster); without it, the file's default size")


def add_commands(sub: Any) -> None:
    """Add the experiment subcommands to the ``tao-arena`` subparsers ``sub``."""
    p = sub.add_parser("validate", help="check experiment files (exit 2 if one is refused)")
    p.add_argument("files", nargs="+", metavar="FILE")

    p = sub.add_parser("schema", help="write the JSON Schema of experiment files")
    p.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="write to FILE instead of stdout")

    p = sub.add_parser("run", help="run an experiment (all cells and seeds, or --cell)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--cell", type=int, action="append", default=None,
                   help="run only this sweep cell (repeatable)")
    _execution_options(p, "serial")

    p = sub.add_parser("sweep", help="run every cell and seed of an experiment (Ray)")
    p.add_argument("file", metavar="FILE")
    _execution_options(p, "ray")

    p = sub.add_parser("main", help="the main job of `make run`: the main sweep and its "
                                    "report, then the claims suite and its verdicts")
    p.add_argument("--config", default=None, metavar="FILE",
                   help="experiment file (default: experiments/configs/main.yaml)")
    p.add_argument("--no-report", action="store_true", help="do not write the report")
    p.add_argument("--no-claims", action="store_true",
                   help="skip the claims suite (experiments/configs/claims/) and its verdicts")
    _execution_options(p, "ray")

    p = sub.add_parser("psro", help="run the pure profiles of an experiment's role-symmetric "
                                    "game that established better responses lead to "
                                    "(double oracle / PSRO; experiments/psro.py)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--budget", type=int, required=True, metavar="N",
                   help="add at most N pure profiles to those the file names")
    _execution_options(p, "serial")

    p = sub.add_parser("verify", help="check a results directory without running anything "
                                      "(exit 0 intact, 1 damage found, 2 bad input)")
    p.add_argument("results", metavar="RESULTS_DIR",
                   help="results/<experiment>/<hash>/, or a directory above several")
    p.add_argument("--json", default=None, metavar="OUT",
                   help="also write what was found as JSON (one record per results directory)")


def _error(message: str) -> None:
    print(f"tao-arena: error: {message}", file=sys.stderr)


def dispatch(args: argparse.Namespace) -> int:
    """Run one of ``COMMANDS``; the exit code."""
    from experiments.loader import ConfigError
    from experiments.store import ResultsLocked, ResultsWriteError

    try:
        if args.command == "verify":
            return verify(args.results, args.json)
        if args.command == "validate":
            return _validate(args.files)
        if args.command == "schema":
            return _schema(args.output)
        if args.command in ("run", "sweep", "main"):
            return _execute(args)
        if args.command == "psro":
            return _psro(args)
    except ConfigError as err:
        _error(f"refused (nothing was run or written):\n{err}")
        return 2
    except ResultsLocked as err:
        _error(str(err))
        return 1
    except ResultsWriteError as err:
        _error(str(err))
        return 2
    except KeyboardInterrupt:
        _error("interrupted; run the same command again to finish the missing runs")
        return 130
    raise ValueError(f"unknown command {args.command!r}")


def verify(results: str, json_out: str | None = None) -> int:
    """``tao-arena verify``: a line per damaged run, stray temporary file or other problem
    of every results directory at or below ``results`` (and with ``json_out`` the same as
    JSON); nothing is changed or run."""
    from experiments.integrity import verify_tree

    try:
        found = verify_tree(results)
    except ValueError as err:
        _error(str(err))
        return 2
    if json_out is not None:
        records = [{"path": str(v.path), "ok": v.ok, "source": v.source, "intact": v.intact,
                    "damaged": [{"run_id": r, "problem": p} for r, p in v.damaged],
                    "strays": [str(p) for p in v.strays], "problems": v.problems,
                    "heal_command": v.heal}
                   for v in found]
        from experiments.store import write_atomic

        write_atomic(Path(json_out), (json.dumps(records, indent=1) + "\n").encode(), hint="")
    code = 0
    for v in found:
        if v.ok:
            print(f"ok: {v.path}: {len(v.intact)} run(s) intact")
            continue
        code = 1
        for line in v.lines():
            print(line)
        again = (f"`{shlex.join(v.heal)}` (recorded in its manifest)" if v.heal
                 else f"`tao-arena run {v.source}`" if v.source
                 else "running its experiment again")
        print(f"damaged: {v.path}: {len(v.intact)} run(s) intact, {len(v.damaged)} damaged; "
              f"{again} removes what is damaged or stray and redoes those runs")
    return code


def refuse_damaged(results: str) -> bool:
    """Before a report reads ``results``: print a line per damaged run on stderr and
    return True when there is one (the report must not read a damaged file)."""
    from experiments.integrity import damaged_lines, verify_tree

    try:
        found = verify_tree(results)
    except ValueError:
        return False  # not a results directory: the report says so itself
    lines = damaged_lines(found)
    for line in lines:
        print(line, file=sys.stderr)
    if lines:
        sources = sorted({v.source for v in found if v.source and v.damaged})
        again = " or ".join(f"`tao-arena run {s}`" for s in sources) or "the experiment again"
        _error(f"refused: {len(lines)} damaged run(s) under {results}; run {again} to redo "
               f"them (`tao-arena verify {results}` lists them); nothing was written")
    return bool(lines)


def _validate(files: list[str]) -> int:
    from experiments.loader import ConfigError
    from experiments.plan import load_plan
    from experiments.runner import results_root

    code = 0
    for f in files:
        try:
            plan = load_plan(f)
        except ConfigError as err:
            _error(f"refused:\n{err}")
            code = 2
            continue
        n_cells, n_seeds = len(plan.cells), len(plan.seed_indices)
        print(f"{f}: ok: {n_cells} cell(s) x {n_seeds} seed(s) = {n_cells * n_seeds} runs of "
              f"{plan.experiment.epochs} epochs -> "
              f"{results_root() / plan.name / plan.config_hash}")
        for group in plan.eras():
            print(_era_lines(group))
    return code


def _era_lines(group: dict[str, Any]) -> str:
    """The era of a set of cells and every rule's effective value, one rule a line."""
    cells = group["cells"]
    where = f"{len(cells)} cell(s) from cell {cells[0]}"
    lines = [f"  era {group['era']} (variant {group['variant'] or 'none'}), {where}:"]
    for row in group["rules"]:
        note = ("  [override; era default " + repr(row["default"]) + "]"
                if row["overridden"] else "")
        if not row["wired"]:
            note = "  [not a parameter of the world yet]"
        lines.append(f"    {row['key']} = {row['value']!r}{note}")
    return "\n".join(lines)


def _schema(output: str | None) -> int:
    from experiments.schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        Path(output).write_text(text)
        print(f"wrote {output}", file=sys.stderr)
    return 0


def _execute(args: argparse.Namespace) -> int:
    from experiments.plan import load_plan
    from experiments.runner import main_config, run_plan

    file = args.file if args.command != "main" else (args.config or str(main_config()))
    plan = load_plan(file, full=args.full)
    cells = getattr(args, "cell", None)
    if cells:
        bad = [c for c in cells if not 0 <= c < len(plan.cells)]
        if bad:
            _error(f"--cell {bad[0]}: {file} has {len(plan.cells)} cell(s); allowed: "
                   f"0 to {len(plan.cells) - 1}")
            return 2
    if args.max_retries < 0:
        _error(f"--max-retries must be >= 0, got {args.max_retries}")
        return 2
    outcome = run_plan(
        plan, root=args.results, backend=args.backend, workers=args.workers,
        address=args.address, cells=sorted(set(cells)) if cells else None,
        max_retries=args.max_retries, progress=not args.no_progress,
        command=getattr(args, "argv", None) or [sys.argv[0].rsplit("/", 1)[-1], *sys.argv[1:]],
    )
    print(outcome.report())
    if args.command != "main":
        return outcome.exit_code
    return _main_job(args, outcome.results_dir, outcome.exit_code)


def _psro(args: argparse.Namespace) -> int:
    from experiments.psro import psro

    if args.budget < 0:
        _error(f"--budget must be >= 0, got {args.budget}")
        return 2
    if args.full:
        _error("--full: psro runs the file at its default size")
        return 2
    out, code = psro(args.file, args.budget, root=args.results, backend=args.backend,
                     workers=args.workers, progress=not args.no_progress)
    print(f"psro: {out}")
    return code


def _main_job(args: argparse.Namespace, results_dir: Path, code: int) -> int:
    """The rest of ``make run`` after the main sweep: its report, then the claims suite
    and the verdict on every claim (issue 6)."""
    from experiments.runner import report_hook, results_root, run_claims_suite

    report = None if args.no_report else report_hook(results_dir)
    claims = None
    if not args.no_claims:
        root = results_root(args.results)
        code = max(code, run_claims_suite(root, backend=args.backend, workers=args.workers,
                                          progress=not args.no_progress, full=args.full))
        if code < 2 and not args.no_report:
            from analysis.claims import claims_report

            claims = claims_report(root)
    print(f"results: {results_dir}")
    if report is not None:
        print(f"report: {report}")
    if claims is not None:
        print(f"claims report: {claims}")
    return code
