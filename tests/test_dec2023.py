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



def test_the_burn_adjusts_every_360_blocks_not_every_epoch() -> None:
    """2023: the adjustment interval is 360 blocks (root.rs set_adjustment_interval), so
    with a tempo of 99 (the older subnets') registrations count over several epochs and
    the burn moves at the epochs holding blocks 360, 720, ..."""
    p = scenario({"era": "dec2023", "tempo": 99,
                  "economy": {"fixed_emission_per_block": 0.05},
                  "subnets": [{"n_uids": 16, "yuma": {"max_validators": 4},
                               "registration": {"initial_burn_tao": 1.0}}]}).to_world()
    assert p.subnets[0].registration.adjustment_interval == 360
    m = Network(p, [Cohort(HonestValidator, 3, 0), Cohort(HonestMiner, 9, 0)], rng=3)
    s = m.subnets[0]
    run(m, 3)  # 297 blocks: no interval has ended
    assert s.burn_rao == 1_000_000_000
    m.step()  # block 396 passed 360 with no registration: the burn halves
    assert s.burn_rao == 500_000_000
    assert m.register(HonestMiner(m), 0) >= 0
    m.step()  # epoch 5
    assert m.register(HonestMiner(m), 0) >= 0
    run(m, 2)  # epochs 6-7 (693 blocks): the second interval still runs
    assert s.burn_rao == 500_000_000
    m.step()  # block 792 passed 720: two registrations > target 1: times (2 + 1) / 2
    assert s.burn_rao == 750_000_000

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


def two_subnets(roots: list[Cohort], seed: int = 5, **root: Any) -> Network:
    p = scenario({"era": "dec2023", "economy": {"fixed_emission_per_block": 0.1},
                  "root": root,
                  "subnets": [{"n_uids": 12, "yuma": {"max_validators": 3}}] * 2}).to_world()
    pop = [Cohort(HonestValidator, 2, k, {"capability": 0.98}) for k in (0, 1)]
    pop += [Cohort(HonestMiner, 6, k) for k in (0, 1)] + roots
    return Network(p, pop, rng=seed)


def test_root_weights_move_subnet_shares_as_root_epoch_says() -> None:
    from agents.roots import RootFavourite, RootUniform
    from world.root import root_epoch

    m = two_subnets([Cohort(RootFavourite, 1, None, {"subnet": 1, "stake_tao": 300_000}),
                     Cohort(RootUniform, 2, None, {"stake_tao": 100_000})])
    run(m, 2)
    seats = m.root_seats
    assert len(seats) == 3
    stake = m.ledger.hotkey_stake()[seats].astype(float)
    rows = np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]])  # favourite first (lowest account)
    expect = root_epoch(rows, stake).shares
    assert np.allclose(m.root_shares, expect)
    # subnet 1 has every seat's weight (trust 1), subnet 0 only 40% of the stake: it gets
    # rank 0.4 x sigmoid(10 (0.4 - 0.5)) against 1.0 x sigmoid(5)
    assert m.root_shares[1] > 0.85
    paid = [s.emission_tao.sum() for s in m.subnets]
    assert paid[1] / sum(paid) == pytest.approx(m.root_shares[1], rel=1e-6)
    m.ledger.check(m.epoch)


def test_only_the_top_root_stakes_are_seated_and_no_root_means_fixed_shares() -> None:
    from agents.roots import RootFavourite, RootUniform

    m = two_subnets([Cohort(RootFavourite, 1, None, {"subnet": 0, "stake_tao": 50}),
                     Cohort(RootUniform, 3, None, {"stake_tao": 1_000})], max_validators=3)
    run(m, 1)
    assert len(m.root_seats) == 3 and np.allclose(m.root_shares, [0.5, 0.5])
    none = two_subnets([])
    run(none, 2)
    assert np.allclose(none.root_shares, [0.5, 0.5])  # the scenario's (even) fixed split


def three_subnets(era: str, seed: int = 7) -> Network:
    from agents.validators import SubnetHopper

    p = scenario({"era": era, "economy": {"fixed_emission_per_block": 0.1},
                  "subnets": [{"n_uids": 12, "yuma": {"max_validators": 3}}] * 3}).to_world()
    pop = [Cohort(SubnetHopper, 1, 0, {"stake_tao": 50_000, "n_subnets": 2,
                                       "entry_epoch": 1})]
    pop += [Cohort(HonestValidator, 2, k, {"stake_tao": 1_000}) for k in (0, 1, 2)]
    pop += [Cohort(HonestMiner, 6, k) for k in (0, 1, 2)] + [Cohort(YieldChaser, 3)]
    return Network(p, pop, rng=seed)


