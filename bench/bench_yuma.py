"""Benchmark of the Yuma Consensus kernel (world/yuma.py) on one core.

Run from the repository root: ``.venv/bin/python bench/bench_yuma.py [--quick]``.

A full subnet: 256 UIDs, the first 64 staked validators (all permitted) setting dense random
weights on the 192 miners, with bonds warmed up over a few epochs. Reported, as the median and
inter-quartile range over many repeats:

* one :func:`world.yuma.epoch` call;
* one :func:`world.yuma.epoch_batch` call on 64 such subnets, per subnet-epoch: as the world
  calls it (bonds updated in place with ``out=``, only rows of permitted UIDs read with
  ``permitted_bonds_only``; both leave the numbers unchanged, cross-checked below), and with
  the default arguments (a fresh b x n x n bonds array, every bond row read);
* a straightforward reference epoch written here (dense arrays, the consensus median a plain
  loop over columns), which also cross-checks the kernel's consensus, incentive, dividends
  and bonds.

The kernel's two backends are measured side by side: the numpy code of world/yuma.py and the
numba-compiled world/yuma_jit.py (when numba is installed; ``world.yuma.BACKEND`` picks one).
``--cold-start`` also times, in fresh processes, the first compiled call with an empty numba
cache (the compilation every new machine, or a Ray worker without the cache, pays once) and
with the cache filled.

Targets (issue 2): at most 0.2 ms per full-subnet epoch and 0.1 ms per subnet-epoch batched.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from world import yuma  # noqa: E402
from world.yuma import YumaParams, YumaResult, epoch, epoch_batch  # noqa: E402

N_UIDS, N_VALIDATORS, N_SUBNETS = 256, 64, 64
TARGET_EPOCH_US, TARGET_BATCHED_US = 200.0, 100.0


def pin_to_one_core() -> str:
    """Pin this process to CPU 0 where the OS allows it; say what happened."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this OS)"
    try:
        os.sched_setaffinity(0, {0})
    except OSError as err:
        return f"not pinned ({err})"
    return "pinned to CPU 0"


def make_subnet(rng: np.random.Generator, params: YumaParams, warmup: int = 5):
    """Weights, stake, bonds and permits of a full subnet after ``warmup`` epochs."""
    n, v = N_UIDS, N_VALIDATORS
    stake = np.zeros(n)
    stake[:v] = rng.lognormal(3.0, 1.0, v)
    quality = rng.random(n - v)

    def weights() -> np.ndarray:
        w = np.zeros((n, n))
        w[:v, v:] = np.clip(quality + 0.2 * rng.standard_normal((v, n - v)), 0.0, None)
        return w

    bonds, permits = np.zeros((n, n)), None
    for _ in range(warmup):
        res = epoch(weights(), stake, bonds, params, permits=permits)
        bonds, permits = res.bonds, res.new_permits
    return weights(), stake, bonds, permits


# ---------------------------------------------------------------------------------------------
# The straightforward reference: MODEL.md section 3 on dense n x n arrays, median column by column
# ---------------------------------------------------------------------------------------------


def _normalise(x: np.ndarray, axis: int | None = None) -> np.ndarray:
    total = x.sum(axis=axis, keepdims=axis is not None)
    return np.divide(x, total, out=np.zeros_like(x), where=total > 0)


def reference_median(w: np.ndarray, active_stake: np.ndarray, kappa: float) -> np.ndarray:
    """Stake-weighted median per column, one column at a time (MODEL.md section 3 step 5)."""
    voters = active_stake > 0
    stake = active_stake[voters] / active_stake[voters].sum() if voters.any() else None
    consensus = np.zeros(w.shape[1])
    for j in range(w.shape[1]):
        if stake is None:
            continue
        column = w[voters, j]
        order = np.argsort(column, kind="stable")
        cumulative = np.cumsum(stake[order])
        above = np.flatnonzero(cumulative > 1.0 - kappa)
        consensus[j] = column[order[above[0]]] if above.size else column.max()
    return consensus


def reference_epoch(w, stake, bonds, params: YumaParams, permits) -> dict[str, np.ndarray]:
    """One epoch, yuma3 without liquid alpha or yuma2, written for clarity."""
    n = len(stake)
    s = _normalise(np.where(stake < params.stake_threshold, 0.0, stake))
    permits = s > 0 if permits is None else permits
    a = _normalise(s * permits)
    w = w * permits[:, None]
    np.fill_diagonal(w, 0.0)
    w = _normalise(w, axis=1)
    consensus = reference_median(w, a, params.kappa)
    clipped = np.minimum(w, consensus)
    incentive = _normalise(a @ clipped)
    beta, rate = params.bonds_penalty, params.bonds_ema_rate
    wb = clipped if beta == 1.0 else w + beta * (clipped - w)
    if params.version == "yuma3":
        new_bonds = rate * wb + (1 - rate) * bonds
        dividends = _normalise(a * (_normalise(new_bonds, axis=0) @ incentive))
    else:
        delta = _normalise(a[:, None] * wb, axis=0)
        new_bonds = _normalise(rate * delta + (1 - rate) * _normalise(bonds, axis=0), axis=0)
        dividends = _normalise(new_bonds @ incentive)
    order = np.argsort(s, kind="stable")
    new_permits = s > 0
    new_permits[order[: max(n - params.max_validators, 0)]] = False
    return {
        "consensus": consensus,
        "incentive": incentive,
        "dividends": dividends,
        "bonds": new_bonds * new_permits[:, None],
    }


