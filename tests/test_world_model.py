"""The network model end to end (MODEL.md sections 2-5; issue 3's invariants)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.delegators import YieldChaser
from agents.miners import HonestMiner
from agents.validators import HonestValidator
from world.ledger import to_tao
from world.membership import ROLES
from world.model import Cohort, Network
from world.params import (
    EconomyParams,
    NetworkParams,
    PriceParams,
    RegistrationParams,
    SubnetParams,
    WorkParams,
)
from world.yuma import YumaParams


def small_network(seed: int = 1, *, n_uids: int = 32, validators: int = 4, miners: int = 20,
                  delegators: int = 6, subnet: SubnetParams | None = None,
                  **network_kw) -> Network:
    sp = subnet or SubnetParams(n_uids=n_uids, yuma=YumaParams(max_validators=8))
    pop = [
        Cohort(HonestValidator, validators, 0, {"capability": 0.98, "noise": 0.02}),
        Cohort(HonestMiner, miners, 0),
        Cohort(YieldChaser, delegators),
    ]
    m = Network(NetworkParams(subnets=(sp,), **network_kw), pop, rng=seed)
    spread_quality(m, seed)
    return m


def spread_quality(m: Network, seed: int) -> None:
    """Give miners distinct qualities (a parameter column, as a cohort with params would)."""
    miners = np.flatnonzero(m.columns.get("role_code", np.arange(m.ledger.n), -1) == 0)
    m.columns.set("quality", miners, np.random.default_rng(seed).uniform(0.2, 0.9, len(miners)))


def run(m: Network, epochs: int) -> pd.DataFrame:
    for _ in range(epochs):
        m.step()
    return m.datacollector.get_model_vars_dataframe()


def test_same_seed_same_results_different_seed_different():
    a, b, c = (run(small_network(s, price=PriceParams(kind="gbm")), 40) for s in (7, 7, 8))
    pd.testing.assert_frame_equal(a, b)
    assert not a["price_usd"].equals(c["price_usd"])
    assert not a["profit_usd:honest_miner"].equals(c["profit_usd:honest_miner"])


def test_records_are_identical_for_the_same_seed():
    m1, m2 = small_network(3, agent_record_interval=5), small_network(3, agent_record_interval=5)
    run(m1, 21)
    run(m2, 21)
    pd.testing.assert_frame_equal(m1.agent_records(), m2.agent_records())
    assert sorted(m1.agent_records()["epoch"].unique()) == [0, 5, 10, 15, 20]


def test_records_name_each_agents_strategy_and_role():
    """The records keep codes; the frame names them as ``strategy_names`` and ``ROLES``
    do, in pandas' ``str`` columns, each agent with its own strategy and role."""
    m = small_network(3, agent_record_interval=5)
    run(m, 6)
    rec = m.agent_records()
    accts = rec["account"].to_numpy()
    codes = m.columns.get("strategy_code", accts).astype(int)
    assert rec["strategy"].tolist() == [m.strategy_names[c] for c in codes]
    roles = m.columns.get("role_code", accts).astype(int)
    assert rec["role"].tolist() == [ROLES[c] for c in roles]
    assert rec["strategy"].dtype == rec["role"].dtype == pd.Series(["x"]).dtype
    assert {"honest_miner", "miner", "validator"} <= set(rec["strategy"]) | set(rec["role"])


def test_records_without_agents_keep_their_columns():
    """A network with nobody in it records empty rows: the frame has every column (and
    ``groupby`` on them works), none before the first record."""
    m = Network(NetworkParams(subnets=(SubnetParams(n_uids=8, yuma=YumaParams(
        max_validators=4)),), agent_record_interval=1), [], rng=1)
    assert m.agent_records().columns.empty
    run(m, 2)
    rec = m.agent_records()
    assert len(rec) == 0
    assert {"epoch", "account", "strategy", "role", "stake_tao"} <= set(rec.columns)
    assert rec.groupby("strategy").size().empty


def test_a_records_code_outside_the_names_is_an_error():
    from world.measure import _named

    with pytest.raises(IndexError, match="outside the 2 names"):
        _named(np.array([0, 2]), ["a", "b"])
    with pytest.raises(IndexError, match="outside"):
        _named(np.array([-1]), ["a", "b"])


def test_a_seed_is_required():
    with pytest.raises(ValueError, match="rng"):
        Network(NetworkParams(), [])


def test_honest_network_rewards_quality_when_validators_out_class_miners():
    df = run(small_network(2), 60)
    assert df["alignment"].iloc[-20:].mean() > 0.9


