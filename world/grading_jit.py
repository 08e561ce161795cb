"""The compiled loops behind ``world.work_fast``'s grading (numba; imported on first use).

Nothing here is a rule: each loop makes, in one pass, the draws and the numbers of the
numpy functions ``work_fast`` names, in the same order (tests/test_work.py checks them bit
for bit). The loops draw the random words of the run's own ``numpy.random.Generator``
themselves: its bit generator, numpy's PCG64, is a 128-bit linear congruential generator
whose word is its new state's XSL-RR output (numpy/random/src/pcg64/pcg64.h
``pcg64_random_r``: ``state = state * 0x2360ED051FC65DA44385DF649FCCF645 + inc``, then the
two halves' xor rotated right by the state's top six bits). A call reads the state from
the generator's memory (``BitGenerator.ctypes.state_address``) once, steps it in
registers and writes it back once, so a stream gives numpy's words in numpy's order and
is left where numpy leaves it, with no array of words in between (``work_fast`` checks
this against ``random_raw`` before it takes the loops).
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


_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645  # pcg64.h PCG_DEFAULT_MULTIPLIER_128


@intrinsic
def _load(typingctx, address):  # type: ignore[no-untyped-def]
    """A PCG64 generator's (state, increment), each as (high, low) 64-bit halves, read
    from its ``pcg64_state`` at ``address`` (whose first member points to the 128-bit
    state and increment, low half first where numpy was compiled with 128-bit integers on
    a little-endian machine; any other layout, such as numpy's emulated one, high half
    first, fails ``work_fast._words_match``, and the grading then takes numpy's path, or
    refuses under ``TAO_ARENA_GRADING=numba``)."""
    pair = types.UniTuple(types.uint64, 2)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        i64 = ir.IntType(64)
        halves = builder.load(builder.inttoptr(args[0], i64.as_pointer().as_pointer()))
        lo, hi, inc_lo, inc_hi = (builder.load(builder.gep(halves, [ir.Constant(i64, k)]))
                                  for k in range(4))
        state = context.make_tuple(builder, pair, [hi, lo])
        inc = context.make_tuple(builder, pair, [inc_hi, inc_lo])
        return context.make_tuple(builder, signature.return_type, [state, inc])
    return types.Tuple((pair, pair))(address), codegen


@intrinsic
def _save(typingctx, address, state):  # type: ignore[no-untyped-def]
    """Write ``state`` (high, low) back to the PCG64 generator at ``address``."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        i64 = ir.IntType(64)
        halves = builder.load(builder.inttoptr(args[0], i64.as_pointer().as_pointer()))
        builder.store(builder.extract_value(args[1], 1), halves)
        builder.store(builder.extract_value(args[1], 0),
                      builder.gep(halves, [ir.Constant(i64, 1)]))
        return context.get_dummy_value()
    return types.none(address, state), codegen


@intrinsic
def _step(typingctx, state, inc):  # type: ignore[no-untyped-def]
    """``state * multiplier + inc`` modulo 2^128 (pcg64.h ``pcg_setseq_128_step_r``), the
    halves (high, low) joined into one 128-bit integer for LLVM's multiply."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        i64, i128 = ir.IntType(64), ir.IntType(128)
        sixty_four = ir.Constant(i128, 64)

        def joined(pair):  # type: ignore[no-untyped-def]
            hi = builder.zext(builder.extract_value(pair, 0), i128)
            return builder.or_(builder.shl(hi, sixty_four),
                               builder.zext(builder.extract_value(pair, 1), i128))
        x = builder.add(builder.mul(joined(args[0]), ir.Constant(i128, _MULTIPLIER)),
                        joined(args[1]))
        hi = builder.trunc(builder.lshr(x, sixty_four), i64)
        return context.make_tuple(builder, signature.return_type, [hi, builder.trunc(x, i64)])
    return state(state, inc), codegen


@inline
def _next_word(state, inc):  # type: ignore[no-untyped-def]
    """The next word of a PCG64 stream and its new state (pcg64.h ``pcg64_random_r``:
    the step, then ``pcg_output_xsl_rr_128_64`` of the new state)."""
    state = _step(state, inc)
    x = state[0] ^ state[1]
    turn = state[0] >> np.uint64(58)
    return (x >> turn) | (x << ((np.uint64(64) - turn) & np.uint64(63))), state


@jit
def words(address, out):  # type: ignore[no-untyped-def]
    """``random_raw(out.size)`` into ``out`` (the check of ``_next_word`` at start-up)."""
    state, inc = _load(address)
    for i in range(out.size):
        out[i], state = _next_word(state, inc)
    _save(address, state)


@jit
def queries(address, table, cdf, q, received, graded):  # type: ignore[no-untyped-def]
    """``work_fast.sample_queries`` (one uniform per pair, row after row, inverted through
    the bucket ``table`` or, in buckets that straddle a CDF step, ``searchsorted``), with
    the queries each miner received and each grader sent."""
    state, inc = _load(address)
    _save(address, _queries(state, inc, table, cdf, q, received, graded))


@inline
def _queries(state, inc, table, cdf, q, received, graded):  # type: ignore[no-untyped-def]
    """The loop of :func:`queries`, from the stream's ``state``; returns the new one."""
    n_val, n_min = q.shape
    top = np.uint64(64 - _BUCKET_BITS)  # a uniform's bucket: its word's top bits
    low = np.uint64(11)
    for i in range(n_val):
        sent = 0
        for j in range(n_min):
            word, state = _next_word(state, inc)
            k = table[word >> top]
            if k < 0:  # a bucket that straddles a CDF step: search the uniform itself
                k = np.searchsorted(cdf, np.float64(word >> low) * _ULP53, side="right")
            q[i, j] = k
            sent += k
            received[j] += k
        graded[i] = sent
    return state


