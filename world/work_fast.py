"""Speed-only paths of the grading rules in ``world.work``: the same draws and the same
numbers, in fewer passes. Nothing here is a rule; each function names the reference it
stands for, and tests/test_work.py checks each against it.

- ``sample_queries``: ``work.sample_queries`` with the CDF inversion answered from a
  table of 4,096 uniform buckets (searched only in the few that straddle a CDF step),
  and, on numpy's PCG64, straight from the 64-bit words behind ``Generator.random``.
- ``grade_epoch``: ``work.grade_epoch``; numpy operations fused in place
  (``graded_scores``, ``blend_ema``) or, with numba (``BACKEND``, set at import by
  ``TAO_ARENA_GRADING``: "auto", "numpy" or "numba"), the compiled loops of
  ``world.grading_jit``, which step the two streams' PCG64 generators themselves and
  make one pass each over a subnet's graders x miners (``grade_epochs``: every subnet of
  an epoch in one call, a run of subnets of one shape in one call of the compiled loops,
  with the two streams drawn side by side in one pass). Inputs
  where they could differ from the reference (non-finite values, negative zeros) take
  the reference functions.
- ``standard_normal``: ``Generator.standard_normal`` on numpy's PCG64, numpy's ziggurat
  compiled over the generator's own words (the same values, the generator left in the
  same state; checked once at start-up, else numpy's call).
"""

from __future__ import annotations

import itertools
import os
from functools import lru_cache
from types import SimpleNamespace

import numpy as np

from world.work import (
    GradedJudge,
    binomial_cdf,
    duplicate_detection,
    perceived_level,
    perceived_scores,
)

BACKENDS = ("auto", "numpy", "numba")
BACKEND = os.environ.get("TAO_ARENA_GRADING", "auto")


def sample_queries(
    rng: np.random.Generator, n_validators: int, n_miners: int, rounds: int, sample_size: int
) -> np.ndarray:
    """``work.sample_queries``: the same draws, from a table of uniform buckets."""
    if n_validators == 0 or n_miners == 0 or rounds == 0:
        return np.zeros((n_validators, n_miners), dtype=np.int64)
    p = min(1.0, sample_size / n_miners)
    cdf, low, straddles = _binomial_table(rounds, p)
    if _RAW_UNIFORMS and type(rng.bit_generator) is np.random.PCG64:
        # the 64-bit words rng.random() turns into uniforms u = (word >> 11) / 2^53, so
        # the bucket floor(u * 4096) is the word's top 12 bits: the same draws, fewer passes
        raw = rng.bit_generator.random_raw(n_validators * n_miners)
        raw = raw.reshape(n_validators, n_miners)
        q = _low_or_straddle(rounds, p)[(raw >> np.uint64(64 - _BUCKET_BITS)).view(np.int64)]
        at = np.flatnonzero(q < 0)
        if len(at):
            u = (raw.flat[at] >> np.uint64(11)).astype(np.float64) * _ULP53
            q.flat[at] = np.searchsorted(cdf, u, side="right")
        return q
    u = rng.random((n_validators, n_miners))
    u *= _BUCKETS  # exact (a power of two), so u / _BUCKETS below is the uniform again
    bucket = u.astype(np.intp)
    q = low[bucket]
    at = np.flatnonzero(straddles[bucket])
    if len(at):
        q.flat[at] = np.searchsorted(cdf, u.flat[at] / _BUCKETS, side="right")
    return q


@lru_cache(maxsize=256)
def _low_or_straddle(rounds: int, p: float) -> np.ndarray:
    """``_binomial_table``'s ``low`` with -1 in the buckets that straddle a CDF step."""
    _, low, straddles = _binomial_table(rounds, p)
    return np.where(straddles, -1, low)


def _raw_uniforms_match() -> bool:
    """Whether ``Generator.random`` on PCG64 is ``(random_raw() >> 11) / 2^53`` in this
    numpy (it is numpy's ``next_double``); checked once, else the plain path is used."""
    a = np.random.Generator(np.random.PCG64(20231201))
    b = np.random.Generator(np.random.PCG64(20231201))
    u = a.random(4096)
    raw = b.bit_generator.random_raw(4096)
    same = np.array_equal(u, (raw >> np.uint64(11)).astype(np.float64) * _ULP53)
    return bool(same and a.random() == b.random())