def test_validators_cannot_rank_miners_above_their_capability():
    """Claim 6 in miniature: graders of capability 0.5 see all good miners as equal."""
    m = small_network(4)
    vals = np.flatnonzero(m.columns.get("role_code", np.arange(m.ledger.n), -1) == 1)
    m.columns.set("capability", vals, 0.3)
    df = run(m, 60)
    miners = np.flatnonzero(m.columns.get("role_code", np.arange(m.ledger.n), -1) == 0)
    above = m.columns.get("quality", miners) > 0.35
    assert above.sum() >= 10
    assert df["alignment"].iloc[-20:].mean() < 0.6


def test_emission_split_owner_miners_validators_and_take():
    m = small_network(5, economy=EconomyParams(fixed_emission_per_block=1.0))
    df = run(m, 10)
    last = df.iloc[-1]
    assert last["emission_tao"] == pytest.approx(360.0, abs=1e-6)
    assert last["emission_owner_tao"] == pytest.approx(0.18 * 360, abs=1e-6)
    assert last["emission_miners_tao"] == pytest.approx(0.41 * 360, abs=1e-6)
    assert last["emission_validators_tao"] == pytest.approx(0.41 * 360, abs=1e-6)
    # validators keep the take on everything; nominators get the rest of their share
    ledger = m.ledger
    staked_by_delegators = sum(
        ledger.staked[a.acct] for a in m.agents if a.role == "delegator"
    )
    pool = ledger.hotkey_stake()[[a.acct for a in m.agents if a.role == "validator"]].sum()
    expected = 0.41 * 360 * (1 - 0.18) * staked_by_delegators / pool
    assert last["nominator_payout_tao"] == pytest.approx(expected, rel=0.02)


def test_halving_happens_at_the_right_issuance():
    eco = EconomyParams(initial_issuance_tao=10_500_000.0 - 500.0)
    df = run(small_network(6, economy=eco), 3)
    # epoch 0: 360 TAO at 1/block. Epoch 1 starts about 140 TAO below the threshold (a
    # little more: RAO rounding leaves dust unminted); blocks pay 1 TAO until one crosses
    # it, then 0.5. Epoch 2: all at 0.5.
    assert df["emission_tao"].iloc[0] == pytest.approx(360.0)
    full = np.ceil(10_500_000.0 - df["issuance_tao"].iloc[0])
    assert full in (140, 141)
    assert df["emission_tao"].iloc[1] == pytest.approx(full + (360 - full) * 0.5)
    assert df["emission_tao"].iloc[2] == pytest.approx(180.0)


def test_registration_fills_the_subnet_then_replaces_the_weakest_non_immune_uid():
    sp = SubnetParams(n_uids=12, yuma=YumaParams(max_validators=4),
                      registration=RegistrationParams(immunity_period=720,
                                                      target_per_interval=5))
    m = small_network(9, subnet=sp, validators=2, miners=6, delegators=0)
    s = m.subnets[0]
    run(m, 3)
    newcomers = [HonestMiner(m, quality=0.9) for _ in range(6)]
    uids = [m.register(a, 0) for a in newcomers[:4]]
    assert sorted(uids) == [8, 9, 10, 11]
    assert (s.occupant != -1).all()
    run(m, 3)  # the newcomers are now immune, the genesis miners are not
    genesis_miners = np.flatnonzero(s.is_miner & (s.registered_block == 0))
    weakest = genesis_miners[np.argmin(s.emission_tao[genesis_miners])]
    gone = s.occupant[weakest]
    uid = m.register(newcomers[4], 0)
    assert uid == weakest
    assert m.agent_of[gone] not in list(m.agents)  # deregistered and removed
    assert m.ledger.burned > 0
    assert m.columns.get("cost_usd", np.array([newcomers[4].acct]))[0] > 0
    m.step()  # the newcomer's weights and bonds started clean
    assert s.bonds[:, uid].max() <= sp.yuma.bonds_ema_rate + 1e-12


def test_burn_rises_with_demand_and_decays_without():
    sp = SubnetParams(n_uids=40, yuma=YumaParams(max_validators=4),
                      registration=RegistrationParams(initial_burn_tao=1.0,
                                                      target_per_interval=2))
    m = small_network(10, subnet=sp, validators=2, miners=4, delegators=0)
    s = m.subnets[0]
    for _ in range(6):
        m.register(HonestMiner(m), 0)
    assert m.register(HonestMiner(m), 0) == -1  # at most 3x target per interval
    m.step()
    assert s.burn_rao == pytest.approx(1e9 * (6 + 2) / 4)
    m.step()
    assert s.burn_rao == pytest.approx(1e9 * 2 * 0.5)


