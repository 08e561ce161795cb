"""Emission with halvings by issuance and the split across subnets (MODEL.md section 4)."""

import numpy as np
import pytest
from strategies.base import build

from world.emission import (
    SUPPLY_CAP,
    block_emission,
    block_emissions,
    epoch_emission,
    halvings,
    subnet_shares,
)
from world.params import RAO_PER_TAO, EconomyParams


@pytest.mark.parametrize(
    ("issuance", "rate"),
    [(0.0, 1.0), (10_499_999.0, 1.0), (10_500_000.0, 0.5), (15_749_999.0, 0.5),
     (15_750_000.0, 0.25), (18_375_000.0, 0.125)],
)
def test_halving_thresholds(issuance, rate):
    assert block_emission(issuance) == rate


def test_block_emissions_are_block_emission_of_each_issuance():
    """The array form (each subnet's alpha issuance, today's coinbase) gives the scalar
    curve's values exactly: at, just below and just above every threshold, beyond the
    cap, at zero, negative and NaN."""
    thresholds = [SUPPLY_CAP * (1.0 - 0.5 ** (k + 1)) for k in range(64)]
    x = np.array([0.0, -5.0, 1.0, 1e7, SUPPLY_CAP, 2 * SUPPLY_CAP, np.inf, -np.inf, np.nan]
                 + thresholds + [np.nextafter(t, 0) for t in thresholds]
                 + [np.nextafter(t, np.inf) for t in thresholds]
                 + list(np.random.default_rng(3).uniform(0, SUPPLY_CAP, 500)))
    for base in (1.0, 0.5):
        got = block_emissions(x, base)
        want = np.array([block_emission(float(v), base) for v in x])
        assert np.array_equal(got, want) and len({float(v) for v in got}) > 20


def test_epoch_emission_halves_mid_epoch_exactly():
    # 100 TAO below the first threshold: 100 blocks at 1 TAO, then 260 at 0.5
    assert epoch_emission(10_500_000.0 - 100.0, 360) == pytest.approx(100 + 260 * 0.5)
    assert epoch_emission(1_000.0, 360) == 360.0
    assert halvings(20_999_999.9) > 10


def test_burns_lower_issuance_and_delay_the_halving():
    """A network 100 TAO below the first halving mints 100 blocks at 1 TAO and 260 at
    0.5 in its next epoch; 200 TAO burned first put it 300 TAO below the threshold, so
    it mints 300 blocks at 1 and 60 at 0.5 (MODEL.md section 4: burns lower issuance)."""
    minted = {}
    for burn_tao in (0.0, 200.0):
        m = build([("honest_validator", 2), ("honest_miner", 4)],
                  network={"economy": EconomyParams(initial_issuance_tao=10_499_900.0)})
        m.ledger.burn(m.market, int(burn_tao * RAO_PER_TAO))
        assert m.ledger.supply == int((10_499_900.0 - burn_tao) * RAO_PER_TAO)
        before = m.ledger.minted
        m.step()
        minted[burn_tao] = (m.ledger.minted - before) / RAO_PER_TAO
        assert m.datacollector.get_model_vars_dataframe()["burned_tao"].iloc[0] == burn_tao
    # the whole epoch's emission is minted, less at most a few RAO of flooring
    assert minted[0.0] == pytest.approx(100 + 260 * 0.5, abs=1e-6)
    assert minted[200.0] == pytest.approx(300 + 60 * 0.5, abs=1e-6)


def test_subnet_shares():
    assert np.allclose(subnet_shares("fixed", [None, None], np.zeros(2)), [0.5, 0.5])
    assert np.allclose(subnet_shares("fixed", [0.2, 0.6], np.zeros(2)), [0.25, 0.75])
    assert np.allclose(subnet_shares("stake", [None] * 3, np.array([1.0, 3.0, 0.0])),
                       [0.25, 0.75, 0.0])
    assert np.allclose(subnet_shares("stake", [None] * 2, np.zeros(2)), [0.5, 0.5])
