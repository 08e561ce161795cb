"""Retention maps (``tao-arena guarantees``, MODEL.md section 10).

The thresholds must move the way subtensor's docs/consensus.md reports: more weight
subjectivity, a smaller bonds penalty or a smaller validators' share needs more honest
utility, and with kappa 0.6 no utility protects a 0.55 honest stake. Grids are coarse
(0.04 steps) to keep the tests fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from experiments.cli import main
from experiments.guarantees import (
    GuaranteeParams,
    honest_emission,
    required_utility,
    retention_maps,
    sample_network,
    split_count,
)
from world.yuma import epoch

GRID = 26  # 0, 0.04, ..., 1


def need(major_stake: float = 0.6, **kw: object) -> float | None:
    params = GuaranteeParams(grid=GRID, major_stake=(major_stake,), **kw)  # type: ignore[arg-type]
    return retention_maps(params)["required_honest_utility"][0]


def test_more_subjectivity_needs_more_honest_utility() -> None:
    low, mid, high = need(sigma=0.0), need(sigma=0.2), need(sigma=0.4)
    assert low is not None and mid is not None and high is not None
    assert low < mid < high
    # docs/consensus.md: 60%, 67%, 73% for a 0.6 honest stake (ours within a grid step or two)
    assert abs(low - 0.60) <= 0.05 and abs(mid - 0.67) <= 0.05 and abs(high - 0.73) <= 0.05


def test_smaller_bonds_penalty_needs_more_honest_utility() -> None:
    none, half, full = need(bonds_penalty=0.0), need(bonds_penalty=0.5), need(bonds_penalty=1.0)
    assert none is not None and half is not None and full is not None
    assert none >= half >= full and none > full


def test_smaller_validator_share_needs_more_honest_utility() -> None:
    zero, quarter, half = (need(validator_share=x) for x in (0.0, 0.25, 0.5))
    assert zero is not None and quarter is not None and half is not None
    assert zero >= quarter >= half and zero > half


def test_kappa_above_the_honest_stake_protects_nothing() -> None:
    assert need(0.55) is not None
    assert need(0.55, kappa=0.6) is None


def test_retention_needs_honest_stake_at_the_smallest_utility() -> None:
    # with no honest utility at all the honest side cannot keep a majority of emission
    params = GuaranteeParams(grid=GRID, major_stake=(0.6,))
    emission = honest_emission(params, 0.6)
    assert emission.shape == (GRID, GRID)
    assert np.all(emission[0] < 0.6)


def test_required_utility_on_a_hand_built_map() -> None:
    """Rows: honest utility 0, 0.5, 1; columns: cabal self-weight. The smallest utility
    whose whole row keeps at least the honest stake (0.6) is 1: row 0.5 dips to 0.59."""
    axis = np.array([0.0, 0.5, 1.0])
    emission = np.array([[0.40, 0.30, 0.20],
                         [0.70, 0.65, 0.59],
                         [0.90, 0.80, 0.60]])
    assert required_utility(emission, axis, 0.6) == 1.0
    assert required_utility(emission, axis, 0.55) == 0.5
    assert required_utility(emission, axis, 0.61) is None


def test_split_counts_follow_non_extreme_fixed_ratio() -> None:
    assert split_count(0.51, 64) == 32
    assert split_count(0.75, 64) == 48
    assert split_count(0.99, 64) == 63
    assert split_count(0.999, 64) == 63  # never all of them
    assert split_count(0.51, 448) == 228


@pytest.mark.parametrize("kw", [dict(), dict(version="yuma3", liquid_alpha=True, epochs=3)])
def test_batched_map_equals_single_epochs(kw: dict[str, object]) -> None:
    """A grid point of the batched map equals a direct loop of ``world.yuma.epoch``."""
    params = GuaranteeParams(grid=5, major_stake=(0.7,), n_uids=96, n_validators=16,
                             **kw)  # type: ignore[arg-type]
    emission = honest_emission(params, 0.7)
    net = sample_network(params, 0.7)
    n, v = params.n_uids, params.n_validators
    honest = np.concatenate([net.honest_validators, net.honest_servers])
    xi = params.validator_share
    for h, c in [(0, 0), (2, 3), (4, 1), (3, 4)]:
        wh, wc = params.axis()[h], params.axis()[c]
        w = np.zeros((n, n))
        for i in range(v):
            mine, theirs = (wh, 1 - wh) if net.honest_validators[i] else (1 - wc, wc)
            w[i, v:] = mine * net.to_honest[i] + theirs * net.to_cabal[i]
        bonds, permits, total = np.zeros((n, n)), None, 0.0
        for _ in range(params.epochs):
            res = epoch(w, net.stake, bonds, params.yuma(), permits=permits)
            bonds, permits = res.bonds, res.new_permits
            total += xi * res.dividends[honest].sum() + (1 - xi) * res.incentive[honest].sum()
        assert emission[h, c] == pytest.approx(total / params.epochs, abs=1e-10)


def test_network_matches_split_graph() -> None:
    params = GuaranteeParams(major_stake=(0.6,))
    net = sample_network(params, 0.6)
    assert net.stake[:64].sum() == pytest.approx(1.0)
    assert net.stake[:64][net.honest_validators].sum() == pytest.approx(0.6)
    assert np.all(net.stake[64:] == 0)
    assert net.honest_validators.sum() == 38 and net.honest_servers.sum() == 268
    np.testing.assert_allclose(net.to_honest.sum(axis=1), 1.0)
    np.testing.assert_allclose(net.to_cabal.sum(axis=1), 1.0)
    assert np.all(net.to_honest[:, ~net.honest_servers] == 0)
    # another seed draws another network; the same seed the same one
    again = sample_network(params, 0.6)
    other = sample_network(GuaranteeParams(major_stake=(0.6,), seed=1), 0.6)
    np.testing.assert_array_equal(net.stake, again.stake)
    assert not np.array_equal(net.stake, other.stake)


def test_command_writes_json_and_figure(tmp_path: Path) -> None:
    out = tmp_path / "g"
    code = main(["guarantees", "--grid", "6", "--major-stake", "0.6,0.8", "--out", str(out),
                 "--version", "yuma3", "--epochs", "2"])
    assert code == 0
    data = json.loads((out / "guarantees.json").read_text())
    assert data["major_stake"] == [0.6, 0.8]
    assert len(data["required_honest_utility"]) == 2
    assert data["params"]["version"] == "yuma3" and data["params"]["epochs"] == 2
    assert np.asarray(data["honest_emission"]).shape == (2, 6, 6)
    for s, w, m in zip(data["major_stake"], data["required_honest_utility"],
                       data["honest_emission"], strict=True):
        ok = np.all(np.asarray(m) >= s, axis=1)
        assert w == (None if not ok.any() else data["honest_utility"][int(np.argmax(ok))])
    png = (out / "retention.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("args", "option"), [
    (["--major-stake", "0.5"], "--major-stake"),
    (["--major-stake", "0.6,1"], "--major-stake"),
    (["--sigma", "-0.1"], "--sigma"),
    (["--kappa", "0"], "--kappa"),
    (["--kappa", "1.2"], "--kappa"),
    (["--bonds-penalty", "1.5"], "--bonds-penalty"),
    (["--validator-share", "-1"], "--validator-share"),
    (["--epochs", "0"], "--epochs"),
    (["--grid", "1"], "--grid"),
    (["--seed", "-3"], "--seed"),
    (["--sigma", "nan"], "--sigma"),
    (["--liquid-alpha"], "--liquid-alpha"),
    (["--version", "yuma4"], "--version"),
    (["--grid", "many"], "--grid"),
    (["--grid", "100000"], "--grid"),
    (["--major-stake", "0.6,,0.7"], "--major-stake"),
    (["--major-stake", "0.6,0.7,0.6"], "--major-stake"),
    (["--major-stake", "0.6,"], "--major-stake"),
])
def test_bad_values_exit_2_naming_the_option(args: list[str], option: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "g"
    try:
        code = main(["guarantees", *args, "--out", str(out)])
    except SystemExit as exc:  # argparse refuses values it cannot parse
        code = exc.code
    assert code == 2
    assert option in capsys.readouterr().err
    assert not out.exists()
