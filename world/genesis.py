"""A subnet's genesis from a real metagraph snapshot (issue 19).

``start_from_metagraph`` turns a freshly built subnet (its genesis population seated at
UIDs 0, 1, ... in population order) into the snapshot's state before the first epoch:

* each agent moves to the snapshot UID it plays (``order[j]`` for the agent at UID j);
* the chain state is the snapshot's (MODEL.md section 3): weights on chain, bonds (rows
  of UIDs without a permit cleared, as ``epoch`` in subtensor's ``run_epoch.rs`` stores
  them only for permitted UIDs), last epoch's permits, and the activity mask through
  ``last_update`` (relative to the snapshot's block, which is the model's block 0;
  everyone active when the snapshot has none). Every UID counts as registered one block
  before the earliest weights (so the snapshot's weights are not outdated, MODEL.md
  section 3 step 4) and none as newly registered (so stored bonds are kept);
* each UID's hotkey stake is the snapshot's ``stake_tao`` exactly (to the RAO): its own
  stake (validators' and miners' alike), or, with ``delegated_share = f > 0``, ``f`` of
  it held by the delegators that genesis puts on it. Delegators are placed on the
  snapshot's validator-strategy UIDs with probability proportional to their stake (the
  model's ``decisions`` stream). All TAO comes from and goes back to the market account
  by ledger transfers, so the ledger stays exact (MODEL.md section 4).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from world.ledger import to_rao
from world.metagraph import Metagraph
from world.params import RAO_PER_TAO
from world.subnet import EMPTY


def _set_stake(model: Any, acct: int, hotkey: int, rao: int) -> None:
    """Make ``acct``'s stake exactly ``rao`` to ``hotkey``: its stake back to the market,
    then ``rao`` from the market, staked."""
    ledger = model.ledger
    old = int(ledger.staked[acct])
    if old:
        ledger.unstake(acct, old)
        ledger.transfer(acct, model.market, old)
    if rao:
        if ledger.liquid[model.market] < rao:
            raise ValueError(
                f"economy.initial_issuance_tao is too small for the metagraph's stake: the "
                f"market holds {ledger.liquid[model.market] / RAO_PER_TAO:,.0f} TAO when "
                f"{rao / RAO_PER_TAO:,.0f} more are staked")
        ledger.transfer(model.market, acct, rao)
        ledger.stake(acct, hotkey, rao)
    model.columns.set("stake_tao", acct, rao / RAO_PER_TAO)


def _reseat(model: Any, netuid: int, order: np.ndarray) -> np.ndarray:
    """Move the agent at UID j to UID ``order[j]``; the accounts at each UID."""
    s = model.subnets[netuid]
    n = s.n
    if sorted(order.tolist()) != list(range(n)):
        raise ValueError(f"subnet {netuid}: the population must play each of the metagraph's "
                         f"{n} UIDs exactly once")
    occupant = s.occupant.copy()
    if (occupant == EMPTY).any():
        raise ValueError(f"subnet {netuid}: {int((occupant == EMPTY).sum())} UIDs have no "
                         f"agent after genesis")
    agents = [model.agent_of[int(a)] for a in occupant]
    for uid in range(n):
        s.vacate(uid)
    for j, agent in enumerate(agents):
        model.seat(agent, netuid, int(order[j]))
    return s.occupant.copy()


def _place_delegators(model: Any, mg: Metagraph, accts: np.ndarray, validator: np.ndarray,
                      share: float) -> np.ndarray:
    """Delegators on the snapshot's validators, in proportion to their stake; each hotkey's
    RAO held by its delegators (``share`` of it, in equal parts; the remainder stays
    with the validator). Returns the validators' own stake, RAO per UID."""
    rao = np.array([int(to_rao(x)) for x in mg.stake_tao], dtype=np.int64)
    own = rao.copy()
    groups = model.delegator_groups()
    delegators = np.concatenate([g.accts for g in groups.values()]) if groups else \
        np.zeros(0, dtype=np.int64)
    candidates = np.flatnonzero(validator & (rao > 0))
    if len(delegators) == 0 or share <= 0:
        return own
    if len(candidates) == 0:
        raise ValueError("metagraph_delegated_share: the metagraph has no validator with stake "
                         "for the delegators to stake to")
    weight = rao[candidates].astype(np.float64)
    chosen = model.streams["decisions"].choice(candidates, size=len(delegators),
                                               p=weight / weight.sum())
    for uid in np.unique(chosen):
        mine = delegators[chosen == uid]
        total = int(rao[uid] * share)
        each = total // len(mine)
        own[uid] = rao[uid] - each * len(mine)
        for d in mine:
            _set_stake(model, int(d), int(accts[uid]), each)
    return own


def start_from_metagraph(model: Any, netuid: int, mg: Metagraph, order: np.ndarray,
                         delegated_share: float = 0.0) -> None:
    """Put subnet ``netuid`` of a freshly built ``model`` into the state of ``mg`` (see
    the module docstring). ``order[j]``: the snapshot UID the agent seated at UID j plays.

    Raises:
        ValueError: the population does not play each snapshot UID once, or the
            economy's issuance cannot cover the snapshot's stake.
    """
    s = model.subnets[netuid]
    if s.n != mg.n:
        raise ValueError(f"subnet {netuid} has {s.n} UIDs, the metagraph {mg.n}")
    if not 0.0 <= delegated_share < 1.0:
        raise ValueError(f"metagraph_delegated_share must be in [0, 1), got {delegated_share}")
    accts = _reseat(model, netuid, np.asarray(order, dtype=np.int64))
    # chain state: weights, bonds, permits, activity (MODEL.md section 3)
    s.weights[:] = mg.weights
    s.bonds[:] = mg.bonds * mg.validator_permit[:, None]
    s.permits = mg.validator_permit.copy()
    if mg.last_update is not None and mg.block is not None:
        s.last_update[:] = mg.last_update - mg.block
    else:
        s.last_update[:] = 0
    s.last_update[~mg.active] = np.minimum(s.last_update[~mg.active],
                                           -s.params.activity_cutoff - 1)
    s.registered_block[:] = min(0, int(s.last_update.min())) - 1
    s.new_registrations[:] = False
    # stake: each hotkey's exactly, delegators' derived from it
    own = _place_delegators(model, mg, accts, s.is_validator.copy(), delegated_share)
    for uid in range(mg.n):
        _set_stake(model, int(accts[uid]), int(accts[uid]), int(own[uid]))
