"""Yuma Consensus compiled with numba: the numbers of world/yuma.py, about 2.3 times faster.

:mod:`world.yuma` is the reference (MODEL.md section 3; subtensor's
``pallets/subtensor/src/epoch/run_epoch.rs`` and ``epoch/math.rs``). This module computes the
same epoch in loops that numba compiles; :func:`world.yuma.epoch` and
:func:`world.yuma.epoch_batch` call :func:`run` when numba is importable
(``TAO_ARENA_YUMA=numpy`` forces the reference). Each step cites its MODEL.md section 3
step and the subtensor function it mirrors, as :mod:`world.yuma` does.

Where the time goes instead: no numpy call per step (the numpy kernel makes about 220 calls
of 1-10 us), the work restricted to the rows of validators with a permit now or next epoch,
and the stake-weighted median (step 5) found per column without sorting: a binary search
over 31 values placed around the column's weighted mean brackets it (5 vectorised passes),
and a weighted quickselect finishes inside the bracket, typically a few weights. Clipping,
rank, trust and the new bonds of a row are computed while the row is in cache; the new
bonds overwrite the weight block and are stored (into ``out``, possibly the input bonds,
updated in place) only once the subnet can no longer be handed to numpy. With
``permitted_bonds`` the bond rows of UIDs without a permit, zero on chain, are not read.

How it stays equal to the reference (every output within 1e-12, most bit for bit):

* Sums whose rounding can move a discontinuity (the normalisations of S, A and the weight
  rows, which decide the median and the liquid-alpha buy/sell switch) use
  :func:`_pairwise_sum`, numpy's own pairwise summation, bit for bit.
* When the stake below or up to the median lies within 1e-11 (relative) of the threshold
  ``(1 - kappa) sum(A)``, rounding decides the crossing, and the column is recomputed the
  way :func:`world.yuma_math._weighted_median_cols` does it (:func:`_median_exact`).
* Inputs the reference treats specially (negative, NaN or infinite entries, sums that
  overflow, normalising sums at or below 1e-300, where the reference divides instead of
  multiplying by the reciprocal) make the kernel decline that subnet, and the numpy code
  computes it, raising or returning exactly what it always did.
* A batch is the single epoch repeated (a declined subnet too), so ``epoch_batch`` equals a
  loop of ``epoch`` bit for bit (numpy's batch pads subnets to a common row count, which can
  move the last bit of a sum; its results agree with these to 1e-12).

Compilation: the first call in a process without a cache compiles for 6-7.5 s of CPU;
``cache=True`` stores the machine code next to this file (``__pycache__``), and later
processes load it in about 0.3 s. Three numba behaviours shaped the code: each compiled
helper a function calls is optimised again inside it (so the epoch's body is one function,
:func:`_batch`), an array-to-array slice assignment costs over a second of compilation
(explicit loops instead), and an argument that is a literal integer makes numba compile a
separate copy of the callee for ``Literal[int]`` (``np.int64(0)`` instead). Recursive
functions segfault when loaded from numba 0.68's cache, so :func:`_pairwise_sum` walks its
tree with an explicit stack.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np

from world.yuma import YumaParams, YumaResult, _Inputs, _run
from world.yuma_jit_median import (
    _normalise_in_place,
    _pairwise_sum,
    _weighted_median_cols,
)

__all__ = ["run"]

# The order of the float outputs in the kernel's 9 x b x n block.
_FLOAT_FIELDS = ("consensus", "incentive", "dividends", "validator_trust",
                 "miner_emission_share", "validator_emission_share", "rank", "stake",
                 "active_stake")

_TINY = 1e-300  # as world.yuma._TINY: below it the reference divides instead


# ---------------------------------------------------------------------------------------------
# One subnet, steps 1-10
# ---------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _dot(x, y):
    """``sum(x * y)`` in 8 interleaved partial sums (one chain of dependent additions would
    cost 4 cycles a term). Step 9's ``matmul_transpose_sparse`` / ``mat_vec_mul_sparse``."""
    n = x.shape[0]
    r0 = r1 = r2 = r3 = r4 = r5 = r6 = r7 = 0.0
    stop = n - n % 8
    for i in range(0, stop, 8):
        r0 += x[i] * y[i]
        r1 += x[i + 1] * y[i + 1]
        r2 += x[i + 2] * y[i + 2]
        r3 += x[i + 3] * y[i + 3]
        r4 += x[i + 4] * y[i + 4]
        r5 += x[i + 5] * y[i + 5]
        r6 += x[i + 6] * y[i + 6]
        r7 += x[i + 7] * y[i + 7]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(stop, n):
        res += x[i] * y[i]
    return res