def test_a_validator_on_three_subnets_counts_its_whole_stake_on_each() -> None:
    m = three_subnets("dec2023")
    hopper = int(m.subnets[0].occupant[0])
    run(m, 10)
    twins = np.flatnonzero(m.hotkey_of[: m.ledger.n] == hopper)
    assert len(twins) == 3  # its own registration and two on the other subnets
    counted = []
    for s in m.subnets:
        mine = np.isin(s.occupant, twins)
        assert mine.sum() == 1
        counted.append(s.stake_tao[mine][0])
        assert s.stake_tao[mine][0] > 10 * s.stake_tao[s.is_validator & ~mine].max()
        others = s.last.dividends[s.is_validator & ~mine]
        assert s.last.dividends[mine][0] > others.max()  # the largest on each subnet
    # the same number on each subnet: the whole stake (own and nominators') at consensus,
    # the hotkey's stake now less what this epoch's payments added
    assert counted[0] == counted[1] == counted[2] >= 50_000
    paid = sum(float(s.emission_tao[np.isin(s.occupant, twins)].sum()) for s in m.subnets)
    assert m.ledger.hotkey_stake_tao()[hopper] - paid == pytest.approx(counted[0], abs=1e-6)
    # the twins hold no stake: what they earn goes to the one hotkey's stake
    assert m.ledger.staked[twins[twins != hopper]].sum() == 0
    before = m.ledger.hotkey_stake()[hopper]
    run(m, 1)
    div = sum(float(s.emission_tao[np.isin(s.occupant, twins)].sum()) for s in m.subnets)
    gained = (m.ledger.hotkey_stake()[hopper] - before) / 1e9
    assert gained == pytest.approx(div, rel=1e-6)
    m.ledger.check(m.epoch)
    today = three_subnets("dtao")
    run(today, 4)
    assert (today.hotkey_of[: today.ledger.n] == np.arange(today.ledger.n)).all()


def test_deregistering_one_of_a_hotkeys_registrations_keeps_its_stake() -> None:
    m = three_subnets("dec2023")
    hopper = int(m.subnets[0].occupant[0])
    run(m, 3)
    twins = [int(a) for a in np.flatnonzero(m.hotkey_of[: m.ledger.n] == hopper)
             if a != hopper]
    held = m.ledger.hotkey_stake()[hopper]
    m.deregister(m.agent_of[twins[0]])  # registered elsewhere: nothing unstaked
    assert m.ledger.hotkey_stake()[hopper] == held
    m.deregister(m.agent_of[twins[1]])
    m.deregister(m.agent_of[hopper])  # its last registration: everything unstaked
    assert m.ledger.hotkey_stake()[hopper] == 0
    m.ledger.check(m.epoch)


def test_every_strategy_in_an_evolving_dec2023_network_keeps_the_ledger_exact() -> None:
    """Entry, exit and imitation under the 2023 rules (pruning by score, the pair mask,
    unstaking on deregistration, root split, global stake): the ledger is checked to the
    RAO every epoch (``Ledger.check`` raises)."""
    from agents.catalog import REGISTRY, get
    from agents.owners import SubnetOwner
    from agents.population import Entry, EntryOption, Exit, Imitation

    spread = {"delegator": None, "root": None}
    pop = []
    owners = iter((0, 1))  # one owner per subnet
    for name, cls in sorted(REGISTRY.items()):
        if issubclass(cls, SubnetOwner):
            pop.append(Cohort(cls, 1, next(owners)))
            continue
        count = 2 if cls.role in ("miner", "delegator") else 1
        params = {"entry_epoch": 5, "n_miners": 2} if name == "stake_attacker" else {}
        if name == "subnet_hopper":
            params = {"stake_tao": 20_000, "n_subnets": 1, "entry_epoch": 3}
        for k in (0, 1):
            if cls.role in spread and k:
                continue
            pop.append(Cohort(get(name), count, spread.get(cls.role, k), params))
    p = scenario({"era": "dec2023", "economy": {"fixed_emission_per_block": 0.1},
                  "subnets": [{"n_uids": 40, "yuma": {"max_validators": 12},
                               "registration": {"immunity_period": 1_000},
                               "work": {"query_rounds": 4, "sample_size": 10}}] * 2}
                 ).to_world()
    m = Network(p, pop, rng=13)
    m.dynamics += [
        Entry(m, [EntryOption("honest_miner", weight=2.0), EntryOption("lazy_miner")],
              rate=0.5),
        Exit(patience=8),
        Imitation(every=10, beta=0.002, exclude=("stake_attacker", "subnet_hopper")),
    ]
    run(m, 40)
    m.ledger.check(m.epoch)
    assert m.root_shares is not None and len(m.root_seats) == 4
    linked = m.hotkey_of[: m.ledger.n] != np.arange(m.ledger.n)
    assert linked.sum() == 2  # each subnet's hopper registered once on the other
    assert m.ledger.burned > 0  # newcomers paid the 2023 burn
