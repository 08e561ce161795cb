"""The economy of dynamic TAO (2025-2026), as pure functions over arrays of subnets.

MODEL.md section 9 ("Today"). Source: opentensor/subtensor at the commit of 2026-06-30
(14bc6f9f), ``pallets/subtensor/src``: ``coinbase/subnet_emissions.rs`` (how the TAO
emission is split across subnets), ``coinbase/run_coinbase.rs`` (``get_subnet_terms``,
``inject_and_maybe_swap``, ``emit_to_subnets``, ``calculate_dividend_distribution``,
``distribute_dividends_and_incentives``), ``coinbase/block_step.rs``
(``root_proportion``), ``coinbase/block_emission.rs`` (the halving curve, also used for
each subnet's alpha), ``staking/stake_utils.rs`` (``update_moving_price``,
``get_stake_weights_for_network``), ``subnets/registration.rs`` (the neuron burn price),
``coinbase/root.rs`` (``get_network_lock_cost``, ``get_network_to_prune``), ``utils/misc.rs``
(``decay_factor_q32``).

Values are float64 in TAO and alpha except where units move between holders: there the
functions take and return integer units (RAO, alpha units) and are exact.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike, NDArray

from world.emission import block_emissions
from world.pool import ExactPool

__all__ = [
    "dissolve_payout",
    "dividend_distribution",
    "dividend_parts",
    "emission_shares_flow",
    "emission_shares_price",
    "flow_ema",
    "inject_and_maybe_swap",
    "lock_cost",
    "moving_price",
    "neuron_burn_after_blocks",
    "neuron_burn_after_registration",
    "neuron_to_prune",
    "owner_incentive_burn",
    "root_proportion",
    "split_alpha_out",
    "stake_weight",
    "subnet_alpha_emission",
    "subnet_terms",
    "subnet_to_dissolve",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

MOVING_ALPHA = 0.000003  # lib.rs DefaultMovingAlpha
EMA_PRICE_HALVING_BLOCKS = 201_600  # runtime InitialEmaPriceHalvingPeriod (4 weeks)
FLOW_SMOOTHING = 29_597_889_189_277 / (2**63 - 1)  # lib.rs DefaultFlowEmaSmoothingFactor
OWNER_CUT = 11_796 / 65_535  # runtime SubtensorInitialSubnetOwnerCut (18%)


def _f(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


# -- TAO emission across subnets ---------------------------------------------------------


def moving_price(
    moving: ArrayLike, price: ArrayLike, blocks_since_start: ArrayLike, blocks: int = 1,
    *, moving_alpha: float = MOVING_ALPHA, halving_blocks: float = EMA_PRICE_HALVING_BLOCKS,
) -> FloatArray:
    """Each subnet's moving price after ``blocks`` blocks at a constant spot ``price``.

    stake_utils.rs ``update_moving_price``, once per block: with b the blocks since the
    subnet's start call, ``a = moving_alpha * b / (b + halving_blocks)`` and
    ``moving = a * min(price, 1) + (1 - a) * moving``. ``blocks_since_start`` is b at the
    first of the blocks. With the spot price constant over the blocks the steps compose
    to ``target + (moving - target) * prod_k (1 - a_k)``, computed for every subnet and
    block at once (equal to the block-by-block loop within rounding, tested), once for
    each distinct b (speed only: subnets started together share the product; when every
    subnet shares one b, without ``np.unique``).
    """
    m = _f(moving)
    target = np.minimum(_f(price), 1.0)
    if blocks <= 0:
        return m.copy()
    since = _f(blocks_since_start)
    flat = since.ravel()
    if len(flat) and flat.min() == flat.max():  # one b (never NaN); -0.0 + 0.0 is 0.0
        first, inverse = flat[:1], np.zeros(len(flat), dtype=np.intp)
    else:
        first, inverse = np.unique(flat, return_inverse=True)
    bk = first[:, None] + np.arange(blocks, dtype=np.float64)
    keep = np.prod(1.0 - moving_alpha * bk / (bk + halving_blocks), axis=-1)
    return target + (m - target) * keep[inverse].reshape(since.shape)


def emission_shares_price(
    moving_prices: ArrayLike, miner_burned: ArrayLike | None = None
) -> FloatArray:
    """Each subnet's share of the TAO emission (subnet_emissions.rs ``get_shares``).

    ``get_shares_price_ema``: ``p_i / sum p`` over the moving prices (all 0 if the sum is
    0); then weighted by ``1 - min(miner_burned_i, 1)`` (the share of its miner emission
    the owner withheld last tempo) and renormalised, falling back to the price shares when
    every weight is 0.
    """
    p = _f(moving_prices)
    total = p.sum()
    shares = p / total if total > 0 else np.zeros_like(p)
    if miner_burned is None:
        return shares
    weighted = shares * (1.0 - np.minimum(_f(miner_burned), 1.0))
    wsum = weighted.sum()
    return weighted / wsum if wsum > 0 else shares


def flow_ema(
    ema: ArrayLike, net_flow: ArrayLike, blocks: int = 1, smoothing: float = FLOW_SMOOTHING
) -> FloatArray:
    """Each subnet's EMA of net TAO inflow after ``blocks`` blocks (subnet_emissions.rs
    ``get_ema_flow``: ``ema = (1 - a) ema + a flow`` per block, the block's flow then
    reset; ``a`` = FlowEmaSmoothingFactor / i64::MAX, a one-month half-life).

    ``net_flow`` (stake in minus stake out, TAO) is booked in the first block, none after.
    """
    a = smoothing
    first = (1.0 - a) * _f(ema) + a * _f(net_flow)
    return first * (1.0 - a) ** max(blocks - 1, 0)


def emission_shares_flow(
    ema_flows: ArrayLike, cutoff: float = 0.0, exponent: float = 1.0
) -> FloatArray:
    """Shares by net TAO inflow (subnet_emissions.rs ``get_shares_flow``, the rule from
    late 2025 to June 2026).

    ``get_lower_limit``: ``L = max(cutoff, min(min_i S_i, 0))``; ``z_i = max(S_i - L, 0)``;
    ``inplace_pow_normalize``: shares ``z^p / sum z^p`` (all 0 if every z is 0). With the
    default cutoff 0, flows are floored at zero.
    """
    s = _f(ema_flows)
    low = max(cutoff, min(float(s.min(initial=0.0)), 0.0))
    z = np.maximum(s - low, 0.0)
    top = z.max(initial=0.0)
    if top <= 0:
        return np.zeros_like(z)
    zp = (z / top) ** exponent  # pre-scaled to max 1 (inplace_scale) against overflow
    return zp / zp.sum()


# -- alpha issuance and injection --------------------------------------------------------


def subnet_alpha_emission(alpha_issuance: ArrayLike, base: float = 1.0) -> FloatArray:
    """Alpha issued per block by each subnet: 1 alpha at first, halving as its own alpha
    issuance (pool plus outstanding) crosses 10.5M, 15.75M, ... (run_coinbase.rs
    ``get_subnet_terms``: ``get_block_emission_for_issuance(get_alpha_issuance)``, the
    curve of block_emission.rs, as ``world.emission.block_emission``)."""
    return block_emissions(np.atleast_1d(_f(alpha_issuance)), base)


def root_proportion(alpha_issuance: ArrayLike, root_tao: float, tao_weight: float) -> FloatArray:
    """``w TAO_root / (w TAO_root + alpha_issuance)`` per subnet (block_step.rs
    ``root_proportion``; 0 when both are 0)."""
    wr = tao_weight * root_tao
    den = wr + _f(alpha_issuance)
    return np.divide(wr, den, out=np.zeros_like(den), where=den > 0)


def stake_weight(alpha_stake: ArrayLike, root_stake: ArrayLike, tao_weight: float) -> FloatArray:
    """A hotkey's stake in a subnet's Yuma: ``alpha + tao_weight * root TAO``
    (stake_utils.rs ``get_stake_weights_for_network``)."""
    return _f(alpha_stake) + tao_weight * _f(root_stake)


def subnet_terms(
    tao_emission: ArrayLike, price: ArrayLike, alpha_emission: ArrayLike,
    root_prop: ArrayLike, *, cap: str = "root_proportion", tao_block_emission: float = 0.0,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per subnet and block: (tao_in, alpha_in, alpha_out, excess_tao).

    run_coinbase.rs ``get_subnet_terms``: ``alpha_in = tao_emission / price`` (0 at price
    0), capped at ``root_prop * alpha_emission`` (``cap="root_proportion"``, since commit
    c3841130c of 2026-06-22) or at ``min(alpha_emission, tao_block_emission)``
    (``cap="alpha_emission"``, before it); when capped, ``tao_in = alpha_in * price`` and
    the rest of the subnet's TAO, ``excess_tao``, buys alpha for the protocol
    (:func:`inject_and_maybe_swap`). ``alpha_out = alpha_emission`` is issued outside the
    pool (:func:`split_alpha_out`).
    """
    tao = _f(tao_emission)
    p = _f(price)
    alpha_out = np.broadcast_to(_f(alpha_emission), tao.shape).astype(np.float64)
    alpha_in = np.divide(tao, p, out=np.zeros_like(tao), where=p > 0)
    if cap == "root_proportion":
        limit = _f(root_prop) * alpha_out
    elif cap == "alpha_emission":
        limit = np.minimum(alpha_out, tao_block_emission)
    else:
        raise ValueError(f"cap must be 'root_proportion' or 'alpha_emission', got {cap!r}")
    capped = alpha_in > limit
    alpha_in = np.where(capped, limit, alpha_in)
    tao_in = np.where(capped, alpha_in * p, tao)
    return tao_in, alpha_in, alpha_out, tao - tao_in


