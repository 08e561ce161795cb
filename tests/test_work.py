"""Queries and grading (MODEL.md section 5): the reference rules (``world.work``), and
each speed-only path (``world.work_fast``) against them."""

import contextlib

import numpy as np
import pytest

from world import work, work_fast


def test_queries_average_the_sample_size():
    rng = np.random.default_rng(0)
    q = work.sample_queries(rng, 200, 100, rounds=10, sample_size=25)
    assert q.shape == (200, 100)
    assert abs(q.sum(axis=1).mean() / 10 - 25) < 0.5  # per round, per validator


def test_inferior_grader_cannot_tell_superior_answers_apart():
    rng = np.random.default_rng(1)
    quality = np.array([0.6, 0.8, 0.95])
    q = np.full((2, 3), 10_000)
    s = work.perceived_scores(rng, quality, np.array([0.7, 1.0]), np.array([0.01, 0.01]), q)
    assert abs(s[0, 1] - s[0, 2]) < 0.01  # capability 0.7 sees both as 0.7
    assert s[1, 2] - s[1, 1] > 0.1  # a capable grader ranks them
    assert np.isnan(work.perceived_scores(rng, quality, np.ones(1), np.ones(1),
                                          np.zeros((1, 3), int))).all()


def test_duplicates_detected_only_by_dedup_validators_and_only_for_copies():
    rng = np.random.default_rng(2)
    key = np.array([-1, 7, 7, 7, -1])
    det = work.duplicate_detection(rng, key, np.array([True, False]), rounds=30, sample_size=5)
    assert det[0, 1:4].all() and not det[0, [0, 4]].any()
    assert not det[1].any()


def test_ema_only_moves_where_observed():
    ema = np.array([[0.5, 0.5], [0.2, 0.0]])
    scores = np.array([[1.0, np.nan], [0.6, 1.0]])
    out = work.update_ema(ema, scores, np.array([0.25, 0.5]))
    assert np.allclose(out, [[0.625, 0.5], [0.4, 0.5]])


def test_grading_moves_only_the_graders_rows_and_the_miners_columns():
    ema = np.full((6, 6), 0.5)
    rq, rg = np.random.default_rng(0), np.random.default_rng(1)
    received, sent = work.grade_epoch(rq, rg, ema, np.array([0, 2]), slice(3, 6),
                                      np.array([1.0, 0.0, 0.5]), np.ones(2), np.zeros(2),
                                      np.ones(2), np.full(3, -1), np.zeros(2, bool), 50, 3)
    assert received.shape == (3,) and sent.shape == (2,) and received.sum() == sent.sum() > 0
    assert np.array_equal(ema[[0, 2]][:, 3:], [[1.0, 0.0, 0.5]] * 2)  # noise 0, rate 1
    untouched = np.ones((6, 6), bool)
    untouched[np.ix_([0, 2], [3, 4, 5])] = False
    assert (ema[untouched] == 0.5).all()


def test_weights_from_scores_topk_and_sharpen():
    s = np.array([[0.1, 0.4, 0.5, 0.0]])
    w = work.weights_from_scores(s, np.array([1.0]), np.array([2]))
    assert np.allclose(w, [[0, 4 / 9, 5 / 9, 0]])
    w2 = work.weights_from_scores(s, np.array([2.0]), np.array([0]))
    assert np.allclose(w2.sum(), 1) and w2[0, 2] > 5 / 10
    assert (work.weights_from_scores(np.zeros((1, 3)), np.ones(1), np.zeros(1)) == 0).all()


# -- the speed-only paths against the reference ------------------------------------------
def test_fast_query_sampling_equals_the_reference(monkeypatch):
    """Bucket table and PCG64 words (and the bucket table alone): the same draws."""
    for seed in range(40):
        r = np.random.default_rng(seed)
        v, m, rounds, size = (int(r.integers(1, 60)), int(r.integers(1, 300)),
                              int(r.integers(1, 40)), int(r.integers(1, 80)))
        ref = work.sample_queries(np.random.default_rng(seed), v, m, rounds, size)
        for raw in (True, False):
            monkeypatch.setattr(work_fast, "_RAW_UNIFORMS", raw)
            fast = work_fast.sample_queries(np.random.default_rng(seed), v, m, rounds, size)
            assert fast.dtype == ref.dtype and np.array_equal(fast, ref), (seed, raw)
    mt = np.random.Generator(np.random.MT19937(1))  # not PCG64: the bucket table only
    assert np.array_equal(work_fast.sample_queries(mt, 5, 50, 10, 10),
                          work.sample_queries(np.random.Generator(np.random.MT19937(1)),
                                              5, 50, 10, 10))


