"""Tests of the Yuma Consensus kernel (world/yuma.py) against MODEL.md section 3.

Three kinds: hand-computed cases (the worked example, multi-epoch bond dynamics for both
versions, permits, masks, the all-zero case), hypothesis properties, and a comparison with
``reference_epoch`` below, a deliberately literal, loop-based transcription of MODEL.md
section 3 that shares no code with the kernel.
"""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from world import yuma
from world.yuma import YumaParams, YumaResult, epoch, epoch_batch

KAPPA = 32767 / 65535
OUTPUTS = (
    "consensus",
    "incentive",
    "dividends",
    "bonds",
    "validator_trust",
    "miner_emission_share",
    "validator_emission_share",
)
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------
# A literal reference: MODEL.md section 3 transcribed step by step, loops and all
# ---------------------------------------------------------------------------------------------


def _norm(x: np.ndarray) -> np.ndarray:
    total = x.sum()
    return x / total if total > 0 else np.zeros_like(x)


def _colnorm(x: np.ndarray) -> np.ndarray:
    out = x.copy()
    for j in range(x.shape[1]):
        if x[:, j].sum() > 0:
            out[:, j] = x[:, j] / x[:, j].sum()
    return out


def reference_epoch(
    w, s, b0, p, permits=None, active=None, new_registrations=None, last_update=None,
    block_at_registration=None,
) -> dict[str, np.ndarray]:
    """MODEL.md section 3 steps 1-10, one UID / one column at a time."""
    n = len(s)
    s = np.array(s, dtype=float)
    s[s < p.stake_threshold] = 0.0  # step 1
    stake = _norm(s)
    permit = stake > 0 if permits is None else np.array(permits, dtype=bool)
    new_permits = stake > 0  # step 2: stable ascending sort drops the lowest n - k
    if n > p.max_validators:
        for i in sorted(range(n), key=lambda i: stake[i])[: n - p.max_validators]:
            new_permits[i] = False
    act = np.ones(n, bool) if active is None else np.array(active, dtype=bool)
    a = _norm(stake * act * permit)  # step 3
    w = np.array(w, dtype=float)  # step 4
    for i in range(n):
        for j in range(n):
            outdated = last_update is not None and last_update[i] <= block_at_registration[j]
            if not permit[i] or i == j or outdated:
                w[i, j] = 0.0
    for i in range(n):
        w[i] = _norm(w[i])
    consensus = np.zeros(n)  # step 5
    voters = [i for i in range(n) if a[i] > 0]
    if voters:
        share = a[voters] / a[voters].sum()
        for j in range(n):
            values = w[voters, j]
            consensus[j] = values.max()
            for x in sorted(set(values)):
                if share[values <= x].sum() > 1 - p.kappa:
                    consensus[j] = x
                    break
    clipped = np.minimum(w, consensus)  # step 6
    rank = a @ clipped  # step 7
    incentive = _norm(rank)
    # Step 8; like ``interpolate_sparse``, beta = 1 / 0 return the clipped / raw weights
    # exactly (w + (clipped - w) can round a tiny clipped weight to 0).
    wb = {1.0: clipped, 0.0: w}.get(p.bonds_penalty, w + p.bonds_penalty * (clipped - w))
    b0 = np.array(b0, dtype=float)  # step 9
    if new_registrations is not None:
        b0[:, np.array(new_registrations, dtype=bool)] = 0.0
    rate = p.bonds_ema_rate
    if p.version == "yuma2":
        delta = _colnorm(a[:, None] * wb)
        bonds = _colnorm(rate * delta + (1 - rate) * _colnorm(b0))
        dividends = _norm(bonds @ incentive)
    else:
        if p.liquid_alpha and (consensus != 0).any():
            bonds = np.zeros((n, n))
            for i in range(n):
                for j in range(n):
                    if wb[i, j] >= b0[i, j]:
                        d = min(max(wb[i, j] - consensus[j], 0.0), 1.0)
                    else:
                        d = min(max(b0[i, j] - wb[i, j], 0.0), 1.0)
                    sig = 1 / (1 + math.exp(-p.alpha_steepness * (d - 0.5)))
                    rate_ij = p.alpha_low + (p.alpha_high - p.alpha_low) * sig
                    if wb[i, j] > 0:
                        bonds[i, j] = min(1.0, (1 - rate_ij) * b0[i, j] + rate_ij * wb[i, j])
        else:
            bonds = rate * wb + (1 - rate) * b0
        dividends = _norm(a * (_colnorm(bonds) @ incentive))
    total = incentive.sum() + dividends.sum()  # step 10
    if total > 0:
        miners, validators = incentive / total, dividends / total
    else:
        miners, validators = np.zeros(n), (a if a.sum() > 0 else stake)
    return {
        "consensus": consensus,
        "incentive": incentive,
        "dividends": dividends,
        "bonds": bonds * new_permits[:, None],
        "validator_trust": clipped.sum(axis=1),
        "new_permits": new_permits,
        "miner_emission_share": miners,
        "validator_emission_share": validators,
    }


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def subnet(weights_by_validator: dict[int, list[float]], stakes: list[float], n: int):
    """Weights n x n from {validator uid: its row}, stake length n, zero bonds."""
    w = np.zeros((n, n))
    for uid, row in weights_by_validator.items():
        w[uid] = row
    return w, np.array(stakes, dtype=float), np.zeros((n, n))


