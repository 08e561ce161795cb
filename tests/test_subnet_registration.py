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
from test_dtao_network import identities, network

from agents.catalog import get
from world.model import Cohort, Network

RAO = 1_000_000_000


def founder(endowment: float = 5_000.0, entry: int = 3, owner: int = 0) -> Cohort:
    return Cohort(get("subnet_founder"), 1, None,
                  {"endowment_tao": endowment, "entry_epoch": entry, "owner": owner})


def steps(model: Network, epochs: int) -> Network:
    for _ in range(epochs):
        model.step()  # checks TAO and every subnet's alpha to the unit
    return model


def test_a_dissolved_subnet_pays_its_pools_tao_to_its_alpha_holders_pro_rata():
    model = steps(network(3, root_stake=1_000.0), 6)
    ledger = model.ledger
    net = 1
    n = ledger.n
    holders = np.flatnonzero((ledger.alpha_net[:n] == net) & (ledger.alpha[:n] > 0))
    held = ledger.alpha[holders].copy()
    protocol = ledger.pools[net].alpha_units + int(ledger.protocol_alpha[net])
    pot = ledger.pools[net].tao_rao
    liquid, burned = ledger.liquid[holders].copy(), ledger.burned
    got, paid, recycled = ledger.dissolve(net)
    np.testing.assert_array_equal(got, holders)
    total = int(held.sum()) + protocol
    exact = [Fraction(pot * int(a), total) for a in held]
    # each holder gets its exact share floored, or one RAO more (largest remainders)
    assert all(0 <= int(p) - (e.numerator // e.denominator) <= 1 for p, e in zip(paid, exact,
                                                                               strict=True))
    np.testing.assert_array_equal(ledger.liquid[holders] - liquid, paid)
    assert int(paid.sum()) + recycled == pot  # nothing created or lost
    assert ledger.burned - burned == recycled > 0  # the pool's own alpha's share: recycled
    assert (ledger.alpha[holders] == 0).all() and (ledger.alpha_net[holders] == -1).all()
    ledger.reopen_pool(net, model.market, 1_000 * RAO, 10_000 * RAO)
    tao, supply, alpha, issued = identities(ledger)
    assert tao == supply
    np.testing.assert_array_equal(alpha, issued)


def test_a_founder_dissolves_the_cheapest_subnet_and_owns_the_new_one():
    model = network(3, extra=(founder(),))
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
    assert model.ledger.pools[net].tao_rao >= 1_000 * RAO  # the lock seeds the pool
    assert model.coinbase.last_lock_rao == 1_000 * RAO  # the first lock: the minimum
    assert model.coinbase.start_block[net] == model.block - model.params.tempo
    assert model.columns.get("role_code", acct) == 1  # a validator now
    steps(model, 5)  # runs on, exact


def test_the_lock_doubles_and_a_new_subnet_is_immune():
    model = network(3, extra=(founder(), founder(endowment=3_000.0)))
    steps(model, 4)
    owners = [a for a in model.agents if a.name == "owner_burner"]
    assert len(owners) == 2  # the second paid 2,000 TAO and dissolved another subnet
    assert model.coinbase.last_lock_rao == 2_000 * RAO
    assert len({o.netuid for o in owners}) == 2


def test_a_founder_who_cannot_pay_the_lock_waits():
    model = steps(network(3, extra=(founder(endowment=500.0),)), 6)
    assert [a.name for a in model.agents].count("subnet_founder") == 1
    assert model.coinbase.last_lock_block == 0


def test_no_subnet_is_dissolved_while_all_are_immune():
    model = steps(network(3, extra=(founder(),), age_blocks=0), 6)
    assert [a.name for a in model.agents].count("subnet_founder") == 1
