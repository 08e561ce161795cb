"""The world's speed-only paths give their reference forms' numbers bit for bit: the
compiled cleaning of weight rows (``world.weights_jit.clean_into`` through
``weights.cleaned``, against ``weights.clean``, which also takes the rows numpy must
see), ``weights_from_scores`` in place, ``own_scores`` of miners in one pass, and the
costs of an epoch's grading booked for every subnet at once."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from world import weights

pytest.importorskip("numba")


def _span(rng: np.random.Generator, n: int, k: int, strategies: int):
    """``k`` subnets of ``n`` UIDs, some with empty UIDs, whose setters belong to
    ``strategies`` strategies in an order that differs from subnet to subnet; and the
    strategies' raw rows, with NaN, negatives, zeros and subnormals in them."""
    classes = [type(f"S{i}", (), {}) for i in range(strategies)]
    counts = rng.integers(0, 6, size=(k, strategies))
    members = {cls: [] for cls in classes}  # each strategy's members: their subnet
    layout = []
    for i in range(k):
        order = rng.permutation(strategies)
        parts = []
        for c in order:
            cls = classes[c]
            a = len(members[cls])
            members[cls] += [i] * int(counts[i, c])
            parts.append((cls, a, len(members[cls])))
        layout.append(parts)
    groups = [(cls, SimpleNamespace(rows=np.array(members[cls], dtype=np.int64)))
              for cls in classes]
    subnets = [SimpleNamespace(n=n, netuid=i, occupant=np.arange(n)) for i in range(k)]
    occupied = [rng.random(n) < (1.0 if i % 3 else 0.8) for i in range(k)]
    model = SimpleNamespace(agent_of={u: SimpleNamespace(name=f"v{u}") for u in range(n)},
                            membership=SimpleNamespace(
        members=lambda s: SimpleNamespace(occupied=occupied[s.netuid],
                                          full=bool(occupied[s.netuid].all()))))
    plans = [SimpleNamespace(setter_uids=np.arange(sum(b - a for _, a, b in parts)))
             for parts in layout]
    span = SimpleNamespace(subnets=subnets, plans=plans, groups=groups, layout=layout,
                           memo={})
    made = {}
    for cls, g in groups:
        x = rng.random((len(g.rows), n))
        x[rng.random(x.shape) < 0.3] = 0.0  # weight on some UIDs only
        x[rng.random(x.shape) < 0.05] = -rng.random()
        x[rng.random(x.shape) < 0.02] = np.nan
        x[rng.random(x.shape) < 0.01] = 5e-324
        if len(x) and rng.random() < 0.2:
            x[0] = 0.0  # a row without weight stays zero
        made[cls] = x
    ends = np.cumsum([len(p.setter_uids) for p in plans]).tolist()
    return model, span, made, ends


def _numpy(model, span, made, ends, n):
    parts = [made[cls][a:b] for layout in span.layout for cls, a, b in layout]
    rows = np.concatenate(parts) if parts else np.zeros((0, n))
    weights.clean(model, span.subnets, span.plans, ends, rows)
    return rows


@pytest.mark.parametrize("n", [5, 100, 256, 300])
def test_compiled_cleaning_equals_numpys(n):
    rng = np.random.default_rng(n)
    for trial in range(15):
        model, span, made, ends = _span(rng, n, int(rng.integers(1, 9)), 4)
        fast = weights.cleaned(model, span, made, ends, n)
        ref = _numpy(model, span, made, ends, n)
        assert fast.shape == ref.shape
        assert np.array_equal(fast.view(np.int64), ref.view(np.int64)), (n, trial)


def test_negative_zero_and_infinite_weights_take_numpy(monkeypatch):
    """A negative zero (whose sign numpy's fmax keeps or drops by position) and an
    infinite weight (an error naming the strategy) send the span to ``clean``."""
    rng = np.random.default_rng(3)
    model, span, made, ends = _span(rng, 64, 4, 3)
    cls = next(c for c, g in span.groups if len(g.rows))
    calls = []
    real = weights.clean
    monkeypatch.setattr(weights, "clean", lambda *a: calls.append(1) or real(*a))
    made[cls][0, 7] = -0.0
    fast = weights.cleaned(model, span, made, ends, 64)
    assert calls and np.array_equal(fast.view(np.int64),
                                    _numpy(model, span, made, ends, 64).view(np.int64))
    made[cls][0, 7] = np.inf
    with pytest.raises(ValueError, match="infinite weights set by v"):
        weights.cleaned(model, span, made, ends, 64)


@pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")
@pytest.mark.parametrize("n", [1, 7, 40, 256, 300])
def test_weights_from_scores_compiled_in_place_equals_numpys(n):
    """``work.weights_from_scores(..., overwrite=True)`` without top-k or sharpening (the
    compiled ``weights_jit.normalise_rows``) gives the copying numpy form's numbers, with
    NaN, negatives, zero and infinite rows; a negative zero leaves it to numpy."""
    from world import work

    rng = np.random.default_rng(n)
    for trial in range(20):
        s = rng.random((int(rng.integers(1, 12)), n)) - 0.1
        s[rng.random(s.shape) < 0.1] = np.nan
        s[0] = 0.0
        if trial % 4 == 1:
            s[-1, -1] = np.inf
        if trial % 4 == 2:  # negative zeros: numpy takes over from the first one's row
            for _ in range(int(rng.integers(1, 4))):
                s[int(rng.integers(0, len(s))), int(rng.integers(0, n))] = -0.0
        ones, zeros = np.ones(len(s)), np.zeros(len(s))
        ref = work.weights_from_scores(s, ones, zeros)
        fast = work.weights_from_scores(s.copy(), ones, zeros, overwrite=True)
        assert np.array_equal(fast.view(np.int64), ref.view(np.int64)), (n, trial)


def test_own_scores_of_miners_in_one_pass_equals_numpys(monkeypatch):
    """``ctx.own_scores(group, miners_only=True)`` over several subnets (one compiled
    gather) gives the gathered moving averages times ``is_miner``, bit for bit, with
    empty UIDs and validators among the columns."""
    from agents.catalog import get
    from world.model import Cohort, Network
    from world.params import NetworkParams, SubnetParams

    pop = [Cohort(get(name), count + k, k, {}) for k in range(3)
           for name, count in (("honest_miner", 6), ("lazy_miner", 2),
                               ("honest_validator", 3))]
    model = Network(NetworkParams(subnets=(SubnetParams(n_uids=64),) * 3), pop, rng=4)
    for _ in range(4):
        model.step()
    span = model.membership.spans()[0]
    group = dict(span.groups)[get("honest_validator")]
    ctx = model.span_context(span.subnets)
    rng = np.random.default_rng(0)
    for s in span.subnets:  # scores on every column, miners' or not, NaN among them
        s.score_ema[...] = np.where(rng.random(s.score_ema.shape) < 0.05, np.nan,
                                    rng.random(s.score_ema.shape))
    fast = ctx.own_scores(group, miners_only=True)
    assert len(span.subnets) == 3 and not ctx.is_miner.all()
    monkeypatch.setattr("world.kernels.BACKEND", "numpy")
    ref = ctx.own_scores(group) * ctx.is_miner[group.rows]
    assert np.array_equal(fast.view(np.int64), ref.view(np.int64))
    assert np.array_equal(ctx.own_scores(group, miners_only=True).view(np.int64),
                          ref.view(np.int64))


def test_booking_every_subnet_at_once_equals_subnet_after_subnet(monkeypatch):
    """``grading_books.book_all`` (each account's costs of an epoch's grading added at
    once) leaves the books, the work totals and the queries received as ``book`` subnet
    after subnet does (both on the job-by-job path); an account that appears twice sends
    the epoch to ``book``."""
    from agents.catalog import get
    from world import grading_books, grading_fast
    from world.model import Cohort, Network
    from world.params import NetworkParams, SubnetParams

    def network() -> Network:
        pop = [Cohort(get(name), count + k, k, {}) for k in range(3)
               for name, count in (("honest_miner", 6), ("gpt_passthrough", 2),
                                   ("lazy_miner", 1), ("honest_validator", 3),
                                   ("weight_copier", 1))]
        return Network(NetworkParams(subnets=(SubnetParams(n_uids=64),) * 3), pop, rng=9)

    runs = {}
    monkeypatch.setattr(grading_fast, "grade_all", lambda *a: False)
    for name in ("at once", "one by one"):
        if name == "one by one":
            monkeypatch.setattr(grading_books, "book_all", lambda *a: False)
        model = network()
        for _ in range(3):
            model.step()
        runs[name] = (model.books.cost.copy(), list(model.books.work),
                      [s.queries_received.copy() for s in model.subnets])
    (c1, w1, q1), (c2, w2, q2) = runs["at once"], runs["one by one"]
    assert (c1 > 0).any() and w1[1] > 0
    assert np.array_equal(c1, c2) and w1 == w2
    assert all(np.array_equal(a, b) for a, b in zip(q1, q2, strict=True))
    monkeypatch.undo()
    model = network()
    model.step()
    s = model.subnets[0]
    mem = model.membership.members(s)
    twice = (s, None, mem, mem.miner_accts[:1], np.zeros(1), 1)  # a miner grading too
    assert not grading_books.book_all(model, [(np.zeros(len(mem.miners), np.int64),
                                               np.zeros(1, np.int64))], [twice])


