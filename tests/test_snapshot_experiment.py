"""Experiments that start a subnet from a real metagraph (issue 19): the model starts with
the snapshot's UIDs, stakes (to the RAO), weights, bonds and permits, so its first epoch
is the kernel's on the snapshot; the population's ``uids`` selectors assign strategies to
the snapshot's UIDs; delegators' stake is derived from the hotkey stake; bad files are
refused at their key."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from experiments.cli import main
from experiments.loader import ConfigError
from experiments.plan import load_plan
from experiments.schema import Experiment
from experiments.wiring import build_model
from world.ledger import to_rao
from world.yuma import YumaParams, epoch

ROOT = Path(__file__).resolve().parents[1]
SN15 = ROOT / "experiments" / "data" / "sn15_block4769998.npz"

BASE = f"""\
name: snap
epochs: 4
seeds: {{master: 1, count: 1}}
scenario:
  economy: {{initial_issuance_tao: 8300000}}
  subnets:
    - metagraph: {SN15}
population:
  - {{strategy: weight_copier, subnet: 0, uids: [21]}}
  - {{strategy: honest_validator, subnet: 0, uids: setting_weights}}
  - {{strategy: honest_miner, subnet: 0, uids: rest}}
"""


def model_of(text: str, tmp_path: Path, seed: int = 7):  # type: ignore[no-untyped-def]
    f = tmp_path / "exp.yaml"
    f.write_text(text)
    plan = load_plan(f)
    return plan, build_model(Experiment.model_validate(plan.cells[0].config), seed)


def test_sn15_model_starts_as_the_snapshot_and_its_first_epoch_is_the_kernels(
    tmp_path: Path,
) -> None:
    plan, model = model_of(BASE, tmp_path)
    raw = np.load(SN15, allow_pickle=False)
    w, stake = raw["weights"], raw["stake_tao"]
    s = model.subnets[0]
    # UIDs, strategies and stakes as the file says
    names = [model.agent_of[int(a)].name for a in s.occupant]
    setters = np.flatnonzero(w.sum(axis=1) > 0)
    assert names[21] == "weight_copier"
    assert {names[u] for u in setters if u != 21} == {"honest_validator"}
    assert names.count("honest_validator") == 19 and names.count("honest_miner") == 236
    rao = np.array([int(to_rao(x)) for x in stake])
    np.testing.assert_array_equal(model.ledger.hotkey_stake()[s.occupant], rao)
    pop = {c["strategy"]: c["count"] for c in plan.cells[0].config["population"]}
    assert pop == {"weight_copier": 1, "honest_validator": 19, "honest_miner": 236}

    model.step()  # the first epoch: Yuma on the snapshot's weights (commit-reveal delays
    # the agents' own weights by one epoch) with the snapshot's stakes
    params = YumaParams()
    permits = epoch(w, stake, np.zeros_like(w), params).new_permits  # top 64 by stake
    want = epoch(w, stake, np.zeros_like(w), params, permits=permits)
    np.testing.assert_allclose(s.last.incentive, want.incentive, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(s.last.dividends, want.dividends, rtol=1e-9, atol=1e-15)
    assert s.last.incentive.sum() == pytest.approx(1.0)
    model.step()  # and on: the agents' revealed weights take over, the ledger stays exact
    assert not np.allclose(s.weights, w)


def test_a_snapshot_with_bonds_permits_and_last_update_starts_with_them(
    tmp_path: Path,
) -> None:
    n = 6
    weights = np.zeros((n, n))
    weights[0, 2:] = [0.4, 0.3, 0.2, 0.1]
    weights[1, 2:] = [0.1, 0.2, 0.3, 0.4]
    bonds = np.zeros((n, n))
    bonds[0, 2:] = [0.5, 0.1, 0.1, 0.1]
    bonds[1, 2:] = [0.2, 0.2, 0.2, 0.2]
    bonds[3, 2] = 0.9  # a row of a UID without a permit: the chain holds none (cleared)
    snap = {"stake_tao": [600.0, 400.0, 0, 5.0, 0, 0], "weights": weights.tolist(),
            "bonds": bonds.tolist(), "validator_permit": [True, True, False, False, False,
                                                          False],
            "last_update": [990, 995, 900, 100, 900, 900], "block": 1000}
    (tmp_path / "snap.json").write_text(json.dumps(snap))
    text = """\
name: small
epochs: 2
scenario:
  subnets:
    - metagraph: snap.json
      activity_cutoff: 500
      yuma: {version: yuma2, max_validators: 2}
population:
  - {strategy: honest_validator, subnet: 0, uids: [0, 1], params: {stake_tao: 1}}
  - {strategy: honest_miner, subnet: 0, uids: rest}
