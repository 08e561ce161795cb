"""The dynamic-TAO rules (issue 16): emission shares by moving price or by net inflow,
alpha issuance and injection with its cap, the split of alpha outside the pool, root
dividends, owner burns, the neuron burn price, lock cost and dissolution. Hand-worked
cases from subtensor@2026-06-30."""

from __future__ import annotations

import numpy as np
import pytest

from world.payout import share_pro_rata
from world.pool import ExactPool
from world.rules_dtao import (
    EMA_PRICE_HALVING_BLOCKS,
    MOVING_ALPHA,
    _decay_q32,
    dissolve_payout,
    dividend_distribution,
    emission_shares_flow,
    emission_shares_price,
    flow_ema,
    inject_and_maybe_swap,
    lock_cost,
    moving_price,
    neuron_burn_after_blocks,
    neuron_burn_after_registration,
    owner_incentive_burn,
    root_proportion,
    split_alpha_out,
    stake_weight,
    subnet_alpha_emission,
    subnet_terms,
    subnet_to_dissolve,
)

TAO = 1_000_000_000


# -- emission across subnets -------------------------------------------------------------


def test_moving_price_one_block_and_an_epoch():
    # b = h: a = 3e-6 * 1/2; the spot price 2 counts as min(2, 1) = 1.
    m = moving_price([0.5], [2.0], [201_600])
    assert m[0] == pytest.approx(1.5e-6 * 1.0 + (1 - 1.5e-6) * 0.5, rel=1e-15)
    step = np.array([0.5])
    for k in range(360):
        step = moving_price(step, [0.2], [1_000 + k])
    np.testing.assert_allclose(moving_price([0.5], [0.2], [1_000], blocks=360), step, rtol=1e-14)


def test_moving_price_shared_starts_equal_the_product_per_subnet():
    """The product computed once per distinct start (speed form) is the product of each
    subnet's own row, bit for bit: shared and distinct starts, a single subnet, none."""
    rng = np.random.default_rng(3)

    def reference(moving, price, since, blocks):
        bk = np.asarray(since, dtype=np.float64)[..., None] + np.arange(blocks, dtype=np.float64)
        keep = np.prod(1.0 - MOVING_ALPHA * bk / (bk + EMA_PRICE_HALVING_BLOCKS), axis=-1)
        target = np.minimum(price, 1.0)
        return target + (moving - target) * keep

    for k, blocks in ((128, 360), (7, 1), (1, 360), (0, 360)):
        since = rng.choice([-1_000_000, 0, 5, 360], k)
        since += rng.integers(0, 2, k) * rng.integers(0, 10**6, k)  # some distinct
        moving, price = rng.random(k), rng.random(k) * 2.0
        got = moving_price(moving, price, since, blocks)
        np.testing.assert_array_equal(got, reference(moving, price, since, blocks))


def test_price_shares_and_the_owner_burn_penalty():
    np.testing.assert_allclose(emission_shares_price([0.2, 0.3, 0.5]), [0.2, 0.3, 0.5])
    # subnet 2 burned all its miner emission last tempo: it gets nothing
    np.testing.assert_allclose(emission_shares_price([0.2, 0.3, 0.5], [0, 0, 1]), [0.4, 0.6, 0])
    # half burned: weights 0.2, 0.3, 0.25
    np.testing.assert_allclose(emission_shares_price([0.2, 0.3, 0.5], [0, 0, 0.5]),
                               np.array([0.2, 0.3, 0.25]) / 0.75)
    # everyone burned everything: back to the price shares
    np.testing.assert_allclose(emission_shares_price([0.2, 0.8], [1, 1]), [0.2, 0.8])
    assert emission_shares_price([0.0, 0.0]).tolist() == [0.0, 0.0]


def test_flow_shares_floored_at_the_cutoff():
    flows = [-5.0, 0.0, 10.0, 30.0]
    np.testing.assert_allclose(emission_shares_flow(flows), [0, 0, 0.25, 0.75])
    np.testing.assert_allclose(emission_shares_flow(flows, exponent=2.0), [0, 0, 0.1, 0.9])
    np.testing.assert_allclose(emission_shares_flow(flows, cutoff=5.0), [0, 0, 1 / 6, 5 / 6])
    # a negative cutoff below the lowest flow: L = min flow = -5
    np.testing.assert_allclose(emission_shares_flow(flows, cutoff=-10.0),
                               np.array([0, 5, 15, 35]) / 55)
    assert emission_shares_flow([-1.0, 0.0]).tolist() == [0.0, 0.0]


def test_flow_ema():
    a = 29_597_889_189_277 / (2**63 - 1)
    assert flow_ema([0.0], [100.0])[0] == pytest.approx(100 * a, rel=1e-15)
    assert flow_ema([10.0], [0.0], blocks=3)[0] == pytest.approx(10 * (1 - a) ** 3, rel=1e-14)
    # half-life of one month of blocks (216,000)
    assert (1 - a) ** 216_000 == pytest.approx(0.5, rel=1e-4)


