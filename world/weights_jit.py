"""Compiled loops over weight rows (numba; loaded through ``world.kernels``, under its
switch ``TAO_ARENA_ECON``). Nothing here is a rule: each loop makes, row by row while the
row is in cache, the numbers of the numpy form it names, bit for bit
(tests/test_fast_paths.py):

- ``clean_into``: ``weights.clean`` (the chain's normalisation of set weights, subtensor
  ``set_weights``; MODEL.md section 3), which makes four passes over all the rows of a
  run of subnets;
- ``normalise_rows``: ``work.weights_from_scores`` without top-k or sharpening;
- ``gather_masked``, ``own_weights``: ``SubnetContext.own_scores`` on miners, and the
  honest weights from them (MODEL.md section 5);
- ``put_rows``: ``matrix[uids] = rows``, the weights revealed on chain.

Where numpy's result depends on more than a row (the sign ``np.fmax`` gives a negative
zero depends on its place in the whole array) or numpy raises, a loop stops and says
where, and numpy does the rest.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from world.yuma_jit_median import _pairwise_sum

_NEGATIVE_ZERO = np.int64(-0x8000000000000000)  # the bits of -0.0: the sign bit alone


@numba.njit(cache=True, nogil=True)
def clean_into(src, bits, dst, dst_rows, member_subnet, mask_of, masks):  # type: ignore[no-untyped-def]
    """Row ``r`` of ``src`` (a strategy's rows; ``bits``: the same as int64) cleaned into
    row ``dst_rows[r]`` of ``dst``: NaN and negatives to 0 (``np.fmax(x, 0)``), times the
    occupied UIDs of its subnet where that subnet has empty UIDs
    (``masks[mask_of[member_subnet[r]]]``; -1: every UID occupied), divided by its sum
    (numpy's pairwise sum; a zero row stays zero, and a row whose sum is exactly 1, as
    rows a strategy normalised itself often are, is not divided: ``x / 1`` is ``x``).

    Returns -1, or the first row that holds an infinite weight or a negative zero (numpy
    raises on the one, and its ``fmax`` keeps or drops the other's sign by position):
    then the caller cleans with numpy instead. No branch per weight: one that the data
    decides costs more than the row's arithmetic.
    """
    n = src.shape[1]
    for r in range(src.shape[0]):
        out = dst[dst_rows[r]]
        odd = False
        for j in range(n):
            x = src[r, j]
            odd |= (x == math.inf) | (bits[r, j] == _NEGATIVE_ZERO)
            out[j] = x if x > 0.0 else 0.0  # zero, negative or NaN: 0
        if odd:
            return r
        m = mask_of[member_subnet[r]]
        if m >= 0:
            for j in range(n):
                out[j] = out[j] * masks[m, j]
        total = _pairwise_sum(out, np.int64(n))
        if total > 0.0 and total != 1.0:  # a zero row stays zero; x / 1 is x
            for j in range(n):
                out[j] = out[j] / total
    return -1


@numba.njit(cache=True, nogil=True, inline="always")
def _divide_by_sum(row):  # type: ignore[no-untyped-def]
    """``row`` (>= +0) divided by its sum (numpy's pairwise sum) where that is positive,
    else zeros, as ``np.divide(row, total, out=zeros, where=total > 0)`` leaves it."""
    total = _pairwise_sum(row, np.int64(row.shape[0]))
    if total > 0.0:
        for j in range(row.shape[0]):
            row[j] = row[j] / total
    else:  # no positive total (zero or NaN): a zero row
        for j in range(row.shape[0]):
            row[j] = 0.0


@numba.njit(cache=True, nogil=True)
def normalise_rows(s, bits):  # type: ignore[no-untyped-def]
    """``work.weights_from_scores`` without top-k or sharpening, in place on the rows of
    ``s`` (``bits``: the same as int64), row after row: NaN and negatives to 0
    (``np.fmax(s, 0)``), the row divided by its sum (numpy's pairwise sum) where that is
    positive, else zeros.

    Returns the number of rows done: all of them, or up to the first row that holds a
    negative zero (numpy's ``fmax`` keeps or drops its sign by position), which is left
    untouched with the rows after it for numpy. Each row is scanned before it is
    changed, while it is in cache."""
    rows, n = s.shape
    for r in range(rows):
        odd = False
        for j in range(n):
            odd |= bits[r, j] == _NEGATIVE_ZERO
        if odd:
            return r
        out = s[r]
        for j in range(n):
            x = out[j]
            out[j] = x if x > 0.0 else 0.0  # zero, negative or NaN: 0
        _divide_by_sum(out)
    return rows


@numba.njit(cache=True, nogil=True)
def gather_masked(stack, rows, uids, mask, out):  # type: ignore[no-untyped-def]
    """``out[i] = stack[rows[i], uids[i]] * mask[rows[i]]`` (``mask`` boolean: each
    value times 1.0 or 0.0, as numpy's ``*=`` by a boolean array), in one pass:
    ``SubnetContext.own_scores(group, miners_only=True)``."""
    n = out.shape[1]
    for i in range(len(rows)):
        src = stack[rows[i], uids[i]]
        keep = mask[rows[i]]
        for j in range(n):
            out[i, j] = src[j] * (1.0 if keep[j] else 0.0)


@numba.njit(cache=True, nogil=True)
def put_rows(matrix, uids, rows):  # type: ignore[no-untyped-def]
    """``matrix[uids] = rows`` (rows copied in order: a repeated UID keeps its last), a
    plain copy per row where numpy's fancy assignment walks an index iterator
    (``Subnet._put_on_chain``: weights revealed on chain; ``rows`` must not share memory
    with ``matrix``). Returns False, copying nothing, where a UID is outside [0, rows of
    ``matrix``) (numpy's assignment raises there, or counts a negative one from the end)."""
    for k in range(len(uids)):
        if uids[k] < 0 or uids[k] >= matrix.shape[0]:
            return False
    for k in range(len(uids)):
        dst = matrix[uids[k]]
        src = rows[k]
        for j in range(dst.shape[0]):
            dst[j] = src[j]
    return True


@numba.njit(cache=True, nogil=True)
def own_weights(stack, rows, uids, mask, out):  # type: ignore[no-untyped-def]
    """``gather_masked`` then ``normalise_rows``, row after row while the row is in
    cache: ``out[i]`` the weights of the moving averages ``stack[rows[i], uids[i]]`` on
    miners (``mask[rows[i]]``). Returns the number of rows done: all, or up to the first
    whose masked scores hold a negative zero (left for numpy, as ``normalise_rows``
    leaves it): ``SubnetContext.own_weights``."""
    n = out.shape[1]
    for i in range(len(rows)):
        src = stack[rows[i], uids[i]]
        keep = mask[rows[i]]
        dst = out[i]
        odd = False
        for j in range(n):
            v = src[j] * (1.0 if keep[j] else 0.0)
            odd |= (v == 0.0) & (math.copysign(1.0, v) < 0.0)
            dst[j] = v if v > 0.0 else 0.0  # zero, negative or NaN: 0
        if odd:
            return i
        _divide_by_sum(dst)
    return len(rows)
