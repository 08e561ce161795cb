"""What an epoch's grading cost and did: the books of ``grading.grade_all`` (and of its
one-call form, ``world.grading_fast``).

MODEL.md section 5: miners pay GPU rent and API calls per query received, graders pay
per response graded (USD, the epoch's ``EpochBooks.cost``); the work totals (answers
computed, responses graded, query rounds) feed the efficiency metric; each subnet keeps
the queries each UID received at its latest grading (``Subnet.queries_received``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from world.grading import Answers
    from world.model import Network
    from world.subnet import Subnet


def book(model: Network, received: np.ndarray, graded: np.ndarray, s: Subnet, ans: Answers,
         mem: Any, accts: np.ndarray, cost: np.ndarray, n_graders: int) -> None:
    """What one subnet's grading cost its miners (GPU rent, API calls per query received)
    and graders (per response graded), the work it did, and the queries each UID got."""
    cols = mem.miner_cols
    books = model.books
    books.cost[mem.miner_accts] += ans.fixed[cols] + ans.per_query[cols] * received
    books.cost[accts] += cost * graded
    totals = books.work  # summed in float64, subnet after subnet
    totals[0] += float((received * ans.computes[cols]).sum())
    totals[1] += float(graded.sum())
    totals[2] += float(n_graders * s.params.work.query_rounds if len(mem.miners) else 0)
    s.queries_received = np.zeros(s.n)
    s.queries_received[cols] = received


def book_all(model: Network, results: list[tuple[np.ndarray, np.ndarray]],
             rest: list[tuple]) -> bool:
    """``book`` for every subnet at once, where no account appears twice among their
    miners and graders: each account's cost then takes one addition, the same as subnet
    after subnet (the work totals are still added subnet after subnet). Returns False
    (nothing booked) where an account appears twice: then ``book`` subnet by subnet."""
    if not rest:
        return True
    miner_accts = np.concatenate([after[2].miner_accts for after in rest])
    grader_accts = np.concatenate([after[3] for after in rest])
    accts = np.concatenate((miner_accts, grader_accts))
    books = model.books
    if len(accts) and np.bincount(accts, minlength=len(books.cost)).max() > 1:
        return False
    received = np.concatenate([r for r, _ in results])
    graded = np.concatenate([g for _, g in results])
    cols = [after[2].miner_cols for after in rest]
    answers = [after[1] for after in rest]
    fixed = np.concatenate([a.fixed[c] for a, c in zip(answers, cols, strict=True)])
    per_query = np.concatenate([a.per_query[c] for a, c in zip(answers, cols, strict=True)])
    computes = np.concatenate([a.computes[c] for a, c in zip(answers, cols, strict=True)])
    books.cost[miner_accts] += fixed + per_query * received
    books.cost[grader_accts] += np.concatenate([after[4] for after in rest]) * graded
    # the work totals, subnet after subnet as ``book`` adds them (sums of integers, in
    # float64 as the books hold them)
    done = segment_sums(received * computes, [len(r) for r, _ in results])
    sent = segment_sums(graded, [len(g) for _, g in results])
    totals = books.work
    work = [float(t) for t in totals[:3]]
    for (s, _, mem, _, _, n_graders), computed, graded_here in zip(rest, done, sent,
                                                                   strict=True):
        work[0] += float(computed)
        work[1] += float(graded_here)
        work[2] += float(n_graders * s.params.work.query_rounds if len(mem.miners) else 0)
    totals[:3] = work
    queries_received([after[0] for after in rest], cols, [r for r, _ in results])
    return True


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
