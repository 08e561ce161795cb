"""Registration: the genesis population, burn-registration and the burn's adjustment.

MODEL.md section 4. At genesis every participant of the population is seated on the
lowest free UID of its subnet without a burn (delegators and root validators hold no
subnet UID); one that owns its subnet (``owns_subnet()``) becomes its owner. Later a
registration pays the subnet's burn, takes the lowest free UID or, when the subnet is
full, replaces the UID subtensor's ``get_neuron_to_prune`` picks; at most 3 x target
registrations are accepted per interval, and at its end the burn adjusts
(``Subnet.adjust_burn``). Today a subnet can be registered too, dissolving the subnet
with the lowest moving price (``register_subnet``, MODEL.md section 9).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from world import accounts, rules_dtao
from world.alpha_ledger import DtaoLedger
from world.params import RAO_PER_TAO
from world.subnet import EMPTY

if TYPE_CHECKING:
    from world.model import Cohort, Network


def populate(model: Network, population: Sequence[Cohort]) -> None:
    """Create the genesis population: registered at block 0 without a burn; miners and
    validators in population order, then the delegators. Each participant's records
    carry the index of its entry (``cohort``: ``Cohort.entry``, else its position)."""
    for i, c in enumerate(population):
        if c.count < 0:
            raise ValueError(f"population count of {c.strategy.__name__} must be >= 0")
        role = getattr(c.strategy, "role", None)
        if role in ("delegator", "root"):
            continue
        if c.subnet is None or not 0 <= c.subnet < len(model.subnets):
            raise ValueError(
                f"population: {c.strategy.__name__} needs subnet in "
                f"[0, {len(model.subnets) - 1}], got {c.subnet!r}"
            )
        s = model.subnets[c.subnet]
        for _ in range(c.count):
            uid = s.free_uid()
            if uid == EMPTY:
                raise ValueError(
                    f"population: subnet {c.subnet} has {s.n} UIDs (subnet.n_uids) and "
                    f"the population asks for more"
                )
            with model.in_cohort(i if c.entry is None else c.entry):
                agent = c.strategy(model, **dict(c.params))
            accounts.endow(model, agent)
            model.seat(agent, c.subnet, uid)
            if agent.owns_subnet():
                model.take_ownership(agent)
    for i, c in enumerate(population):
        if getattr(c.strategy, "role", None) in ("delegator", "root"):
            for _ in range(c.count):
                with model.in_cohort(i if c.entry is None else c.entry):
                    agent = c.strategy(model, **dict(c.params))
                accounts.endow(model, agent)


def register(model: Network, agent: Any, netuid: int) -> int:
    """Burn-register ``agent`` on subnet ``netuid``; the UID, or -1 if refused.

    MODEL.md section 4: the burn is paid (TAO bought from the market if the agent's
    liquid balance is short; the burned TAO is a USD cost at this epoch's price); a
    full subnet replaces its UID to prune (subtensor ``get_neuron_to_prune``).
    """
    s = model.subnets[netuid]
    if not s.can_register():
        return EMPTY
    ledger = model.ledger
    burn = s.burn_rao
    short = burn - int(ledger.liquid[agent.acct])
    if short > 0:
        if ledger.liquid[model.market] < short:
            return EMPTY
        ledger.transfer(model.market, agent.acct, short)
    ledger.burn(agent.acct, burn)
    accounts.add_cost(model, agent.acct, burn / RAO_PER_TAO * model.price_usd)
    uid = s.free_uid()
    if uid == EMPTY:
        uid = s.uid_to_prune(model.block)
        model.deregister(model.agent_of[int(s.occupant[uid])])
    model.seat(agent, netuid, uid)
    s.note_registration()
    return uid


def adjust_burns(model: Network) -> None:
    """End of an epoch: every subnet's burn moves with its registrations at each end of
    an adjustment interval the epoch held (``Subnet.end_epoch_burn``, subtensor
    ``adjust_burn``)."""
    for s in model.subnets:
        s.end_epoch_burn(model.params.tempo)


def register_subnet(model: Network, acct: int) -> int:
    """Account ``acct`` registers a subnet (MODEL.md section 9; subtensor@2026-06-30
    subnets/subnet.rs ``do_register_network``); the netuid, or -1 if refused.

    The world's subnets are the network's netuids, so the network is at its subnet limit:
    the registration dissolves the non-immune subnet with the lowest moving price
    (``rules_dtao.subnet_to_dissolve``; refused if every subnet is immune) and the new
    subnet takes its netuid. The run starts ``dtao.subnet_last_lock_age_blocks`` after a
    registration that locked ``dtao.subnet_last_lock_tao``. One registration per
    ``dtao.subnet_rate_limit_blocks`` network-wide (utils/rate_limiting.rs
    ``RegisterNetwork``). ``acct`` pays the lock
    (``rules_dtao.lock_cost``: it doubles after each registration and decays over
    ``dtao.lock_reduction_blocks`` times the TAO emitted per block, coinbase/root.rs
    ``get_lock_reduction_interval``; refused if its liquid TAO is short; booked as its
    cost, as a neuron's burn is: a new subnet's lock is never refunded). The dissolved
    subnet's participants are deregistered and its pool's TAO is paid to its alpha holders
    pro rata (``DtaoLedger.dissolve``; a subnet from before the run by the legacy rule);
    the whole lock seeds the new pool, whose alpha reserve prices it at the median of the
    other subnets' prices; ``acct`` owns the new subnet (what it staked elsewhere is
    unstaked first: an account holds one position here). Differences: the lock refund of
    the chain's oldest subnets' owners (their lock less the owner's emission, nil for a
    subnet a year old) is not paid; root validators are not made parents of the owner's
    hotkey (``do_set_root_validators_for_subnet``), so a new subnet starts with no stake
    but its owner's; the chain leaves a new subnet's emission off until its owner starts
    it, here its share follows its moving price, which starts at 0.
    """
    ledger, coinbase = model.ledger, model.coinbase
    if not isinstance(ledger, DtaoLedger) or coinbase is None:
        raise ValueError("register_subnet needs today's pools (dtao.pools: true)")
    dp = model.params.dtao
    last, now = coinbase.last_lock_block, coinbase.lock_clock()
    if last > 0 and now - last < dp.subnet_rate_limit_blocks:
        return EMPTY  # utils/rate_limiting.rs: one registration per NetworkRateLimit
    interval = int(dp.lock_reduction_blocks * coinbase.block_emission())
    lock = rules_dtao.lock_cost(
        coinbase.last_lock_rao, int(round(dp.subnet_lock_min_tao * RAO_PER_TAO)),
        last, now, interval)
    net = rules_dtao.subnet_to_dissolve(coinbase.moving, coinbase.start_block, model.block,
                                        dp.subnet_immunity_blocks)
    if net is None or ledger.liquid[acct] < lock:
        return EMPTY
    others = np.delete(ledger.prices(), net)  # the other subnets' prices (the median's)
    median = float(np.median(others[others > 0])) if (others > 0).any() else 1.0
    dissolve(model, net)
    # an account holds one position (one hotkey, alpha on one subnet): what it staked
    # elsewhere returns to its liquid balance, and the owner's cut stakes to its own hotkey
    ledger.withdraw(np.array([acct]))
    ledger.reopen_pool(net, acct, lock, int(lock / median))
    coinbase.restart(net, model.block)
    coinbase.last_lock_rao, coinbase.last_lock_block = lock, now
    accounts.add_cost(model, acct, lock / RAO_PER_TAO * model.price_usd)  # sunk in the pool
    model.subnets[net].reset(acct)
    return net


def dissolve(model: Network, net: int) -> None:
    """Dissolve subnet ``net``: every participant on it deregistered, its pool's TAO paid
    to its alpha holders pro rata and its alpha destroyed (subtensor@2026-06-30
    coinbase/root.rs ``do_dissolve_network``, ``DtaoLedger.dissolve``)."""
    s = model.subnets[net]
    for acct in s.occupant[s.occupant != EMPTY].tolist():
        model.deregister(model.agent_of[acct])
    model.ledger.dissolve(net, legacy=bool(model.coinbase.legacy[net]))
    model.membership.invalidate(net)
