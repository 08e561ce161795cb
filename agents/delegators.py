"""Delegator (nominator) policies (MODEL.md section 6, "Delegators").

Each ``choose`` returns, for every member of a group at once, the account of the
validator it wants to stake with; the world moves a member's stake once the same choice
has persisted its ``switch_delay`` epochs. Comparisons against a member's current
validator use dense arrays over accounts (``_by_account``), not per-member lookups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from agents.base import Delegator, Param, register
from agents.population import schedule
from world.interfaces import Group, NetworkContext
from world.params import RAO_PER_TAO

if TYPE_CHECKING:
    from world.model import Network

DELEGATOR_CLASSIFIER = {
    "role": "delegator",
    "cost_model": "none",
    "colludes": False,
    "stochastic": False,
    "needs_gpu": False,
    "grades": False,
    "copies": False,
    "adapts": True,
}


def _by_account(ctx: NetworkContext, values: np.ndarray, accts: np.ndarray) -> np.ndarray:
    """``values`` (one per validator in ``ctx``) looked up at ``accts`` (0 elsewhere)."""
    dense = np.zeros(ctx.model.ledger.n)
    dense[ctx.validators] = values
    return np.where(accts >= 0, dense[np.maximum(accts, 0)], 0.0)


def _last_of_largest(primary: np.ndarray, secondary: np.ndarray) -> int:
    """``np.lexsort((secondary, primary))[-1]``: the index of the largest ``primary``, among
    those the largest ``secondary``, among those the last (a stable sort keeps ties in
    order). Without NaN (which sorts last) found by two maxima instead of a sort (speed
    only; tests/strategies/test_delegators.py checks them equal)."""
    if len(primary) == 0 or np.isnan(primary).any() or np.isnan(secondary).any():
        return int(np.lexsort((secondary, primary))[-1])
    top = np.flatnonzero(primary == primary.max())
    second = secondary[top]
    return int(top[np.flatnonzero(second == second.max())[-1]])


def _move_if_better(
    group: Group, ctx: NetworkContext, score: np.ndarray
) -> np.ndarray:
    """Each member's current validator, or the best-scoring one where it beats the
    current by the member's ``hurdle`` (relative)."""
    current = group.model.ledger.staked_to[group.accts]
    if len(ctx.validators) == 0:
        return current
    best = int(np.argmax(score))
    now = _by_account(ctx, score, current)
    better = score[best] > now * (1.0 + group.param("hurdle")) + 1e-15
    return np.where(better, ctx.validators[best], current)


@register
class YieldChaser(Delegator):
    """Yield chaser: stakes with the validator of best trailing yield net of take.

    MODEL.md section 6: chase the best trailing yield net of take, with inertia (a new
    choice must beat the current one by ``hurdle`` and persist ``switch_delay`` epochs
    before the stake moves). The counterpoint to claim 9 (delegation follows popularity):
    if delegators chased yield, stake would flow to validators that earn, not to the big;
    and the delegators who could punish a poison pill (claim 8) by leaving it. The
    report's nominator: "We could find populator validators and delegate our stake to
    them. This will get us a proportional 78% of our proportion of the reward they get
    issued."
    """

    name = "yield_chaser"
    classifier: ClassVar[dict] = dict(DELEGATOR_CLASSIFIER)
    params: ClassVar[dict[str, Param]] = {
        "hurdle": Param(0.05, 0, 10, "relative yield gain needed to want a move"),
    }

    @classmethod
    def choose(cls, group: Group, ctx: NetworkContext) -> np.ndarray:
        return _move_if_better(group, ctx, ctx.net_yield)


