"""Populations that evolve: entry, exit, imitation, switching and cabals (MODEL.md 6)."""

from __future__ import annotations

import numpy as np
import pytest
from strategies.base import accounts, build, run

from agents.catalog import REGISTRY, get
from agents.population import (
    Entry,
    EntryOption,
    Events,
    Exit,
    Imitation,
    alive_accounts,
    schedule,
)
from world.ledger import LedgerError
from world.params import RegistrationParams

# -- exit ------------------------------------------------------------------------------------


def test_miners_leave_after_patience_losing_epochs():
    m = build([("honest_validator", 3), ("honest_miner", 6),
               ("honest_miner", 4, {"gpu_usd_per_hour": 10_000.0})])
    losers = accounts(m, "honest_miner")[6:]
    winners = accounts(m, "honest_miner")[:6]
    exit_ = Exit(patience=5)
    m.dynamics.append(exit_)
    run(m, 12)
    assert sorted(a for _, a, _ in exit_.departed) == sorted(losers.tolist())
    assert {e for e, _, _ in exit_.departed} == {4}  # the fifth losing epoch (0-based 4)
    assert np.all(m.columns.get("alive", losers) == 0)
    assert np.all(m.uids_of(losers, 0) == -1)
    assert np.all(m.columns.get("alive", winners) == 1)
    assert m.subnets[0].is_miner.sum() == 6
    m.ledger.check(m.epoch)


def test_a_profitable_epoch_resets_the_loss_streak():
    m = build([("honest_validator", 2), ("honest_miner", 3)])
    run(m, 1)
    exit_ = Exit(patience=3)
    miners = accounts(m, "honest_miner")
    pattern = [-1, -1, 1, -1, -1, -1]  # leaves at the third loss in a row only
    for i, sign in enumerate(pattern):
        m.columns.set("profit_usd", miners, float(sign))
        exit_.after_epoch(m)
        assert bool(np.all(m.columns.get("alive", miners) == 1)) == (i < 5), i
    assert len(exit_.departed) == 3


def test_exit_parameters_are_checked():
    with pytest.raises(ValueError, match="patience"):
        Exit(patience=0)
    with pytest.raises(ValueError, match="roles"):
        Exit(roles=("delegator",))
    with pytest.raises(ValueError, match="roles"):
        Exit(roles=("whale",))


# -- entry -----------------------------------------------------------------------------------


def test_newcomers_register_when_incumbents_profit_and_stay_out_when_they_lose():
    m = build([("honest_validator", 3), ("honest_miner", 6),
               ("lazy_miner", 4, {"quality": 0.0})],
              registration=RegistrationParams(initial_burn_tao=0.5, target_per_interval=3))
    entry = Entry(m, [EntryOption("honest_miner")], rate=2.0)
    m.dynamics.append(entry)
    run(m, 15)
    # after epoch 0 (no consensus yet: incumbents earned nothing) everyone who comes enters
    assert entry.history[0][3] == entry.history[0][1]
    arrived, entered = (sum(h[i] for h in entry.history[1:]) for i in (1, 2))
    assert arrived > 15 and entered == arrived
    assert len(accounts(m, "honest_miner")) == 6 + entered
    assert m.ledger.burned > 0  # they paid their burns
    # now the same newcomers facing losing incumbents (costly GPUs) decline
    m2 = build([("honest_validator", 3), ("honest_miner", 6, {"gpu_usd_per_hour": 10_000.0})])
    entry2 = Entry(m2, [EntryOption("honest_miner", {"gpu_usd_per_hour": 10_000.0})], rate=2.0)
    m2.dynamics.append(entry2)
    run(m2, 10)
    assert sum(h[2] for h in entry2.history) == 0
    assert sum(h[3] for h in entry2.history) == sum(h[1] for h in entry2.history) > 0


def test_the_burn_limit_refuses_newcomers_and_a_refused_one_is_removed():
    m = build([("honest_validator", 3), ("honest_miner", 6)],
              registration=RegistrationParams(target_per_interval=1))
    entry = Entry(m, [EntryOption("honest_miner")], rate=8.0, naive=True)
    m.dynamics.append(entry)
    run(m, 5)
    for _, arrived, entered, _, refused in entry.history:
        assert entered <= 3  # subtensor: at most 3 x target registrations per interval
        assert entered + refused <= arrived
    assert sum(h[3] for h in entry.history) > 0  # the rest found the subnet closed
    assert len(m.agents) == 3 + 6 + sum(h[2] for h in entry.history)
    # a registration the chain refuses removes the newcomer: here nobody can fund the burn
    # (the market's TAO moved to a validator, so the ledger still balances)
    m2 = build([("honest_validator", 3), ("honest_miner", 6)])
    e2 = Entry(m2, [EntryOption("honest_miner")], rate=3.0, naive=True)
    market = int(m2.ledger.liquid[m2.market])
    m2.ledger.transfer(m2.market, int(accounts(m2, "honest_validator")[0]), market)
    m2.dynamics.append(e2)
    run(m2, 3)
    assert sum(h[4] for h in e2.history) == sum(h[1] for h in e2.history) > 0
    assert len(m2.agents) == 9
    assert not any(a.name == "honest_miner" and a.uid < 0 for a in m2.agents)


