"""The December 2023 era wired into the running network (issue 15, MODEL.md section 9).

Each rule of ``world.eras.DEC2023`` that the world takes as a parameter is observed in a
small running ``dec2023`` network, next to the same network under today's rules where
the two differ. The rules themselves are checked against the chain's own cases in
tests/test_rules_2023.py and tests/test_eras.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from agents.delegators import YieldChaser
from agents.miners import HonestMiner
from agents.validators import HonestValidator
from experiments.sections import scenario
from world import rules_2023
from world.model import Cohort, Network
from world.params import NetworkParams


def params(era: str, **subnet: Any) -> NetworkParams:
    """A one-subnet scenario of ``era`` with subnet keys as a file would give them."""
    sub = {"n_uids": 16, "yuma": {"max_validators": 4}, **subnet}
    return scenario(
        {"era": era, "economy": {"fixed_emission_per_block": 0.05}, "subnets": [sub]}
    ).to_world()


def network(era: str, seed: int = 3, *, validators: int = 3, miners: int = 9,
            delegators: int = 4, **subnet: Any) -> Network:
    pop = [
        Cohort(HonestValidator, validators, 0, {"capability": 0.98, "noise": 0.02}),
        Cohort(HonestMiner, miners, 0),
        Cohort(YieldChaser, delegators),
    ]
    m = Network(params(era, **subnet), pop, rng=seed)
    ms = np.flatnonzero(m.subnets[0].is_miner)
    m.columns.set("quality", m.subnets[0].occupant[ms],
                  np.random.default_rng(seed).uniform(0.2, 0.9, len(ms)))
    return m


def run(m: Network, epochs: int) -> None:
    for _ in range(epochs):
        m.step()


def test_dec2023_defaults_reach_the_network() -> None:
    p = params("dec2023")
    sub = p.subnets[0]
    assert (sub.yuma.version, sub.yuma.liquid_alpha, sub.commit_reveal) == ("yuma2", False,
                                                                             False)
    assert sub.bond_reset == "pair" and sub.registration.pruning == "score"
    assert sub.registration.burn_rule == "interval"
    assert p.economy.miner_pay == "stake" and p.economy.dereg_unstakes
    today = params("dtao").subnets[0]
    assert (today.yuma.version, today.bond_reset, today.registration.pruning) == (
        "yuma3", "column", "emission")


def test_a_miners_incentive_raises_its_hotkey_stake() -> None:
    for era in ("dec2023", "dtao"):
        m = network(era)
        s = m.subnets[0]
        miners = s.occupant[s.is_miner]
        liquid0 = m.ledger.liquid[miners].copy()
        run(m, 6)
        paid = m.ledger.staked[miners]
        if era == "dec2023":  # every RAO of incentive staked to the miner's own hotkey
            assert paid.sum() > 0 and (m.ledger.liquid[miners] <= liquid0).all()
            assert (m.ledger.staked_to[miners][paid > 0] == miners[paid > 0]).all()
            assert np.array_equal(m.ledger.hotkey_stake()[miners], paid)
        else:  # today's world pays miners liquid
            assert paid.sum() == 0 and (m.ledger.liquid[miners] > liquid0).any()
        m.ledger.check(m.epoch)


def test_the_burn_follows_the_2023_cases_with_target_one() -> None:
    m = network("dec2023", registration={"initial_burn_tao": 1.0, "target_per_interval": 1},
                delegators=0)
    s = m.subnets[0]
    m.step()  # no registration: the burn halves
    assert s.burn_rao == 500_000_000
    assert m.register(HonestMiner(m), 0) >= 0
    m.step()  # one registration = target: the burn stays
    assert s.burn_rao == 500_000_000
    for _ in range(3):  # three (the most per interval): times (3 + 1) / 2
        assert m.register(HonestMiner(m), 0) >= 0
    m.step()
    assert s.burn_rao == 1_000_000_000


def test_pruning_replaces_the_lowest_score_out_of_immunity_ties_to_the_highest_uid() -> None:
    m = network("dec2023", registration={"immunity_period": 720}, miners=13, delegators=0)
    s = m.subnets[0]
    run(m, 4)
    assert (s.occupant != -1).all()
    score = s.last.incentive + s.last.dividends
    score = score / score.sum()
    q = np.floor(score * (65_535 / score.max()) + 0.5)
    out = m.block - s.registered_block >= 720
    expected = np.flatnonzero(out & (q == q[out].min()))[-1]
    gone = s.occupant[expected]
    assert m.register(HonestMiner(m), 0) == expected
    assert m.agent_of[int(gone)] not in list(m.agents)


class Replace:
    """Population dynamics: after one epoch, replace the miner with the top incentive by a
    newcomer on the same UID (as entry dynamics do, between two epochs)."""

    def __init__(self, at: int) -> None:
        self.at, self.uid, self.before = at, -1, np.zeros(0)

    def after_epoch(self, m: Network) -> None:
        if m.epoch != self.at:
            return
        s = m.subnets[0]
        self.uid = int(np.flatnonzero(s.is_miner)[np.argmax(s.last.incentive[s.is_miner])])
        self.before = s.bonds[:, self.uid].copy()
        m.deregister(m.agent_of[int(s.occupant[self.uid])])
        assert m.register(HonestMiner(m, quality=0.9), 0) == self.uid


def test_the_bond_mask_keeps_a_replaced_miners_bonds_where_today_resets_them() -> None:
    after = {}
    for era in ("dec2023", "dtao"):
        m = network(era, registration={"immunity_period": 0}, n_uids=12, delegators=0)
        replace = Replace(at=11)
        m.dynamics.append(replace)
        run(m, 13)
        after[era] = (replace.before, m.subnets[0].bonds[:, replace.uid].copy())
    before, kept = after["dec2023"]
    # 2023: the validators set weights after the newcomer registered, so no pair is
    # masked and the EMA carries the bonds built on the previous occupant
    assert before.max() > 0.2 and kept.max() > 0.5 * before.max()
    _, today = after["dtao"]
    assert today.max() <= 0.1 + 1e-12  # today: the column restarts from one EMA step


def test_a_deregistered_validator_unstakes_its_nominators() -> None:
    m = network("dec2023", delegators=6)
    run(m, 3)
    s = m.subnets[0]
    vals = s.occupant[s.is_validator]
    stake = m.ledger.hotkey_stake()[vals]
    v = int(vals[np.argmax(stake)])
    behind = np.flatnonzero(m.ledger.staked_to[: m.ledger.n] == v)
    assert len(behind) > 1  # its own stake and at least one nominator's
    owed = m.ledger.staked[behind].copy()
    liquid = m.ledger.liquid[behind].copy()
    m.deregister(m.agent_of[v])
    assert np.array_equal(m.ledger.liquid[behind], liquid + owed)
    assert (m.ledger.staked[behind] == 0).all() and m.ledger.hotkey_stake()[v] == 0
    m.ledger.check(m.epoch)
    run(m, 2)  # and the network goes on, exact
    today = network("dtao", delegators=6)
    run(today, 3)
    t = today.subnets[0]
    tv = int(t.occupant[t.is_validator][0])
    held = today.ledger.hotkey_stake()[tv]
    today.deregister(today.agent_of[tv])
    assert today.ledger.hotkey_stake()[tv] == held  # today: stake stays where it was


def test_the_ledger_stays_exact_through_a_dec2023_run_with_turnover() -> None:
    m = network("dec2023", registration={"immunity_period": 360, "target_per_interval": 2},
                miners=13, delegators=5)
    for epoch in range(10):
        m.step()
        if epoch % 2:
            m.register(HonestMiner(m, quality=0.5), 0)  # replaces by pruning score
    m.ledger.check(m.epoch)
    minted = m.ledger.minted
    assert minted == pytest.approx(0.05 * 360 * 10 * 1e9, rel=1e-6)
    assert m.ledger.staked.sum() > 0


def test_neuron_to_prune_is_the_rule_the_subnet_uses() -> None:
    m = network("dec2023", registration={"immunity_period": 0}, miners=13, delegators=0)
    run(m, 3)
    s = m.subnets[0]
    scores = rules_2023.pruning_scores(s.last.incentive, s.last.dividends,
                                       s.stake_tao, s.stake_tao)
    expect = rules_2023.neuron_to_prune(rules_2023.max_upscale_u16(scores),
                                        s.registered_block, m.block, 0)
    assert s.uid_to_prune(m.block) == expect