def test_weights_put_on_chain_row_by_row_equal_numpys():
    """``Subnet._put_on_chain`` copies revealed rows by ``weights_jit.put_rows``: the
    same matrix as numpy's fancy assignment (a repeated UID keeps its last row); a UID
    out of range still raises numpy's IndexError."""
    from world.subnet import Subnet
    from world.weights_jit import put_rows

    rng = np.random.default_rng(2)
    for trial in range(20):
        n = int(rng.integers(2, 80))
        uids = rng.integers(0, n, int(rng.integers(1, 2 * n)))
        rows = rng.random((len(uids), n))
        a, b = rng.random((n, n)), None
        b = a.copy()
        a[uids] = rows
        assert put_rows(b, uids, rows)
        assert np.array_equal(a, b), trial
    bad = np.array([0, 5], dtype=np.int64)
    assert not put_rows(np.zeros((5, 5)), bad, np.ones((2, 5)))
    fake = SimpleNamespace(weights=np.zeros((5, 5)), last_update=np.zeros(5, np.int64), n=5)
    with pytest.raises(IndexError):
        Subnet._put_on_chain(fake, bad, np.ones((2, 5)), 7)


def test_weights_from_scores_with_a_negative_zero_in_any_place():
    """Where numpy's ``fmax`` keeps a negative zero's sign depends on its place in the
    whole array; the compiled form, stopping at a row with one, leaves numpy the same
    whole array, so every place gives the copying form's bits."""
    from world import work

    for n in (3, 7, 13):
        for rows in (2, 5):
            for r in range(rows):
                for j in range(n):
                    s = np.random.default_rng(n * 100 + r * 10 + j).random((rows, n)) + 0.1
                    s[r, j] = -0.0
                    ones, zeros = np.ones(rows), np.zeros(rows)
                    ref = work.weights_from_scores(s, ones, zeros)
                    fast = work.weights_from_scores(s.copy(), ones, zeros, overwrite=True)
                    assert np.array_equal(fast.view(np.int64), ref.view(np.int64)), (n, r, j)


def test_own_weights_in_one_pass_equal_numpys(monkeypatch):
    """``ctx.own_weights`` over several subnets (gathered, masked to miners and
    normalised row by row in one compiled pass) gives ``weights_from_scores`` of
    ``own_scores(miners_only=True)`` by numpy, bit for bit, with NaN, negative scores
    (a negative zero once masked) and negative zeros, which hand the rest to numpy."""
    from agents.catalog import get
    from world.model import Cohort, Network
    from world.params import NetworkParams, SubnetParams
    from world.work import weights_from_scores

    pop = [Cohort(get(name), count + k, k, {}) for k in range(3)
           for name, count in (("honest_miner", 6), ("lazy_miner", 2),
                               ("honest_validator", 3))]
    model = Network(NetworkParams(subnets=(SubnetParams(n_uids=64),) * 3), pop, rng=4)
    model.step()
    span = model.membership.spans()[0]
    group = dict(span.groups)[get("honest_validator")]
    ctx = model.span_context(span.subnets)
    ones, zeros = np.ones(len(group)), np.zeros(len(group))
    rng = np.random.default_rng(1)
    for trial in range(6):
        for s in span.subnets:
            x = rng.random(s.score_ema.shape)
            x[rng.random(x.shape) < 0.05] = np.nan
            if trial >= 2:
                x[rng.random(x.shape) < 0.02] = -rng.random()
            if trial >= 4:
                x[rng.random(x.shape) < 0.01] = -0.0
            s.score_ema[...] = x
        fast = ctx.own_weights(group, ones, zeros)
        with monkeypatch.context() as m:
            m.setattr("world.kernels.BACKEND", "numpy")
            ref = weights_from_scores(ctx.own_scores(group, miners_only=True), ones, zeros)
        assert np.array_equal(fast.view(np.int64), ref.view(np.int64)), trial


