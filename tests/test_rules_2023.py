"""The December 2023 rules (issue 15): root emission split, registration burn, pruning,
the per-pair bond mask, emission into stake with the delegate take, global stake and
unstaking on deregistration. Hand-worked cases from subtensor@2023-12-20 (spec 141)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from world.root import root_epoch, root_register_slot
from world.rules_2023 import (
    adjust_burn,
    burn_adjustment_due,
    deregistration_unstake,
    distribute_hotkey_emission,
    mask_outdated_bonds,
    max_upscale_u16,
    neuron_to_prune,
    outdated_mask,
    pruning_scores,
    uid_stake,
)
from world.yuma import YumaParams, epoch

TAO = 1_000_000_000
KAPPA = 32_767 / 65_535


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# -- root_epoch (root.rs) ----------------------------------------------------------------


def test_root_shares_from_a_small_weight_matrix():
    # Two root validators with stake 3:2 over two subnets. Validator 0 weights only
    # subnet 0; validator 1 weights both, subnet 1 twice as much (stored max-upscaled).
    r = root_epoch([[5.0, 0.0], [1.0, 2.0]], [3 * TAO, 2 * TAO])
    # rank = S @ W_upscaled = [0.6 * 1 + 0.4 * 0.5, 0.4 * 1] = [0.8, 0.4]
    np.testing.assert_allclose(r.rank, [0.8, 0.4], rtol=1e-15)
    # trust = stake of validators with weight > 0 = [1.0, 0.4]
    np.testing.assert_allclose(r.trust, [1.0, 0.4], rtol=1e-15)
    c = [sigmoid(10 * (1.0 - KAPPA)), sigmoid(10 * (0.4 - KAPPA))]
    np.testing.assert_allclose(r.consensus, c, rtol=1e-14)
    expected = np.array([0.8 * c[0], 0.4 * c[1]])
    np.testing.assert_allclose(r.shares, expected / expected.sum(), rtol=1e-14)
    np.testing.assert_allclose(r.shares, [0.8808, 0.1192], atol=1e-4)


def test_root_trust_below_half_is_punished_by_the_sigmoid():
    # Each subnet weighted by one validator (stake 0.6 and 0.4): rank 3:2, but the
    # minority's subnet is also discounted by the sigmoid, about e times more.
    r = root_epoch([[1.0, 0.0], [0.0, 1.0]], [0.6, 0.4])
    assert r.rank[0] / r.rank[1] == pytest.approx(1.5)
    ratio = 1.5 * sigmoid(10 * (0.6 - KAPPA)) / sigmoid(10 * (0.4 - KAPPA))
    assert r.shares[0] / r.shares[1] == pytest.approx(ratio, rel=1e-12)
    assert ratio == pytest.approx(1.5 * math.e, rel=1e-3)


def test_root_epoch_errors_keep_the_previous_values():
    assert root_epoch([[1.0, 0.0]], [0.0]) is None  # no stake: root.rs "No stake on network"
    assert root_epoch(np.zeros((0, 3)), []) is None  # no root validators
    zero = root_epoch([[0.0, 0.0]], [1.0])
    assert zero.shares.tolist() == [0.0, 0.0]  # nobody weights: nothing emitted
    with pytest.raises(ValueError, match="stake must have shape"):
        root_epoch([[1.0, 0.0]], [1.0, 2.0])


def test_root_seats_go_to_the_largest_stakes():
    assert root_register_slot([5.0, 1.0], 0.5, max_validators=3) == 2  # room: append
    assert root_register_slot([5.0, 1.0, 3.0], 2.0, max_validators=3) == 1  # replaces 1.0
    assert root_register_slot([5.0, 1.0, 3.0], 1.0, max_validators=3) is None  # not higher


# -- registration burn (block_step.rs) ---------------------------------------------------


def test_burn_three_cases_with_target_one():
    burn = adjust_burn([TAO, TAO, TAO], [0, 1, 3], target=1, min_burn_rao=1,
                       max_burn_rao=100 * TAO)
    # none: halves; 0 < regs <= target: stays; above: x (3 + 1) / 2
    assert burn.tolist() == [TAO // 2, TAO, 2 * TAO]


def test_burn_floor_and_ceiling():
    assert adjust_burn(1, 0, 1, 1, 100 * TAO).tolist() == 1  # floor of 1 RAO
    assert adjust_burn(80 * TAO, 3, 1, 1, 100 * TAO).tolist() == 100 * TAO
    assert adjust_burn(3, 0, 1, 1, 100 * TAO).tolist() == 1  # 1.5 RAO floored


def test_burn_mixed_with_pow_registrations():
    # Case A (too many, mostly PoW): only the difficulty moves. Case C (few, mostly PoW):
    # the burn falls by (1 + 2) / 4.
    assert adjust_burn(TAO, 0, 2, 1, 100 * TAO, pow_registrations=3).tolist() == TAO
    assert adjust_burn(TAO, 0, 2, 1, 100 * TAO, pow_registrations=1).tolist() == 3 * TAO // 4


def test_burn_interval():
    assert burn_adjustment_due(720, 360, 360) and not burn_adjustment_due(719, 360, 360)


# -- pruning (epoch.rs, registration.rs) -------------------------------------------------


def test_pruning_score_is_normalised_incentive_plus_dividends():
    s = pruning_scores([0, 0, 0.75, 0.25], [0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0])
    np.testing.assert_allclose(s, [0.25, 0.25, 0.375, 0.125])
    # nobody earned: the active stake, or the stake when none is active
    np.testing.assert_allclose(pruning_scores([0, 0], [0, 0], [0.0, 1.0], [0.5, 0.5]), [0, 1])
    np.testing.assert_allclose(pruning_scores([0, 0], [0, 0], [0.0, 0.0], [0.3, 0.7]),
                               [0.3, 0.7])
    assert max_upscale_u16([0.5, 0.25, 0.0]).tolist() == [65535, 32768, 0]


def test_pruning_ties_go_to_the_highest_uid_out_of_immunity():
    scores = [65535, 100, 100, 5000]
    assert neuron_to_prune(scores, [0, 0, 0, 0], 10_000, 5_000) == 2
    # UID 2 still immune (registered 4,000 blocks ago): the tie falls to UID 1
    assert neuron_to_prune(scores, [0, 0, 6_000, 0], 10_000, 5_000) == 1


def test_pruning_when_only_immune_uids_score_below_the_maximum():
    # Non-immune UIDs all at u16::MAX count as "everyone immune": the immune UID with the
    # lowest score goes, ties to the LOWEST UID among immune ones.
    assert neuron_to_prune([65535, 7, 7, 9], [0, 9_000, 9_000, 9_000], 10_000, 5_000) == 1
    assert neuron_to_prune([65535, 65535], [9_000, 9_000], 10_000, 5_000) == 0


# -- the per-pair bond mask (epoch.rs) ---------------------------------------------------


def _replaced_miner_epoch(per_pair: bool, v1_last_update: int) -> np.ndarray:
    """Validators 0, 1 (stake 1:1) weight miners 2, 3 equally; miner 3 was replaced at
    block 100. Validator 1 held the whole bond to UID 3's previous occupant."""
    weights = np.zeros((4, 4))
    weights[:2, 2:] = 0.5
    bonds = np.zeros((4, 4))
    bonds[:2, 2] = 0.5
    bonds[1, 3] = 1.0
    last_update = np.array([150, v1_last_update, 0, 0])
    registered = np.array([0, 0, 0, 100])
    params = YumaParams(version="yuma2", max_validators=2)
    kw = dict(permits=[True, True, False, False], last_update=last_update,
              block_at_registration=registered)
    if per_pair:
        mask_outdated_bonds(bonds, last_update, registered)
        return epoch(weights, [1.0, 1.0, 0, 0], bonds, params, **kw).dividends
    return epoch(weights, [1.0, 1.0, 0, 0], bonds, params,
                 new_registrations=[False, False, False, True], **kw).dividends


