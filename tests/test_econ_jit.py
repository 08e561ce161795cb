"""The compiled loops of ``world.econ_jit`` equal the numpy forms they stand for, bit for bit
(``split_segments``: tests/test_split_segments.py)."""

from __future__ import annotations

import numpy as np
import pytest

from world import econ_jit
from world.alpha_ledger import DtaoLedger
from world.ledger import LedgerError
from world.payout import share_pro_rata, share_pro_rata_numpy, split_segments
from world.pool import ExactPool


def _stakes(rng: np.random.Generator, n: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Accounts staked to hotkeys (-1: none), stakes with zeros and a wide range."""
    to = rng.integers(-1, h, n)
    stake = rng.random(n) * 10.0 ** rng.integers(0, 13, n)
    stake[rng.random(n) < 0.2] = 0.0
    return to, stake


@pytest.mark.parametrize("seed", range(10))
def test_share_pro_rata_equals_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h = int(rng.integers(1, 60))
    n = h + int(rng.integers(0, 300))
    to, stake = _stakes(rng, n, h)
    amount = rng.integers(0, 10 ** int(rng.integers(1, 16)), h)
    amount[rng.random(h) < 0.3] = 0
    owner = rng.permutation(n)[:h]
    takes = (0.0, 0.18, 1.0, rng.random(h), np.where(rng.random(h) < 0.5, 0.18, 0.0))
    for take in takes:
        want = share_pro_rata_numpy(amount, to, stake, owner, take)
        got = share_pro_rata(amount, to, stake, owner, take)
        assert got.dtype == want.dtype == np.int64
        np.testing.assert_array_equal(got, want)
        rates = np.asarray(take, dtype=np.float64).reshape(-1)
        done, out = econ_jit.share_pro_rata(amount, to, stake, owner, rates)
        assert done
        np.testing.assert_array_equal(out, want)
        assert int(out.sum()) == int(amount.sum())


def test_share_pro_rata_edge_cases_equal_numpy() -> None:
    cases = [
        ([1000], [-1, 0, 0], [0, 300, 100], [0], 0.18),  # tests/test_rules_dtao.py's
        ([5, 0], [1, 1, -1], [0.0, 0.0, 3.0], [2, 0], 0.0),  # no stake behind a hotkey
        ([], [], [], [], 0.5),
        ([7], [0, 0], [np.nan, 2.0], [1], 0.0),  # NaN stake: not a payer
        ([2**60, 3], [0, 1, 0, 1], [1.0, 1e300, 3.0, 1e-300], [3, 5], [0.1, 0.9]),
        ([9, 9], [0, 1], [1.0, 1.0], [1, 0], [0.5]),  # one rate for all, as an array
    ]
    for amount, to, stake, owner, take in cases:
        want = share_pro_rata_numpy(amount, to, stake, owner, take)
        np.testing.assert_array_equal(share_pro_rata(amount, to, stake, owner, take), want)


def test_share_pro_rata_declines_and_raises_as_numpy() -> None:
    rates = np.array([0.0])
    one, stake = np.array([0]), np.array([1.0])
    for amount, to, stake_, owner, r in (
        ([-1], one, stake, one, rates),  # a negative amount
        ([1], one, [-1.0], one, rates),  # a negative stake
        ([1], one, stake, one, np.array([1.5])),  # a take out of [0, 1]
        ([1], one, stake, one, np.array([np.nan])),
        ([1], one, [np.inf], one, rates),  # an infinite stake
        ([1], [1], stake, one, rates),  # a hotkey out of range
        ([1], [-1], [0.0], [-1], rates),  # dust for an owner at a negative index
    ):
        done, _ = econ_jit.share_pro_rata(
            *(np.asarray(x, dtype=t) for x, t in ((amount, np.int64), (to, np.int64),
                                                   (stake_, np.float64), (owner, np.int64))),
            r)
        assert not done
    with pytest.raises(ValueError):
        share_pro_rata([1], [0], [1.0], [0], take=1.5)
    with pytest.raises(ValueError):
        share_pro_rata([-1], [0], [1.0], [0])


def _ledger(rng: np.random.Generator, n: int, k: int) -> DtaoLedger:
    """A ledger of ``n`` accounts with root and alpha stake on ``k`` subnets; account i's
    UID on subnet ``i % (k + 1)`` (k: none)."""
    ledger = DtaoLedger(capacity=n)
    for i in range(n):
        ledger.open(f"a{i}")
    table = np.where(np.arange(n) % (k + 1) < k, np.arange(n) % (k + 1), -1)
    ledger.net_of = lambda a: np.where(np.asarray(a) >= 0, table[np.maximum(a, 0)], -1)
    ledger.staked_to[:n] = rng.integers(-1, n, n)
    ledger.staked[:n] = rng.integers(0, 10**15, n) * (rng.random(n) < 0.5)
    ledger.alpha[:n] = rng.integers(0, 10**16, n)
    ledger.alpha_net[:n] = rng.integers(-1, k, n)
    ledger.pools = [ExactPool(int(t), int(a)) for t, a in
                    zip(rng.integers(1, 10**15, k), rng.integers(1, 10**16, k), strict=True)]
    ledger.protocol_alpha = rng.integers(0, 10**12, k)
    return ledger


@pytest.mark.parametrize("seed", range(5))
def test_hotkey_parts_and_held_alpha_equal_numpy(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(seed)
    ledger = _ledger(rng, int(rng.integers(1, 500)), int(rng.integers(1, 9)))
    got = ledger.hotkey_parts(), ledger.alpha_outstanding()
    monkeypatch.setattr("world.kernels.BACKEND", "numpy")
    ledger._parts_cache = None
    want = ledger.hotkey_parts(), ledger.alpha_outstanding()
    for a, b in zip((*got[0], got[1]), (*want[0], want[1]), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_compiled_arrays_have_numpy_dtypes() -> None:
    """Results are viewed as numpy's own dtype objects (``np.add.at``'s fast path)."""
    assert share_pro_rata([5], [0, 0], [1.0, 2.0], [1]).dtype is np.dtype(np.int64)
    pay, left = split_segments(np.array([5]), np.array([0, 0]), np.array([1.0, 2.0]))
    assert pay.dtype is left.dtype is np.dtype(np.int64)
    ledger = _ledger(np.random.default_rng(0), 20, 3)
    alpha, root = ledger.hotkey_parts()
    assert alpha.dtype is root.dtype is np.dtype(np.float64)
    assert ledger.alpha_outstanding().dtype is np.dtype(np.int64)


def test_hotkey_value_of_some_accounts_is_theirs_of_all() -> None:
    ledger = _ledger(np.random.default_rng(1), 300, 5)
    accts = np.array([7, 0, 299, 7, 150], dtype=np.int64)
    np.testing.assert_array_equal(ledger.hotkey_value_tao(accts),
                                  ledger.hotkey_value_tao()[accts])


def _ledger_state(ledger: DtaoLedger) -> list[np.ndarray]:
    return [ledger.alpha, ledger.alpha_net, ledger.alpha_issued, ledger.staked_to,
            ledger.liquid, ledger.staked, ledger.flow_rao,
            np.array([ledger.stake_version, *(p.tao_rao for p in ledger.pools),
                      *(p.alpha_units for p in ledger.pools)], dtype=object)]


@pytest.mark.parametrize("seed", range(6))
def test_credit_and_sell_equal_numpy(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``credit_alpha`` and ``sell`` through the compiled loops leave the ledger as the
    numpy form does, and raise where it raises (a clash, a sale beyond the stake)."""
    import copy

    rng = np.random.default_rng(seed)
    n, k = 200, 4
    base = _ledger(rng, n, k)
    base.alpha_net[:n] = np.where(rng.random(n) < 0.3, -1, base.alpha_net[:n])
    base.alpha[:n] = np.where(base.alpha_net[:n] < 0, 0, base.alpha[:n])
    base.flow_rao = np.zeros(k, dtype=np.int64)
    base.alpha_issued = rng.integers(10**17, 10**18, k)
    ledgers = {"numpy": base, "auto": copy.deepcopy(base)}
    for step in range(30):
        if step % 2:
            m = int(rng.integers(0, 40))
            accts = rng.integers(-1 if step % 7 == 0 else 0, n, m)
            units = rng.integers(-2, 10**12, m) * (rng.random(m) < 0.8)
            nets = rng.integers(0, k, m)
            if step % 3 and m:  # each on the subnet it holds (no clash)
                held = base.alpha_net[accts]
                nets = np.where(held >= 0, held, nets)
            call = ("credit_alpha", accts, units, nets)
        else:
            on = np.flatnonzero(base.alpha[:n] > 0)
            accts = rng.choice(on, int(rng.integers(0, min(30, len(on)) + 1)))
            units = rng.integers(0, base.alpha[accts] // 2 + 1)
            if step % 6 == 0 and len(accts):
                units[0] = base.alpha[accts[0]] + 1  # more than it holds
            call = ("sell", accts, units)
        outcome = {}
        for backend, ledger in ledgers.items():
            monkeypatch.setattr("world.kernels.BACKEND", backend)
            try:
                outcome[backend] = getattr(ledger, call[0])(*call[1:])
            except (LedgerError, IndexError) as e:
                outcome[backend] = type(e)
        if isinstance(outcome["numpy"], np.ndarray):
            np.testing.assert_array_equal(outcome["auto"], outcome["numpy"])
        else:
            assert outcome["auto"] == outcome["numpy"]
        for a, b in zip(*map(_ledger_state, ledgers.values()), strict=True):
            np.testing.assert_array_equal(a, b)


def _bits(x: np.ndarray) -> np.ndarray:
    """The float bits, so -0.0, 0.0 and NaNs of different payloads differ."""
    return np.asarray(x, dtype=np.float64).view(np.uint64)


def _uids(rng: np.random.Generator, m: int, n: int) -> tuple[np.ndarray, ...]:
    """Stacked UIDs: hotkeys (-1: empty) among n accounts, dividends and prices with zeros,
    negatives and non-finite values, alpha and root stakes per hotkey with zeros."""
    occupant = rng.integers(0, n, m)
    occupant[rng.random(m) < 0.2] = -1
    div = rng.random(m) * 10.0 ** rng.integers(-3, 9, m)
    div[rng.random(m) < 0.2] = 0.0
    div[:4] = [-1.0, np.inf, np.nan, -0.0][: min(4, m)]
    price = rng.random(m) * 3.0
    price[rng.random(m) < 0.1] = 0.0
    alpha_hk = rng.random(n) * 10.0 ** rng.integers(0, 15, n)
    root_hk = rng.random(n) * 10.0 ** rng.integers(0, 15, n)
    alpha_hk[rng.random(n) < 0.3] = 0.0
    root_hk[rng.random(n) < 0.3] = 0.0
    return occupant, div, price, alpha_hk, root_hk


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf, NaN dividends
@pytest.mark.parametrize("seed", range(6))
def test_coinbase_uid_loops_equal_numpy(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from world import coinbase, kernels

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    m = int(rng.integers(4, 600))
    occupant, div, price, alpha_hk, root_hk = _uids(rng, m, n)
    alpha_pay = rng.integers(0, 10**12, m)
    per_hk = rng.integers(0, 10**12, m)
    for w in (0.0, 0.18, 1.0):
        want = coinbase.dividend_parts_at_numpy(div, occupant, alpha_hk, root_hk, w)
        done, *got = econ_jit.dividend_parts_at(div, occupant, alpha_hk, root_hk, w)
        assert done
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(_bits(a), _bits(b))
    for take in (0.0, 0.18, 1.0):
        want = coinbase.yield_rates_numpy(occupant, price, alpha_pay, per_hk, alpha_hk,
                                          root_hk, take)
        done, got = econ_jit.yield_rates(occupant, price, alpha_pay, per_hk, alpha_hk,
                                         root_hk, 1.0 - take)
        assert done
        np.testing.assert_array_equal(_bits(got), _bits(want))
    # accounts staking behind hotkeys, their alpha on the hotkey's subnet or another
    k = int(rng.integers(1, 8))
    to = rng.integers(-1, n, n)
    acct_net = rng.integers(-1, k, n)
    alpha_net = np.where(rng.random(n) < 0.7, acct_net[np.maximum(to, 0)],
                         rng.integers(-1, k, n))
    alpha = rng.integers(0, 10**15, n)
    want = coinbase.stakers_behind_numpy(to, alpha_net, alpha, acct_net)
    done, *got = econ_jit.stakers_behind(to, alpha_net, alpha, acct_net)
    assert done
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
    assert got[1].dtype == np.float64 and np.array_equal(got[1], want[1].astype(np.float64))
    # the wrappers take the loops' answers as numpy's dtypes, or numpy's form
    for backend in ("numba", "numpy"):
        monkeypatch.setattr(kernels, "BACKEND", backend)
        out = coinbase.stakers_behind(to, alpha_net, alpha, acct_net)
        assert [x.dtype for x in out] == [np.dtype(np.int64), np.dtype(np.float64)
                                          if backend == "numba" else alpha.dtype,
                                          np.dtype(np.int64)]
        assert all(type(x.dtype) is type(np.dtype(x.dtype.name)) for x in out)
        out = coinbase.dividend_parts_at(div, occupant, alpha_hk, root_hk, 0.18)
        want = coinbase.dividend_parts_at_numpy(div, occupant, alpha_hk, root_hk, 0.18)
        for a, b in zip(out, want, strict=True):
            np.testing.assert_array_equal(_bits(a), _bits(b))
        out = coinbase.yield_rates(occupant, price, alpha_pay, per_hk, alpha_hk, root_hk, 0.18)
        want = coinbase.yield_rates_numpy(occupant, price, alpha_pay, per_hk, alpha_hk,
                                          root_hk, 0.18)
        np.testing.assert_array_equal(_bits(out), _bits(want))


def test_coinbase_uid_loops_decline_as_numpy_raises() -> None:
    from world import coinbase

    rng = np.random.default_rng(1)
    occupant, div, price, alpha_hk, root_hk = _uids(rng, 20, 10)
    occupant[3] = 10  # a hotkey out of range: numpy raises
    assert not econ_jit.dividend_parts_at(div, occupant, alpha_hk, root_hk, 0.18)[0]
    pay = np.ones(20, dtype=np.int64)
    assert not econ_jit.yield_rates(occupant, price, pay, pay, alpha_hk, root_hk, 0.82)[0]
    with pytest.raises(IndexError):
        coinbase.dividend_parts_at(div, occupant, alpha_hk, root_hk, 0.18)
    with pytest.raises(IndexError):
        coinbase.yield_rates(occupant, price, pay, pay, alpha_hk, root_hk, 0.18)
    to = np.array([0, 5, -1])
    assert not econ_jit.stakers_behind(to, np.zeros(3, np.int64), np.ones(3, np.int64),
                                       np.zeros(3, np.int64))[0]
    with pytest.raises(IndexError):
        coinbase.stakers_behind(to, np.zeros(3, np.int64), np.ones(3, np.int64),
                                np.zeros(3, np.int64))


@pytest.mark.parametrize("drop_fee", [False, True])
def test_sell_each_equals_a_swap_per_pool(drop_fee: bool) -> None:
    """``DtaoLedger._sell_each``'s inline sale is ``_swap``'s (``ExactPool.sell_alpha``),
    for sales within the reserve, larger ones (made in parts), none and negative ones."""
    rng = np.random.default_rng(5)
    fast, slow = DtaoLedger(8), DtaoLedger(8)
    market = fast.open("market", 10**18)
    slow.open("market", 10**18)
    for _ in range(9):
        tao, alpha = int(rng.integers(10**9, 10**16)), int(rng.integers(10**9, 10**17))
        fast.add_pool(market, tao, alpha)
        slow.add_pool(market, tao, alpha)
    reserve = np.array([p.alpha_units for p in fast.pools], dtype=np.int64)
    units = np.array([0, 1, -5, *(reserve[3:8] // rng.integers(1, 10**6, 5)),
                      3 * reserve[8] + 7], dtype=np.int64)
    for _ in range(3):
        got = fast._sell_each(units, drop_fee=drop_fee)
        want = np.zeros(len(units), dtype=np.int64)
        for j in np.flatnonzero(units):
            want[j] = slow._swap(int(j), int(units[j]), buy=False, drop_fee=drop_fee)
        np.testing.assert_array_equal(got, want)
        assert [(p.tao_rao, p.alpha_units) for p in fast.pools] == [
            (p.tao_rao, p.alpha_units) for p in slow.pools]


def test_inject_equals_inject_and_maybe_swap_per_pool() -> None:
    """``DtaoLedger.inject``'s inline arithmetic is ``rules_dtao.inject_and_maybe_swap``'s,
    for excesses within the TAO reserve, larger ones (bought in parts), none and negative
    ones."""
    from world.rules_dtao import inject_and_maybe_swap

    rng = np.random.default_rng(7)
    ledger = DtaoLedger(8)
    market = ledger.open("market", 10**18)
    pools = []
    for _ in range(8):
        tao, alpha = int(rng.integers(10**9, 10**16)), int(rng.integers(10**9, 10**17))
        ledger.add_pool(market, tao, alpha)
        pools.append(ExactPool(tao, alpha, ledger.pools[-1].fee))
    for _ in range(3):
        tao_in = rng.integers(0, 10**13, 8)
        excess = rng.integers(0, 10**12, 8)
        excess[:3] = [0, -4, 3 * pools[2].tao_rao + 2 * int(tao_in[2]) + 11]
        issued0, bought0 = ledger.alpha_issued.copy(), ledger.protocol_alpha.copy()
        ledger.inject(tao_in, excess)
        want = [inject_and_maybe_swap(p, int(t), int(e))
                for p, t, e in zip(pools, tao_in, excess, strict=True)]
        np.testing.assert_array_equal(ledger.alpha_issued - issued0, [w[0] for w in want])
        np.testing.assert_array_equal(ledger.protocol_alpha - bought0, [w[1] for w in want])
        assert [(p.tao_rao, p.alpha_units, p.tao_injected, p.alpha_issued)
                for p in ledger.pools] == [(p.tao_rao, p.alpha_units, p.tao_injected,
                                            p.alpha_issued) for p in pools]


def _bits64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.int64)


@pytest.mark.parametrize("seed", range(4))
def test_add_at_equals_numpy(seed: int) -> None:
    """``payout.add_at`` (``econ_jit.add_at``) adds as ``np.add.at`` of the values as the
    target's type: floats in index order (values past 2^53 and of mixed signs, so an other
    order would round otherwise), repeated and unrepeated rows, integers, no rows."""
    from world.payout import add_at

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 50))
    m = int(rng.integers(0, 400))
    idx = rng.integers(0, n, m)  # rows repeated
    ints = rng.integers(-(2**62), 2**62, m) // rng.integers(1, 2**40, m)
    floats = rng.standard_normal(m) * 10.0 ** rng.integers(-5, 20, m)
    start = rng.standard_normal(n) * 1e17
    for target, values in ((start, ints), (start, floats),
                           (rng.integers(-10**15, 10**15, n), ints)):
        want = target.copy()
        np.add.at(want, idx, values.astype(target.dtype))
        got = target.copy()
        add_at(got, idx, values)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(_bits64(got), _bits64(want))
        compiled = target.copy()
        assert econ_jit.add_at(compiled, idx, values)
        np.testing.assert_array_equal(_bits64(compiled), _bits64(want))
    empty = start.copy()
    add_at(empty, np.zeros(0, np.int64), np.zeros(0, np.int64))
    np.testing.assert_array_equal(_bits64(empty), _bits64(start))


