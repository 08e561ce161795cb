"""Subnet owners (agents/owners.py; MODEL.md section 9): the owner's UID and its burn,
buybacks, and the era's switch ``subnet.owner_exempt``.

Two subnets with pools; subnet 0 has the owner, subnet 1 is the same without one, so
each effect is read against its own counterfactual (the same seed with the knob at 0).
"""

from __future__ import annotations

import numpy as np
import pytest
from base import accounts, build

from agents.catalog import get
from world.dtao_params import DtaoParams
from world.model import Cohort, Network
from world.params import NetworkParams, SubnetParams, WorkParams
from world.yuma import YumaParams


def network(owner: str, seed: int = 3, *, owner_stake: float = 30_000.0,
            exempt: bool = True, batch: bool | None = None, **params: float) -> Network:
    sp = SubnetParams(n_uids=32, yuma=YumaParams(max_validators=8), owner_exempt=exempt,
                      work=WorkParams(query_rounds=5, sample_size=10))
    pop = [Cohort(get(owner), 1, 0, {"stake_tao": owner_stake, **params})]
    for j in (0, 1):
        pop += [Cohort(get("honest_validator"), 3, j, {"stake_tao": 5_000.0}),
                Cohort(get("honest_miner"), 10, j)]
    return Network(NetworkParams(subnets=(sp, sp), dtao=DtaoParams(pools=True)), pop, rng=seed,
                   batch_subnets=batch)


def steps(model: Network, epochs: int) -> Network:
    for _ in range(epochs):
        model.step()  # checks the ledger (TAO and every subnet's alpha) each epoch
    return model


def test_a_majority_owner_burns_its_share_and_the_subnet_loses_emission_share():
    burning = steps(network("owner_burner", burn=0.5), 30)
    plain = steps(network("owner_burner", burn=0.0), 30)
    s = burning.subnets[0]
    owner = accounts(burning, "owner_burner")[0]
    assert s.owner_acct == owner and s.occupant[s.owner_uid] == owner
    # consensus follows the owner's 30k of 45k stake: its UID takes incentive, burned
    assert s.last.incentive[s.owner_uid] > 0.3
    assert 0.3 < burning.coinbase.miner_burned[0] < 0.6
    assert burning.coinbase.last["burned"][0] > 0 and burning.coinbase.last["burned"][1] == 0
    assert plain.coinbase.miner_burned[0] == 0 and plain.subnets[0].last.incentive[0] == 0
    # the next epoch's share is cut by the burned share (rules_dtao.emission_shares_price)
    assert burning.coinbase.last["share"][0] < 0.85 * plain.coinbase.last["share"][0]


def test_batched_consensus_with_an_owner_equals_subnet_by_subnet():
    batched = steps(network("owner_burner", burn=0.5, batch=True), 12)
    looped = steps(network("owner_burner", burn=0.5, batch=False), 12)
    for a, b in zip(batched.subnets, looped.subnets, strict=True):
        np.testing.assert_array_equal(a.bonds, b.bonds)
        np.testing.assert_array_equal(a.last.incentive, b.last.incentive)
    np.testing.assert_array_equal(batched.ledger.alpha, looped.ledger.alpha)


def test_a_minority_owner_cannot_burn_against_its_validators():
    model = steps(network("owner_burner", owner_stake=2_000.0, burn=1.0), 20)
    s = model.subnets[0]
    assert s.last.incentive[s.owner_uid] == 0  # clipped to what a stake majority supports
    assert model.coinbase.miner_burned[0] == 0


def test_in_2023_the_owner_uid_is_a_uid_like_any_other():
    model = steps(network("owner_burner", burn=1.0, exempt=False), 20)
    s = model.subnets[0]
    assert s.exempt_uid == -1 and s.owner_uid >= 0
    assert s.last.incentive[s.owner_uid] == 0  # its self-weight is masked
    assert model.coinbase.miner_burned[0] == 0


@pytest.mark.parametrize("exempt", [True, False])
def test_the_owner_holds_a_permit_without_stake_and_is_never_pruned(exempt):
    # at the first epoch's consensus the owner has no stake yet (its cut comes after)
    model = steps(network("owner_burner", owner_stake=0.0, burn=0.0, exempt=exempt), 1)
    s = model.subnets[0]
    assert s.permits[s.owner_uid] == exempt
    s.emission_tao[:] = 1.0
    s.emission_tao[s.owner_uid] = 0.0  # the lowest emission, out of immunity
    assert (s.uid_to_prune(model.block + 10**6) == s.owner_uid) == (not exempt)


def test_owner_strategies_are_neither_imitated_nor_entered_nor_switched_to():
    from agents.population import Entry, EntryOption, Imitation

    model = network("owner_buyback", owner_stake=5_000.0, buyback_usd_per_day=50_000.0)
    model.dynamics.append(Imitation(every=2, beta=1.0))  # the owner out-earns everyone
    steps(model, 12)
    assert [a.name for a in model.agents].count("owner_buyback") == 1
    with pytest.raises(ValueError, match="owns its subnet and a newcomer owns none"):
        Entry(model, [EntryOption("owner_burner")])
    validator = next(a for a in model.agents if a.name == "honest_validator")
    with pytest.raises(ValueError, match="owns its subnet and honest_validator owns none"):
        model.switch_strategy(validator, get("owner_burner"))