def test_validator_newcomers_bring_their_stake_from_the_market():
    m = build([("honest_validator", 3), ("honest_miner", 6)])
    e = Entry(m, [EntryOption("honest_validator", {"stake_tao": 5_000.0})], rate=1.0,
              naive=True)
    m.dynamics.append(e)
    run(m, 6)
    new = accounts(m, "honest_validator")[3:]
    assert len(new) >= 2
    assert np.all(m.ledger.staked[new] >= 5_000 * 10**9)  # bought, plus dividends since
    assert np.all(m.ledger.staked_to[new] == new)


def test_imitate_rule_picks_the_best_paid_option():
    m = build([("honest_validator", 3), ("honest_miner", 4),
               ("lazy_miner", 4), ("gpt_passthrough", 4)])
    e = Entry(m, [EntryOption("lazy_miner"), EntryOption("gpt_passthrough"),
                  EntryOption("honest_miner")], rate=1.0, rule="imitate")
    m.dynamics.append(e)
    run(m, 12)
    assert len(accounts(m, "lazy_miner")) == 4
    assert len(accounts(m, "gpt_passthrough")) > 4


def test_entry_checks_its_options():
    m = build([("honest_validator", 1), ("honest_miner", 1)])
    with pytest.raises(ValueError, match="strategies="):
        Entry(m, [EntryOption("gpt_passthrough")])
    with pytest.raises(ValueError, match="unknown strategy"):
        Entry(m, [EntryOption("moon_miner")])
    with pytest.raises(ValueError, match="delegators|miners or validators"):
        Entry(m, [EntryOption("yield_chaser")])
    with pytest.raises(ValueError, match="honest_miner.quality"):
        Entry(m, [EntryOption("honest_miner", {"quality": 2.0})])
    with pytest.raises(ValueError, match="Entry.rate"):
        Entry(m, [EntryOption("honest_miner")], rate=-1)
    with pytest.raises(ValueError, match="Entry.rule"):
        Entry(m, [EntryOption("honest_miner")], rule="vibes")


# -- imitation and switching -----------------------------------------------------------------


def test_imitation_with_a_huge_profit_gap_converts_most_agents():
    m = build([("honest_validator", 3),
               ("gpt_passthrough", 6),
               ("honest_miner", 24, {"gpu_usd_per_hour": 5_000.0})], seed=3)
    before = {a.acct: (a.uid, int(m.ledger.staked[a.acct])) for a in m.agents}
    imitation = Imitation(every=2, beta=1.0, roles=("miner",))
    m.dynamics.append(imitation)
    run(m, 16)
    assert len(accounts(m, "gpt_passthrough")) >= 0.8 * 30
    assert all(new == "gpt_passthrough" for _, _, _, new in imitation.switches)
    for _, acct, _, _ in imitation.switches:  # same account, UID and stake
        agent = m.agent_of[acct]
        assert agent.name == "gpt_passthrough" and agent.uid == before[acct][0]
    assert len(m.agents) == 33
    m.ledger.check(m.epoch)


def test_imitation_without_selection_pressure_is_neutral_drift():
    m = build([("honest_validator", 2), ("honest_miner", 10), ("lazy_miner", 10)], seed=4)
    imitation = Imitation(every=1, beta=0.0, roles=("miner",))
    m.dynamics.append(imitation)
    run(m, 3)
    # p = 1/2 whenever the peer's strategy differs: switches happen both ways
    kinds = {(old, new) for _, _, old, new in imitation.switches}
    assert kinds == {("honest_miner", "lazy_miner"), ("lazy_miner", "honest_miner")}