"""
    _, model = model_of(text, tmp_path)
    s = model.subnets[0]
    assert s.active(model.block).tolist() == [True, True, True, False, True, True]
    model.step()
    params = YumaParams(version="yuma2", max_validators=2)
    kept = bonds * np.array(snap["validator_permit"])[:, None]
    want = epoch(weights, snap["stake_tao"], kept, params,
                 permits=snap["validator_permit"], active=[1, 1, 1, 0, 1, 1])
    np.testing.assert_allclose(s.last.incentive, want.incentive, rtol=1e-9)
    np.testing.assert_allclose(s.last.dividends, want.dividends, rtol=1e-9)
    fresh = epoch(weights, snap["stake_tao"], np.zeros((n, n)), params,
                  permits=snap["validator_permit"], active=[1, 1, 1, 0, 1, 1])
    assert not np.allclose(want.dividends, fresh.dividends)  # the stored bonds mattered


def test_delegators_stake_is_derived_from_the_hotkey_stake(tmp_path: Path) -> None:
    text = BASE.replace(f"    - metagraph: {SN15}\n",
                        f"    - metagraph: {SN15}\n      metagraph_delegated_share: 0.25\n")
    text += "  - {strategy: loyal_delegator, count: 30}\n"
    _, model = model_of(text, tmp_path)
    s = model.subnets[0]
    raw = np.load(SN15, allow_pickle=False)
    rao = np.array([int(to_rao(x)) for x in raw["stake_tao"]])
    np.testing.assert_array_equal(model.ledger.hotkey_stake()[s.occupant], rao)
    deleg = model.delegator_groups()
    accts = np.concatenate([g.accts for g in deleg.values()])
    ledger = model.ledger
    targets = ledger.staked_to[accts]
    uids = model.uids_of(targets, 0)
    assert (uids >= 0).all() and s.is_validator[uids].all()
    for uid in np.unique(uids):
        held = ledger.staked[accts[uids == uid]].sum()
        assert abs(held - 0.25 * rao[uid]) <= len(accts)  # 1/4 of the hotkey, to the RAO
        assert ledger.staked[s.occupant[uid]] == rao[uid] - held
    model.step()  # the ledger check of the epoch passes


BAD = {
    "a cohort without uids": (
        BASE.replace("uids: rest}", "count: 236}"), "population[2].uids"),
    "UIDs nobody plays": (BASE.replace("uids: rest", "uids: [5, 6]"), "played by no cohort"),
    "a UID played twice": (BASE.replace("uids: [21]", "uids: [21, 21]"), "already played"),
    "a UID out of range": (BASE.replace("uids: [21]", "uids: [256]"), "in [0, 255]"),
    "an unknown selector": (BASE.replace("uids: rest", "uids: others"),
                            "population[2].uids"),
    "n_uids against the snapshot": (
        BASE.replace(f"metagraph: {SN15}", f"metagraph: {SN15}\n      n_uids: 128"),
        "n_uids"),
    "uids without a metagraph": (
        BASE.replace(f"    - metagraph: {SN15}\n", "    - {n_uids: 256}\n"), "uids"),
    "delegators without a delegated share": (
        BASE + "  - {strategy: loyal_delegator, count: 3}\n", "metagraph_delegated_share"),
    "a count that does not match": (BASE.replace("uids: [21]", "uids: [21], count: 2"),
                                    "population[0].count"),
    "the data written by hand": (
        BASE.replace(f"metagraph: {SN15}", f"metagraph: {SN15}\n      metagraph_data: {{}}"),
        "metagraph_data"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_snapshot_experiments_are_refused_at_their_key(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, where = BAD[case]
    f = tmp_path / "exp.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=where.replace("[", r"\[").replace("]", r"\]")):
        load_plan(f)
    assert main(["validate", str(f)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_malformed_snapshot_file_is_refused_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    np.savez(tmp_path / "bad.npz", stake_tao=np.array([1.0, -1.0]), weights=np.zeros((2, 2)))
    f = tmp_path / "exp.yaml"
    f.write_text(BASE.replace(str(SN15), "bad.npz"))
    assert main(["run", str(f), "--results", str(tmp_path / "res")]) == 2
    err = capsys.readouterr().err
    assert "scenario.subnets[0].metagraph" in err and "'stake_tao' must be >= 0" in err
    assert not (tmp_path / "res").exists()


def test_the_shipped_sn15_experiment_runs(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    cfg = (ROOT / "experiments" / "configs" / "sn15_snapshot.yaml").read_text()
    f = ROOT / "experiments" / "configs" / "sn15_snapshot.yaml"
    plan = load_plan(f)
    assert len(plan.cells) == 2 and "metagraph: ../data/sn15_block4769998.npz" in cfg
    data = plan.config["scenario"]["subnets"][0]["metagraph_data"]
    assert data["n"] == 256 and data["netuid"] == 15 and len(data["weights"]["rows"]) > 0
    assert plan.inputs["../data/sn15_block4769998.npz"] == data["sha256"]
    short = tmp_path / "sn15.yaml"
    short.write_text(cfg.replace("../data/", f"{SN15.parent}/").replace("epochs: 60",
                     "epochs: 3").replace("warmup_epochs: 10", "warmup_epochs: 1")
                     .replace("count: 3}", "count: 1}"))
    assert main(["run", str(short), "--results", str(tmp_path / "res"), "--no-progress"]) == 0
    assert "2 ran, 0 failed" in capsys.readouterr().out
