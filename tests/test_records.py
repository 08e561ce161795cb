"""The per-agent records' storage (``world.records``): what goes in comes out, in order,
as ``np.concatenate`` of the records would give it, however the buffers grow."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from world.records import FIRST_ROWS, Records


def _record(rng: np.random.Generator, n: int, epoch: int) -> dict[str, np.ndarray]:
    return {"epoch": np.full(n, epoch, dtype=np.int64), "account": rng.permutation(n),
            "stake": rng.normal(size=n)}


def _joined(records: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([r[k] for r in records]) for k in records[0]}


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype
        np.testing.assert_array_equal(a[k], b[k])


def test_records_come_back_as_joined_through_growth_and_reads() -> None:
    """Records past the first buffer (grown in place), read, then more records (new
    buffers: the views read before stay as they were)."""
    rng = np.random.default_rng(5)
    given = [_record(rng, n, e) for e, n in enumerate([10, FIRST_ROWS, 3, 0, 2 * FIRST_ROWS])]
    store = Records()
    for r in given[:3]:
        store.append(r)
    _same(store.columns(), _joined(given[:3]))
    early = store.columns()
    for r in given[3:]:
        store.append(r)
    assert len(store) == sum(len(r["epoch"]) for r in given)
    _same(store.columns(), _joined(given))
    _same(early, _joined(given[:3]))  # the earlier views did not move
    with pytest.raises(ValueError, match="read-only"):
        early["stake"][0] = 1.0


def test_a_value_the_column_cannot_hold_promotes_the_column() -> None:
    store = Records()
    store.append({"x": np.arange(3)})
    store.append({"x": np.array([0.5])})
    out = store.columns()["x"]
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [0.0, 1.0, 2.0, 0.5])


@pytest.mark.parametrize("record, match", [
    ({"a": np.zeros(2), "b": np.zeros(3)}, "equally long"),
    ({"a": np.zeros((2, 2))}, "1-D"),
    ({}, "must have columns"),
])
def test_a_malformed_record_is_refused(record: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Records().append(record)


def test_a_record_with_other_columns_is_refused_and_changes_nothing() -> None:
    store = Records()
    store.append({"a": np.zeros(2), "b": np.ones(2)})
    with pytest.raises(ValueError, match="not the first record's"):
        store.append({"b": np.ones(2), "a": np.zeros(2)})
    assert len(store) == 2
    _same(store.columns(), {"a": np.zeros(2), "b": np.ones(2)})


def test_read_records_cannot_be_written_through_their_views() -> None:
    store = Records()
    store.append({"x": np.arange(4.0)})
    view = store.columns()["x"]
    with pytest.raises(ValueError, match="WRITEABLE"):
        view.flags.writeable = True
    store.append({"x": np.array([9.0])})  # new buffers: the lent ones stay as they were
    np.testing.assert_array_equal(view, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(store.columns()["x"], [0.0, 1.0, 2.0, 3.0, 9.0])


@pytest.mark.parametrize("clone", [lambda r: pickle.loads(pickle.dumps(r)), copy.deepcopy])
def test_a_copied_store_keeps_its_rows_and_grows(clone) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2)
    given = [_record(rng, 10, 0), _record(rng, FIRST_ROWS, 1)]
    store = Records()
    store.append(given[0])
    twin = clone(store)
    twin.append(given[1])  # past the first buffer: grows
    _same(twin.columns(), _joined(given))
    _same(store.columns(), _joined(given[:1]))


def test_a_column_of_python_objects_is_refused() -> None:
    with pytest.raises(TypeError, match="'name' holds Python objects"):
        Records().append({"name": np.array(["a", "b"], dtype=object)})
