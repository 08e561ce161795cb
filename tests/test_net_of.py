"""``world.coinbase._net_of`` (a fast path when every index is an account) equals its
reference form."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from world.coinbase import _net_of


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