def test_commit_reveal_shows_weights_reveal_period_epochs_old():
    sp = SubnetParams(n_uids=16, yuma=YumaParams(max_validators=4), commit_reveal=True,
                      reveal_period=3)
    m = small_network(11, subnet=sp, validators=2, miners=8, delegators=0)
    s = m.subnets[0]
    vuid = int(np.flatnonzero(s.is_validator)[0])
    history = []
    for _ in range(8):
        m.step()
        history.append(s.weights[vuid].copy())
        committed = [c for c in s.commits if vuid in c.uids]
    assert (history[0] == 0).all() and (history[2] == 0).all()  # nothing revealed yet
    assert history[3].sum() == pytest.approx(1.0)
    assert len(committed) == 3  # three epochs' commits still hidden


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: SubnetParams(n_uids=10, yuma=YumaParams(max_validators=64)), "max_validators"),
        (lambda: EconomyParams(owner_share=1.5), "owner_share"),
        (lambda: YumaParams(version="yuma4"), "version"),
        (lambda: PriceParams(initial_usd=-1.0), "price.initial_usd"),
        (lambda: WorkParams(query_rounds=-1), "work.query_rounds"),
        (lambda: RegistrationParams(min_burn_tao=2.0, max_burn_tao=1.0), "max_burn_tao"),
    ],
)
def test_bad_parameters_name_themselves(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_bad_population_is_refused_with_a_clear_message():
    sp = SubnetParams(n_uids=4, yuma=YumaParams(max_validators=2))
    with pytest.raises(ValueError, match="n_uids"):
        Network(NetworkParams(subnets=(sp,)), [Cohort(HonestMiner, 5, 0)], rng=0)
    with pytest.raises(ValueError, match="gpu_usd_per_hour"):
        Network(NetworkParams(), [Cohort(HonestMiner, 1, 0, {"gpu_usd_per_hour": -1})], rng=0)
    with pytest.raises(ValueError, match="subnet"):
        Network(NetworkParams(), [Cohort(HonestMiner, 1, 3)], rng=0)
    with pytest.raises(ValueError, match="initial_issuance"):
        Network(NetworkParams(economy=EconomyParams(initial_issuance_tao=10.0)),
                [Cohort(HonestValidator, 1, 0)], rng=0)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    validators=st.integers(1, 6),
    miners=st.integers(0, 20),
    delegators=st.integers(0, 8),
    take=st.floats(0, 1),
    yuma_version=st.sampled_from(["yuma2", "yuma3"]),
    liquid_alpha=st.booleans(),
    commit_reveal=st.booleans(),
    split=st.sampled_from(["fixed", "stake"]),
    price=st.sampled_from(["constant", "gbm"]),
)
def test_conservation_and_non_negativity_over_long_random_runs(
    seed, validators, miners, delegators, take, yuma_version, liquid_alpha, commit_reveal,
    split, price,
):
    sub = SubnetParams(
        n_uids=32, commit_reveal=commit_reveal, reveal_period=1 if commit_reveal else 0,
        yuma=YumaParams(version=yuma_version, max_validators=4,
                        liquid_alpha=liquid_alpha and yuma_version == "yuma3"),
    )
    params = NetworkParams(
        subnets=(sub, dataclasses.replace(sub, n_uids=16)),
        economy=EconomyParams(validator_take=take, subnet_split=split),
        price=PriceParams(kind=price),
    )
    pop = [Cohort(HonestValidator, validators, 0), Cohort(HonestMiner, miners, 0),
           Cohort(HonestValidator, 1, 1), Cohort(HonestMiner, 3, 1),
           Cohort(YieldChaser, delegators)]
    m = Network(params, pop, rng=seed)
    rng = np.random.default_rng(seed)
    for epoch in range(300):
        m.step()  # the model checks the ledger every epoch and raises on any violation
        if epoch % 50 == 25:
            m.register(HonestMiner(m, quality=float(rng.uniform())), int(rng.integers(2)))
    led = m.ledger
    assert int(led.liquid[: led.n].sum() + led.staked[: led.n].sum()) == led.supply
    assert (led.liquid[: led.n] >= 0).all() and (led.staked[: led.n] >= 0).all()
    expected_minted = m.datacollector.get_model_vars_dataframe()["emission_tao"].sum()
    assert to_tao(led.minted) == pytest.approx(expected_minted, rel=1e-9)


