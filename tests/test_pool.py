"""world.pool: the subnet pools of dynamic TAO (issue 16, MODEL.md section 9).

Hand-worked swaps against the constant-product rule of the swap pallet (swap_step.rs
``convert_deltas`` at 50/50 weights), bad input refused with the argument's name, and
property tests: conservation of both tokens on the integer side, prices that move the way
trades push them, a product of reserves that never falls, injection at a constant price.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from world.pool import ALPHA_UNITS, FEE, FEE_FRACTION, ExactPool, Pool

RAO = 1_000_000_000


# -- hand-worked swaps -------------------------------------------------------------------


def test_default_fee_is_the_chains_33_of_65535():
    assert FEE == 33 / 65535
    assert Pool(1.0, 1.0).fee == 33 / 65535


def test_buy_without_fee_is_constant_product():
    # y = 100 TAO, x = 1000 alpha: 10 TAO buys 1000 * (1 - 100/110) = 90.90... alpha.
    pool = Pool(100.0, 1000.0, fee=0.0)
    assert pool.price == pytest.approx(0.1, rel=1e-15)
    out = pool.buy_alpha(10.0)
    assert out == pytest.approx(1000.0 / 11.0, rel=1e-14)
    assert pool.tao_reserve == 110.0
    assert pool.alpha_reserve == pytest.approx(10000.0 / 11.0, rel=1e-14)
    assert pool.tao_reserve * pool.alpha_reserve == pytest.approx(100_000.0, rel=1e-14)
    assert pool.price == pytest.approx(0.121, rel=1e-14)


def test_buy_with_fee_adds_the_full_input_to_the_reserve():
    # fee 1/2: 100 TAO into (100, 100) swaps as 50 -> 100 * 50/150 = 33.33 alpha; the
    # reserve keeps all 100 TAO, so the price is 200 / 66.67 = 3.
    pool = Pool(100.0, 100.0, fee=0.5)
    assert pool.buy_alpha(100.0) == pytest.approx(100.0 / 3.0, rel=1e-14)
    assert pool.tao_reserve == 200.0
    assert pool.alpha_reserve == pytest.approx(200.0 / 3.0, rel=1e-14)
    assert pool.price == pytest.approx(3.0, rel=1e-14)


def test_buy_with_the_default_fee_matches_the_issue_formula():
    pool = Pool(100.0, 1000.0)
    d = 10.0 * (1 - 33 / 65535)
    expected = 1000.0 * (1 - 100.0 / (100.0 + d))
    assert pool.buy_alpha(10.0) == pytest.approx(expected, rel=1e-13)


def test_sell_with_fee():
    # fee 1/2: 50 alpha into (100 TAO, 100 alpha) swaps as 25 -> 100 * 25/125 = 20 TAO.
    pool = Pool(100.0, 100.0, fee=0.5)
    assert pool.sell_alpha(50.0) == pytest.approx(20.0, rel=1e-14)
    assert pool.tao_reserve == pytest.approx(80.0, rel=1e-14)
    assert pool.alpha_reserve == 150.0


def test_round_trip_without_fee_returns_the_input():
    pool = Pool(100.0, 400.0, fee=0.0)
    alpha = pool.buy_alpha(20.0)  # 400 * 20/120 = 66.67
    assert alpha == pytest.approx(200.0 / 3.0, rel=1e-14)
    assert pool.sell_alpha(alpha) == pytest.approx(20.0, rel=1e-13)
    assert pool.tao_reserve == pytest.approx(100.0, rel=1e-13)
    assert pool.alpha_reserve == pytest.approx(400.0, rel=1e-13)


def test_round_trip_loses_the_fee_to_the_pool():
    # A small trade pays the fee twice (in on TAO, out on alpha): it gets back about
    # (1 - fee)^2 of its TAO, and the pool keeps exactly what the trader lost.
    pool = Pool(1_000_000.0, 1_000_000.0, fee=0.01)
    back = pool.sell_alpha(pool.buy_alpha(1.0))
    assert back == pytest.approx(0.99**2, rel=1e-5)
    assert pool.tao_reserve - 1_000_000.0 == pytest.approx(1.0 - back, rel=1e-6)
    assert pool.alpha_reserve == pytest.approx(1_000_000.0, rel=1e-15)


def test_inject_keeps_the_price():
    pool = Pool(100.0, 1000.0)
    assert pool.inject(10.0) == pytest.approx(100.0, rel=1e-15)
    assert (pool.tao_reserve, pool.alpha_reserve) == (110.0, pytest.approx(1100.0))
    assert pool.price == pytest.approx(0.1, rel=1e-15)


# -- bad input ---------------------------------------------------------------------------


def test_refuses_a_sell_larger_than_the_reserve():
    pool = Pool(100.0, 1000.0)
    with pytest.raises(ValueError, match="alpha_in"):
        pool.sell_alpha(1000.5)
    assert (pool.tao_reserve, pool.alpha_reserve) == (100.0, 1000.0)  # nothing traded


def test_refuses_a_buy_larger_than_the_reserve():
    with pytest.raises(ValueError, match="tao_in"):
        Pool(100.0, 1000.0).buy_alpha(100.01)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, "1", True, None])
def test_refuses_bad_amounts_naming_the_argument(bad):
    pool = Pool(100.0, 1000.0)
    for method, name in ((pool.buy_alpha, "tao_in"), (pool.sell_alpha, "alpha_in"),
                         (pool.inject, "tao")):
        with pytest.raises(ValueError, match=name):
            method(bad)


def test_refuses_bad_reserves_and_fees():
    with pytest.raises(ValueError, match="tao_reserve"):
        Pool(-1.0, 10.0)
    with pytest.raises(ValueError, match="alpha_reserve"):
        Pool(1.0, math.inf)
    with pytest.raises(ValueError, match="> 0"):
        Pool(0.0, 10.0)
    with pytest.raises(ValueError, match="fee"):
        Pool(1.0, 1.0, fee=1.0)
    with pytest.raises(ValueError, match="alpha_units"):
        ExactPool(10, -1)
    with pytest.raises(ValueError, match="tao_rao"):
        ExactPool(10, 10).buy_alpha(1.5)
    with pytest.raises(ValueError, match="alpha_units"):
        ExactPool(10, 10).sell_alpha(11)


# -- the integer side --------------------------------------------------------------------


def test_exact_buy_floors_fee_and_output_like_the_chain():
    pool = ExactPool(100 * RAO, 1000 * ALPHA_UNITS)
    tao_in = 10 * RAO
    fee = tao_in * 33 // 65535  # calculate_fee_amount: 5_035_477 RAO
    assert fee == 5_035_477
    d = tao_in - fee
    out = pool.buy_alpha(tao_in)
    assert out == (1000 * ALPHA_UNITS * d) // (100 * RAO + d)
    assert out == 90_867_473_491  # 1e12 * 9_994_964_523 / 109_994_964_523, floored
    assert (pool.tao_rao, pool.alpha_units) == (110 * RAO, 1000 * ALPHA_UNITS - out)


def test_exact_inject_issues_alpha_at_the_price():
    pool = ExactPool(100 * RAO, 1000 * ALPHA_UNITS)
    assert pool.inject(3) == 30  # 3 RAO at 0.1 RAO per unit
    assert pool.inject(1 * RAO) == 10 * ALPHA_UNITS
    assert (pool.tao_injected, pool.alpha_issued) == (RAO + 3, 10 * ALPHA_UNITS + 30)
    assert pool.as_pool().price == pytest.approx(0.1, rel=1e-12)


reserves = st.integers(min_value=10**6, max_value=10**17)


@settings(max_examples=200, deadline=None)
@given(y=reserves, x=reserves, frac=st.floats(0.0, 1.0))
def test_exact_output_is_the_floored_formula_on_the_net_input(y, x, frac):
    # The chain floors the fee (the trader keeps the fraction of a RAO) and then the
    # output: the pool pays floor(x d / (y + d)) for the net input d, never more.
    pool = ExactPool(y, x)
    t = min(int(frac * y), y)
    d = t - t * 33 // 65535
    exact = Fraction(x * d, y + d)
    out = pool.quote_buy(t)
    assert out <= exact < out + 1
    assert abs(d - Fraction(t) * (1 - FEE_FRACTION)) < 1
    s = min(int(frac * x), x)
    d = s - s * 33 // 65535
    out = pool.quote_sell(s)
    assert out <= Fraction(y * d, x + d) < out + 1


@st.composite
def trades(draw):
    """A random sequence of trades on one pool by three holders, plus injections."""
    n = draw(st.integers(1, 40))
    return [(draw(st.sampled_from(["buy", "sell", "inject"])), draw(st.integers(0, 2)),
             draw(st.integers(0, 1000))) for _ in range(n)]


@settings(max_examples=150, deadline=None)
@given(ops=trades(), y=reserves, x=reserves)
def test_exact_pool_never_creates_or_loses_either_token(ops, y, x):
    pool = ExactPool(y, x)
    tao = [10**15, 10**12, 7]
    alpha = [0, 10**9, 0]
    tao0, alpha0 = sum(tao) + pool.tao_rao, sum(alpha) + pool.alpha_units
    for op, who, permille in ops:
        k0 = pool.tao_rao * pool.alpha_units
        if op == "buy":
            amount = min(tao[who] * permille // 1000, pool.tao_rao)
            tao[who] -= amount
            alpha[who] += pool.buy_alpha(amount)
        elif op == "sell":
            amount = min(alpha[who] * permille // 1000, pool.alpha_units)
            alpha[who] -= amount
            tao[who] += pool.sell_alpha(amount)
        else:
            pool.inject(permille * 10**9)
        assert pool.tao_rao * pool.alpha_units >= k0  # the product never falls
        assert min(tao + alpha) >= 0 and pool.tao_rao > 0 and pool.alpha_units > 0
    assert sum(tao) + pool.tao_rao == tao0 + pool.tao_injected
    assert sum(alpha) + pool.alpha_units == alpha0 + pool.alpha_issued


@settings(max_examples=200, deadline=None)
@given(y=st.floats(1e-3, 1e9), x=st.floats(1e-3, 1e9), frac=st.floats(1e-9, 1.0),
       fee=st.sampled_from([0.0, FEE, 0.01]))
def test_prices_move_the_way_trades_push_them(y, x, frac, fee):
    pool = Pool(y, x, fee=fee)
    p0, k0 = pool.price, y * x
    pool.buy_alpha(frac * y)
    p1 = pool.price
    assert p1 > p0
    assert pool.tao_reserve * pool.alpha_reserve >= k0 * (1 - 1e-12)
    pool.sell_alpha(frac * pool.alpha_reserve)
    assert pool.price < p1
    assert pool.tao_reserve * pool.alpha_reserve >= k0 * (1 - 1e-12)


@settings(max_examples=200, deadline=None)
@given(y=st.floats(1e-3, 1e9), x=st.floats(1e-3, 1e9),
       frac=st.one_of(st.just(0.0), st.floats(1e-12, 1.0)), fee=st.sampled_from([0.0, FEE, 0.01]))
def test_round_trip_never_gains_and_loses_only_the_fee(y, x, frac, fee):
    pool = Pool(y, x, fee=fee)
    tao_in = frac * y
    back = pool.sell_alpha(pool.buy_alpha(tao_in))
    assert back <= tao_in * (1 + 1e-12)
    if fee == 0.0:
        assert back == pytest.approx(tao_in, rel=1e-9, abs=1e-12 * y)
    # what the trader lost, the pool kept
    assert pool.tao_reserve - y == pytest.approx(tao_in - back, rel=1e-6, abs=1e-9 * y)


@settings(max_examples=200, deadline=None)
@given(y=st.floats(1e-3, 1e9), x=st.floats(1e-3, 1e9), tao=st.floats(0.0, 1e9))
def test_inject_never_moves_the_price(y, x, tao):
    pool = Pool(y, x)
    p0 = pool.price
    pool.inject(tao)
    assert pool.price == pytest.approx(p0, rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(y=reserves, x=reserves, t=st.integers(0, 10**15))
def test_exact_inject_never_lowers_the_price(y, x, t):
    pool = ExactPool(y, x)
    p0 = Fraction(y, x)
    pool.inject(t)
    p1 = Fraction(pool.tao_rao, pool.alpha_units)
    assert p1 >= p0
    assert p1 - p0 <= p0 / pool.alpha_units + Fraction(1, pool.alpha_units)
