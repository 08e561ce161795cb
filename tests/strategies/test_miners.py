"""Miner strategies: each one's defining behaviour (MODEL.md sections 5, 6 and 8)."""

from __future__ import annotations

import numpy as np
import pytest
from base import accounts, build, run, uids

from agents.miners import CopyCabalMiner, LazyMiner, ModelArbitrageMiner


def _cost(m, name):
    return m.columns.get("epoch_cost_usd", accounts(m, name))


def test_passthrough_cost_grows_with_queries_while_a_gpu_miners_does_not():
    seen = {}
    for rounds in (5, 20):
        m = run(build([("honest_validator", 4), ("honest_miner", 6), ("gpt_passthrough", 6)],
                      query_rounds=rounds, sample_size=4), 3)
        s, hours = m.subnets[0], m.params.epoch_hours
        queries = s.queries_received[uids(m, "gpt_passthrough")]
        # exactly: its relay server plus $0.02 per query it received this epoch
        assert _cost(m, "gpt_passthrough") == pytest.approx(0.05 * hours + 0.02 * queries)
        assert _cost(m, "honest_miner") == pytest.approx(np.full(6, 1.6 * hours))
        seen[rounds] = (queries.sum(), _cost(m, "gpt_passthrough").sum(),
                        _cost(m, "honest_miner").sum())
    assert seen[20][0] > 2 * seen[5][0]
    assert seen[20][1] > 2 * seen[5][1]
    assert seen[20][2] == pytest.approx(seen[5][2])


def test_copy_cabal_members_return_the_sources_answer_and_only_the_source_pays():
    m = build([
        ("honest_validator", 4), ("honest_miner", 6),
        ("copy_cabal", 5, {"quality": 0.93}),
        ("copy_cabal", 3, {"cabal_tag": 1, "quality": 0.83, "gpu_usd_per_hour": 1.6,
                           "query_cost_usd": 0.0}),
    ])
    members = accounts(m, "copy_cabal")
    # only the source's model counts: the others' declared quality is irrelevant
    m.columns.set("quality", members[1:5], 0.1)
    run(m, 3)
    s, hours = m.subnets[0], m.params.epoch_hours
    names = {c["name"]: cid for cid, c in m.cabals.items()}
    assert set(names) == {"subnet0/tag0", "subnet0/tag1"}
    tag0, tag1 = m.cabal_members(names["subnet0/tag0"]), m.cabal_members(names["subnet0/tag1"])
    assert list(tag0) == list(members[:5]) and list(tag1) == list(members[5:])
    assert np.all(s.quality[m.uids_of(tag0, 0)] == 0.93)
    assert np.all(s.quality[m.uids_of(tag1, 0)] == 0.83)
    g = m.groups(0)[CopyCabalMiner]
    prod = CopyCabalMiner.produce(g, m.subnet_context(s))
    cabal = m.columns.get("cabal", g.accts)
    assert np.array_equal(prod.answer_key, cabal)
    # one source per cabal (its lowest account), which alone computes and pays the model
    assert list(g.accts[prod.computes]) == [tag0[0], tag1[0]]
    cost = m.columns.get("epoch_cost_usd", g.accts)
    relays = ~prod.computes
    assert cost[relays] == pytest.approx(np.full(relays.sum(), 0.05 * hours))
    assert cost[g.accts == tag1[0]] == pytest.approx(0.05 * hours + 1.6 * hours)
    # the API source answers each prompt once for the cabal: (1 - (1-p)^g) / p per query
    p = 1.0  # a sample of 20 from 14 miners reaches all of them
    factor = (1 - (1 - p) ** 5) / p
    q0 = s.queries_received[m.uids_of(tag0[:1], 0)]
    assert cost[g.accts == tag0[0]] == pytest.approx(0.05 * hours + 0.02 * factor * q0)


def test_api_source_cost_factor_with_sampling():
    m = run(build([("honest_validator", 4), ("honest_miner", 30), ("copy_cabal", 4)],
                  sample_size=10), 2)
    s = m.subnets[0]
    g = m.groups(0)[CopyCabalMiner]
    prod = CopyCabalMiner.produce(g, m.subnet_context(s))
    p = 10 / 34
    assert prod.query_cost_usd[prod.computes] == pytest.approx([0.02 * (1 - (1 - p) ** 4) / p])
    assert np.all(prod.query_cost_usd[~prod.computes] == 0)


