"""Registration: the genesis population, burn-registration and the burn's adjustment.

MODEL.md section 4. At genesis every participant of the population is seated on the
lowest free UID of its subnet without a burn (delegators and root validators hold no
subnet UID). Later a
registration pays the subnet's burn, takes the lowest free UID or, when the subnet is
full, replaces the UID subtensor's ``get_neuron_to_prune`` picks; at most 3 x target
registrations are accepted per interval, and at its end the burn adjusts
(``Subnet.adjust_burn``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from world import accounts
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