_BUCKET_BITS = 12
_ULP53 = 1.0 / 9007199254740992.0  # 2^-53
_BUCKETS = 1 << _BUCKET_BITS  # 4096
_RAW_UNIFORMS = _raw_uniforms_match()


@lru_cache(maxsize=256)
def _binomial_table(rounds: int, p: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``work.binomial_cdf`` with, per bucket of width 1/4096 of the uniform, the draw
    its uniforms invert to (``low``) unless the bucket straddles a CDF step
    (``straddles``: there the uniform itself is searched)."""
    cdf = binomial_cdf(rounds, p)
    edges = np.arange(_BUCKETS + 1) / _BUCKETS
    low = np.searchsorted(cdf, edges[:-1], side="right")
    high = np.searchsorted(cdf, np.nextafter(edges[1:], 0.0), side="right")
    return cdf, low.astype(np.int64), low != high


def noisy_scores(
    rng: np.random.Generator,
    quality: np.ndarray,
    capability: np.ndarray,
    noise: np.ndarray,
    sqrt_queries: np.ndarray,
    judge: GradedJudge | None = None,
) -> np.ndarray:
    """``work.perceived_scores`` given the square roots of the queries, without marking the
    pairs that sent none (their entries are meaningless; the caller masks them). The
    model passes ``sqrt_table(rounds)[queries]``, which equals ``np.sqrt(queries)``."""
    scores = rng.standard_normal(sqrt_queries.shape)
    scores *= _rows(noise)
    scores /= sqrt_queries
    if judge is not None:
        scores += perceived_level(quality, capability, judge)
    elif len(quality) and len(capability) and capability.min() >= quality.max():
        scores += quality  # min(q, c) is q for every pair: no graders x miners temporary
    else:
        scores += np.minimum(quality[None, :], capability[:, None])
    np.clip(scores, 0.0, 1.0, out=scores)
    return scores


@lru_cache(maxsize=64)
def sqrt_table(rounds: int) -> np.ndarray:
    """``sqrt(k)`` for k = 0..rounds, except 1 at k = 0 (a pair that sent no query has no
    score; 1 keeps its meaningless entry finite without a division by zero)."""
    table = np.sqrt(np.arange(rounds + 1, dtype=np.float64))
    table[0] = 1.0
    table.flags.writeable = False
    return table



def standard_normal(rng: np.random.Generator, rows: int, cols: int,
                    kernels: SimpleNamespace | None = None) -> np.ndarray:
    """``rng.standard_normal((rows, cols))``: the same values, and ``rng`` left in the
    same state, from a compiled copy of numpy's ziggurat drawing the generator's own
    words (``grading_jit.normals``) where ``kernels`` has it (numba there, the copy
    checked against numpy at start-up) and ``rng`` is numpy's PCG64; else numpy's call."""
    if kernels is None or kernels.ziggurat is None or not _pcg64(rng):
        return rng.standard_normal((rows, cols))
    out = np.empty((rows, cols))
    kernels.normals(*_words_of(rng), out.reshape(-1), *kernels.ziggurat)
    return out


def _pcg64(rng: np.random.Generator) -> bool:
    """Whether ``rng`` draws from numpy's PCG64 (whose words the compiled loops read)."""
    return type(rng.bit_generator) is np.random.PCG64


def _words_of(rng: np.random.Generator) -> tuple[int]:
    """The address of the state of ``rng``'s bit generator (numpy's PCG64), for
    ``grading_jit``'s loops to draw its words (valid while ``rng`` lives)."""
    return (rng.bit_generator.ctypes.state_address,)


def graded_scores(
    rng: np.random.Generator,
    quality: np.ndarray,
    capability: np.ndarray,
    noise: np.ndarray,
    queries: np.ndarray,
    answer_key: np.ndarray,
    detects: np.ndarray,
    rounds: int,
    sample_size: int,
    judge: GradedJudge | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """An epoch's grading in one call: (scores, observed).

    The same draws and, wherever ``observed``, the same numbers as ``perceived_scores``
    followed by ``duplicate_detection`` (queried copies that are caught score 0) and
    ``nan_to_num``; ``observed`` is where ``perceived_scores`` is not NaN. With finite
    inputs a score is missing exactly where no query was sent, so the NaN marking is
    skipped and the unobserved entries are left meaningless (``queries`` must be at most
    ``rounds``). Non-finite inputs take the reference functions themselves.
    """
    reference = not (np.isfinite(quality).all() and np.isfinite(capability).all()
                     and np.isfinite(noise).all())
    if reference:
        scores = perceived_scores(rng, quality, capability, noise, queries, judge)
    else:
        scores = noisy_scores(rng, quality, capability, noise, sqrt_table(rounds)[queries],
                              judge)
    if len(answer_key) and detects.any() and (answer_key >= 0).any() and rounds:
        dup = duplicate_detection(rng, answer_key, detects, rounds, sample_size)
        if reference:
            scores = np.where(dup & (queries > 0), 0.0, scores)
        else:
            scores[dup] = 0.0
    if reference:
        observed = ~np.isnan(scores)
        np.nan_to_num(scores, copy=False)
    else:
        observed = queries > 0
    return scores, observed


def blend_ema(ema: np.ndarray, scores: np.ndarray, observed: np.ndarray, rate: np.ndarray) -> None:
    """Each validator's moving average of perceived scores, updated in place only where
    it observed a score (MODEL.md section 5): ``ema`` becomes ``(1 - rate) ema + rate
    scores`` where ``observed`` (``scores``, ``graded_scores``' output, is overwritten)."""
    r = _rows(rate)
    blended = (1.0 - r) * ema
    scores *= r
    blended += scores
    np.copyto(ema, blended, where=observed)


def _rows(values: np.ndarray) -> np.ndarray | np.float64:
    """Per-row factors for a rows x columns product: the one value when all rows share it
    bit for bit (a scalar operand is cheaper to broadcast; every product is the same),
    else a column."""
    if len(values) and values.dtype == np.float64 and values.flags.c_contiguous:
        bits = values.view(np.int64)
        if (bits == bits[0]).all():
            return values[0]
    return values[:, None]


def grade_epoch(
    queries_rng: np.random.Generator,
    grading_rng: np.random.Generator,
    ema: np.ndarray,
    graders: np.ndarray,
    miners: slice | np.ndarray,
    quality: np.ndarray,
    capability: np.ndarray,
    noise: np.ndarray,
    rate: np.ndarray,
    answer_key: np.ndarray,
    detects: np.ndarray,
    rounds: int,
    sample_size: int,
    plain: bool | None = None,
    judge: GradedJudge | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``work.grade_epoch``: the graders' moving averages ``ema[graders, miners]`` updated
    in place; returns the queries each miner received and each grader sent (int).

    ``sample_queries``, then ``graded_scores`` and ``blend_ema``: the same draws from the
    two streams and the same numbers, computed by numpy or, where the inputs allow it
    (finite, no negative zeros, numpy's PCG64 uniforms), by compiled loops that make one
    pass instead of a dozen (``BACKEND``). ``plain``: the caller's ``plain_inputs(quality,
    capability, noise, rate)``, if it knows it. ``judge``: the grader ``graded``
    (``work.GradedJudge``; None: ``min``), graded by numpy (the compiled loops say
    ``min(q, c)``).
    """
    job = (ema, graders, miners, quality, capability, noise, rate, answer_key, detects,
           rounds, sample_size, plain, judge)
    kernels = _kernels()
    if kernels is not None and _compiled(queries_rng, grading_rng, job):
        return _grade_job(kernels, _words_of(queries_rng), _words_of(grading_rng),
                          grading_rng, job)
    n_val, n_min = len(graders), len(quality)
    q = sample_queries(queries_rng, n_val, n_min, rounds, sample_size)
    if n_val and n_min:
        scores, observed = graded_scores(grading_rng, quality, capability, noise, q,
                                         answer_key, detects, rounds, sample_size, judge)
        runs = _consecutive_runs(graders)
        if (isinstance(miners, slice) and len(runs) <= 4
                and np.min(graders) >= 0 and np.max(graders) < len(ema)):
            # graders in a few runs of consecutive UIDs, miners a range: update in place
            # (UIDs counted from the end or past the rows take numpy's indexing below)
            for a, b in runs:
                g = int(graders[a])
                blend_ema(ema[g : g + b - a, miners], scores[a:b], observed[a:b], rate[a:b])
        else:
            block = (graders, miners) if isinstance(miners, slice) else np.ix_(graders, miners)
            part = ema[block]
            blend_ema(part, scores, observed, rate)
            ema[block] = part
    return q.sum(axis=0), q.sum(axis=1)


def grade_epochs(
    queries_rng: np.random.Generator, grading_rng: np.random.Generator, jobs: list[tuple]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``grade_epoch(queries_rng, grading_rng, *job)`` for each job in order (a job is
    its arguments after the two streams): the same draws and the same numbers, the
    streams' addresses for the compiled loops looked up once, and each run of consecutive
    jobs that ``_together`` gives one key (the model's subnets of one shape, whose moving
    averages it keeps stacked) graded in one call of the compiled loops."""
    kernels = _kernels()
    words: tuple | None = None
    out: list[tuple[np.ndarray, np.ndarray]] = []
    tags = [(_ONE, 0) if kernels is not None and _compiled(queries_rng, grading_rng, job)
            else (None, 0) for job in jobs]
    if kernels is not None and kernels.ziggurat is not None:
        tags = [_together(job) if key is _ONE else (key, 0) for job, (key, _) in
                zip(jobs, tags, strict=True)]
    for key, run in itertools.groupby(zip(jobs, tags, strict=True), key=lambda jt: jt[1][0]):
        run = list(run)
        if key is None:
            out += [grade_epoch(queries_rng, grading_rng, *job) for job, _ in run]
            continue
        words = words or (_words_of(queries_rng), _words_of(grading_rng))
        if key is not _ONE and len(run) > 1:
            done = _grade_run(kernels, queries_rng, grading_rng, [job for job, _ in run],
                              [place for _, (_, place) in run])
            if done is not None:
                out += done
                continue
        out += [_grade_job(kernels, *words, grading_rng, job) for job, _ in run]
    return out


_ONE = ("one",)  # a job that takes the compiled loops on its own (``_grade_job``)


def _together(job: tuple) -> tuple[tuple, int]:
    """For a job that takes the compiled loops (``_compiled``): the key its run of
    consecutive jobs shares to go through them in one call (``_grade_run``: no copies to
    check, the same rounds, sample size and number of miners, moving averages that are
    views of one stacked array, ``stack_place``) and its moving averages' place in that
    array; or ``(_ONE, 0)``. The jobs' inputs are read before any of them is graded: they
    must not share memory with another job's moving averages (the model's never do)."""
    (ema, graders, _, quality, capability, noise, rate, answer_key, detects, rounds,
     sample_size, _, _) = job
    n_val = len(graders)
    if (detects.any() and (answer_key >= 0).any()) or not (
            len(noise) == len(capability) == len(rate) == n_val):
        return _ONE, 0
    at = stack_place(ema)
    if at is None:
        return _ONE, 0
    return (id(at[0]), rounds, sample_size, len(quality)), at[1]


def stack_place(ema: np.ndarray) -> tuple[np.ndarray, int] | None:
    """The stacked array (C-contiguous, writable float64, subnets x n x n) whose writable
    float64 view ``ema`` is, and its place in it; None where it is no such view. A run of
    subnets is graded in one call of the compiled loops only on such views: the call
    writes into the stack."""
    base = ema.base
    if not (isinstance(base, np.ndarray) and base.ndim == 3 and base.dtype == np.float64
            and base.flags.c_contiguous and base.flags.writeable
            and ema.dtype == np.float64 and ema.flags.writeable
            and ema.shape == base.shape[1:] and ema.strides == base.strides[1:]):
        return None
    offset = ema.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    place, rest = divmod(offset, base.strides[0])
    if rest or not 0 <= place < base.shape[0]:
        return None
    return base, place


def one_call_kernels(queries_rng: np.random.Generator, grading_rng: np.random.Generator
                     ) -> SimpleNamespace | None:
    """The compiled loops where a run of subnets may be graded in one call of them
    (``grade_stacked``: numba there, numpy's normals compiled, both streams numpy's PCG64
    with its words readable), else None."""
    kernels = _kernels()
    if (kernels is None or kernels.ziggurat is None or not _RAW_UNIFORMS
            or not (_pcg64(queries_rng) and _pcg64(grading_rng))):
        return None
    return kernels


def grade_stacked(kernels: SimpleNamespace, queries_rng: np.random.Generator,
                  grading_rng: np.random.Generator, rounds: int, sample_size: int,
                  stack: np.ndarray, places: np.ndarray, rows: np.ndarray,
                  starts: np.ndarray, noise: np.ndarray, quality: np.ndarray,
                  capability: np.ndarray, rate: np.ndarray, cols: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """``grade_epoch`` of a run of subnets in one call of the compiled loops
    (``grading_jit.grade_run``; ``kernels`` from ``one_call_kernels``): subnet ``j``'s
    moving averages ``stack[places[j]]``, its graders ``rows[starts[j]:starts[j + 1]]``
    (their noise, capability and rate at the same places), its miners' qualities
    ``quality[j]`` at columns ``cols[j]``. Returns the queries each miner received
    (subnets x miners) and each grader sent, or None where an index falls outside the
    moving averages (nothing drawn)."""
    b, n_min = quality.shape
    p = min(1.0, sample_size / n_min)
    received = np.zeros((b, n_min), dtype=np.int64)
    graded = np.empty(starts[-1], dtype=np.int64)
    done = kernels.grade_run(
        *_words_of(queries_rng), *_words_of(grading_rng), *kernels.ziggurat,
        _low_or_straddle(rounds, p), _binomial_table(rounds, p)[0], sqrt_table(rounds),
        stack, places, rows, starts, noise, quality, capability, rate, cols, received,
        graded)
    return (received, graded) if done else None


def _grade_run(kernels: SimpleNamespace, queries_rng: np.random.Generator,
               grading_rng: np.random.Generator, run: list[tuple], places: list[int]
               ) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """``_grade_job`` of each job of ``run`` (jobs ``_together`` gave one key), in one call
    of the compiled loops (``grade_stacked``): the same draws in the same order, the same
    numbers. None where a job's indices fall outside its moving averages (nothing drawn:
    ``_grade_job`` then raises for it)."""
    first = run[0]
    n_min = len(first[3])
    columns = [_index(j[2].start, j[2].stop) if isinstance(j[2], slice)
               else np.asarray(j[2], dtype=np.int64) for j in run]
    if any(len(c) != n_min for c in columns):
        return None  # a job's miner columns and qualities differ: ``_grade_job`` raises
    graders = [np.asarray(job[1], dtype=np.int64) for job in run]
    starts = np.zeros(len(run) + 1, dtype=np.int64)
    np.cumsum([len(g) for g in graders], out=starts[1:])
    capability, noise, rate = (np.concatenate([job[f] for job in run]) for f in (4, 5, 6))
    done = grade_stacked(
        kernels, queries_rng, grading_rng, first[9], first[10], first[0].base,
        np.array(places, dtype=np.int64), np.concatenate(graders), starts, noise,
        np.stack([job[3] for job in run]), capability, rate, np.stack(columns))
    if done is None:
        return None
    received, graded = done
    return [(received[i], graded[starts[i] : starts[i + 1]]) for i in range(len(run))]


def _compiled(queries_rng: np.random.Generator, grading_rng: np.random.Generator,
              job: tuple) -> bool:
    """Whether ``grade_epoch`` takes the compiled loops for ``job`` (numba being there)."""
    (_, graders, _, quality, capability, noise, rate, _, _, rounds, _, plain, judge) = job
    return bool(judge is None and len(graders) and len(quality) and rounds and _RAW_UNIFORMS
                and _pcg64(queries_rng) and _pcg64(grading_rng)
                and (plain_inputs(quality, capability, noise, rate) if plain is None
                     else plain))


def _grade_job(kernels: SimpleNamespace, queries_words: tuple[int],
               grading_words: tuple[int], grading_rng: np.random.Generator,
               job: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The compiled path of ``grade_epoch``: the queries drawn from the queries stream's
    words (``grading_jit.queries``), then each pair's normal from the grading stream's
    and its score blended in as it is drawn (``grading_jit.grade_drawn``); a subnet that
    checks copies draws its normals first (``standard_normal``), then its copies
    (``duplicate_detection``, which draws after them), then grades them."""
    (ema, graders, miners, quality, capability, noise, rate, answer_key, detects, rounds,
     sample_size, _, _) = job
    n_val, n_min = len(graders), len(quality)
    p = min(1.0, sample_size / n_min)
    q = np.empty((n_val, n_min), dtype=np.int64)
    received = np.zeros(n_min, dtype=np.int64)
    graded = np.empty(n_val, dtype=np.int64)
    kernels.queries(*queries_words, _low_or_straddle(rounds, p), _binomial_table(rounds, p)[0],
                    q, received, graded)
    rows = np.asarray(graders, dtype=np.int64)
    cols = (_index(miners.start, miners.stop) if isinstance(miners, slice)
            else np.asarray(miners, dtype=np.int64))
    copies = bool(detects.any() and (answer_key >= 0).any())
    if not len(noise) == len(capability) == len(rate) == n_val:
        raise ValueError(f"grade_epoch: {n_val} graders but {len(noise)} noises, "
                         f"{len(capability)} capabilities and {len(rate)} rates")
    if kernels.ziggurat is not None and not copies:
        done = kernels.grade_drawn(*grading_words, *kernels.ziggurat, q, sqrt_table(rounds),
                                   noise, quality, capability, rate, ema, rows, cols)
    else:
        z = standard_normal(grading_rng, n_val, n_min, kernels)
        dup = (duplicate_detection(grading_rng, answer_key, detects, rounds, sample_size)
               if copies else _NO_COPIES)
        done = kernels.grade(z, q, sqrt_table(rounds), noise, quality, capability, rate, dup,
                             ema, rows, cols)
    if not done:  # the loops check their indices before they write
        raise IndexError(f"grade_epoch: graders or miners outside the moving averages "
                         f"{ema.shape}, or {len(cols)} miner columns for {n_min} qualities")
    return received, graded


def plain_inputs(quality: np.ndarray, capability: np.ndarray, noise: np.ndarray,
                 rate: np.ndarray) -> bool:
    """Whether ``grade_epoch`` may take the compiled loops: every value finite, and no
    negative zero among the qualities and capabilities (where they match numpy exactly)."""
    return (_plain(quality) and _plain(capability) and bool(np.isfinite(noise).all())
            and bool(np.isfinite(rate).all()))


def _plain(x: np.ndarray) -> bool:
    """Finite and without negative zeros."""
    return bool(np.isfinite(x).all() and not (np.signbit(x) & (x == 0)).any())


def plain_values(x: np.ndarray) -> bool:
    """``_plain`` (finite, no negative zero) of float64 values, in two passes: the bits of
    a finite value below the sign have an exponent below all ones, and a negative zero's
    bits are the sign bit alone. Others take ``_plain``."""
    if x.dtype != np.float64 or not x.flags.c_contiguous:
        return _plain(x)
    bits = x.view(np.int64)
    finite = np.count_nonzero((bits & _EXPONENT) == _EXPONENT) == 0
    return finite and np.count_nonzero(bits == _SIGN) == 0


_EXPONENT = np.int64(0x7FF0000000000000)
_SIGN = np.int64(-0x8000000000000000)


@lru_cache(maxsize=1024)
def _index(start: int, stop: int) -> np.ndarray:
    """``arange(start, stop)``, read-only and kept."""
    out = np.arange(start, stop, dtype=np.int64)
    out.flags.writeable = False
    return out


def _consecutive_runs(uids: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) positions of the runs of consecutive values in ``uids``."""
    cuts = (np.flatnonzero(np.diff(uids) != 1) + 1).tolist()
    return list(zip([0, *cuts], [*cuts, len(uids)], strict=True))


_NO_COPIES = np.zeros((0, 0), dtype=bool)


_COMPILED: SimpleNamespace | None = None
_NUMBA_MISSING = False


def _kernels() -> SimpleNamespace | None:
    """The compiled loops (``world.grading_jit``, numba, cached on disk) with numpy's
    ziggurat tables where the compiled normals were found equal to numpy's, or None for
    the numpy path (no numba, ``BACKEND`` "numpy", or the compiled loops' words found to
    differ from numpy's)."""
    global _COMPILED, _NUMBA_MISSING
    if BACKEND not in BACKENDS:
        raise ValueError(f"TAO_ARENA_GRADING must be one of {', '.join(BACKENDS)}, "
                         f"got {BACKEND!r}")
    if BACKEND == "numpy" or (BACKEND == "auto" and _NUMBA_MISSING):
        return None
    if _COMPILED is None:
        try:
            from world import grading_jit
        except ImportError:
            if BACKEND == "numba":
                raise
            _NUMBA_MISSING = True
            return None
        if not _words_match(grading_jit):  # a numpy whose PCG64 is laid out otherwise
            if BACKEND == "numba":
                raise RuntimeError("the compiled grading loops' random words differ from "
                                   "numpy's; set TAO_ARENA_GRADING=numpy")
            _NUMBA_MISSING = True
            return None
        _COMPILED = SimpleNamespace(queries=grading_jit.queries, grade=grading_jit.grade,
                                    grade_drawn=grading_jit.grade_drawn,
                                    grade_run=grading_jit.grade_run,
                                    normals=grading_jit.normals, ziggurat=None)
        _COMPILED.ziggurat = _ziggurat_tables(_COMPILED)
    return _COMPILED


def _words_match(grading_jit: object) -> bool:
    """Whether the compiled loops' words are ``random_raw``'s and leave the generator in
    the same state (checked once on a fixed seed)."""
    a = np.random.Generator(np.random.PCG64(20231201))
    b = np.random.Generator(np.random.PCG64(20231201))
    out = np.empty(4096, dtype=np.uint64)
    grading_jit.words(*_words_of(b), out)  # type: ignore[attr-defined]
    return bool(np.array_equal(out, a.bit_generator.random_raw(4096))
                and a.bit_generator.state == b.bit_generator.state)


def _ziggurat_tables(kernels: SimpleNamespace) -> tuple | None:
    """numpy's ziggurat tables (numpy/random/src/distributions/ziggurat_constants.h, as
    numba copies them), if ``grading_jit.normals`` with them gives numpy's normals bit for
    bit on 2^18 draws of a fixed seed (rejections and the tail included) and leaves the
    generator where numpy's does; else None (``standard_normal`` then calls numpy)."""
    try:
        from numba.np.random import _constants as c
    except ImportError:
        return None
    tables = (np.asarray(c.wi_double, dtype=np.float64), np.asarray(c.ki_double, np.uint64),
              np.asarray(c.fi_double, dtype=np.float64), float(c.ziggurat_nor_r),
              float(c.ziggurat_nor_inv_r))
    if not _RAW_UNIFORMS or tables[0].shape != (256,) or tables[1].shape != (256,):
        return None
    kernels.ziggurat = tables
    a = np.random.Generator(np.random.PCG64(20231201))
    b = np.random.Generator(np.random.PCG64(20231201))
    same = np.array_equal(a.standard_normal((512, 512)), standard_normal(b, 512, 512, kernels))
    kernels.ziggurat = None
    return tables if same and a.bit_generator.state == b.bit_generator.state else None