def test_compiled_words_are_numpys_pcg64():
    """The compiled loops' own PCG64 (``grading_jit.words``) gives ``random_raw``'s words
    and leaves the generator's state where numpy leaves it, from fresh, advanced, jumped
    and spawned generators and a state set by hand (increments and states with every
    high bit), and draws on from where numpy's own calls left it."""
    pytest.importorskip("numba")
    from world import grading_jit

    top = (1 << 128) - 1
    gens = [np.random.PCG64(s) for s in range(4)]
    gens += [np.random.PCG64(5).advance(10**30), np.random.PCG64(6).jumped(3),
             np.random.PCG64(np.random.SeedSequence(7).spawn(2)[1])]
    by_hand = np.random.PCG64()
    by_hand.state = {"bit_generator": "PCG64", "has_uint32": 0, "uinteger": 0,
                     "state": {"state": top - 12345, "inc": top}}
    gens.append(by_hand)
    for g in gens:
        twin = np.random.PCG64()
        twin.state = g.state
        g.random_raw(3)  # numpy draws first, then the loops go on from there
        twin.random_raw(3)
        out = np.empty(5000, dtype=np.uint64)
        grading_jit.words(*work_fast._words_of(np.random.Generator(g)), out)
        assert np.array_equal(out, twin.random_raw(5000))
        assert g.state == twin.state


def test_compiled_words_unlike_numpys_leave_grading_to_numpy(monkeypatch):
    """Should the compiled loops' words differ from numpy's (a numpy whose PCG64 is laid
    out otherwise), the grading takes numpy's path, or refuses by name where the compiled
    loops were asked for."""
    pytest.importorskip("numba")
    from world import grading_jit

    monkeypatch.setattr(grading_jit, "words", lambda address, out: out.fill(7))
    monkeypatch.setattr(work_fast, "_COMPILED", None)
    monkeypatch.setattr(work_fast, "_NUMBA_MISSING", False)
    monkeypatch.setattr(work_fast, "BACKEND", "auto")
    assert work_fast._kernels() is None
    monkeypatch.setattr(work_fast, "_NUMBA_MISSING", False)
    monkeypatch.setattr(work_fast, "BACKEND", "numba")
    with pytest.raises(RuntimeError, match="TAO_ARENA_GRADING=numpy"):
        work_fast._kernels()


def test_compiled_normals_equal_numpys(monkeypatch):
    """``work_fast.standard_normal`` (numpy's ziggurat compiled, on PCG64's words) gives
    ``Generator.standard_normal``'s values bit for bit and leaves the generator where it
    does, over enough draws to take the rejections and the tail many times, at every size;
    a generator that is not PCG64 takes numpy's call."""
    pytest.importorskip("numba")
    kernels = work_fast._kernels()
    if kernels is None or kernels.ziggurat is None:
        pytest.skip("the compiled ziggurat is off in this numpy or numba")
    for seed in range(12):
        for shape in ((1, 1), (3, 7), (50, 192), (300, 700)):
            a, b = np.random.default_rng(seed), np.random.default_rng(seed)
            ref = a.standard_normal(shape)
            fast = work_fast.standard_normal(b, *shape, kernels)
            assert np.array_equal(ref.view(np.int64), fast.view(np.int64)), (seed, shape)
            assert a.bit_generator.state == b.bit_generator.state, (seed, shape)
    mt = np.random.Generator(np.random.MT19937(1))
    assert np.array_equal(work_fast.standard_normal(mt, 4, 5, kernels),
                          np.random.Generator(np.random.MT19937(1)).standard_normal((4, 5)))

