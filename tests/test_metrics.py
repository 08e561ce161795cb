"""The network metrics (world/metrics.py) against scipy and values worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from world import metrics


def test_spearman_is_scipys_spearmanr():
    r = np.random.default_rng(1)
    for t in range(60):
        n = int(r.integers(3, 200))
        x, y = r.random(n), r.random(n)
        if t % 3 == 0:
            x, y = np.round(x, 1), np.round(y, 2)
        assert metrics.spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic,
                                                       abs=1e-12), t


def test_spearman_by_hand():
    # ranks (1,2,3,4) and (1,3,2,4): d = (0,1,1,0), rho = 1 - 6 * 2 / (4 * 15) = 0.8
    assert metrics.spearman(np.array([1.0, 2, 3, 4]), np.array([10.0, 30, 20, 40])) == \
        pytest.approx(0.8)
    assert metrics.spearman(np.array([1.0, 2, 3]), np.array([3.0, 2, 1])) == pytest.approx(-1)
    assert np.isnan(metrics.spearman(np.array([1.0, 2]), np.array([1.0, 2])))  # < 3 points
    assert np.isnan(metrics.spearman(np.array([1.0, 2, 3]), np.zeros(3)))  # constant
    assert np.isnan(metrics.spearman(np.array([1.0, np.nan, 3, 4]), np.arange(4.0)))


def test_spearman_of_segments_is_scipys_per_segment():
    r = np.random.default_rng(2)
    sizes = np.array([5, 0, 2, 40, 17, 3])
    x, y = np.round(r.random(sizes.sum()), 1), r.random(sizes.sum())
    got = metrics.spearman_segments(x, y, sizes)
    at = 0
    for k, rho in zip(sizes, got, strict=True):
        if k < 3:
            assert np.isnan(rho)
        else:
            assert rho == pytest.approx(stats.spearmanr(x[at:at + k], y[at:at + k]).statistic,
                                        abs=1e-12)
        at += k


@pytest.mark.parametrize("backend", ["auto", "numpy"])
def test_spearman_of_segments_is_a_loop_of_spearman_exactly(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bit for bit, with empty segments (first, between and last), ties and short ones."""
    monkeypatch.setattr("world.kernels.BACKEND", backend)
    r = np.random.default_rng(4)
    for sizes in ([0, 5, 0, 2, 40, 17, 3, 0, 0], [256] * 6, [1], [0, 0], [9, 300, 0, 7]):
        sizes = np.array(sizes)
        n = int(sizes.sum())
        for x, y in ((r.random(n), r.random(n)), (np.round(r.random(n), 1), r.random(n))):
            got = metrics.spearman_segments(x, y, sizes)
            at = np.concatenate([[0], np.cumsum(sizes)])
            want = [metrics.spearman(x[a:b], y[a:b])
                    for a, b in zip(at[:-1], at[1:], strict=True)]
            np.testing.assert_array_equal(got, want)


def gini_by_definition(v: np.ndarray) -> float:
    """Mean absolute difference over all ordered pairs, over twice the mean."""
    return float(np.abs(v[:, None] - v[None, :]).sum() / (2 * len(v) ** 2 * v.mean()))


def test_gini_by_hand_and_by_definition():
    assert metrics.gini(np.ones(7)) == 0.0
    assert metrics.gini(np.array([0.0, 0.0, 0.0, 1.0])) == pytest.approx(0.75)  # (n-1)/n
    # (1, 2, 3, 4): sum |xi - xj| over ordered pairs = 20, n^2 = 16, mean 2.5: 20/80
    assert metrics.gini(np.array([4.0, 1.0, 3.0, 2.0])) == pytest.approx(0.25)
    assert metrics.gini(np.zeros(0)) == 0.0 and metrics.gini(np.zeros(3)) == 0.0
    r = np.random.default_rng(3)
    for _ in range(30):
        v = r.pareto(1.5, int(r.integers(1, 100)))
        assert metrics.gini(v) == pytest.approx(gini_by_definition(v), rel=1e-9)


def test_nakamoto_coefficient_by_hand():
    # 40 + 30 = 70 of 100 > 50: two holders
    assert metrics.nakamoto(np.array([10.0, 40, 30, 20])) == 2
    # exactly half is not more than half: 50 + 30 of 100 needs two
    assert metrics.nakamoto(np.array([50.0, 30, 20])) == 2
    assert metrics.nakamoto(np.array([51.0, 29, 20])) == 1
    assert metrics.nakamoto(np.full(10, 1.0)) == 6
    assert metrics.nakamoto(np.full(10, 1.0), threshold=0.33) == 4
    assert metrics.nakamoto(np.zeros(4)) == 0 and metrics.nakamoto(np.zeros(0)) == 0


def test_compute_per_useful_answer():
    assert metrics.compute_per_useful_answer(120.0, 30.0, 50.0) == 3.0
    assert np.isnan(metrics.compute_per_useful_answer(5.0, 5.0, 0.0))


