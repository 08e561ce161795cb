"""Delegator policies: each one's defining behaviour (MODEL.md section 6, "Delegators")."""

from __future__ import annotations

import numpy as np
import pytest
from base import accounts, build, run

from agents.delegators import (
    LoyalDelegator,
    PopularityFollower,
    YieldChaser,
    _last_of_largest,
)
from agents.population import buy_stake
from world.interfaces import Group, NetworkContext
from world.ledger import NO_HOTKEY


def _two_validators(policy, delay, **params):
    """A sharp honest validator and a noisy one (its weights disagree with consensus, so
    its bonds and dividends per TAO staked lag): net yields differ."""
    return build([
        ("honest_validator", 1, {"capability": 1.0, "noise": 0.01}),
        ("honest_validator", 1, {"noise": 1.0, "stake_tao": 5_000.0}),
        ("honest_validator", 1, {"stake_tao": 30_000.0, "noise": 1.0}),
        ("honest_miner", 12),
        (policy, 6, {"switch_delay": delay, **params}),
    ], seed=5)


def _first_moves(delay: int, epochs: int = 40) -> tuple[np.ndarray, np.ndarray, object]:
    """The epoch each yield chaser's stake first left its genesis validator (-1: never)
    and where it ended, with ``switch_delay`` ``delay``."""
    m = _two_validators("yield_chaser", delay)
    accts = accounts(m, "yield_chaser")
    start = m.ledger.staked_to[accts].copy()
    first = np.full(len(accts), -1)
    for t in range(epochs):
        m.step()
        moved = (m.ledger.staked_to[accts] != start) & (first < 0)
        first[moved] = t
    return first, m.ledger.staked_to[accts], m


def test_yield_chaser_moves_to_the_higher_net_yield_after_its_delay():
    now, _, _ = _first_moves(0)
    assert (now >= 0).any()  # some chasers start elsewhere than the best validator
    for delay in (2, 5):
        later, end, m = _first_moves(delay)
        # the same wish, held ``delay`` epochs longer before the stake moves
        assert np.array_equal(later, np.where(now >= 0, now + delay, -1)), delay
        best = m.network_context()
        top = best.validators[np.argmax(best.net_yield)]
        assert np.all(end == top)


def test_yield_chaser_with_a_hurdle_stays_put():
    m = _two_validators("yield_chaser", 0, hurdle=10.0)
    accts = accounts(m, "yield_chaser")
    start = m.ledger.staked_to[accts].copy()
    run(m, 30)
    assert np.array_equal(m.ledger.staked_to[accts], start)


def _reference_yield_choice(group: Group, ctx: NetworkContext) -> np.ndarray:
    """The former per-member dict version of ``YieldChaser.choose``."""
    current = group.model.ledger.staked_to[group.accts]
    if len(ctx.validators) == 0:
        return current
    best = int(np.argmax(ctx.net_yield))
    yield_of = dict(zip(ctx.validators.tolist(), ctx.net_yield.tolist(), strict=True))
    now = np.array([yield_of.get(int(a), 0.0) for a in current])
    better = ctx.net_yield[best] > now * (1.0 + group.param("hurdle")) + 1e-15
    return np.where(better, ctx.validators[best], current)


def test_vectorised_yield_chaser_matches_the_reference():
    m = _two_validators("yield_chaser", 2)
    g = m.delegator_groups()[YieldChaser]
    rng = np.random.default_rng(0)
    for t in range(15):
        ctx = m.network_context()
        ctx.net_yield = rng.random(len(ctx.validators)) * (rng.random() < 0.8)
        m.ledger.staked_to[g.accts[:2]] = NO_HOTKEY if t % 3 == 0 else ctx.validators[0]
        assert np.array_equal(YieldChaser.choose(g, ctx), _reference_yield_choice(g, ctx))
        m.step()


def test_popularity_follower_joins_the_largest_validator_and_stake_concentrates():
    m = _two_validators("popularity_follower", 2)
    accts = accounts(m, "popularity_follower")
    run(m, 12)
    ctx = m.network_context()
    largest = ctx.validators[np.argmax(ctx.stake_tao)]
    assert largest == accounts(m, "honest_validator")[2]  # the 30,000 TAO one
    assert np.all(m.ledger.staked_to[accts] == largest)
    df = m.datacollector.get_model_vars_dataframe()
    assert df["nakamoto_stake"].iloc[-1] == 1


@pytest.mark.parametrize(("hurdle", "moves"), [(0.1, True), (10.0, False)])
def test_popularity_follower_inertia(hurdle, moves):
    m = _two_validators("popularity_follower", 3, hurdle=hurdle)
    accts = accounts(m, "popularity_follower")
    vals = accounts(m, "honest_validator")
    genesis = m.ledger.staked_to[accts].copy()  # random validators at genesis
    run(m, 5)
    if moves:  # settled on the largest once their switching delay passed
        assert np.all(m.ledger.staked_to[accts] == vals[2])
    else:  # no lead clears a 10x hurdle: they stay where genesis put them
        assert np.array_equal(m.ledger.staked_to[accts], genesis)
        assert not np.all(genesis == vals[0])
    buy_stake(m, int(vals[0]), 50_000.0)  # a whale makes another validator the largest
    for t in range(6):
        m.step()
        moved = bool(np.all(m.ledger.staked_to[accts] == vals[0]))
        assert moved == (moves and t >= 3), f"epoch {t} after the whale"


def test_loyal_delegator_never_moves_even_from_a_poison_pill():
    m = build([
        ("poison_pill", 1, {"trigger_epoch": 3}),
        ("honest_validator", 2), ("honest_miner", 10), ("lazy_miner", 2, {"cabal_tag": 0}),
        ("loyal_delegator", 8), ("yield_chaser", 8, {"switch_delay": 1}),
    ], seed=2)
    loyal, chasers = accounts(m, "loyal_delegator"), accounts(m, "yield_chaser")
    start = m.ledger.staked_to[loyal].copy()
    pill = accounts(m, "poison_pill")[0]
    for _ in range(40):
        m.step()
        assert np.array_equal(m.ledger.staked_to[loyal], start)
    ctx = m.network_context()
    assert pill in start
    # the yield chasers left the turned validator: its dividends collapsed
    assert np.all(m.ledger.staked_to[chasers] != pill)
    assert ctx.net_yield[ctx.validators == pill][0] < ctx.net_yield.max()
    assert LoyalDelegator.classifier["adapts"] is False
    assert PopularityFollower.classifier["adapts"] is True


@pytest.mark.parametrize("cls", [YieldChaser, PopularityFollower, LoyalDelegator])
def test_no_validators_means_no_move(cls):
    m = _two_validators("loyal_delegator", 1)
    g = Group(cls, accounts(m, "loyal_delegator"), np.full(6, -1), m)
    ctx = m.network_context()
    empty = NetworkContext(m, 0, ctx.rng, np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    assert np.array_equal(cls.choose(g, empty), m.ledger.staked_to[g.accts])


def test_last_of_largest_equals_lexsort() -> None:
    """The momentum staker's pick (two maxima) equals ``np.lexsort(..)[-1]``: ties in the
    trend broken by stake, ties in both by the last index; NaN sorts last."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 30))
        trend = rng.choice([-0.1, -0.0, 0.0, 0.2, 0.3], n)
        stake = rng.choice([0.0, 1.0, 5.0, 5.0, np.inf], n)
        if rng.random() < 0.2:
            (trend if rng.random() < 0.5 else stake)[rng.integers(n)] = np.nan
        assert _last_of_largest(trend, stake) == int(np.lexsort((stake, trend))[-1])
