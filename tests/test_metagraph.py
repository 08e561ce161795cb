"""Real metagraph snapshots (issue 19): the SN15 snapshot loads, a JSON snapshot is the
same snapshot, missing fields start as MODEL.md says, every malformed snapshot is refused
naming its field (exit 2 at the CLI, never a traceback, never unpickled), and
``tao-arena replay`` gives exactly what the kernel gives on the snapshot's arrays."""

from __future__ import annotations

import csv
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from experiments.cli import main
from world.metagraph import (
    Metagraph,
    from_arrays,
    load_metagraph,
    permits_from_stake,
    to_json,
)
from world.yuma import YumaParams, epoch

SN15 = Path(__file__).resolve().parents[1] / "experiments" / "data" / "sn15_block4769998.npz"


def small() -> dict[str, Any]:
    """A three-UID snapshot: two validators weighting miner 2 (and each other a little)."""
    return {"stake_tao": np.array([60.0, 40.0, 0.0]),
            "weights": np.array([[0.0, 0.2, 0.8], [0.1, 0.0, 0.9], [0.0, 0.0, 0.0]])}


def test_sn15_snapshot_loads_with_missing_fields_filled_as_model_md_says() -> None:
    mg = load_metagraph(SN15)
    raw = np.load(SN15, allow_pickle=False)
    assert (mg.netuid, mg.block, mg.n) == (15, 4769998, 256)
    np.testing.assert_array_equal(mg.stake_tao, raw["stake_tao"])
    np.testing.assert_array_equal(mg.weights, raw["weights"])
    assert mg.hotkeys is not None and mg.hotkeys[0] == str(raw["hotkeys"][0])
    assert int(mg.setting_weights.sum()) == 20
    assert set(mg.filled) == {"bonds", "validator_permit", "last_update"}
    assert not mg.bonds.any() and mg.active.all()
    # permits from the stake: the kernel's own new permits for this stake (step 2)
    kernel = epoch(mg.weights, mg.stake_tao, np.zeros((256, 256)), YumaParams())
    np.testing.assert_array_equal(mg.validator_permit, kernel.new_permits)
    assert int(mg.validator_permit.sum()) == 64


def test_permits_from_stake_take_the_top_k_and_ties_favour_the_higher_uid() -> None:
    stake = np.array([5.0, 1.0, 1.0, 0.0, 3.0, 1.0])
    assert permits_from_stake(stake, 3).tolist() == [True, False, False, False, True, True]
    assert permits_from_stake(stake, 10).tolist() == [True, True, True, False, True, True]


def test_json_form_is_the_same_snapshot(tmp_path: Path) -> None:
    mg = load_metagraph(SN15)
    path = tmp_path / "sn15.json"
    path.write_text(json.dumps(to_json(mg)))
    again = load_metagraph(path)
    for field in ("stake_tao", "weights", "bonds", "validator_permit", "active"):
        np.testing.assert_array_equal(getattr(again, field), getattr(mg, field))
    assert again.hotkeys == mg.hotkeys and again.filled == ("last_update",)


def test_last_update_and_block_make_stale_uids_inactive() -> None:
    data = small() | {"last_update": np.array([100, 9000, 9500]), "block": 10_000}
    mg = from_arrays(data, activity_cutoff=5000)
    assert mg.active.tolist() == [False, True, True]  # 100 + 5000 < 10000
    given = from_arrays(small() | {"validator_permit": np.array([1, 0, 0])})
    assert given.validator_permit.tolist() == [True, False, False]