@inline
def _normal(state, inc, wi, ki, fi, nor_r, nor_inv_r):  # type: ignore[no-untyped-def]
    """numpy's ``random_standard_normal`` (numpy/random/src/distributions/distributions.c,
    the ziggurat of 256 layers, ``next_double`` being ``(word >> 11) * 2^-53``): the same
    operations in the same order, libm's ``exp`` and ``log1p`` as numpy's. Returns the
    normal and the stream's new state."""
    while True:
        r, state = _next_word(state, inc)
        idx = np.int64(r & np.uint64(0xFF))
        r = r >> np.uint64(8)
        rabs = (r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF)
        x = np.float64(rabs) * wi[idx]
        if r & np.uint64(1):
            x = -x
        if rabs < ki[idx]:
            return x, state  # 99.3% of the time
        if idx == 0:
            while True:
                w1, state = _next_word(state, inc)
                w2, state = _next_word(state, inc)
                u1 = np.float64(w1 >> np.uint64(11)) * _ULP53
                u2 = np.float64(w2 >> np.uint64(11)) * _ULP53
                xx = -nor_inv_r * math.log1p(-u1)
                yy = -math.log1p(-u2)
                if yy + yy > xx * xx:
                    if (rabs >> np.uint64(8)) & np.uint64(1):
                        return -(nor_r + xx), state
                    return nor_r + xx, state
        else:
            w, state = _next_word(state, inc)
            u = np.float64(w >> np.uint64(11)) * _ULP53
            if (fi[idx - 1] - fi[idx]) * u + fi[idx] < math.exp(-0.5 * x * x):
                return x, state


@jit
def normals(address, out, wi, ki, fi, nor_r, nor_inv_r):  # type: ignore[no-untyped-def]
    """``Generator.standard_normal(out.size)`` into ``out``."""
    state, inc = _load(address)
    for i in range(out.size):
        out[i], state = _normal(state, inc, wi, ki, fi, nor_r, nor_inv_r)
    _save(address, state)