def test_add_at_declines_as_numpy_wraps_or_raises() -> None:
    """An index below 0 (numpy wraps it) or past the end (numpy raises), lengths that
    differ: the loop changes nothing and declines, the wrapper gives numpy's answer; a
    target numpy's loop does not take (strided, another dtype) goes to numpy too."""
    from world.payout import add_at

    target = np.arange(5.0)
    for idx in ([0, -1, 2], [0, 5]):
        kept = target.copy()
        assert not econ_jit.add_at(kept, np.array(idx), np.ones(len(idx), np.int64))
        np.testing.assert_array_equal(kept, target)
    assert not econ_jit.add_at(target.copy(), np.array([0, 1]), np.ones(3, np.int64))
    wrapped = target.copy()
    add_at(wrapped, [0, -1, 2], np.array([1, 2, 3]))
    want = target.copy()
    np.add.at(want, [0, -1, 2], np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(wrapped, want)
    with pytest.raises(IndexError):
        add_at(target.copy(), [0, 5], np.array([1, 2]))
    with pytest.raises(ValueError):
        add_at(target.copy(), [0, 1], np.array([1, 2, 3]))
    strided = np.zeros(10)[::2]
    add_at(strided, [1, 1, 4], np.array([0.5, 0.25, 2.0]))
    np.testing.assert_array_equal(strided, [0.0, 0.75, 0.0, 0.0, 2.0])
    small = np.zeros(3, dtype=np.int32)
    add_at(small, [2, 2], np.array([7, 8]))
    np.testing.assert_array_equal(small, [0, 0, 15])
    # indices that are not integers, values that are the target: numpy's own answers
    with pytest.raises(IndexError):
        add_at(target.copy(), np.array([0.0, 1.9]), np.array([1.0, 2.0]))
    masked, want = target.copy(), target.copy()
    add_at(masked, np.array([True, False, True, False, False]), np.array([1.0, 2.0]))
    np.add.at(want, np.array([True, False, True, False, False]), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(masked, want)
    itself, want = target[:3].copy(), target[:3].copy()
    add_at(itself, [1, 2, 0], itself)
    np.add.at(want, [1, 2, 0], want)
    np.testing.assert_array_equal(itself, want)
