"""Speed only: ``grading.grade_all`` for an epoch whose subnets ``work_fast.grade_epochs``
would grade in one call of the compiled loops, without its Python per subnet.

``grade_all`` builds each subnet's job (``grading._grading_job``), ``work_fast``
checks each job (``_compiled``, ``_together``) and gathers the run's arrays from them
(``_grade_run``), and ``grading_books.book_all`` books the costs from them again. While
the turns (subnets, plans, answers), their members, hyperparameters, moving averages and
the columns their graders read stay the same, all of that but the permits, qualities,
costs and flags is the same epoch after epoch: ``Run`` keeps it (in ``Network.kept``,
one run at a time), checked each epoch by identity and versions, and each epoch reads
the rest with one gather per array. The same draws, the same numbers, in the same order;
any other epoch (subnets that check copies, other shapes, numpy's path, indices outside
the moving averages, an account twice among miners and graders, ...) returns False and
takes ``grade_all``'s own path. tests/test_fast_paths.py compares the two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from world import work_fast
from world.grading_books import segment_sums

if TYPE_CHECKING:
    from world.grading import Answers, Graders
    from world.membership import Plan
    from world.model import Network
    from world.subnet import Subnet

Turns = list[tuple["Subnet", "Plan", "Answers"]]
GradersOf = Callable[["Network", "Plan"], "Graders"]


@dataclass
class Arrays:
    """A run's arrays as ``work_fast._grade_run`` and ``grading_books.book_all`` gather
    them from the jobs, before the permits (every grader of each plan, in turn order)."""

    stack: np.ndarray  # the array whose views the moving averages are
    places: np.ndarray  # each subnet's place in it
    n: int  # UIDs per subnet (the stack's)
    uids: np.ndarray  # the graders' UIDs (``Graders.uids``)
    owner: np.ndarray  # the position of each grader's subnet in the turns
    at: np.ndarray  # each grader's place among the subnets' UIDs end to end
    capability: np.ndarray  # the graders' ``Graders`` arrays, end to end
    noise: np.ndarray
    rate: np.ndarray
    cost: np.ndarray
    accts: np.ndarray
    counts: np.ndarray  # graders per subnet
    cols: np.ndarray  # subnets x miners: the miners' UIDs
    miner_at: np.ndarray  # the miners' places among the subnets' UIDs end to end
    common: slice | None  # the miners' UIDs where they are one range on every subnet
    miner_accts: np.ndarray  # the miners' accounts, subnet after subnet
    rounds: int
    sample_size: int


@dataclass
class Run:
    """What ``grade_all``'s job-by-job path derives, for one list of turns, from state
    that changes only with membership, hyperparameters, the moving averages' stack or the
    columns the graders read: its ``Arrays``, or None where the epoch is not one call
    whatever the permits, qualities and answers' flags."""

    turns: Turns
    versions: list[int]  # each subnet's ``Subnet.version`` (its ``Members``)
    params: list[Any]  # each subnet's hyperparameters (frozen)
    emas: list[np.ndarray]  # each subnet's moving averages
    read: tuple[str, ...]  # the columns the plans' ``graders`` read
    read_versions: tuple[int, ...]
    arrays: Arrays | None = None


