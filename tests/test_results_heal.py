"""Results that heal themselves (issue 19): every damage a user can do to a finished
results directory is found by ``tao-arena verify``, refused by ``tao-arena report``, and
redone by running the same file again, to content identical to an undamaged run; a
results root that cannot be written, a full disk and an interrupted summary rebuild end
with one line and exit 2, leaving every complete run complete."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import experiments.store as store
from experiments.cli import main
from experiments.integrity import verify_results_dir
from experiments.plan import load_plan

SMALL = """\
name: heal
epochs: 6
warmup_epochs: 1
seeds: {master: 11, count: 2}
scenario:
  agent_record_interval: 3
  subnets:
    - {n_uids: 16, yuma: {max_validators: 4}}
population:
  - {strategy: honest_miner, count: 8, subnet: 0}
  - {strategy: honest_validator, count: 2, subnet: 0}
sweep:
  grid:
    population.0.params.quality: [0.4, 0.8]
"""


def content_hashes(results_dir: Path) -> dict[str, str]:
    """sha256 of every run table's values (column by column), keyed by relative path."""
    out = {}
    for f in sorted((results_dir / "runs").glob("*/*.parquet")):
        df = pq.read_table(f).to_pandas()
        h = hashlib.sha256()
        for name in df.columns:
            h.update(name.encode())
            h.update(pd.util.hash_pandas_object(df[name], index=False).to_numpy().tobytes())
        out[str(f.relative_to(results_dir))] = h.hexdigest()
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """An undamaged results directory of SMALL (4 runs), its file and its content hashes."""
    base = tmp_path_factory.mktemp("clean")
    exp = base / "heal.yaml"
    exp.write_text(SMALL)
    assert main(["run", str(exp), "--results", str(base / "res"), "--no-progress"]) == 0
    d = base / "res" / "heal" / load_plan(exp).config_hash
    return exp, d, content_hashes(d)


def _copy(clean: tuple[Path, Path, dict[str, str]], tmp_path: Path) -> Path:
    exp, d, _ = clean
    root = tmp_path / "res"
    shutil.copytree(d.parent.parent, root)
    return root / d.relative_to(d.parent.parent)


def _truncate(d: Path) -> str:
    f = d / "runs" / "c0000-s0000" / "metrics.parquet"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    return "c0000-s0000"


def _delete(d: Path) -> str:
    shutil.rmtree(d / "runs" / "c0000-s0001")
    return "c0000-s0001"


def _stray(d: Path) -> str:
    (d / "runs" / "c0001-s0000" / "metrics.parquet.tmp").write_bytes(b"half a file")
    return ""


def _corrupt(d: Path) -> str:
    f = d / "runs" / "c0001-s0001" / "agents.parquet"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: same size, still "PAR1" at both ends
    f.write_bytes(bytes(data))
    return "c0001-s0001"


def _manifest(d: Path) -> str:
    f = d / "manifest.json"
    f.write_bytes(f.read_bytes()[:100])
    return ""