def run_schedule(schedule, stakes, params):
    """Run consecutive epochs; ``schedule`` lists one {validator: weight row} per epoch."""
    n = len(stakes)
    bonds, permits, out = np.zeros((n, n)), None, []
    for rows in schedule:
        w, s, _ = subnet(rows, stakes, n)
        res = epoch(w, s, bonds, params, permits=permits)
        bonds, permits = res.bonds, res.new_permits
        out.append(res)
    return out


def assert_results_close(got: YumaResult, want, rtol=1e-9, atol=1e-12) -> None:
    for name in OUTPUTS:
        expected = want[name] if isinstance(want, dict) else getattr(want, name)
        np.testing.assert_allclose(getattr(got, name), expected, rtol=rtol, atol=atol,
                                   err_msg=name)
    expected = want["new_permits"] if isinstance(want, dict) else want.new_permits
    np.testing.assert_array_equal(got.new_permits, expected)


# ---------------------------------------------------------------------------------------------
# The worked example and hand-computed multi-epoch cases
# ---------------------------------------------------------------------------------------------


def test_worked_example_from_model_md():
    # UIDs 0, 1 validators (stake 0.5 each), 2, 3 miners; W = [[0.5, 0.5], [1, 0]].
    w, s, b0 = subnet({0: [0, 0, 0.5, 0.5], 1: [0, 0, 1, 0]}, [0.5, 0.5, 0, 0], 4)
    res = epoch(w, s, b0, YumaParams(version="yuma3", bonds_penalty=1.0))
    # Column 2: 0.5 (stake 0.5) does not exceed 1 - kappa = 0.5000076, so C = 1; column 3: 0.5.
    np.testing.assert_allclose(res.consensus, [0, 0, 1.0, 0.5])
    np.testing.assert_allclose(res.incentive, [0, 0, 0.75, 0.25])
    np.testing.assert_allclose(res.dividends, [0.5, 0.5, 0, 0])
    # First-epoch bonds are 0.1 * clipped weights; E goes half to miners, half to validators.
    np.testing.assert_allclose(res.bonds[:2, 2:], [[0.05, 0.05], [0.1, 0.0]])
    np.testing.assert_allclose(res.miner_emission_share, [0, 0, 0.375, 0.125])
    np.testing.assert_allclose(res.validator_emission_share, [0.25, 0.25, 0, 0])
    np.testing.assert_allclose(res.validator_trust, [1, 1, 0, 0])


# The switch scenario: validators E (early, stake 0.2), M (majority, 0.6), L (late, 0.2) and
# miners OLD (uid 3) and NEW (uid 4). Epoch 1 everyone weights OLD; E moves to NEW in epoch 2,
# M in epoch 3 (consensus flips), L in epoch 4; epoch 5 repeats epoch 4.
OLD, NEW = [0, 0, 0, 1, 0], [0, 0, 0, 0, 1]
SWITCH = [
    {0: OLD, 1: OLD, 2: OLD},
    {0: NEW, 1: OLD, 2: OLD},
    {0: NEW, 1: NEW, 2: OLD},
    {0: NEW, 1: NEW, 2: NEW},
    {0: NEW, 1: NEW, 2: NEW},
]
SWITCH_STAKE = [0.2, 0.6, 0.2, 0.0, 0.0]


def test_switch_consensus_follows_the_majority():
    res = run_schedule(SWITCH, SWITCH_STAKE, YumaParams())
    # Epoch 2: only E (0.2) on NEW: the stake at weight 0 (0.8) exceeds 1 - kappa, C_NEW = 0.
    np.testing.assert_allclose(res[1].consensus[3:], [1, 0])
    # Epoch 3: E and M (0.8) on NEW: C_OLD = 0 and C_NEW = 1.
    np.testing.assert_allclose(res[2].consensus[3:], [0, 1])
    np.testing.assert_allclose(res[2].incentive[3:], [0, 1])


def test_yuma3_early_mover_earns_more_than_late_mover():
    res = run_schedule(SWITCH, SWITCH_STAKE, YumaParams(version="yuma3"))
    # Bonds B = 0.1 * clipped W + 0.9 * B0 (absolute). NEW column, by epoch:
    #   epoch 2: E's weight on NEW is clipped to C_NEW = 0, so nobody buys a NEW bond.
    #   epoch 3: E 0.1, M 0.1, L 0 (L still on OLD, clipped to C_OLD = 0).
    #   epoch 4: E 0.19, M 0.19, L 0.1.   epoch 5: E 0.271, M 0.271, L 0.19.
    # D_i ~ A_i * B_i,NEW / colsum (I = [0, 1] from epoch 3 on), normalised:
    #   epoch 3: (0.2*0.1, 0.6*0.1, 0) -> (0.25, 0.75, 0)
    #   epoch 4: (0.2*0.19, 0.6*0.19, 0.2*0.1) / 0.172 -> (0.22093, 0.66279, 0.11628)
    #   epoch 5: (0.2*0.271, 0.6*0.271, 0.2*0.19) / 0.2548 -> (0.21272, 0.63815, 0.14914)
    # Epoch 2 (I = [1, 0], OLD bonds E 0.09, M 0.19, L 0.19, colsum 0.47):
    #   (0.2*0.09, 0.6*0.19, 0.2*0.19) / 0.17 -> (0.10588, 0.67059, 0.22353)
    expected = {
        1: [0.018 / 0.17, 0.114 / 0.17, 0.038 / 0.17],
        2: [0.25, 0.75, 0.0],
        3: [0.038 / 0.172, 0.114 / 0.172, 0.02 / 0.172],
        4: [0.0542 / 0.2548, 0.1626 / 0.2548, 0.038 / 0.2548],
    }
    for e, want in expected.items():
        np.testing.assert_allclose(res[e].dividends[:3], want, rtol=1e-9, err_msg=f"epoch {e+1}")
    np.testing.assert_allclose(res[4].bonds[:3, 4], [0.271, 0.271, 0.19])
    early = sum(r.dividends[0] for r in res[1:])
    late = sum(r.dividends[2] for r in res[1:])
    assert early > late  # 0.789 vs 0.489: same stake, E moved before the majority, L after
    assert all(r.dividends[0] > r.dividends[2] for r in res[2:])


