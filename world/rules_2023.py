"""The economy around Yuma in December 2023, as pure functions over arrays.

MODEL.md section 9 (``dec2023``). Source: opentensor/subtensor at the commit of
2023-12-20 (ed39ff34, spec 141), ``pallets/subtensor/src``: ``block_step.rs``
(registration burn adjustment, emission into stake with the delegate take), ``epoch.rs``
(pruning scores, the per-pair bond mask), ``registration.rs`` (which UID a registration
replaces), ``uids.rs`` (global hotkey stake, unstaking on deregistration). The root
network's split of emission is in :mod:`world.root`.

Amounts of TAO are integer RAO (``int64``) wherever they move between accounts, as on
chain; shares and scores are float64 (the chain's I32F32/I64F64 rounding is not
reproduced, except where a rule depends on it: pruning scores are compared as u16).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from world.payout import share_pro_rata

__all__ = [
    "adjust_burn",
    "burn_adjustment_due",
    "deregistration_unstake",
    "distribute_hotkey_emission",
    "mask_outdated_bonds",
    "max_upscale_u16",
    "neuron_to_prune",
    "outdated_mask",
    "pruning_scores",
    "uid_stake",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

U16_MAX = 65_535
ADJUSTMENT_ALPHA = 58_000 / (2**64 - 1)  # root.rs init_new_network: set_adjustment_alpha(58000)


# -- registration burn -------------------------------------------------------------------


def burn_adjustment_due(current_block: int, last_adjustment_block: int, interval: int) -> bool:
    """Whether a subnet adjusts its burn this block (block_step.rs
    ``adjust_registration_terms_for_networks`` step 3: ``current - last >= interval``)."""
    return current_block - last_adjustment_block >= interval


def adjust_burn(
    burn_rao: ArrayLike,
    burn_registrations: ArrayLike,
    target: int,
    min_burn_rao: int,
    max_burn_rao: int,
    *,
    pow_registrations: ArrayLike = 0,
    alpha: float = ADJUSTMENT_ALPHA,
) -> IntArray:
    """The next burn of each subnet after an interval (the burn side of the six cases).

    block_step.rs ``adjust_registration_terms_for_networks`` with ``regs = burn + pow``
    registrations this interval: if ``regs > target`` the burn is adjusted when burn
    registrations are at least as many as PoW ones (cases B and F); if ``regs <= target``
    it is adjusted when PoW registrations are at least as many as burn ones (cases C and
    E); otherwise (cases A and D) only the PoW difficulty moves and the burn stays.
    ``adjust_burn``: ``updated = burn * (regs + target) / (2 target)``, then
    ``alpha * burn + (1 - alpha) * updated`` (alpha = AdjustmentAlpha / u64::MAX in
    I110F18, i.e. truncated to a multiple of 2^-18: the default 58000 / u64::MAX is 0),
    clamped to ``[min_burn, max_burn]`` and floored to RAO.

    With burn registrations only (this model) that is MODEL.md section 9's rule: none in
    the interval, the burn halves; ``0 < regs <= target``, it stays; ``regs > target``, it
    is multiplied by ``(regs + target) / (2 target)``.
    """
    burn = np.asarray(burn_rao, dtype=np.int64)
    b_regs = np.asarray(burn_registrations, dtype=np.int64)
    p_regs = np.asarray(pow_registrations, dtype=np.int64)
    if target < 1:
        raise ValueError(f"target must be an integer >= 1, got {target!r}")
    if np.any(b_regs < 0) or np.any(p_regs < 0):
        raise ValueError("registration counts must be >= 0")
    alpha = np.floor(alpha * 2.0**18) / 2.0**18  # I110F18 has 18 fractional bits
    regs = b_regs + p_regs
    over = regs > target
    adjust = np.where(over, b_regs >= p_regs, p_regs >= b_regs)
    updated = burn * ((regs + target) / (2.0 * target))
    nxt = alpha * burn + (1.0 - alpha) * updated
    clamped = np.where(nxt >= max_burn_rao, max_burn_rao,
                       np.where(nxt <= min_burn_rao, min_burn_rao, np.floor(nxt)))
    return np.where(adjust, clamped, burn).astype(np.int64)


# -- pruning -----------------------------------------------------------------------------


def pruning_scores(
    incentive: ArrayLike, dividends: ArrayLike, active_stake: ArrayLike, stake: ArrayLike
) -> FloatArray:
    """Each UID's pruning score after an epoch (epoch.rs ``epoch``, "Emission and Pruning
    scores"): ``normalise(incentive + dividends)``; if that sum is 0 (no weights set, all
    outdated or self-weights only), the active stake, or the stake when no stake is active.
    """
    combined = np.asarray(incentive, dtype=np.float64) + np.asarray(dividends, dtype=np.float64)
    total = combined.sum()
    if total > 0:
        return combined / total
    active = np.asarray(active_stake, dtype=np.float64)
    return np.array(active if active.any() else stake, dtype=np.float64)


def max_upscale_u16(x: ArrayLike) -> NDArray[np.int64]:
    """Scores as stored on chain: the largest becomes 65535 (math.rs
    ``vec_max_upscale_to_u16``: ``round(x * 65535 / max)``, ties away from zero as the
    fixed-point ``round``; all zeros stay 0)."""
    v = np.asarray(x, dtype=np.float64)
    top = v.max(initial=0.0)
    if top <= 0:
        return np.zeros(len(v), dtype=np.int64)
    return np.floor(v * (U16_MAX / top) + 0.5).astype(np.int64)


def neuron_to_prune(
    scores_u16: ArrayLike, block_at_registration: ArrayLike, current_block: int,
    immunity_period: int,
) -> int:
    """The UID a registration on a full subnet replaces (registration.rs
    ``get_neuron_to_prune``).

    Among UIDs out of immunity (``current - registered >= immunity_period``), the lowest
    stored score, ties to the highest UID (the scan replaces on ``min_score ==
    pruning_score``). The scan starts from ``min_score = u16::MAX`` and treats a result
    still at u16::MAX as "everyone is immune": then (or when no UID is out of immunity)
    the immune UID with the lowest score below u16::MAX is chosen, ties to the lowest UID
    (strict ``>``), and UID 0 if there is none.
    """
    q = np.asarray(scores_u16, dtype=np.int64)
    reg = np.asarray(block_at_registration, dtype=np.int64)
    if len(q) == 0:
        return 0
    immune = current_block - reg < immunity_period
    free = ~immune & (q < U16_MAX)
    if free.any():
        low = q[free].min()
        return int(np.flatnonzero(~immune & (q == low))[-1])
    guarded = immune & (q < U16_MAX)
    if guarded.any():
        low = q[guarded].min()
        return int(np.flatnonzero(guarded & (q == low))[0])
    return 0


# -- bonds -------------------------------------------------------------------------------


def outdated_mask(last_update: ArrayLike, block_at_registration: ArrayLike) -> BoolArray:
    """``mask[i, j]``: validator i last set weights at or before miner j registered.

    epoch.rs ``epoch``: ``vec_mask_sparse_matrix(bonds, last_update, block_at_registration,
    |updated, registered| updated <= registered)``; in 2023 this per-pair mask, not a reset
    of the whole column, is what cleared bonds to a replaced miner. A validator that has
    set weights since the miner registered keeps its bond to that UID, even the part it
    built up on the previous occupant.
    """
    lu = np.asarray(last_update, dtype=np.int64)
    bar = np.asarray(block_at_registration, dtype=np.int64)
    return lu[:, None] <= bar[None, :]


def mask_outdated_bonds(
    bonds: NDArray[np.float64], last_update: ArrayLike, block_at_registration: ArrayLike,
    rows: ArrayLike | None = None, columns: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Zero, in place, the bonds :func:`outdated_mask` marks (within ``rows`` and
    ``columns`` if given).

    Applied to the stored bonds before a ``yuma2`` epoch run with
    ``new_registrations=None``, this is the 2023 epoch exactly: epoch.rs masks the bonds
    first, then column-normalises them, as ``world.yuma`` does with the bonds it is given.

    Two restrictions keep it cheap and change nothing:

    * ``rows``: the UIDs with a validator permit; epoch.rs stores bond rows only for new
      permits, so the other rows are zero.
    * ``columns``: a boolean mask of the miners registered since the previous epoch. A
      pair outdated now and registered before that epoch was outdated then too
      (``last_update`` never decreases), so the epoch zeroed its weight and its bond, and
      the new bond, ``colnorm(a * 0 + (1 - a) * 0)``, stayed 0: only bonds computed under
      this same rule may be restricted so.

    A leading batch axis (b subnets: bonds b x n x n, the block vectors and ``columns``
    b x n, ``rows`` b x m) is masked in one vectorised step, as ``world.yuma.epoch_batch``
    stacks subnets.
    """
    lu = np.asarray(last_update, dtype=np.int64)
    bar = np.asarray(block_at_registration, dtype=np.int64)
    n = bonds.shape[-1]
    b = bonds.shape[0] if bonds.ndim == 3 else 1
    bonds3, lu2, bar2 = bonds.reshape(b, n, n), lu.reshape(b, n), bar.reshape(b, n)
    r = (np.broadcast_to(np.arange(n), (b, n)) if rows is None
         else np.asarray(rows, dtype=np.intp).reshape(b, -1))
    lu_rows = np.take_along_axis(lu2, r, axis=1)  # b x m
    batch = np.arange(b)[:, None]
    if columns is None:
        block = bonds3[batch, r]  # b x m x n
        block[lu_rows[..., None] <= bar2[:, None, :]] = 0.0
        bonds3[batch, r] = block
        return bonds
    new = np.asarray(columns, dtype=bool).reshape(b, n)
    width = int(new.sum(axis=1).max(initial=0))
    if width == 0:
        return bonds
    # each subnet's new columns first (stable order), padded with columns masked out
    cols = np.argsort(~new, axis=1, kind="stable")[:, :width]  # b x c
    valid = np.take_along_axis(new, cols, axis=1)
    index = (batch[:, :, None], r[:, :, None], cols[:, None, :])
    block = bonds3[index]  # b x m x c
    stale = lu_rows[..., None] <= np.take_along_axis(bar2, cols, axis=1)[:, None, :]
    block[stale & valid[:, None, :]] = 0.0
    bonds3[index] = block
    return bonds


