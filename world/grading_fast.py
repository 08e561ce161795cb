"""Speed only: ``grading.grade_all`` for an epoch whose subnets ``work_fast.grade_epochs``
would grade in one call of the compiled loops, without its Python per subnet.

``grade_all`` builds each subnet's job (``grading._grading_job``), ``work_fast``
checks each job (``_compiled``, ``_together``) and gathers the run's arrays from them
(``_grade_run``), and ``grading._book_all`` books the costs from them again. While the
turns (subnets, plans, answers), their members, hyperparameters, moving averages and
the columns their graders read stay the same, all of that but the permits, qualities,
costs and flags is the same epoch after epoch: ``Run`` keeps it (in the first plan's
``memo``), checked each epoch by identity and versions, and each epoch reads the rest
with one gather per array. The same draws, the same numbers, in the same order; any
other epoch (subnets that check copies, other shapes, numpy's path, indices outside the
moving averages, an account twice among miners and graders, ...) returns False and
takes ``grade_all``'s own path. tests/test_fast_paths.py compares the two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from world import work_fast

if TYPE_CHECKING:
    from world.grading import Answers
    from world.membership import Plan
    from world.model import Network
    from world.subnet import Subnet

Graders = Callable[["Network", "Plan"], tuple[np.ndarray, ...]]


@dataclass
class Arrays:
    """A run's arrays as ``work_fast._grade_run`` and ``grading._book_all`` gather them
    from the jobs, before the permits (every grader of each plan, in turn order)."""

    stack: np.ndarray  # the array whose views the moving averages are
    places: np.ndarray  # each subnet's place in it
    sizes: list[int]  # each subnet's ``Subnet.n``
    uids: np.ndarray  # the graders' UIDs (``graders``)
    owner: np.ndarray  # the position of each grader's subnet in the turns
    at: np.ndarray  # each grader's place among the subnets' UIDs end to end
    capability: np.ndarray
    noise: np.ndarray
    rate: np.ndarray
    cost: np.ndarray
    accts: np.ndarray
    counts: np.ndarray  # graders per subnet
    miner_cols: list[slice | np.ndarray]  # each subnet's ``Members.miner_cols``
    cols: np.ndarray  # subnets x miners: the miners' UIDs
    miner_at: np.ndarray  # the miners' places among the subnets' UIDs end to end
    common: slice | None  # the miners' columns where every subnet has them and its size
    miner_accts: np.ndarray
    rounds: int
    sample_size: int


@dataclass
class Run:
    """What ``grade_all``'s job-by-job path derives, for one list of turns, from state
    that changes only with membership, hyperparameters, the moving averages' stack or the
    columns the graders read: its ``Arrays``, or None where the epoch is not one call
    whatever the permits, qualities and answers' flags."""

    turns: list[tuple[Subnet, Plan, Answers]]
    versions: list[int]  # each subnet's ``Subnet.version`` (its ``Members``)
    params: list[Any]  # each subnet's hyperparameters (frozen)
    emas: list[np.ndarray]  # each subnet's moving averages
    read: tuple[str, ...]  # the columns the plans' ``graders`` read
    read_versions: tuple[int, ...]
    arrays: Arrays | None = None