def test_the_graders_inputs_are_kept_until_a_parameter_they_read_is_written():
    """world.grading.graders keeps the graders' arrays with the plan; writing a grading
    parameter (here every validator's capability) makes the next epoch read it anew."""
    from strategies.base import accounts, build

    from world.grading import graders

    m = build([("honest_validator", 4), ("honest_miner", 12)], seed=2)
    m.step()
    plan = m.membership.plan(0)
    first = graders(m, plan)
    assert graders(m, plan) is first  # kept
    vals = accounts(m, "honest_validator")
    m.columns.set("capability", vals, 0.5)
    again = graders(m, plan)
    assert again is not first and np.all(again[2] == 0.5)
    m.step()  # and the epoch runs with it


def test_metrics_collector_gives_mesas_table(monkeypatch):
    """The network's collector (``measure.Collector``, which appends the metrics without
    Mesa's deep copy) gives the table Mesa's own ``DataCollector`` gives over the same
    reporters, NaN where a metric is missing included; with a reporter of another kind
    among its reporters it collects by Mesa's rules."""
    import mesa

    from world import measure

    measured = measure.measure

    def missing_at_2(model):  # a metric missing in one epoch: NaN in both tables
        measured(model)
        if model.epoch == 2:
            del model.metrics["alignment"]

    monkeypatch.setattr(measure, "measure", missing_at_2)
    m = small_network(3)
    mesas = mesa.DataCollector(model_reporters=measure.reporters(m))
    for _ in range(6):
        m.step()
        mesas.collect(m)
    ours = m.datacollector.get_model_vars_dataframe()
    pd.testing.assert_frame_equal(ours, mesas.get_model_vars_dataframe())
    assert np.isnan(ours["alignment"].iloc[2]) and not np.isnan(ours["alignment"].iloc[3])
    more = measure.Collector(m)
    more._new_model_reporter("double_epoch", lambda n: 2.0 * (n.epoch - 1))
    for _ in range(3):
        m.step()
        more.collect(m)
    frame = more.get_model_vars_dataframe()
    assert frame["double_epoch"].tolist() == [2.0 * e for e in frame["epoch"]]
    assert frame["epoch"].tolist() == [6.0, 7.0, 8.0]


def test_rate_limit_and_reveal_of_a_subnets_commits():
    """``Subnet.commit`` and ``reveal_due`` (MODEL.md section 3): a UID may set weights once
    per ``weights_rate_limit`` blocks (``all_can_set_weights`` is true only where
    ``can_set_weights`` is true for every UID); committed rows are revealed a reveal
    period later for the validators that still hold their UIDs; ``last_set_block`` is
    the subnet's to write."""
    from world import weights
    from world.subnet import Subnet

    s = Subnet(0, SubnetParams(n_uids=8, weights_rate_limit=500, reveal_period=1,
                               yuma=YumaParams(max_validators=4)), 0)
    s.occupant[:] = np.arange(10, 18)
    model = SimpleNamespace(epoch=0, block=1_000)
    uids = np.array([1, 2, 3])
    rows = np.arange(24, dtype=np.float64).reshape(3, 8)
    assert s.all_can_set_weights(model.block) and s.can_set_weights(uids, model.block).all()
    weights.commit(model, s, uids, rows.copy())
    with pytest.raises(ValueError):
        s.last_set_block[0] = 0  # read-only outside the subnet
    assert (s.last_set_block[uids] == 1_000).all() and not s.weights.any()
    model.epoch, model.block = 1, 1_360  # within the rate limit: nothing is committed
    assert not s.all_can_set_weights(model.block)
    assert not s.can_set_weights(uids, model.block).any()
    assert s.can_set_weights(np.array([0, 4]), model.block).all()
    weights.commit(model, s, uids, np.ones((3, 8)))
    s.reveal_due(model.epoch, model.block)
    assert np.array_equal(s.weights[uids], rows) and (s.last_update[uids] == 1_360).all()
    model.epoch, model.block = 2, 1_720  # past the limit: committed; UID 2 changes hands
    assert s.all_can_set_weights(model.block)
    weights.commit(model, s, uids, rows + 100.0)
    s.vacate(2)
    s.seat(2, 99, "validator", model.block)
    model.epoch, model.block = 3, 2_080
    s.reveal_due(model.epoch, model.block)
    assert np.array_equal(s.weights[[1, 3]], rows[[0, 2]] + 100.0)
    assert not s.weights[2].any()  # the newcomer's row: not its predecessor's commit
    assert s.last_set_block[2] < 0 and not s.commits