# -- alpha issuance and injection --------------------------------------------------------


def test_alpha_issuance_halves_like_tao():
    np.testing.assert_allclose(subnet_alpha_emission([0, 10_499_999, 10.5e6, 15.75e6]),
                               [1, 1, 0.5, 0.25])


def test_root_proportion_and_stake_weight():
    # w * root = 0.18 * 1e6 = 180,000 alpha-equivalents against 180,000 alpha issued
    np.testing.assert_allclose(root_proportion([180_000.0, 0.0], 1e6, 0.18), [0.5, 1.0])
    assert root_proportion([0.0], 0.0, 0.18).tolist() == [0.0]
    np.testing.assert_allclose(stake_weight([100.0, 0.0], [0.0, 1000.0], 0.18), [100, 180])


def test_subnet_terms_cap_and_excess():
    tao_in, alpha_in, alpha_out, excess = subnet_terms(
        [0.5, 0.5, 0.5], [0.25, 0.01, 2.0], 1.0, [0.5, 0.5, 0.5])
    # 0.5 TAO at 0.25 would inject 2 alpha > cap 0.5 * 1: inject 0.5 alpha and 0.125 TAO
    np.testing.assert_allclose(alpha_in, [0.5, 0.5, 0.25])
    np.testing.assert_allclose(tao_in, [0.125, 0.005, 0.5])
    np.testing.assert_allclose(excess, [0.375, 0.495, 0.0])
    np.testing.assert_allclose(alpha_out, [1, 1, 1])
    # before June 2026: capped at min(alpha emission, TAO block emission)
    _, alpha_in, _, excess = subnet_terms([0.5], [0.25], 0.4, [0.5], cap="alpha_emission",
                                          tao_block_emission=0.5)
    assert (alpha_in[0], excess[0]) == (pytest.approx(0.4), pytest.approx(0.4))
    with pytest.raises(ValueError, match="cap must be"):
        subnet_terms([0.5], [0.25], 1.0, [0.5], cap="none")