@intrinsic
def _clip01(typingctx, s):  # type: ignore[no-untyped-def]
    """``s if s > 0 else 0``, then ``that if that < 1 else 1`` (NaN to 0), as two selects
    with no branch: a lazy miner's scores, noise about zero, fall on either side of 0 at
    random, and a mispredicted branch there cost the grading 1.7 ms an epoch."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        f64 = ir.DoubleType()
        zero, one = ir.Constant(f64, 0.0), ir.Constant(f64, 1.0)
        x = builder.select(builder.fcmp_ordered(">", args[0], zero), args[0], zero)
        return builder.select(builder.fcmp_ordered("<", x, one), x, one)
    return types.float64(s), codegen


@inline
def _blend(ema, row, c, z, k, sqrt_q, scale, ceiling, keep, r, a):  # type: ignore[no-untyped-def]
    """One queried pair of ``work_fast.noisy_scores`` and ``blend_ema``: the score
    ``clip(z * noise / sqrt(k) + min(q, c), 0, 1)`` blended into the moving average."""
    s = z * scale
    s = s / sqrt_q[k]
    s = _clip01(s + (a if a <= ceiling else ceiling))
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
def grade_drawn(address, wi, ki, fi, nor_r, nor_inv_r, q, sqrt_q, noise, quality,  # type: ignore[no-untyped-def]
                capability, rate, ema, rows, cols):
    """``noisy_scores`` and ``blend_ema`` in one pass over the graders, drawing each row's
    normals (every pair's, queried or not, row after row, as ``standard_normal`` of the
    whole graders x miners matrix does) and blending the row's scores; for subnets that
    check no copies."""
    if not _in_range(ema, rows, cols, q.shape[1]):
        return False
    state, inc = _load(address)
    _save(address, _grade_rows(state, inc, wi, ki, fi, nor_r, nor_inv_r, q, sqrt_q, noise,
                               quality, capability, rate, ema, rows, cols,
                               np.empty(q.shape[1])))
    return True


@inline
def _grade_rows(state, inc, wi, ki, fi, nor_r, nor_inv_r, q, sqrt_q, noise, quality,  # type: ignore[no-untyped-def]
                capability, rate, ema, rows, cols, z):
    """The loop of :func:`grade_drawn` from the stream's ``state`` (``z``: room for a row
    of normals); returns the new state."""
    n_val, n_min = q.shape
    for i in range(n_val):
        for j in range(n_min):
            z[j], state = _normal(state, inc, wi, ki, fi, nor_r, nor_inv_r)
        scale, ceiling, r = noise[i], capability[i], rate[i]
        keep = 1.0 - r
        row = rows[i]
        for j in range(n_min):
            k = q[i, j]
            if k != 0:  # else not queried: no score, the moving average stays
                _blend(ema, row, cols[j], z[j], k, sqrt_q, scale, ceiling, keep, r, quality[j])
    return state


@inline
def _both_rows(qs, qinc, gs, ginc, wi, ki, fi, nor_r, nor_inv_r, table, cdf, sqrt_q, noise,  # type: ignore[no-untyped-def]
               quality, capability, rate, ema, rows, cols, received, graded):
    """:func:`_queries` and :func:`_grade_rows` of one subnet in one pass over its pairs,
    for two distinct streams: each pair's query word from the queries stream and its
    normal from the grading stream, drawn side by side (each stream's words in its own
    order, as the two loops draw them one after the other); the two streams' steps
    overlap in the processor. Returns both new states."""
    top = np.uint64(64 - _BUCKET_BITS)
    low = np.uint64(11)
    n_min = cols.size
    for i in range(rows.size):
        scale, ceiling, r = noise[i], capability[i], rate[i]
        keep = 1.0 - r
        row = rows[i]
        sent = 0
        for j in range(n_min):
            word, qs = _next_word(qs, qinc)
            # the inversion of _queries, written out again: as a shared inlined helper,
            # numba compiled these loops three times slower (bench/bench_grading.py)
            k = table[word >> top]
            if k < 0:
                k = np.searchsorted(cdf, np.float64(word >> low) * _ULP53, side="right")
            sent += k
            received[j] += k
            z, gs = _normal(gs, ginc, wi, ki, fi, nor_r, nor_inv_r)
            if k != 0:
                _blend(ema, row, cols[j], z, k, sqrt_q, scale, ceiling, keep, r, quality[j])
        graded[i] = sent
    return qs, gs


@jit
def grade_run(qaddress, gaddress, wi, ki, fi, nor_r, nor_inv_r, table, cdf, sqrt_q,  # type: ignore[no-untyped-def]
              stack, at, rows, starts, noise, quality, capability, rate, cols, received,
              graded):
    """:func:`queries` then :func:`grade_drawn` for each of a run of subnets, in order,
    in one call: subnet ``j``'s moving averages are ``stack[at[j]]``, its graders
    ``rows[starts[j]:starts[j + 1]]`` (with their ``noise``, ``capability`` and ``rate``
    at the same places), its miners' qualities ``quality[j]`` at columns ``cols[j]``; it
    writes the queries each miner received into ``received[j]`` and each grader sent into
    ``graded`` at its graders' places. Every subnet's indices are checked before anything
    is drawn (False: nothing done). The two streams may be one generator (the same
    address): its state then passes from the queries to the grading and back."""
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
    shared = qaddress == gaddress
    q = np.empty((most if shared else 0, n_min), dtype=np.int64)
    z = np.empty(n_min)
    qs, qinc = _load(qaddress)
    gs, ginc = _load(gaddress)
    for j in range(b):
        a, e = starts[j], starts[j + 1]
        if not shared:
            qs, gs = _both_rows(qs, qinc, gs, ginc, wi, ki, fi, nor_r, nor_inv_r, table, cdf,
                                sqrt_q, noise[a:e], quality[j], capability[a:e], rate[a:e],
                                stack[at[j]], rows[a:e], cols[j], received[j], graded[a:e])
            continue
        qs = _queries(qs, qinc, table, cdf, q[: e - a], received[j], graded[a:e])
        gs = _grade_rows(qs, ginc, wi, ki, fi, nor_r, nor_inv_r, q[: e - a], sqrt_q,
                         noise[a:e], quality[j], capability[a:e], rate[a:e], stack[at[j]],
                         rows[a:e], cols[j], z)
        qs = gs
    _save(qaddress, qs)
    _save(gaddress, gs)
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