# -- stake and emission ------------------------------------------------------------------


def uid_stake(uid_hotkeys: ArrayLike, hotkey_stake: ArrayLike) -> IntArray:
    """The stake of each UID of a subnet: its hotkey's total stake on the whole network.

    uids.rs ``get_stake_for_uid_and_subnetwork`` = ``get_total_stake_for_hotkey``: in
    2023 a hotkey's stake (own plus nominators') was one number, and a validator registered
    on several subnets counted all of it on each. ``uid_hotkeys`` holds each UID's hotkey
    account (-1 for an empty UID, stake 0).
    """
    hk = np.asarray(uid_hotkeys, dtype=np.int64)
    stake = np.asarray(hotkey_stake, dtype=np.int64)
    return np.where(hk >= 0, stake[np.maximum(hk, 0)], 0).astype(np.int64)


def distribute_hotkey_emission(
    staked_to: ArrayLike,
    staked: ArrayLike,
    owner_of: ArrayLike,
    is_delegate: ArrayLike,
    server_rao: ArrayLike,
    validator_rao: ArrayLike,
    take: float = 11_796 / U16_MAX,
) -> IntArray:
    """What each staker's stake grows by when hotkeys are paid (block_step.rs
    ``emit_inflation_through_hotkey_account``), in RAO.

    Args:
        staked_to: per staker account, the hotkey (account) its stake points at, -1: none.
        staked: per staker account, its stake (RAO) on that hotkey.
        owner_of: per hotkey account, the account that owns it (its coldkey).
        is_delegate: per hotkey account, whether it is open for delegation (root
            validators always are, ``do_root_register``: take 11_796 = 18%).
        server_rao, validator_rao: per hotkey account, its miner incentive and validator
            dividends this epoch.
        take: the delegate take (``Delegates``, 11_796/65535 by default).

    All of it is added to stake, miners' incentive included. A hotkey that is not a
    delegate gets both amounts on its owner's stake. A delegate keeps
    ``floor(take * validator)``; each staker behind it (its owner included) gets
    ``floor(rest * stake_i / total)`` with the total taken before any payment
    (``calculate_stake_proportional_emission``); the owner also gets the take, the
    rounding dust and the server emission. Returns per-account increments whose sum is
    exactly ``sum(server_rao) + sum(validator_rao)``.
    """
    owner = np.asarray(owner_of, dtype=np.int64)
    delegate = np.asarray(is_delegate, dtype=bool)
    server = np.asarray(server_rao, dtype=np.int64)
    validator = np.asarray(validator_rao, dtype=np.int64)
    if np.any(server < 0):
        raise ValueError("server emission must be >= 0")
    # A non-delegate's stakers are not paid: everything goes to its owner.
    to = np.asarray(staked_to, dtype=np.int64)
    to = np.where((to >= 0) & delegate[np.maximum(to, 0)], to, -1)
    out = share_pro_rata(validator, to, staked, owner, take=np.where(delegate, take, 0.0))
    np.add.at(out, owner, server)
    return out


def deregistration_unstake(
    staked_to: ArrayLike, staked: ArrayLike, hotkey: int, registered_elsewhere: bool
) -> IntArray:
    """RAO each account gets back as free balance when ``hotkey`` loses its last UID.

    uids.rs ``replace_neuron``: if the replaced hotkey is not registered on any other
    network, ``unstake_all_coldkeys_from_hotkey_account`` (staking.rs) returns every stake
    behind it, nominators' included, to the coldkeys' balances. Zero otherwise.
    """
    to = np.asarray(staked_to, dtype=np.int64)
    stake = np.asarray(staked, dtype=np.int64)
    if registered_elsewhere:
        return np.zeros(len(to), dtype=np.int64)
    return np.where(to == hotkey, stake, 0).astype(np.int64)