@register
class PopularityFollower(Delegator):
    """Popularity follower: stakes with the validator that has the largest stake.

    It moves when the largest validator's stake exceeds its current validator's by
    ``hurdle`` (relative) and the choice persists ``switch_delay`` epochs (its inertia).
    Following the crowd concentrates stake, which is what claim 9 of MODEL.md section 7
    says delegation does (the Nakamoto coefficient falls). The report: "The only important
    factor for subnetwork success is staking which is equal to high net worth investor
    stakes + ongoing popularity via stake delegation".
    """

    name = "popularity_follower"
    classifier: ClassVar[dict] = dict(DELEGATOR_CLASSIFIER)
    params: ClassVar[dict[str, Param]] = {
        "hurdle": Param(0.1, 0, 10, "relative stake lead needed to want a move"),
    }

    @classmethod
    def choose(cls, group: Group, ctx: NetworkContext) -> np.ndarray:
        return _move_if_better(group, ctx, ctx.stake_tao)


@register
class LoyalDelegator(Delegator):
    """Loyal delegator: stays with the validator it first staked to, whatever happens.

    At genesis the world places it with a validator drawn at random; it never moves
    again, not even when that validator turns (a poison pill) or leaves. The baseline
    against which yield chasing and popularity following are measured (claims 8 and 9 of
    MODEL.md section 7): the stake that does not "punish" anyone. The report's passive
    nominator: "We could find populator validators and delegate our stake to them."
    """

    name = "loyal_delegator"
    classifier: ClassVar[dict] = {**DELEGATOR_CLASSIFIER, "adapts": False}

    @classmethod
    def choose(cls, group: Group, ctx: NetworkContext) -> np.ndarray:
        return group.model.ledger.staked_to[group.accts]


@register
class RootStaker(Delegator):
    """Root staker: holds its TAO on root (netuid 0) behind one validator and stays there.

    MODEL.md section 9 ("Today"): root stake counts ``tao_weight`` times its TAO in the
    validator's Yuma stake on every subnet and earns root dividends, the root proportion
    of validators' alpha, sold for TAO and staked on root. Placed like a loyal delegator
    (a validator drawn at random at genesis), it never moves, so its yield shows what
    root pays against alpha stake. Without pools (the 2023 world) it is a loyal delegator.
    Claims 1 and 7 asked again today: whether passive capital still earns most ("The top
    3 earners are validators making bank on their stakes.") and how much root weight a
    validator brings to a small subnet it would take over.
    """

    name = "root_staker"
    classifier: ClassVar[dict] = {**DELEGATOR_CLASSIFIER, "adapts": False}

    def stakes_root(self) -> bool:
        return True

    @classmethod
    def choose(cls, group: Group, ctx: NetworkContext) -> np.ndarray:
        return group.model.ledger.staked_to[group.accts]


@register
class MomentumStaker(Delegator):
    """Momentum staker: moves its stake to the subnet whose alpha price rose most lately.

    MODEL.md section 9 ("Today"): staking is a swap, so a staker who moves sells the alpha
    of the subnet it leaves and buys the alpha of the one it joins. A momentum trader
    reads each pool's trailing price change per epoch (``price_trend``) and stakes behind
    the largest validator of the subnet that leads it, moving when that trend beats its
    current subnet's by ``hurdle`` (absolute, per epoch) for ``switch_delay`` epochs. Its
    own buying raises the price it chases, so a crowd of them amplifies any rise, whether
    from useful work or a pump. Claim 9 of MODEL.md section 7 asked of today's chain:
    "Popularity and belief will drive inflows into subnetworks", with the price as the
    popularity signal. Without pools every trend is 0 and it stays where it was placed.
    """

    name = "momentum_staker"
    classifier: ClassVar[dict] = dict(DELEGATOR_CLASSIFIER)
    params: ClassVar[dict[str, Param]] = {
        "hurdle": Param(0.001, 0, 10, "lead in price trend (per epoch) needed to want a move"),
    }

    @classmethod
    def choose(cls, group: Group, ctx: NetworkContext) -> np.ndarray:
        current = group.model.ledger.staked_to[group.accts]
        if len(ctx.validators) == 0:
            return current
        trend = np.asarray(ctx.price_trend)
        best = _last_of_largest(trend, np.asarray(ctx.stake_tao))  # top trend, most stake
        better = trend[best] > _by_account(ctx, trend, current) + group.param("hurdle")
        return np.where(better, ctx.validators[best], current)


