"""Validator strategies (MODEL.md section 6, "Validators").

Every ``set_weights`` acts on a whole ``Group`` and returns one weight row per member
over the subnet's UIDs; the world cleans and normalises the rows, applies the rate limit
and commit-reveal (MODEL.md section 3). Grading validators derive from
``GradingValidator``: the world queries miners for them, charges their grading and keeps
their moving averages of perceived scores (``ctx.own_scores``, MODEL.md section 5).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from agents.base import REGISTRY, GradingValidator, Param, Validator, register
from agents.population import FormsCabals, buy_stake, cabal_param, ensure_cabals, schedule
from world.interfaces import Group, SubnetContext
from world.kept import kept
from world.params import RAO_PER_TAO
from world.subnet import EMPTY

if TYPE_CHECKING:
    from world.model import Network

OWN_MINERS = ("lazy_miner", "honest_miner", "gpt_passthrough")


def honest_weights(group: Group, ctx: SubnetContext) -> np.ndarray:
    """Weights from the group's own moving averages of perceived scores, on miners only.

    MODEL.md section 5: normalised, optionally sharpened or top-k.
    """
    return ctx.own_weights(group, group.param("sharpen"), group.param("top_k"))


@kept("cabal", subnet=True)
def cabal_miner_rows(group: Group, ctx: SubnetContext) -> tuple[np.ndarray, np.ndarray]:
    """Per member: weights spread evenly over the miners of its cabal on its subnet.

    Returns (rows, has): ``rows`` is (members x UIDs), ``has`` marks members whose cabal
    has at least one miner there (the others get a zero row).
    """
    columns = group.model.columns
    occupant = ctx.occupant
    cabal_of_uid = np.where(occupant != EMPTY, columns.get("cabal", np.maximum(occupant, 0)),
                            -1.0)
    own = columns.get("cabal", group.accts)
    mask = ((cabal_of_uid[group.rows] == own[:, None]) & (own[:, None] >= 0)
            & ctx.is_miner[group.rows])
    count = mask.sum(axis=1, keepdims=True)
    rows = np.divide(mask, count, out=np.zeros(mask.shape), where=count > 0)
    return rows, count[:, 0] > 0


def tilt(honest: np.ndarray, favoured: np.ndarray, has: np.ndarray,
         share: np.ndarray | float) -> np.ndarray:
    """``(1 - share) honest + share favoured`` where a member has favoured miners, written
    into ``honest`` where it is a float64 array (a fresh one of the caller's), returned."""
    honest = np.asarray(honest, dtype=np.float64)
    favoured = np.broadcast_to(favoured, honest.shape)
    share = np.asarray(share, dtype=np.float64)
    if share.shape != (len(honest),):
        share = np.broadcast_to(share, (len(honest),))
    share = share[:, None]
    if has.all():
        honest *= 1.0 - share
        honest += share * favoured
    elif has.any():
        rows = np.flatnonzero(has)
        tilted = (1.0 - share[rows]) * honest[rows]
        tilted += share[rows] * favoured[rows]
        honest[rows] = tilted
    return honest


VALIDATOR_CLASSIFIER = {
    "role": "validator",
    "colludes": False,
    "stochastic": True,
    "needs_gpu": True,
    "grades": True,
    "copies": False,
    "adapts": False,
}


@register
class HonestValidator(GradingValidator):
    """Honest validator: grades every response it gets and pays the grading cost.

    Weights follow its own perception of quality (MODEL.md section 5), so it can rank
    miners only up to its own capability (claim 6). It is the baseline that weight
    copying (claim 3) and collusion (claims 8, 11) are measured against, and its grading
    is the V of claim 10's N + V overhead. The report: "Inherent network overhead
    associated with validation means BitTensor will never be the most efficient place to
    execute a given operation".
    """

    name = "honest_validator"
    classifier: ClassVar[dict] = {
        **VALIDATOR_CLASSIFIER,
        "cost_model": "grading cost per response + GPU server",
    }

    @classmethod
    def set_weights(cls, group: Group, ctx: SubnetContext) -> np.ndarray:
        return honest_weights(group, ctx)


@register
class WeightCopier(Validator):
    """Weight copier: sets the freshest weights it can see, without grading anything.

    ``mode`` ``consensus``: last epoch's consensus (``ctx.consensus``) restricted to miners;
    ``largest``: the weight row on chain (``ctx.weight_rows``) of the other validator
    with the largest stake. It queries nobody and pays no grading, only its node
    (``server_usd_per_hour``). With commit-reveal what it sees on chain is at least
    ``reveal_period`` epochs old (MODEL.md section 3), so its copy is stale by construction.

    Tests claim 3 of MODEL.md section 7 (weight copying pays as well as honest grading at
    lower cost, unless commit-reveal or bonds make it stale enough to lose). The report:
    "Popular validators will copy each other's answers directly if possible via creative
    use of timing attacks, or come up with off chain mechanisms for coordination, as
    validation work impairs profitability".
    """

    name = "weight_copier"
    classifier: ClassVar[dict] = {
        **VALIDATOR_CLASSIFIER,
        "cost_model": "node server only",
        "stochastic": False,
        "needs_gpu": False,
        "grades": False,
        "copies": True,
    }
    params: ClassVar[dict[str, Param]] = {
        "mode": Param(0, doc="what it copies", choices=("consensus", "largest")),
    }

    @classmethod
    def set_weights(cls, group: Group, ctx: SubnetContext) -> np.ndarray:
        use_consensus = group.param("mode") == 0
        at = group.rows  # each member's subnet
        rows = np.zeros((len(group), ctx.n))
        if use_consensus.any():
            rows[use_consensus] = (ctx.consensus * ctx.is_miner)[at[use_consensus]]
        if not use_consensus.all():
            # per subnet, the validators with the largest and the second largest stake
            stake = np.where(ctx.is_validator, ctx.stake, -np.inf)
            top = np.argmax(stake, axis=1)
            stake[np.arange(len(stake)), top] = -np.inf
            second = np.argmax(stake, axis=1)
            target = np.where(group.uids == top[at], second[at], top[at])
            pick = ~use_consensus & ctx.is_validator[at, target] & (target != group.uids)
            rows[pick] = ctx.weight_rows(at[pick], target[pick])
        return rows


@register
class CabalValidator(FormsCabals, GradingValidator):
    """Cabal validator: grades honestly, then boosts its own cabal's miners.

    Members with the same ``cabal_tag`` on a subnet (validators and the miners they run
    or deal with) form one cabal. Its weights are ``(1 - boost) * honest + boost *
    uniform over the cabal's miners on the subnet``; ``boost`` sets how hard it favours
    them, and a small one is what the report calls the rate that avoids attrition.

    Tests claim 11 of MODEL.md section 7 (validators favouring their own miners at a rate
    that avoids mass exits go unpunished) and claim 4's counterpart on the validator side.
    The report: "Validators will form financial arrangements with miners (or run miners
    themselves) and will disproportionately reward favored miners even when disfavored
    miners are producing better answers; this will be done at just the rate so as not to
    cause wholesale attrition".
    """

    name = "cabal_validator"
    classifier: ClassVar[dict] = {
        **VALIDATOR_CLASSIFIER,
        "cost_model": "grading cost per response + GPU server",
        "colludes": True,
    }
    params: ClassVar[dict[str, Param]] = {
        "boost": Param(0.3, 0, 1, "share of its weight moved to its cabal's miners"),
        "cabal_tag": cabal_param(0),
    }

    @classmethod
    def set_weights(cls, group: Group, ctx: SubnetContext) -> np.ndarray:
        ensure_cabals(group.model, *ctx.netuids)
        favoured, has = cabal_miner_rows(group, ctx)
        return tilt(honest_weights(group, ctx), favoured, has, group.param("boost"))


@register
class PoisonPillValidator(FormsCabals, GradingValidator):
    """Poison-pill validator: honest until a trigger, then weights its cabal's miners.

    Grades and weights honestly, earning trust, bonds and delegation, until its trigger:
    ``trigger`` ``epoch`` (at ``trigger_epoch``) or ``stake`` (once the stake behind it, own
    plus delegated, reaches ``trigger_stake_tao``). From then on it moves ``turn`` of its
    weight to the miners of its cabal (same ``cabal_tag``: its own miners or its
    collective's), for good. State ``turned_epoch`` records the epoch it turned (-1: not
    yet), so experiments can measure what it captured, for how long, and whether
    delegators left it.

    Tests claim 8 of MODEL.md section 7. The report: "We run a large number of legitimate
    validators or one really big validator for six months, and then change the validator
    code to run a more "value oriented" algorithm in agreement with a collective of other
    validators. Same as above, but we favor our own collective's miners at a rate that
    makes them the most profitable".
    """

    name = "poison_pill"
    classifier: ClassVar[dict] = {
        **VALIDATOR_CLASSIFIER,
        "cost_model": "grading cost per response + GPU server",
        "colludes": True,
        "adapts": True,
    }
    params: ClassVar[dict[str, Param]] = {
        "trigger": Param(0, doc="what makes it turn", choices=("epoch", "stake")),
        "trigger_epoch": Param(100, 0, 10_000_000, "epoch it turns at (trigger 'epoch')",
                               integer=True),
        "trigger_stake_tao": Param(50_000.0, 0, None,
                                   "stake behind it that makes it turn (trigger 'stake')"),
        "turn": Param(1.0, 0, 1, "share of its weight moved to its cabal's miners once turned"),
        "cabal_tag": cabal_param(0),
    }

    @classmethod
    def set_weights(cls, group: Group, ctx: SubnetContext) -> np.ndarray:
        ensure_cabals(group.model, *ctx.netuids)
        turned = group.state("turned_epoch", -1.0)
        by_epoch = ctx.epoch >= group.param("trigger_epoch")
        by_stake = ctx.stake[group.rows, group.uids] >= group.param("trigger_stake_tao")
        fire = (turned < 0) & np.where(group.param("trigger") == 0, by_epoch, by_stake)
        if fire.any():
            turned = np.where(fire, ctx.epoch, turned)
            group.set_state("turned_epoch", turned)
        honest = honest_weights(group, ctx)
        if not (turned >= 0).any():  # nobody has turned: its weights are the honest ones
            return honest
        favoured, has = cabal_miner_rows(group, ctx)
        return tilt(honest, favoured, has & (turned >= 0), group.param("turn"))


@register
class StakeAttacker(Validator):
    """Stake attacker: brings outside stake into a small subnet and weights its own miners.

    From ``entry_epoch`` on: between epochs it buys ``outside_stake_tao`` TAO from the
    market account and stakes it to itself (outside capital, recorded in state
    ``capital_tao``, not charged as a cost: it keeps the stake), registers ``n_miners`` of
    its own miners (``own_miner``; lazy miners by default, paying their burns) and forms a
    cabal with them; from then on it puts all its weight on them. It grades nothing. With
    more stake than the subnet's other validators, consensus follows it (MODEL.md section
    3), so its miners take the subnet's miner emission; the stake needed scales with the
    subnet's own stake.

    Tests claim 7 of MODEL.md section 7 (small subnets are cheap to take over). The
    report: "Niche subnets are more easier to attack than mainstream subnets" and "We run
    a large number of legitimate validators for six months, accumulating a large amount
    of stake. Eliminate every other competing validator on the subnet. Profit."
    """

    name = "stake_attacker"
    classifier: ClassVar[dict] = {
        **VALIDATOR_CLASSIFIER,
        "cost_model": "node server + its miners' burns; outside capital as stake",
        "colludes": True,
        "stochastic": False,
        "needs_gpu": False,
        "grades": False,
    }
    params: ClassVar[dict[str, Param]] = {
        "stake_tao": Param(0.0, 0, None, "own TAO staked to its hotkey at the start"),
        "outside_stake_tao": Param(100_000.0, 0, None, "TAO it buys and stakes when it enters"),
        "entry_epoch": Param(0, 0, 10_000_000, "epoch it enters at", integer=True),
        "n_miners": Param(4, 0, 4096, "own miners it registers", integer=True),
        "own_miner": Param(0, doc="strategy of its own miners", choices=OWN_MINERS),
    }

    @classmethod
    def set_weights(cls, group: Group, ctx: SubnetContext) -> np.ndarray:
        phase = group.state("phase", 0.0)  # 0 waiting, 1 entering, 2 in
        due = (phase == 0) & (ctx.epoch >= group.param("entry_epoch"))
        if due.any():
            for acct in group.accts[due]:
                schedule(group.model, lambda model, a=int(acct): cls._enter(model, a), int(acct))
            group.set_state("phase", np.where(due, 1.0, phase))
        rows, has = cabal_miner_rows(group, ctx)
        return rows * ((phase == 2) & has)[:, None]

    @classmethod
    def spawned_strategies(cls) -> tuple[type, ...]:
        """Its own miners may be of any strategy in ``OWN_MINERS``."""
        return tuple(REGISTRY[name] for name in OWN_MINERS)

    @classmethod
    def _enter(cls, model: Network, acct: int) -> None:
        """Buy the outside stake, register the own miners and form the cabal (a rare event)."""
        agent = model.agent_of[acct]
        if not isinstance(agent, cls) or model.uid_of(acct) == EMPTY:
            return  # it switched strategy or lost its UID before entering
        bought = buy_stake(model, acct, agent.values["outside_stake_tao"])
        miner_cls = REGISTRY[OWN_MINERS[int(agent.values["own_miner"])]]
        miners = []
        for _ in range(int(agent.values["n_miners"])):
            with model.in_cohort(model.cohort_of(acct)):  # its miners belong to its entry
                miner = miner_cls(model)
            if model.register(miner, agent.netuid) == EMPTY:
                model.deregister(miner)  # the subnet refused it this interval
            else:
                miners.append(miner)
        members = [m for m in miners if m.uid != EMPTY]
        if agent.cabal >= 0:
            model.join_cabal(agent.cabal, members)
        elif model.uid_of(acct) != EMPTY:
            model.form_cabal([agent, *members], agent, f"attack:{acct}")
        for state in ("capital_tao", "entered_epoch"):
            model.columns.declare(f"{cls.__name__}.{state}")
        model.columns.set(f"{cls.__name__}.phase", acct, 2.0)
        model.columns.set(f"{cls.__name__}.capital_tao", acct, bought / RAO_PER_TAO)
        model.columns.set(f"{cls.__name__}.entered_epoch", acct, float(model.epoch))


@register
class SubnetHopper(GradingValidator):
    """Subnet hopper: a large validator that registers its hotkey on the smallest subnets.

    Grades honestly where it sits. At ``entry_epoch`` (between epochs) it registers its
    own hotkey on the ``n_subnets`` other subnets with the least stake behind their UIDs,
    each registration an honest grader with its capability (paying the burn). With the
    2023 rule of one stake per hotkey (``economy.stake_scope = "global"``, ``era:
    dec2023``) each of those UIDs counts its whole stake, nominators' included, so it
    arrives dominant on every small subnet at once and earns their dividends into the
    same stake; under today's per-subnet stake it stays where it is. Tests claim 7 of
    MODEL.md section 7 (small subnets are cheap to take over) with the 2023 stake. The
    report: "Said subnetwork can then be overpowered by literally
    any actor who holds more stake in the network".
    """

    name = "subnet_hopper"
    classifier: ClassVar[dict] = {
        **VALIDATOR_CLASSIFIER,
        "cost_model": "grading cost per response + GPU server, on each subnet; the burns",
    }
    params: ClassVar[dict[str, Param]] = {
        "n_subnets": Param(2, 0, 4095, "other subnets it registers on", integer=True),
        "entry_epoch": Param(1, 0, 10_000_000, "epoch after which it registers", integer=True),
    }

    @classmethod
    def set_weights(cls, group: Group, ctx: SubnetContext) -> np.ndarray:
        phase = group.state("phase", 0.0)
        due = (phase == 0) & (ctx.epoch >= group.param("entry_epoch"))
        if due.any():
            for acct in group.accts[due]:
                schedule(group.model, lambda model, a=int(acct): cls._hop(model, a), int(acct))
            group.set_state("phase", np.where(due, 1.0, phase))
        return honest_weights(group, ctx)

    @classmethod
    def spawned_strategies(cls) -> tuple[type, ...]:
        """Its registrations on other subnets grade as honest validators."""
        return (HonestValidator,)

    @classmethod
    def _hop(cls, model: Network, acct: int) -> None:
        """Register the hotkey on the smallest other subnets (a rare event)."""
        agent = model.agent_of[acct]
        if not isinstance(agent, cls) or model.uid_of(acct) == EMPTY:
            return
        if model.params.economy.stake_scope != "global":
            return  # per-subnet stake: a second registration would hold no stake
        stake = np.array([s.stake_tao.sum() for s in model.subnets])
        stake[agent.netuid] = np.inf
        targets = np.argsort(stake, kind="stable")[: int(agent.values["n_subnets"])]
        keep = {k: agent.values[k] for k in ("capability", "noise", "dedup", "score_ema_rate",
                                             "grading_cost_usd", "server_usd_per_hour")}
        for netuid in targets[np.isfinite(stake[targets])].tolist():
            with model.in_cohort(model.cohort_of(acct)):
                twin = HonestValidator(model, stake_tao=0.0, **keep)
            model.link_hotkey(twin, acct)
            if model.register(twin, int(netuid)) == EMPTY:
                model.deregister(twin)
        model.columns.set(f"{cls.__name__}.phase", acct, 2.0)
