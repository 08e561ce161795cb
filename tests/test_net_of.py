"""``world.coinbase._net_of`` (a fast path when every index is an account) equals its
reference form, and ``world.delegation._among`` equals ``np.isin``."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from world.coinbase import _net_of
from world.delegation import _among, _membership_table


def _reference(table: np.ndarray, accts: np.ndarray) -> np.ndarray:
    accts = np.asarray(accts, dtype=np.int64)
    ok = (accts >= 0) & (accts < len(table))
    return np.where(ok, table[np.where(ok, accts, 0)], -1)


def test_net_of_equals_reference() -> None:
    table = np.array([3, -1, 0, 7, 7], dtype=np.int64)
    model = SimpleNamespace(acct_netuid=table)
    for accts in ([0, 4, 2, 2], [4], [-1, 0], [5, 1], [], np.arange(5), [-3, 9]):
        got = _net_of(model, np.asarray(accts, dtype=np.int64))  # type: ignore[arg-type]
        want = _reference(table, np.asarray(accts, dtype=np.int64))
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_among_equals_isin() -> None:
    """``world.delegation._among`` (a table lookup) equals ``np.isin``."""
    rng = np.random.default_rng(0)
    for _ in range(100):
        members = rng.choice(50, int(rng.integers(0, 10)), replace=False).astype(np.int64)
        values = rng.integers(-3, 60, int(rng.integers(0, 40)))
        got = _among(values, _membership_table(members))
        np.testing.assert_array_equal(got, np.isin(values, members))
        assert got.dtype == bool
