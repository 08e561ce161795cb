"""Setting weights: validators' rows made valid, rate-limited, committed and revealed.

MODEL.md section 3. Every validator strategy's ``set_weights()`` returns one row per
member over the subnet's UIDs; the chain normalises set weights (subtensor
``set_weights``), drops weights on empty UIDs, lets a validator set them at most once
per ``weights_rate_limit`` blocks, and with commit-reveal puts them on chain
``reveal_period`` epochs later (``Subnet.commit``, ``Subnet.reveal_due``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from world import kernels
from world.interfaces import Group, SubnetContext
from world.membership import Plan, Span
from world.subnet import Subnet

if TYPE_CHECKING:
    from world.model import Network


def set_weights(model: Network, span: Span, ctx: SubnetContext) -> Iterator[Subnet]:
    """Every validator strategy's rows on the subnets of ``span`` (one ``set_weights``
    call per strategy, ``ctx`` over the span's subnets), cleaned together, then subnet
    after subnet its validators' rows committed where the rate limit allows and the
    commits due this epoch revealed; yields each subnet once its weights are set."""
    made = {cls: rows_of(cls, g, ctx) for cls, g in span.groups}
    ends = np.cumsum([len(p.setter_uids) for p in span.plans]).tolist()
    rows = cleaned(model, span, made, ends, ctx.n)
    start = 0
    for s, plan, end in zip(span.subnets, span.plans, ends, strict=True):
        if plan.setters:
            commit(model, s, plan.setter_uids, rows[start:end])
        start = end
        s.reveal_due(model.epoch, model.block)
        yield s


def cleaned(model: Network, span: Span, made: dict[type, np.ndarray], ends: list[int],
            n: int) -> np.ndarray:
    """Every subnet's setters' rows (strategy ``cls``'s are ``made[cls]``), in their
    plans' order, made valid (``clean``): by ``world.weights_jit.clean_into``, one pass
    per strategy with each row cleaned while in cache, where numba is there and no row
    needs numpy's hand (an infinite weight, a negative zero); else by ``clean``."""
    jit = kernels.compiled("weights_jit")
    if jit is not None and ends and ends[-1]:
        rows = np.empty((ends[-1], n))
        masks, mask_of = _masks(model, span.subnets)
        targets = _targets(span)
        sources = {cls: np.ascontiguousarray(made[cls]) for cls, _ in span.groups}
        if all(jit.clean_into(sources[cls], sources[cls].view(np.int64), rows, targets[cls], g.rows,
                      mask_of, masks) < 0 for cls, g in span.groups):
            return rows
    parts = [made[cls][a:b] for layout in span.layout for cls, a, b in layout]
    rows = np.concatenate(parts) if parts else np.zeros((0, n))
    clean(model, span.subnets, span.plans, ends, rows)
    return rows


def _targets(span: Span) -> dict[type, np.ndarray]:
    """Where each strategy's rows go among the span's setters' rows (subnet after subnet,
    each in its plan's order), kept with the span."""
    hit = span.memo.get(_targets)
    if hit is None:
        at = {cls: np.empty(len(g.rows), dtype=np.int64) for cls, g in span.groups}
        start = 0
        for layout in span.layout:
            for cls, a, b in layout:
                at[cls][a:b] = np.arange(start, start + b - a)
                start += b - a
        hit = span.memo[_targets] = at
    return hit


def _masks(model: Network, subnets: list[Subnet]) -> tuple[np.ndarray, np.ndarray]:
    """The occupied UIDs (1.0) of the subnets with empty UIDs, one row each, and for each
    subnet its row there (-1: every UID occupied)."""
    members = [model.membership.members(s) for s in subnets]
    partial = [m.occupied for m in members if not m.full]
    mask_of = np.full(len(subnets), -1, dtype=np.int64)
    mask_of[[i for i, m in enumerate(members) if not m.full]] = np.arange(len(partial))
    n = subnets[0].n
    masks = np.array(partial, dtype=np.float64) if partial else np.zeros((0, n))
    return masks, mask_of


def commit(model: Network, s: Subnet, uids: np.ndarray, rows: np.ndarray) -> None:
    """Subnet ``s``'s validators at ``uids`` set their cleaned ``rows`` (a fresh array no
    one touches again) where the rate limit allows."""
    if (s.all_can_set_weights(model.block)
            or (can := s.can_set_weights(uids, model.block)).all()):
        s.commit(model.epoch, model.block, uids, rows, copy=False)
    else:
        s.commit(model.epoch, model.block, uids[can], rows[can], copy=False)


def rows_of(cls: type, g: Group, ctx: SubnetContext) -> np.ndarray:
    """A validator strategy's weight rows, checked for shape."""
    rows = np.asarray(cls.set_weights(g, ctx), dtype=np.float64)
    if rows.shape != (len(g), ctx.n):
        raise ValueError(
            f"{cls.__name__}.set_weights returned shape {rows.shape}, expected "
            f"{(len(g), ctx.n)}"
        )
    return rows


def clean(model: Network, subnets: list[Subnet], plans: list[Plan], ends: list[int],
          rows: np.ndarray) -> None:
    """Strategies' weight rows made valid in place: non-negative, on occupied UIDs,
    row-normalised (the chain normalises set weights, subtensor ``set_weights``). The
    rows of subnet ``subnets[i]`` (its plan's setters') end at ``ends[i]``. NaN counts
    as no weight; an infinite weight is a strategy's bug and an error."""
    np.fmax(rows, 0.0, out=rows)  # NaN and negatives to 0, in one pass
    total = np.add.reduce(rows, axis=1, keepdims=True)  # finite unless a weight is infinite
    if (np.count_nonzero(np.isfinite(total)) < total.size
            and not np.isfinite(rows).all()):
        first = int(np.flatnonzero(~np.isfinite(rows).all(axis=1))[0])
        i = int(np.searchsorted(ends, first, side="right"))
        s, start = subnets[i], ends[i - 1] if i else 0
        bad = ~np.isfinite(rows[start : ends[i]]).all(axis=1)
        raise ValueError(
            f"subnet {s.netuid}: infinite weights set by "
            + ", ".join(model.agent_of[int(a)].name
                        for a in s.occupant[plans[i].setter_uids[bad]][:5])
        )
    start = 0
    for s, end in zip(subnets, ends, strict=True):
        mem = model.membership.members(s)
        if not mem.full and end > start:
            rows[start:end] *= mem.occupied
            total[start:end] = np.add.reduce(rows[start:end], axis=1, keepdims=True)
        start = end
    # an all-zero row (total 0) stays zero: dividing its zeros by 1 leaves them as they are
    np.copyto(total, 1.0, where=total <= 0)
    rows /= total