@numba.njit(cache=True)
def _not_clean(x):
    """True if ``x`` holds a negative, NaN or infinite entry (inputs of MODEL.md section 3 are
    finite, non-negative amounts; the reference raises or copes, :func:`run` lets it)."""
    count = 0  # an integer count vectorises, a boolean or does not
    for i in range(x.shape[0]):
        v = x[i]
        count += (not v >= 0.0) + (v == np.inf)
    return count > 0


@numba.njit(cache=True)
def _liquid_bond(wb, b0, c, alpha_low, alpha_high, steepness):
    """Step 9, Yuma 3 with liquid alpha, one bond: ``compute_liquid_alpha_values_sparse``,
    ``alpha_sigmoid`` and ``mat_ema_alpha_sparse`` (see world.yuma_math._liquid_alpha_bonds)."""
    distance = min(max(wb - c if wb >= b0 else b0 - wb, 0.0), 1.0)  # buy or sell
    sigmoid = 1.0 / (1.0 + math.exp(-steepness * (distance - 0.5)))
    alpha = min(max(alpha_low + (alpha_high - alpha_low) * sigmoid, alpha_low), alpha_high)
    ema = min((1.0 - alpha) * b0 + alpha * wb, 1.0)
    return ema if wb > 0.0 else 0.0


@numba.njit(cache=True)
def _keep_top_k(stake, k, keep):
    """Step 2 when more than k UIDs have stake: keep only the top k (``is_topk_nonzero``).

    The chain sorts stably in ascending order and drops the lowest n - k, so among UIDs tied
    at the k-th largest stake the higher UIDs stay. The k-th largest value is found by a
    binary search over the bit patterns of the (non-negative) stakes, whose integer order is
    their order as floats; each step is one vectorised count.
    """
    bits = stake.view(np.int64)
    low, high = 1, 1  # count(bits >= low) >= k > count(bits >= high)
    for i in range(bits.shape[0]):
        high = max(high, bits[i] + 1)
    while high - low > 1:
        middle = low + (high - low) // 2
        count = 0
        for i in range(bits.shape[0]):
            count += bits[i] >= middle
        if count >= k:
            low = middle
        else:
            high = middle
    ties = k
    for i in range(bits.shape[0]):
        ties -= bits[i] > low
    for i in range(bits.shape[0] - 1, -1, -1):
        if bits[i] == low and ties > 0:
            ties -= 1
        else:
            keep[i] = bits[i] > low
    return keep


@numba.njit(cache=True)
def _stake_stage(s, permits, active, has_permits, has_active, max_validators,
                 stake_threshold, stake, new_permits, active_stake, permit, owner):
    """Steps 1-3 (``filtered_stake`` and ``inplace_normalize_64``; ``is_topk_nonzero``;
    ``inplace_mask_vector`` and ``inplace_normalize``); the owner's UID (``owner``, -1:
    none) exempt from the threshold and permitted now and next epoch (subtensor@2026-06-30
    ``epoch_mechanism``). Returns False for stake the reference must handle (negative,
    NaN, infinite, or summing to infinity)."""
    n = s.shape[0]
    if _not_clean(s):
        return False
    for i in range(n):  # step 1: S
        stake[i] = 0.0 if s[i] < stake_threshold and i != owner else s[i]
    if not _normalise_in_place(stake) < np.inf:
        return False
    nonzero = 0  # step 2: top-k by S among non-zero; a stable sort puts ties to the higher UID
    for i in range(n):
        nonzero += stake[i] > 0.0
    for i in range(n):
        new_permits[i] = stake[i] > 0.0
    if max_validators < nonzero:
        _keep_top_k(stake, max_validators, new_permits)
    if owner >= 0:
        new_permits[owner] = True
    for i in range(n):  # step 3: A = S * active * P, renormalised
        permit[i] = (permits[i] if has_permits else stake[i] > 0.0) or i == owner
        voting = permit[i] and (active[i] if has_active else True)
        active_stake[i] = stake[i] if voting else 0.0
    _normalise_in_place(active_stake)
    return True


