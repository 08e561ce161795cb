"""Subnet registration and dissolution today (MODEL.md section 9; world/registration.py
``register_subnet``, ``DtaoLedger.dissolve``; agents/owners.py ``subnet_founder``).

Three subnets with pools (tests/test_dtao_network.py's ``network``); the world is at its
subnet limit, so a registration dissolves the non-immune subnet with the lowest moving
price and takes its netuid. The payout is checked against a recomputation with exact
fractions, the ledger to the unit.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from test_dtao_network import identities, network

from agents.catalog import get
from world.model import Cohort, Network

RAO = 1_000_000_000


def founder(endowment: float = 5_000.0, entry: int = 3, owner: int = 0) -> Cohort:
    return Cohort(get("subnet_founder"), 1, None,
                  {"endowment_tao": endowment, "entry_epoch": entry, "owner": owner})


AGE = 28_800  # the last registration before the run: 4 days earlier (the rate limit)


def world(*extra: Cohort, **dtao: object) -> Network:
    """Three subnets with pools, the last subnet registration ``AGE`` blocks before."""
    return network(3, extra=extra, **{"subnet_last_lock_age_blocks": AGE, **dtao})


def lock_at(block: int, last: int = 1_000 * RAO, age: int = AGE) -> int:
    """``rules_dtao.lock_cost`` by hand: twice the last lock less 1/28,800 of it a block
    (57,600 stored blocks x 0.5 TAO per block) since it, at least 1 TAO."""
    return max(2 * last - (last // 28_800) * (block + age), RAO)


def steps(model: Network, epochs: int) -> Network:
    for _ in range(epochs):
        model.step()  # checks TAO and every subnet's alpha to the unit
    return model


@pytest.mark.parametrize("legacy", [False, True])
def test_a_dissolved_subnet_pays_its_pools_tao_to_its_alpha_holders_pro_rata(legacy):
    """A subnet registered since the TAO-in refund deployment counts its pool's alpha as
    the protocol's; an older one (``legacy``, every subnet of a run's genesis) does not
    (staking/remove_stake.rs ``destroy_alpha_in_out_stakes``)."""
    model = steps(network(3, root_stake=1_000.0), 6)
    ledger = model.ledger
    net = 1
    n = ledger.n
    holders = np.flatnonzero((ledger.alpha_net[:n] == net) & (ledger.alpha[:n] > 0))
    held = ledger.alpha[holders].copy()
    protocol = int(ledger.protocol_alpha[net]) + (0 if legacy else ledger.pools[net].alpha_units)
    pot = ledger.pools[net].tao_rao
    liquid, burned = ledger.liquid[holders].copy(), ledger.burned
    got, paid, recycled = ledger.dissolve(net, legacy=legacy)
    np.testing.assert_array_equal(got, holders)
    total = int(held.sum()) + protocol
    exact = [Fraction(pot * int(a), total) for a in held]
    # each holder gets its exact share floored, or one RAO more (largest remainders)
    assert all(0 <= int(p) - (e.numerator // e.denominator) <= 1 for p, e in zip(paid, exact,
                                                                               strict=True))
    np.testing.assert_array_equal(ledger.liquid[holders] - liquid, paid)
    assert int(paid.sum()) + recycled == pot  # nothing created or lost
    assert ledger.burned - burned == recycled  # the protocol's share: recycled
    assert recycled > 0 if not legacy else paid.sum() > 0.99 * pot
    assert (ledger.alpha[holders] == 0).all() and (ledger.alpha_net[holders] == -1).all()
    ledger.reopen_pool(net, model.market, 1_000 * RAO, 10_000 * RAO)
    tao, supply, alpha, issued = identities(ledger)
    assert tao == supply
    np.testing.assert_array_equal(alpha, issued)


def test_a_founder_dissolves_the_cheapest_subnet_and_owns_the_new_one():
    model = world(founder())
    steps(model, 3)
    moving = model.coinbase.moving.copy()
    net = int(np.argmin(moving))  # every genesis subnet is a year old: none immune
    on_net = [a for a in model.subnets[net].occupant.tolist() if a >= 0]
    acct = next(a for a in range(model.ledger.n) if model.agent_of[a] is not None
                and model.agent_of[a].name == "subnet_founder")
    steps(model, 1)  # it registers between epochs 3 and 4
    owner = model.agent_of[acct]
    assert owner.name == "owner_burner" and owner.netuid == net and owner.uid == 0
    s = model.subnets[net]
    assert s.owner_acct == acct and s.owner_uid == 0
    assert all(model.columns.get("alive", a) == 0 for a in on_net)  # they left with it
    # the lock: twice the last (1,000 TAO) less its decay since; it seeds the pool and is
    # booked as the founder's cost
    block = model.block - model.params.tempo
    lock = lock_at(block)
    assert model.coinbase.last_lock_rao == lock == model.ledger.pools[net].tao_rao
    assert model.columns.get("cost_usd", acct) == pytest.approx(lock / RAO * model.price_usd)
    # its alpha reserve prices it at the median of the other subnets' prices (the
    # registration ran after the last epoch: nothing has traded since)
    others = np.delete(model.ledger.prices(), net)
    assert model.ledger.prices()[net] == pytest.approx(float(np.median(others)), rel=1e-9)
    assert model.coinbase.start_block[net] == block
    assert model.columns.get("role_code", acct) == 1  # a validator now
    steps(model, 5)  # runs on, exact


def test_one_registration_per_rate_limit_network_wide():
    model = steps(world(founder(), founder(endowment=3_000.0)), 4)
    names = [a.name for a in model.agents]
    assert names.count("owner_burner") == 1 and names.count("subnet_founder") == 1
    # counted from the last registration before the run: none until it is 4 days old
    early = steps(world(founder(), subnet_last_lock_age_blocks=AGE - 2_000), 6)
    assert [a.name for a in early.agents].count("subnet_founder") == 1  # blocks 0-1,800
    steps(early, 1)  # block 2,160: 28,960 blocks since
    assert [a.name for a in early.agents].count("subnet_founder") == 0


def test_the_lock_doubles_and_a_new_subnet_is_immune():
    model = world(founder(), founder(endowment=5_000.0), subnet_rate_limit_blocks=0)
    steps(model, 4)
    owners = [a for a in model.agents if a.name == "owner_burner"]
    assert len(owners) == 2  # the second paid twice the first lock, on another subnet
    assert model.coinbase.last_lock_rao == 2 * lock_at(model.block - model.params.tempo)
    assert len({o.netuid for o in owners}) == 2


@pytest.mark.parametrize("owner", [0, 1])
def test_a_founder_with_stake_elsewhere_unstakes_and_its_cut_stakes_to_its_own_hotkey(owner):
    cohort = Cohort(get("subnet_founder"), 1, None, {
        "stake_tao": 500.0, "endowment_tao": 5_000.0, "entry_epoch": 3, "owner": owner,
        "burn": 0.25, "buyback_usd_per_day": 1_000.0})
    model = steps(world(cohort), 8)  # buys back each epoch: no error
    agent = next(a for a in model.agents if a.name in ("owner_burner", "owner_buyback"))
    assert model.ledger.staked_to[agent.acct] == agent.acct
    assert model.ledger.alpha_net[agent.acct] == agent.netuid
    assert model.ledger.hotkey_stake()[agent.acct] > 0  # its cut counts in its Yuma
    # the founder's parameters carried over, and only those
    carried = {"burn": 0.25} if owner == 0 else {"buyback_usd_per_day": 1_000.0}
    assert {k: agent.values[k] for k in carried} == carried
    assert agent.values.get("entry_epoch", 0) == 0


def test_a_founder_who_cannot_pay_the_lock_waits():
    model = steps(world(founder(endowment=500.0)), 6)
    assert [a.name for a in model.agents].count("subnet_founder") == 1
    assert model.coinbase.last_lock_block == 1  # the registration before the run's


def test_no_subnet_is_dissolved_while_all_are_immune():
    model = steps(world(founder(), age_blocks=0), 6)
    assert [a.name for a in model.agents].count("subnet_founder") == 1


def _payout(model: Network, net: int, legacy: bool) -> dict[int, int]:
    """What dissolving ``net`` now would pay each holder, recomputed by hand with
    ``rules_dtao.dissolve_payout`` (the pool's alpha counted unless ``legacy``)."""
    from world.rules_dtao import dissolve_payout

    ledger = model.ledger
    n = ledger.n
    holders = np.flatnonzero((ledger.alpha_net[:n] == net) & (ledger.alpha[:n] > 0))
    protocol = int(ledger.protocol_alpha[net]) + (0 if legacy else ledger.pools[net].alpha_units)
    shares = dissolve_payout(ledger.pools[net].tao_rao, [*ledger.alpha[holders].tolist(),
                                                         protocol])
    return dict(zip(holders.tolist(), shares[:-1], strict=True))


def test_a_genesis_subnet_is_dissolved_by_the_legacy_rule_and_a_new_one_by_todays():
    later = Cohort(get("subnet_founder"), 1, None, {"endowment_tao": 5_000.0,
                                                    "entry_epoch": 10**6})
    model = steps(world(later, later, subnet_rate_limit_blocks=0,
                        subnet_immunity_blocks=0), 3)
    first, second = [a for a in model.agents if a.name == "subnet_founder"]
    net = int(np.argmin(model.coinbase.moving))
    assert model.coinbase.legacy[net]
    want = _payout(model, net, legacy=True)
    liquid = {a: int(model.ledger.liquid[a]) for a in want}
    assert model.register_subnet(first, get("owner_burner")) is not None
    assert {a: int(model.ledger.liquid[a]) - liquid[a] for a in want} == want
    assert not model.coinbase.legacy[net]
    steps(model, 2)  # the new subnet's moving price is still the lowest: it goes next
    assert int(np.argmin(model.coinbase.moving)) == net
    want = _payout(model, net, legacy=False)
    liquid = {a: int(model.ledger.liquid[a]) for a in want}
    assert model.register_subnet(second, get("owner_burner")) is not None
    assert first.acct in want  # the first founder's cut, paid out by today's rule
    assert {a: int(model.ledger.liquid[a]) - liquid[a] for a in want} == want
    steps(model, 2)  # exact on