def test_put_on_chain_of_rows_that_are_a_view_of_the_weights():
    """Rows that share memory with the weights (numpy copies them before assigning) take
    numpy's assignment: the same matrix as numpy gives."""
    from world.subnet import Subnet

    w = np.arange(16.0).reshape(4, 4)
    expected = w.copy()
    expected[[3, 2]] = expected[2:4].copy()
    fake = SimpleNamespace(weights=w, last_update=np.zeros(4, np.int64), n=4)
    Subnet._put_on_chain(fake, np.array([3, 2]), w[2:4], 1)
    assert np.array_equal(w, expected)


def test_compiled_grading_refuses_indices_outside_the_moving_averages():
    """The compiled grading loops check their indices before writing: graders or miners
    outside the moving averages raise IndexError, as numpy's indexing would, and leave
    the averages as they were."""
    from world import work_fast

    pytest.importorskip("numba")
    for graders, miners in ((np.array([0, 9]), slice(2, 6)), (np.array([0, 1]), slice(6, 12))):
        ema = np.zeros((8, 8))
        with pytest.raises(IndexError):
            work_fast.grade_epoch(np.random.default_rng(1), np.random.default_rng(2), ema,
                                  graders, miners, np.full(4, 0.5), np.full(2, 0.9),
                                  np.full(2, 0.05), np.full(2, 0.1), np.full(4, -1),
                                  np.zeros(2, bool), 10, 3)
        assert not ema.any()


def _graded_network(validators: int = 5, seed: int = 9):
    """Three subnets of 64 UIDs with as many miners each (one run of the compiled
    grading), more validators than permits (``max_validators`` 4)."""
    from agents.catalog import get
    from world.model import Cohort, Network
    from world.params import NetworkParams, SubnetParams, YumaParams

    pop = [Cohort(get(name), count, k, {}) for k in range(3)
           for name, count in (("honest_miner", 6), ("gpt_passthrough", 2),
                               ("lazy_miner", 1), ("honest_validator", validators),
                               ("weight_copier", 1))]
    sp = SubnetParams(n_uids=64, yuma=YumaParams(max_validators=4))
    return Network(NetworkParams(subnets=(sp,) * 3), pop, rng=seed)


def _mixed_layout_network(seed: int = 1):
    """Two subnets with as many miners each, those of subnet 0 a range of UIDs, those of
    subnet 1 not (a miner, the validators, then the other miners)."""
    from agents.catalog import get
    from world.model import Cohort, Network
    from world.params import NetworkParams, SubnetParams, YumaParams

    pop = [Cohort(get("honest_validator"), 4, 0), Cohort(get("honest_miner"), 12, 0),
           Cohort(get("honest_miner"), 1, 1), Cohort(get("honest_validator"), 4, 1),
           Cohort(get("honest_miner"), 11, 1)]
    sp = SubnetParams(n_uids=20, yuma=YumaParams(max_validators=4))
    return Network(NetworkParams(subnets=(sp, sp)), pop, rng=seed)


class _RewriteGraders:
    """Rewrites the honest validators' grading parameters between epochs (through
    ``model.columns``, as a sweep's or an imitation's switch does)."""

    def after_epoch(self, model) -> None:
        accts = np.arange(model.ledger.n)
        ours = accts[model.columns.get("strategy_code", accts, -1.0)
                     == model.strategy_code("honest_validator")]
        name, value = {2: ("capability", 0.4), 3: ("noise", 0.3),
                       4: ("score_ema_rate", 0.5)}.get(model.epoch, (None, 0.0))
        if name is not None:
            model.columns.set(name, ours, value)


@pytest.mark.parametrize(("make", "rewrite"), [(_graded_network, False),
                                               (_mixed_layout_network, False),
                                               (_graded_network, True)])
