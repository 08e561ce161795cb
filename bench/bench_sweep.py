"""Benchmark of a parameter sweep: serial vs Ray (2 workers) vs ``mesa.batch_run``.

A sweep of 40 runs (5 cells x 8 seeds) of about a second each: the realistic SN1
subnet of ``experiments/configs/baseline.yaml`` shortened to 230 epochs, swept over the
bonds penalty. Three ways to run it:

- ``serial``: ``tao-arena run`` (one process, writes the results directory);
- ``ray``: ``tao-arena sweep --workers 2`` (a local Ray instance with 2 CPUs, one task per
  run, results streamed back and written by the driver); timed once the instance is up
  and its two worker processes have imported tao-arena (steady state; the start-up is
  reported apart) and, separately, from a cold start, start-up included;
- ``mesa.batch_run``: Mesa's own batch runner with 2 processes on the same model, cells
  and seeds (results kept in memory, nothing written).

Parallel efficiency = serial time / (2 x Ray time); target >= 0.85 (issue 5).

    .venv/bin/python bench/bench_sweep.py [--epochs 230] [--seeds 8] [--workers 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# One BLAS thread in every process (this one: serial; mesa.batch_run's children inherit
# it; Ray gives each task one anyway), so the three compare the same work per core. Set
# before numpy is imported.
BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
for _k in BLAS_THREADS:
    os.environ.setdefault(_k, "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.plan import Plan, load_plan  # noqa: E402
from experiments.schema import Experiment  # noqa: E402
from experiments.wiring import attach_dynamics, model_arguments, run_seed  # noqa: E402
from world.model import Network  # noqa: E402

BENCH = """\
name: bench-sweep
epochs: {epochs}
seeds: {{master: 1, count: {seeds}}}
scenario:
  agent_record_interval: 20
  economy: {{fixed_emission_per_block: 0.068}}
  subnets:
    - {{n_uids: 1024, yuma: {{version: yuma2}}, commit_reveal: false, reveal_period: 0}}
population:
  - {{strategy: honest_validator, count: 3, subnet: 0, params: {{stake_tao: 600000}}}}
  - {{strategy: honest_validator, count: 29, subnet: 0, params: {{stake_tao: 25000}}}}
  - {{strategy: honest_miner, count: 930, subnet: 0}}
  - {{strategy: gpt_passthrough, count: 60, subnet: 0}}
  - {{strategy: yield_chaser, count: 300}}
  - {{strategy: popularity_follower, count: 300}}
sweep:
  grid:
    subnets.0.yuma.bonds_penalty: [0.0, 0.25, 0.5, 0.75, 1.0]
"""

_CELLS: list[dict[str, Any]] | None = None


def _cells() -> list[dict[str, Any]]:
    global _CELLS
    if _CELLS is None:
        _CELLS = json.loads(Path(os.environ["TAO_BENCH_CELLS"]).read_text())
    return _CELLS


class SweepModel(Network):
    """The same model ``tao-arena`` runs, constructed the way ``mesa.batch_run`` wants:
    keyword parameters (cell, seed index) and ``rng`` (ignored: the seed comes from the
    seed index, as in ``tao-arena``)."""

    def __init__(self, cell: int = 0, seed_index: int = 0, rng: Any = None) -> None:
        cfg = _cells()[cell]
        exp = Experiment.model_validate(cfg["config"])
        params, population, extra = model_arguments(exp)
        super().__init__(params, population, rng=run_seed(cfg["master"], seed_index),
                         strategies=extra)
        attach_dynamics(self, exp)


def _warm() -> int:
    import experiments.execute  # noqa: F401  (what the first run of a worker imports)
    import experiments.wiring  # noqa: F401

    time.sleep(0.5)  # hold the worker so that each CPU's worker gets one
    return os.getpid()


def warm_up_workers(n: int) -> None:
    """Start and warm Ray's worker processes (imports), as an instance in use has them."""
    import ray

    ray.get([ray.remote(num_cpus=1)(_warm).remote() for _ in range(n)])


