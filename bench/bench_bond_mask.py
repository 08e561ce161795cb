"""Benchmark of the 2023 per-pair bond mask (world/rules_2023.py) beside the batched Yuma.

Run from the repository root: ``.venv/bin/python bench/bench_bond_mask.py [--quick]``.

64 subnets of 256 UIDs stacked as the world keeps them, 64 permitted validator rows each,
one miner registered since the last epoch per subnet. Reported, as medians of CPU time per
epoch of all 64 subnets: ``mask_outdated_bonds`` over the permitted rows and every column,
over the permitted rows and only the new registrations' columns (what the 2023 epoch
needs, see its docstring), and one ``world.yuma.epoch_batch`` (yuma2) as the world calls it,
for scale. The mask runs before the batched Yuma; the kernel itself is unchanged.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from world.rules_2023 import mask_outdated_bonds  # noqa: E402
from world.yuma import YumaParams, epoch_batch  # noqa: E402


def median_ms(fn, repeats: int) -> float:
    """Median CPU milliseconds of ``fn()`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 5 if args.quick else 40
    rng = np.random.default_rng(0)
    b, n, m = 64, 256, 64
    stake = np.zeros((b, n))
    stake[:, :m] = rng.random((b, m)) + 0.1
    weights = np.zeros((b, n, n))
    weights[:, :m, m:] = rng.random((b, m, n - m))
    bonds = np.zeros((b, n, n))
    bonds[:, :m, m:] = rng.random((b, m, n - m))
    permits = np.zeros((b, n), dtype=bool)
    permits[:, :m] = True
    rows = np.broadcast_to(np.arange(m), (b, m))
    last_update = rng.integers(500, 1_000, (b, n))
    registered = rng.integers(0, 1_000, (b, n))
    new = np.zeros((b, n), dtype=bool)
    new[np.arange(b), rng.integers(m, n, b)] = True
    params = YumaParams(version="yuma2")

    def yuma() -> None:
        epoch_batch(weights, stake, bonds, params, permits=permits, last_update=last_update,
                    block_at_registration=registered, out=bonds, permitted_bonds_only=True)

    yuma()  # compile
    cases = {
        "mask, permitted rows x all columns": lambda: mask_outdated_bonds(
            bonds, last_update, registered, rows=rows),
        "mask, permitted rows x new registrations": lambda: mask_outdated_bonds(
            bonds, last_update, registered, rows=rows, columns=new),
        "epoch_batch yuma2 (for scale)": yuma,
    }
    for label, fn in cases.items():
        print(f"{label:45s} {median_ms(fn, repeats):8.2f} ms per epoch of {b} subnets")


if __name__ == "__main__":
    main()