def test_yuma2_early_mover_earns_more_than_late_mover():
    res = run_schedule(SWITCH, SWITCH_STAKE, YumaParams(version="yuma2"))
    # Column-normalised bonds: dB = colnorm(A_i * clipped W), B = colnorm(0.1 dB + 0.9 B0n),
    # D = B @ I. OLD column, epoch 1: dB = (0.2, 0.6, 0.2) = B.
    #   epoch 2: dB = (0, 0.75, 0.25): B = (0.18, 0.615, 0.205) = D (I = [1, 0]).
    # NEW column, epoch 3: B0n = 0, dB = (0.25, 0.75, 0): B = (0.25, 0.75, 0) = D.
    #   epoch 4: 0.1 (0.2, 0.6, 0.2) + 0.9 (0.25, 0.75, 0) = (0.245, 0.735, 0.02) = D.
    #   epoch 5: 0.1 (0.2, 0.6, 0.2) + 0.9 (0.245, 0.735, 0.02) = (0.2405, 0.7215, 0.038).
    expected = {
        0: [0.2, 0.6, 0.2],
        1: [0.18, 0.615, 0.205],
        2: [0.25, 0.75, 0.0],
        3: [0.245, 0.735, 0.02],
        4: [0.2405, 0.7215, 0.038],
    }
    for e, want in expected.items():
        np.testing.assert_allclose(res[e].dividends[:3], want, rtol=1e-9, err_msg=f"epoch {e+1}")
    early = sum(r.dividends[0] for r in res[1:])
    late = sum(r.dividends[2] for r in res[1:])
    assert early > late  # 0.9155 vs 0.263


def test_liquid_alpha_lagging_copier_earns_less_than_the_validator_it_copies():
    # Honest H (uid 0, stake 0.6, so consensus follows H) and copier K (uid 1, stake 0.4),
    # who sets what H set one epoch earlier. Miners uid 2 and 3; H switches every 2 epochs.
    a, b = [0, 0, 1, 0], [0, 0, 0, 1]
    schedule = [{0: a, 1: a}, {0: b, 1: a}, {0: b, 1: b}, {0: a, 1: b}, {0: a, 1: a}]
    params = YumaParams(liquid_alpha=True)
    res = run_schedule(schedule, [0.6, 0.4, 0, 0], params)
    # Buying a bond where the clipped weight equals consensus: d = 0, so the rate is
    # a0 = 0.7 + 0.2 * sigmoid(10 * (0 - 0.5)).
    a0 = 0.7 + 0.2 / (1 + math.exp(5))
    # Epoch 1: both bond a0 to miner 2; equal column shares, D = stake = (0.6, 0.4).
    np.testing.assert_allclose(res[0].bonds[:2, 2], [a0, a0])
    np.testing.assert_allclose(res[0].dividends[:2], [0.6, 0.4])
    # Epoch 2: H moves (C = (0, 1)); K's weight on 2 is clipped to 0: its bond drops to 0
    # and it has nothing on miner 3, the only one paid. D = (1, 0).
    np.testing.assert_allclose(res[1].bonds[:2, 2:], [[0, a0], [0, 0]])
    np.testing.assert_allclose(res[1].dividends[:2], [1, 0])
    # Epoch 3: K catches up: H's bond on 3 is (1 - a0) a0 + a0, K's a0.
    h3 = (1 - a0) * a0 + a0
    np.testing.assert_allclose(res[2].bonds[:2, 3], [h3, a0])
    d3 = np.array([0.6 * h3, 0.4 * a0])
    np.testing.assert_allclose(res[2].dividends[:2], d3 / d3.sum())
    # Epoch 4: H switches back; again K earns nothing.
    np.testing.assert_allclose(res[3].dividends[:2], [1, 0])
    per_stake_h = sum(r.dividends[0] for r in res) / 0.6
    per_stake_k = sum(r.dividends[1] for r in res) / 0.4
    assert per_stake_k < per_stake_h


# ---------------------------------------------------------------------------------------------
# Permits, masks, registrations, the all-zero case
# ---------------------------------------------------------------------------------------------


