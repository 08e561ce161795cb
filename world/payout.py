"""Exact payouts of an amount per hotkey to the stakes behind it, in integer units.

Both eras pay a hotkey's dividends the same way (MODEL.md sections 4 and 9): the hotkey
keeps its take, the rest is shared pro rata over all stake behind it, its owner's
included, each share floored; the owner also gets the rounding dust, so the payout is
exact to the unit (RAO for TAO, alpha units for alpha).

Sources: subtensor@2023-12-20 ``block_step.rs`` ``emit_inflation_through_hotkey_account``
(``calculate_delegate_proportional_take``, ``calculate_stake_proportional_emission``),
subtensor@2026-06-30 ``coinbase/run_coinbase.rs`` ``distribute_dividends_and_incentives``
(take to the hotkey's owner, the rest by ``increase_stake_for_hotkey_on_subnet``, i.e.
pro rata to the hotkey's alpha shares) and ``staking/claim_root.rs`` (root dividends are
claimed by root stakers pro rata to their root stake on the hotkey).

``split_segments`` shares each subnet's pot over its rows pro rata to weights, exactly
(the output of a batched swap over the accounts that put in, the coinbase's miner,
validator and root parts over the UIDs).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from world.kernels import compiled
from world.ledger import LedgerError

__all__ = ["add_at", "share_pro_rata", "split_segments"]

IntArray = NDArray[np.int64]


def add_at(target: np.ndarray, idx: ArrayLike, values: ArrayLike) -> None:
    """``np.add.at(target, idx, values.astype(target.dtype))``: book each value on its row
    of ``target``, in place, repeated rows one after another (how the coinbase sums what
    each hotkey pays out and what each account receives).

    With numba the loop of ``world.econ_jit.add_at`` (the same additions in the same
    order; tests/test_econ_jit.py) for a float64 target of int64 or float64 values or an
    int64 target of int64 values, one dimension each, else and for the inputs it declines
    ``np.add.at`` itself (speed only), as for indices that are not integers (numpy
    refuses floats and takes booleans as a mask) and values that share memory with the
    target."""
    idx, values = np.asarray(idx), np.asarray(values)
    jit = compiled()
    if (jit is not None and target.ndim == idx.ndim == values.ndim == 1
            and idx.dtype.kind in "iu" and not np.may_share_memory(target, values)
            and target.flags.c_contiguous and target.flags.writeable
            and (target.dtype == np.float64 and values.dtype in (np.int64, np.float64)
                 or target.dtype == values.dtype == np.int64)):
        c = np.ascontiguousarray
        if jit.add_at(target, c(idx, dtype=np.int64), c(values)):
            return
    np.add.at(target, idx, values.astype(target.dtype))


def share_pro_rata(
    amount: ArrayLike,
    staked_to: ArrayLike,
    staked: ArrayLike,
    owner_of: ArrayLike,
    take: float | ArrayLike = 0.0,
) -> IntArray:
    """Per account, what it receives when each hotkey h pays out ``amount[h]`` units.

    Args:
        amount: per hotkey index h, the units to pay out (>= 0).
        staked_to: per account, the hotkey index its stake is behind (-1: none).
        staked: per account, that stake (>= 0; any unit, only ratios matter).
        owner_of: per hotkey, the account that owns it (gets the take and the dust).
        take: the hotkey's take, one rate for all or one per hotkey, in [0, 1].

    The owner keeps ``floor(take * amount)``; each account behind the hotkey gets
    ``floor(rest * stake / total)`` with the total taken before any payment; the owner
    gets the rest. The result sums to ``sum(amount)`` exactly; a hotkey with no stake
    behind it pays everything to its owner.

    With numba (``world.kernels.compiled``) the loops of ``world.econ_jit.share_pro_rata``
    compute it (the same numbers; tests/test_econ_jit.py), else and for the inputs they
    decline :func:`share_pro_rata_numpy`.
    """
    amt = np.asarray(amount, dtype=np.int64)
    to = np.asarray(staked_to, dtype=np.int64)
    stake = np.asarray(staked, dtype=np.float64)
    owner = np.asarray(owner_of, dtype=np.int64)
    rates = np.asarray(take, dtype=np.float64)
    jit = compiled()
    if jit is not None and amt.ndim == to.ndim == stake.ndim == owner.ndim == 1 and (
            rates.ndim == 0 or (rates.ndim == 1 and len(rates) in (1, len(amt)))):
        c = np.ascontiguousarray
        done, out = jit.share_pro_rata(c(amt), c(to), c(stake), c(owner), c(rates.reshape(-1)))
        if done:
            return out.view(np.int64)  # numpy's own dtype (see world.econ_jit)
    return share_pro_rata_numpy(amt, to, stake, owner, rates)


def share_pro_rata_numpy(
    amount: ArrayLike,
    staked_to: ArrayLike,
    staked: ArrayLike,
    owner_of: ArrayLike,
    take: float | ArrayLike = 0.0,
) -> IntArray:
    """:func:`share_pro_rata` in numpy (the reference of the compiled loops)."""
    amt = np.asarray(amount, dtype=np.int64)
    to = np.asarray(staked_to, dtype=np.int64)
    stake = np.asarray(staked, dtype=np.float64)
    owner = np.asarray(owner_of, dtype=np.int64)
    rates = np.asarray(take, dtype=np.float64)
    if np.any(amt < 0) or np.any(stake < 0):
        raise ValueError("amounts and stakes must be >= 0")
    if len(amt) and not np.all((rates >= 0) & (rates <= 1)):  # NaN is out of range too
        raise ValueError("take must be in [0, 1]")
    h = len(amt)
    out = np.zeros(max(len(to), int(owner.max(initial=-1)) + 1), dtype=np.int64)
    # speed only: the take of the hotkeys paying anything (floor(0 * rate) is 0)
    due = np.flatnonzero(amt != 0)
    rest = amt.copy()
    rate = rates if rates.ndim == 0 else np.broadcast_to(rates, amt.shape)[due]
    rest[due] -= np.floor(amt[due] * rate).astype(np.int64)
    payers = np.flatnonzero((to >= 0) & (stake > 0))
    hot = to[payers]
    total = np.bincount(hot, weights=stake[payers], minlength=h)
    pay = np.floor(rest[hot] * (stake[payers] / total[hot])).astype(np.int64)
    paid = np.bincount(hot, weights=pay, minlength=h).astype(np.int64)
    while np.any(paid > rest):  # a float floor one unit over: take it back from the largest
        for hk in np.flatnonzero(paid > rest):
            mine = np.flatnonzero(hot == hk)
            pay[mine[np.argmax(pay[mine])]] -= paid[hk] - rest[hk]
        paid = np.bincount(hot, weights=pay, minlength=h).astype(np.int64)
    out[payers] = pay  # payers are distinct (np.flatnonzero)
    dust = amt - paid
    owed = np.flatnonzero(dust != 0)
    np.add.at(out, owner[owed], dust[owed])
    return out


def split_segments(
    pots: np.ndarray, seg: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Share ``pots[s]`` (integer units) over the rows of segment s pro rata to ``weights``.

    Each row gets ``floor(pot * w / sum w)`` (with a relative margin of 2^-40 so float
    rounding never pays more than the pot), the row of largest weight in its segment gets
    what the floors leave. Returns (per row its units, per segment what nobody could take:
    the pot of a segment without weight). Exact: rows plus leftovers sum to the pots.

    With numba (``world.kernels.compiled``) the loops of ``world.econ_jit.split_segments``
    compute it, else and for the inputs they decline :func:`split_segments_numpy`
    (tests/test_split_segments.py checks both equal to the reference form).
    """
    pots = np.asarray(pots, dtype=np.int64)
    seg = np.asarray(seg, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    jit = compiled()
    if jit is not None and pots.ndim == seg.ndim == w.ndim == 1 and len(seg) == len(w):
        c = np.ascontiguousarray
        done, pay, left = jit.split_segments(c(pots), c(seg), c(w))
        if done:  # viewed as numpy's own dtype (see world.econ_jit)
            return pay.view(np.int64), left.view(np.int64)
    return split_segments_numpy(pots, seg, w)


def split_segments_numpy(
    pots: np.ndarray, seg: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`split_segments` in numpy.

    Speed form (tests/test_split_segments.py checks it equal to the reference form of
    ``np.add.at``, ``np.maximum.at`` and ``np.unique``): rows of weight 0 are set aside
    (they add 0.0 to a sum, are paid ``floor(0) = 0`` and are never the only largest
    weight of a segment with weight), the others grouped by segment (a stable sort unless
    ``seg`` is ascending) and reduced over each segment's run. The float sums
    (``np.bincount``) keep the rows' order.
    """
    pots = np.asarray(pots, dtype=np.int64)
    seg = np.asarray(seg, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    k = len(pots)
    rows = np.flatnonzero(w != 0)  # (a boolean mask: the faster np.nonzero)
    every = len(rows) == len(w)
    s, wr = (seg, w) if every else (seg[rows], w[rows])
    wsum = np.bincount(s, weights=wr, minlength=k)
    den = wsum[s]
    frac = np.divide(wr, den, out=np.zeros_like(wr), where=den > 0)
    part = pots.astype(np.float64)[s]  # each pot as float, as ``pots[seg] * frac`` converts it
    part *= frac
    part *= 1.0 - 2.0**-40
    part = np.floor(part, out=part).astype(np.int64)
    paid = np.zeros(k, dtype=np.int64)
    wmax = np.full(k, -np.inf)
    cand = rows[:0]
    if len(rows):
        order = None if bool((s[1:] >= s[:-1]).all()) else np.argsort(s, kind="stable")
        if order is not None:
            s, part_s, wr, den = s[order], part[order], wr[order], den[order]
        else:
            part_s = part
        bounds = np.searchsorted(s, np.arange(k + 1))  # s ascending, each in [0, k)
        has = np.flatnonzero(np.diff(bounds))
        starts = bounds[has]
        paid[has] = np.add.reduceat(part_s, starts)  # integers: exact in any order
        wmax[has] = np.maximum.reduceat(wr, starts)
        # the row of largest weight per segment (the first such row): the first candidate
        # of each segment's run (rows keep their order within a run)
        cand = np.flatnonzero((wr == wmax[s]) & (den > 0))
        c_seg = s[cand]
        first = np.empty(len(cand), dtype=bool)
        first[:1] = True
        np.not_equal(c_seg[1:], c_seg[:-1], out=first[1:])
        cand = cand[first] if order is None else order[cand[first]]
    rest = pots - paid
    if np.any(rest < 0):  # cannot happen with the margin; a guard for the exactness claim
        raise LedgerError(f"split_segments paid more than the pot: {rest[rest < 0][:5]}")
    if every:
        pay, top = part, cand
    else:
        pay = np.zeros(len(w), dtype=np.int64)
        pay[rows] = part
        top = rows[cand]
    pay[top] += rest[seg[top]]
    left = rest.copy()
    left[seg[top]] = 0
    return pay, left