def test_switch_strategy_keeps_account_uid_stake_and_resets_state():
    m = run(build([("poison_pill", 1, {"trigger_epoch": 0}), ("honest_validator", 2),
                   ("honest_miner", 4)]), 3)
    pill = m.agent_of[int(accounts(m, "poison_pill")[0])]
    acct, uid, stake = pill.acct, pill.uid, int(m.ledger.staked[pill.acct])
    assert m.columns.get("PoisonPillValidator.turned_epoch", [acct])[0] == 0
    honest = m.switch_strategy(pill, get("honest_validator"), {"capability": 0.5})
    assert (honest.acct, honest.uid, int(m.ledger.staked[acct])) == (acct, uid, stake)
    assert np.isnan(m.columns.get("trigger_epoch", [acct])[0])  # the old params are gone
    assert m.columns.get("capability", [acct])[0] == 0.5
    assert pill not in m.agents and m.agent_of[acct] is honest
    back = m.switch_strategy(honest, get("poison_pill"), {"trigger_epoch": 100})
    assert m.columns.get("PoisonPillValidator.turned_epoch", [acct], -1.0)[0] == -1
    run(m, 2)
    assert m.columns.get("PoisonPillValidator.turned_epoch", [back.acct])[0] == -1
    with pytest.raises(ValueError, match="keeps the role"):
        m.switch_strategy(back, get("honest_miner"))


def test_imitation_parameters_are_checked():
    with pytest.raises(ValueError, match="every"):
        Imitation(every=0)
    with pytest.raises(ValueError, match="beta"):
        Imitation(beta=-1.0)


# -- cabals and events -----------------------------------------------------------------------


def test_cabals_form_by_tag_and_newcomers_with_the_tag_join():
    m = build([("cabal_validator", 2), ("copy_cabal", 3), ("honest_validator", 1),
               ("honest_miner", 3)], strategies=["copy_cabal"])
    run(m, 1)
    assert len(m.cabals) == 1
    cabal = m.cabals[0]
    assert cabal["name"] == "subnet0/tag0"
    assert cabal["leader"] == accounts(m, "cabal_validator")[0]
    assert set(cabal["members"]) == set(accounts(m, "cabal_validator")) | set(
        accounts(m, "copy_cabal"))
    m.dynamics.append(Entry(m, [EntryOption("copy_cabal")], rate=2.0, naive=True))
    run(m, 3)
    assert set(m.cabal_members(0)) >= set(accounts(m, "copy_cabal"))
    assert len(accounts(m, "copy_cabal")) > 3
    records = m.agent_records()
    assert (records.loc[records.strategy == "copy_cabal", "cabal"] == 0).all()


def test_events_run_after_the_epoch_once():
    m = build([("honest_validator", 1), ("honest_miner", 2)])
    seen = []
    schedule(m, lambda model: seen.append(model.epoch))
    schedule(m, lambda model: seen.append(-model.epoch))
    run(m, 3)
    assert seen == [0, 0]
    assert sum(isinstance(d, Events) for d in m.dynamics) == 1


# -- everything at once ----------------------------------------------------------------------

EVERY_STRATEGY = [
    ("honest_validator", 3), ("weight_copier", 1), ("weight_copier", 1, {"mode": "largest"}),
    ("cabal_validator", 2, {"boost": 0.3}), ("poison_pill", 2, {"trigger_epoch": 80}),
    ("stake_attacker", 1, {"entry_epoch": 10, "outside_stake_tao": 60_000.0,
                           "n_miners": 2}),
    ("honest_miner", 12), ("gpt_passthrough", 8), ("copy_cabal", 6),
    ("model_arbitrage", 6, {"dwell": 10, "settle": 5}), ("lazy_miner", 4),
    ("yield_chaser", 8), ("popularity_follower", 8), ("loyal_delegator", 4),
    ("root_staker", 4), ("momentum_staker", 4),
    ("pump_and_dump", 1, {"entry_epoch": 10, "hold": 20, "endowment_tao": 2_000.0}),
    ("subnet_hopper", 1), ("root_uniform", 1), ("root_by_stake", 1), ("root_by_emission", 1),
    ("root_favourite", 1), ("owner_burner", 1, {"burn": 0.3}),
    ("owner_buyback", 1, {"buyback_usd_per_day": 5_000.0}, 1),  # a subnet has one owner
    ("subnet_founder", 1, {"entry_epoch": 30, "endowment_tao": 3_000.0}),
]


class Leak:
    """A faulty process that creates one RAO out of nothing after epoch ``at``."""

    def __init__(self, at: int) -> None:
        self.at = at

    def after_epoch(self, model) -> None:
        if model.epoch == self.at:
            model.ledger.liquid[model.market] += 1


def test_a_single_rao_created_between_epochs_stops_the_next_step():
    m = build([("honest_validator", 2), ("honest_miner", 4), ("loyal_delegator", 2)])
    m.dynamics.append(Leak(at=3))
    run(m, 4)
    with pytest.raises(LedgerError, match="epoch 4.*difference 1 RAO"):
        m.step()