def test_bond_mask_per_pair_keeps_a_bond_set_after_the_registration():
    # Both validators set weights after block 100. 2023: validator 1's old bond to UID 3
    # survives. B(col 3) = 0.1 * [0.5, 0.5] + 0.9 * [0, 1] = [0.05, 0.95]; I = [0.5, 0.5];
    # D = [0.5 * 0.5 + 0.05 * 0.5, 0.5 * 0.5 + 0.95 * 0.5] = [0.275, 0.725].
    np.testing.assert_allclose(_replaced_miner_epoch(True, 150), [0.275, 0.725, 0, 0],
                               rtol=1e-12)
    # Today's whole-column reset drops it: B(col 3) = [0.5, 0.5], D = [0.5, 0.5].
    np.testing.assert_allclose(_replaced_miner_epoch(False, 150), [0.5, 0.5, 0, 0], rtol=1e-12)


def test_bond_mask_per_pair_drops_a_bond_not_renewed_since_the_registration():
    m = outdated_mask([150, 90, 0, 0], [0, 0, 0, 100])
    assert m[:, 3].tolist() == [False, True, True, True] and not m[:2, :3].any()
    # Validator 1 last set weights at block 90: its weights to and bond on UID 3 are
    # outdated, so both versions agree.
    np.testing.assert_allclose(_replaced_miner_epoch(True, 90), _replaced_miner_epoch(False, 90),
                               rtol=1e-12)


