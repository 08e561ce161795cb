"""Property tests of the eras' building blocks: payouts and splits never create or lose a
unit, root shares are a distribution that ignores each row's scale (MODEL.md section 9)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from world.payout import share_pro_rata
from world.root import root_epoch
from world.rules_dtao import dissolve_payout, split_alpha_out

amounts = arrays(np.int64, st.integers(1, 6), elements=st.integers(0, 10**15))


@settings(max_examples=150, deadline=None)
@given(amount=amounts, data=st.data())
def test_share_pro_rata_is_exact(amount, data):
    h = len(amount)
    n = data.draw(st.integers(1, 12))
    staked_to = data.draw(arrays(np.int64, n, elements=st.integers(-1, h - 1)))
    staked = data.draw(arrays(np.int64, n, elements=st.integers(0, 10**16)))
    owner_of = data.draw(arrays(np.int64, h, elements=st.integers(0, n - 1)))
    take = data.draw(st.floats(0.0, 1.0))
    out = share_pro_rata(amount, staked_to, staked, owner_of, take=take)
    assert out.sum() == amount.sum() and out.min() >= 0
    # a staker behind a hotkey gets at most its pro-rata share of what is left after take
    for acct in np.flatnonzero((staked_to >= 0) & (staked > 0)):
        hk = staked_to[acct]
        if acct in owner_of:
            continue
        total = staked[staked_to == hk].sum()
        assert out[acct] <= float(amount[hk]) * float(staked[acct]) / float(total) + 1


@settings(max_examples=150, deadline=None)
@given(total=amounts, data=st.data(), root_sell=st.booleans())
def test_split_alpha_out_is_exact(total, data, root_sell):
    prop = data.draw(arrays(np.float64, len(total), elements=st.floats(0.0, 1.0)))
    parts = split_alpha_out(total, prop, root_sell=root_sell)
    assert (sum(parts) == total).all()
    assert all((p >= 0).all() for p in parts)


@settings(max_examples=100, deadline=None)
@given(pot=st.integers(0, 10**16), values=st.lists(st.integers(0, 10**18), min_size=1,
                                                     max_size=8))
def test_dissolve_payout_is_exact_and_pro_rata(pot, values):
    pay = dissolve_payout(pot, values)
    total = sum(values)
    assert sum(pay) == (pot if total else 0)
    for p, v in zip(pay, values, strict=True):
        assert total == 0 or abs(p - pot * v / total) < 1 + 1e-6 * pot * v / total


@settings(max_examples=100, deadline=None)
@given(w=arrays(np.float64, (4, 5), elements=st.one_of(st.just(0.0), st.floats(1e-6, 1.0))),
       s=arrays(np.float64, 4, elements=st.floats(0.01, 1e6)),
       scale=arrays(np.float64, (4, 1), elements=st.floats(0.1, 1e3)))
def test_root_shares_are_a_distribution_blind_to_row_scale(w, s, scale):
    a, b = root_epoch(w, s), root_epoch(w * scale, s)
    total = a.shares.sum()
    assert total == 0.0 or abs(total - 1.0) < 1e-12
    np.testing.assert_allclose(a.shares, b.shares, rtol=1e-9, atol=1e-15)
    assert ((a.trust >= -1e-15) & (a.trust <= 1 + 1e-12)).all()
