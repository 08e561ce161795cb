"""The compiled loops behind ``world.work_fast``'s grading (numba; imported on first use).

Nothing here is a rule: each loop makes, in one pass, the draws and the numbers of the
numpy functions ``work_fast`` names, in the same order (tests/test_work.py checks them bit
for bit). The loops take their random words straight from the bit generator of the run's
own ``numpy.random.Generator``: ``_next_word`` calls numpy's C function ``next_uint64`` on
the generator's state (the addresses from ``BitGenerator.ctypes``), the function numpy's
own ``random_raw``, ``random`` and ``standard_normal`` call, so a stream gives the same
words in the same order and is left where numpy leaves it, with no array of words in
between.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from world.work_fast import _BUCKET_BITS, _ULP53  # a uniform's bucket bits; 2^-53

jit = numba.njit(cache=True, nogil=True)
inline = numba.njit(cache=True, nogil=True, inline="always")


@intrinsic
def _next_word(typingctx, fn, state):  # type: ignore[no-untyped-def]
    """numpy's ``next_uint64(state)``: the C function at address ``fn`` (a bit generator's
    ``ctypes.next_uint64``) on the state at address ``state`` (its ``ctypes.state_address``)."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        byte_ptr = ir.IntType(8).as_pointer()
        call = ir.FunctionType(ir.IntType(64), [byte_ptr])
        target = builder.inttoptr(args[0], call.as_pointer())
        return builder.call(target, [builder.inttoptr(args[1], byte_ptr)])
    return types.uint64(fn, state), codegen


@jit
def words(fn, state, out):  # type: ignore[no-untyped-def]
    """``random_raw(out.size)`` into ``out`` (the check of ``_next_word`` at start-up)."""
    for i in range(out.size):
        out[i] = _next_word(fn, state)


@jit
def queries(fn, state, table, cdf, q, received, graded):  # type: ignore[no-untyped-def]
    """``work_fast.sample_queries`` (one uniform per pair, row after row, inverted through
    the bucket ``table`` or, in buckets that straddle a CDF step, ``searchsorted``), with
    the queries each miner received and each grader sent."""
    _queries(fn, state, table, cdf, q, received, graded)


@inline
def _queries(fn, state, table, cdf, q, received, graded):  # type: ignore[no-untyped-def]
    """The loop of :func:`queries`."""
    n_val, n_min = q.shape
    top = np.uint64(64 - _BUCKET_BITS)  # a uniform's bucket: its word's top bits
    low = np.uint64(11)
    for i in range(n_val):
        sent = 0
        for j in range(n_min):
            word = _next_word(fn, state)
            k = table[word >> top]
            if k < 0:  # a bucket that straddles a CDF step: search the uniform itself
                k = np.searchsorted(cdf, np.float64(word >> low) * _ULP53, side="right")
            q[i, j] = k
            sent += k
            received[j] += k
        graded[i] = sent