def test_new_permits_are_top_k_by_stake_with_ties_to_the_higher_uid():
    n = 6
    w = np.zeros((n, n))
    params = YumaParams(max_validators=3)
    res = epoch(w, np.array([5.0, 1, 3, 3, 0, 2]), np.zeros((n, n)), params)
    np.testing.assert_array_equal(res.new_permits, [1, 0, 1, 1, 0, 0])
    # Three UIDs tie at 3 for two places: the two higher UIDs win.
    res = epoch(w, np.array([5.0, 3, 3, 3, 0, 1]), np.zeros((n, n)), params)
    np.testing.assert_array_equal(res.new_permits, [1, 0, 1, 1, 0, 0])
    res = epoch(w, np.array([3.0, 3, 3, 0, 0, 0]), np.zeros((n, n)), YumaParams(max_validators=2))
    np.testing.assert_array_equal(res.new_permits, [0, 1, 1, 0, 0, 0])
    # Zero stake never earns a permit, however many places there are.
    res = epoch(w, np.array([1.0, 0, 0, 0, 0, 2]), np.zeros((n, n)), YumaParams())
    np.testing.assert_array_equal(res.new_permits, [1, 0, 0, 0, 0, 1])


def test_a_non_permitted_validators_weights_are_ignored():
    # UIDs 0-2 validators, 3-4 miners; validator 2 has the most stake but no permit this epoch.
    w, s, b0 = subnet(
        {0: [0, 0, 0, 1, 0], 1: [0, 0, 0, 0.6, 0.4], 2: [0, 0, 0, 0, 1]}, [1, 1, 5, 0, 0], 5
    )
    permits = np.array([1, 1, 0, 0, 0], bool)
    res = epoch(w, s, b0, YumaParams(), permits=permits)
    w_without = w.copy()
    w_without[2] = 0.0
    assert_results_close(res, epoch(w_without, s, b0, YumaParams(), permits=permits))
    assert res.dividends[2] == 0.0 and res.validator_trust[2] == 0.0
    # ... but it earns a permit for the next epoch, and its stake is counted in S.
    assert res.new_permits[2]
    np.testing.assert_allclose(res.stake, [1 / 7, 1 / 7, 5 / 7, 0, 0])
    # With the permit its weights decide consensus (5 of 7 stake on miner 4).
    res = epoch(w, s, b0, YumaParams(), permits=res.new_permits)
    np.testing.assert_allclose(res.consensus[3:], [0, 1])


def test_stake_threshold_zeroes_small_stakes():
    w, s, b0 = subnet({0: [0, 0, 1, 0], 1: [0, 0, 0, 1]}, [10, 4, 0, 0], 4)
    res = epoch(w, s, b0, YumaParams(stake_threshold=5.0))
    np.testing.assert_allclose(res.stake, [1, 0, 0, 0])
    np.testing.assert_array_equal(res.new_permits, [1, 0, 0, 0])
    # Validator 1 has no stake, hence no default permit and no say: consensus is validator 0's.
    np.testing.assert_allclose(res.consensus, [0, 0, 1, 0])
    np.testing.assert_allclose(res.dividends, [1, 0, 0, 0])
    # Exactly at the threshold is kept (the chain zeroes stake < threshold).
    res = epoch(w, s, b0, YumaParams(stake_threshold=4.0))
    np.testing.assert_allclose(res.stake, [10 / 14, 4 / 14, 0, 0])


def test_the_owner_uid_keeps_its_self_weight_a_permit_and_its_stake():
    """MODEL.md section 9 (subtensor@2026-06-30 run_epoch.rs ``epoch_mechanism``): the
    owner's self-weight survives the diagonal mask, so with 60% of the stake behind half
    its weight on itself the owner's UID takes consensus 0.5 and 0.3 / 0.8 of incentive."""
    w, s, b0 = subnet({0: [0.5, 0, 0.5], 1: [0, 0, 1]}, [0.6, 0.4, 0], 3)
    plain = epoch(w, s, b0, YumaParams())
    np.testing.assert_allclose(plain.incentive, [0, 0, 1])  # self-weight masked
    owned = epoch(w, s, b0, YumaParams(), owner_uid=0)
    np.testing.assert_allclose(owned.consensus, [0.5, 0, 0.5])
    np.testing.assert_allclose(owned.incentive, [0.375, 0, 0.625])
    # With a minority of the stake the owner's self-weight is clipped away (consensus 0).
    w, s, b0 = subnet({0: [0.5, 0, 0.5], 1: [0, 0, 1]}, [0.4, 0.6, 0], 3)
    np.testing.assert_allclose(epoch(w, s, b0, YumaParams(), owner_uid=0).incentive, [0, 0, 1])
    # Below the stake threshold and without stake, it still holds a permit now and next.
    w, s, b0 = subnet({0: [1, 0, 0], 1: [0, 0, 1]}, [0, 10, 0], 3)
    res = epoch(w, s, b0, YumaParams(stake_threshold=5.0), owner_uid=0,
                permits=[False, True, False])
    np.testing.assert_array_equal(res.new_permits, [True, True, False])
    w, s, b0 = subnet({0: [1, 0, 0], 1: [0, 0, 1]}, [4, 10, 0], 3)
    res = epoch(w, s, b0, YumaParams(stake_threshold=5.0), owner_uid=0)
    np.testing.assert_allclose(res.stake, [4 / 14, 10 / 14, 0])  # exempt from the threshold
    with pytest.raises(ValueError, match="owner_uid must be -1"):
        epoch(w, s, b0, YumaParams(), owner_uid=3)
    # this epoch's permit too: an owner whose permit lapsed still sets consensus
    w, s, b0 = subnet({0: [0.5, 0, 0.5], 1: [0, 0, 1]}, [0.6, 0.4, 0], 3)
    lapsed = [False, True, False]
    np.testing.assert_allclose(epoch(w, s, b0, YumaParams(), permits=lapsed).incentive,
                               [0, 0, 1])
    np.testing.assert_allclose(
        epoch(w, s, b0, YumaParams(), permits=lapsed, owner_uid=0).incentive,
        [0.375, 0, 0.625])


