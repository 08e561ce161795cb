"""Speed forms of the dtao economy and its metrics equal the forms they stand for, bit for
bit: ``rules_dtao.moving_price`` with one start block, the kept quality ranks of
``metrics.spearman_segments``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_econ_jit import _ledger

from world import metrics
from world.rules_dtao import moving_price


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint8)


@pytest.mark.parametrize("seed", range(5))
def test_moving_price_of_one_start_equals_the_unique_form(seed: int) -> None:
    """Every subnet at one b (the shortcut) gives what ``np.unique`` over b gives: the
    same b written as distinct values that differ by nothing (one subnet, +0.0 and -0.0),
    and b given per subnet against a b of one subnet at a time."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 20))
    moving, price = rng.random(k), rng.random(k) * 2
    b = float(rng.integers(0, 500_000))
    got = moving_price(moving, price, np.full(k, b), 360)
    for j in range(k):  # one subnet at a time: np.unique of one value is the value
        one = moving_price(moving[j:j + 1], price[j:j + 1], np.array([b]), 360)
        np.testing.assert_array_equal(_bits(got[j:j + 1]), _bits(one))
    since = np.full(k, b)
    since[: k // 2] += 1  # two starts: np.unique's path
    mixed = moving_price(moving, price, since, 360)
    for j in range(k):
        one = moving_price(moving[j:j + 1], price[j:j + 1], since[j:j + 1], 360)
        np.testing.assert_array_equal(_bits(mixed[j:j + 1]), _bits(one))
    zeros = np.zeros(k)
    zeros[::2] = -0.0
    a = moving_price(moving, price, zeros, 7)
    b0 = moving_price(moving, price, np.zeros(k), 7)
    np.testing.assert_array_equal(_bits(a), _bits(b0))
    assert moving_price(np.zeros(0), np.zeros(0), np.zeros(0), 5).shape == (0,)


def _moving_price_unique(moving: np.ndarray, price: np.ndarray, since: np.ndarray,
                         blocks: int) -> np.ndarray:
    """``moving_price``'s reference form: the product once per ``np.unique`` value."""
    first, inverse = np.unique(since.ravel(), return_inverse=True)
    bk = first[:, None] + np.arange(blocks, dtype=np.float64)
    keep = np.prod(1.0 - 0.000003 * bk / (bk + 201_600), axis=-1)
    target = np.minimum(price, 1.0)
    return target + (moving - target) * keep[inverse].reshape(since.shape)


def test_moving_price_shortcut_is_the_unique_forms_numbers() -> None:
    """The same bits as with ``np.unique`` always taken (the reference form), for one
    start block (the shortcut), a start block 0 written +0.0 and -0.0, two start blocks."""
    rng = np.random.default_rng(9)
    for k in (1, 2, 7, 128):
        moving, price = rng.random(k), rng.random(k) * 3
        zeros = np.zeros(k)
        zeros[::2] = -0.0
        two = np.full(k, 7.0)
        two[:1] = 3.0
        for since in (np.full(k, float(rng.integers(0, 10**6))), zeros, two):
            got = moving_price(moving, price, since, 360)
            want = _moving_price_unique(moving, price, since, 360)
            np.testing.assert_array_equal(_bits(got), _bits(want))


@pytest.mark.parametrize("ragged", [False, True])
def test_spearman_with_kept_ranks_is_without(ragged: bool) -> None:
    """``spearman_segments`` with a memo gives the numbers without it, epoch after epoch:
    the same x (ranks kept), x changed in one bit, sizes changed, ties and one segment."""
    rng = np.random.default_rng(4)
    memo: dict[str, np.ndarray] = {}
    k, width = 6, 12
    sizes = rng.integers(1, width + 1, k) if ragged else np.full(k, width)
    n = int(sizes.sum())
    x = np.round(rng.random(n), 1)
    for t in range(8):
        if t == 3:
            x = x.copy()
            x[5] = np.nextafter(x[5], 2.0)  # one bit apart: not the kept x
        if t == 5:
            sizes = np.array([n])  # one segment: other sizes, same x
        if t == 6:
            x = x.copy()
            x[0] = -0.0 if x[0] == 0.0 else 0.0
        y = rng.random(n)
        want = metrics.spearman_segments(x, y, sizes)
        got = metrics.spearman_segments(x, y, sizes, memo=memo)
        np.testing.assert_array_equal(_bits(got), _bits(want))
        np.testing.assert_array_equal(memo["ranks"], metrics._segment_ranks(
            x, np.repeat(np.arange(len(sizes)), sizes), sizes))
    empty = metrics.spearman_segments(np.zeros(0), np.zeros(0), np.zeros(0, np.int64), memo={})
    assert empty.shape == (0,)


@pytest.mark.parametrize("seed", range(6))
def test_hotkey_parts_reading_the_table_equal_numpy(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``DtaoLedger.hotkey_parts`` with ``net_table`` (the compiled loop reading each
    hotkey's subnet from the table) gives the numpy form's sums: a table shorter than the
    accounts (hotkeys past its end on no subnet), longer, or empty; no accounts."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(0, 400)), int(rng.integers(1, 6))
    ledger = _ledger(rng, max(n, 1), k)
    n = ledger.n
    table = rng.integers(-1, k, [n // 2, n + 5, 0, n][seed % 4])
    ledger.net_of = lambda a: _lookup(table, a)
    ledger.net_table = lambda: table
    got = ledger.hotkey_parts()
    assert got[0].dtype is got[1].dtype is np.dtype(np.float64)
    monkeypatch.setattr("world.kernels.BACKEND", "numpy")
    ledger._parts_cache = None
    want = ledger.hotkey_parts()
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(_bits(a), _bits(b))


def test_hotkey_parts_reading_the_table_declines_a_hotkey_out_of_range(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A hotkey that is no account: the loops decline, numpy's sums as before."""
    rng = np.random.default_rng(1)
    ledger = _ledger(rng, 30, 3)
    table = rng.integers(-1, 3, 30)
    ledger.net_of = lambda a: _lookup(table, a)
    ledger.net_table = lambda: table
    ledger.staked_to[5] = 30
    got = ledger.hotkey_parts()
    monkeypatch.setattr("world.kernels.BACKEND", "numpy")
    ledger._parts_cache = None
    for a, b in zip(got, ledger.hotkey_parts(), strict=True):
        np.testing.assert_array_equal(_bits(a), _bits(b))


def _lookup(table: np.ndarray, accts: np.ndarray) -> np.ndarray:
    """``world.coinbase._net_of`` over ``table``: -1 for an index outside it."""
    accts = np.asarray(accts, dtype=np.int64)
    ok = (accts >= 0) & (accts < len(table))
    return np.where(ok, table[np.where(ok, accts, 0)] if len(table) else -1, -1)


def _ledger_state(ledger) -> tuple:
    """Every figure a buy may change: balances, stakes, flows and the pools' reserves."""
    n = ledger.n
    return (ledger.liquid[:n].tolist(), ledger.alpha[:n].tolist(),
            ledger.alpha_net[:n].tolist(), ledger.staked_to[:n].tolist(),
            ledger.flow_rao.tolist(), ledger.stake_version,
            [(p.tao_rao, p.alpha_units) for p in ledger.pools])


@pytest.mark.parametrize("seed", range(4))
def test_buy_of_one_account_equals_the_batched_form(seed: int) -> None:
    """``DtaoLedger.buy`` of one account (``_buy_one``) makes the changes, returns the
    units and raises the errors of the batched form (``_buy_batch``): buys of nothing,
    of more than the pool's TAO reserve (made in parts), without flow, over the liquid
    balance, negative, and on another subnet than the alpha held."""
    import copy

    from world.ledger import LedgerError

    rng = np.random.default_rng(seed)
    k = 4
    fast = _ledger(rng, 60, k)
    fast.liquid[:60] = rng.integers(0, 10**16, 60)
    fast.alpha_net[:60] = np.where(fast.alpha[:60] > 0, rng.integers(0, k, 60), -1)
    fast.flow_rao = rng.integers(-10**12, 10**12, k)
    slow = copy.deepcopy(fast)
    for i in range(200):
        acct, net = int(rng.integers(0, 60)), int(rng.integers(0, k))
        liquid = int(fast.liquid[acct])
        tao = [0, liquid, liquid + 1, -3, int(rng.integers(0, max(liquid, 1)))][i % 5]
        if i == 7:
            fast.liquid[acct] = slow.liquid[acct] = 10**17  # more than the pool's TAO
            tao = 3 * fast.pools[net].tao_rao + 5
        flow = bool(i % 3)
        args = (np.array([acct]), np.array([tao]), np.array([net]))
        try:
            want = slow._buy_batch(*args, flow=flow)
        except LedgerError as e:
            with pytest.raises(LedgerError) as got_error:
                fast.buy(*args, flow=flow)
            assert str(got_error.value) == str(e)
        else:
            got = fast.buy(*args, flow=flow)
            assert got.dtype == want.dtype == np.int64
            np.testing.assert_array_equal(got, want)
        assert _ledger_state(fast) == _ledger_state(slow)
    # a flow that wraps: as the batched form's arrays, without numpy's scalar warning
    fast.flow_rao[0] = slow.flow_rao[0] = 2**63 - 10
    acct = int(np.flatnonzero(fast.alpha_net[:60] <= 0)[0])  # none held, or subnet 0's
    fast.liquid[acct] = slow.liquid[acct] = 10**9
    args = (np.array([acct]), np.array([10**6]), np.array([0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(fast.buy(*args), slow._buy_batch(*args, flow=True))
    assert _ledger_state(fast) == _ledger_state(slow) and fast.flow_rao[0] < 0