def test_inject_then_buy_with_the_excess():
    pool = ExactPool(100 * TAO, 1000 * TAO)
    issued, bought = inject_and_maybe_swap(pool, 1 * TAO, TAO // 2)
    assert issued == 10 * TAO  # 1 TAO at 0.1 TAO per alpha
    assert bought == (1010 * TAO * (TAO // 2)) // (101 * TAO + TAO // 2)  # no fee
    assert (pool.tao_rao, pool.alpha_units) == (101 * TAO + TAO // 2, 1010 * TAO - bought)


def test_an_excess_larger_than_the_reserve_is_bought_in_parts():
    pool = ExactPool(1 * TAO, 10 * TAO)
    _, bought = inject_and_maybe_swap(pool, 0, 5 * TAO)
    one_buy = (10 * TAO * 5 * TAO) // (6 * TAO)  # constant product without fee
    assert one_buy - 3 <= bought <= one_buy
    assert pool.tao_rao == 6 * TAO


def test_split_of_alpha_outside_the_pool():
    owner, miners, validators, root, recycled = split_alpha_out([1 * TAO], [0.5], owner_cut=0.18)
    # 18% owner; of 0.82 half to miners; of the validators' 0.41 the root proportion 0.5
    assert [owner[0], miners[0], validators[0], root[0], recycled[0]] == [
        180_000_000, 410_000_000, 205_000_000, 205_000_000, 0]
    parts = split_alpha_out([1 * TAO, 7], [0.3, 0.9])  # the chain's 11_796/65535 cut
    assert (sum(parts)).tolist() == [1 * TAO, 7]  # floors; the dust goes to validators
    assert parts[0][0] == 1 * TAO * 11_796 // 65_535
    owner, miners, validators, root, recycled = split_alpha_out([1 * TAO], [0.5], owner_cut=0.18,
                                                                root_sell=False)
    assert (root[0], recycled[0]) == (0, 205_000_000)


# -- paying an epoch ---------------------------------------------------------------------


def test_dividends_split_between_alpha_and_root_stakers():
    # Hotkey 1 has 82 alpha and 100 TAO on root: w * root = 18, root share 18 / 100.
    alpha_pay, root_pay = dividend_distribution(
        [0.5, 0.5], [82.0, 82.0], [0.0, 100.0], 0.18, pending_alpha=91.0,
        pending_root_alpha=9.0)
    np.testing.assert_allclose(alpha_pay, [50.0, 41.0])  # 0.5 : 0.41 of 91
    np.testing.assert_allclose(root_pay, [0.0, 9.0])
    a, r = dividend_distribution([1.0], [0.0], [0.0], 0.18, 5.0, 5.0)
    assert (a.tolist(), r.tolist()) == ([5.0], [0.0])  # no root stake: no root dividends


def test_root_dividends_are_proportional_to_root_stake():
    # 1000 alpha units of root dividends on hotkey 0 (owned by account 0, take 18%);
    # root stakers: account 1 with 300 TAO, account 2 with 100.
    out = share_pro_rata([1000], staked_to=[-1, 0, 0], staked=[0, 300, 100], owner_of=[0],
                         take=0.18)
    assert out.tolist() == [180, 615, 205]  # take 180; 820 split 3:1
    assert out.sum() == 1000


def test_owner_incentive_is_burned_and_recorded():
    paid, burned, share = owner_incentive_burn([100, 300, 600], [False, False, True])
    assert (paid.tolist(), burned, share) == ([100, 300, 0], 600, 0.6)
    assert owner_incentive_burn([0, 0], [True, False])[2] == 0.0


# -- registration and subnets ------------------------------------------------------------


def test_neuron_burn_rises_1_26_per_registration_and_halves_in_360_blocks():
    assert neuron_burn_after_registration(TAO, 1, 100 * TAO).tolist() == 1_260_000_000
    assert neuron_burn_after_registration(90 * TAO, 1, 100 * TAO).tolist() == 100 * TAO
    f = _decay_q32(360)
    assert (f / 2**32) ** 360 == pytest.approx(0.5, rel=1e-6)
    exact = 1_260_000_000
    for _ in range(360):  # the chain, block by block (mul_by_q32 floors)
        exact = max((exact * f) >> 32, 500_000)
    fast = int(neuron_burn_after_blocks(1_260_000_000, 360, 500_000, 100 * TAO))
    assert abs(fast - exact) <= 360 and fast == pytest.approx(630_000_000, rel=1e-5)
    assert neuron_burn_after_blocks(600_000, 7_200, 500_000, 100 * TAO).tolist() == 500_000


def test_lock_cost_doubles_then_decays_over_14_days():
    interval = 14 * 7_200
    assert lock_cost(1_000 * TAO, 1_000 * TAO, 0, 5) == 1_000 * TAO  # first: mult 1
    assert lock_cost(1_000 * TAO, 500 * TAO, 100, 100) == 2_000 * TAO
    step = 1_000 * TAO // interval
    assert lock_cost(1_000 * TAO, 500 * TAO, 100, 100 + interval) == 2_000 * TAO - step * interval
    assert lock_cost(1_000 * TAO, 500 * TAO, 100, 100 + 3 * interval) == 500 * TAO  # floor


def test_the_lowest_moving_price_out_of_immunity_is_dissolved():
    prices, registered = [0.3, 0.1, 0.1, 0.05], [0, 50, 10, 9_000]
    assert subnet_to_dissolve(prices, registered, 10_000, 5_000) == 2  # tie: earlier wins
    assert subnet_to_dissolve(prices, registered, 20_000, 5_000) == 3
    assert subnet_to_dissolve(prices, registered, 1_000, 5_000) is None


def test_a_dissolved_pool_pays_its_tao_pro_rata():
    assert dissolve_payout(100 * TAO, [3, 1]) == [75 * TAO, 25 * TAO]
    assert dissolve_payout(10, [1, 1, 1]) == [4, 3, 3]  # largest remainder, holder order
    assert dissolve_payout(10, [5, 2, 2]) == [6, 2, 2]  # remainders 5, 2, 2 of 9
    big = dissolve_payout(123_456_789_012_345, [10**17, 3 * 10**17 + 1, 7])
    assert sum(big) == 123_456_789_012_345


@pytest.mark.parametrize("pending", [(183_123_567_452, 837_120_949_872), (0, 837_120_949_872)])
def test_dividend_totals_match_the_chains_tests(pending):
    # tests/coinbase.rs test_calculate_dividend_distribution_totals / _total_only_tao:
    # whatever the stakes and dividends, the pending alpha and root alpha are paid in full.
    alpha_pay, root_pay = dividend_distribution(
        [77_783_738, 19_283_940], [4_859_302, 23_423], [2_342_352, 859_273], 0.18, *pending)
    assert alpha_pay.sum() == pytest.approx(pending[0], abs=1_000)
    assert root_pay.sum() == pytest.approx(pending[1], abs=1_000)


def test_dtao_pruning_lowest_emission_then_earliest_registration():
    from world.rules_dtao import neuron_to_prune

    emission = [5.0, 1.0, 1.0, 1.0, 0.0]
    registered = [0, 300, 200, 200, 9_000]
    # UID 4 (emission 0) is immune; UIDs 2 and 3 tie on emission and registration: lower UID
    assert neuron_to_prune(emission, registered, 10_000, 5_000, min_non_immune=2) == 2
    # the owner's hotkey is never pruned
    assert neuron_to_prune(emission, registered, 10_000, 5_000,
                           owner_hotkey=[False, False, True, False, False],
                           min_non_immune=2) == 3
    # too few non-immune UIDs (4 <= 10): the best immune one goes instead
    assert neuron_to_prune(emission, registered, 10_000, 5_000) == 4
    assert neuron_to_prune([1.0], [0], 10_000, 5_000, owner_hotkey=[True]) is None