def test_every_strategy_in_an_evolving_population_keeps_the_ledger_exact():
    assert {s[0] for s in EVERY_STRATEGY} == set(REGISTRY)
    m = build(EVERY_STRATEGY, seed=9, n_uids=64, query_rounds=6)
    entry = Entry(m, [EntryOption("honest_miner", weight=2.0), EntryOption("gpt_passthrough"),
                      EntryOption("copy_cabal"), EntryOption("lazy_miner", weight=0.5)],
                  rate=0.4)
    exit_ = Exit(patience=15)
    imitation = Imitation(every=25, beta=0.002, exclude=("stake_attacker",))
    m.dynamics += [entry, exit_, imitation]
    start = {name: len(accounts(m, name)) for name in REGISTRY}
    run(m, 300)  # every step checks the ledger to the RAO (LedgerError)
    end = {name: len(accounts(m, name)) for name in REGISTRY}
    assert end != start  # the population evolved
    assert sum(h[2] for h in entry.history) > 0
    assert imitation.switches
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == 300
    pops = df[[f"population:{n}" for n in REGISTRY]]
    assert (pops.iloc[0] == pd_series(start)).all()
    # every participant sits on a UID or is a delegator; no two share a UID
    live = alive_accounts(m)
    on_subnet = m.acct_netuid[live] >= 0
    seats = zip(m.acct_netuid[live][on_subnet].tolist(), m.acct_uid[live][on_subnet].tolist(),
                strict=True)
    assert len(set(seats)) == on_subnet.sum()
    # the attacker entered on schedule (alive or since pruned: its account stays)
    code = m.strategy_names.index("stake_attacker")
    attacker = np.flatnonzero(m.columns.get("strategy_code", np.arange(m.ledger.n)) == code)
    assert m.columns.get("StakeAttacker.entered_epoch", attacker)[0] == 10
    assert m.ledger.staked[attacker[0]] >= 60_000 * 10**9  # it brought its outside stake


def pd_series(counts: dict[str, int]):
    import pandas as pd

    return pd.Series({f"population:{k}": float(v) for k, v in counts.items()})


# -- cohorts in the records ------------------------------------------------------------------


def test_records_name_the_population_entry_each_agent_came_from():
    m = build([("honest_validator", 2), ("honest_miner", 3), ("loyal_delegator", 2),
               ("lazy_miner", 2), ("stake_attacker", 1, {"entry_epoch": 0, "n_miners": 2,
                                                          "outside_stake_tao": 1_000.0})],
              strategies=["honest_miner"], network={"agent_record_interval": 1})
    entry = Entry(m, [EntryOption("honest_miner")], rate=3.0)
    m.dynamics.append(entry)
    run(m, 3)
    rec = m.agent_records()
    first = rec[rec["epoch"] == 0].set_index("account")
    # genesis: the index of the entry, delegators included, whatever the account order
    assert first.groupby("strategy")["cohort"].unique().map(list).to_dict() == {
        "honest_validator": [0], "honest_miner": [1], "loyal_delegator": [2],
        "lazy_miner": [3], "stake_attacker": [4]}
    last = rec[rec["epoch"] == 2]
    attacker = int(accounts(m, "stake_attacker")[0])
    cabal = int(m.columns.get("cabal", [attacker])[0])
    own = last[(last["cabal"] == cabal) & (last["account"] != attacker)]
    assert len(own) == 2 and set(own["cohort"]) == {4}  # the attacker's miners: its entry
    newcomers = last[(last["strategy"] == "honest_miner") & ~last["account"].isin(first.index)
                     & (last["cabal"] < 0)]
    assert len(newcomers) > 0 and set(newcomers["cohort"]) == {-1}  # no population entry


def test_an_imitator_takes_the_cohort_of_the_peer_it_copies():
    m = build([("honest_validator", 2), ("honest_miner", 6),
               ("lazy_miner", 6, {"quality": 0.0})], seed=4)
    imitation = Imitation(every=1, beta=0.0, roles=("miner",))
    m.dynamics.append(imitation)
    run(m, 2)
    assert imitation.switches
    for acct in {a for _, a, _, _ in imitation.switches}:
        expect = {"honest_miner": 1, "lazy_miner": 2}[m.agent_of[acct].name]
        assert m.cohort_of(acct) == expect
    rec = m.agent_records()
    last = rec[rec["epoch"] == rec["epoch"].max()]
    assert (last["cohort"] == last["strategy"].map({"honest_validator": 0, "honest_miner": 1,
                                                     "lazy_miner": 2})).all()
