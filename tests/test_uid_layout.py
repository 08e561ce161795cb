"""``world.accounts.uid_layout`` (kept until a UID changes hands) equals the subnets'
arrays stacked afresh, before and after UIDs change hands; ``Columns`` read and write a
slice of accounts (``accounts.close_epoch``) as the same accounts by index."""

from __future__ import annotations

import numpy as np
from test_dtao_network import network

from world.accounts import uid_layout
from world.subnet import EMPTY


def _afresh(model) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    """The layout's arrays, stacked from each subnet's as the payment and metrics did."""
    subnets = model.subnets
    members = [model.membership.members(s) for s in subnets]
    sizes = np.array([s.n for s in subnets], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return {
        "sizes": sizes, "starts": starts, "net": np.repeat(np.arange(len(subnets)), sizes),
        "occupant": np.concatenate([s.occupant for s in subnets]),
        "miners": np.concatenate([a + m.miners for a, m in zip(starts, members, strict=True)]),
        "miner_sizes": np.array([len(m.miners) for m in members]),
        "occupied": np.concatenate([a + np.flatnonzero(m.occupied)
                                    for a, m in zip(starts, members, strict=True)]),
        "validators": np.concatenate([a + np.flatnonzero(s.is_validator)
                                      for a, s in zip(starts, subnets, strict=True)]),
    }


def _check(model) -> None:  # type: ignore[no-untyped-def]
    layout = uid_layout(model)
    for name, want in _afresh(model).items():
        got = getattr(layout, name)
        np.testing.assert_array_equal(got, want, err_msg=name)
        assert not got.flags.writeable


def test_layout_follows_uids_changing_hands() -> None:
    model = network(3)
    _check(model)
    model.step()
    kept = uid_layout(model)
    assert uid_layout(model) is kept  # nothing changed hands
    s = model.subnets[1]
    uid = int(np.flatnonzero(s.is_miner)[0])
    acct = int(s.occupant[uid])
    s.vacate(uid)
    assert uid_layout(model) is not kept
    _check(model)
    s.seat(uid, acct, "validator", model.block)
    _check(model)
    assert int(uid_layout(model).occupant[int(uid_layout(model).starts[1]) + uid]) == acct
    assert EMPTY not in uid_layout(model).occupant[uid_layout(model).validators]


def test_columns_read_and_write_a_slice_of_accounts_as_an_index() -> None:
    """``Columns.get`` and ``set`` with a slice (``accounts.close_epoch``'s every account)
    give what the same accounts as an index array give; a slice reads as a read-only view."""
    from world.columns import Columns

    col = Columns(8)
    col.declare("x", 0.5)
    col.set("x", slice(0, 5), np.arange(5.0))
    np.testing.assert_array_equal(col.get("x", np.arange(8)), [0, 1, 2, 3, 4, 0.5, 0.5, 0.5])
    view = col.get("x", slice(2, 6))
    np.testing.assert_array_equal(view, col.get("x", np.arange(2, 6)))
    assert not view.flags.writeable
    np.testing.assert_array_equal(col.get("absent", slice(0, 3), 7.0), [7.0, 7.0, 7.0])
