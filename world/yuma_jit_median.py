"""The compiled kernel's sums, normalisation and stake-weighted median (step 5).

Part of :mod:`world.yuma_jit` (the speed-only compiled form of :mod:`world.yuma`): pairwise
sums in numpy's order, so that totals match the reference bit for bit, in-place
normalisation, and the median of every column of the working block, found by bracketing
it between edges around each column's stake-weighted mean and then selecting exactly, the
way :func:`world.yuma_math._weighted_median_cols` does it (subtensor
``epoch/math.rs``, ``weighted_median_col_sparse``).
"""

from __future__ import annotations

import math

import numba
import numpy as np

_NEAR_TIE = 1e-11  # relative distance from the median threshold that triggers the exact column
# Step 5 brackets each column's median between two edges at these standard normal quantiles
# (of 1/32, ..., 31/32) around the column's stake-weighted mean and standard deviation.
_EDGE_Z = np.array([
    -1.8627, -1.5341, -1.318, -1.1503, -1.01, -0.8871, -0.7764, -0.6745, -0.5791, -0.4888,
    -0.4023, -0.3186, -0.2372, -0.1573, -0.0784, 0.0, 0.0784, 0.1573, 0.2372, 0.3186, 0.4023,
    0.4888, 0.5791, 0.6745, 0.7764, 0.8871, 1.01, 1.1503, 1.318, 1.5341, 1.8627,
])

# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _pairwise_leaf(a, lo, n):
    """``a[lo:lo + n].sum()`` for n <= 128, as numpy's pairwise summation does it.

    Fewer than 8 terms are added in order; otherwise 8 interleaved partial sums, combined
    pairwise, then the remaining n % 8 terms in order (``pairwise_sum`` in numpy's
    ``loops_utils.h``).
    """
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    stop = lo + n - n % 8
    i = lo + 8
    while i < stop:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < lo + n:
        res += a[i]
        i += 1
    return res


@numba.njit(cache=True)
def _pairwise_split(n):
    """The length of the first half numpy's pairwise summation splits n > 128 terms into."""
    half = n // 2
    return half - half % 8


@numba.njit(cache=True)
def _pairwise_sum(a, n):
    """``a[:n].sum()`` with numpy's pairwise summation, bit for bit.

    ``inplace_normalize`` / ``inplace_row_normalize_sparse`` (math.rs) divide by such sums;
    :mod:`world.yuma` computes them with ``np.add.reduce``, which sums blocks of at most 128
    terms (:func:`_pairwise_leaf`) and adds the two halves of longer runs. The recursion is
    unrolled with an explicit stack: numba 0.68 segfaults loading cached recursive functions.
    """
    lo = np.int64(0)  # not a literal 0: numba would compile the callees for Literal[int](0)
    half = n if n <= 128 else _pairwise_split(n)
    if n - half <= 128:  # at most one split: up to 262 terms (a full subnet of 256 UIDs)
        total, start, length = 0.0, lo, half  # 0.0 + x is x: the same sum as left + right
        for _ in range(1 if half == n else 2):
            total += _pairwise_leaf(a, start, length)
            start, length = lo + half, n - half
        return total
    # Post-order walk of the split tree. Frame: start, length, left sum, state (0 new,
    # 1 left half done).
    frames = np.empty((64, 4))
    frames[0, 0], frames[0, 1], frames[0, 3] = lo, n, 0.0
    top, value = 0, 0.0
    while top >= 0:
        start, length = int(frames[top, 0]), int(frames[top, 1])
        if length <= 128:
            value = _pairwise_leaf(a, start, length)
            top -= 1
        elif frames[top, 3] == 0.0:
            frames[top, 3] = 1.0
            top += 1
            frames[top, 0], frames[top, 1], frames[top, 3] = start, _pairwise_split(length), 0.0
            continue
        elif frames[top, 3] == 1.0:
            frames[top, 2], frames[top, 3] = value, 2.0
            half = _pairwise_split(length)
            top += 1
            frames[top, 0], frames[top, 1], frames[top, 3] = start + half, length - half, 0.0
            continue
        else:
            value = frames[top, 2] + value
            top -= 1
    return value


@numba.njit(cache=True)
def _normalise_in_place(x):
    """``x /= sum(x)`` unless the sum is 0 (``inplace_normalize``, math.rs).

    For finite non-negative ``x`` whose sum does not overflow: MODEL.md section 3 steps 1, 3,
    7 and 9 (S, A, I and D). Returns the sum.
    """
    total = _pairwise_sum(x, x.shape[0])
    if total > 0.0:
        for i in range(x.shape[0]):
            x[i] = x[i] / total
    return total


