"""The one cache strategies may lean on: a value derived from a group, kept with it.

The world builds a new ``Group`` whenever membership changes, so a value computed from a
group's members can be kept in the group until something else it read changes: the
columns it names (their ``Columns.version``) and, for a helper of a context, its
subnets' occupants (``Subnet.version``). ``kept`` wraps such a helper; the strategy
calling it sees a plain function. Kept arrays are read-only (callers must copy before
writing). Used where a benchmark showed it pays (bench/bench_world.py: a cabal's rows
over all UIDs and a copy cabal's sources, which change only with the cabals).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from world.interfaces import Group, SubnetContext

T = TypeVar("T")


def kept(*columns: str, subnet: bool = False) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator: keep ``helper(group[, ctx])``'s result in ``group`` until one of
    ``columns`` is written or (``subnet=True``) the occupants of the context's subnets
    change."""

    def wrap(helper: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(helper)
        def call(group: Group, ctx: SubnetContext | None = None) -> T:
            versions = tuple(group.model.columns.version(c) for c in columns)
            key = (versions, ctx.versions if subnet and ctx is not None else None)
            hit = group.memo.get(call)  # keyed by what the module names (pickles by name)
            if hit is not None and hit[0] == key:
                return hit[1]
            out = helper(group) if ctx is None else helper(group, ctx)
            for a in out if isinstance(out, tuple) else (out,):
                if isinstance(a, np.ndarray):
                    a.flags.writeable = False
            group.memo[call] = (key, out)
            return out

        return call

    return wrap