@numba.njit(cache=True)
def _weight_rows(w, rows, m, permit, last_update, registered_at, has_blocks, wn, owner):
    """Step 4 on the working rows into ``wn`` (m x n): ``mask_rows_sparse``,
    ``mask_diag_sparse`` (except the owner's UID ``owner``), ``vec_mask_sparse_matrix``
    (``last_update[i] <= block_at_registration[j]``), ``inplace_row_normalize_sparse``
    (x * (1 / sum), as the reference). Returns False for weights the reference must handle."""
    n = w.shape[1]
    for r in range(m):
        u = rows[r]
        diag = u if u != owner else -1  # the owner keeps its self-weight
        source, row = w[u], wn[r]
        bad = 0  # an integer count vectorises, a boolean or does not
        if not permit[u]:
            for j in range(n):  # NaN * 0 in the reference
                bad += not abs(source[j]) < np.inf
                row[j] = 0.0
            if bad:
                return False
            continue
        if has_blocks:
            updated = last_update[u]
            for j in range(n):
                v = 0.0 if (j == diag) | (updated <= registered_at[j]) else source[j]
                row[j] = v
                bad += (not v >= 0.0) + (v == np.inf)
        else:
            for j in range(n):
                v = 0.0 if j == diag else source[j]
                row[j] = v
                bad += (not v >= 0.0) + (v == np.inf)
        if bad:
            return False
        total = _pairwise_sum(row, n)
        if not total < np.inf or 0.0 < total <= _TINY:
            return False  # overflow, or a sum the reference divides by
        if total > 0.0:
            inverse = 1.0 / total
            for j in range(n):
                row[j] *= inverse
    return True


@numba.njit(cache=True)
def _store_row(out, row, kept):
    """``out[:] = row`` if ``kept`` else zeros: a row of the stored bonds (``Bonds::insert``
    for UIDs with a new permit, run_epoch.rs; MODEL.md section 3 step 9)."""
    if kept:
        for j in range(out.shape[0]):
            out[j] = row[j]
    else:
        for j in range(out.shape[0]):
            out[j] = 0.0