@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_fast_grading_equals_the_reference(monkeypatch, backend):
    """``work_fast.grade_epoch`` (fused numpy or compiled loops) gives the reference's
    moving averages, sums and draws, including non-finite inputs, copies and graders
    counted from the end."""
    if backend == "numba":
        pytest.importorskip("numba")
    monkeypatch.setattr(work_fast, "BACKEND", backend)
    r = np.random.default_rng(0)
    for t in range(60):
        v, m, n = int(r.integers(1, 40)), int(r.integers(1, 150)), 256
        graders = r.choice(n, v, replace=False) if t % 2 else np.arange(3, 3 + v)
        if t % 4 >= 2:  # some UIDs counted from the end, as numpy's indexing takes them
            graders = np.where(r.random(v) < 0.5, graders - n, graders)
        miners = slice(60, 60 + m) if t % 3 else np.sort(r.choice(np.arange(60, n), m,
                                                                   replace=False))
        quality = r.random(m)
        quality[: m // 4] = 0.0  # lazy miners
        cap = np.full(v, 0.93) if t % 4 else r.random(v)
        noise = np.full(v, 0.05) if t % 5 else r.random(v) * 0.3
        rate = np.full(v, 0.1) if t % 2 else r.random(v)
        if t % 7 == 0:
            quality[int(r.integers(0, m))] = np.nan
        if t % 11 == 0:
            noise[0] = np.inf
        key = np.where(r.random(m) < 0.4, r.integers(0, 5, m), -1)
        detects = r.random(v) < (0.5 if t % 3 == 0 else 0.0)
        rounds, size = int(r.integers(1, 35)), int(r.integers(1, 60))
        out = {}
        for name, grade in (("reference", work.grade_epoch), ("fast", work_fast.grade_epoch)):
            ema = np.random.default_rng(t).random((n, n))
            rq, rg = np.random.default_rng(100 + t), np.random.default_rng(200 + t)
            sums = grade(rq, rg, ema, graders, miners, quality, cap, noise, rate, key,
                         detects, rounds, size)
            out[name] = (ema, *sums, rq.random(), rg.random())
        a, b = out["reference"], out["fast"]
        assert np.array_equal(a[0], b[0], equal_nan=True), t
        assert np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2]), t
        assert a[3:] == b[3:], t  # the same draws from both streams


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_grading_graders_at_the_rows_ends_as_numpy_does(monkeypatch, backend):
    """Graders in a run of UIDs that crosses the end of the moving averages' rows, counted
    from it or past it, are graded (or refused with IndexError) as the reference's
    indexing does on every path (numpy's on a NaN quality), never a shape error or a
    silently shorter slice; graders given as a tuple, as the reference takes them."""
    if backend == "numba":
        pytest.importorskip("numba")
    monkeypatch.setattr(work_fast, "BACKEND", backend)
    for graders in ([2, -1], [-1, 0], [-2, -1], [3, 4], (1, 2)):
        for quality in (np.array([0.5, 0.6, 0.7]), np.array([0.5, np.nan, 0.7])):
            who = np.array(graders) if isinstance(graders, list) else graders
            args = (who, slice(0, 3), quality, np.full(2, 0.9), np.full(2, 0.05),
                    np.full(2, 0.5), np.full(3, -1), np.zeros(2, bool), 10, 3)
            emas = [np.zeros((5, 5)), np.zeros((5, 5))]
            for ema, grade in zip(emas, (work.grade_epoch, work_fast.grade_epoch), strict=True):
                grade(np.random.default_rng(1), np.random.default_rng(2), ema, *args)
            assert np.array_equal(*emas, equal_nan=True) and emas[0].any(), graders
    for quality in (np.array([0.5, 0.6, 0.7]), np.array([0.5, np.nan, 0.7])):
        args = (np.array([3, 4, 5]), slice(0, 3), quality, np.full(3, 0.9),
                np.full(3, 0.05), np.full(3, 0.5), np.full(3, -1), np.zeros(3, bool), 10, 3)
        for grade in (work.grade_epoch, work_fast.grade_epoch):
            with pytest.raises(IndexError):
                grade(np.random.default_rng(1), np.random.default_rng(2), np.zeros((5, 5)),
                      *args)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_grading_subnets_together_equals_one_after_another(monkeypatch, backend):
    """``work_fast.grade_epochs`` (the model grades all subnets of an epoch in one call)
    gives what the reference ``work.grade_epoch`` gives subnet after subnet: the same
    moving averages and sums, and both streams left where they were, with subnets that
    check copies (draws between two subnets' normals), that take numpy's path (a NaN
    quality, a judge), that grade nothing or send no query, in any order."""
    if backend == "numba":
        pytest.importorskip("numba")
    monkeypatch.setattr(work_fast, "BACKEND", backend)
    r = np.random.default_rng(5)
    for trial in range(12):
        jobs, n = [], 160
        for k in range(int(r.integers(1, 9))):
            v, m = int(r.integers(0, 40)), int(r.integers(1, 100))
            quality = r.random(m)
            kind = int(r.integers(0, 6))
            if kind == 1:
                quality[0] = np.nan
            key = np.where(r.random(m) < 0.5, r.integers(0, 3, m), -1)
            detects = r.random(v) < (0.6 if kind == 2 else 0.0)
            judge = work.GradedJudge(0.3, 0.1) if kind == 3 else None
            rounds = 0 if kind == 4 else int(r.integers(1, 20))
            jobs.append((k, np.arange(v), slice(16, 16 + m), quality, np.full(v, 0.9),
                         np.full(v, 0.05), np.full(v, 0.1), key, detects, rounds,
                         int(r.integers(1, 30)), None, judge))
        out = {}
        for name in ("apart", "together"):
            emas = [np.random.default_rng(k).random((n, n)) for k in range(len(jobs))]
            rq, rg = np.random.default_rng(100 + trial), np.random.default_rng(200 + trial)
            bound = [(emas[j[0]], *j[1:]) for j in jobs]
            if name == "apart":
                sums = [work.grade_epoch(rq, rg, *j[:11], judge=j[12]) for j in bound]
            else:
                sums = work_fast.grade_epochs(rq, rg, bound)
            out[name] = (emas, sums, rq.random(), rg.random())
        a, b = out["apart"], out["together"]
        assert all(np.array_equal(x, y) for x, y in zip(a[0], b[0], strict=True)), trial
        assert all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1])
                   for x, y in zip(a[1], b[1], strict=True)), trial
        assert a[2:] == b[2:], trial


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_grading_a_stack_of_subnets_in_one_call_equals_one_after_another(monkeypatch,
                                                                          backend):
    """Subnets whose moving averages are views of one stacked array (as the model keeps
    them) and that share rounds, sample size and miners are graded in one call of the
    compiled loops (``work_fast._grade_run``): the same moving averages, sums and draws
    as the reference subnet after subnet, with runs broken by subnets that check copies,
    take numpy's path, have other rounds or averages outside the stack, with any number
    of graders in any order (negative UIDs counting from the end, as numpy's), and with
    one generator drawing both streams."""
    if backend == "numba":
        pytest.importorskip("numba")
    monkeypatch.setattr(work_fast, "BACKEND", backend)
    calls = []
    if backend == "numba":
        run = work_fast._grade_run
        monkeypatch.setattr(work_fast, "_grade_run",
                            lambda *a: calls.append(len(a[3])) or run(*a))
    r = np.random.default_rng(8)
    n, b = 64, 10
    for trial in range(10):
        m = int(r.integers(1, 40))
        jobs = []
        for k in range(b):
            v = int(r.integers(0, 20))
            graders = r.choice(n, v, replace=False)
            graders[r.random(v) < 0.3] -= n  # the same rows, counted from the end
            miners = slice(n - m, n) if trial % 2 else np.sort(r.choice(n, m, replace=False))
            quality = r.random(m)
            kind = int(r.integers(0, 8))
            if kind == 1:
                quality[0] = np.nan  # numpy's path
            detects = r.random(v) < (0.6 if kind == 2 else 0.0)
            rounds = 9 if kind == 3 else 12
            jobs.append((k, graders, miners, quality, r.random(v), r.random(v) * 0.2,
                         r.random(v), np.where(r.random(m) < 0.5, r.integers(0, 3, m), -1),
                         detects, rounds, 7, None, None, kind == 4))
        out = {}
        for name in ("apart", "together"):
            stack = np.random.default_rng(trial).random((b, n, n))
            emas = [stack[k] if not alone else stack[k].copy()
                    for k, *_, alone in jobs]
            rq, rg = np.random.default_rng(100 + trial), np.random.default_rng(200 + trial)
            if trial % 3 == 2:
                rg = rq  # one generator for both streams: its draws in the same order
            bound = [(emas[j[0]], *j[1:13]) for j in jobs]
            if name == "apart":
                sums = [work.grade_epoch(rq, rg, *j[:11], judge=j[12]) for j in bound]
            else:
                sums = work_fast.grade_epochs(rq, rg, bound)
            out[name] = ([e.copy() for e in emas], sums, rq.random(), rg.random())
        a, c = out["apart"], out["together"]
        assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a[0], c[0],
                                                                         strict=True)), trial
        assert all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1])
                   for x, y in zip(a[1], c[1], strict=True)), trial
        assert a[2:] == c[2:], trial
    if backend == "numba":
        assert calls and max(calls) >= 3  # runs of several subnets went in one call


