"""``tao-arena replay PATH``: one Yuma Consensus epoch on a real metagraph snapshot.

Reads the snapshot (``world.metagraph.load_metagraph``: ``.npz`` or JSON, never a
pickle), runs the project's kernel (``world.yuma.epoch``, MODEL.md section 3) on it as it
is (its weights, stakes, bonds and permits; the missing ones filled in as MODEL.md says)
and prints, or writes as JSON or CSV, each UID's incentive, dividends and emission. A
user checks a snapshot without writing an experiment. A malformed snapshot or option
is refused with one line naming it and exit code 2.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

COLUMNS = ("uid", "hotkey", "stake_tao", "validator_permit", "active", "consensus",
           "validator_trust", "incentive", "dividends", "emission_tao")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``replay`` subcommand to the CLI's subparsers."""
    p = sub.add_parser(
        "replay", help="run Yuma on a metagraph snapshot (.npz or JSON) and print each "
                       "UID's incentive, dividends and emission",
        description="One Yuma Consensus epoch (world.yuma.epoch) on a real snapshot as it "
                    "is. Missing bonds start empty, missing permits come from the stake "
                    "(top --max-validators), everyone is active unless the file has "
                    "last_update and block.")
    p.add_argument("path", metavar="PATH", help="the snapshot (.npz or JSON)")
    p.add_argument("--json", default=None, metavar="OUT", help="write the result as JSON")
    p.add_argument("--csv", default=None, metavar="OUT", help="write the per-UID table as CSV")
    p.add_argument("--yuma", choices=("yuma2", "yuma3"), default="yuma3",
                   help="Yuma version (default yuma3; the chain ran yuma2 before April 2025: "
                        "pass yuma2 for the SN15 snapshot)")
    p.add_argument("--max-validators", type=int, default=64,
                   help="validator permits (default 64; derives missing permits)")
    p.add_argument("--kappa", type=float, default=None, help="consensus threshold "
                   "(default 32767/65535)")
    p.add_argument("--bonds-penalty", type=float, default=None, help="beta (default 1)")
    p.add_argument("--liquid-alpha", action="store_true", help="liquid alpha (yuma3 only)")
    p.add_argument("--activity-cutoff", type=int, default=5000,
                   help="blocks (default 5000; used with the file's last_update and block)")
    p.add_argument("--emission", type=float, default=1.0, metavar="TAO",
                   help="the epoch's emission to the subnet's miners and validators "
                        "(default 1: each UID's emission is its share)")
    p.add_argument("--all", action="store_true",
                   help="print every UID (default: UIDs with stake or a non-zero result)")


OPTIONS = {"version": "--yuma", "kappa": "--kappa", "bonds_penalty": "--bonds-penalty",
           "max_validators": "--max-validators", "liquid_alpha": "--liquid-alpha"}


def _option_message(err: ValidationError) -> str:
    """YumaParams' first complaint as one line naming the command-line option
    (``yuma.kappa must be ...`` becomes ``--kappa must be ...``)."""
    msg = str(err.errors()[0]["msg"]).removeprefix("Value error, ")
    for field, option in OPTIONS.items():
        msg = msg.replace(f"yuma.{field}", option)
    return msg