def test_masking_only_permitted_rows_equals_masking_all():
    rng = np.random.default_rng(3)
    bonds = rng.random((6, 6))
    bonds[3:] = 0.0  # rows without a permit hold no bonds (epoch.rs storage)
    lu, reg = rng.integers(0, 100, 6), rng.integers(0, 100, 6)
    full = mask_outdated_bonds(bonds.copy(), lu, reg)
    rows = mask_outdated_bonds(bonds.copy(), lu, reg, rows=[0, 1, 2])
    np.testing.assert_array_equal(full, rows)
    # a batch of subnets at once equals each subnet on its own
    bonds = rng.random((3, 6, 6))
    lu, reg = rng.integers(0, 100, (3, 6)), rng.integers(0, 100, (3, 6))
    rows = np.array([[0, 1, 2], [3, 4, 5], [0, 2, 5]])
    one = [mask_outdated_bonds(bonds[k].copy(), lu[k], reg[k], rows=rows[k]) for k in range(3)]
    np.testing.assert_array_equal(mask_outdated_bonds(bonds.copy(), lu, reg, rows=rows), one)
    np.testing.assert_array_equal(mask_outdated_bonds(bonds.copy(), lu, reg),
                                  [mask_outdated_bonds(bonds[k].copy(), lu[k], reg[k])
                                   for k in range(3)])
    new = rng.random((3, 6)) < 0.3
    one = [mask_outdated_bonds(bonds[k].copy(), lu[k], reg[k], rows=rows[k], columns=new[k])
           for k in range(3)]
    np.testing.assert_array_equal(
        mask_outdated_bonds(bonds.copy(), lu, reg, rows=rows, columns=new), one)


def test_masking_only_new_registrations_is_enough_over_epochs():
    # Bonds computed under the 2023 rule already hold 0 on every pair outdated before the
    # last epoch, so masking the columns registered since then gives the same epochs.
    rng = np.random.default_rng(11)
    n, params = 8, YumaParams(version="yuma2", max_validators=4)
    stake = np.r_[rng.random(4) + 0.5, np.zeros(4)]
    full, cheap = np.zeros((n, n)), np.zeros((n, n))
    last_update, registered = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    permits = None
    for block in range(100, 1100, 100):
        new = np.zeros(n, dtype=bool)
        if block % 300 == 0:  # a miner is replaced
            j = 4 + block // 300 % 4
            registered[j], new[j] = block - 50, True
        setters = rng.random(4) < 0.5  # validators that set weights this epoch
        last_update[:4] = np.where(setters, block - 10, last_update[:4])
        weights = np.zeros((n, n))
        weights[:4, 4:] = rng.random((4, 4))
        mask_outdated_bonds(full, last_update, registered)
        mask_outdated_bonds(cheap, last_update, registered, rows=np.arange(4), columns=new)
        np.testing.assert_array_equal(full, cheap)
        kw = dict(permits=permits, last_update=last_update, block_at_registration=registered)
        a = epoch(weights, stake, full, params, **kw)
        b = epoch(weights, stake, cheap, params, **kw)
        full, cheap, permits = a.bonds, b.bonds, a.new_permits