BAD: dict[str, tuple[dict[str, Any], str]] = {
    "weights rows do not match the UIDs": (
        small() | {"weights": np.zeros((2, 3))}, "'weights' must have shape (3, 3)"),
    "weights not square": (small() | {"weights": np.zeros((3, 4))}, "'weights'"),
    "negative stake": (small() | {"stake_tao": np.array([1.0, -2.0, 0.0])},
                       "'stake_tao' must be >= 0"),
    "NaN weight": (small() | {"weights": np.array([[0, np.nan, 1], [0, 0, 1], [0, 0, 0]])},
                   "'weights' holds NaN"),
    "infinite stake": (small() | {"stake_tao": np.array([np.inf, 1.0, 0.0])}, "'stake_tao'"),
    "bonds of the wrong shape": (small() | {"bonds": np.zeros((3,))}, "'bonds'"),
    "hotkeys of the wrong length": (small() | {"hotkeys": np.array(["a", "b"])}, "'hotkeys'"),
    "permits not booleans": (small() | {"validator_permit": np.array([0.5, 1.0, 0.0])},
                             "'validator_permit'"),
    "negative last_update": (small() | {"last_update": np.array([-1, 0, 0])},
                             "'last_update'"),
    "missing weights": ({"stake_tao": np.ones(3)}, "'weights' is missing"),
    "unknown key": (small() | {"incentives": np.ones(3)}, "'incentives' is not a metagraph"),
    "no UIDs": ({"stake_tao": np.zeros(0), "weights": np.zeros((0, 0))}, "'stake_tao'"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_malformed_snapshots_are_refused_naming_the_field(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, message = BAD[case]
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_arrays(data)
    path = tmp_path / "bad.npz"
    np.savez(path, **data)
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_pickles_and_other_files_are_refused_and_never_unpickled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "executed"

    class Boom:
        def __reduce__(self) -> tuple[Any, ...]:
            return (marker.write_text, ("unpickled!",))

    cases = {
        "snapshot.pkl": pickle.dumps({"stake_tao": [1.0], "weights": [[0.0]], "x": Boom()}),
        "text.npz": b"stake_tao,weights\n1,2\n",
        "list.json": b"[1, 2, 3]",
        "strings.json": json.dumps({"stake_tao": ["1"], "weights": [[0]]}).encode(),
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    np.save(tmp_path / "one.npy", np.ones(3))
    np.savez(tmp_path / "objects.npz", stake_tao=np.ones(1),
             weights=np.array([[Boom()]], dtype=object))
    expected = {"snapshot.pkl": "pickle", "text.npz": "not a metagraph",
                "list.json": "must be an object", "strings.json": "'stake_tao'",
                "one.npy": "not a metagraph", "objects.npz": "'weights' holds Python objects",
                "missing.npz": "cannot read"}
    for name, message in expected.items():
        with pytest.raises(ValueError, match=message):
            load_metagraph(tmp_path / name)
        assert main(["replay", str(tmp_path / name)]) == 2
        assert message in capsys.readouterr().err
    assert not marker.exists()


def test_replay_equals_the_kernel_on_the_snapshot(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    raw = np.load(SN15, allow_pickle=False)
    w, s = raw["weights"], raw["stake_tao"]
    out = tmp_path / "replay.json"
    assert main(["replay", str(SN15), "--json", str(out), "--emission", "295.2"]) == 0
    got = json.loads(out.read_text())
    # the kernel called directly: empty bonds, permits = top 64 by stake, all active
    params = YumaParams()
    permits = epoch(w, s, np.zeros_like(w), params).new_permits
    want = epoch(w, s, np.zeros_like(w), params, permits=permits)
    inc = np.array([u["incentive"] for u in got["uids"]])
    div = np.array([u["dividends"] for u in got["uids"]])
    emi = np.array([u["emission_tao"] for u in got["uids"]])
    np.testing.assert_array_equal(inc, want.incentive)
    np.testing.assert_array_equal(div, want.dividends)
    np.testing.assert_allclose(
        emi, 295.2 * (want.miner_emission_share + want.validator_emission_share), rtol=1e-15)
    assert emi.sum() == pytest.approx(295.2)
    assert inc.sum() == pytest.approx(1.0) and div.sum() == pytest.approx(1.0)
    assert got["netuid"] == 15 and got["yuma"]["version"] == "yuma3"

    # yuma2 and the CSV and table forms carry the same numbers
    table = tmp_path / "replay.csv"
    assert main(["replay", str(SN15), "--yuma", "yuma2", "--csv", str(table)]) == 0
    rows = list(csv.DictReader(table.open()))
    want2 = epoch(w, s, np.zeros_like(w), YumaParams(version="yuma2"), permits=permits)
    np.testing.assert_allclose([float(r["dividends"]) for r in rows], want2.dividends,
                               rtol=1e-12)
    capsys.readouterr()
    assert main(["replay", str(SN15)]) == 0
    printed = capsys.readouterr().out
    top = int(np.argmax(want.dividends))
    assert f"\n{top:>4} " in printed and "subnet 15 at block 4769998" in printed


def test_metagraph_arrays_are_read_only() -> None:
    mg: Metagraph = from_arrays(small())
    with pytest.raises(ValueError):
        mg.weights[0, 0] = 1.0


@pytest.mark.parametrize(("argv", "option"), [
    (["--kappa", "2"], "--kappa"),
    (["--max-validators", "0"], "--max-validators"),
    (["--bonds-penalty", "3"], "--bonds-penalty"),
    (["--yuma", "yuma2", "--liquid-alpha"], "--liquid-alpha"),
])
def test_replay_refuses_a_bad_option_in_one_line_naming_it(
    argv: list[str], option: str, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["replay", str(SN15), *argv]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"tao-arena: error: {option} must "), err
    assert captured.out == ""