@numba.njit(cache=True)
def _batch(
    weights, stakes, bonds_in, permits_in, active_in, registered_in, last_update_in,
    registered_at_in, has_permits, has_active, has_registered, has_blocks,
    yuma3, kappa, beta, rate, liquid, alpha_low, alpha_high, steepness, max_validators,
    stake_threshold, permitted_bonds, fill_rest, in_place, floats, bonds_all, permits_out,
    owners, start,
):
    """MODEL.md section 3 steps 1-10 for b independent subnets, each in the order of
    ``epoch`` (run_epoch.rs).

    ``floats`` (9 x b x n) receives consensus, incentive, dividends, trust, miner share, validator
    share, rank, stake and active stake; ``bonds_all`` the new bonds; ``permits_out`` the new
    permits; ``owners`` each subnet's owner UID (-1: none). Bond rows outside the working rows: with
    ``permitted_bonds`` the caller promises the rows of UIDs without a permit are zero and they are
    not read; ``fill_rest`` writes zeros into them (``bonds_all`` is not known to hold zeros there);
    ``in_place`` (``bonds_all`` is ``bonds_in``) zeroes those that were read non-zero. The new bond
    rows are built in the working block and stored only once the subnet cannot be declined, so an
    input updated in place is intact when the numpy reference takes a subnet over.
    Starts at subnet ``start``. Returns -1, or the index of the first subnet whose inputs the
    numpy reference must handle (its outputs are then incomplete, later ones not computed).
    One function on purpose: each separately compiled numba function a caller uses is
    optimised again inside the caller, which doubles the compilation time.
    """
    b, n = stakes.shape
    block = np.empty((0, n))  # the working rows' weights, then their new bonds (grown)
    permit = np.empty(n, dtype=np.bool_)
    rows = np.empty(n, dtype=np.int64)
    working = np.empty(n, dtype=np.bool_)
    nonzero_rest = np.empty(n, dtype=np.bool_)
    zero_row = np.zeros(n)
    vectors = np.empty((9, n))
    rest, keep, colsum, clipped, per_bond = vectors[0], vectors[1], vectors[2], vectors[3], \
        vectors[4]
    colsum0, delta_sum, old_share, new_share = vectors[5], vectors[6], vectors[7], vectors[8]
    beta_one = beta == 1.0
    for k in range(start, b):
        w, s, bonds = weights[k], stakes[k], bonds_in[k]
        permits, active, registered = permits_in[k], active_in[k], registered_in[k]
        last_update, registered_at = last_update_in[k], registered_at_in[k]
        consensus, incentive, dividends, trust = floats[0, k], floats[1, k], floats[2, k], \
            floats[3, k]
        miner_share, validator_share, rank = floats[4, k], floats[5, k], floats[6, k]
        stake, active_stake = floats[7, k], floats[8, k]
        bonds_out, new_permits = bonds_all[k], permits_out[k]
        owner = owners[k]
        if not _stake_stage(s, permits, active, has_permits, has_active, max_validators,
                            stake_threshold, stake, new_permits, active_stake, permit, owner):
            return k

        # The working rows: UIDs with a permit now or next epoch, in UID order
        # (world.yuma_math._Rows);
        # step 4 zeroes every other weight row, and stored bonds keep only new permits' rows.
        m = np.int64(0)  # (not a literal 0: see _pairwise_sum)
        for i in range(n):
            working[i] = permit[i] or new_permits[i]
            if working[i]:
                rows[m] = i
                m += 1
        stake_rows = np.empty(m)
        for r in range(m):
            stake_rows[r] = active_stake[rows[r]]
        if block.shape[0] < m:
            block = np.empty((m, n))
        wn = block[:m]
        if not _weight_rows(w, rows, m, permit, last_update, registered_at, has_blocks, wn,
                            owner):
            return k

        # Step 5: consensus.
        _weighted_median_cols(wn, m, stake_rows, kappa, consensus)

        # Step 9's B0 outside the working rows enters through its column sums (none when the
        # caller promises those rows are zero); columns of new registrations are zeroed
        # (``scalar_vec_mask_sparse_matrix``).
        bad = 0
        has_rest = False
        for j in range(n):
            rest[j] = 0.0
            keep[j] = 0.0 if has_registered and registered[j] else 1.0
        if not permitted_bonds:
            for i in range(n):
                nonzero_rest[i] = False
                if working[i]:
                    continue
                row = bonds[i]
                nonzero = 0
                for j in range(n):
                    v = row[j]
                    bad += v < 0.0
                    nonzero += v != 0.0
                    rest[j] += v
                nonzero_rest[i] = nonzero > 0
            for j in range(n):
                bad += not rest[j] < np.inf
                rest[j] *= keep[j]
                has_rest |= rest[j] != 0.0
        if bad:
            return k

        # Steps 6-9 per working row, in one pass over it: Wc = min(W, C), VT, R = A @ Wc, Wb
        # (``col_clip_sparse``, ``row_sum_sparse``, ``matmul_sparse``, ``interpolate_sparse``);
        # Yuma 3's new bonds (``compute_bonds_sparse``: liquid alpha if some C_j != 0, else
        # ``mat_ema_sparse``, a Wb + (1 - a) B0) overwrite the row, the original Yuma's Wb does
        # (with B0's column sums). B0 of a UID without a permit is a zero row when promised so.
        liquid_on = False
        if yuma3 and liquid:
            for j in range(n):
                liquid_on |= consensus[j] != 0.0
        for j in range(n):
            rank[j] = trust[j] = colsum[j] = colsum0[j] = delta_sum[j] = 0.0
        masked = False  # B0's columns of new registrations are zeroed
        if has_registered:
            for j in range(n):
                masked |= registered[j]
        decay = 1.0 - rate
        for r in range(m):
            u = rows[r]
            row, a = wn[r], stake_rows[r]
            b0 = zero_row if permitted_bonds and not permit[u] else bonds[u]
            for j in range(n):  # Wc, R (loops kept simple, so that they vectorise)
                c = min(row[j], consensus[j])
                clipped[j] = c
                rank[j] += a * c
            trust[u] = _pairwise_sum(clipped, n)
            if not beta_one:  # Wb = W + beta (Wc - W); W itself when beta is 0
                for j in range(n):
                    clipped[j] = row[j] + beta * (clipped[j] - row[j])
            for j in range(n):
                old = b0[j]
                bad += (not old >= 0.0) + (old == np.inf)
            if masked:
                for j in range(n):
                    row[j] = b0[j] * keep[j]
                b0 = row
            if not yuma3:
                for j in range(n):
                    colsum0[j] += b0[j]
                    delta_sum[j] += a * clipped[j]
                for j in range(n):
                    row[j] = clipped[j]
            elif liquid_on:
                for j in range(n):
                    v = _liquid_bond(clipped[j], b0[j], consensus[j], alpha_low, alpha_high,
                                     steepness)
                    row[j] = v
                    colsum[j] += v
            else:
                for j in range(n):
                    v = b0[j] * decay + clipped[j] * rate
                    row[j] = v
                    colsum[j] += v
        if bad:
            return k
        for j in range(n):
            incentive[j] = rank[j]
        _normalise_in_place(incentive)

        # Step 9: dividends (and the original Yuma's bonds).
        for i in range(n):
            dividends[i] = 0.0
        if yuma3:
            for j in range(n):  # ``inplace_col_normalize_sparse`` folded into I_j / colsum_j
                if not liquid_on:
                    colsum[j] += (1.0 - rate) * rest[j]
                total = colsum[j]
                if not total < np.inf or 0.0 < total <= _TINY:
                    return k
                per_bond[j] = incentive[j] / (total if total != 0.0 else 1.0)
            # Nothing below declines: each row's dividend (``mat_vec_mul_sparse``,
            # ``row_sum_sparse``, ``vec_mul``) as its new bonds are stored (one read of it).
            for r in range(m):
                if stake_rows[r] > 0.0:
                    dividends[rows[r]] = stake_rows[r] * _dot(wn[r], per_bond)
                _store_row(bonds_out[rows[r]], wn[r], new_permits[rows[r]])
        else:
            # The original Yuma: ``inplace_col_normalize_sparse`` of B0, ``row_hadamard_sparse``,
            # ``compute_ema_bonds_normal_sparse`` (``mat_ema_sparse``), ``matmul_transpose_sparse``.
            # Divisions by column sums become multiplications by their reciprocals (bonds and
            # dividends are continuous: rounding moves them by an ulp); sums at or below 1e-300,
            # whose reciprocals could overflow, go to the reference.
            for j in range(n):  # old_share: what remains of B0's column shares
                colsum0[j] += rest[j]
                if not colsum0[j] < np.inf or 0.0 < colsum0[j] <= _TINY \
                        or 0.0 < delta_sum[j] <= _TINY:
                    return k
                old_share[j] = (1.0 - rate) / colsum0[j] if colsum0[j] > 0.0 else 0.0
                new_share[j] = rate / delta_sum[j] if delta_sum[j] > 0.0 else 0.0
            for r in range(m):
                u = rows[r]
                b0 = zero_row if permitted_bonds and not permit[u] else bonds[u]
                wb, a = wn[r], stake_rows[r]
                for j in range(n):
                    v = (b0[j] * keep[j]) * old_share[j] + (a * wb[j]) * new_share[j]
                    wb[j] = v
                    colsum[j] += v
            for j in range(n):  # the other rows keep (1 - a) B0 / colsum0
                colsum[j] += rest[j] * old_share[j]
                if colsum0[j] == 0.0:
                    colsum0[j] = 1.0  # an all-zero column stays zero
            for j in range(n):
                if 0.0 < colsum[j] <= _TINY:
                    return k
                per_bond[j] = 1.0 / colsum[j] if colsum[j] > 0.0 else 0.0  # the inverse
            for r in range(m):
                bond_row = wn[r]
                for j in range(n):
                    bond_row[j] *= per_bond[j]
                dividends[rows[r]] = _dot(bond_row, incentive)
            if has_rest:  # bond rows of UIDs without a permit still earn (docs/consensus.md)
                for j in range(n):  # they keep (1 - a) B0 / colsum0, column-normalised
                    per_bond[j] = (1.0 - rate) * incentive[j] * per_bond[j] * keep[j]
                for i in range(n):
                    if not working[i]:
                        for j in range(n):  # B0 / colsum0 first: colsum0 may be subnormal
                            clipped[j] = bonds[i, j] / colsum0[j]
                        dividends[i] = _dot(clipped, per_bond)
        _normalise_in_place(dividends)

        # Stored bonds (``Bonds::insert`` in epoch): the new rows of UIDs with a new permit
        # (Yuma 3 stored them above), every other row cleared. Nothing after this declines.
        for r in range(m if not yuma3 else 0):
            _store_row(bonds_out[rows[r]], wn[r], new_permits[rows[r]])
        for i in range(n):
            if not working[i] and (fill_rest or (in_place and not permitted_bonds
                                                 and nonzero_rest[i])):
                out = bonds_out[i]
                for j in range(n):
                    out[j] = 0.0

        # Step 10: the emission split (the ``emission_sum == 0`` branch of ``epoch``).
        total = _pairwise_sum(incentive, n) + _pairwise_sum(dividends, n)
        if total != 0.0:
            for i in range(n):
                miner_share[i] = incentive[i] / total
                validator_share[i] = dividends[i] / total
        else:
            fallback = active_stake if _pairwise_sum(active_stake, n) > 0.0 else stake
            for i in range(n):
                miner_share[i] = incentive[i]
                validator_share[i] = fallback[i]
    return -1


