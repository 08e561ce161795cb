"""The ``tao-arena`` command line.

Each subcommand lives in the module that owns it; this file only parses arguments and
maps errors to exit codes: 0 success, 1 a run or sweep had failures, 2 bad input (a bad
file, key or parameter: the message names it and what is allowed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tao-arena",
        description="An agent-based economic game of a Bittensor-like network.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("strategies", help="print the table of strategies and their classifiers")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "strategies":
            from agents.catalog import strategies_table

            print(strategies_table())
            return 0
    except ValueError as err:
        print(f"tao-arena: error: {err}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