def test_outdated_weights_are_masked():
    # Validator 0 last set weights at block 100; miner 3 re-registered at block 150, so
    # validator 0's weight on it refers to the previous owner of the UID and is dropped.
    w, s, b0 = subnet({0: [0, 0, 0.5, 0.5], 1: [0, 0, 0.25, 0.75]}, [1, 1, 0, 0], 4)
    last_update = np.array([100, 200, 0, 0])
    registered_at = np.array([0, 0, 10, 150])
    res = epoch(w, s, b0, YumaParams(), last_update=last_update,
                block_at_registration=registered_at)
    w_masked = w.copy()
    w_masked[0, 3] = 0.0
    assert_results_close(res, epoch(w_masked, s, b0, YumaParams()))
    # Validator 0 now puts all its weight on miner 2: C = (1, 0.75), as each column's value of
    # 0.5 stake does not exceed 1 - kappa; I = 0.5 (1, 0) + 0.5 (0.25, 0.75).
    np.testing.assert_allclose(res.consensus[2:], [1, 0.75])
    np.testing.assert_allclose(res.incentive[2:], [0.625, 0.375])
    # last_update == block_at_registration also counts as outdated (updated <= registered).
    res = epoch(w, s, b0, YumaParams(), last_update=np.array([150, 200, 0, 0]),
                block_at_registration=registered_at)
    assert_results_close(res, epoch(w_masked, s, b0, YumaParams()))
    # Only one of the two block arrays: nothing is outdated.
    res = epoch(w, s, b0, YumaParams(), last_update=last_update)
    assert_results_close(res, epoch(w, s, b0, YumaParams()))


@pytest.mark.parametrize("version", ["yuma2", "yuma3"])
def test_new_registration_resets_the_bond_column(version):
    w, s, _ = subnet({0: [0, 0, 0.5, 0.5], 1: [0, 0, 0.5, 0.5]}, [1, 3, 0, 0], 4)
    b0 = np.zeros((4, 4))
    b0[:2, 2:] = [[0.9, 0.2], [0.1, 0.6]]
    params = YumaParams(version=version)
    registered = np.array([0, 0, 0, 1], bool)
    res = epoch(w, s, b0, params, new_registrations=registered)
    b0_reset = b0.copy()
    b0_reset[:, 3] = 0.0
    assert_results_close(res, epoch(w, s, b0_reset, params))
    if version == "yuma3":  # no history on miner 3: B = 0.1 * W
        np.testing.assert_allclose(res.bonds[:2, 3], [0.05, 0.05])
        np.testing.assert_allclose(res.bonds[:2, 2], [0.05 + 0.81, 0.05 + 0.09])
    else:  # no history on miner 3: B = colnorm(dB) = stake shares
        np.testing.assert_allclose(res.bonds[:2, 3], [0.25, 0.75])


def test_bonds_of_uids_that_lose_their_permit_are_cleared():
    w, s, _ = subnet({0: [0, 0, 0, 1], 1: [0, 0, 0, 1], 2: [0, 0, 0, 1]}, [3, 2, 1, 0], 4)
    b0 = np.zeros((4, 4))
    b0[:3, 3] = 0.5
    res = epoch(w, s, b0, YumaParams(max_validators=2))
    np.testing.assert_array_equal(res.new_permits, [1, 1, 0, 0])
    np.testing.assert_allclose(res.bonds[:, 3], [0.55, 0.55, 0, 0])
    # This epoch it still earned on its (now cleared) bond.
    assert res.dividends[2] > 0


def test_all_zero_weights_pay_validators_by_active_stake_then_by_stake():
    n = 4
    w, s, b0 = np.zeros((n, n)), np.array([1.0, 3.0, 0, 0]), np.zeros((n, n))
    res = epoch(w, s, b0, YumaParams())
    np.testing.assert_allclose(res.incentive, 0)
    np.testing.assert_allclose(res.dividends, 0)
    np.testing.assert_allclose(res.miner_emission_share, 0)
    np.testing.assert_allclose(res.validator_emission_share, [0.25, 0.75, 0, 0])
    # Only validator 0 active: paid by active stake A.
    res = epoch(w, s, b0, YumaParams(), active=np.array([1, 0, 1, 1], bool))
    np.testing.assert_allclose(res.validator_emission_share, [1, 0, 0, 0])
    # Nobody active: A is all zero, paid by S.
    res = epoch(w, s, b0, YumaParams(), active=np.zeros(n, bool))
    np.testing.assert_allclose(res.validator_emission_share, [0.25, 0.75, 0, 0])
    # Self-weights only (masked): same as no weights.
    res = epoch(np.eye(n), s, b0, YumaParams())
    np.testing.assert_allclose(res.validator_emission_share, [0.25, 0.75, 0, 0])
    # No stake anywhere: nothing to pay.
    res = epoch(np.ones((n, n)), np.zeros(n), b0, YumaParams())
    for name in OUTPUTS:
        np.testing.assert_array_equal(getattr(res, name), 0, err_msg=name)


