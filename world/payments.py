"""Payments: the epoch's emission minted and paid to owners, miners and validators.

MODEL.md section 4 (``world.emission`` holds the schedule and the subnets' split; this
module pays it out through the ledger, in integer RAO).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from world import delegation, rootnet
from world.emission import epoch_emission, subnet_shares
from world.ledger import to_rao, to_tao
from world.params import RAO_PER_TAO
from world.subnet import EMPTY

if TYPE_CHECKING:
    from world.model import Network


def split(model: Network) -> np.ndarray:
    """Each subnet's share of this epoch's emission (``economy.subnet_split``): fixed,
    by stake (``world.emission.subnet_shares``), or by the root network
    (``world.rootnet.epoch``, 2023: subtensor@2023-12-20 root.rs ``root_epoch``; where it
    errs, the previous shares, or the fixed ones before the first root epoch)."""
    eco = model.params.economy
    fixed = [s.params.emission_share for s in model.subnets]
    if eco.subnet_split == "root":
        res = rootnet.epoch(model)
        if res is not None:
            model.root_shares = res.shares
        elif model.root_shares is None:
            model.root_shares = subnet_shares("fixed", fixed, np.zeros(len(fixed)))
        return model.root_shares
    stake_per_subnet = (  # read only when subnets share by stake
        np.zeros(len(model.subnets)) if eco.subnet_split == "fixed"
        else np.array([s.stake_tao.sum() for s in model.subnets])
    )
    return subnet_shares(eco.subnet_split, fixed, stake_per_subnet)


def pay(model: Network) -> None:
    """Mint this epoch's emission and pay it (MODEL.md section 4).

    The epoch's TAO (``epoch_emission``, or ``fixed_emission_per_block``) is split over
    the subnets (``subnet_shares``); in each, the owner gets ``owner_share`` liquid, miners
    their Yuma incentive share (liquid, or with ``economy.miner_pay = "stake"`` added to
    their hotkey's stake as in 2023: subtensor@2023-12-20 block_step.rs
    ``emit_inflation_through_hotkey_account``, ``Ledger.mint_stake``), validators their
    dividends share, of which each keeps its take and the rest is auto-staked pro rata to
    the stake behind it, its own included (``Ledger.mint_dividends``; the same
    function's delegate branch in 2023). Every amount is floored to the RAO. Incentive
    to the owner's UID where the era exempts it is burned (``Subnet.exempt_uid``;
    subtensor@2026-06-30 coinbase/run_coinbase.rs ``distribute_dividends_and_incentives``).
    """
    books = model.books
    books.grow(model.ledger.n)
    eco = model.params.economy
    issuance = model.ledger.supply / RAO_PER_TAO
    blocks = model.params.tempo
    if eco.fixed_emission_per_block is not None:
        total = eco.fixed_emission_per_block * blocks
    else:
        total = epoch_emission(issuance, blocks, eco.halving_base_per_block)
    shares = split(model)
    # every subnet at once, element by element the arithmetic of one subnet at a time
    subnets = model.subnets
    e_sub = total * np.asarray(shares, dtype=np.float64)
    owner = to_rao(e_sub * eco.owner_share)
    pool = e_sub * (eco.miner_share + eco.validator_share)
    sizes = [s.n for s in subnets]
    starts = np.cumsum([0, *sizes[:-1]])
    pool_of_uid = np.repeat(pool, sizes)
    occupant = np.concatenate([s.occupant for s in subnets])
    occ = occupant != EMPTY
    inc_rao = np.where(occ, to_rao(
        pool_of_uid * np.concatenate([s.shares[0] for s in subnets])), 0)
    owner_uids = [a + s.exempt_uid for s, a in zip(subnets, starts.tolist(), strict=True)
                  if s.exempt_uid != EMPTY]
    inc_rao[owner_uids] = 0  # incentive to an exempt owner's UID is burned: never minted
    div_rao = np.where(occ, to_rao(
        pool_of_uid * np.concatenate([s.shares[1] for s in subnets])), 0)
    emission = to_tao(inc_rao + div_rao)
    for s, start in zip(subnets, starts.tolist(), strict=True):
        s.emission_tao = emission[start : start + s.n]
    # owner, miners, validators (TAO), summed subnet by subnet as floats, in order
    role = to_tao(np.stack([owner, np.add.reduceat(inc_rao, starts),
                            np.add.reduceat(div_rao, starts)], axis=1))
    acc = [0.0, 0.0, 0.0]
    for o, m, v in role.tolist():
        acc[0] += o
        acc[1] += m
        acc[2] += v
    books.role_emission = np.array(acc)
    hk = occupant[occ]
    if eco.stake_scope == "global":  # a linked registration earns for its hotkey (2023)
        hk = model.hotkey_of[hk]
    dv = div_rao[occ]
    accts = np.concatenate([[s.owner_acct for s in subnets], hk]).astype(np.int64)
    amounts = np.concatenate([owner, inc_rao[occ]]).astype(np.int64)
    staked_pay = eco.miner_pay == "stake"
    liquid = len(subnets) if staked_pay else len(accts)
    model.ledger.mint_liquid(accts[:liquid], amounts[:liquid])
    # RAO as floats first: the same sums, on np.add.at's fast path (speed only)
    np.add.at(books.income, accts, amounts.astype(np.float64))
    stake_before = model.ledger.hotkey_stake()
    received, to_nominators = model.ledger.mint_dividends(hk, dv, eco.validator_take)
    if staked_pay:
        model.ledger.mint_stake(hk, inc_rao[occ])
    books.income[: len(received)] += received
    books.nominator_payout = float(to_tao(to_nominators.sum()))
    # delegators' trailing yield per validator: what a staker got per TAO staked
    pool_rate = np.where(
        stake_before[hk] > 0, dv * (1.0 - eco.validator_take) / np.maximum(stake_before[hk], 1),
        0.0,
    )
    delegation.update_yield(model, hk, pool_rate)