def test_grading_a_stack_refuses_graders_outside_it_as_numpy_does():
    """A subnet of a run graded in one call whose graders fall outside its moving averages
    raises IndexError, as numpy's indexing does, after the subnets before it are graded
    (once) as subnet after subnet."""
    pytest.importorskip("numba")
    stack = np.zeros((3, 8, 8))
    jobs = [(stack[k], np.array([0, 1] if k != 1 else [0, 9]), slice(4, 8), np.full(4, 0.5),
             np.full(2, 0.9), np.full(2, 0.05), np.full(2, 0.1), np.full(4, -1),
             np.zeros(2, dtype=bool), 5, 3, None, None) for k in range(3)]
    rq, rg = np.random.default_rng(1), np.random.default_rng(2)
    with pytest.raises(IndexError):
        work_fast.grade_epochs(rq, rg, jobs)
    once = np.zeros((8, 8))  # the first subnet graded once, as subnet after subnet
    work.grade_epoch(np.random.default_rng(1), np.random.default_rng(2), once, *jobs[0][1:11])
    assert np.array_equal(stack[0], once) and once.any() and not stack[1:].any()


def test_grading_a_stack_in_one_call_takes_only_what_one_by_one_takes():
    """A run of stacked subnets goes in one call only where each job could alone: a
    read-only or integer view of the stack is refused as the subnet-by-subnet path
    refuses it (nothing written), and miner columns that differ in number from the
    qualities raise IndexError after the subnets before them are graded, as one by one."""
    pytest.importorskip("numba")

    def job(ema, miners=slice(4, 8)):
        return (ema, np.array([0, 1]), miners, np.full(4, 0.5), np.full(2, 0.9),
                np.full(2, 0.05), np.full(2, 0.1), np.full(4, -1), np.zeros(2, dtype=bool),
                5, 3, None, None)

    stack = np.zeros((3, 8, 8))
    views = list(stack)
    views[1].flags.writeable = False
    with pytest.raises(Exception):  # noqa: B017 - numba's typing error, as before
        work_fast.grade_epochs(np.random.default_rng(1), np.random.default_rng(2),
                               [job(v) for v in views])
    assert not stack[1].any()
    ints = np.zeros((3, 8, 8), dtype=np.int64)
    before = ints.copy()
    with contextlib.suppress(Exception):  # either way no float bits land in the integers
        work_fast.grade_epochs(np.random.default_rng(1), np.random.default_rng(2),
                               [job(v) for v in ints])
    assert np.array_equal(ints, before) or (np.abs(ints) < 2).all()
    stack = np.zeros((3, 8, 8))
    jobs = [job(stack[0]), job(stack[1]), job(stack[2], slice(3, 8))]
    with pytest.raises(IndexError):
        work_fast.grade_epochs(np.random.default_rng(1), np.random.default_rng(2), jobs)
    once = np.zeros((2, 8, 8))
    rq, rg = np.random.default_rng(1), np.random.default_rng(2)
    for k in range(2):
        work.grade_epoch(rq, rg, once[k], *jobs[k][1:11])
    assert np.array_equal(stack[:2], once) and not stack[2].any()