def test_the_owner_gets_the_owners_cut():
    owned = steps(network("owner_burner", burn=0.0), 10)
    plain = steps(network("honest_validator"), 10)  # the same validator, not the owner
    names = owned.ledger.names
    first = accounts(owned, "owner_burner")[0]
    assert first == accounts(plain, "honest_validator")[0]
    cut = plain.ledger.alpha[names.index("owner:0")]  # nobody's: the special account's
    assert cut > 0 and owned.ledger.alpha[names.index("owner:0")] == 0
    extra = owned.ledger.alpha[first] - plain.ledger.alpha[first]
    assert cut <= extra <= 1.1 * cut  # the cut, staked, earns dividends too


def test_a_subnet_has_one_owner():
    with pytest.raises(ValueError, match="subnet 0 has two owners"):
        build([("owner_burner", 1), ("owner_buyback", 1), ("honest_miner", 4)])


def test_buybacks_lift_the_price_and_are_held_as_stake():
    buying = steps(network("owner_buyback", buyback_usd_per_day=200_000.0), 20)
    plain = steps(network("owner_buyback", buyback_usd_per_day=0.0), 20)
    owner = accounts(buying, "owner_buyback")[0]
    bought = buying.columns.get("OwnerBuyback.bought_tao", owner)
    # the TAO went into subnet 0's pool (58k TAO deep: 1.2% more, the price 2.5% higher)
    tao = (buying.ledger.reserves()[0][0] - plain.ledger.reserves()[0][0]) / 1e9
    assert tao == pytest.approx(bought, rel=0.05)
    assert buying.ledger.prices()[0] / plain.ledger.prices()[0] > 1.02
    day = 200_000.0 / buying.price_usd  # TAO a day at the (constant) price
    epochs_a_day = 24.0 / buying.params.epoch_hours
    assert bought == pytest.approx(20 * day / epochs_a_day, rel=1e-6)
    assert buying.ledger.alpha[owner] > plain.ledger.alpha[owner]
    # the other subnet's price is the same in both runs to within its own flows
    assert buying.ledger.prices()[1] == pytest.approx(plain.ledger.prices()[1], rel=0.05)


def test_the_batched_owner_burn_equals_the_rule_subnet_by_subnet():
    """world.coinbase.burn_owner_incentive (every subnet at once) against
    rules_dtao.owner_incentive_burn (one subnet)."""
    from world.coinbase import burn_owner_incentive
    from world.rules_dtao import owner_incentive_burn

    rng = np.random.default_rng(5)
    sizes = np.array([4, 6, 3, 5])
    pay = rng.integers(0, 10**12, sizes.sum())
    pay[10:13] = 0  # subnet 2 paid nothing (its owner burns nothing)
    owners = np.array([2, -1, 1, 0])
    got = pay.copy()
    burned, share = burn_owner_incentive(got, sizes, owners)
    start = 0
    for j, (n, o) in enumerate(zip(sizes, owners, strict=True)):
        part = pay[start : start + n]
        if o < 0:
            want, b, sh = part, 0, 0.0
        else:
            want, b, sh = owner_incentive_burn(part, np.arange(n) == o)
        np.testing.assert_array_equal(got[start : start + n], want)
        assert burned[j] == b and share[j] == sh
        start += n


def test_score_pruning_never_picks_the_owner_even_when_all_scores_tie():
    """2023's pruning rule (``registration.pruning: score``) with the exemption on: the
    owner's UID is no candidate, even where the rule would fall back to UID 0."""
    from world.params import RegistrationParams

    sp = SubnetParams(n_uids=32, yuma=YumaParams(max_validators=8),
                      registration=RegistrationParams(pruning="score"),
                      work=WorkParams(query_rounds=5, sample_size=10))
    pop = [Cohort(get("owner_burner"), 1, 0, {"burn": 0.0}),
           Cohort(get("honest_validator"), 3, 0), Cohort(get("honest_miner"), 28, 0)]  # full
    model = steps(Network(NetworkParams(subnets=(sp,), dtao=DtaoParams(pools=True)), pop,
                          rng=3), 2)
    s = model.subnets[0]
    assert s.owner_uid == 0 and s.exempt_uid == 0
    s.last.dividends[:] = 0.0
    for ties in (0.0, 1.0):  # every other score 0, or every other at u16::MAX
        s.last.incentive[:] = ties
        s.last.incentive[0] = 0.0  # the owner's UID the lowest (or tied lowest)
        uid = s.uid_to_prune(model.block + 10**6)
        assert uid != 0 and s.occupant[uid] >= 0