def inject_and_maybe_swap(pool: ExactPool, tao_in_rao: int, excess_rao: int) -> tuple[int, int]:
    """Put one subnet's emitted TAO into its pool; returns (alpha issued, alpha bought).

    run_coinbase.rs ``inject_and_maybe_swap``: ``tao_in`` and its alpha at the current
    price go into the reserves (``adjust_protocol_liquidity``: the chain re-weights its
    Balancer pool so the injection does not move the price; this pool stays 50/50 and
    injects at the price, :meth:`ExactPool.inject`); the excess TAO buys alpha from the
    pool without fee (``swap_tao_for_alpha(.., drop_fees=true)``), held by the protocol
    (``SubnetProtocolAlpha``). A buy larger than the TAO reserve is made in parts, which
    without fee gives the same alpha as one buy (constant product is path-independent).
    """
    issued = pool.inject(tao_in_rao)
    bought, left = 0, int(excess_rao)
    while left > 0:
        part = min(left, pool.tao_rao)
        bought += pool.buy_alpha(part, drop_fee=True)
        left -= part
    return issued, bought


def split_alpha_out(
    alpha_out_units: ArrayLike, root_prop: ArrayLike, *, owner_cut: float = OWNER_CUT,
    root_sell: bool = True,
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
    """Split each subnet's alpha issued outside the pool, in alpha units.

    run_coinbase.rs ``emit_to_subnets``: the owner's cut first; of the rest, half to miners
    (``pending_server_alpha``) and half to validators, of which the root proportion
    ``root_prop * rest / 2`` is the root stakers' (``PendingRootAlphaDivs``). If the
    network does not root-sell (``get_network_root_sell_flag``: the subnets' moving prices
    sum to at most 1) the root alpha is recycled instead.

    Returns (owner, miners, validators, root, recycled), each floored as the chain's
    ``tou64!`` except the validators' part, which takes the dust so that the five sum to
    ``alpha_out_units`` exactly.
    """
    total = np.asarray(alpha_out_units, dtype=np.int64)
    owner = np.floor(total * owner_cut).astype(np.int64)
    rest = total - owner
    root = np.floor(_f(root_prop) * rest * 0.5).astype(np.int64)
    miners = np.floor(rest * 0.5).astype(np.int64)
    validators = rest - miners - root
    recycled = np.zeros_like(root)
    if not root_sell:
        recycled, root = root, np.zeros_like(root)
    return owner, miners, validators, root, recycled


# -- paying a subnet's epoch -------------------------------------------------------------


def dividend_parts(
    dividends: ArrayLike, alpha_stake: ArrayLike, root_stake: ArrayLike, tao_weight: float,
) -> tuple[FloatArray, FloatArray]:
    """Each hotkey's Yuma dividend split into (alpha part, root part): the root part is
    ``d_i * w r_i / (a_i + w r_i)`` (run_coinbase.rs ``calculate_dividend_distribution``;
    0 where a hotkey has no stake). Elementwise, so any number of subnets at once."""
    d = _f(dividends)
    root_alpha = tao_weight * _f(root_stake)
    total = _f(alpha_stake) + root_alpha
    prop = np.divide(root_alpha, total, out=np.zeros_like(total), where=total > 0)
    root_divs = d * prop
    return d - root_divs, root_divs


def dividend_distribution(
    dividends: ArrayLike, alpha_stake: ArrayLike, root_stake: ArrayLike, tao_weight: float,
    pending_alpha: float, pending_root_alpha: float,
) -> tuple[FloatArray, FloatArray]:
    """Each hotkey's (alpha dividends, root alpha dividends) for one subnet's epoch.

    run_coinbase.rs ``calculate_dividend_distribution``: a hotkey's Yuma dividend ``d_i``
    splits into a root part ``d_i * w r_i / (a_i + w r_i)`` and an alpha part; the
    validators' pending alpha is shared by the alpha parts and the pending root alpha by
    the root parts, each pro rata (0 where a sum is 0). The root alpha then goes to the
    hotkey's root stakers (``claim_root.rs``), the alpha to its alpha stakers, after take
    (:func:`world.payout.share_pro_rata`).
    """
    alpha_divs, root_divs = dividend_parts(dividends, alpha_stake, root_stake, tao_weight)
    d = _f(dividends)
    rsum, asum = root_divs.sum(), alpha_divs.sum()
    alpha_pay = alpha_divs / asum * pending_alpha if asum > 0 else np.zeros_like(d)
    root_pay = root_divs / rsum * pending_root_alpha if rsum > 0 else np.zeros_like(d)
    return alpha_pay, root_pay


def owner_incentive_burn(
    incentive_units: ArrayLike, is_owner_hotkey: ArrayLike
) -> tuple[IntArray, int, float]:
    """Miner incentive paid to the subnet owner's hotkeys is burned, not paid.

    run_coinbase.rs ``distribute_dividends_and_incentives``: incentive to an owner (immune)
    hotkey is burned (or recycled) and the withheld share ``burned / total`` is stored as
    ``MinerBurned``, which :func:`emission_shares_price` uses next. Returns (paid per UID,
    units burned, that share).
    """
    inc = np.asarray(incentive_units, dtype=np.int64)
    own = np.asarray(is_owner_hotkey, dtype=bool)
    burned = int(inc[own].sum())
    total = int(inc.sum())
    return np.where(own, 0, inc), burned, burned / total if total > 0 else 0.0


# -- registration and subnets ------------------------------------------------------------


@functools.cache
def _decay_q32(half_life: int) -> int:
    """utils/misc.rs ``decay_factor_q32``: the largest Q32 factor f with f^half_life <= 1/2
    (binary search with ``pow_q32``, products floored as ``mul_by_q32``)."""
    def pow_q32(base: int, exp: int) -> int:
        result, factor = 1 << 32, base
        while exp:
            if exp & 1:
                result = (result * factor) >> 32
            exp >>= 1
            factor = (factor * factor) >> 32
        return result

    lo, hi = 0, 1 << 32
    while lo + 1 < hi:
        mid = (lo + hi) >> 1
        if pow_q32(mid, half_life) > 1 << 31:
            hi = mid
        else:
            lo = mid
    return lo


def neuron_burn_after_blocks(
    burn_rao: ArrayLike, blocks: int, min_burn_rao: int, max_burn_rao: int, half_life: int = 360
) -> IntArray:
    """The neuron registration burn after ``blocks`` blocks without registrations.

    subnets/registration.rs ``update_registration_prices_for_networks``: each block the
    burn is multiplied by the Q32 factor f with ``f^half_life = 1/2`` (floored,
    ``mul_by_q32``) and clamped to ``[min_burn, max_burn]``. Computed as
    ``burn * f^blocks`` in one step, which differs from the per-block floors by less than
    ``blocks`` RAO.
    """
    b = np.minimum(np.asarray(burn_rao, dtype=np.float64), max_burn_rao)
    f = _decay_q32(half_life) / 2.0**32 if half_life > 0 else 1.0
    out = np.floor(b * f**blocks)
    return np.clip(out, min_burn_rao, max_burn_rao).astype(np.int64)


def neuron_burn_after_registration(
    burn_rao: ArrayLike, min_burn_rao: int, max_burn_rao: int, mult: float = 1.26
) -> IntArray:
    """The burn after one registration: times ``max(mult, 1)`` (1.26 by default), floored
    and clamped (subnets/registration.rs ``bump_registration_price_after_registration``)."""
    b = np.floor(np.asarray(burn_rao, dtype=np.float64) * max(mult, 1.0))
    return np.clip(b, min_burn_rao, max_burn_rao).astype(np.int64)


def neuron_to_prune(
    emission: ArrayLike, block_at_registration: ArrayLike, current_block: int,
    immunity_period: int, owner_hotkey: ArrayLike | None = None, min_non_immune: int = 10,
) -> int | None:
    """The UID a registration on a full subnet replaces (subnets/registration.rs
    ``get_neuron_to_prune``).

    The owner's hotkeys are never pruned. Among the rest, the lowest emission, ties to the
    earliest registration, then the lowest UID; a non-immune UID
    (``current - registered >= immunity_period``, utils/misc.rs ``get_neuron_is_immune``)
    if more than ``min_non_immune`` of them exist (``MinNonImmuneUids``, 10), else the
    best immune one; ``None`` when that choice has no candidate (every UID the owner's,
    or too few non-immune UIDs and no immune one).
    """
    e = _f(emission)
    reg = np.asarray(block_at_registration, dtype=np.int64)
    n = len(e)
    own = np.zeros(n, dtype=bool) if owner_hotkey is None else np.asarray(owner_hotkey, bool)
    immune = current_block - reg < immunity_period
    free = ~own & ~immune
    pool = free if free.sum() > min_non_immune else ~own & immune
    if not pool.any():
        return None
    uids = np.flatnonzero(pool)
    order = np.lexsort((uids, reg[uids], e[uids]))
    return int(uids[order[0]])


def lock_cost(
    last_lock_rao: int, min_lock_rao: int, last_lock_block: int, current_block: int,
    reduction_interval: int = 14 * 7_200,
) -> int:
    """The TAO locked to register a subnet (coinbase/root.rs ``get_network_lock_cost``,
    the same in 2023's root.rs): ``2 last_lock - (last_lock / interval) * blocks since``
    (``mult`` 1 before any registration), at least ``min_lock``. It doubles after each
    registration and decays linearly back over the reduction interval (14 days at the
    runtime's start; an interval of 0 decays nothing, as ``safe_div`` returns 0)."""
    mult = 1 if last_lock_block == 0 else 2
    per_block = last_lock_rao // reduction_interval if reduction_interval > 0 else 0
    cost = last_lock_rao * mult - per_block * max(current_block - last_lock_block, 0)
    return max(cost, min_lock_rao, 0)


def subnet_to_dissolve(
    moving_prices: ArrayLike, registered_at: ArrayLike, current_block: int, immunity_period: int
) -> int | None:
    """At the subnet limit, the subnet a registration dissolves (coinbase/root.rs
    ``get_network_to_prune``): among subnets out of immunity, the lowest moving price,
    ties to the earliest registration (then the lowest index). ``None`` if all are
    immune."""
    p = _f(moving_prices)
    reg = np.asarray(registered_at, dtype=np.int64)
    free = np.flatnonzero(current_block >= reg + immunity_period)
    if len(free) == 0:
        return None
    order = np.lexsort((free, reg[free], p[free]))
    return int(free[order[0]])


def dissolve_payout(pot_rao: int, alpha_value: ArrayLike) -> list[int]:
    """The TAO of a dissolved subnet's pool, paid to its alpha holders (RAO per holder).

    staking/remove_stake.rs ``destroy_alpha_in_out_stakes`` step 6: pro rata to each
    holder's alpha value, floored, then the leftover RAO one each to the largest
    remainders (ties in holder order): exact, nothing created or lost. Python integers,
    since ``pot * alpha`` overflows 64 bits.
    """
    values = [int(v) for v in np.asarray(alpha_value, dtype=np.int64)]
    if pot_rao < 0 or any(v < 0 for v in values):
        raise ValueError("pot_rao and alpha_value must be >= 0")
    total = sum(values)
    if pot_rao == 0 or total == 0:
        return [0] * len(values)
    shares = [pot_rao * v // total for v in values]
    rems = [pot_rao * v % total for v in values]
    for i in sorted(range(len(values)), key=lambda i: -rems[i])[: pot_rao - sum(shares)]:
        shares[i] += 1
    return shares
