"""Validator strategies: each one's defining behaviour (MODEL.md sections 3, 5 and 6)."""

from __future__ import annotations

import numpy as np
import pytest
from base import accounts, build, run, uids

from agents.validators import CabalValidator, PoisonPillValidator, honest_weights, tilt


def _normalised(row):
    total = row.sum()
    return row / total if total > 0 else row


def _committed(s, epoch, period):
    """Rows committed at ``epoch`` (still in the commit-reveal queue), by UID."""
    out = {}
    for c in s.commits:
        if c.reveal_epoch == epoch + period:
            out.update({int(u): r.copy() for u, r in zip(c.uids, c.rows, strict=True)})
    return out


@pytest.mark.parametrize("period", [1, 3])
def test_copier_sets_the_visible_weights_reveal_period_old(period):
    m = build([("honest_validator", 1, {"stake_tao": 50_000.0}), ("honest_validator", 2),
               ("weight_copier", 2, {"mode": "largest"}), ("honest_miner", 10)],
              reveal_period=period)
    s = m.subnets[0]
    big = uids(m, "honest_validator")[0]
    copiers = uids(m, "weight_copier")
    commits = []
    for t in range(14):
        visible = s.weights.copy()
        largest = np.argmax(np.where(s.is_validator, s.stake_tao, -1))
        m.step()
        commits.append(_committed(s, t, period))
        if t == 0:
            continue  # no stake known before the first consensus
        assert largest == big
        for c in copiers:
            assert commits[t][c] == pytest.approx(_normalised(visible[big]))
        # what is visible now is what the largest committed reveal_period + 1 epochs ago
        # (revealed after this epoch's weights were set, period epochs after its commit)
        if t > period:
            assert visible[big] == pytest.approx(commits[t - period - 1][big])
            assert visible[big].sum() > 0
    # stale: the copy differs from what the largest validator sets now
    assert not np.allclose(commits[-1][copiers[0]], commits[-1][big])


def test_copier_in_consensus_mode_sets_last_epochs_consensus_on_miners():
    m = build([("honest_validator", 3), ("weight_copier", 2), ("honest_miner", 10)])
    s = m.subnets[0]
    copiers = uids(m, "weight_copier")
    for t in range(8):
        expected = _normalised(s.last.consensus * s.is_miner)
        m.step()
        rows = _committed(s, t, 1)
        for c in copiers:
            assert rows[c] == pytest.approx(expected)
    assert expected.sum() > 0
    # it grades nothing and pays only its node
    hours = m.params.epoch_hours
    assert m.columns.get("epoch_cost_usd", accounts(m, "weight_copier")) == pytest.approx(
        [0.5 * hours] * 2)


def test_cabal_validator_tilts_its_honest_weights_towards_its_miners():
    m = run(build([
        ("cabal_validator", 3, {"boost": 0.4}), ("honest_validator", 1),
        ("honest_miner", 4, {"quality": 0.5, "cabal_tag": 0}),
        ("honest_miner", 8, {"quality": 0.9}),
    ]), 30)
    s = m.subnets[0]
    g = m.groups(0)[CabalValidator]
    ctx = m.subnet_context(s)
    ours = m.uids_of(m.cabal_members(0), 0)
    ours = ours[s.is_miner[ours]]
    assert len(ours) == 4
    uniform = np.zeros(s.n)
    uniform[ours] = 0.25
    expected = 0.6 * honest_weights(g, ctx) + 0.4 * uniform[None, :]
    assert CabalValidator.set_weights(g, ctx) == pytest.approx(expected)
    # the favoured, worse miners out-earn the better ones
    inc = s.last.incentive
    good = uids(m, "honest_miner")[~np.isin(uids(m, "honest_miner"), ours)]
    assert inc[ours].mean() > inc[good].mean()
    assert m.cabals[0]["leader"] in accounts(m, "cabal_validator")


def test_tilt_moves_a_share_of_each_members_weight_only_where_it_has_favoured_miners():
    honest = np.array([[0.5, 0.5, 0.0], [0.2, 0.8, 0.0], [1.0, 0.0, 0.0]])
    favoured = np.array([[0.0, 0.0, 1.0]] * 3)
    share = np.array([0.5, 0.25, 1.0])
    for has in ([True, True, True], [False, True, False], [False, False, False]):
        has = np.array(has)
        expected = np.where(has[:, None], (1 - share[:, None]) * honest
                            + share[:, None] * favoured, honest)
        assert np.array_equal(tilt(honest.copy(), favoured, has, share), expected)
    partial = np.array([True, False, True])
    expected = [[0.25, 0.25, 0.5], [0.2, 0.8, 0.0], [0.5, 0.0, 0.5]]
    assert np.array_equal(tilt(honest.copy(), favoured, partial, 0.5), expected)
    # one favoured row for every member, and weights that are not float64 (tilted as
    # float64, the caller's array left as it was)
    single = honest.astype(np.float32)
    wide = single.astype(np.float64)
    got = tilt(single, favoured[:1], partial, 0.5)
    assert got.dtype == np.float64 and np.array_equal(single, honest.astype(np.float32))
    assert np.array_equal(got, np.where(partial[:, None], 0.5 * wide + 0.5 * favoured, wide))


