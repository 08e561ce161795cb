"""The ledger keeps TAO exactly (MODEL.md section 4, "Accounting is exact")."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from world.ledger import Ledger, LedgerError, to_rao


def test_to_rao_floors_and_rejects_negative():
    assert to_rao(1.5) == 1_500_000_000
    assert to_rao(1e-10) == 0
    with pytest.raises(ValueError, match="non-negative"):
        to_rao(-1.0)


def test_transfer_stake_burn_conserve():
    led = Ledger()
    a, b = led.open("a", 100), led.open("b", 50)
    led.transfer(a, b, 30)
    led.stake(b, b, 60)
    led.burn(a, 10)
    led.check(0)
    assert (led.liquid[a], led.liquid[b], led.staked[b]) == (60, 20, 60)
    assert led.supply == 140 and led.burned == 10


def test_overdraft_is_an_error_naming_the_account():
    led = Ledger()
    a = led.open("alice", 5)
    with pytest.raises(LedgerError, match="alice"):
        led.transfer(a, a, 6)


def test_check_names_epoch_and_difference_when_tao_is_created():
    led = Ledger()
    a = led.open("a", 10)
    led.liquid[a] += 1  # a bug elsewhere would look like this
    with pytest.raises(LedgerError, match="epoch 7.*difference 1 RAO"):
        led.check(7)


def test_negative_balance_is_reported():
    led = Ledger()
    a, b = led.open("a", 10), led.open("bob", 0)
    led.liquid[a] += 5
    led.liquid[b] -= 5
    with pytest.raises(LedgerError, match="bob"):
        led.check(3)


def test_dividends_take_and_nominators_add_up_exactly():
    led = Ledger()
    v = led.open("validator", 300)
    n1, n2 = led.open("n1", 100), led.open("n2", 600)
    led.stake(v, v, 300)
    led.stake(n1, v, 100)
    led.stake(n2, v, 600)
    received, to_nom = led.mint_dividends(np.array([v]), np.array([1_000_003]), take=0.18)
    take = int(1_000_003 * 0.18)
    rest = 1_000_003 - take
    assert received[n1] == rest * 100 // 1000
    assert received[n2] == rest * 600 // 1000
    assert received[v] == 1_000_003 - received[n1] - received[n2]
    assert to_nom[0] == received[n1] + received[n2]
    assert received.sum() == 1_000_003
    led.check(0)


@settings(max_examples=150, deadline=None)
@given(
    stakes=st.lists(st.integers(0, 10**15), min_size=1, max_size=12),
    hotkey_of=st.lists(st.integers(0, 2), min_size=12, max_size=12),
    dividends=st.lists(st.integers(0, 10**12), min_size=3, max_size=3),
    take=st.floats(0, 1),
)
def test_dividends_never_create_or_lose_rao(stakes, hotkey_of, dividends, take):
    led = Ledger()
    vals = [led.open(f"v{i}", 0) for i in range(3)]
    for i, s in enumerate(stakes):
        acct = led.open(f"n{i}", s)
        led.stake(acct, vals[hotkey_of[i]], s)
    before = led.staked.sum() + led.liquid.sum()
    received, _ = led.mint_dividends(np.array(vals), np.array(dividends), take)
    assert received.sum() == sum(dividends)
    assert led.staked.sum() + led.liquid.sum() == before + sum(dividends)
    assert (received >= 0).all()
    led.check(0)
