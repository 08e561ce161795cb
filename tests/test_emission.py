"""Emission with halvings by issuance and the split across subnets (MODEL.md section 4)."""

import numpy as np
import pytest

from world.emission import block_emission, epoch_emission, halvings, subnet_shares


@pytest.mark.parametrize(
    ("issuance", "rate"),
    [(0.0, 1.0), (10_499_999.0, 1.0), (10_500_000.0, 0.5), (15_749_999.0, 0.5),
     (15_750_000.0, 0.25), (18_375_000.0, 0.125)],
)
def test_halving_thresholds(issuance, rate):
    assert block_emission(issuance) == rate


def test_epoch_emission_halves_mid_epoch_exactly():
    # 100 TAO below the first threshold: 100 blocks at 1 TAO, then 260 at 0.5
    assert epoch_emission(10_500_000.0 - 100.0, 360) == pytest.approx(100 + 260 * 0.5)
    assert epoch_emission(1_000.0, 360) == 360.0
    assert halvings(20_999_999.9) > 10


def test_burns_lower_issuance_and_delay_the_halving():
    # the same minted amount minus burns stays below the threshold longer
    assert block_emission(10_500_000.0 - 1.0) == 1.0


def test_subnet_shares():
    assert np.allclose(subnet_shares("fixed", [None, None], np.zeros(2)), [0.5, 0.5])
    assert np.allclose(subnet_shares("fixed", [0.2, 0.6], np.zeros(2)), [0.25, 0.75])
    assert np.allclose(subnet_shares("stake", [None] * 3, np.array([1.0, 3.0, 0.0])),
                       [0.25, 0.75, 0.0])
    assert np.allclose(subnet_shares("stake", [None] * 2, np.zeros(2)), [0.5, 0.5])