@register
class PumpAndDump(Delegator):
    """Pump and dump: buys one subnet's alpha in one go, waits, and sells it all.

    MODEL.md section 9 ("Today"): staking is a swap through the subnet's pool, so a large
    purchase lifts the price, and stakers who follow prices (``momentum_staker``) buy
    after it. At ``entry_epoch`` it stakes its liquid ``endowment_tao`` behind the
    largest validator of subnet ``netuid``; ``hold`` epochs later it unstakes everything
    (its alpha, dividends included, sold through the pool); a genesis ``stake_tao`` is
    unstaked and pumped with the rest. Whether it leaves with more
    TAO than it brought (state ``capital_tao`` against ``returned_tao``) asks whether
    today's chain pays pumps rather than work. Without pools a stake moves no price and
    it earns only the validator's dividends meanwhile. Claim 9 of MODEL.md section 7
    asked of flows: "Popularity and belief will drive inflows into subnetworks"; the
    report's own plan: "We farm airdrops from as many hype social media promotions of
    subnets as we possibly can".
    """

    name = "pump_and_dump"
    classifier: ClassVar[dict] = dict(DELEGATOR_CLASSIFIER)
    params: ClassVar[dict[str, Param]] = {
        "stake_tao": Param(0.0, 0, None, "TAO staked at genesis (none: it enters later)"),
        "endowment_tao": Param(10_000.0, 0, None, "liquid TAO it pumps with"),
        "netuid": Param(0, 0, 4095, "subnet whose alpha it buys", integer=True),
        "entry_epoch": Param(20, 0, 10_000_000, "epoch it buys at", integer=True),
        "hold": Param(20, 1, 10_000_000, "epochs it holds before selling", integer=True),
    }

    @classmethod
    def choose(cls, group: Group, ctx: NetworkContext) -> np.ndarray:
        current = group.model.ledger.staked_to[group.accts]
        phase = group.state("phase", 0.0)  # 0 waiting, 1 in, 2 out
        entry = group.param("entry_epoch")
        pump = (phase == 0) & (ctx.epoch >= entry)
        dump = (phase == 1) & (ctx.epoch >= entry + group.param("hold"))
        pumped = np.zeros(len(group), dtype=bool)
        if pump.any() and len(ctx.validators):
            net, want = group.model.acct_netuid[ctx.validators], group.param("netuid")
            for i in np.flatnonzero(pump):
                on = np.flatnonzero(net == int(want[i]))
                if len(on):  # behind the subnet's largest validator; else it waits
                    hk = int(ctx.validators[on[np.argmax(ctx.stake_tao[on])]])
                    acct = int(group.accts[i])
                    schedule(group.model, lambda m, a=acct, h=hk: cls._pump(m, a, h))
                    pumped[i] = True
        for acct in group.accts[dump]:
            schedule(group.model, lambda m, a=int(acct): cls._dump(m, a))
        group.set_state("phase", np.where(pumped, 1.0, np.where(dump, 2.0, phase)))
        return current

    @classmethod
    def _pump(cls, model: Network, acct: int, hotkey: int) -> None:
        """Stake all its TAO behind ``hotkey`` (a rare event): a genesis stake is unstaked
        first, so ``capital_tao`` is everything it pumps with."""
        model.ledger.withdraw(np.array([acct]))  # its genesis stake, if any, to liquid
        rao = int(model.ledger.liquid[acct])
        if rao > 0:
            model.ledger.stake(acct, hotkey, rao)
        model.columns.declare(f"{cls.__name__}.capital_tao")
        model.columns.set(f"{cls.__name__}.capital_tao", acct, rao / RAO_PER_TAO)

    @classmethod
    def _dump(cls, model: Network, acct: int) -> None:
        """Unstake everything to its liquid balance (a rare event)."""
        got = model.ledger.withdraw(np.array([acct]))
        model.columns.declare(f"{cls.__name__}.returned_tao")
        model.columns.set(f"{cls.__name__}.returned_tao", acct, float(got.sum()) / RAO_PER_TAO)