def test_single_uid_and_single_validator():
    res = epoch(np.ones((1, 1)), np.ones(1), np.zeros((1, 1)), YumaParams())
    np.testing.assert_allclose(res.validator_emission_share, [1])
    np.testing.assert_allclose(res.consensus, [0])
    # One validator: its (normalised) weights are consensus.
    w, s, b0 = subnet({0: [0, 1, 3]}, [2, 0, 0], 3)
    res = epoch(w, s, b0, YumaParams())
    np.testing.assert_allclose(res.consensus, [0, 0.25, 0.75])
    np.testing.assert_allclose(res.incentive, [0, 0.25, 0.75])
    np.testing.assert_allclose(res.dividends, [1, 0, 0])


def test_kappa_extremes_give_max_and_min():
    w, s, b0 = subnet({0: [0, 0, 0, 0.2, 0.8], 1: [0, 0, 0, 0.5, 0.5], 2: [0, 0, 0, 0.9, 0.1]},
                      [1, 1, 1, 0, 0], 5)
    assert epoch(w, s, b0, YumaParams(kappa=0.0)).consensus[3:].tolist() == [0.9, 0.8]
    assert epoch(w, s, b0, YumaParams(kappa=1.0)).consensus[3:].tolist() == [0.2, 0.1]
    assert epoch(w, s, b0, YumaParams(kappa=0.5)).consensus[3:].tolist() == [0.5, 0.5]


def test_inputs_are_not_modified():
    rng = np.random.default_rng(3)
    n = 6
    args = dict(
        weights=rng.random((n, n)), stake=rng.random(n), bonds=rng.random((n, n)),
        permits=rng.random(n) < 0.7, active=rng.random(n) < 0.8,
        new_registrations=rng.random(n) < 0.3, last_update=rng.integers(0, 9, n),
        block_at_registration=rng.integers(0, 9, n),
    )
    copies = {k: v.copy() for k, v in args.items()}
    for version in ("yuma2", "yuma3"):
        epoch(params=YumaParams(version=version), **args)
        batched = {k: v[None] for k, v in args.items()}
        epoch_batch(params=YumaParams(version=version), **batched)
    for k, v in args.items():
        np.testing.assert_array_equal(v, copies[k], err_msg=k)


def test_bad_inputs_are_rejected():
    n = 3
    good = (np.zeros((n, n)), np.ones(n), np.zeros((n, n)), YumaParams())
    with pytest.raises(ValueError, match="weights"):
        epoch(np.zeros((n, n + 1)), *good[1:])
    with pytest.raises(ValueError, match="stake"):
        epoch(good[0], -np.ones(n), *good[2:])
    with pytest.raises(ValueError, match="weights"):
        epoch(np.full((n, n), np.nan), *good[1:])
    with pytest.raises(ValueError, match="bonds"):
        epoch(good[0], good[1], np.full((n, n), np.inf), good[3])
    with pytest.raises(ValueError, match="permits"):
        epoch(*good, permits=np.ones(n + 1, bool))
    with pytest.raises(TypeError, match="params"):
        epoch(*good[:3], {"kappa": 0.5})


# ---------------------------------------------------------------------------------------------
# YumaParams validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"version": "yuma4"}, "yuma.version must be one of 'yuma2', 'yuma3'"),
        ({"kappa": 1.5}, "yuma.kappa must be a number in [0, 1]"),
        ({"kappa": -0.1}, "yuma.kappa must be a number in [0, 1]"),
        ({"kappa": float("nan")}, "yuma.kappa must be a number in [0, 1]"),
        ({"kappa": "half"}, "yuma.kappa must be a number in [0, 1]"),
        ({"bonds_penalty": 2.0}, "yuma.bonds_penalty must be a number in [0, 1]"),
        ({"bonds_ema_rate": -0.5}, "yuma.bonds_ema_rate must be a number in [0, 1]"),
        ({"alpha_low": 0.0}, "yuma.alpha_low must be a number in (0, 1]"),
        ({"alpha_high": 1.2}, "yuma.alpha_high must be a number in (0, 1]"),
        ({"alpha_low": 0.9, "alpha_high": 0.7}, "alpha_low must be <= alpha_high"),
        ({"alpha_steepness": -1.0}, "yuma.alpha_steepness must be a number in [0, inf]"),
        ({"max_validators": 0}, "yuma.max_validators must be an integer in [1, inf]"),
        ({"max_validators": 2.5}, "yuma.max_validators must be an integer in [1, inf]"),
        ({"stake_threshold": -1.0}, "yuma.stake_threshold must be a number in [0, inf]"),
        ({"liquid_alpha": "yes"}, "yuma.liquid_alpha must be true or false"),
        ({"version": "yuma2", "liquid_alpha": True}, "liquid_alpha must be false"),
    ],
)
def test_params_validation_names_the_parameter(kwargs, message):
    with pytest.raises(ValueError) as info:
        YumaParams(**kwargs)
    assert message in str(info.value)