def test_grading_an_epoch_in_one_call_equals_job_by_job(monkeypatch, make, rewrite):
    """``grading_fast.grade_all`` (the run's arrays kept between epochs, the permits,
    qualities and answers gathered once) leaves the moving averages, the books, the work
    totals, the queries received and both streams as ``grading.grade_all``'s job-by-job
    path does, epoch after epoch, with validators left without a permit, on subnets
    whose miners are a range of UIDs on one and not on another, and with the graders'
    parameters rewritten between epochs (the kept run rebuilt); it is taken."""
    from world import grading_fast

    taken = []
    fast = grading_fast.grade_all
    monkeypatch.setattr(grading_fast, "grade_all",
                        lambda *a: taken.append(fast(*a)) or taken[-1])
    runs = {}
    for name in ("one call", "job by job"):
        if name == "job by job":
            monkeypatch.setattr(grading_fast, "grade_all", lambda *a: False)
        model = make()
        if rewrite:
            model.dynamics.append(_RewriteGraders())
        seen = []
        for _ in range(6):
            model.step()
            seen.append((model.books.cost.copy(), list(model.books.work),
                         [s.score_ema.copy() for s in model.subnets],
                         [s.queries_received.copy() for s in model.subnets],
                         model.streams["queries"].bit_generator.state,
                         model.streams["grading"].bit_generator.state))
        runs[name] = seen
    assert sum(taken) >= 4  # every epoch but the first (no permits yet)
    if make is _mixed_layout_network:
        model = make()
        assert {type(model.membership.members(s).miner_cols) for s in model.subnets} == {
            slice, np.ndarray}
    model = _graded_network()
    model.step()
    assert not all(s.permits[model.membership.plan(s.netuid).setter_uids].all()
                   for s in model.subnets)  # some graders hold no permit
    for a, b in zip(runs["one call"], runs["job by job"], strict=True):
        assert np.array_equal(a[0], b[0]) and a[1] == b[1] and a[1][1] > 0
        assert all(np.array_equal(x, y) for x, y in zip(a[2], b[2], strict=True))
        assert all(np.array_equal(x, y) for x, y in zip(a[3], b[3], strict=True))
        assert a[4:] == b[4:]


def test_grading_an_epoch_in_one_call_refuses_what_job_by_job_does_not_group(monkeypatch):
    """``grading_fast.grade_all`` returns False, drawing and writing nothing, where the
    job-by-job path would not grade the epoch in one call: no permits yet, an answer
    that is not plain, a read-only moving average, a subnet without a permitted grader,
    numpy's backend, a new plan; and it is taken again once they are back."""
    from world import grading, grading_fast, work_fast

    model = _graded_network()
    model.step()
    turns = []
    for span in model.membership.spans("miner"):
        answers = grading.answers(model, span, model.span_context(span.subnets))
        turns += zip(span.subnets, span.plans, answers, strict=True)
    s0, plan0, ans0 = turns[0]

    def refused() -> bool:
        state = (model.streams["queries"].bit_generator.state,
                 model.streams["grading"].bit_generator.state)
        emas = [s.score_ema.copy() for s in model.subnets]
        received = [s.queries_received for s in model.subnets]
        work, cost = list(model.books.work), model.books.cost.copy()
        out = grading_fast.grade_all(model, turns, grading.graders)
        return (not out and state == (model.streams["queries"].bit_generator.state,
                                      model.streams["grading"].bit_generator.state)
                and all(np.array_equal(e, s.score_ema) for e, s in zip(
                    emas, model.subnets, strict=True)) and work == model.books.work
                and np.array_equal(cost, model.books.cost)
                and all(r is s.queries_received for r, s in zip(
                    received, model.subnets, strict=True)))

    permits = s0.permits
    s0.permits = None
    assert refused()
    s0.permits = permits.copy()
    s0.permits[plan0.setter_uids] = False
    assert refused()
    s0.permits = permits
    ans0.plain = False
    assert refused()
    ans0.plain = True
    s0.score_ema.flags.writeable = False
    assert refused()
    s0.score_ema.flags.writeable = True
    with monkeypatch.context() as m:
        m.setattr(work_fast, "BACKEND", "numpy")
        assert refused()
    model.membership.invalidate(s0.netuid)
    assert refused()
    turns[0] = (s0, model.membership.plan(s0.netuid), ans0)
    assert grading_fast.grade_all(model, turns, grading.graders)
