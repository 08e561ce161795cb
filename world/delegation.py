"""Delegation: nominators choose validators and their stake moves (MODEL.md section 6).

At genesis every delegator stakes to a validator drawn at random (``place``); from the
first epoch on, each policy's ``choose()`` names the validator each member wants and a
member's stake moves once it has wanted the same new validator for its
``switch_delay`` epochs (``move_stake``). Each account stakes to one hotkey at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from world.accounts import uid_layout
from world.interfaces import NetworkContext
from world.ledger import NO_HOTKEY, to_rao

if TYPE_CHECKING:
    from world.model import Network

YIELD_EMA_RATE = 0.2  # weight of the latest epoch in delegators' trailing yield


def declare(model: Network) -> None:
    """Declare delegation's columns: each validator's trailing yield per TAO staked, and
    each delegator's pending choice and the epoch it was first made."""
    model.columns.declare("net_yield", 0.0)
    model.columns.declare("pending_target", float(NO_HOTKEY))
    model.columns.declare("pending_since", 0.0)


def context(model: Network) -> NetworkContext:
    """What delegators see: every registered validator, the stake behind it and its
    trailing yield to nominators."""
    layout = uid_layout(model)  # every subnet's UIDs, stacked subnet after subnet
    vals = layout.occupant[layout.validators]
    if model.params.economy.stake_scope == "global":  # a hotkey once, however many UIDs
        vals = np.unique(model.hotkey_of[vals])
    stake = model.ledger.hotkey_value_tao(vals) if len(vals) else np.zeros(0)
    yld = model.columns.get("net_yield", vals, 0.0)
    coinbase = getattr(model, "coinbase", None)  # None until the pools open (genesis)
    trend = (coinbase.trend[model.acct_netuid[vals]] if coinbase is not None
             else np.zeros(len(vals)))
    return NetworkContext(model, model.epoch, model.streams["decisions"], vals, stake, yld,
                          trend)


def place(model: Network) -> None:
    """Genesis delegation: every delegator stakes to a validator drawn uniformly at random.

    Policies act from the first epoch on, with their switching delay, so whatever
    concentration of stake they cause happens over time, where claim 9 of MODEL.md
    section 7 looks for it (not at genesis).
    """
    groups = model.delegator_groups()
    if not groups:
        return
    ctx = context(model)
    if len(ctx.validators) == 0:
        raise ValueError("population: delegators need at least one validator to stake to")
    for _, g in groups.items():
        target = model.streams["decisions"].choice(ctx.validators, size=len(g))
        for acct, hk in zip(g.accts, target, strict=True):
            stake = int(to_rao(model.agent_of[int(acct)].endowment().stake_tao))
            model.ledger.stake(int(acct), int(hk), stake)


def move_stake(model: Network) -> None:
    """Delegators' choices, with each member's switching delay (MODEL.md section 6)."""
    groups = model.delegator_groups()
    if not groups:
        return
    ctx = context(model)
    col = model.columns
    listed = _membership_table(ctx.validators)
    for cls, g in groups.items():
        want = np.asarray(cls.choose(g, ctx), dtype=np.int64)
        valid = _among(want, listed)  # np.isin(want, ctx.validators)
        current = model.ledger.staked_to[g.accts]
        want = np.where(valid, want, current)
        pending = col.get("pending_target", g.accts, NO_HOTKEY)
        since = col.get("pending_since", g.accts, 0.0)
        fresh = want != pending
        since = np.where(fresh, model.epoch, since)
        col.set("pending_target", g.accts, want)
        col.set("pending_since", g.accts, since)
        move = (want != current) & (model.epoch - since >= cls.switch_delay(g))
        if move.any():
            model.ledger.redelegate(g.accts[move], want[move])


def _membership_table(members: np.ndarray) -> np.ndarray:
    """A boolean table over ``0..max(members)``, True at ``members`` (non-negative
    integers), for :func:`_among`."""
    table = np.zeros(int(members.max(initial=-1)) + 1, dtype=bool)
    table[members] = True
    return table


def _among(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``np.isin(values, members)`` for the ``members`` of ``table`` (speed only: one
    lookup per value; tests/test_net_of.py checks them equal)."""
    inside = (values >= 0) & (values < len(table))
    return inside & table[np.where(inside, values, 0)] if len(table) else inside


def update_yield(model: Network, hotkeys: np.ndarray, rate: np.ndarray) -> None:
    """Fold this epoch's yield per TAO staked (``rate``) at ``hotkeys`` into the trailing
    yield delegators see (an exponential moving average of rate ``YIELD_EMA_RATE``)."""
    old = model.columns.get("net_yield", hotkeys, 0.0)
    model.columns.set("net_yield", hotkeys, (1 - YIELD_EMA_RATE) * old + YIELD_EMA_RATE * rate)