# -- stake and emission (uids.rs, block_step.rs, staking.rs) -----------------------------


def test_a_validator_on_three_subnets_counts_its_whole_stake_on_each():
    hotkey_stake = np.array([1_000 * TAO, 5 * TAO, 7 * TAO])
    subnets = [[0, 1, -1], [2, 0], [0]]  # hotkey 0 holds a UID on all three
    stakes = [uid_stake(uids, hotkey_stake) for uids in subnets]
    assert [s.tolist() for s in stakes] == [
        [1_000 * TAO, 5 * TAO, 0], [7 * TAO, 1_000 * TAO], [1_000 * TAO]]


def test_emission_goes_to_stake_with_the_take_shared_pro_rata():
    # Hotkey 0 (a delegate owned by account 0, which stakes 600 RAO) has a nominator,
    # account 1, with 400. It earns 1000 RAO of dividends and 50 of incentive. Hotkey 2
    # is a miner (not a delegate) earning 70.
    out = distribute_hotkey_emission(
        staked_to=[0, 0, -1], staked=[600, 400, 0], owner_of=[0, 1, 2],
        is_delegate=[True, False, False], server_rao=[50, 0, 70], validator_rao=[1000, 0, 0])
    take = 1000 * 11_796 // 65_535  # 179
    rest = 1000 - take  # 821, shared over all 1000 RAO of stake, the owner's included
    nominator = rest * 400 // 1000  # 328
    owner = rest * 600 // 1000 + take + (rest - rest * 600 // 1000 - nominator) + 50
    assert out.tolist() == [owner, nominator, 70]
    assert out.sum() == 1000 + 50 + 70  # nothing created or lost


def test_deregistration_unstakes_the_nominators_too():
    staked_to, staked = [0, 0, 3, 0], [600, 400, 9, 0]
    assert deregistration_unstake(staked_to, staked, 0, registered_elsewhere=False).tolist() == [
        600, 400, 0, 0]
    assert deregistration_unstake(staked_to, staked, 0, registered_elsewhere=True).tolist() == [
        0, 0, 0, 0]


# -- the chain's own test vectors (subtensor@2023-12-20 pallets/subtensor/tests) ---------


def test_root_epoch_matches_the_chains_test_network_pruning():
    # tests/root.rs test_network_pruning: 10 root validators with 1,000 RAO each; validator
    # i sets weight 1 on netuids 0..i-1 of 11; the mock runtime's root Rho is 30
    # (tests/mock.rs InitialRho). Expected emission values per block, from the test.
    weights = np.zeros((10, 11))
    for i in range(10):
        weights[i, :i] = 1.0
    r = root_epoch(weights, [1_000] * 10, rho=30.0)
    emission = np.floor(r.shares * 1_000_000_000).astype(np.int64)
    assert emission[:6].tolist() == [277_820_113, 246_922_263, 215_549_466, 176_432_500,
                                     77_181_559, 5_857_251]


def test_burn_matches_the_chains_test_burn_adjustment():
    # tests/block_step.rs test_burn_adjustment (burn 1000, target 1, two registrations)
    # and test_burn_adjustment_with_moving_average (AdjustmentAlpha u64::MAX / 2).
    assert adjust_burn(1000, 2, 1, 0, 10**12, alpha=0.0).tolist() == 1500
    alpha = (2**64 - 1) // 2 / (2**64 - 1)
    assert adjust_burn(1000, 2, 1, 0, 10**12, alpha=alpha).tolist() == 1250