def _pill_network(**pill):
    return build([
        ("honest_validator", 3), ("poison_pill", 1, pill),
        ("honest_miner", 10, {"quality": 0.8}), ("lazy_miner", 3, {"cabal_tag": 0}),
        ("loyal_delegator", 4, {"stake_tao": 2_000.0}),
    ])


def test_poison_pill_turns_exactly_at_its_trigger_epoch():
    m = _pill_network(trigger_epoch=12)
    s = m.subnets[0]
    pill = uids(m, "poison_pill")[0]
    own = uids(m, "lazy_miner")
    rows = []
    for t in range(20):
        m.step()
        rows.append(_committed(s, t, 1)[pill])
    turned = m.columns.get("PoisonPillValidator.turned_epoch", accounts(m, "poison_pill"))
    assert turned[0] == 12
    for t in range(1, 12):
        assert rows[t][own].sum() < 0.1  # honest: lazy answers score ~0
    uniform = np.zeros(s.n)
    uniform[own] = 1 / 3
    for t in range(12, 20):
        assert rows[t] == pytest.approx(uniform)


def test_poison_pill_turns_when_the_stake_behind_it_reaches_its_trigger():
    m = _pill_network(trigger="stake", trigger_stake_tao=1e9)
    s = m.subnets[0]
    pill = uids(m, "poison_pill")[0]
    acct = accounts(m, "poison_pill")
    m.step()
    # own stake plus delegations, then dividends staked each epoch: about 35 TAO an epoch
    trigger = s.stake_tao[pill] + 150.0
    m.columns.set("trigger_stake_tao", acct, trigger)
    crossed = None
    for t in range(1, 40):
        if crossed is None and s.stake_tao[pill] >= trigger:
            crossed = t  # the stake it sees this epoch (as of the last consensus)
        m.step()
    turned = m.columns.get("PoisonPillValidator.turned_epoch", acct)[0]
    assert crossed is not None and crossed > 2
    assert turned == crossed


def test_poison_pill_param_choices():
    assert PoisonPillValidator.resolve_params({"trigger": "stake"})["trigger"] == 1.0
    with pytest.raises(ValueError, match="poison_pill.trigger"):
        PoisonPillValidator.resolve_params({"trigger": "moon"})


def _attack(outside):
    m = build([
        ("honest_validator", 4),  # 4 x 10,000 TAO of honest stake
        ("honest_miner", 20, {"quality": 0.8}),
        ("stake_attacker", 1, {"outside_stake_tao": outside, "entry_epoch": 2,
                               "n_miners": 3}),
    ])
    market = int(m.ledger.liquid[m.market])
    run(m, 25)
    return m, market


def test_stake_attacker_with_more_stake_than_the_honest_captures_the_miner_emission():
    m, market_before = _attack(60_000.0)
    s = m.subnets[0]
    attacker = accounts(m, "stake_attacker")[0]
    cabal = [c for c in m.cabals.values() if c["name"] == f"attack:{attacker}"]
    assert len(cabal) == 1 and cabal[0]["leader"] == attacker
    own = m.uids_of(cabal[0]["members"], 0)
    own = own[s.is_miner[own]]
    assert len(own) == 3 and all(m.agent_of[int(s.occupant[u])].name == "lazy_miner"
                                 for u in own)
    assert s.last.incentive[own].sum() > 0.9  # most of the subnet's miner emission
    assert m.columns.get("StakeAttacker.capital_tao", [attacker])[0] == 60_000.0
    assert m.columns.get("StakeAttacker.entered_epoch", [attacker])[0] == 2
    assert m.ledger.staked[attacker] >= 60_000 * 10**9
    assert market_before - int(m.ledger.liquid[m.market]) >= 60_000 * 10**9


def test_stake_attacker_with_less_stake_than_the_honest_captures_little():
    m, _ = _attack(10_000.0)
    s = m.subnets[0]
    own = uids(m, "lazy_miner")
    assert len(own) == 3
    assert s.last.incentive[own].sum() < 0.1
