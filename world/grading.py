"""A subnet's work in one epoch: miners' answers, validators' grading, and their costs.

MODEL.md section 5. Miner strategies ``produce()`` this epoch's answers (true quality,
answer key, fixed cost, cost per query); grading validators (those whose strategy
returns a ``Grading``) query samples of miners and grade what they get
(``world.work``: the rules, vectorised over graders x miners, run by
``world.work_fast.grade_epoch``); GPU rent,
API calls per query received, grading per response and each validator's node accrue
to the epoch's costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from world import grading_books, grading_fast, work_fast
from world.interfaces import Group, Production, SubnetContext
from world.membership import Plan, Span
from world.subnet import Subnet, stack_views

if TYPE_CHECKING:
    from world.model import Network


@dataclass
class Answers:
    """One subnet's miners' answers per UID (``Production`` fields; each a row of its
    span's ``SpanAnswers``) and whether they suit the compiled grading
    (``work_fast.plain_inputs``)."""

    quality: np.ndarray
    key: np.ndarray
    fixed: np.ndarray
    per_query: np.ndarray
    computes: np.ndarray
    plain: bool = False


# the other ``Answers`` arrays and the ``Production`` fields they hold
_FIELDS = (("key", "answer_key"), ("fixed", "fixed_cost_usd"),
           ("per_query", "query_cost_usd"), ("computes", "computes"))


@dataclass
class SpanAnswers:
    """The answers of a span's subnets, subnets x UIDs per ``Production`` field, kept with
    the span (``Span.memo``: a new plan makes a new span) so that each strategy's answers
    are written for the whole span at once, and only when they are not the ones it gave
    last epoch (``last``). ``each``: every subnet's ``Answers``, whose arrays are rows of
    these."""

    quality: np.ndarray
    key: np.ndarray
    fixed: np.ndarray
    per_query: np.ndarray
    computes: np.ndarray
    each: list[Answers]
    last: dict[type, Production] = field(default_factory=dict)  # each group's last answers
    # per group, per subnet whether its qualities there suit the compiled grading (True
    # where it has no member: the UIDs outside the groups hold 0.0, which is plain)
    plain_of: dict[type, np.ndarray] = field(default_factory=dict)

    @classmethod
    def empty(cls, span: Span) -> SpanAnswers:
        b, n = len(span.subnets), span.subnets[0].n if span.subnets else 0
        arrays = (np.zeros((b, n)), np.full((b, n), -1, dtype=np.int64), np.zeros((b, n)),
                  np.zeros((b, n)), np.zeros((b, n), dtype=bool))
        each = [Answers(*(a[i] for a in arrays)) for i in range(b)]
        return cls(*arrays, each=each)


def answers(model: Network, span: Span, ctx: SubnetContext) -> list[Answers]:
    """Every miner strategy's ``produce()`` on the subnets of ``span`` (one call per
    strategy, ``ctx`` over the span's subnets), gathered per UID of each subnet; the true
    qualities (clipped to [0, 1]) go to ``Subnet.quality``. Returns each subnet's.

    A strategy's answers are written for the whole span in one assignment per field
    (``SpanAnswers``), unless they are the ones it gave last epoch (``produce``: kept)."""
    made = {}
    for cls, g in span.groups:
        prod, kept = produce(cls, g, ctx)
        _per_member(cls, "quality", prod.quality, len(g))
        made[cls] = (prod, kept)
    held = span.memo.get(answers)
    if held is None:
        held = span.memo[answers] = SpanAnswers.empty(span)
    changed = False
    for cls, g in span.groups:
        prod, kept = made[cls]
        if kept and held.last.get(cls) is prod:
            continue  # the same answers as last epoch, already in place
        every = np.clip(prod.quality, 0.0, 1.0)
        at = (g.rows, g.uids)
        held.quality[at] = every
        for name, field_ in _FIELDS:
            getattr(held, name)[at] = _per_member(cls, field_, getattr(prod, field_), len(g))
        held.last[cls] = prod
        held.plain_of[cls] = _plain_by_subnet(span, cls, every)
        changed = True
    if changed:  # plain where each of its groups' qualities are (none: not plain)
        plain = [bool(layout) for layout in span.layout]
        for per_subnet in held.plain_of.values():
            plain = np.logical_and(plain, per_subnet)
        for ans, ok in zip(held.each, np.asarray(plain).tolist(), strict=True):
            ans.plain = ok
    if span.subnets:
        stack_views(model.stacks, span.subnets, "quality")[:] = held.quality
    return held.each


def _per_member(cls: type, name: str, values: np.ndarray, k: int) -> np.ndarray:
    """A ``Production`` field of ``k`` members, or a clear error."""
    values = np.asarray(values)
    if values.shape != (k,):
        raise ValueError(f"{cls.__name__}.produce returned {name} of shape {values.shape} "
                         f"for {k} members")
    return values


def _plain_by_subnet(span: Span, cls: type, every: np.ndarray) -> np.ndarray:
    """Per subnet of ``span``, whether strategy ``cls``'s qualities ``every`` there are
    plain (``work_fast.plain_values``; True where it has no member)."""
    out = np.ones(len(span.subnets), dtype=bool)
    if work_fast.plain_values(every):
        return out
    for i, layout in enumerate(span.layout):
        for c, a, b in layout:
            if c is cls:
                out[i] = work_fast.plain_values(every[a:b])
    return out


def produce(cls: type, g: Group, ctx: SubnetContext) -> tuple[Production, bool]:
    """``cls.produce(g, ctx)``, kept for a strategy that declares itself neither
    stochastic nor adaptive (``classifier``): its answers are a function of its
    parameters (and, if it colludes, of the cabals and the subnet's occupants;
    ``world.interfaces.MinerStrategy``), so the world reuses them until a parameter the
    group read (``Group.param``, recorded in ``Group.memo``) or those change.
    The decision method itself carries no cache (bench/bench_world.py: this saves a
    tenth of an epoch). Returns the answers and whether they are the kept ones."""
    c = cls.classifier
    if c.get("stochastic") or c.get("adapts"):
        return cls.produce(g, ctx), False
    columns = g.model.columns
    # a colluding strategy's answers depend on the cabals and the subnet's occupants too
    context = ((ctx.epoch_hours, columns.version("cabal"), ctx.versions)
               if c.get("colludes") else (ctx.epoch_hours,))
    hit = g.memo.get(produce)
    if hit is not None and hit[1] == context and columns.versions(hit[0]) == hit[3]:
        return hit[2], True
    prod = cls.produce(g, ctx)
    read = tuple(n for n in g.memo if isinstance(n, str))  # the parameters it read
    g.memo[produce] = (read, context, prod, columns.versions(read))
    return prod, False


def charge_servers(model: Network, span: Span) -> None:
    """Each validator's node for the epoch (``server_usd_per_hour``), on the subnets of
    ``span`` (one call per strategy)."""
    for cls, g in span.groups:
        model.books.cost[g.accts] += cls.server_usd_per_hour(g) * model.params.epoch_hours


class Graders(NamedTuple):
    """A plan's grading validators (``graders``; read-only arrays)."""

    uids: np.ndarray
    accts: np.ndarray
    capability: np.ndarray  # the arrays of their ``grading()`` (``interfaces.Grading``)
    noise: np.ndarray
    dedup: np.ndarray
    rate: np.ndarray  # ``score_ema_rate``
    cost: np.ndarray  # ``cost_usd`` per response graded
    plain: bool  # the arrays suit the compiled grading (``work_fast.plain_inputs``)


def graders(model: Network, plan: Plan) -> Graders:
    """The grading validators of a subnet's plan: their UIDs, accounts, the five arrays of
    their ``grading()`` (``interfaces.Grading``) and whether those suit the compiled
    grading (``work_fast.plain_inputs``). A strategy's ``grading`` is a function of its
    parameters (read through ``Group.param``, ``interfaces.ValidatorStrategy``), so the
    result is kept with the plan until a parameter a group read is written (as
    :func:`produce` keeps answers). Read-only arrays."""
    columns = model.columns
    hit = plan.memo.get(graders)
    if hit is not None and columns.versions(hit[0]) == hit[2]:
        return hit[1]
    uid_parts, acct_parts, specs = [], [], []
    for cls, g in plan.setters:
        spec = cls.grading(g)
        if spec is not None:
            uid_parts.append(g.uids)
            acct_parts.append(g.accts)
            specs.append(spec)
    arrays = [np.concatenate(uid_parts) if uid_parts else np.zeros(0, np.int64),
              np.concatenate(acct_parts) if acct_parts else np.zeros(0, np.int64)]
    arrays += [np.concatenate([getattr(sp, f) for sp in specs]) if specs else np.zeros(0)
               for f in ("capability", "noise", "dedup", "score_ema_rate", "cost_usd")]
    for a in arrays:
        a.flags.writeable = False
    plain = work_fast.plain_inputs(np.zeros(0), arrays[2], arrays[3], arrays[5])
    read = tuple({n: None for _, g in plan.setters for n in g.memo if isinstance(n, str)})
    out = Graders(*arrays, plain)
    plan.memo[graders] = (read, out, columns.versions(read))
    return out


def grade_all(model: Network, turns: list[tuple[Subnet, Plan, Answers]]) -> None:
    """Queries and grading on each subnet of ``turns``, in order, vectorised over graders
    x miners (MODEL.md section 5; ``work.grade_epoch``, run by ``work_fast.grade_epochs``
    in one call for all subnets: the same draws and numbers as subnet after subnet), and
    what they cost (``grading_books.book_all``, else ``book`` subnet by subnet). An
    epoch graded in one call of the compiled loops takes ``grading_fast.grade_all``: the
    same, without building each subnet's job."""
    if grading_fast.grade_all(model, turns, graders):
        return
    jobs, rest = [], []
    for s, plan, ans in turns:
        job, after = _grading_job(model, s, plan, ans)
        jobs.append(job)
        rest.append(after)
    results = work_fast.grade_epochs(model.streams["queries"], model.streams["grading"], jobs)
    if not grading_books.book_all(model, results, rest):
        for (received, graded), after in zip(results, rest, strict=True):
            grading_books.book(model, received, graded, *after)


def _grading_job(model: Network, s: Subnet, plan: Plan, ans: Answers) -> tuple[tuple, tuple]:
    """``work_fast.grade_epoch``'s arguments for subnet ``s`` (but the streams), and what
    ``grading_books.book`` needs after it: the permitted grading validators query the
    miners."""
    mem = model.membership.members(s)
    if s.permits is not None:
        permitted = s.permits
    else:  # before the first epoch every UID with stake holds a permit (MODEL.md 3)
        permitted = model.ledger.hotkey_stake()[np.maximum(s.occupant, 0)] > 0
    if not model.membership.is_current(s.netuid, plan):
        plan = model.membership.plan(s.netuid)  # a strategy changed membership in its turn
    uids, accts, capability, noise, dedup, rate, cost, plain_graders = graders(model, plan)
    keep = permitted[uids]
    if not keep.all():
        uids, accts = uids[keep], accts[keep]
        capability, noise, dedup, rate, cost = (
            a[keep] for a in (capability, noise, dedup, rate, cost))
    wp = s.params.work
    cols = mem.miner_cols  # the miners' UIDs: a slice when they are a range (views)
    job = (s.score_ema, uids, cols, s.quality[cols], capability, noise, rate, ans.key[cols],
           dedup > 0, wp.query_rounds, wp.sample_size, ans.plain and plain_graders, wp.judge)
    return job, (s, ans, mem, accts, cost, len(uids))
