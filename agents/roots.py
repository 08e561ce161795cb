"""Root validators' weighting policies (MODEL.md section 9, ``dec2023``).

Each ``root_weights`` returns, for every member of a group at once, one row of weights
over the subnets; the world seats the root validators with the most stake and turns
their weights into each subnet's share of emission (``world.rootnet``, subtensor@2023-12-20
root.rs ``root_epoch``). Short rules in the manner of Axelrod's strategies, one each.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from agents.base import Param, RootValidator, register
from world.interfaces import Group, RootContext

ROOT_CLASSIFIER = {
    "role": "root",
    "cost_model": "none",
    "colludes": False,
    "stochastic": False,
    "needs_gpu": False,
    "grades": False,
    "copies": False,
    "adapts": True,
}


def _rows(group: Group, row: np.ndarray) -> np.ndarray:
    return np.broadcast_to(np.asarray(row, dtype=np.float64), (len(group), len(row))).copy()


@register
class RootUniform(RootValidator):
    """Uniform: the same weight on every subnet.

    The neutral root validator: it leaves the split to the others; with every seat
    uniform all subnets get equal shares (trust 1 everywhere). The baseline of claim 7,
    where "any new subnetwork that is started is going to be less capitalized with
    staking than any existing network": its emission does not depend on that."""

    name = "root_uniform"
    classifier: ClassVar[dict] = {**ROOT_CLASSIFIER, "adapts": False}

    @classmethod
    def root_weights(cls, group: Group, ctx: RootContext) -> np.ndarray:
        return np.ones((len(group), ctx.n_subnets))


@register
class RootByStake(RootValidator):
    """By stake: weights each subnet by the stake behind its UIDs.

    Follows where TAO is staked (a proxy for where holders see value); emission then
    flows towards the subnets large validators already sit on. Claim 9's mechanism at the
    level of subnets: "Popularity and belief will drive inflows into subnetworks"."""

    name = "root_by_stake"
    classifier: ClassVar[dict] = dict(ROOT_CLASSIFIER)

    @classmethod
    def root_weights(cls, group: Group, ctx: RootContext) -> np.ndarray:
        return _rows(group, ctx.stake_tao)


@register
class RootByEmission(RootValidator):
    """By emission: weights each subnet by what it was paid last epoch.

    Momentum: it reinforces the current split (uniform before the first payment), the
    root-level form of claim 9's "The only important factor for subnetwork success is
    staking": what is paid now is paid again."""

    name = "root_by_emission"
    classifier: ClassVar[dict] = dict(ROOT_CLASSIFIER)

    @classmethod
    def root_weights(cls, group: Group, ctx: RootContext) -> np.ndarray:
        paid = ctx.emission_tao
        return _rows(group, paid if paid.sum() > 0 else np.ones(ctx.n_subnets))


@register
class RootFavourite(RootValidator):
    """Favourite: all of its weight on one subnet (``subnet``).

    The root validator that steers emission to a subnet it owns or mines on; alone below
    half the root stake it barely moves the split (its subnet's trust stays under kappa),
    above it, it takes most of it. Claim 7 on the root network: a subnet "can then be
    overpowered by literally any actor who holds more stake in the network"."""

    name = "root_favourite"
    classifier: ClassVar[dict] = {**ROOT_CLASSIFIER, "adapts": False}
    params: ClassVar[dict[str, Param]] = {
        "subnet": Param(0, 0, 4_095, "index of the subnet it weights", integer=True),
    }

    @classmethod
    def root_weights(cls, group: Group, ctx: RootContext) -> np.ndarray:
        target = np.asarray(group.param("subnet"), dtype=np.int64)
        rows = np.zeros((len(group), ctx.n_subnets))
        ok = target < ctx.n_subnets
        rows[np.flatnonzero(ok), target[ok]] = 1.0
        return rows
