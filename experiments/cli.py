"""The ``tao-arena`` command line.

Each subcommand lives in the module that owns it; this file only parses arguments and
maps errors to exit codes: 0 success, 1 a run or sweep had failures, 2 bad input (a bad
file, key or parameter: the message names it and what is allowed).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# subcommands whose module under experiments/ has the same name and provides
# ``add_parser(sub)`` and ``run(args) -> exit code``
PLUGINS = ("viz", "replay", "guarantees", "design", "sensitivity", "calibrate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tao-arena",
        description="An agent-based economic game of a Bittensor-like network.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("strategies", help="print the strategies, their classifiers and parameters")
    from experiments.commands import add_commands

    add_commands(sub)  # validate, schema, run, sweep, main, verify (experiments/commands.py)
    for name in PLUGINS:
        importlib.import_module(f"experiments.{name}").add_parser(sub)
    _add_analysis_commands(sub)  # report, claims (below; analysis/report/, analysis/claims/)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # the invocation as typed (recorded in a results directory's manifest; `verify` quotes it)
    args.argv = ["tao-arena", *(sys.argv[1:] if argv is None else argv)]
    try:
        if args.command == "strategies":
            from agents.catalog import strategies_table

            print(strategies_table())
            return 0
        from experiments.commands import COMMANDS, dispatch

        if args.command in COMMANDS:
            return dispatch(args)
        if args.command in PLUGINS:
            return importlib.import_module(f"experiments.{args.command}").run(args)
        if args.command in ANALYSIS_COMMANDS:
            return _analysis_command(args)
    except ValueError as err:
        print(f"tao-arena: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader left (``tao-arena validate ... | head``)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes
        return 0
    parser.error(f"unknown command {args.command!r}")
    return 2


# -- analysis (issue 6): `report` and `claims` ------------------------------------------
# The work lives in analysis/report/ and analysis/claims/ (they read result files
# only); `claims --run` first runs the claims suite, experiments/configs/claims/*.yaml.

ANALYSIS_COMMANDS = ("report", "claims")


def _add_analysis_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write report.md and figures for a results directory")
    p.add_argument("results", metavar="RESULTS_DIR",
                   help="results/<experiment>/<hash>/, or a directory above several")
    p.add_argument("-o", "--output", default=None, metavar="DIR",
                   help="write there instead of next to the results")
    p = sub.add_parser("claims", help="verdicts on the report's 12 claims (claims.md); "
                                      "--run runs the claims suite first")
    p.add_argument("results", nargs="?", default=None, metavar="RESULTS_ROOT",
                   help="results root (default: $TAO_ARENA_RESULTS, else ./results)")
    p.add_argument("--run", action="store_true",
                   help="run experiments/configs/claims/*.yaml first (complete runs are kept)")
    p.add_argument("--backend", choices=("serial", "ray"), default="ray",
                   help="where the suite's runs execute (default: ray)")
    p.add_argument("--workers", type=int, default=None, help="CPUs of the local Ray instance")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _analysis_command(args: argparse.Namespace) -> int:
    from experiments.commands import refuse_damaged

    if args.command == "report":
        from analysis.report import write_report

        if refuse_damaged(args.results):
            return 2
        print(f"report: {write_report(args.results, args.output)}")
        return 0
    from experiments.runner import results_root

    root = results_root(args.results)
    code = 0
    if args.run:
        from experiments.runner import run_claims_suite

        code = run_claims_suite(root, backend=args.backend, workers=args.workers,
                                progress=not args.no_progress)
    if code == 2 or refuse_damaged(str(root)):
        return 2
    from analysis.claims import claims_report

    print(f"claims report: {claims_report(root)}")
    return code


if __name__ == "__main__":
    sys.exit(main())