def test_graded_judge_discriminates_less_above_its_capability():
    """The grader ``graded``: its chance of ranking two answers correctly rises with their
    quality gap and falls as both exceed its capability (never to chance, unlike ``min``);
    below its capability it perceives quality itself, as ``min`` does."""
    judge = work.GradedJudge(slope_above=0.25, softness=0.05)

    def acc(better, worse, j=judge):
        return work.ranking_accuracy(better, worse, 0.7, 0.05, 4, j)

    assert acc(0.6, 0.55) < acc(0.6, 0.5) < acc(0.6, 0.4)  # rises with the gap below c
    assert acc(0.9, 0.85) < acc(0.9, 0.8) < acc(0.95, 0.75)  # and above c
    assert acc(0.95, 0.9) < acc(0.85, 0.8) < acc(0.65, 0.6)  # falls as both exceed c
    assert acc(0.95, 0.9) > 0.5 and acc(0.95, 0.9, None) == 0.5  # min: chance above c
    q, c = np.array([0.3, 0.6, 0.7, 0.8, 1.0]), np.array([0.7, 0.9])
    level = work.perceived_level(q, c, judge)
    assert np.array_equal(level[:, :3], np.minimum(q[None, :3], c[:, None]))
    assert (level[0, 3:] > 0.7).all() and (level[0, 3:] < q[3:]).all()
    blind = work.perceived_level(q, c, work.GradedJudge(0.0, 0.0))
    assert np.array_equal(blind, work.perceived_level(q, c))  # k = s = 0 is min(q, c)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_fast_graded_grading_equals_the_reference(monkeypatch, backend):
    """``work_fast.grade_epoch`` with the grader ``graded`` gives the reference's moving
    averages, sums and draws (and differs from ``min`` where miners exceed capability)."""
    if backend == "numba":
        pytest.importorskip("numba")
    monkeypatch.setattr(work_fast, "BACKEND", backend)
    r = np.random.default_rng(1)
    judge = work.GradedJudge(0.3, 0.04)
    for t in range(20):
        v, m, n = int(r.integers(1, 30)), int(r.integers(2, 120)), 200
        graders, miners = np.arange(v), slice(50, 50 + m)
        quality, cap = r.random(m), r.uniform(0.3, 0.9, v)
        if t % 5 == 0:
            quality[0] = np.nan
        noise, rate = np.full(v, 0.05), np.full(v, 0.1)
        key = np.where(r.random(m) < 0.3, r.integers(0, 4, m), -1)
        detects = r.random(v) < 0.5
        out = {}
        for name, grade, j in (("reference", work.grade_epoch, judge),
                               ("fast", work_fast.grade_epoch, judge),
                               ("min", work_fast.grade_epoch, None)):
            ema = np.random.default_rng(t).random((n, n))
            rq, rg = np.random.default_rng(100 + t), np.random.default_rng(200 + t)
            sums = grade(rq, rg, ema, graders, miners, quality, cap, noise, rate, key,
                         detects, 20, 30, judge=j)
            out[name] = (ema, *sums, rq.random(), rg.random())
        a, b = out["reference"], out["fast"]
        assert np.array_equal(a[0], b[0], equal_nan=True), t
        assert np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2]), t
        assert a[3:] == b[3:], t
        assert not np.array_equal(a[0], out["min"][0], equal_nan=True), t


def test_plain_values_is_plain():
    """``work_fast.plain_values`` (on the bits) says what ``_plain`` says: finite and no
    negative zero, for every kind of float64 and for other dtypes."""
    r = np.random.default_rng(0)
    kinds = [0.0, -0.0, 1.0, -1.0, np.nan, -np.nan, np.inf, -np.inf, 5e-324, -5e-324,
             1e308, -1e308]
    for t in range(2000):
        x = r.choice(kinds, size=int(r.integers(0, 6)))
        if t % 2:
            x = np.concatenate([x, r.random(3)])
        assert work_fast.plain_values(x) == work_fast._plain(x), x
        assert work_fast.plain_values(x[::2]) == work_fast._plain(x[::2]), x
    assert work_fast.plain_values(np.array([1, 2])) and work_fast.plain_values(np.zeros(0))
