"""The steps of a Yuma Consensus epoch as array functions (MODEL.md section 3).

The maths of :mod:`world.yuma`, step by step: normalisation, stake weights and validator
permits, masked weights, the stake-weighted median (consensus), bonds (Yuma 2, Yuma 3,
liquid alpha), Yuma 3 dividends and the emission shares; each mirrors the function of
subtensor's ``pallets/subtensor/src/epoch/run_epoch.rs`` and ``epoch/math.rs`` its
docstring names. Arrays carry a leading batch axis (subnets) and a last axis of UIDs.
:mod:`world.yuma` wires them into an epoch and is the public entry point.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from world.yuma import YumaParams

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]

_TINY = 1e-300  # sums below this are divided by, not multiplied by their (overflowing) inverse


# ---------------------------------------------------------------------------------------------
# Small vectorised helpers (leading axis = batch, last axis = UIDs)
# ---------------------------------------------------------------------------------------------


def _nonzero_or_one(total: FloatArray) -> FloatArray:
    """``total`` with zeros replaced by 1 (in place), to divide sums of non-negative terms.

    Where such a sum is 0 every term is 0 and stays 0: the ``sum == 0`` skip of
    ``inplace_normalize`` / ``inplace_col_normalize`` (math.rs).
    """
    total[total == 0.0] = 1.0
    return total


def _scale_by_inverse(x: FloatArray, total: FloatArray) -> None:
    """``x /= total`` in place (zeros in ``total`` leave x at 0), via one reciprocal per sum.

    Step 4's row normalisation (``inplace_row_normalize_sparse``).

    A multiplication is cheaper than a division; sums below 1e-300, whose reciprocal could
    overflow, fall back to the division.
    """
    total = _nonzero_or_one(total)
    if total.min() > _TINY:
        x *= 1.0 / total
    else:
        x /= total


def _normalise(x: FloatArray) -> FloatArray:
    """A copy of ``x`` with the last axis normalised to sum 1; zeros stay zero.

    ``inplace_normalize`` (math.rs). If the sum of huge finite entries overflows, the entries
    are first divided by their maximum.
    """
    total = np.add.reduce(x, axis=-1, keepdims=True)
    if total.min() > 0.0 and total.max() < np.inf:
        return x / total
    if not np.isfinite(total).all():
        x = x / _nonzero_or_one(x.max(axis=-1, keepdims=True))
        total = x.sum(axis=-1, keepdims=True)
    return x / _nonzero_or_one(total)


def _check_finite_nonnegative(name: str, x: FloatArray) -> None:
    """Raise ValueError unless every entry of ``x`` is finite and >= 0 (MODEL.md section 3
    inputs: stake, weights and bonds are non-negative amounts)."""
    if x.size and not (x.min() >= 0.0 and np.isfinite(x.max())):
        raise ValueError(f"{name} must be finite and non-negative")


@dataclass(frozen=True)
class _Rows:
    """The working rows of every subnet (b x m UIDs) and how to gather and scatter them.

    Step 4 zeroes every row without a permit (``mask_rows_sparse``) and the storage at the
    end of ``epoch`` keeps bond rows only for new permits, so these rows carry all the work.

    ``flat`` indexes the b * n stacked rows, so every gather or scatter is one fancy index.
    """

    uid: IntArray
    flat: IntArray

    @classmethod
    def of(cls, wanted: BoolArray) -> _Rows:
        """Rows where ``wanted`` holds, in UID order, padded to the batch's largest count.

        ``wanted`` = this epoch's permits or the new ones (steps 2-4).

        Padding rows are the lowest UIDs where ``wanted`` is False, so rows never repeat.
        """
        b, n = wanted.shape
        m = max(int(wanted.sum(axis=-1).max()), 1)
        uid = np.argsort(~wanted, axis=-1, kind="stable")[:, :m]
        return cls(uid, (uid + (np.arange(b) * n)[:, None]).ravel())

    def gather(self, x: NDArray[Any]) -> NDArray[Any]:
        """The working rows of ``x`` (b x n -> b x m, b x n x n -> b x m x n), a copy.

        Step 4 / step 9 inputs: the validators' weight and bond rows.
        """
        b, m = self.uid.shape
        if x.ndim == 2:
            return x.ravel()[self.flat].reshape(b, m)
        n = x.shape[-1]
        return x.reshape(b * n, n)[self.flat].reshape(b, m, n)

    def scatter(
        self, values: NDArray[Any], n: int, out: FloatArray | None = None
    ) -> NDArray[Any]:
        """Zeros of shape b x n (or b x n x n) with the working rows set to ``values``.

        Steps 7 and 9 outputs (trust, dividends, stored bonds); other UIDs get 0.

        A matrix is written into ``out`` (contiguous b x n x n zeros) when it is given.
        """
        b, m = self.uid.shape
        if values.ndim == 2:
            flat = np.zeros(b * n)
            flat[self.flat] = values.ravel()
            return flat.reshape(b, n)
        if out is None:
            out = np.zeros((b, n, n))
        out.reshape(b * n, n)[self.flat] = values.reshape(b * m, n)
        return out


# ---------------------------------------------------------------------------------------------
# MODEL.md section 3, step by step
# ---------------------------------------------------------------------------------------------


def _stake_weights(
    stake: FloatArray, threshold: float, owner: BoolArray | None = None
) -> FloatArray:
    """Step 1: zero stakes below the threshold, then normalise: S = s / sum(s).

    The ``filtered_stake`` block of ``epoch`` (run_epoch.rs): ``s < min_stake`` -> 0, then
    ``inplace_normalize_64``; the subnet owner's UID (``owner``, a mask) is exempt
    (subtensor@2026-06-30 epoch/run_epoch.rs ``epoch_mechanism``:
    ``owner_uid != Some(uid) && s < min_stake``).
    """
    if threshold > 0:
        below = stake < threshold
        if owner is not None:
            below &= ~owner
        stake = np.where(below, 0.0, stake)
    return _normalise(stake)


def _top_k_nonzero(stake: FloatArray, k: int) -> BoolArray:
    """Step 2: new permits, the top ``k`` UIDs by stake among those with non-zero stake.

    ``is_topk_nonzero`` (math.rs): an ascending *stable* sort drops the lowest n - k entries,
    so among equal stakes the lower UID is dropped first: ties favour the higher UID.
    """
    b, n = stake.shape
    nonzero = stake > 0
    if k >= n or (nonzero.sum(axis=-1) <= k).all():
        return nonzero
    order = np.argsort(stake, axis=-1, kind="stable")
    top = np.zeros((b, n), dtype=bool)
    top[np.arange(b)[:, None], order[:, n - k :]] = True
    return top & nonzero


def _masked_weights(
    w_rows: FloatArray, rows: _Rows, permit_rows: BoolArray, outdated_rows: BoolArray | None,
    owner_uid: IntArray | None = None,
) -> FloatArray:
    """Step 4 on the working rows, in place on the gathered copy ``w_rows`` (b x m x n).

    Zero rows of non-permitted UIDs (``mask_rows_sparse``), self-weights (``mask_diag_sparse``;
    the subnet owner's UID, ``owner_uid`` per subnet or -1, keeps its own:
    subtensor@2026-06-30 ``mask_diag_sparse_except_index``) and outdated weights
    (``vec_mask_sparse_matrix`` with ``updated <= registered``), then row-normalise, all-zero
    rows left at zero (``inplace_row_normalize_sparse``).
    """
    b, m, n = w_rows.shape
    if not permit_rows.all():
        w_rows *= permit_rows[..., None]
    diag = np.arange(b * m)
    uid = rows.uid.ravel()
    if owner_uid is not None:
        others = (rows.uid != owner_uid[:, None]).ravel()
        diag, uid = diag[others], uid[others]
    w_rows.reshape(b * m, n)[diag, uid] = 0.0
    if outdated_rows is not None:
        np.copyto(w_rows, 0.0, where=outdated_rows)
    total = w_rows.sum(axis=-1, keepdims=True)
    if not (np.isfinite(total).all() and w_rows.min() >= 0.0):
        _check_finite_nonnegative("weights", w_rows)
        w_rows /= _nonzero_or_one(w_rows.max(axis=-1, keepdims=True))  # the sum overflowed
        total = w_rows.sum(axis=-1, keepdims=True)
    _scale_by_inverse(w_rows, total)
    return w_rows


@functools.cache
def _prefix_matrices(width: int) -> tuple[FloatArray, FloatArray]:
    """Constant 0/1 matrices for :func:`_crossing_positions` (``width`` a multiple of 64).

    Part of step 5's stake-weighted median (``weighted_median``).

    ``ends`` (width x 8): column q adds up the positions before the end of block q of
    ``width / 8`` positions; ``upper`` (width/8 square, upper triangular) turns a block into
    its cumulative sums.
    """
    size = width // 8
    ends = np.arange(width)[:, None] < (np.arange(1, 9) * size)[None, :]
    return ends.astype(np.float64), np.triu(np.ones((size, size)))


def _crossing_positions(sorted_stake: FloatArray, threshold: FloatArray, m: int) -> IntArray:
    """For every column, the first sorted position whose cumulative stake exceeds threshold.

    Step 5: where ``weighted_median`` (math.rs) finds the pivot with
    ``lo_stake <= minority < hi_stake``.

    ``sorted_stake`` is b x n x width (column j's stakes in ascending weight order along the
    last axis, zero-padded from m to width, a multiple of 64); ``threshold`` has one entry per
    subnet. Returns b x n positions, m - 1 where no cumulative sum exceeds the threshold
    (``weighted_median``'s fall-through to the largest value).

    The same as ``count_nonzero(cumsum(sorted_stake, axis=-1) <= threshold, axis=-1)``, in two
    levels because numpy's cumulative sum is slow: the cumulative stake at the ends of 8
    blocks (one matrix product) locates the block where each column crosses, and the
    cumulative sum inside that block (another) the position within it. Counting uses the
    cumulative sums' monotonicity: 8 booleans are one uint64 whose set bits are counted.
    """
    b, n, width = sorted_stake.shape
    size = width // 8
    ends, upper = _prefix_matrices(width)
    block_cum = np.matmul(sorted_stake, ends)  # b x n x 8
    thr = threshold[:, None, None]
    block = np.bitwise_count((block_cum <= thr).view(np.uint64))[..., 0].astype(np.intp)
    np.minimum(block, 7, out=block)
    batch, cols = np.arange(b)[:, None], np.arange(n)
    before = block_cum[batch, cols, block - 1]
    before[block == 0] = 0.0
    inner_cum = np.matmul(sorted_stake.reshape(b, n, 8, size)[batch, cols, block], upper)
    inner_cum += before[..., None]
    below = np.bitwise_count((inner_cum <= thr).view(np.uint64)).sum(axis=-1, dtype=np.intp)
    return np.minimum(block * size + below, m - 1)


def _weighted_median_cols(
    w_rows: FloatArray, stake_rows: FloatArray, kappa: float
) -> FloatArray:
    """Step 5: the stake-weighted median of every column with majority kappa.

    ``weighted_median_col_sparse`` / ``weighted_median`` (math.rs): over validators with stake
    > 0 (stake renormalised over them; a missing entry counts as weight 0), C_j is the
    smallest value x such that the stake of validators with W_ij <= x exceeds 1 - kappa, the
    largest value if there is none, and 0 when no validator has stake.

    All columns of all subnets at once: one argsort along the last axis of the transposed
    block (b x n x width), the stakes gathered in that order, then
    :func:`_crossing_positions`. Rows without stake get the sort key -1 (they sort first and
    add no stake); padding up to width gets +inf (it sorts last).
    """
    b, m, n = w_rows.shape
    width = -(-m // 64) * 64
    keys = np.empty((b, n, width))
    keys[..., :m] = w_rows.transpose(0, 2, 1)
    if width > m:
        keys[..., m:] = np.inf
    idle = stake_rows <= 0.0
    if idle.any():
        np.copyto(keys[..., :m], -1.0, where=idle[:, None, :])
    order = np.argsort(keys, axis=-1)  # b x n x width
    padded_stake = np.zeros((b, width))
    padded_stake[:, :m] = stake_rows
    if b > 1:
        order += (np.arange(b) * width)[:, None, None]  # rows of the b * width stacked rows
    total = stake_rows.sum(axis=-1)
    pos = _crossing_positions(padded_stake.ravel()[order], (1.0 - kappa) * total, m)
    cols = np.arange(n)
    row = order[np.arange(b)[:, None], cols, pos]
    if b > 1:
        row -= (np.arange(b) * (width - m))[:, None]  # back to rows of the b * m stacked rows
    median = w_rows.reshape(b * m, n)[row, cols]
    median[total <= 0.0] = 0.0
    return median


def _liquid_alpha_bonds(
    wb: FloatArray, bonds0: FloatArray, consensus: FloatArray, params: YumaParams
) -> FloatArray:
    """Step 9, Yuma 3 with liquid alpha: an EMA with a rate per bond.

    ``compute_liquid_alpha_values_sparse`` / ``alpha_sigmoid``: the rate is
    ``a = low + (high - low) * sigmoid(k (d - 0.5))``, clamped to [low, high], with d the buy
    distance ``clip(Wb - C, 0, 1)`` where Wb >= B0, else the sell distance
    ``clip(B0 - Wb, 0, 1)``. ``mat_ema_alpha_sparse``: ``min(1, (1 - a) B0 + a Wb)``, kept only
    where Wb > 0 (a bond to a miner the validator no longer weights drops to 0).
    """
    lo, hi = params.alpha_low, params.alpha_high
    buy = np.clip(wb - consensus[:, None, :], 0.0, 1.0)
    sell = np.clip(bonds0 - wb, 0.0, 1.0)
    distance = np.where(wb >= bonds0, buy, sell)
    sigmoid = 1.0 / (1.0 + np.exp(-params.alpha_steepness * (distance - 0.5)))
    alpha = np.clip(lo + (hi - lo) * sigmoid, lo, hi)
    ema = np.minimum((1.0 - alpha) * bonds0 + alpha * wb, 1.0)
    return np.where(wb > 0, ema, 0.0)


def _bonds_yuma3(
    wb: FloatArray,
    bonds0: FloatArray,
    rest_colsum: FloatArray,
    consensus: FloatArray,
    params: YumaParams,
) -> tuple[FloatArray, FloatArray]:
    """Step 9, Yuma 3: absolute bonds on the working rows and their column sums over all rows.

    ``compute_bonds_sparse``: liquid alpha (:func:`_liquid_alpha_bonds`) when it is on and
    some C_j != 0, else the fixed-rate EMA ``mat_ema_sparse``: B = a Wb + (1 - a) B0.
    ``rest_colsum`` is the column sum of the bond rows outside the working set; those rows
    have Wb = 0, so they become (1 - a) B0 (fixed rate) or 0 (liquid alpha). ``bonds0`` is
    overwritten, and so is ``wb``.
    """
    rate = params.bonds_ema_rate
    liquid = None
    if params.liquid_alpha:
        liquid_on = (consensus != 0).any(axis=-1)  # per subnet
        if liquid_on.any():
            liquid = _liquid_alpha_bonds(wb, bonds0, consensus, params)
    fixed = bonds0
    fixed *= 1.0 - rate
    wb *= rate
    fixed += wb
    rest = (1.0 - rate) * rest_colsum
    if liquid is None:
        return fixed, fixed.sum(axis=1) + rest
    bonds = np.where(liquid_on[:, None, None], liquid, fixed)
    return bonds, bonds.sum(axis=1) + np.where(liquid_on[:, None], 0.0, rest)


def _dividends_yuma3(
    bonds: FloatArray, colsum: FloatArray, incentive: FloatArray, stake_rows: FloatArray
) -> FloatArray:
    """Step 9, Yuma 3 dividends of the working rows, before normalisation.

    ``D_i = A_i * sum_j colnorm(B)_ij I_j``: ``inplace_col_normalize_sparse``, then
    ``row_sum_sparse(mat_vec_mul_sparse(.., incentive))`` and ``vec_mul`` with active stake.
    The column normalisation is folded into the incentive vector (I_j / colsum_j) unless a
    column sum is below 1e-300, where the quotient could overflow.
    """
    colsum = _nonzero_or_one(colsum.copy())
    if colsum.min() > _TINY:
        per_bond = incentive / colsum
        return stake_rows * np.matmul(bonds, per_bond[..., None])[..., 0]
    share = bonds / colsum[:, None, :]
    return stake_rows * np.matmul(share, incentive[..., None])[..., 0]


def _bonds_yuma2(
    wb: FloatArray,
    bonds0: FloatArray,
    rest_colsum: FloatArray,
    stake_rows: FloatArray,
    rate: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Step 9, original Yuma: column-normalised EMA bonds on the working rows.

    The ``else`` branch of ``epoch``: ``inplace_col_normalize_sparse`` of B0;
    ``row_hadamard_sparse`` (dB = A_i Wb_ij), column-normalised; ``mat_ema_sparse`` via
    ``compute_ema_bonds_normal_sparse`` (a dB + (1 - a) B0); ``inplace_col_normalize_sparse``.
    Rows outside the working set have dB = 0 and enter through ``rest_colsum``. Returns the
    working rows of B and the column sums of B0 (all rows) and of the EMA, which the outside
    rows' dividends need. ``bonds0`` is overwritten.
    """
    colsum0 = bonds0.sum(axis=1) + rest_colsum
    ema = bonds0
    ema /= _nonzero_or_one(colsum0.copy())[:, None, :]
    ema *= 1.0 - rate
    delta = stake_rows[..., None] * wb
    delta /= _nonzero_or_one(delta.sum(axis=1, keepdims=True))
    delta *= rate
    ema += delta
    rest = np.divide(rest_colsum, colsum0, out=np.zeros_like(colsum0), where=colsum0 > 0)
    colsum = ema.sum(axis=1) + (1.0 - rate) * rest
    ema /= _nonzero_or_one(colsum.copy())[:, None, :]
    return ema, colsum0, colsum


def _emission_shares(
    incentive: FloatArray, dividends: FloatArray, active: FloatArray, stake: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Step 10: miners get I / (sum I + sum D) of E, validators D / (sum I + sum D).

    When both sums are 0, validators are paid by active stake A, or by S when A is all zero
    (the ``emission_sum == 0`` branch of ``epoch``).
    """
    total = incentive.sum(axis=-1, keepdims=True) + dividends.sum(axis=-1, keepdims=True)
    if total.all():
        return incentive / total, dividends / total
    paid = total > 0
    total = _nonzero_or_one(total)
    fallback = np.where(active.sum(axis=-1, keepdims=True) > 0, active, stake)
    return incentive / total, np.where(paid, dividends / total, fallback)
