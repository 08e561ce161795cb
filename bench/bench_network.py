"""Network scale (issue 8): the whole network in one model, on one core.

Target: 64 subnets x 256 UIDs (16,384 neurons of every strategy, 2,000 delegators) for
1,000 epochs with network metrics every epoch and per-agent records every 10 epochs in at
most 60 s and 2 GB peak memory. Also prints time per epoch against the number of subnets
(1, 4, 16, 64) and against UIDs per subnet (64, 128, 256, 1,024), and the cost per
subnet-epoch, so that growth worse than linear shows.

    .venv/bin/python bench/bench_network.py [--epochs 1000] [--scaling-epochs 50]
                                            [--skip-full] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_world import POPULATION  # noqa: E402

from agents.catalog import get  # noqa: E402
from world.model import Cohort, Network  # noqa: E402
from world.params import EconomyParams, NetworkParams, SubnetParams  # noqa: E402
from world.yuma import YumaParams  # noqa: E402

TARGET_S, TARGET_GB = 60.0, 2.0


def build(subnets: int, n_uids: int, delegators: int, seed: int = 1) -> Network:
    """``subnets`` subnets of ``n_uids`` UIDs, each with the world benchmark's mix of every
    miner and validator strategy scaled to its size, and ``delegators`` delegators split
    among the delegator policies as in that benchmark."""
    scale = n_uids / 256
    neurons = [(n, c, p) for n, c, p in POPULATION if get(n).role != "delegator"]
    policies = [(n, c, p) for n, c, p in POPULATION if get(n).role == "delegator"]
    per_policy = sum(c for _, c, _ in policies)
    pop = []
    for s in range(subnets):
        for name, count, params in neurons:
            k = max(1, int(count * scale))
            if get(name).role == "validator":  # 4,096 validators must fit in issuance
                params = {"stake_tao": 1_500.0, **params}
            pop.append(Cohort(get(name), k, s, params))
    for name, count, params in policies:
        pop.append(Cohort(get(name), round(delegators * count / per_policy), None, params))
    max_val = max(1, min(64, n_uids // 4))
    sp = SubnetParams(n_uids=n_uids, yuma=YumaParams(max_validators=max_val))
    params = NetworkParams(
        subnets=(sp,) * subnets, agent_record_interval=10,
        economy=EconomyParams(initial_issuance_tao=10_600_000.0),  # after the 2025 halving
    )
    return Network(params, pop, rng=seed)


def timed(model: Network, epochs: int) -> float:
    """CPU seconds per epoch over ``epochs`` epochs (after two warm-up epochs)."""
    for _ in range(2):
        model.step()
    start = time.process_time()
    for _ in range(epochs):
        model.step()
    return (time.process_time() - start) / epochs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--scaling-epochs", type=int, default=50)
    parser.add_argument("--skip-full", action="store_true", help="only the scaling tables")
    parser.add_argument("--profile", action="store_true", help="cProfile the full network")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    print("time per epoch (CPU, one core) against the number of subnets (256 UIDs each):")
    print(f"  {'subnets':>8} {'ms/epoch':>10} {'ms/subnet-epoch':>16}")
    for k in (1, 4, 16, 64):
        per = timed(build(k, 256, 2000 * k // 64 or 30), args.scaling_epochs)
        print(f"  {k:>8} {1e3 * per:>10.2f} {1e3 * per / k:>16.3f}")
    print("time per epoch against UIDs per subnet (one subnet):")
    print(f"  {'UIDs':>8} {'ms/epoch':>10}")
    for n in (64, 128, 256, 1024):
        per = timed(build(1, n, max(10, n // 5)), args.scaling_epochs)
        print(f"  {n:>8} {1e3 * per:>10.2f}")
    if args.skip_full and not args.profile:
        return 0

    model = build(64, 256, 2000)
    built_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(min(args.epochs, 50)):
            model.step()
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return 0
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(args.epochs):
        model.step()
    records = model.agent_records()
    model.datacollector.get_model_vars_dataframe()
    wall = time.perf_counter() - start_wall
    cpu = time.process_time() - start_cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"whole network: 64 subnets x 256 UIDs, {len(model.agents)} participants "
          f"({2000} delegators), {args.epochs} epochs, per-agent records every 10 "
          f"({len(records):,} rows)")
    print(f"  {cpu:.1f} s CPU ({wall:.1f} s wall), {1e3 * cpu / args.epochs:.1f} ms per "
          f"epoch; peak memory {peak:.2f} GB (after building: {built_rss:.2f} GB)")
    print(f"  targets: {TARGET_S:.0f} s -> {'met' if cpu <= TARGET_S else 'MISSED'}; "
          f"{TARGET_GB:.0f} GB -> {'met' if peak <= TARGET_GB else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