def cross_check(result: YumaResult, reference: dict[str, np.ndarray]) -> None:
    """The kernel and the reference agree (to rounding: the kernel normalises rows by one
    reciprocal per row, the reference divides)."""
    for name in ("consensus", "incentive", "dividends", "bonds"):
        np.testing.assert_allclose(getattr(result, name), reference[name], rtol=1e-9,
                                   atol=1e-14, err_msg=name)


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


def measure(
    fn: Callable[[], object], repeats: int, per_call: int = 1
) -> tuple[float, float, float]:
    """Median and inter-quartile range of one call's CPU time, and its median wall time.

    In microseconds per ``per_call`` unit. The CPU time of this (single) thread does not
    count time the process spends descheduled, so other work on the machine disturbs it
    less than the wall clock.
    """
    fn()  # warm caches
    cpu, wall = np.empty(repeats), np.empty(repeats)
    for r in range(repeats):
        wall0, cpu0 = time.perf_counter_ns(), time.thread_time_ns()
        fn()
        cpu[r], wall[r] = time.thread_time_ns() - cpu0, time.perf_counter_ns() - wall0
    q1, median, q3 = np.percentile(cpu / 1e3 / per_call, [25, 50, 75])
    return float(median), float(q3 - q1), float(np.median(wall) / 1e3 / per_call)


def numba_available() -> bool:
    """Whether the compiled backend (world/yuma_jit.py, numba) imports."""
    try:
        import world.yuma_jit  # noqa: F401
    except ImportError:
        return False
    return True


