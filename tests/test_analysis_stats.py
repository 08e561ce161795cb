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
    paired_difference,
    seeds_for_half_width,
    seeds_for_paired_power,
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


def test_paired_difference_uses_common_random_numbers() -> None:
    # Large seed-to-seed noise shared by both cells, small true difference 0.5: the
    # paired comparison sees it clearly, an unpaired one would not.
    rng = np.random.default_rng(3)
    common = rng.normal(0, 10, size=20)
    a = common + 0.5 + rng.normal(0, 0.1, size=20)
    b = common + rng.normal(0, 0.1, size=20)
    res = paired_difference(a, b, rng=1)
    assert res.test == "t"
    assert res.diff.low > 0.3 and res.diff.high < 0.7
    assert res.p_value == pytest.approx(sps.ttest_rel(a, b).pvalue)
    assert res.p_value < 1e-6
    assert sps.ttest_ind(a, b).pvalue > 0.5  # what ignoring the pairing would say


def test_paired_difference_wilcoxon_and_one_sided() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(1, 1, size=15)
    b = rng.normal(0, 1, size=15)
    res = paired_difference(a, b, test="wilcoxon", alternative="greater")
    assert res.p_value == pytest.approx(sps.wilcoxon(a - b, alternative="greater").pvalue)
    res_less = paired_difference(a, b, alternative="less")
    res_greater = paired_difference(a, b, alternative="greater")
    assert res_less.p_value + res_greater.p_value == pytest.approx(1.0)


def test_paired_difference_degenerate_differences() -> None:
    a = np.array([1.0, 2.0, 3.0])
    same = paired_difference(a, a)
    assert same.p_value == 1.0 and same.diff.mean == 0.0
    shifted = paired_difference(a + 1.0, a, alternative="greater")
    assert shifted.p_value == 0.0 and shifted.statistic == math.inf
    assert paired_difference(a + 1.0, a, alternative="less").p_value == 1.0


def test_paired_difference_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="same seeds"):
        paired_difference([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="test"):
        paired_difference([1.0, 2.0], [1.0, 3.0], test="z")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="alternative"):
        paired_difference([1.0, 2.0], [1.0, 3.0], alternative="up")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 2"):
        paired_difference([1.0], [2.0])


# ----------------------------------------------------------------------------- dominance


# ----------------------------------------------------------------------------- Holm / BH


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


def test_seed_count_for_paired_power() -> None:
    # Standardised effect 0.5, alpha 0.05 two-sided, power 0.8:
    # normal formula ((1.96 + 0.8416) / 0.5)^2 = 31.4 -> 32;
    # exact noncentral t (G*Power, R power.t.test type="paired"): 34.
    assert seeds_for_paired_power(0.5, sigma=1.0, exact=False) == 32
    assert seeds_for_paired_power(0.5, sigma=1.0) == 34
    assert seeds_for_paired_power(-1.0, sigma=2.0) == 34  # only |delta| / sigma matters
    assert seeds_for_paired_power(0.5, sigma=1.0, alternative="one-sided") < 34


def test_seed_advisor_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        seeds_for_half_width(1.0)
    with pytest.raises(ValueError, match="exactly one"):
        seeds_for_half_width(1.0, pilot=[1.0, 2.0], sigma=1.0)
    with pytest.raises(ValueError, match="half_width"):
        seeds_for_half_width(0.0, sigma=1.0)
    with pytest.raises(ValueError, match="pilot"):
        seeds_for_half_width(1.0, pilot=[1.0])
    with pytest.raises(ValueError, match="delta"):
        seeds_for_paired_power(0.0, sigma=1.0)
    with pytest.raises(ValueError, match="power"):
        seeds_for_paired_power(1.0, sigma=1.0, power=1.0)