def run_tao(plan: Plan, root: Path, backend: str, workers: int) -> float:
    from experiments.runner import run_plan

    t0 = time.perf_counter()
    out = run_plan(plan, root=root, backend=backend, workers=workers, progress=False)
    elapsed = time.perf_counter() - t0
    assert out.exit_code == 0 and out.completed == out.planned, out.report()
    return elapsed


def run_batch(plan: Plan, workers: int, cells_file: Path) -> float:
    import mesa

    os.environ["TAO_BENCH_CELLS"] = str(cells_file)
    t0 = time.perf_counter()
    results = mesa.batch_run(
        SweepModel,
        parameters={"cell": range(len(plan.cells)), "seed_index": plan.seed_indices},
        number_processes=workers, max_steps=plan.experiment.epochs,
        data_collection_period=-1, display_progress=False,
    )
    elapsed = time.perf_counter() - t0
    assert len(results) == len(plan.runs())
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=230)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3,
                        help="repeat each measurement; the table shows the fastest "
                             "(other work on a shared machine only ever slows a run down)")
    args = parser.parse_args()
    w = args.workers
    times: dict[str, list[float]] = {"serial": [], "ray": [], "ray_cold": [], "batch": []}
    startups: list[float] = []

    with tempfile.TemporaryDirectory(prefix="tao-bench-") as tmp:
        tmpdir = Path(tmp)
        path = tmpdir / "bench.yaml"
        path.write_text(BENCH.format(epochs=args.epochs, seeds=args.seeds))
        plan = load_plan(path)
        n = len(plan.runs())
        cells_file = tmpdir / "cells.json"
        cells_file.write_text(json.dumps([{"config": c.config, "master": plan.master_seed}
                                          for c in plan.cells]))
        print(f"sweep: {len(plan.cells)} cells x {len(plan.seed_indices)} seeds = {n} runs "
              f"of {plan.experiment.epochs} epochs (1,024-UID subnet); {os.cpu_count()} CPUs; "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
        from experiments.backends import RaySession

        for r in range(args.repeats):
            times["serial"].append(run_tao(plan, tmpdir / f"serial{r}", "serial", 1))
            t0 = time.perf_counter()
            with RaySession(workers=w):
                startups.append(time.perf_counter() - t0)
                warm_up_workers(w)
                times["ray"].append(run_tao(plan, tmpdir / f"ray{r}", "ray", w))
            times["ray_cold"].append(run_tao(plan, tmpdir / f"cold{r}", "ray", w))
            times["batch"].append(run_batch(plan, w, cells_file))
            print(f"  repeat {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s"
                                                  for k, v in times.items()), flush=True)

    best = {k: min(v) for k, v in times.items()}
    serial = best["serial"]
    rows = [
        ("serial (tao-arena run)", "serial", 1),
        (f"ray, {w} workers, instance up", "ray", w),
        (f"ray, {w} workers, incl. start-up", "ray_cold", w),
        (f"mesa.batch_run, {w} processes", "batch", w),
    ]
    print()
    print("| backend | wall (s), best | median | s per run | speed-up | parallel efficiency |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, key, k in rows:
        t = best[key]
        med = statistics.median(times[key])
        print(f"| {name} | {t:.1f} | {med:.1f} | {t / n:.2f} | {serial / t:.2f} | "
              f"{serial / (k * t):.2f} |")
    eff = serial / (w * best["ray"])
    load = os.getloadavg()
    print()
    print(f"Best of {args.repeats}; load average at the end {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f}. Ray start-up {min(startups):.1f} s. "
          f"mesa.batch_run / Ray: {best['batch'] / best['ray']:.2f} (instance up), "
          f"{best['batch'] / best['ray_cold']:.2f} (incl. start-up). "
          f"Parallel efficiency of Ray {eff:.2f}: target >= 0.85 "
          f"{'met' if eff >= 0.85 else 'NOT met'}.")


if __name__ == "__main__":
    main()
