"""Miner strategies (MODEL.md section 6, "Miners")."""

from __future__ import annotations

from typing import ClassVar

from agents.base import Miner, Param, register
from world.interfaces import Group, Production, SubnetContext


@register
class HonestMiner(Miner):
    """Honest GPU miner: rents a GPU for the whole epoch and runs an open model.

    Its cost does not depend on traffic (MODEL.md section 6). It is the behaviour the
    network is meant to reward, and the reference every other miner strategy is compared
    with (claims 2, 4 and 5 of MODEL.md section 7). Defaults: Llama-2-70B quality (MT-bench
    6.9/10) on an A100 at $1.6 an hour (MODEL.md section 8).
    """

    name = "honest_miner"
    classifier: ClassVar[dict] = {
        "role": "miner",
        "cost_model": "fixed (GPU rent per hour)",
        "colludes": False,
        "stochastic": False,
        "needs_gpu": True,
        "grades": False,
    }
    params: ClassVar[dict[str, Param]] = {
        "quality": Param(0.69, 0, 1, "true answer quality (MT-bench / 10)"),
        "gpu_usd_per_hour": Param(1.6, 0, None, "GPU rent in USD per hour"),
    }

    @classmethod
    def produce(cls, group: Group, ctx: SubnetContext) -> Production:
        return Production.own_answers(
            quality=group.param("quality"),
            fixed_cost_usd=group.param("gpu_usd_per_hour") * ctx.epoch_hours,
        )