# ---------------------------------------------------------------------------------------------
# Glue
# ---------------------------------------------------------------------------------------------


def _plain(x: np.ndarray, dtype: type) -> np.ndarray:
    """``x`` as a C-contiguous, aligned, writeable array of ``dtype``, copied only if needed.

    numba compiles a separate specialisation for every array layout and flag (readonly,
    unaligned), and each costs seconds; this keeps every call on the one compiled kernel.
    """
    flags = x.flags
    if x.dtype == dtype and flags.c_contiguous and flags.aligned and flags.writeable:
        return x
    return np.array(x, dtype=dtype, order="C")


@functools.lru_cache(maxsize=64)
def _absent(b: int) -> tuple[np.ndarray, np.ndarray]:
    """Empty stand-ins (bool, int64) for masks and block numbers that were not given."""
    return np.zeros((b, 0), dtype=np.bool_), np.zeros((b, 0), dtype=np.int64)


def _owners(owner: np.ndarray | None, b: int) -> np.ndarray:
    """Each subnet's owner UID as int64 (-1 for all when none is given)."""
    return _no_owner(b) if owner is None else _plain(owner, np.int64)


@functools.lru_cache(maxsize=64)
def _no_owner(b: int) -> np.ndarray:
    """-1 for each of ``b`` subnets (no owner UID; writeable, so that numba compiles one
    specialisation; the kernel never writes it)."""
    return np.full(b, -1, dtype=np.int64)