def _assert_rankdata_per_segment(x: np.ndarray, sizes: np.ndarray) -> None:
    """``_segment_ranks`` of ``x`` in segments of ``sizes`` is ``stats.rankdata`` of each
    segment, bit for bit."""
    got = metrics._segment_ranks(x, np.repeat(np.arange(len(sizes)), sizes), sizes)
    at = 0
    for size in sizes.tolist():
        np.testing.assert_array_equal(got[at:at + size], stats.rankdata(x[at:at + size]))
        at += size


@pytest.mark.parametrize("backend", ["auto", "numpy"])
@pytest.mark.parametrize("ragged", [False, True])
def test_segment_ranks_are_rankdatas_exactly(
    ragged: bool, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``_segment_ranks`` (a faster sort kind by the values, a shortcut without ties)
    equals ``scipy.stats.rankdata`` per segment bit for bit: distinct values, many ties,
    ties in one segment only, a single row; with the compiled loops (``world.econ_jit``)
    and without."""
    monkeypatch.setattr("world.kernels.BACKEND", backend)
    r = np.random.default_rng(5)
    for k, width in ((12, 16), (1, 40), (5, 3)):
        sizes = r.integers(1, width + 1, k) if ragged else np.full(k, width)
        n = int(sizes.sum())
        one_tie = r.random(n)
        one_tie[1] = one_tie[0]
        for x in (r.random(n), np.round(r.random(n), 1), one_tie):
            _assert_rankdata_per_segment(x, sizes)


def test_sort_values_is_nps_sort() -> None:
    """``sort_values`` (a radix sort of many values >= +0.0) gives ``np.sort``'s values;
    values it does not take (negative, -0.0, NaN) are numpy's."""
    r = np.random.default_rng(2)
    for t in range(20):
        n = int(r.integers(0, 3000))
        v = r.random(n) * 10.0 ** r.integers(-300, 300, n)
        v[r.random(n) < 0.1] = 0.0
        if t % 4 == 1:
            v = np.round(r.random(n), 2)  # many ties
        if t % 4 == 2 and n:
            v[r.integers(n)] = [np.inf, 5e-324, np.nan, -0.0, -1.0][t % 5]
        got, want = metrics.sort_values(v), np.sort(v)
        assert got.dtype is np.dtype(np.float64)
        np.testing.assert_array_equal(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want))


def _near(r: np.random.Generator, n: int, run: int) -> np.ndarray:
    """``n`` values in runs of ``run`` neighbours a few units in the last place apart
    (equal in all but their lowest bits), some equal, some +0.0 or subnormal."""
    base = np.repeat(r.random(-(-n // run)) * 10.0 ** r.integers(-3, 4, -(-n // run)), run)
    steps = r.integers(0, 40, len(base))
    v = np.array([float(b) for b in base])
    for i, s in enumerate(steps.tolist()):
        for _ in range(s):
            v[i] = np.nextafter(v[i], np.inf)
    v = v[:n]
    v[r.random(n) < 0.05] = 0.0
    v[r.random(n) < 0.03] = 5e-324
    return r.permutation(v)


@pytest.mark.parametrize("ragged", [False, True])
def test_segment_ranks_by_packed_keys_are_rankdatas(ragged: bool) -> None:
    """The compiled ranks from sorted keys (``econ_jit.pack_rows``, ``ranks_of_packed``)
    equal ``scipy.stats.rankdata`` per segment bit for bit: values apart only in the bits
    the keys drop (short runs put in order one by one, long ones by ``np.argsort``), ties,
    +0.0 and subnormals, widths of one column, of 256 (8 bits) and of 257 (9); values the
    keys cannot order (negative, -0.0) take the sorting path."""
    pytest.importorskip("numba")
    r = np.random.default_rng(11)
    for k, width, run in ((6, 256, 3), (4, 257, 40), (3, 1, 1), (9, 7, 7), (2, 300, 300)):
        sizes = r.integers(1, width + 1, k) if ragged else np.full(k, width)
        n = int(sizes.sum())
        negative = -_near(r, n, run)
        negative[:1] = -0.0
        for x in (_near(r, n, run), np.round(r.random(n), 2), negative):
            _assert_rankdata_per_segment(x, sizes)


def test_ranks_of_packed_keys_equal_ranks_in_rows() -> None:
    """``ranks_of_packed`` gives ``ranks_in_rows``'s numbers for rows padded with +inf
    (ties among the padding too) and for rows of one repeated value."""
    pytest.importorskip("numba")
    from world import econ_jit

    r = np.random.default_rng(3)
    table = _near(r, 40 * 50, 5).reshape(40, 50)
    table[::3, 30:] = np.inf
    table[5] = 0.25
    table[6] = 0.0
    packed = np.sort(econ_jit.pack_rows(table, 6), axis=1)
    got = econ_jit.ranks_of_packed(table, packed, 6)
    want = econ_jit.ranks_in_rows(table, np.argsort(table, axis=1))
    np.testing.assert_array_equal(got, want)
