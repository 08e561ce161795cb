"""Benchmark of the world with a mixed population of every strategy, on one core.

The world's target (issue 3, kept by issue 4): one 256-UID subnet, 64 validators of mixed
strategies, 192 miners of every miner strategy, 50 delegators of every policy, 1,000
epochs with data collection in at most 3 s on one core. Prints the median wall time of a
few repeats and the time per epoch; ``--dynamics`` adds entry, exit and imitation;
``--profile`` prints cProfile's top functions of one run.

    .venv/bin/python bench/bench_world.py [--epochs 1000] [--repeats 3] [--dynamics]
                                          [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.catalog import get  # noqa: E402
from agents.population import Entry, EntryOption, Exit, Imitation  # noqa: E402
from world.model import Cohort, Network  # noqa: E402
from world.params import NetworkParams, SubnetParams  # noqa: E402

TARGET_S = 3.0

# (strategy, count, params); validators first: 64 of them, then 192 miners, 50 delegators
POPULATION: tuple[tuple[str, int, dict], ...] = (
    ("honest_validator", 24, {}),
    ("weight_copier", 6, {"mode": "consensus"}),
    ("weight_copier", 6, {"mode": "largest"}),
    ("cabal_validator", 10, {"boost": 0.3}),
    ("poison_pill", 16, {"trigger_epoch": 500}),
    ("stake_attacker", 2, {"entry_epoch": 700, "outside_stake_tao": 50_000, "n_miners": 2}),
    ("honest_miner", 60, {}),
    ("gpt_passthrough", 40, {}),
    ("copy_cabal", 40, {}),
    ("model_arbitrage", 32, {}),
    ("lazy_miner", 20, {}),
    ("yield_chaser", 20, {}),
    ("popularity_follower", 20, {}),
    ("loyal_delegator", 10, {}),
)


def build(seed: int, dynamics: bool) -> Network:
    """The benchmark network (validators' stake spread so that permits matter)."""
    pop = [
        Cohort(get(name), count, None if get(name).role == "delegator" else 0, params)
        for name, count, params in POPULATION
    ]
    model = Network(NetworkParams(subnets=(SubnetParams(n_uids=256),)), pop, rng=seed)
    if dynamics:
        model.dynamics += [
            Entry(model, [EntryOption("honest_miner"), EntryOption("gpt_passthrough"),
                          EntryOption("copy_cabal")], rate=0.5),
            Exit(patience=20),
            Imitation(every=20, beta=0.002),
        ]
    return model


def run(epochs: int, seed: int, dynamics: bool) -> tuple[float, float]:
    """(wall, CPU) seconds of ``epochs`` epochs, data collection included (not the
    construction). The CPU time is this process's: a busy machine inflates the wall time."""
    model = build(seed, dynamics)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        model.step()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    model.datacollector.get_model_vars_dataframe()
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dynamics", action="store_true", help="add entry, exit, imitation")
    parser.add_argument("--profile", action="store_true", help="cProfile top-10 of one run")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    run(20, 0, args.dynamics)  # warm-up: imports, first allocations
    runs = [run(args.epochs, seed, args.dynamics) for seed in range(1, args.repeats + 1)]
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    per_1000 = wall * 1000 / args.epochs
    label = "with entry/exit/imitation" if args.dynamics else "no population dynamics"
    print(f"world, 256 UIDs, 64 validators, 192 miners, 50 delegators, every strategy "
          f"({label}): {args.epochs} epochs, {args.repeats} runs on one core")
    print(f"  wall: {', '.join(f'{w:.3f}' for w, _ in runs)} s; "
          f"CPU: {', '.join(f'{c:.3f}' for _, c in runs)} s")
    print(f"  median {wall:.3f} s wall ({1000 * wall / args.epochs:.3f} ms per epoch), "
          f"{cpu:.3f} s CPU; target {TARGET_S:.1f} s per 1,000 epochs: "
          f"{'met' if per_1000 <= TARGET_S else 'MISSED'}")
    if args.profile:
        prof = cProfile.Profile()
        model = build(1, args.dynamics)
        prof.enable()
        for _ in range(args.epochs):
            model.step()
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(10)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