def test_params_defaults_are_the_chains():
    p = YumaParams()
    assert (p.version, p.kappa, p.bonds_penalty, p.bonds_ema_rate) == ("yuma3", KAPPA, 1.0, 0.1)
    assert (p.liquid_alpha, p.alpha_low, p.alpha_high, p.alpha_steepness) == (False, 0.7, 0.9, 10)
    assert (p.max_validators, p.stake_threshold) == (64, 0.0)
    with pytest.raises(AttributeError):
        p.kappa = 0.3  # frozen


# ---------------------------------------------------------------------------------------------
# Hypothesis: random subnets
# ---------------------------------------------------------------------------------------------

# Zero, or well inside the normal range so that scaling by 1e-3 .. 1e3 stays exact enough;
# test_every_output_is_finite covers subnormal and huge values.
values = st.one_of(st.just(0.0), st.floats(1e-9, 1e3), st.sampled_from([1.0, 0.5, 2.0]))
params_strategy = st.builds(
    YumaParams,
    version=st.sampled_from(["yuma2", "yuma3"]),
    kappa=st.one_of(st.just(KAPPA), st.floats(0.0, 1.0)),
    bonds_penalty=st.one_of(st.just(1.0), st.floats(0.0, 1.0)),
    bonds_ema_rate=st.one_of(st.just(0.1), st.floats(0.0, 1.0)),
    max_validators=st.integers(1, 8),
)


@st.composite
def subnets(draw, max_n: int = 7, elements=values, with_params: bool = True):
    """A random subnet: inputs for ``epoch`` as a dict, plus params."""
    n = draw(st.integers(1, max_n))
    params = draw(params_strategy) if with_params else YumaParams()
    if params.version == "yuma3" and draw(st.booleans()):
        params = YumaParams(liquid_alpha=True, kappa=params.kappa,
                            bonds_penalty=params.bonds_penalty,
                            max_validators=params.max_validators)
    mask = hnp.arrays(bool, n)
    blocks = hnp.arrays(np.int64, n, elements=st.integers(0, 5))
    bond_values = st.one_of(st.just(0.0), st.floats(0.0, 1.0))
    args = {
        "weights": draw(hnp.arrays(float, (n, n), elements=elements)),
        "stake": draw(hnp.arrays(float, n, elements=elements)),
        "bonds": draw(hnp.arrays(float, (n, n), elements=bond_values)),
        "permits": draw(st.one_of(st.none(), mask)),
        "active": draw(st.one_of(st.none(), mask)),
        "new_registrations": draw(st.one_of(st.none(), mask)),
    }
    if draw(st.booleans()):
        args["last_update"] = draw(blocks)
        args["block_at_registration"] = draw(blocks)
    return args, params


@PROPS
@given(subnets())
def test_matches_the_literal_reference(case):
    args, params = case
    res = epoch(params=params, **args)
    assert_results_close(res, reference_epoch(p=params, w=args.pop("weights"),
                                              s=args.pop("stake"), b0=args.pop("bonds"),
                                              **args))


@PROPS
@given(subnets())
def test_incentive_and_dividends_are_distributions(case):
    args, params = case
    res = epoch(params=params, **args)
    for name in ("incentive", "dividends"):
        total = getattr(res, name).sum()
        assert total == pytest.approx(1.0, abs=1e-12) or total == 0.0, name
        assert (getattr(res, name) >= 0).all()


@PROPS
@given(subnets())
def test_clipping_never_raises_a_weight(case):
    args, params = case
    res = epoch(params=params, **args)
    # Clipped rows sum to at most the row-normalised weight (1, or 0 for an empty row), and
    # the clipped rank is at most the unclipped one, A @ W.
    assert (res.validator_trust <= 1.0 + 1e-12).all()
    w = np.array(args["weights"], dtype=float)
    permits = res.stake > 0 if args["permits"] is None else args["permits"]
    w[~np.asarray(permits, bool)] = 0.0
    np.fill_diagonal(w, 0.0)
    if "last_update" in args:
        w[args["last_update"][:, None] <= args["block_at_registration"][None, :]] = 0.0
    rows = w.sum(axis=1, keepdims=True)
    w = np.divide(w, rows, out=np.zeros_like(w), where=rows > 0)
    assert (res.rank <= res.active_stake @ w + 1e-12).all()
    assert (res.consensus <= w.max(axis=0, initial=0.0) + 1e-12).all()


@PROPS
@given(subnets(), st.floats(1e-3, 1e3))
def test_invariant_to_scaling_the_stake(case, factor):
    args, params = case
    res = epoch(params=params, **args)
    scaled = epoch(params=params, **{**args, "stake": args["stake"] * factor})
    assert_results_close(scaled, res, rtol=1e-9, atol=1e-12)


@PROPS
@given(subnets(), st.randoms(use_true_random=False))
def test_equivariant_to_permuting_uids(case, rnd):
    args, params = case
    n = len(args["stake"])
    # Keep permits out of tie-breaking: every UID with stake gets one.
    params = YumaParams(**{**{f.name: getattr(params, f.name) for f in fields(params)},
                           "max_validators": 64})
    perm = np.array(rnd.sample(range(n), n))
    permuted = {k: None if v is None else (v[perm][:, perm] if v.ndim == 2 else v[perm])
                for k, v in args.items()}
    res, res_p = epoch(params=params, **args), epoch(params=params, **permuted)
    for name in OUTPUTS:
        got, want = getattr(res_p, name), getattr(res, name)
        want = want[perm][:, perm] if want.ndim == 2 else want[perm]
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_array_equal(res_p.new_permits, res.new_permits[perm])


