"""Subnet owners (MODEL.md section 9, "Today").

A subnet's owner gets the owner's cut of its emission (18%). Today its own UID is
exempt: it always holds a validator permit, no stake threshold applies, it may weight
itself, it is never pruned, and the incentive paid to it is burned, not paid, with the
burned share of the subnet's miner emission lowering the subnet's next share of the TAO
emission (subtensor@2026-06-30 epoch/run_epoch.rs ``epoch_mechanism``,
coinbase/run_coinbase.rs ``distribute_dividends_and_incentives``; ``subnet.owner_exempt``).
An owner strategy is seated on its subnet at genesis and becomes its owner
(``owns_subnet``), or a founder registers a new subnet and becomes its owner; a subnet
has one owner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from agents.base import REGISTRY, Delegator, GradingValidator, Param, register
from agents.delegators import DELEGATOR_CLASSIFIER
from agents.population import buy_stake, schedule
from agents.validators import VALIDATOR_CLASSIFIER, honest_weights, tilt
from world.interfaces import Group, NetworkContext, SubnetContext
from world.params import RAO_PER_TAO
from world.subnet import EMPTY

if TYPE_CHECKING:
    from world.model import Network

OWNER_CLASSIFIER = {
    **VALIDATOR_CLASSIFIER,
    "cost_model": "grading cost per response + GPU server",
}


class SubnetOwner(GradingValidator):
    """Base of subnet owners: a grading validator that owns the subnet it sits on."""

    @classmethod
    def owns_subnet(cls) -> bool:
        return True


@register
class OwnerBurner(SubnetOwner):
    """Owner burner: the subnet's owner puts a share ``burn`` of its weight on its own UID.

    Where the owner holds enough of the subnet's stake for consensus to follow it (Yuma
    clips every weight to what at least ``kappa`` of the stake supports, MODEL.md section
    3), that share of the miners' incentive goes to the owner's UID and is burned; the
    rest of its weight follows its own grading, as an honest validator's. On the chain
    owners burn miner emission this way when they have no use for miners' work (or do
    not trust it): the burned alpha never reaches the pool's sellers, and since 2026 the
    subnet's share of the TAO emission is cut by the burned share
    (``rules_dtao.emission_shares_price``). Whether burning pays its owner (the owner's
    cut and its dividends against a smaller subnet) is the question it asks of today's
    chain. Without the era's exemption (``owner_exempt`` off, 2023) its self-weight is
    masked like anyone's and only the rest of its row counts, ``1 - burn`` of an honest
    validator's weights renormalised: at ``burn`` 1 its row is empty, and an owner with a
    majority of the stake then leaves consensus, and its miners, with nothing. Claim 1 of
    MODEL.md section 7 (validators and owners, not miners, take the emission) in the hands
    of the one who writes the subnet's rules; the report: "Validation techniques might be
    changed arbitrarily at the subnet level without notice."
    """

    name = "owner_burner"
    classifier: ClassVar[dict] = dict(OWNER_CLASSIFIER)
    params: ClassVar[dict[str, Param]] = {
        "burn": Param(1.0, 0, 1, "share of its weight on its own UID (burned incentive)",
                      source="MODEL.md section 9: owners burn miner emission via their UID"),
    }

    @classmethod
    def set_weights(cls, group: Group, ctx: SubnetContext) -> np.ndarray:
        own = np.zeros((len(group), ctx.n))
        own[np.arange(len(group)), group.uids] = 1.0
        return tilt(honest_weights(group, ctx), own, np.ones(len(group), dtype=bool),
                    group.param("burn"))


@register
class OwnerBuyback(SubnetOwner):
    """Owner buyback: the subnet's owner buys its own alpha every epoch.

    A subnet whose product earns outside revenue spends ``buyback_usd_per_day`` of it on
    its own alpha: each epoch it buys that many dollars of TAO from the market at the
    epoch's price and stakes them to its own hotkey, which with pools buys alpha through
    the subnet's pool and lifts its price (and so, over the moving price's months, the
    subnet's share of the network's emission, MODEL.md section 9). The revenue is
    outside capital that it keeps as stake (state ``bought_tao``, cumulative), not a cost.
    It grades and weights as an honest validator. It asks whether today's chain pays a
    subnet for what it earns outside the network, or only for the price it makes: claim 9
    of MODEL.md section 7 (flows follow popularity), with the flow paid for by revenue;
    the report's own route for a real business: "users can pay you other tokens which you
    can convert to use to buy stake in BitTensor network to increase your rewards".
    """

    name = "owner_buyback"
    classifier: ClassVar[dict] = {**OWNER_CLASSIFIER,
                                  "cost_model": "grading + GPU server; buys its alpha with "
                                  "outside revenue"}
    params: ClassVar[dict[str, Param]] = {
        "buyback_usd_per_day": Param(10_000.0, 0, None, "outside revenue it spends on its "
                                     "own alpha, USD a day"),
        "entry_epoch": Param(0, 0, 10_000_000, "first epoch it buys at", integer=True),
    }

    @classmethod
    def set_weights(cls, group: Group, ctx: SubnetContext) -> np.ndarray:
        due = ctx.epoch >= group.param("entry_epoch")
        if due.any():
            tao = group.param("buyback_usd_per_day") * ctx.epoch_hours / 24.0 / \
                group.model.price_usd
            for acct, amount in zip(group.accts[due].tolist(), tao[due].tolist(), strict=True):
                schedule(group.model, lambda m, a=acct, t=amount: cls._buy(m, a, t), acct)
        return honest_weights(group, ctx)

    @classmethod
    def _buy(cls, model: Network, acct: int, tao: float) -> None:
        """Owner ``acct`` buys ``tao`` TAO from the market and stakes it to its own hotkey
        (an event after the epoch)."""
        key = f"{cls.__name__}.bought_tao"
        model.columns.declare(key, 0.0)
        if model.uid_of(acct) == EMPTY or not isinstance(model.agent_of[acct], cls):
            return  # it left or switched strategy
        bought = buy_stake(model, acct, tao)
        model.columns.set(key, acct, model.columns.get(key, acct) + bought / RAO_PER_TAO)


FOUNDED = ("owner_burner", "owner_buyback")
CARRIED = ("burn", "buyback_usd_per_day")  # the founder's parameters its owner runs with


@register
class SubnetFounder(Delegator):
    """Subnet founder: registers a new subnet and runs it as its owner.

    It holds ``endowment_tao`` liquid (and ``stake_tao`` staked, unstaked when it
    founds). From ``entry_epoch`` on it tries, between epochs, to register a subnet
    (MODEL.md section 9; ``Network.register_subnet``): it pays the lock (doubled after
    each registration and decaying back over about 4 days; one registration every 4 days
    network-wide), the subnet with the lowest moving price that is out of its immunity is
    dissolved (its participants leave, its pool's TAO is paid to its alpha holders pro
    rata) and the new subnet takes its netuid, its pool seeded with the lock. It then
    becomes that subnet's owner, a participant of strategy ``owner`` (with its ``burn`` or
    ``buyback_usd_per_day``) on UID 0; until a registration succeeds (it cannot afford the
    lock, another registered too recently, or every subnet is immune) it tries again each
    epoch. Subnet registration is modelled for today's chain only: without pools
    (``dtao.pools``) it never founds and stays a delegator. Whether founding pays (the
    owner's cut and dividends against the lock, sunk in the pool) is claim 12 of MODEL.md
    section 7 asked of the subnets themselves: what happens to small players as inflows
    fall. The report: "any new subnetwork that is started is going to be less capitalized
    with staking than any existing network unless one of the big holders started it."
    """

    name = "subnet_founder"
    classifier: ClassVar[dict] = {**DELEGATOR_CLASSIFIER,
                                  "cost_model": "the subnet's lock (kept in its pool)"}
    params: ClassVar[dict[str, Param]] = {
        "stake_tao": Param(0.0, 0, None, "TAO it stakes at genesis (unstaked when it "
                           "founds)"),
        "endowment_tao": Param(2_000.0, 0, None, "liquid TAO it can lock"),
        "entry_epoch": Param(10, 0, 10_000_000, "first epoch it tries to register at",
                             integer=True),
        "owner": Param(0, doc="strategy it runs its subnet with", choices=FOUNDED),
        "burn": OwnerBurner.params["burn"],
        "buyback_usd_per_day": OwnerBuyback.params["buyback_usd_per_day"],
    }

    @classmethod
    def choose(cls, group: Group, ctx: NetworkContext) -> np.ndarray:
        due = ctx.epoch >= group.param("entry_epoch")
        if due.any():
            accts = group.accts[due]
            schedule(group.model, lambda m: cls._found(m, accts))
        return group.model.ledger.staked_to[group.accts]

    @classmethod
    def spawned_strategies(cls) -> tuple[type, ...]:
        """It becomes one of the owner strategies (``FOUNDED``)."""
        return tuple(REGISTRY[name] for name in FOUNDED)

    @classmethod
    def _found(cls, model: Network, accts: np.ndarray) -> None:
        """Each founder still waiting tries to register a subnet (a rare event)."""
        if not model.params.dtao.pools:
            return
        for acct in accts.tolist():
            agent = model.agent_of[acct]
            if isinstance(agent, cls):  # not yet an owner
                owner = REGISTRY[FOUNDED[int(agent.values["owner"])]]
                params = {k: agent.values[k] for k in CARRIED if k in owner.params}
                model.register_subnet(agent, owner, params)
