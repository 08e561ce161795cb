"""Benchmark of one retention map (``tao-arena guarantees``, issue 17), on one core.

The target: a 51 x 51 map for one major stake (2,601 epochs of 512 UIDs, 64 validators,
through the batched Yuma kernel) in a few seconds on one core. Prints the median CPU and
wall time of a few repeats (after one warm-up map that loads the compiled kernel) and the
time per epoch.

    .venv/bin/python bench/bench_guarantees.py [--grid 51] [--repeats 3] [--epochs 1]
                                               [--version yuma2] [--liquid-alpha]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.guarantees import GuaranteeParams, honest_emission  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=int, default=51)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--version", default="yuma2")
    ap.add_argument("--liquid-alpha", action="store_true")
    ap.add_argument("--major-stake", type=float, default=0.6)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    params = GuaranteeParams(grid=args.grid, epochs=args.epochs, version=args.version,
                             liquid_alpha=args.liquid_alpha, major_stake=(args.major_stake,))
    honest_emission(GuaranteeParams(grid=3, version=args.version,
                                    liquid_alpha=args.liquid_alpha), 0.6)  # warm-up
    cpu, wall = [], []
    for _ in range(args.repeats):
        t0, w0 = time.process_time(), time.perf_counter()
        honest_emission(params, args.major_stake)
        cpu.append(time.process_time() - t0)
        wall.append(time.perf_counter() - w0)
    epochs = args.grid ** 2 * args.epochs
    c, w = statistics.median(cpu), statistics.median(wall)
    print(f"retention map {args.grid} x {args.grid}, {args.epochs} epoch(s), {args.version}"
          f"{' + liquid alpha' if args.liquid_alpha else ''}, {params.n_uids} UIDs "
          f"({params.n_validators} validators), one core, {args.repeats} repeats")
    print(f"  CPU  median {c:.2f} s (range {min(cpu):.2f}-{max(cpu):.2f}), "
          f"{1e3 * c / epochs:.2f} ms per epoch ({epochs} epochs)")
    print(f"  wall median {w:.2f} s (range {min(wall):.2f}-{max(wall):.2f})")


if __name__ == "__main__":
    main()