DAMAGE: dict[str, Callable[[Path], str]] = {
    "truncated-metrics": _truncate, "deleted-run-folder": _delete,
    "stray-tmp-file": _stray, "corrupted-agents": _corrupt, "truncated-manifest": _manifest,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damage_is_found_refused_and_healed_to_identical_content(
    damage: str, clean: tuple[Path, Path, dict[str, str]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    exp, _, hashes = clean
    d = _copy(clean, tmp_path)
    bad = DAMAGE[damage](d)

    assert main(["verify", str(d.parent.parent), "--json", str(tmp_path / "v.json")]) == 1
    out = capsys.readouterr().out
    record = json.loads((tmp_path / "v.json").read_text())[0]
    assert record["ok"] is False and record["path"] == str(d)
    assert [r["run_id"] for r in record["damaged"]] == ([bad] if bad else [])
    if bad:
        assert f"DAMAGED {d / 'runs' / bad}:" in out
        assert [line for line in out.splitlines() if line.startswith("DAMAGED")] == [
            line for line in out.splitlines() if bad in line and line.startswith("DAMAGED")]
        assert main(["report", str(d)]) == 2  # a report never reads a damaged file
        err = capsys.readouterr().err
        assert "refused" in err and bad in err and "Traceback" not in err
        assert not (d / "report.md").exists()
    elif damage == "stray-tmp-file":
        assert "STRAY" in out and "metrics.parquet.tmp" in out
    else:
        assert "PROBLEM" in out and "manifest.json is unreadable" in out

    assert main(["run", str(exp), "--results", str(tmp_path / "res"), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert f"{1 if bad else 0} ran" in captured.out
    said = {"stray-tmp-file": "stray temporary file", "truncated-manifest": "was unreadable"}
    assert (f"run {bad}:" if bad else said[damage]) in captured.err
    assert main(["verify", str(d)]) == 0
    assert content_hashes(d) == hashes
    assert sorted(pq.read_table(d / "summary.parquet").column("run_id").to_pylist()) == [
        "c0000-s0000", "c0000-s0001", "c0001-s0000", "c0001-s0001"]
    assert not list(d.rglob("*.tmp")) and not list(d.rglob(".tmp-*"))


def test_verify_refuses_what_is_not_a_results_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(tmp_path / "nowhere")]) == 2
    assert main(["verify", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("tao-arena: error: ") for line in err)
    assert "no manifest.json" in err[1]


def test_unusable_results_root_is_one_line_and_exit_2(
    clean: tuple[Path, Path, dict[str, str]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    exp = clean[0]
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for root in ("/proc/x", str(blocker)):
        assert main(["run", str(exp), "--results", root, "--no-progress"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("tao-arena: error: cannot use "), err


def test_full_disk_keeps_complete_runs_and_a_rerun_finishes(
    clean: tuple[Path, Path, dict[str, str]], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    exp, _, hashes = clean
    real_fsync, calls = os.fsync, []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) > 8:  # the first run's files and directories fit, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(store.os, "fsync", fsync)
    assert main(["run", str(exp), "--results", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0], err
    monkeypatch.setattr(store.os, "fsync", real_fsync)
    d = tmp_path / "heal" / load_plan(exp).config_hash
    v = verify_results_dir(d)
    assert v.intact == ["c0000-s0000"] and not v.damaged and not v.strays

    assert main(["run", str(exp), "--results", str(tmp_path), "--no-progress"]) == 0
    assert "1 already complete, 3 ran" in capsys.readouterr().out
    assert content_hashes(d) == hashes


def test_interrupted_summary_rebuild_keeps_the_old_summary(
    clean: tuple[Path, Path, dict[str, str]], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    exp = clean[0]
    d = _copy(clean, tmp_path)
    _delete(d)
    before = (d / "summary.parquet").read_bytes()
    real_replace = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        if Path(dst).name == "summary.parquet":
            raise OSError(errno.EIO, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(store.os, "replace", replace)
    assert main(["run", str(exp), "--results", str(tmp_path / "res"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("tao-arena: error: cannot write ") and "summary.parquet" in err[-1]
    assert "Traceback" not in "\n".join(err)
    assert (d / "summary.parquet").read_bytes() == before  # the old summary, whole
    assert not list(d.glob(".tmp-*"))
    monkeypatch.setattr(store.os, "replace", real_replace)
    v = verify_results_dir(d)
    assert len(v.intact) == 4 and not v.damaged and not v.strays
    assert main(["run", str(exp), "--results", str(tmp_path / "res"), "--no-progress"]) == 0
    assert main(["verify", str(d)]) == 0


def test_every_output_path_that_cannot_be_created_is_one_line_and_exit_2(
    clean: tuple[Path, Path, dict[str, str]], capsys: pytest.CaptureFixture[str],
) -> None:
    """guarantees, sensitivity, design and verify --json share run's one-line refusal."""
    root = Path(__file__).resolve().parent.parent / "experiments" / "configs"
    commands = [
        ["guarantees", "--grid", "3", "--major-stake", "0.6", "--out", "/proc/x"],
        ["sensitivity", str(root / "sensitivity.yaml"), "--results", "/proc/x",
         "--backend", "serial", "--n", "2", "--no-progress"],
        ["design", str(root / "design" / "report_world_copying_cabals.yaml"),
         "--out", "/proc/x"],
        ["verify", str(clean[1]), "--json", "/proc/x.json"],
    ]
    for argv in commands:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("tao-arena: error: cannot "), (argv, err)
        assert "/proc/x" in err[0], err


def test_verify_quotes_the_recorded_command_that_heals_the_directory(
    clean: tuple[Path, Path, dict[str, str]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The manifest records the invocation (with its --results root, without which a rerun
    writes elsewhere); verify quotes it, in words and in --json."""
    import shlex

    exp = clean[0]
    d = _copy(clean, tmp_path)
    _delete(d)
    assert main(["verify", str(d), "--json", str(tmp_path / "v.json")]) == 1
    recorded = ["tao-arena", "run", str(exp), "--results", str(exp.parent / "res"),
                "--no-progress"]
    assert f"`{shlex.join(recorded)}`" in capsys.readouterr().out
    assert json.loads((tmp_path / "v.json").read_text())[0]["heal_command"] == recorded
