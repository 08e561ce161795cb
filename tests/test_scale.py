"""Network scale (issue 8): the fast paths give the numbers of the reference paths.

Every speed-up of the whole-network model keeps results bit-identical for the same seed.
Golden hashes would break with numpy versions, so these tests compare the model with
itself instead:

- the same seed twice gives identical frames and per-agent records (and another seed
  does not, so the comparisons can fail);
- Yuma Consensus batched across the subnets of an epoch (the default,
  ``Network(batch_subnets=True)``) gives exactly the numbers of running it subnet by
  subnet (``batch_subnets=False``), on a small network of every strategy with entry, exit
  and imitation, subnets of two sizes and two sets of hyperparameters;
- the caches (strategy groups, parameter gathers, memoised productions, cabal structure,
  weights stacks) never change a result: a run whose caches are all dropped after every
  epoch equals a normal one, also when parameters are rewritten in the middle of the run;
- each fused kernel equals the reference functions it replaces (query sampling, grading
  with duplicate detection, the moving averages, Spearman over all subnets at once).
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

import world.model as world_model
from agents.base import REGISTRY
from agents.catalog import get
from agents.miners import HonestMiner
from agents.population import Entry, EntryOption, Exit, Imitation
from world import grading, metrics, work, work_fast
from world.model import Cohort, Network
from world.params import EconomyParams, NetworkParams, SubnetParams, WorkParams
from world.yuma import YumaParams

EPOCHS = 45

# (strategy, count per 64 UIDs, params): every strategy, every option that changes a path
MIX: tuple[tuple[str, int, dict[str, Any]], ...] = (
    ("honest_validator", 3, {}),
    ("honest_validator", 2, {"dedup": 1, "top_k": 8, "sharpen": 2.0}),
    ("weight_copier", 1, {"mode": "consensus"}),
    ("weight_copier", 1, {"mode": "largest"}),
    ("cabal_validator", 2, {"boost": 0.3}),
    ("poison_pill", 2, {"trigger_epoch": 12}),
    ("poison_pill", 1, {"trigger": "stake", "trigger_stake_tao": 1_500.0}),
    ("stake_attacker", 1, {"entry_epoch": 6, "outside_stake_tao": 5_000.0, "n_miners": 2}),
    ("honest_miner", 12, {}),
    ("gpt_passthrough", 8, {}),
    ("copy_cabal", 8, {}),
    ("model_arbitrage", 6, {"dwell": 5, "settle": 2}),
    ("lazy_miner", 4, {}),
)
DELEGATORS = (("yield_chaser", 8), ("popularity_follower", 8), ("loyal_delegator", 4))


def network(seed: int, **kw: Any) -> Network:
    """Five subnets in three batches: two alike (commit-reveal), two of a second kind
    (weights on chain at once but only every other epoch, so some are outdated when
    miners register) and one of another size and Yuma (a batch of its own)."""
    alike = SubnetParams(n_uids=64, yuma=YumaParams(max_validators=12))
    slow = SubnetParams(n_uids=64, commit_reveal=False, reveal_period=0,
                        weights_rate_limit=500, yuma=YumaParams(max_validators=12))
    other = SubnetParams(
        n_uids=48, commit_reveal=False, reveal_period=0,
        yuma=YumaParams(version="yuma2", max_validators=8),
        work=WorkParams(query_rounds=12, sample_size=15),
    )
    subnets = (alike, slow, other, alike, slow)
    pop = []
    for netuid, sp in enumerate(subnets):
        for name, count, params in MIX:
            if get(name).role == "validator":
                params = {"stake_tao": 800.0 + 150 * netuid, **params}
            pop.append(Cohort(get(name), max(1, count * sp.n_uids // 64), netuid, params))
    pop += [Cohort(get(name), count) for name, count in DELEGATORS]
    params = NetworkParams(subnets=subnets, agent_record_interval=4,
                           economy=EconomyParams(subnet_split="stake"))
    model = Network(params, pop, rng=seed, **kw)
    model.dynamics += [
        Entry(model, [EntryOption("honest_miner"), EntryOption("copy_cabal"),
                      EntryOption("honest_validator", {"stake_tao": 400.0})], rate=1.5),
        Exit(patience=5),
        Imitation(every=6, beta=0.01, exclude=("stake_attacker",)),
    ]
    return model


def outputs(model: Network, epochs: int = EPOCHS) -> tuple[pd.DataFrame, pd.DataFrame]:
    for _ in range(epochs):
        model.step()
    return model.datacollector.get_model_vars_dataframe(), model.agent_records()


def assert_same(a: tuple[pd.DataFrame, pd.DataFrame], b: tuple[pd.DataFrame, pd.DataFrame]):
    pd.testing.assert_frame_equal(a[0], b[0], check_exact=True)
    pd.testing.assert_frame_equal(a[1], b[1], check_exact=True)


def test_the_scenario_exercises_the_dynamics():
    m = network(3)
    outputs(m)
    entry, exits, imitation = m.dynamics[:3]
    assert sum(h[2] for h in entry.history) > 0 and exits.departed and imitation.switches
    assert len(m.cabals) >= 5  # a copy cabal per subnet and at least one attacker's
    assert m.batch_subnets and world_model.BATCH_SUBNETS


def test_same_seed_twice_identical_another_seed_not():
    a, b, c = outputs(network(5)), outputs(network(5)), outputs(network(6))
    assert_same(a, b)
    assert not a[0]["alignment"].equals(c[0]["alignment"])
    assert not a[1]["profit_usd_total"].equals(c[1]["profit_usd_total"])


@pytest.mark.parametrize("seed", [1, 2])
def test_batched_consensus_equals_subnet_by_subnet(seed):
    batched, single = network(seed, batch_subnets=True), network(seed, batch_subnets=False)
    assert_same(outputs(batched), outputs(single))
    for s, t in zip(batched.subnets, single.subnets, strict=True):
        for name in ("weights", "bonds", "score_ema", "stake_tao", "emission_tao"):
            assert np.array_equal(getattr(s, name), getattr(t, name)), (s.netuid, name)


def test_the_module_switch_sets_the_default_path(monkeypatch):
    monkeypatch.setattr(world_model, "BATCH_SUBNETS", False)
    assert not network(1).batch_subnets
    assert network(1, batch_subnets=True).batch_subnets


class ForgetCaches:
    """Drops every cache of the model after each epoch (a cold start every epoch)."""

    def after_epoch(self, model: Network) -> None:
        model.forget()


def pickled(model: Network) -> Network:
    """``model`` written to a pickle and read back (a saved run, or one sent to a worker)."""
    return pickle.loads(pickle.dumps(model))


@pytest.mark.parametrize("fork_of", [copy.deepcopy, pickled])
def test_a_copy_of_a_running_network_runs_on_as_the_original(fork_of):
    """A network forked mid-run (``copy.deepcopy``, or pickled and read back) gives the
    original's tables: the copy's subnets do not keep writing to stacks their arrays are
    no longer views of."""
    model = network(4)
    outputs(model, 12)
    fork = fork_of(model)
    assert_same(outputs(model, 12), outputs(fork, 12))
    other = fork_of(fork)
    other.streams["grading"] = np.random.default_rng(99)  # a fork that differs can fail
    assert not outputs(fork, 6)[0].equals(outputs(other, 6)[0])


class Rewrite:
    """Rewrites parameters in the middle of the run, through ``model.columns``."""

    def after_epoch(self, model: Network) -> None:
        accts = np.arange(model.ledger.n)
        code = model.columns.get("strategy_code", accts, -1.0)
        def of(name: str) -> np.ndarray:
            if name not in model.strategy_names:
                return accts[:0]
            return accts[code == model.strategy_code(name)]
        if model.epoch == 8:
            model.columns.set("quality", of("honest_miner"), 0.3)
            model.columns.set("capability", of("honest_validator"), 0.6)
        if model.epoch == 12:
            model.columns.set("top_k", of("cabal_validator"), 5.0)
            model.columns.set("sharpen", of("poison_pill"), 3.0)
            model.columns.set("mode", of("weight_copier"), 1.0)
        if model.epoch == 16:
            model.columns.set("query_cost_usd", of("copy_cabal"), 0.001)
            model.columns.set("dedup", of("honest_validator"), 1.0)


def test_caches_never_change_a_result():
    warm, cold = network(4), network(4)
    warm.dynamics.append(Rewrite())
    cold.dynamics += [Rewrite(), ForgetCaches()]
    assert_same(outputs(warm, 30), outputs(cold, 30))


class DriftingMiner(HonestMiner):
    """A test strategy that returns the same Production object every epoch, its quality
    changed in place (the world must not take it for last epoch's answers)."""

    name = "test_drifting_miner"
    classifier: ClassVar[dict] = {**HonestMiner.classifier, "adapts": True}

    @classmethod
    def produce(cls, group, ctx):  # type: ignore[no-untyped-def]
        prod = group.memo.get("drifting")
        if prod is None:
            prod = group.memo["drifting"] = HonestMiner.produce(group, ctx)
            prod = group.memo["drifting"] = type(prod)(
                *(a.copy() for a in (prod.quality, prod.answer_key, prod.fixed_cost_usd,
                                     prod.query_cost_usd, prod.computes)))
        prod.quality[:] = 0.1 + 0.8 * ((ctx.epoch % 5) / 5)
        return prod


def test_answers_that_change_in_place_are_seen(monkeypatch):
    monkeypatch.setitem(REGISTRY, DriftingMiner.name, DriftingMiner)
    sp = SubnetParams(n_uids=16, yuma=YumaParams(max_validators=4))
    m = Network(NetworkParams(subnets=(sp,)),
                [Cohort(get("honest_validator"), 2, 0), Cohort(DriftingMiner, 6, 0)], rng=1)
    for epoch in range(7):
        m.step()
        uids = m.groups(0)[DriftingMiner].uids
        assert np.all(m.subnets[0].quality[uids] == 0.1 + 0.8 * ((epoch % 5) / 5))


class NaNMiner(HonestMiner):
    """A test strategy whose first member answers with quality NaN (no score at all)."""

    name = "test_nan_miner"
    classifier: ClassVar[dict] = dict(HonestMiner.classifier)

    @classmethod
    def produce(cls, group, ctx):  # type: ignore[no-untyped-def]
        prod = HonestMiner.produce(group, ctx)
        quality = prod.quality.copy()
        quality[0] = np.nan
        return type(prod)(quality, prod.answer_key, prod.fixed_cost_usd,
                          prod.query_cost_usd, prod.computes)


def _nan_runs(monkeypatch, subnets: int, cohorts: list[Cohort]) -> list[Network]:
    """The same network of ``subnets`` subnets with NaN miners run 12 epochs with each
    grading backend (numpy's, then numba's), its outputs equal."""
    pytest.importorskip("numba")
    monkeypatch.setitem(REGISTRY, NaNMiner.name, NaNMiner)
    sp = SubnetParams(n_uids=24, yuma=YumaParams(max_validators=6))
    models, runs = [], []
    for backend in ("numpy", "numba"):
        monkeypatch.setattr(work_fast, "BACKEND", backend)
        models.append(Network(NetworkParams(subnets=(sp,) * subnets), cohorts, rng=3))
        runs.append(outputs(models[-1], 12))
    assert_same(*runs)
    assert all(np.array_equal(a.score_ema, b.score_ema)
               for a, b in zip(models[0].subnets, models[1].subnets, strict=True))
    return models


def test_non_finite_answers_grade_the_same_with_either_backend(monkeypatch):
    _nan_runs(monkeypatch, 1, [Cohort(get("honest_validator"), 4, 0, {"dedup": 1}),
                               Cohort(NaNMiner, 6, 0), Cohort(get("copy_cabal"), 6, 0)])


def test_answers_not_plain_on_one_subnet_grade_the_same_with_either_backend(monkeypatch):
    """Two subnets whose NaN miners' answers (one production across both) are not plain
    only on the first: each subnet's answers are judged on their own."""
    models = _nan_runs(monkeypatch, 2, [Cohort(get("honest_validator"), 4, k) for k in (0, 1)]
                       + [Cohort(NaNMiner, 6, k) for k in (0, 1)])
    for m in models:
        (span,) = m.membership.spans("miner")
        assert [a.plain for a in span.memo[grading.answers].each] == [False, True]


class MisshapenMiner(HonestMiner):
    """A test strategy whose answers' field ``field`` has the wrong shape."""

    name = "test_misshapen_miner"
    field = "answer_key"

    @classmethod
    def produce(cls, group, ctx):  # type: ignore[no-untyped-def]
        prod = HonestMiner.produce(group, ctx)
        value = getattr(prod, cls.field)
        bad = value[1:] if cls.field == "answer_key" else value[:, None]
        return dataclasses.replace(prod, **{cls.field: bad})


@pytest.mark.parametrize(("field", "shape"), [("answer_key", r"\(5,\)"),
                                              ("quality", r"\(6, 1\)")])
def test_answers_of_the_wrong_shape_are_refused_by_name(monkeypatch, field, shape):
    monkeypatch.setattr(MisshapenMiner, "field", field)
    monkeypatch.setitem(REGISTRY, MisshapenMiner.name, MisshapenMiner)
    sp = SubnetParams(n_uids=16, yuma=YumaParams(max_validators=4))
    m = Network(NetworkParams(subnets=(sp,)), [
        Cohort(get("honest_validator"), 2, 0), Cohort(MisshapenMiner, 6, 0)], rng=1)
    with pytest.raises(ValueError, match=rf"MisshapenMiner.produce returned {field} of "
                                         rf"shape {shape} for 6 members"):
        m.step()


def test_the_network_is_the_same_with_either_grading_backend(monkeypatch):
    pytest.importorskip("numba")
    runs = {}
    for backend in ("numpy", "numba"):
        monkeypatch.setattr(work_fast, "BACKEND", backend)
        runs[backend] = outputs(network(8), 25)
    assert_same(runs["numpy"], runs["numba"])


def test_weights_from_scores_in_place_equals_the_copying_version():
    r = np.random.default_rng(0)
    for _ in range(30):
        s = r.random((6, 40)) - 0.1
        s[r.random(s.shape) < 0.1] = np.nan
        s[2] = 0.0
        sharpen, top_k = r.choice([1.0, 2.0], 6), r.choice([0, 3, 50], 6).astype(float)
        expected = work.weights_from_scores(s, sharpen, top_k)
        assert np.array_equal(work.weights_from_scores(s.copy(), sharpen, top_k,
                                                       overwrite=True), expected)


def test_spearman_of_all_subnets_at_once_equals_one_by_one():
    r = np.random.default_rng(0)
    for t in range(200):
        sizes = r.integers(0, 200, int(r.integers(1, 40)))
        n = int(sizes.sum())
        x, y = r.random(n), r.random(n)
        if t % 3 == 0:
            x, y = np.round(x, 1), np.round(y, 2)  # ties
        if t % 7 == 0:
            y[:] = 0.0  # constant
        if t % 11 == 0 and n:
            x[r.integers(0, n)] = np.nan
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        expected = [metrics.spearman(x[a : a + k], y[a : a + k])
                    for a, k in zip(starts, sizes, strict=True)]
        assert np.array_equal(metrics.spearman_segments(x, y, sizes), expected,
                              equal_nan=True), t


def test_group_state_keeps_its_column_and_still_checks_the_default():
    """``Group.state`` keeps its column's name once declared: reading and writing go to
    the strategy's column, and another default for the same state still raises."""
    sp = SubnetParams(n_uids=16, yuma=YumaParams(max_validators=4))
    m = Network(NetworkParams(subnets=(sp,)),
                [Cohort(get("honest_validator"), 2, 0), Cohort(HonestMiner, 6, 0)], rng=1)
    g = m.groups(0)[HonestMiner]
    assert np.all(g.state("x", 2.0) == 2.0)
    g.set_state("x", np.arange(len(g), dtype=float))
    assert np.array_equal(g.state("x", 2.0), np.arange(len(g)))
    assert np.array_equal(m.columns.get("HonestMiner.x", g.accts), np.arange(len(g)))
    with pytest.raises(ValueError, match="declared with default"):
        g.state("x", 3.0)
