"""Delegator (nominator) policies (MODEL.md section 6, "Delegators")."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from agents.base import Delegator, Param, register
from world.interfaces import Group, NetworkContext


@register
class YieldChaser(Delegator):
    """Yield chaser: stakes with the validator of best trailing yield net of take.

    MODEL.md section 6: chase the best trailing yield net of take, with inertia (a new
    choice must beat the current one by ``hurdle`` and persist ``switch_delay`` epochs
    before the stake moves). The counterpoint to claim 9 (delegation follows popularity):
    if delegators chased yield, stake would flow to validators that earn, not to the big.
    """

    name = "yield_chaser"
    classifier: ClassVar[dict] = {
        "role": "delegator",
        "cost_model": "none",
        "colludes": False,
        "stochastic": False,
        "needs_gpu": False,
        "grades": False,
    }
    params: ClassVar[dict[str, Param]] = {
        "hurdle": Param(0.05, 0, 10, "relative yield gain needed to want a move"),
    }

    @classmethod
    def choose(cls, group: Group, ctx: NetworkContext) -> np.ndarray:
        current = group.model.ledger.staked_to[group.accts]
        if len(ctx.validators) == 0:
            return current
        best = int(np.argmax(ctx.net_yield))
        yield_of = dict(zip(ctx.validators.tolist(), ctx.net_yield.tolist(), strict=True))
        now = np.array([yield_of.get(int(a), 0.0) for a in current])
        better = ctx.net_yield[best] > now * (1.0 + group.param("hurdle")) + 1e-15
        return np.where(better, ctx.validators[best], current)
