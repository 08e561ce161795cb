"""Network scale (issue 8): the whole network in one model, on one core.

Target: 64 subnets x 256 UIDs (16,384 neurons of every strategy, 2,000 delegators) for
1,000 epochs with network metrics every epoch and per-agent records every 10 epochs in at
most 60 s and 2 GB peak memory. Also prints time per epoch against the number of subnets
(1, 4, 16, 64) and against UIDs per subnet (64, 128, 256, 1,024), and the cost per
subnet-epoch, so that growth worse than linear shows; ``--breakdown`` prints where an
epoch of the whole network spends its time; ``--no-batch`` runs Yuma subnet by subnet
(``Network(batch_subnets=False)``) instead of batched across subnets.

    .venv/bin/python bench/bench_network.py [--epochs 1000] [--scaling-epochs 50]
                                            [--skip-full] [--skip-scaling] [--profile]
                                            [--breakdown] [--no-batch] [--dtao]
                                            [--subnets K]

``--dtao`` builds today's network instead (issue 16: 128 subnets x 256 UIDs with pools,
root stakers and every strategy); ``--breakdown`` then also prints the ratio of everything
but consensus to the batched Yuma consensus of the same epochs. The compiled kernels are
loaded (or, the first time after a fresh clone, compiled: about 20 s) on a small network
of the same kind before the whole network's 1,000 epochs are timed or profiled
(``warm_kernels``); ``--breakdown`` runs two epochs of the whole network first instead.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import gc
import os
import pstats
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_world import POPULATION  # noqa: E402

from agents.catalog import get  # noqa: E402
from world.coinbase import Coinbase  # noqa: E402
from world.dtao_params import DtaoParams  # noqa: E402
from world.model import Cohort, Network  # noqa: E402
from world.params import EconomyParams, NetworkParams, SubnetParams  # noqa: E402
from world.yuma import YumaParams  # noqa: E402

TARGET_S, TARGET_GB = 60.0, 2.0
TARGET_GB_DTAO = 3.0  # issue 16: today's network with pools, twice the subnets


def build(subnets: int, n_uids: int, delegators: int, seed: int = 1,
          batch: bool | None = None, dtao: bool = False) -> Network:
    """``subnets`` subnets of ``n_uids`` UIDs, each with the world benchmark's mix of every
    miner and validator strategy scaled to its size, and ``delegators`` delegators split
    among the delegator policies as in that benchmark. ``dtao``: today's pools on (prices
    geometric from 0.004 to 0.12 TAO per alpha, 500k alpha per pool, a tenth of the
    delegators root stakers), today's strategies besides (momentum stakers, a pump and
    dump, a subnet founder at epoch 500, owners burning on every 8th subnet and buying
    back on every 16th), the rules of experiments/configs/dtao_baseline.yaml."""
    scale = n_uids / 256
    neurons = [(n, c, p) for n, c, p in POPULATION if get(n).role != "delegator"]
    policies = [(n, c, p) for n, c, p in POPULATION if get(n).role == "delegator"]
    per_policy = sum(c for _, c, _ in policies)
    pop = []
    for s in range(subnets):
        owner = _owner(s) if dtao else None
        for name, count, params in neurons:
            k = max(1, int(count * scale))
            if get(name).role == "validator":  # 4,096 validators must fit in issuance
                params = {"stake_tao": 1_500.0, **params}
            if owner and name == "honest_validator":
                k -= 1  # the owner takes its UID
            pop.append(Cohort(get(name), k, s, params))
        if owner:
            pop.append(Cohort(get(owner[0]), 1, s, {"stake_tao": 1_500.0, **owner[1]}))
    for name, count, params in policies:
        pop.append(Cohort(get(name), round(delegators * count / per_policy), None, params))
    max_val = max(1, min(64, n_uids // 4))
    sp = SubnetParams(n_uids=n_uids, yuma=YumaParams(max_validators=max_val))
    if dtao:
        pop.append(Cohort(get("root_staker"), max(1, delegators // 10), None,
                          {"stake_tao": 2_000.0}))
        pop += [Cohort(get("momentum_staker"), max(1, delegators // 20), None),
                Cohort(get("pump_and_dump"), 1, None, {"entry_epoch": 100, "hold": 100}),
                Cohort(get("subnet_founder"), 1, None, {"entry_epoch": 500,
                                                        "endowment_tao": 3_000.0})]
        prices = tuple(float(p) for p in np.geomspace(0.004, 0.12, subnets))
        sp = SubnetParams(n_uids=n_uids, yuma=YumaParams(max_validators=max_val,
                                                         version="yuma3"))
    params = NetworkParams(
        subnets=(sp,) * subnets, agent_record_interval=10,
        economy=(EconomyParams(initial_issuance_tao=10_600_000.0) if not dtao  # after the
                 # 2025 halving; twice the validators hold more than that: today's 0.5 TAO
                 else EconomyParams(initial_issuance_tao=20_900_000.0,
                                    fixed_emission_per_block=0.5)),
        **({"dtao": DtaoParams(pools=True, price=prices,
                               pool_tao=tuple(5e5 * p for p in prices))} if dtao else {}),
    )
    return Network(params, pop, rng=seed, batch_subnets=batch)


def _owner(s: int) -> tuple[str, dict] | None:
    """Today's owners: one burning half its weight on every 8th subnet, one buying back
    its alpha on every 16th (an honest validator's UID each)."""
    if s % 8 == 3:
        return "owner_burner", {"burn": 0.5}
    if s % 16 == 5:
        return "owner_buyback", {}
    return None


STRATEGIES = "  strategies' produce / set_weights"
# (label, owner, attribute): the phases of an epoch and, indented, parts of a subnet's turn
PHASES = (
    ("delegation", "delegation", "move_stake"),
    ("subnets: strategies, grading, weights", "model", "_subnet_turns"),
    ("  grading (queries, scores, moving averages)", "grading", "grade_all"),
    ("  weights: clean, commit, reveal", "weights", "cleaned"),
    ("  weights: clean, commit, reveal", "weights", "commit"),
    ("  weights: clean, commit, reveal", "subnet", "reveal_due"),
    ("consensus (Yuma, all subnets)", "consensus", "run_all"),
    ("emission", "payments", "pay"),
    ("emission (dtao: pools, alpha, root)", "coinbase", "pay"),
    ("accounts", "accounts", "close_epoch"),
    ("metrics", "measure", "measure"),
    ("data collection", "collector", "collect"),
    ("per-agent records", "measure", "record_agents"),
)


def breakdown(model: Network, epochs: int) -> None:
    """CPU time per epoch by phase, from timers wrapped around each phase's calls."""
    from world import accounts, delegation, grading, measure, payments, weights
    from world.consensus import Consensus
    from world.subnet import Subnet

    spent: collections.Counter[str] = collections.Counter()

    def timer(fn, label):  # type: ignore[no-untyped-def]
        def call(*a, **k):  # type: ignore[no-untyped-def]
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[label] += time.process_time() - t
        return call

    owners = {"model": Network, "subnet": Subnet, "collector": model.datacollector,
              "delegation": delegation, "grading": grading, "weights": weights,
              "consensus": Consensus, "payments": payments, "accounts": accounts,
              "coinbase": Coinbase,
              "measure": measure}
    phases = list(PHASES)
    if not model.batch_subnets:  # Yuma at the end of each subnet's turn: part of it
        phases.insert(4, ("  consensus (Yuma, subnet by subnet)", "consensus", "run"))
    saved = [(owners[o], attr, getattr(owners[o], attr)) for _, o, attr in phases]
    for (label, _, _), (target, attr, fn) in zip(phases, saved, strict=True):
        setattr(target, attr, timer(fn, label))
    classes = {cls for s in model.subnets for cls in model.groups(s.netuid)}
    for cls in classes:
        method = "produce" if cls.role == "miner" else "set_weights"
        saved.append((cls, method, vars(cls).get(method)))
        setattr(cls, method, classmethod(timer(getattr(cls, method).__func__, STRATEGIES)))
    try:
        start = time.process_time()
        for _ in range(epochs):
            model.step()
        total = time.process_time() - start
    finally:
        for target, attr, fn in reversed(saved):
            if fn is None:
                delattr(target, attr)
            else:
                setattr(target, attr, fn)
    print(f"where an epoch of the whole network goes ({epochs} epochs, "
          f"{1e3 * total / epochs:.1f} ms per epoch with the timers):")
    labels = [label for label, _, _ in phases]
    order = dict.fromkeys(labels[:3] + [STRATEGIES] + labels[3:])
    for label in order:
        print(f"  {label:<48} {1e3 * spent[label] / epochs:7.2f} ms "
              f"{100 * spent[label] / total:5.1f}%")
    rest = total - sum(v for k, v in spent.items() if not k.startswith("  "))
    print(f"  {'the rest':<48} {1e3 * rest / epochs:7.2f} ms {100 * rest / total:5.1f}%")
    yuma = spent["consensus (Yuma, all subnets)"] + spent["  consensus (Yuma, subnet by subnet)"]
    if yuma > 0:
        print(f"  everything but consensus / consensus: {(total - yuma) / yuma:.2f}x")


def timed(model: Network, epochs: int) -> float:
    """CPU seconds per epoch over ``epochs`` epochs (after two warm-up epochs)."""
    for _ in range(2):
        model.step()
    start = time.process_time()
    for _ in range(epochs):
        model.step()
    return (time.process_time() - start) / epochs


def warm_kernels(batch: bool | None, dtao: bool) -> float:
    """CPU seconds to compile (or load from numba's on-disk cache) the compiled kernels an
    epoch of the whole network calls, by three epochs of a network of two subnets of 256
    UIDs of the same kind, collected before returning: compiling is once per machine and
    checkout (the first run after a fresh clone spends about 20 s there), not a cost of
    the epochs timed after it. (The subnet founder's first epoch, at epoch 500, still
    compiles one small loop there after a fresh clone: about 0.1 s.)"""
    start = time.process_time()
    small = build(2, 256, 64, batch=batch, dtao=dtao)
    for _ in range(3):
        small.step()
    del small
    gc.collect()  # the small network's cycles, not in the timed epochs
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--scaling-epochs", type=int, default=50)
    parser.add_argument("--skip-full", action="store_true", help="only the scaling tables")
    parser.add_argument("--skip-scaling", action="store_true", help="only the full network")
    parser.add_argument("--profile", action="store_true", help="cProfile the full network")
    parser.add_argument("--breakdown", action="store_true",
                        help="time per phase of an epoch of the full network")
    parser.add_argument("--dtao", action="store_true",
                        help="today's pools on (dtao.pools), 128 subnets by default")
    parser.add_argument("--subnets", type=int, default=None,
                        help="subnets of the full network (default 64, 128 with --dtao)")
    parser.add_argument("--no-batch", action="store_true",
                        help="Yuma subnet by subnet, not batched across subnets")
    args = parser.parse_args(argv)
    batch = False if args.no_batch else None
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    if not args.skip_scaling:
        print("time per epoch (CPU, one core) against the number of subnets (256 UIDs each):")
        print(f"  {'subnets':>8} {'ms/epoch':>10} {'ms/subnet-epoch':>16}")
        for k in (1, 4, 16, 64):
            per = timed(build(k, 256, 2000 * k // 64 or 30, batch=batch), args.scaling_epochs)
            print(f"  {k:>8} {1e3 * per:>10.2f} {1e3 * per / k:>16.3f}")
        print("time per epoch against UIDs per subnet (one subnet):")
        print(f"  {'UIDs':>8} {'ms/epoch':>10}")
        for n in (64, 128, 256, 1024):
            per = timed(build(1, n, max(10, n // 5), batch=batch), args.scaling_epochs)
            print(f"  {n:>8} {1e3 * per:>10.2f}")
    if args.skip_full and not (args.profile or args.breakdown):
        return 0

    k = args.subnets or (128 if args.dtao else 64)
    model = build(k, 256, 2000 * k // 64, batch=batch, dtao=args.dtao)
    built_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    if args.breakdown:
        for _ in range(2):
            model.step()
        breakdown(model, min(args.epochs, 30))
        return 0
    if args.profile:
        warm_kernels(batch, args.dtao)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(min(args.epochs, 50)):
            model.step()
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return 0
    warm = warm_kernels(batch, args.dtao)
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(args.epochs):
        model.step()
    records = model.agent_records()
    model.datacollector.get_model_vars_dataframe()
    wall = time.perf_counter() - start_wall
    cpu = time.process_time() - start_cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"whole network: {k} subnets x 256 UIDs{' with pools (dtao)' if args.dtao else ''}, "
          f"{len(model.agents)} participants ({2000 * k // 64} delegators), {args.epochs} "
          "epochs, per-agent records every 10 "
          f"({len(records):,} rows)")
    print(f"  {cpu:.1f} s CPU ({wall:.1f} s wall), {1e3 * cpu / args.epochs:.1f} ms per "
          f"epoch; peak memory {peak:.2f} GB (after building: {built_rss:.2f} GB); "
          f"compiled kernels loaded or compiled before, untimed: {warm:.1f} s")
    gb = TARGET_GB_DTAO if args.dtao else TARGET_GB
    print(f"  targets: {TARGET_S:.0f} s -> {'met' if cpu <= TARGET_S else 'MISSED'}; "
          f"{gb:.0f} GB -> {'met' if peak <= gb else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
