"""Tests of analysis.stats on synthetic data with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from analysis.stats import (
    Estimate,
    bootstrap_ci,
    holm,
    seeds_for_half_width,
)

# ----------------------------------------------------------------------------- bootstrap


def test_bootstrap_ci_basic_bca() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    est = bootstrap_ci(x, rng=0)
    assert isinstance(est, Estimate)
    assert est.mean == pytest.approx(3.0)
    assert est.method == "BCa"
    assert est.n == 5
    assert est.low < 3.0 < est.high
    assert est.half_width == pytest.approx((est.high - est.low) / 2)
    assert "[" in est.format()


def test_bootstrap_ci_is_reproducible_with_seed_and_generator() -> None:
    x = np.random.default_rng(1).normal(size=15)
    assert bootstrap_ci(x, rng=7) == bootstrap_ci(x, rng=7)
    assert bootstrap_ci(x, rng=np.random.default_rng(7)) == bootstrap_ci(x, rng=7)


def test_bootstrap_ci_falls_back_to_percentile_when_degenerate() -> None:
    const = bootstrap_ci([2.5, 2.5, 2.5, 2.5])
    assert const.method == "percentile"
    assert (const.low, const.mean, const.high) == (2.5, 2.5, 2.5)
    two = bootstrap_ci([1.0, 2.0])  # n < 3: BCa's jackknife is meaningless
    assert two.method == "percentile"
    assert 1.0 <= two.low <= two.high <= 2.0


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ([1.0], "at least 2"),
        ([1.0, np.nan, 2.0], "NaN"),
        (np.ones((3, 2)), "1-D"),
    ],
)
def test_bootstrap_ci_rejects_bad_samples(bad: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        bootstrap_ci(bad)  # type: ignore[arg-type]


def test_bootstrap_ci_rejects_bad_confidence() -> None:
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([1.0, 2.0, 3.0], confidence=1.5)


def test_bca_interval_covers_true_mean_at_stated_rate() -> None:
    # 200 synthetic experiments of 30 normal seeds each; a 90% interval should cover the
    # true mean in ~90% of them. The simulation standard error of the coverage is
    # sqrt(0.9 * 0.1 / 200) = 0.021; we allow 3 SE plus 0.02 for the known small-sample
    # under-coverage of bootstrap intervals (they use z, not t, quantiles).
    rng = np.random.default_rng(20240601)
    true_mean, n_exp, level = 5.0, 200, 0.9
    hits = 0
    for _ in range(n_exp):
        x = rng.normal(true_mean, 2.0, size=30)
        est = bootstrap_ci(x, confidence=level, n_resamples=2000, rng=rng)
        hits += est.low <= true_mean <= est.high
    coverage = hits / n_exp
    se = math.sqrt(level * (1 - level) / n_exp)
    assert abs(coverage - level) <= 3 * se + 0.02, coverage


# ----------------------------------------------------------------------- paired tests


def test_holm_hand_computed() -> None:
    # m = 4, sorted p: 0.005, 0.01, 0.03, 0.04 -> times (4, 3, 2, 1):
    # 0.02, 0.03, 0.06, 0.04 -> running max: 0.02, 0.03, 0.06, 0.06.
    p = np.array([0.01, 0.04, 0.03, 0.005])
    res = holm(p, level=0.05)
    np.testing.assert_allclose(res.adjusted, [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_array_equal(res.reject, [True, False, False, True])
    assert res.method == "holm"


def test_holm_caps_at_one_and_keeps_shape() -> None:
    p = np.array([[0.5, 0.9], [0.01, 0.2]])
    res = holm(p)
    assert res.adjusted.shape == (2, 2)
    assert res.adjusted.max() == 1.0
    assert res.adjusted[1, 0] == pytest.approx(0.04)


def test_holm_is_stricter_than_scipy_false_discovery_control() -> None:
    rng = np.random.default_rng(8)
    for _ in range(20):
        grid = rng.uniform(size=(4, 6)) ** 3  # a sweep grid of p-values, with ties below
        grid[0, :2] = grid[1, 3]
        bh = sps.false_discovery_control(grid.ravel(), method="bh").reshape(grid.shape)
        assert np.all(holm(grid).adjusted >= bh - 1e-15)  # FWER is stricter than FDR


@pytest.mark.parametrize("bad", [[0.1, np.nan], [0.1, 1.2], []])
def test_corrections_reject_bad_pvalues(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="pvalues"):
        holm(bad)


# --------------------------------------------------------------------------- seed advisor


def test_seed_count_textbook_known_sigma() -> None:
    # n = ceil((z_{0.975} sigma / h)^2): (1.96 * 10 / 2)^2 = 96.04 -> 97;
    # (1.96 * 1 / 0.1)^2 = 384.1 -> 385 (the textbook "385 for +-0.1 sd").
    assert seeds_for_half_width(2.0, sigma=10.0) == 97
    assert seeds_for_half_width(0.1, sigma=1.0) == 385
    # 90%: (1.645 * 1 / 0.1)^2 = 270.6 -> 271
    assert seeds_for_half_width(0.1, sigma=1.0, confidence=0.9) == 271


def test_seed_count_from_pilot_uses_t() -> None:
    pilot = np.random.default_rng(9).normal(0, 3, size=10)
    s = pilot.std(ddof=1)
    n = seeds_for_half_width(1.0, pilot=pilot)

    def hw(k: int) -> float:
        return sps.t.ppf(0.975, k - 1) * s / math.sqrt(k)

    assert hw(n) <= 1.0 < hw(n - 1)
    assert n >= seeds_for_half_width(1.0, sigma=s)  # t quantiles are wider than z


def test_seed_advisor_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        seeds_for_half_width(1.0)
    with pytest.raises(ValueError, match="exactly one"):
        seeds_for_half_width(1.0, pilot=[1.0, 2.0], sigma=1.0)
    with pytest.raises(ValueError, match="half_width"):
        seeds_for_half_width(0.0, sigma=1.0)
    with pytest.raises(ValueError, match="pilot"):
        seeds_for_half_width(1.0, pilot=[1.0])