# ---------------------------------------------------------------------------------------------
# Step 5: the stake-weighted median of every column
# ---------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _weighted_select(keys, stakes, count, base, threshold, tolerance):
    """The smallest key x whose stake ``base + sum(stakes[keys <= x])`` exceeds ``threshold``.

    Step 5's ``weighted_median`` (math.rs) as a weighted quickselect: a median-of-three
    pivot, one pass summing the stake below and up to it, then the part that holds the
    crossing is moved to the front (both passes without data-dependent branches: a random
    pivot comparison mispredicts half the time). ``keys`` and ``stakes`` (``count`` pairs) are
    overwritten. Returns (x, True), or (x, False) when the stake below x or up to x lies
    within ``tolerance`` of the threshold, or no key crosses it: rounding may decide, and the
    caller recomputes the column the reference's way (:func:`_median_exact`).
    """
    while count > 0:
        a, b, c = keys[0], keys[count >> 1], keys[count - 1]
        low_high = (a, b) if a < b else (b, a)
        pivot = min(max(low_high[0], c), low_high[1])
        below0 = below1 = upto0 = upto1 = 0.0  # two accumulators each: independent chains
        for h in range(count >> 1):
            k = 2 * h
            v0, s0, v1, s1 = keys[k], stakes[k], keys[k + 1], stakes[k + 1]
            below0 += s0 if v0 < pivot else 0.0
            upto0 += s0 if v0 <= pivot else 0.0
            below1 += s1 if v1 < pivot else 0.0
            upto1 += s1 if v1 <= pivot else 0.0
        if count & 1:
            v0, s0 = keys[count - 1], stakes[count - 1]
            below0 += s0 if v0 < pivot else 0.0
            upto0 += s0 if v0 <= pivot else 0.0
        low = base + (below0 + below1)
        kept = 0
        if low > threshold:  # the crossing is below the pivot
            for k in range(count):
                v = keys[k]
                keys[kept] = v
                stakes[kept] = stakes[k]
                kept += v < pivot
            count = kept
            continue
        high = base + (upto0 + upto1)
        if high > threshold:  # at the pivot
            clear = abs(low - threshold) > tolerance and abs(high - threshold) > tolerance
            return pivot, clear
        base = high  # above the pivot
        for k in range(count):
            v = keys[k]
            keys[kept] = v
            stakes[kept] = stakes[k]
            kept += v > pivot
        count = kept
    return 0.0, False