@inline
def _normal(fn, state, wi, ki, fi, nor_r, nor_inv_r):  # type: ignore[no-untyped-def]
    """numpy's ``random_standard_normal`` (numpy/random/src/distributions/distributions.c,
    the ziggurat of 256 layers, ``next_double`` being ``(word >> 11) * 2^-53``): the same
    operations in the same order, libm's ``exp`` and ``log1p`` as numpy's."""
    while True:
        r = _next_word(fn, state)
        idx = np.int64(r & np.uint64(0xFF))
        r = r >> np.uint64(8)
        rabs = (r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
        x = np.float64(rabs) * wi[idx]
        if r & np.uint64(1):
            x = -x
        if rabs < ki[idx]:
            return x  # 99.3% of the time
        if idx == 0:
            while True:
                u1 = np.float64(_next_word(fn, state) >> np.uint64(11)) * _ULP53
                u2 = np.float64(_next_word(fn, state) >> np.uint64(11)) * _ULP53
                xx = -nor_inv_r * math.log1p(-u1)
                yy = -math.log1p(-u2)
                if yy + yy > xx * xx:
                    if (rabs >> np.uint64(8)) & np.uint64(1):
                        return -(nor_r + xx)
                    return nor_r + xx
        else:
            u = np.float64(_next_word(fn, state) >> np.uint64(11)) * _ULP53
            if (fi[idx - 1] - fi[idx]) * u + fi[idx] < math.exp(-0.5 * x * x):
                return x


@jit
def normals(fn, state, out, wi, ki, fi, nor_r, nor_inv_r):  # type: ignore[no-untyped-def]
    """``Generator.standard_normal(out.size)`` into ``out``."""
    for i in range(out.size):
        out[i] = _normal(fn, state, wi, ki, fi, nor_r, nor_inv_r)


@inline
def _blend(ema, row, c, z, k, sqrt_q, scale, ceiling, keep, r, a):  # type: ignore[no-untyped-def]
    """One queried pair of ``work_fast.noisy_scores`` and ``blend_ema``: the score
    ``clip(z * noise / sqrt(k) + min(q, c), 0, 1)`` blended into the moving average."""
    s = z * scale
    s = s / sqrt_q[k]
    s = s + (a if a <= ceiling else ceiling)
    if s > 0.0:
        if not s < 1.0:
            s = 1.0
    else:
        s = 0.0
    ema[row, c] = keep * ema[row, c] + r * s


@inline
def _in_range(ema, rows, cols, n_min):  # type: ignore[no-untyped-def]
    """Whether every grader row and miner column indexes ``ema`` (a negative one counting
    from the end, as numpy's) and the columns are ``n_min``: the loops do not check their
    indices, so they refuse before drawing anything where numpy would raise."""
    outside = 0  # counted, not returned early: numba compiles such loops faster
    for r in rows:
        outside += (r < -ema.shape[0]) | (r >= ema.shape[0])
    for c in cols:
        outside += (c < -ema.shape[1]) | (c >= ema.shape[1])
    return outside == 0 and len(cols) == n_min


@jit
def grade_drawn(fn, state, wi, ki, fi, nor_r, nor_inv_r, q, sqrt_q, noise, quality,  # type: ignore[no-untyped-def]
                capability, rate, ema, rows, cols):
    """``noisy_scores`` and ``blend_ema`` in one pass over the graders, drawing each row's
    normals (every pair's, queried or not, row after row, as ``standard_normal`` of the
    whole graders x miners matrix does) and blending the row's scores; for subnets that
    check no copies."""
    if not _in_range(ema, rows, cols, q.shape[1]):
        return False
    _grade_rows(fn, state, wi, ki, fi, nor_r, nor_inv_r, q, sqrt_q, noise, quality,
                capability, rate, ema, rows, cols, np.empty(q.shape[1]))
    return True


@inline
def _grade_rows(fn, state, wi, ki, fi, nor_r, nor_inv_r, q, sqrt_q, noise, quality,  # type: ignore[no-untyped-def]
                capability, rate, ema, rows, cols, z):
    """The loop of :func:`grade_drawn` (``z``: room for a row of normals)."""
    n_val, n_min = q.shape
    for i in range(n_val):
        for j in range(n_min):
            z[j] = _normal(fn, state, wi, ki, fi, nor_r, nor_inv_r)
        scale, ceiling, r = noise[i], capability[i], rate[i]
        keep = 1.0 - r
        row = rows[i]
        for j in range(n_min):
            k = q[i, j]
            if k != 0:  # else not queried: no score, the moving average stays
                _blend(ema, row, cols[j], z[j], k, sqrt_q, scale, ceiling, keep, r, quality[j])


@jit
def grade_run(qfn, qstate, gfn, gstate, wi, ki, fi, nor_r, nor_inv_r, table, cdf, sqrt_q,  # type: ignore[no-untyped-def]
              stack, at, rows, starts, noise, quality, capability, rate, cols, received,
              graded):
    """:func:`queries` then :func:`grade_drawn` for each of a run of subnets, in order,
    in one call: subnet ``j``'s moving averages are ``stack[at[j]]``, its graders
    ``rows[starts[j]:starts[j + 1]]`` (with their ``noise``, ``capability`` and ``rate``
    at the same places), its miners' qualities ``quality[j]`` at columns ``cols[j]``; it
    writes the queries each miner received into ``received[j]`` and each grader sent into
    ``graded`` at its graders' places. Every subnet's indices are checked before anything
    is drawn (False: nothing done)."""
    b, n_min = quality.shape
    outside = 0
    most = 0
    for j in range(b):
        a, e = starts[j], starts[j + 1]
        if at[j] < 0 or at[j] >= stack.shape[0] or a < 0 or e < a or e > rows.size:
            outside += 1
        else:
            outside += not _in_range(stack[at[j]], rows[a:e], cols[j], n_min)
            most = max(most, e - a)
    if outside:
        return False
    q = np.empty((most, n_min), dtype=np.int64)
    z = np.empty(n_min)
    for j in range(b):
        a, e = starts[j], starts[j + 1]
        _queries(qfn, qstate, table, cdf, q[: e - a], received[j], graded[a:e])
        _grade_rows(gfn, gstate, wi, ki, fi, nor_r, nor_inv_r, q[: e - a], sqrt_q, noise[a:e],
                    quality[j], capability[a:e], rate[a:e], stack[at[j]], rows[a:e], cols[j],
                    z)
    return True


@jit
def grade(z, q, sqrt_q, noise, quality, capability, rate, dup, ema, rows, cols):  # type: ignore[no-untyped-def]
    """``noisy_scores``, the zeroing of detected copies (``dup``, or no copies when it is
    empty) and ``blend_ema`` in one pass over the queried pairs, the normals ``z`` given."""
    n_val, n_min = q.shape
    if not _in_range(ema, rows, cols, n_min):
        return False
    copies = dup.shape[0] > 0
    for i in range(n_val):
        scale, ceiling, r = noise[i], capability[i], rate[i]
        keep = 1.0 - r
        row = rows[i]
        for j in range(n_min):
            k = q[i, j]
            if k == 0:
                continue  # not queried: no score, the moving average stays
            if copies and dup[i, j]:
                ema[row, cols[j]] = keep * ema[row, cols[j]] + r * 0.0
            else:
                _blend(ema, row, cols[j], z[i, j], k, sqrt_q, scale, ceiling, keep, r,
                       quality[j])
    return True
