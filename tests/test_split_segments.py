"""``world.payout.split_segments`` (its compiled loops and its numpy speed form) equals
its reference form."""

from __future__ import annotations

import numpy as np
import pytest

from world import econ_jit
from world.ledger import LedgerError
from world.payout import split_segments, split_segments_numpy


def split_segments_reference(
    pots: np.ndarray, seg: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The reference form (``np.add.at``, ``np.maximum.at``, ``np.unique``), verbatim."""
    pots = np.asarray(pots, dtype=np.int64)
    seg = np.asarray(seg, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    k = len(pots)
    wsum = np.bincount(seg, weights=w, minlength=k)
    frac = np.divide(w, wsum[seg], out=np.zeros_like(w), where=wsum[seg] > 0)
    pay = np.floor(pots[seg] * frac * (1.0 - 2.0**-40)).astype(np.int64)
    paid = np.zeros(k, dtype=np.int64)
    np.add.at(paid, seg, pay)
    rest = pots - paid
    if np.any(rest < 0):
        raise LedgerError(f"split_segments paid more than the pot: {rest[rest < 0][:5]}")
    wmax = np.full(k, -np.inf)
    np.maximum.at(wmax, seg, w)
    cand = np.flatnonzero((w == wmax[seg]) & (wsum[seg] > 0))
    _, first = np.unique(seg[cand], return_index=True)
    top = cand[first]
    pay[top] += rest[seg[top]]
    left = rest.copy()
    left[seg[top]] = 0
    return pay, left


def _same(pots: np.ndarray, seg: np.ndarray, w: np.ndarray) -> None:
    ref_pay, ref_left = split_segments_reference(pots, seg, w)
    for form in (split_segments, split_segments_numpy):
        pay, left = form(pots, seg, w)
        assert pay.dtype == ref_pay.dtype == np.int64
        np.testing.assert_array_equal(pay, ref_pay)
        np.testing.assert_array_equal(left, ref_left)
        assert int(pay.sum() + left.sum()) == int(np.asarray(pots).sum())
    p, s, x = (np.asarray(a, dtype=t) for a, t in ((pots, np.int64), (seg, np.int64),
                                                    (w, np.float64)))
    done, pay, left = econ_jit.split_segments(p, s, x)
    plain = bool(np.all((x >= 0) & np.isfinite(x)))  # the inputs the loops take
    assert done == plain
    if done:
        np.testing.assert_array_equal(pay, ref_pay)
        np.testing.assert_array_equal(left, ref_left)


@pytest.mark.parametrize("sort", [True, False])
@pytest.mark.parametrize("seed", range(12))
def test_equals_reference_on_random_segments(seed: int, sort: bool) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 40))
    rows = int(rng.integers(1, 400))
    seg = rng.integers(0, k, rows)
    if sort:
        seg = np.sort(seg)
    w = rng.random(rows) * 10.0 ** rng.integers(-3, 6)
    if seed % 4:
        w[rng.random(rows) < 0.3] = 0.0  # zero weights (else every row has weight)
    w[rng.random(rows) < 0.1] = w.max(initial=0.0)  # ties for the largest weight
    if seed % 3 == 0:
        w[rng.random(rows) < 0.2] *= -1.0  # negative weights
    pots = rng.integers(0, 10**15, k)
    pots[rng.random(k) < 0.2] = 0
    _same(pots, seg, w)


def test_edge_cases_equal_reference() -> None:
    pots = np.array([10, 7, 5, 0], dtype=np.int64)
    # empty segments (1 and 3 in a run), zero weights, a single row
    _same(pots, np.array([0, 0, 2, 2]), np.array([1.0, 1.0, 0.0, 0.0]))
    _same(pots, np.array([2]), np.array([3.0]))
    _same(pots, np.array([3, 0, 3, 0]), np.array([1.0, 2.0, 1.0, 2.0]))
    _same(pots, np.zeros(0, dtype=np.int64), np.zeros(0))
    _same(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    _same(np.array([2**62]), np.zeros(3, dtype=np.int64), np.array([1.0, 1.0, 1.0]))
    _same(pots, np.array([1, 1, 1, 0, 0]), np.array([-1.0, 0.0, 3.0, -2.0, 0.0]))
    _same(pots, np.array([2, 2, 2]), np.array([-0.0, 0.0, -0.0]))
    _same(pots, np.array([1, 1, 0, 3]), np.array([0.0, -1.0, 0.5, 0.0]))
    _same(pots, np.array([2, 2, 2, 2]), np.array([1.0, 3.0, 3.0, 2.0]))  # a tie: the first
    _same(pots, np.array([2, 1, 2, 1, 2]), np.array([3.0, 0.0, 3.0, 5e-324, 1.0]))
    # a segment's rows in several runs (the loops keep a run's sum in a register)
    _same(pots, np.array([0, 0, 1, 1, 0, 0, 2, 1, 1, 0]),
          np.array([1.0, 0.1, 2.0, 0.0, 3.0, 0.2, 1.0, 2.0, 0.3, 3.0]))


def test_the_loops_decline_what_they_do_not_take() -> None:
    """Non-finite or negative weights and segments out of range: the numpy form's."""
    pots = np.array([10, 7], dtype=np.int64)
    for seg, w in (([0, 1], [np.nan, 1.0]), ([0, 1], [np.inf, 1.0]), ([0, 1], [-1.0, 1.0]),
                   ([0, 2], [1.0, 1.0]), ([-1, 0], [1.0, 1.0])):
        done, _, _ = econ_jit.split_segments(pots, np.array(seg, dtype=np.int64),
                                             np.array(w, dtype=np.float64))
        assert not done



def test_each_segments_units_sum_to_its_pot_less_what_is_left() -> None:
    """What ``Coinbase.pay`` reads instead of summing the root dividends per subnet: the
    float sums of the rows' units (``np.bincount``) are the pots less what is left."""
    rng = np.random.default_rng(9)
    for _ in range(20):
        k = int(rng.integers(1, 30))
        seg = np.sort(rng.integers(0, k, int(rng.integers(0, 500))))
        w = rng.random(len(seg)) * (rng.random(len(seg)) < 0.7)
        pots = rng.integers(0, 2**52, k)
        pay, left = split_segments(pots, seg, w)
        np.testing.assert_array_equal(
            np.bincount(seg, weights=pay, minlength=k).astype(np.int64), pots - left)