def grade_all(model: Network, turns: list[tuple[Subnet, Plan, Answers]],
              graders: Graders) -> bool:
    """``grading.grade_all(model, turns)`` where its jobs would all go in one call of the
    compiled loops (``work_fast.grade_epochs`` giving every job one key, its
    ``_grade_run`` drawing) and ``grading._book_all`` would book them: the same moving
    averages, draws, books and queries received. Returns False, having drawn and
    written nothing, for any other epoch. ``graders``: ``grading.graders`` (each plan's
    graders' arrays, kept in its memo under that function)."""
    kernels = work_fast._kernels()
    if len(turns) < 2 or kernels is None or kernels.ziggurat is None:
        return False
    qrng, grng = model.streams["queries"], model.streams["grading"]
    if not (work_fast._RAW_UNIFORMS and work_fast._pcg64(qrng) and work_fast._pcg64(grng)):
        return False
    run = _run(model, turns, graders)
    arrays = run.arrays
    if arrays is None:
        return False
    subnets = [t[0] for t in turns]
    permitted = _joined(arrays, [s.permits for s in subnets])
    if permitted is None or permitted.dtype != np.bool_:
        return False  # before the first epoch, or permits not one per UID
    stack = arrays.stack
    if not (stack.flags.writeable and all([e.flags.writeable for e in run.emas])
            and all([t[2].plain for t in turns])):
        return False  # ``_together`` takes writable views only; ``_compiled`` plain inputs
    membership = model.membership
    if not all([membership.is_current(s.netuid, plan) for s, plan, _ in turns]):
        return False  # ``_grading_job`` would take the subnet's new plan
    keep = permitted[arrays.at]
    rows, capability, noise, rate, cost, accts, counts = (
        arrays.uids, arrays.capability, arrays.noise, arrays.rate, arrays.cost,
        arrays.accts, arrays.counts)
    if not keep.all():  # ``_grading_job``: only the permitted grade
        rows, capability, noise, rate, cost, accts = (
            a[keep] for a in (rows, capability, noise, rate, cost, accts))
        counts = np.bincount(arrays.owner[keep], minlength=len(turns))
        if not counts.all():
            return False  # a subnet without graders: not compiled, the run breaks there
    quality = _miners(arrays, [s.quality for s in subnets])
    if quality is None:
        return False
    quality = np.ascontiguousarray(quality)  # as ``_grade_run`` stacks them
    b, n_min = quality.shape
    starts = np.zeros(b + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    received = np.zeros((b, n_min), dtype=np.int64)
    graded = np.empty(starts[-1], dtype=np.int64)
    rounds = arrays.rounds
    p = min(1.0, arrays.sample_size / n_min)
    done = kernels.grade_run(
        *work_fast._words_of(qrng), *work_fast._words_of(grng), *kernels.ziggurat,
        work_fast._low_or_straddle(rounds, p), work_fast._binomial_table(rounds, p)[0],
        work_fast.sqrt_table(rounds), stack, arrays.places, rows, starts, noise, quality,
        capability, rate, arrays.cols, received, graded)
    if not done:
        return False  # indices outside the moving averages: nothing drawn
    _book(model, turns, arrays, received, graded, cost, accts, counts.tolist(), starts)
    return True


def _book(model: Network, turns: list[tuple[Subnet, Plan, Answers]], arrays: Arrays,
          received: np.ndarray, graded: np.ndarray, cost: np.ndarray, accts: np.ndarray,
          counts: list[int], starts: np.ndarray) -> None:
    """``grading._book_all`` of the run's results (no account twice: ``_build`` checked
    every grader's, before the permits): the same additions in the same order."""
    subnets = [t[0] for t in turns]
    answers = [t[2] for t in turns]
    gathered = [_miners(arrays, [getattr(a, f) for a in answers])
                for f in ("fixed", "per_query", "computes")]
    if any(x is None for x in gathered):  # as ``_book_all`` gathers them (and fails)
        gathered = [np.concatenate([getattr(a, f)[c] for a, c in zip(
            answers, arrays.miner_cols, strict=True)]).reshape(received.shape)
            for f in ("fixed", "per_query", "computes")]
    fixed, per_query, computes = gathered
    books = model.books
    books.cost[arrays.miner_accts] += (fixed + per_query * received).reshape(-1)
    books.cost[accts] += cost * graded
    computed = received * computes
    if computed.dtype.kind in "iu":  # sums of integers: exact in any order
        done = computed.sum(axis=1).tolist()
        sent = np.add.reduceat(graded, starts[:-1]).tolist()
    else:
        done = segment_sums(computed.reshape(-1), [received.shape[1]] * len(answers))
        sent = segment_sums(graded, counts)
    totals = books.work
    work = [float(t) for t in totals[:3]]
    for computed_here, graded_here, n_graders in zip(done, sent, counts, strict=True):
        work[0] += float(computed_here)
        work[1] += float(graded_here)
        work[2] += float(n_graders * arrays.rounds)  # every subnet has miners
    totals[:3] = work
    _queries_received_run(arrays, subnets, received)


def _queries_received_run(arrays: Arrays, subnets: list[Subnet], received: np.ndarray) -> None:
    """``queries_received`` of the run: where the subnets share a size, rows of
    one fresh array with ``received`` at the miners' columns (one assignment)."""
    n = arrays.sizes[0]
    if any([size != n for size in arrays.sizes]):
        queries_received(subnets, arrays.miner_cols, list(received))
        return
    block = np.zeros((len(subnets), n))
    block.reshape(-1)[arrays.miner_at] = received.reshape(-1)
    for s, row in zip(subnets, block, strict=True):
        s.queries_received = row


def _joined(arrays: Arrays, xs: list[Any]) -> np.ndarray | None:
    """One array per subnet of its ``Subnet.n`` values (permits, qualities, answers),
    end to end; None where one is not such an array."""
    try:
        if [len(x) for x in xs] != arrays.sizes:
            return None
        every = np.concatenate(xs)
    except (TypeError, ValueError):
        return None
    return every if every.ndim == 1 else None


def _miners(arrays: Arrays, xs: list[Any]) -> np.ndarray | None:
    """``_joined`` of ``xs`` at each subnet's miners' columns: subnets x miners (a view
    where the subnets share their size and miners' columns); or None."""
    every = _joined(arrays, xs)
    if every is None:
        return None
    if arrays.common is not None:
        return every.reshape(len(xs), -1)[:, arrays.common]
    return every[arrays.miner_at].reshape(arrays.cols.shape)


def _run(model: Network, turns: list[tuple[Subnet, Plan, Answers]], graders: Graders
         ) -> Run:
    """The ``Run`` of ``turns``: the one kept in the first plan's memo while its turns,
    members, hyperparameters, moving averages and graders' columns are the same, else
    a new one (kept)."""
    memo = turns[0][1].memo
    run = memo.get(grade_all)
    subnets = [t[0] for t in turns]
    if (run is not None and len(run.turns) == len(turns)
            and all([a is x and b is y and c is z
                     for (a, b, c), (x, y, z) in zip(turns, run.turns, strict=True)])
            and [s.version for s in subnets] == run.versions
            and all([s.params is p for s, p in zip(subnets, run.params, strict=True)])
            and all([s.score_ema is e for s, e in zip(subnets, run.emas, strict=True)])
            and model.columns.versions(run.read) == run.read_versions
            and (run.arrays is None or all([e.base is run.arrays.stack for e in run.emas]))):
        return run
    run = memo[grade_all] = _build(model, list(turns), graders)
    return run


def _build(model: Network, turns: list[tuple[Subnet, Plan, Answers]], graders: Graders
           ) -> Run:
    """A new ``Run`` of ``turns``, with ``Arrays`` where the job-by-job path would grade
    them in one call whatever the permits, qualities and answers' flags."""
    subnets = [t[0] for t in turns]
    specs = [graders(model, plan) for _, plan, _ in turns]
    read = tuple({n: None for _, plan, _ in turns for n in plan.memo[graders][0]})
    run = Run(turns, [s.version for s in subnets], [s.params for s in subnets],
              [s.score_ema for s in subnets], read, model.columns.versions(read))
    mems = [model.membership.members(s) for s in subnets]
    works = [s.params.work for s in subnets]
    first = works[0]
    n_min = len(mems[0].miners)
    if not (n_min and first.query_rounds and all(
            w.query_rounds == first.query_rounds and w.sample_size == first.sample_size
            and w.judge is None for w in works)
            and all(len(m.miners) == n_min for m in mems)
            and all(sp[-1] and len(sp[0]) and len({len(a) for a in sp[:7]}) == 1
                    and not (sp[4] > 0).any() for sp in specs)):
        return run  # rounds, sizes, judges, graders or copies that break the run
    place = _places(run.emas)
    if place is None:
        return run
    ns = [s.n for s in subnets]
    offsets = np.concatenate(([0], np.cumsum(ns)[:-1])).astype(np.int64)
    miner_cols = [m.miner_cols for m in mems]
    cols = np.stack([work_fast._index(c.start, c.stop) if isinstance(c, slice)
                     else np.asarray(c, dtype=np.int64) for c in miner_cols])
    uids = [np.asarray(sp[0], dtype=np.int64) for sp in specs]
    if not (all([((u >= 0) & (u < n)).all() for u, n in zip(uids, ns, strict=True)])
            and ((cols >= 0) & (cols < np.array(ns)[:, None])).all()):
        return run  # indices that wrap or fall outside: the job-by-job path
    counts = np.array([len(u) for u in uids], dtype=np.int64)
    owner = np.repeat(np.arange(len(turns)), counts)
    miner_accts = np.concatenate([m.miner_accts for m in mems])
    accts = np.concatenate([sp[1] for sp in specs])
    both = np.concatenate((miner_accts, accts))
    if (both < 0).any() or np.bincount(both).max() > 1:
        return run  # an account twice: ``_book`` subnet by subnet
    flat_uids = np.concatenate(uids)
    common = miner_cols[0] if (isinstance(miner_cols[0], slice) and len(set(ns)) == 1
                               and all([c == miner_cols[0] for c in miner_cols])) else None
    capability, noise, rate, cost = (np.concatenate([sp[f] for sp in specs])
                                     for f in (2, 3, 5, 6))
    run.arrays = Arrays(
        *place, ns, flat_uids, owner, offsets[owner] + flat_uids,
        capability, noise, rate, cost, accts, counts, miner_cols, cols,
        (offsets[:, None] + cols).reshape(-1), common, miner_accts, first.query_rounds,
        first.sample_size)
    return run


def _places(emas: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """The stacked array whose writable float64 views ``emas`` all are, and the place of
    each in it (``work_fast._together``'s test), or None."""
    base = emas[0].base
    if not (isinstance(base, np.ndarray) and base.ndim == 3 and base.dtype == np.float64
            and base.flags.c_contiguous and base.flags.writeable):
        return None
    places = []
    for ema in emas:
        if not (ema.base is base and ema.dtype == np.float64 and ema.flags.writeable
                and ema.shape == base.shape[1:] and ema.strides == base.strides[1:]):
            return None
        offset = ema.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        place, rest = divmod(offset, base.strides[0])
        if rest or not 0 <= place < base.shape[0]:
            return None
        places.append(place)
    return base, np.array(places, dtype=np.int64)


def segment_sums(values: np.ndarray, lengths: list[int]) -> list[int]:
    """The sums of consecutive segments of ``lengths`` of the integers ``values``."""
    ends = np.cumsum(lengths)
    total = np.concatenate(([0], np.cumsum(values)))[ends]
    total[1:] -= total[:-1].copy()
    return total.tolist()


def queries_received(subnets: list[Subnet], cols: list[Any],
                      received: list[np.ndarray]) -> None:
    """Each subnet's ``queries_received``: ``received`` at its miners' UIDs ``cols``,
    zeros elsewhere; rows of one fresh array where the subnets share a size."""
    n = subnets[0].n
    if any(s.n != n for s in subnets):
        block = [np.zeros(s.n) for s in subnets]
    else:
        block = list(np.zeros((len(subnets), n)))
    for s, row, c, got in zip(subnets, block, cols, received, strict=True):
        row[c] = got
        s.queries_received = row