def replay(path: str | Path, *, yuma: str = "yuma3", max_validators: int = 64,
           kappa: float | None = None, bonds_penalty: float | None = None,
           liquid_alpha: bool = False, activity_cutoff: int = 5000,
           emission: float = 1.0) -> dict[str, Any]:
    """The replay of one snapshot as a JSON-able dict: the snapshot's description, the
    Yuma parameters, and ``uids``, one record per UID (``COLUMNS``).

    Raises:
        ValueError: a malformed snapshot or parameter (named).
    """
    from world.metagraph import load_metagraph
    from world.yuma import YumaParams, epoch

    if not (np.isfinite(emission) and emission >= 0):
        raise ValueError(f"--emission must be a finite number >= 0, got {emission!r}")
    if activity_cutoff < 0:
        raise ValueError(f"--activity-cutoff must be >= 0, got {activity_cutoff}")
    extra = {k: v for k, v in (("kappa", kappa), ("bonds_penalty", bonds_penalty))
             if v is not None}
    try:
        params = YumaParams(version=yuma, max_validators=max_validators,
                            liquid_alpha=liquid_alpha, **extra)
    except ValidationError as err:
        raise ValueError(_option_message(err)) from None
    mg = load_metagraph(path, max_validators=max_validators,
                        activity_cutoff=activity_cutoff)
    res = epoch(mg.weights, mg.stake_tao, mg.bonds, params, permits=mg.validator_permit,
                active=mg.active)
    share = res.miner_emission_share + res.validator_emission_share
    uids = []
    for i in range(mg.n):
        uids.append({
            "uid": i, "hotkey": None if mg.hotkeys is None else mg.hotkeys[i],
            "stake_tao": float(mg.stake_tao[i]),
            "validator_permit": bool(mg.validator_permit[i]), "active": bool(mg.active[i]),
            "consensus": float(res.consensus[i]),
            "validator_trust": float(res.validator_trust[i]),
            "incentive": float(res.incentive[i]), "dividends": float(res.dividends[i]),
            "emission_tao": float(emission * share[i]),
        })
    return {
        "source": str(path), "netuid": mg.netuid, "block": mg.block, "n_uids": mg.n,
        "filled": list(mg.filled), "description": mg.describe(),
        "yuma": {"version": params.version, "kappa": params.kappa,
                 "bonds_penalty": params.bonds_penalty,
                 "bonds_ema_rate": params.bonds_ema_rate,
                 "liquid_alpha": params.liquid_alpha, "max_validators": params.max_validators,
                 "activity_cutoff": activity_cutoff},
        "emission_tao": emission,
        "totals": {"incentive": float(res.incentive.sum()),
                   "dividends": float(res.dividends.sum()),
                   "emission_tao": float(emission * share.sum())},
        "uids": uids,
    }


def _write(path: str, text: str) -> None:
    out = Path(path)
    tmp = out.with_name(f".tmp-{out.name}")
    try:
        tmp.write_text(text)
        os.replace(tmp, out)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise ValueError(f"cannot write {out}: {err.strerror}") from None


def csv_text(result: dict[str, Any]) -> str:
    """The per-UID table as CSV (``COLUMNS``)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    w.writerows(result["uids"])
    return buf.getvalue()


def table_text(result: dict[str, Any], every: bool = False) -> str:
    """The human table: a header line, then one line per UID (with stake or a non-zero
    result, unless ``every``)."""
    lines = [result["description"],
             f"Yuma {result['yuma']['version']}, one epoch; filled in: "
             f"{', '.join(result['filled']) or 'nothing'}; emission {result['emission_tao']:g} "
             f"TAO", f"{'uid':>4} {'hotkey':<10} {'stake_tao':>14} {'permit':>6} "
             f"{'incentive':>10} {'dividends':>10} {'emission_tao':>13}"]
    for u in result["uids"]:
        if not every and not (u["stake_tao"] or u["incentive"] or u["dividends"]):
            continue
        hk = (u["hotkey"] or "")[:8]
        lines.append(f"{u['uid']:>4} {hk:<10} {u['stake_tao']:>14,.2f} "
                     f"{'yes' if u['validator_permit'] else 'no':>6} {u['incentive']:>10.6f} "
                     f"{u['dividends']:>10.6f} {u['emission_tao']:>13.6g}")
    t = result["totals"]
    lines.append(f"total: incentive {t['incentive']:.6f}, dividends {t['dividends']:.6f}, "
                 f"emission {t['emission_tao']:.6g} TAO")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """``tao-arena replay``: 0 done; ValueError (exit 2 in the CLI) for bad input."""
    result = replay(args.path, yuma=args.yuma, max_validators=args.max_validators,
                    kappa=args.kappa, bonds_penalty=args.bonds_penalty,
                    liquid_alpha=args.liquid_alpha, activity_cutoff=args.activity_cutoff,
                    emission=args.emission)
    if args.json:
        _write(args.json, json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    if args.csv:
        _write(args.csv, csv_text(result))
        print(f"wrote {args.csv}", file=sys.stderr)
    if not (args.json or args.csv):
        sys.stdout.write(table_text(result, every=args.all))
    return 0
