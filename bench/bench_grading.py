"""Benchmark of the compiled grading loops (world/grading_jit.py) on the whole network's inputs.

Run from the repository root: ``.venv/bin/python bench/bench_grading.py [--repeats 15]``.

Builds today's benchmark network (``bench_network.build``: 128 subnets x 256 UIDs with
pools and every strategy), runs it three epochs, and records the arguments of the next
epoch's one call of ``grading_jit.grade_run`` (every subnet's queries, normals, scores
and moving averages: 1.23 million graded pairs from 2.5 million random words). That call is
then repeated on copies of its moving averages with fresh generators, as medians of CPU
time, and checked to give the same numbers and leave the generators in the same state
each time. Reported: the median and inter-quartile range, and nanoseconds per graded
pair. (The README's grading figures come from this call on these inputs; the phase as a
whole is in ``bench_network.py --dtao --breakdown``.) To compare with an older commit, copy
this file into its checkout's ``bench/`` and run it there.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_network import build  # noqa: E402

from world import work_fast  # noqa: E402


def recorded_call(epochs: int = 3) -> tuple:
    """The arguments of one epoch's ``grade_run`` call on the benchmark network, copied,
    after ``epochs`` epochs (the two generators' addresses left out)."""
    model = build(128, 256, 4000, dtao=True)
    for _ in range(epochs):
        model.step()
    kernels = work_fast._kernels()
    if kernels is None:
        sys.exit("the compiled grading loops are off here (numba missing, or "
                 "TAO_ARENA_GRADING=numpy)")
    seen: list[tuple] = []
    run = kernels.grade_run
    # the generators' words, as this checkout passes them (older ones passed more)
    words = 2 * len(work_fast._words_of(np.random.default_rng()))

    def record(*args: object) -> bool:
        seen.append(tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a
                          for a in args[words:]))
        return run(*args)

    kernels.grade_run = record
    try:
        model.step()
    finally:
        kernels.grade_run = run
    if not seen:
        sys.exit("the network's grading did not go through grade_run in one call")
    return max(seen, key=lambda a: a[-1].size)  # the largest run: every subnet here


def call(args: tuple, seed: int) -> tuple[float, np.ndarray, dict, dict]:
    """One ``grade_run`` on a copy of the recorded moving averages with two fresh PCG64
    generators; returns CPU seconds, the moving averages and both generators' states."""
    kernels = work_fast._kernels()
    queries = np.random.Generator(np.random.PCG64(seed))
    grading = np.random.Generator(np.random.PCG64(seed + 1))
    stack = args[8].copy()
    received, graded = np.zeros_like(args[-2]), np.zeros_like(args[-1])
    full = (*work_fast._words_of(queries), *work_fast._words_of(grading), *args[:8], stack,
            *args[9:-2], received, graded)
    start = time.process_time()
    if not kernels.grade_run(*full):
        sys.exit("grade_run refused the recorded inputs")
    spent = time.process_time() - start
    return spent, stack, queries.bit_generator.state, grading.bit_generator.state


def graded_pairs(recorded: tuple) -> int:
    """Graders x miners over the recorded run's subnets."""
    starts, quality = recorded[11], recorded[13]
    return int(np.sum(np.diff(starts)) * quality.shape[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    recorded = recorded_call()
    pairs = graded_pairs(recorded)
    first = call(recorded, 7)
    times = []
    for _ in range(args.repeats):
        spent, stack, q_state, g_state = call(recorded, 7)
        if not (np.array_equal(stack, first[1]) and q_state == first[2]
                and g_state == first[3]):
            sys.exit("grade_run gave different numbers on the same inputs and seeds")
        times.append(spent)
    q1, med, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else (times * 3)
    print(f"grading_jit.grade_run, {len(recorded[9])} subnets, {pairs:,} graded pairs: "
          f"median {1e3 * med:.2f} ms (IQR {1e3 * q1:.2f}-{1e3 * q3:.2f}), "
          f"{1e9 * med / pairs:.1f} ns a pair, over {args.repeats} calls")


if __name__ == "__main__":
    main()