def test_a_cabal_that_shares_costs_splits_the_sources_model_equally():
    m = run(build([("honest_validator", 4), ("honest_miner", 10),
                   ("copy_cabal", 4, {"share_costs": 1, "gpu_usd_per_hour": 1.6,
                                      "query_cost_usd": 0.02})]), 2)
    s, hours = m.subnets[0], m.params.epoch_hours
    g = m.groups(0)[CopyCabalMiner]
    prod = CopyCabalMiner.produce(g, m.subnet_context(s))
    # still one source computes; every member pays a quarter of its GPU and API calls
    assert prod.computes.sum() == 1
    assert prod.fixed_cost_usd == pytest.approx(np.full(4, 0.05 * hours + 1.6 * hours / 4))
    assert np.allclose(prod.query_cost_usd, prod.query_cost_usd[0])  # each an equal share
    alone = run(build([("honest_validator", 4), ("honest_miner", 10),
                       ("copy_cabal", 4, {"gpu_usd_per_hour": 1.6, "query_cost_usd": 0.02})]), 2)
    ga = alone.groups(0)[CopyCabalMiner]
    pa = CopyCabalMiner.produce(ga, alone.subnet_context(alone.subnets[0]))
    # the cabal's total model cost is the same whoever pays it
    assert prod.fixed_cost_usd.sum() == pytest.approx(pa.fixed_cost_usd.sum())
    assert prod.query_cost_usd.sum() == pytest.approx(pa.query_cost_usd.sum())


def test_a_cabal_without_its_leader_answers_from_its_lowest_account():
    """The cabal's leader (its first, lowest-account member) leaves and a newcomer (a
    higher account) takes its UID, the lowest: the source is then the member with the
    lowest account, not the one on the lowest UID (UID order is not account order)."""
    m = run(build([("honest_validator", 3), ("copy_cabal", 5), ("honest_miner", 6)],
                  seed=4), 2)
    old = sorted(accounts(m, "copy_cabal").tolist(), key=m.uid_of)
    leader = m.cabals[int(m.columns.get("cabal", old[0]))]["leader"]
    assert leader == old[0] == min(old)
    uid = m.uid_of(old[0])
    m.deregister(m.agent_of[old[0]])
    newcomer = CopyCabalMiner(m, cabal_tag=0)
    m.register(newcomer, 0)
    run(m, 1)  # the newcomer joins the cabal at the start of its turn
    g = m.groups(0)[CopyCabalMiner]
    assert m.uid_of(newcomer.acct) == uid == g.uids.min()  # the newcomer holds the lowest
    assert newcomer.acct > min(g.accts.tolist())
    _, source, _ = CopyCabalMiner._sources(g)
    assert (g.accts[source] == min(g.accts.tolist())).all()


def test_validators_with_duplicate_detection_zero_the_copies():
    m = run(build([
        ("honest_validator", 2, {"dedup": 1}), ("honest_validator", 2),
        ("honest_miner", 8, {"quality": 0.7}), ("copy_cabal", 6),
    ]), 15)
    s = m.subnets[0]
    vals = m.uids_of(accounts(m, "honest_validator"), 0)
    dedup = m.columns.get("dedup", accounts(m, "honest_validator")) > 0
    cabal, honest = uids(m, "copy_cabal"), uids(m, "honest_miner")
    ema = s.score_ema
    # every round samples every miner (sample 20 of 14), so each round meets two copies
    assert np.all(ema[np.ix_(vals[dedup], cabal)] == 0)
    assert np.all(ema[np.ix_(vals[~dedup], cabal)] > 0.6)  # EMA rising towards 0.93
    assert np.all(ema[np.ix_(vals[dedup], honest)] > 0.4)


