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
    parts = [made[cls][a:b] for layout in span.layout for cls, a, b in layout]
    # every subnet's setters' rows, in their plans' order
    rows = np.concatenate(parts) if parts else np.zeros((0, ctx.n))
    ends = np.cumsum([len(p.setter_uids) for p in span.plans]).tolist()
    clean(model, span.subnets, span.plans, ends, rows)
    start = 0
    for s, plan, end in zip(span.subnets, span.plans, ends, strict=True):
        if plan.setters:
            commit(model, s, plan.setter_uids, rows[start:end])
        start = end
        s.reveal_due(model.epoch, model.block)
        yield s


def commit(model: Network, s: Subnet, uids: np.ndarray, rows: np.ndarray) -> None:
    """Subnet ``s``'s validators at ``uids`` set their cleaned ``rows`` (a fresh array no
    one touches again) where the rate limit allows."""
    can = s.can_set_weights(uids, model.block)
    if can.all():
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