extreme = st.one_of(
    st.just(0.0),
    st.floats(0.0, 1e300, allow_subnormal=True),
    st.sampled_from([5e-324, 1e-310, 1e300, 1.0]),
)


@PROPS
@given(subnets(elements=extreme))
def test_every_output_is_finite(case):
    args, params = case
    res = epoch(params=params, **args)
    for f in fields(res):
        assert np.isfinite(getattr(res, f.name)).all(), f.name


@PROPS
@given(subnets())
def test_emission_shares_sum_to_one_when_stake_exists(case):
    args, params = case
    res = epoch(params=params, **args)
    total = res.miner_emission_share.sum() + res.validator_emission_share.sum()
    if res.stake.sum() > 0:
        assert total == pytest.approx(1.0, abs=1e-12)
    else:
        assert total == 0.0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 6), st.integers(1, 5), params_strategy, st.integers(0, 2**32 - 1))
def test_batched_equals_looped(n, b, params, seed):
    rng = np.random.default_rng(seed)

    def sparse(shape):
        return rng.random(shape) * (rng.random(shape) < 0.7)

    args = {
        "weights": sparse((b, n, n)) * 10,
        "stake": sparse((b, n)),
        "bonds": sparse((b, n, n)),
        "permits": rng.random((b, n)) < 0.7,
        "active": rng.random((b, n)) < 0.9,
        "new_registrations": rng.random((b, n)) < 0.2,
        "last_update": rng.integers(0, 5, (b, n)),
        "block_at_registration": rng.integers(0, 5, (b, n)),
    }
    batched = epoch_batch(params=params, **args)
    assert batched.consensus.shape == (b, n) and batched.bonds.shape == (b, n, n)
    for k in range(b):
        looped = epoch(params=params, **{name: v[k] for name, v in args.items()})
        assert_results_close(batched[k], looped, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("version", ["yuma2", "yuma3"])
def test_batched_larger_than_one_block_equals_looped(version):
    # epoch_batch works through the batch in blocks of subnets: cross block boundaries.
    rng = np.random.default_rng(11)
    b, n = 2 * yuma._CHUNK + 3, 9
    args = {
        "weights": rng.random((b, n, n)) * (rng.random((b, n, n)) < 0.6),
        "stake": rng.random((b, n)) * (rng.random((b, n)) < 0.6),
        "bonds": rng.random((b, n, n)),
        "permits": rng.random((b, n)) < 0.5,
        "new_registrations": rng.random((b, n)) < 0.2,
        "last_update": rng.integers(0, 5, (b, n)),
        "block_at_registration": rng.integers(0, 5, (b, n)),
    }
    params = YumaParams(version=version, max_validators=3)
    batched = epoch_batch(params=params, **args)
    for k in range(b):
        looped = epoch(params=params, **{name: v[k] for name, v in args.items()})
        assert_results_close(batched[k], looped, rtol=1e-12, atol=1e-12)


def test_batched_with_liquid_alpha_mixes_subnets_with_and_without_consensus():
    rng = np.random.default_rng(0)
    n = 5
    w = rng.random((2, n, n))
    w[1] = 0.0  # no consensus anywhere: the fixed-rate EMA applies to this subnet only
    args = {"weights": w, "stake": rng.random((2, n)), "bonds": rng.random((2, n, n))}
    params = YumaParams(liquid_alpha=True)
    batched = epoch_batch(params=params, **args)
    for k in range(2):
        looped = epoch(params=params, **{name: v[k] for name, v in args.items()})
        assert_results_close(batched[k], looped, rtol=1e-12, atol=1e-12)


def test_batched_pads_subnets_with_fewer_validators():
    rng = np.random.default_rng(1)
    n, b = 8, 3
    stake = np.zeros((b, n))
    stake[0, :2], stake[1, :7], stake[2, 3] = 1.0, rng.random(7), 2.0
    args = {"weights": rng.random((b, n, n)), "stake": stake, "bonds": rng.random((b, n, n))}
    for version in ("yuma2", "yuma3"):
        params = YumaParams(version=version, max_validators=4)
        batched = epoch_batch(params=params, **args)
        for k in range(b):
            looped = epoch(params=params, **{name: v[k] for name, v in args.items()})
            assert_results_close(batched[k], looped, rtol=1e-12, atol=1e-12)
            ref = reference_epoch(args["weights"][k], stake[k], args["bonds"][k], params)
            assert_results_close(looped, ref)


def test_full_subnet_matches_the_reference():
    # The benchmark's shape: 256 UIDs, 64 staked validators weighting the 192 others, several
    # epochs feeding bonds and permits forward, with stale bond rows outside the validators.
    rng = np.random.default_rng(7)
    n, v = 256, 64
    stake = np.zeros(n)
    stake[:v] = rng.lognormal(0, 1, v)
    bonds, permits = rng.random((n, n)) * 0.1, None
    for version in ("yuma3", "yuma2"):
        params = YumaParams(version=version)
        for _ in range(3):
            w = np.zeros((n, n))
            w[:v, v:] = rng.random((v, n - v)) ** 4
            res = epoch(w, stake, bonds, params, permits=permits)
            assert_results_close(res, reference_epoch(w, stake, bonds, params, permits=permits))
            bonds, permits = res.bonds, res.new_permits