def cold_start() -> list[tuple[float, float]]:
    """Wall and CPU seconds from process start to the end of the first compiled ``epoch``
    call, in a fresh process with an empty numba cache, then in one with the cache it left."""
    code = (
        "import time; t, c = time.perf_counter(), time.process_time(); import numpy as np; "
        "from world import yuma; yuma.BACKEND = 'numba'; "
        "n = 256; w = np.random.default_rng(0).random((n, n)); "
        "yuma.epoch(w, np.ones(n), np.zeros((n, n)), yuma.YumaParams()); "
        "print(time.perf_counter() - t, time.process_time() - c)"
    )
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(root))
        runs = [subprocess.run([sys.executable, "-c", code], env=env, check=True,
                               capture_output=True, text=True).stdout.split()
                for _ in range(2)]
    return [(float(wall), float(cpu)) for wall, cpu in runs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--version", choices=["yuma3", "yuma2"], default="yuma3")
    parser.add_argument("--cold-start", action="store_true",
                        help="also time the numba compilation in fresh processes")
    args = parser.parse_args()
    pinned = pin_to_one_core()
    scale = 10 if args.quick else 1
    params = YumaParams(version=args.version)
    rng = np.random.default_rng(2026)
    backends = ["numpy", "numba"] if numba_available() else ["numpy"]

    yuma.BACKEND = "numpy"
    w, stake, bonds, permits = make_subnet(rng, params)
    subnets = [make_subnet(rng, params) for _ in range(N_SUBNETS)]
    ws, stakes, bondss, permitss = (np.stack(x) for x in zip(*subnets, strict=True))

    # Cross-checks first: each backend against the reference, batched against looped, and
    # the backends against each other.
    first_call = None
    results = {}
    for backend in backends:
        yuma.BACKEND = backend
        start = time.perf_counter()
        single = epoch(w, stake, bonds, params, permits=permits)
        if backend == "numba":
            first_call = time.perf_counter() - start
        cross_check(single, reference_epoch(w, stake, bonds, params, permits))
        batched = epoch_batch(ws, stakes, bondss, params, permits=permitss)
        for k in range(0, N_SUBNETS, 8):
            looped = epoch(ws[k], stakes[k], bondss[k], params, permits=permitss[k])
            cross_check(batched[k], reference_epoch(ws[k], stakes[k], bondss[k], params,
                                                    permitss[k]))
            np.testing.assert_allclose(batched[k].dividends, looped.dividends, rtol=1e-12)
        results[backend] = batched
    for name in ("consensus", "incentive", "dividends", "bonds", "validator_emission_share"):
        for backend in backends:
            np.testing.assert_allclose(getattr(results[backend], name),
                                       getattr(results["numpy"], name), rtol=0, atol=1e-12,
                                       err_msg=f"{name}, {backend} against numpy")

    def batched() -> YumaResult:
        return epoch_batch(ws, stakes, bondss, params, permits=permitss)

    # The world's call: the stacked bonds updated in place, rows outside permits not read.
    # Each timed repeat is the next epoch of the same subnets (the bonds move on, as in the
    # world); the first is cross-checked against the default call.
    work = bondss.copy()
    in_place = epoch_batch(ws, stakes, work, params, permits=permitss, out=work,
                           permitted_bonds_only=True)
    for name in ("consensus", "incentive", "dividends", "bonds", "validator_emission_share"):
        np.testing.assert_array_equal(getattr(in_place, name), getattr(results[backends[-1]],
                                                                       name), err_msg=name)

    def batched_in_place() -> YumaResult:
        return epoch_batch(ws, stakes, work, params, permits=permitss, out=work,
                           permitted_bonds_only=True)

    # numpy asks for transparent huge pages for arrays of 4 MB or more (the batch's b x n x n
    # bonds); where the kernel then compacts memory on every fault this dominates. Measure
    # the batch both ways (what NUMPY_MADVISE_HUGEPAGE=0 does for a whole process).
    set_hugepage = getattr(np._core.multiarray, "_set_madvise_hugepage", None)
    rows = []
    for case in ("single", "in place", "batched", "no huge pages"):
        for backend in backends:
            yuma.BACKEND = backend
            if case == "single":
                rows.append((f"epoch, one subnet [{backend}]", TARGET_EPOCH_US, measure(
                    lambda: epoch(w, stake, bonds, params, permits=permits), 3000 // scale)))
            elif case == "in place":
                rows.append((f"epoch_batch, {N_SUBNETS} subnets, in place, per subnet "
                             f"[{backend}]", TARGET_BATCHED_US,
                             measure(batched_in_place, 100 // scale, per_call=N_SUBNETS)))
            elif case == "batched":
                rows.append((f"epoch_batch, {N_SUBNETS} subnets, per subnet [{backend}]",
                             TARGET_BATCHED_US,
                             measure(batched, 100 // scale, per_call=N_SUBNETS)))
            elif set_hugepage is not None:
                was = set_hugepage(False)
                rows.append((f"epoch_batch, per subnet, no huge pages [{backend}]",
                             TARGET_BATCHED_US,
                             measure(batched, 100 // scale, per_call=N_SUBNETS)))
                set_hugepage(was)
    yuma.BACKEND = "auto"
    rows.append(("reference (per-column loop), one subnet", None, measure(
        lambda: reference_epoch(w, stake, bonds, params, permits), 300 // scale)))

    print(f"Yuma Consensus kernel, {params.version}: {N_UIDS} UIDs, {N_VALIDATORS} validators "
          f"with dense weights on {N_UIDS - N_VALIDATORS} miners; {pinned}; numpy "
          f"{np.__version__}; consensus, incentive, dividends, bonds cross-checked.")
    print(f"{'case (CPU time of one call)':64s} {'median us':>10s} {'IQR us':>8s} "
          f"{'wall us':>8s} {'target us':>10s}")
    for name, target, (median, iqr, wall) in rows:
        mark = "" if target is None else f"{target:10.0f}" + (" ok" if median <= target else
                                                              " MISSED")
        print(f"{name:64s} {median:10.1f} {iqr:8.1f} {wall:8.1f} {mark}")
    reference = rows[-1][2][0]
    print("speed-up over the reference: " + ", ".join(
        f"{reference / timing[0]:.1f}x {name}" for name, _, timing in rows[:-1]))
    if "numba" not in backends:
        print("numba is not installed: the compiled backend was not measured")
        return
    timings = {name: timing[0] for name, _, timing in rows}
    print("numba over numpy: " + ", ".join(
        f"{timings[name] / timings[name.replace('[numpy]', '[numba]')]:.1f}x "
        f"{name.removesuffix(' [numpy]')}" for name in timings if name.endswith("[numpy]")))
    print(f"first compiled call in this process (compile or load from the numba cache): "
          f"{first_call:.2f} s")
    if args.cold_start:
        (cold, cold_cpu), (warm, warm_cpu) = cold_start()
        print(f"fresh process to the end of the first compiled epoch: {cold:.1f} s "
              f"({cold_cpu:.1f} s CPU) with an empty numba cache, {warm:.1f} s "
              f"({warm_cpu:.1f} s CPU) with the cache filled")


if __name__ == "__main__":
    main()