@functools.lru_cache(maxsize=64)
def _scalars(params: YumaParams) -> tuple:
    """The hyperparameters of MODEL.md section 3 as the kernel's scalar arguments."""
    return (params.version == "yuma3", float(params.kappa), float(params.bonds_penalty),
            float(params.bonds_ema_rate), bool(params.liquid_alpha), float(params.alpha_low),
            float(params.alpha_high), float(params.alpha_steepness),
            int(params.max_validators), float(params.stake_threshold))


def run(inputs: _Inputs, params: YumaParams, *, single: bool = False,
        out: np.ndarray | None = None, permitted_bonds: bool = False) -> YumaResult | None:
    """MODEL.md section 3 for the checked inputs of :func:`world.yuma.epoch_batch`, compiled.

    Returns the :class:`YumaResult` with the batch axis (without it if ``single``: the one
    subnet of :func:`world.yuma.epoch`). The new bonds go into ``out`` when it is given (a
    checked b x n x n float64 C-contiguous array, possibly the bonds themselves, updated in
    place); ``permitted_bonds`` is the caller's promise that bond rows of UIDs without a permit
    are zero (they are not read). Inputs the numpy reference handles specially (non-finite or
    negative entries, sums that overflow or fall to 1e-300 or below) are left to it: a declined
    subnet of a batch is computed (or raises) there, and for a declined ``single`` epoch, or
    uint64 block numbers, this returns None so that the caller runs it.
    """
    b, n = inputs.stake.shape
    no_mask, no_blocks = _absent(b)
    blocks = inputs.outdated_blocks
    if blocks is None:
        last_update = registered_at = no_blocks
    elif any(x.dtype.kind == "u" and x.dtype.itemsize >= 8 for x in blocks):
        return None  # uint64 block numbers do not fit int64
    else:
        last_update, registered_at = (_plain(x, np.int64) for x in blocks)
    masks = [no_mask if x is None else _plain(x, np.bool_)
             for x in (inputs.permits, inputs.active, inputs.registered)]
    bonds = _plain(inputs.bonds, np.float64)
    floats = np.empty((9, b, n))
    in_place = out is not None and np.shares_memory(out, bonds)
    if out is not None:
        bonds_out, fill_rest = out, not in_place
    elif b == 1:  # one subnet: every row written (cheaper than zeroing then writing)
        bonds_out, fill_rest = np.empty((b, n, n)), True
    else:  # a batch: fresh zeros, whose pages the untouched rows never fault in
        bonds_out, fill_rest = np.zeros((b, n, n)), False
    new_permits = np.empty((b, n), dtype=np.bool_)
    arrays = (_plain(inputs.weights, np.float64), _plain(inputs.stake, np.float64), bonds,
              *masks, last_update, registered_at, inputs.permits is not None,
              inputs.active is not None, inputs.registered is not None, blocks is not None,
              *_scalars(params), permitted_bonds, fill_rest, in_place, floats, bonds_out,
              new_permits, _owners(inputs.owner, b))
    start = 0
    while (declined := _batch(*arrays, start)) >= 0:
        if single and out is None:
            return None
        # That subnet goes to the numpy reference (which raises for invalid inputs; its bonds
        # are intact: the kernel stores a subnet's bonds only once it cannot decline), the
        # rest of the batch stays compiled: a batch still equals a loop of epoch().
        part = _run(inputs.chunk(declined, declined + 1), params)
        for i, name in enumerate(_FLOAT_FIELDS):
            floats[i, declined] = getattr(part, name)[0]
        bonds_out[declined], new_permits[declined] = part.bonds[0], part.new_permits[0]
        start = declined + 1
    if single:
        floats, bonds_out, new_permits = floats[:, 0], bonds_out[0], new_permits[0]
    consensus, incentive, dividends, trust, miners, validators, rank, stake, active_stake = (
        floats
    )
    return YumaResult(
        consensus=consensus,
        incentive=incentive,
        dividends=dividends,
        bonds=bonds_out,
        validator_trust=trust,
        new_permits=new_permits,
        miner_emission_share=miners,
        validator_emission_share=validators,
        rank=rank,
        stake=stake,
        active_stake=active_stake,
    )