def grade_all(model: Network, turns: Turns, graders: GradersOf) -> bool:
    """``grading.grade_all(model, turns)`` where its jobs would all go in one call of the
    compiled loops (``work_fast.grade_epochs`` giving every job one key, its
    ``_grade_run`` drawing) and ``grading_books.book_all`` would book them: the same
    moving averages, draws, books and queries received. Returns False, having drawn and
    written nothing, for any other epoch. ``graders``: ``grading.graders`` (each plan's
    grading validators, kept in its memo under that function)."""
    qrng, grng = model.streams["queries"], model.streams["grading"]
    kernels = work_fast.one_call_kernels(qrng, grng) if len(turns) > 1 else None
    if kernels is None:
        return False
    run = _run(model, turns, graders)
    arrays = run.arrays
    if arrays is None:
        return False
    subnets = [t[0] for t in turns]
    permitted = _joined(arrays, [s.permits for s in subnets])
    if permitted is None or permitted.dtype != np.bool_:
        return False  # before the first epoch, or permits not one per UID
    if not (arrays.stack.flags.writeable and all([e.flags.writeable for e in run.emas])
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
    starts = np.zeros(len(turns) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    done = work_fast.grade_stacked(
        kernels, qrng, grng, arrays.rounds, arrays.sample_size, arrays.stack, arrays.places,
        rows, starts, noise, np.ascontiguousarray(quality), capability, rate, arrays.cols)
    if done is None:
        return False  # indices outside the moving averages: nothing drawn
    _book(model, turns, arrays, *done, cost, accts, counts.tolist(), starts)
    return True


def _book(model: Network, turns: Turns, arrays: Arrays, received: np.ndarray,
          graded: np.ndarray, cost: np.ndarray, accts: np.ndarray, counts: list[int],
          starts: np.ndarray) -> None:
    """``grading_books.book_all`` of the run's results (no account twice: ``_build``
    checked every grader's, before the permits): the same additions in the same order."""
    answers = [t[2] for t in turns]
    gathered = [_miners(arrays, [getattr(a, f) for a in answers])
                for f in ("fixed", "per_query", "computes")]
    if any(x is None for x in gathered):  # as ``book_all`` gathers them (and fails)
        gathered = [np.concatenate([getattr(a, f)[c] for a, c in zip(
            answers, arrays.cols, strict=True)]).reshape(received.shape)
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
    # ``grading_books.queries_received``: each subnet's row of one fresh array, the
    # queries its miners received at their columns (one assignment for the run)
    block = np.zeros((len(turns), arrays.n))
    block.reshape(-1)[arrays.miner_at] = received.reshape(-1)
    for (s, _, _), row in zip(turns, block, strict=True):
        s.queries_received = row


def _joined(arrays: Arrays, xs: list[Any]) -> np.ndarray | None:
    """One array per subnet of its ``n`` values (permits, qualities, answers), end to
    end; None where one is not such an array."""
    try:
        if any([len(x) != arrays.n for x in xs]):
            return None
        every = np.concatenate(xs)
    except (TypeError, ValueError):
        return None
    return every if every.ndim == 1 else None


def _miners(arrays: Arrays, xs: list[Any]) -> np.ndarray | None:
    """``_joined`` of ``xs`` at each subnet's miners' columns: subnets x miners (a view
    where the miners are one range on every subnet); or None."""
    every = _joined(arrays, xs)
    if every is None:
        return None
    if arrays.common is not None:
        return every.reshape(len(xs), -1)[:, arrays.common]
    return every[arrays.miner_at].reshape(arrays.cols.shape)


def _run(model: Network, turns: Turns, graders: GradersOf) -> Run:
    """The ``Run`` of ``turns``: the one kept while its turns, members, hyperparameters,
    moving averages and graders' columns are the same, else a new one (kept in its place:
    ``Network.kept`` holds one run)."""
    run = model.kept.get(_run)
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
    run = model.kept[_run] = _build(model, list(turns), graders)
    return run


def _build(model: Network, turns: Turns, graders: GradersOf) -> Run:
    """A new ``Run`` of ``turns``, with ``Arrays`` where the job-by-job path would grade
    them in one call whatever the permits, qualities and answers' flags. The subnets'
    shapes are checked before their graders are looked up, so that a refusal costs
    little."""
    subnets = [t[0] for t in turns]
    run = Run(turns, [s.version for s in subnets], [s.params for s in subnets],
              [s.score_ema for s in subnets], (), ())
    mems = [model.membership.members(s) for s in subnets]
    works = [s.params.work for s in subnets]
    first = works[0]
    n_min = len(mems[0].miners)
    if not (n_min and first.query_rounds and all(
            w.query_rounds == first.query_rounds and w.sample_size == first.sample_size
            and w.judge is None for w in works)
            and all(len(m.miners) == n_min for m in mems)):
        return run  # rounds, judges or numbers of miners that break the run
    place = _places(run.emas)
    if place is None:
        return run  # moving averages not views of one stack (kept while they are these)
    specs = [graders(model, plan) for _, plan, _ in turns]
    run.read = tuple({n: None for _, plan, _ in turns for n in plan.memo[graders][0]})
    run.read_versions = model.columns.versions(run.read)
    if not all(sp.plain and len(sp.uids) and not (sp.dedup > 0).any()
               and len({len(a) for a in sp[:-1]}) == 1  # its arrays, one value per grader
               for sp in specs):
        return run  # graders that check copies, or none, or not plain
    n = place[0].shape[1]
    cols = np.stack([np.arange(c.start, c.stop, dtype=np.int64) if isinstance(c, slice)
                     else np.asarray(c, dtype=np.int64) for c in (m.miner_cols for m in mems)])
    if not (all([((sp.uids >= 0) & (sp.uids < n)).all() for sp in specs])
            and ((cols >= 0) & (cols < n)).all()):
        return run  # indices that wrap or fall outside: the job-by-job path
    counts = np.array([len(sp.uids) for sp in specs], dtype=np.int64)
    owner = np.repeat(np.arange(len(turns)), counts)
    miner_accts = np.concatenate([m.miner_accts for m in mems])
    accts = np.concatenate([sp.accts for sp in specs])
    both = np.concatenate((miner_accts, accts))
    if (both < 0).any() or np.bincount(both).max() > 1:
        return run  # an account twice: ``book`` subnet by subnet
    uids = np.concatenate([sp.uids for sp in specs]).astype(np.int64)
    miner_cols = [m.miner_cols for m in mems]
    common = miner_cols[0] if all(
        [isinstance(c, slice) and c == miner_cols[0] for c in miner_cols]) else None
    offsets = np.arange(len(turns), dtype=np.int64) * n
    run.arrays = Arrays(
        place[0], place[1], n, uids, owner, offsets[owner] + uids,
        *(np.concatenate([getattr(sp, f) for sp in specs])
          for f in ("capability", "noise", "rate", "cost")),
        accts, counts, cols, (offsets[:, None] + cols).reshape(-1), common, miner_accts,
        first.query_rounds, first.sample_size)
    return run


def _places(emas: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """The stacked array whose views ``emas`` all are (``work_fast.stack_place``) and the
    place of each in it, or None."""
    at = [work_fast.stack_place(e) for e in emas]
    first = at[0]
    if first is None or any([a is None or a[0] is not first[0] for a in at]):
        return None
    return first[0], np.array([a[1] for a in at if a is not None], dtype=np.int64)