@numba.njit(cache=True)
def _median_exact(wn, stake_rows, m, j, threshold):
    """Column j's median computed exactly as :func:`world.yuma_math._weighted_median_cols` does.

    Step 5 (``weighted_median``, math.rs) for columns where rounding decides: keys are the
    weights (-1 for rows without active stake, +inf padding to a multiple of 64), sorted;
    the cumulative stake is the sum up to the end of each of 8 blocks plus the running sum
    inside the block (the reference's two matrix products); the median is the weight at the
    first position whose cumulative stake exceeds the threshold, the largest if none.
    """
    width = -(-m // 64) * 64
    size = width // 8
    keys = np.empty(m)
    order = np.empty(m, dtype=np.int64)
    for r in range(m):  # an insertion sort (rare columns; small code compiles fast)
        key = wn[r, j] if stake_rows[r] > 0.0 else -1.0
        p = r
        while p > 0 and keys[p - 1] > key:
            keys[p], order[p] = keys[p - 1], order[p - 1]
            p -= 1
        keys[p], order[p] = key, r
    sorted_stake = np.zeros(width)  # the padding sorts last with no stake
    for p in range(m):
        sorted_stake[p] = stake_rows[order[p]]
    block_cum = np.empty(8)
    running = 0.0
    block = 0
    for q in range(8):
        for p in range(q * size, (q + 1) * size):
            running += sorted_stake[p]
        block_cum[q] = running
        if running <= threshold:
            block += 1
    block = min(block, 7)
    before = block_cum[block - 1] if block > 0 else 0.0
    inner, below = 0.0, 0
    for p in range(block * size, (block + 1) * size):
        inner += sorted_stake[p]
        if before + inner <= threshold:
            below += 1
    pos = min(block * size + below, m - 1)
    return wn[order[pos], j]


@numba.njit(cache=True, fastmath={"reassoc", "nsz"})
def _stake_at_or_below(keys, stakes, edge):
    """``sum(stakes[keys <= edge])``: step 5's cumulative stake at one value.

    The sum may be reassociated (so that it vectorises); the comparisons are exact, and
    :func:`_weighted_select` re-checks the final crossing against the rounding tolerance.
    """
    acc = 0.0
    for q in range(keys.shape[0]):
        acc += stakes[q] if keys[q] <= edge else 0.0
    return acc


@numba.njit(cache=True)
def _weighted_median_cols(wn, m, stake_rows, kappa, consensus):
    """Step 5: C_j for every column (``weighted_median_col_sparse``, math.rs).

    Over the working rows with active stake > 0 (stake renormalised over them: the threshold
    is ``(1 - kappa) * sum(A)``), C_j is the smallest weight x such that the stake of rows with
    W_ij <= x exceeds the threshold, the largest if none, 0 when no row has stake.

    Per column: a binary search over 31 edges (at the standard normal quantiles of
    1/32 ... 31/32 around the column's stake-weighted mean and deviation) finds two
    neighbouring edges whose stake at or below brackets the threshold, five vectorised passes;
    the weights between them (a few when the column looks normal; any distribution still gives
    a correct bracket) go to :func:`_weighted_select` with the stake below the bracket as its
    base. A column whose voters all set the same weight (one nobody weights) is that weight.
    """
    n = wn.shape[1]
    total = _pairwise_sum(stake_rows, m)
    if not total > 0.0:
        consensus[:] = 0.0
        return
    threshold = (1.0 - kappa) * total
    tolerance = _NEAR_TIE * total
    voters = np.empty(m, dtype=np.int64)
    count = 0
    for r in range(m):
        if stake_rows[r] > 0.0:
            voters[count] = r
            count += 1
    voter_stake = np.empty(count)
    for q in range(count):
        voter_stake[q] = stake_rows[voters[q]]
    low = np.empty(n)
    high = np.empty(n)
    for j in range(n):
        low[j] = high[j] = wn[voters[0], j]
    mean = np.zeros(n)
    square = np.zeros(n)
    for q in range(count):  # along the rows: these loops vectorise
        row, a = wn[voters[q]], voter_stake[q]
        for j in range(n):
            v = row[j]
            low[j] = min(low[j], v)
            high[j] = max(high[j], v)
            mean[j] += a * v
            square[j] += a * v * v
    columns = np.empty((n, count))  # transposed, eight rows at a time (a cache line a column)
    q = 0
    while q + 8 <= count:
        r0, r1, r2, r3 = wn[voters[q]], wn[voters[q + 1]], wn[voters[q + 2]], wn[voters[q + 3]]
        r4, r5, r6, r7 = wn[voters[q + 4]], wn[voters[q + 5]], wn[voters[q + 6]], \
            wn[voters[q + 7]]
        for j in range(n):
            column = columns[j]
            column[q], column[q + 1], column[q + 2], column[q + 3] = r0[j], r1[j], r2[j], r3[j]
            column[q + 4], column[q + 5], column[q + 6], column[q + 7] = r4[j], r5[j], r6[j], \
                r7[j]
        q += 8
    for rest in range(q, count):
        row = wn[voters[rest]]
        for j in range(n):
            columns[j, rest] = row[j]
    keys = np.empty(count)
    stakes = np.empty(count)
    edges = _EDGE_Z.shape[0]
    for j in range(n):
        if low[j] == high[j]:
            consensus[j] = high[j]
            continue
        mu = mean[j] / total
        sd = math.sqrt(max(square[j] / total - mu * mu, 0.0))
        column = columns[j]
        bucket, top, base = 0, edges, 0.0  # binary search: the first edge whose stake crosses
        while bucket < top:
            middle = (bucket + top) >> 1
            stake_below = _stake_at_or_below(column, voter_stake, mu + sd * _EDGE_Z[middle])
            if stake_below > threshold:
                top = middle
            else:
                bucket, base = middle + 1, stake_below
        floor = mu + sd * _EDGE_Z[bucket - 1] if bucket > 0 else -np.inf
        ceiling = mu + sd * _EDGE_Z[bucket] if bucket < edges else np.inf
        kept = np.int64(0)  # (not a literal 0: see _pairwise_sum)
        for q in range(count):
            v = column[q]
            keys[kept] = v
            stakes[kept] = voter_stake[q]
            kept += (v > floor) & (v <= ceiling)
        value, clear = _weighted_select(keys, stakes, kept, base, threshold, tolerance)
        if not clear:
            value = _median_exact(wn, stake_rows, m, j, threshold)
        consensus[j] = value