def test_cabal_without_dedup_earns_like_its_source():
    m = run(build([("honest_validator", 4, {"capability": 1.0, "noise": 0.01}),
                   ("gpt_passthrough", 6), ("copy_cabal", 6)]), 30)
    inc = m.subnets[0].last.incentive
    pt, cc = inc[uids(m, "gpt_passthrough")], inc[uids(m, "copy_cabal")]
    assert cc.mean() == pytest.approx(pt.mean(), rel=0.1)
    # claim 4 in miniature: same income, a fraction of the cost
    assert _cost(m, "copy_cabal").sum() < 0.5 * _cost(m, "gpt_passthrough").sum()


ARBITRAGE = {"start_option": "gpt-4-turbo", "dwell": 12, "settle": 6, "explore": 0.0,
             "server_usd_per_hour": 0.0}


def _options(m, epochs):
    acct = accounts(m, "model_arbitrage")
    out = []
    for _ in range(epochs):
        m.step()
        out.append(m.columns.get("ModelArbitrageMiner.option", acct).astype(int).tolist())
    return np.array(out)


def test_model_arbitrage_leaves_an_unprofitable_option_for_a_profitable_one():
    # sharp graders who weight only their top 4: GPT-3.5 (0.79) falls below the honest
    # miners (0.85) and earns nothing; GPT-4 (0.93) tops them and pays for its API calls
    m = build([
        ("honest_validator", 4, {"capability": 1.0, "noise": 0.005, "top_k": 4,
                                 "score_ema_rate": 0.5}),
        ("honest_miner", 14, {"quality": 0.85}),
        ("model_arbitrage", 2, ARBITRAGE),
    ])
    opts = _options(m, 60)
    gpt4, gpt35 = 3, 2
    assert np.all(opts[:12] == gpt4)
    assert np.all(opts[12:24] == gpt35)  # the cheapest untried option first
    assert np.all(opts[24:] == gpt4)  # GPT-3.5 earned nothing: back to the profitable one
    acct = accounts(m, "model_arbitrage")
    inc = np.stack([m.columns.get(f"ModelArbitrageMiner.inc{j}", acct) for j in range(4)], 1)
    assert np.all(inc[:, gpt35] < 1.0) and np.all(inc[:, gpt4] > 100.0)


def test_model_arbitrage_drifts_to_the_cheapest_model_when_graders_cannot_tell():
    # claims 5 and 6: graders of capability 0.5 see every option alike, so pay flattens
    # and the arbitrageur settles on the cheapest model (GPT-3.5 at $0.001 a query)
    m = build([("honest_validator", 4, {"capability": 0.5, "score_ema_rate": 0.5}),
               ("honest_miner", 14), ("model_arbitrage", 2, ARBITRAGE)])
    opts = _options(m, 40)
    assert np.all(opts[-10:] == 2)
    menu = ModelArbitrageMiner.MENU
    costs = [o.gpu_usd_per_hour * 1.2 + o.query_cost_usd * 40 for o in menu]
    assert int(np.argmin(costs)) == 2


def test_model_arbitrage_parameters_are_checked_together():
    with pytest.raises(ValueError, match="start_option"):
        ModelArbitrageMiner.resolve_params({"allowed": 3, "start_option": "gpt-4-turbo"})
    with pytest.raises(ValueError, match="settle"):
        ModelArbitrageMiner.resolve_params({"dwell": 5, "settle": 5})
    assert ModelArbitrageMiner.resolve_params({"start_option": 1})["start_option"] == 1.0


def test_lazy_miner_costs_nothing_and_earns_nothing_from_capable_graders():
    m = run(build([("honest_validator", 4, {"capability": 1.0, "noise": 0.01}),
                   ("honest_miner", 8), ("lazy_miner", 4)]), 20)
    s = m.subnets[0]
    assert np.all(_cost(m, "lazy_miner") == 0)
    assert np.all(s.quality[uids(m, "lazy_miner")] == 0)
    assert s.last.incentive[uids(m, "lazy_miner")].sum() < 0.01
    # it computes nothing (claim 10's overhead counts only computed answers)
    prod = LazyMiner.produce(m.groups(0)[LazyMiner], m.subnet_context(s))
    assert not prod.computes.any()
