"""Bad input is refused before anything runs: exit code 2, a message naming the file and
the key, and nothing written.

The corpus is ``tests/data/bad_configs/*.yaml``; ``_expected.json`` lists, for each file,
the strings its message must contain (the key path and what is wrong or allowed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.cli import main
from experiments.loader import MAX_FILE_BYTES

CORPUS = Path(__file__).resolve().parent / "data" / "bad_configs"
EXPECTED: dict[str, list[str]] = json.loads((CORPUS / "_expected.json").read_text())
FILES = sorted(p.name for p in CORPUS.glob("*.yaml"))
GOOD = Path(__file__).resolve().parent.parent / "experiments" / "configs" / "quickstart.yaml"


def test_corpus_is_large_and_fully_described() -> None:
    assert len(FILES) >= 30
    assert set(FILES) == set(EXPECTED)


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("command", ["validate", "run", "sweep"])
def test_bad_file_is_refused(name: str, command: str, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # anything written by default would land here
    results = tmp_path / "results"
    args = [command, str(CORPUS / name)]
    if command != "validate":
        args += ["--results", str(results), "--backend", "serial"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(CORPUS / name) in err  # the message names the file ...
    for needle in EXPECTED[name]:  # ... the key, what was wrong and what is allowed
        assert needle in err, f"{needle!r} not in:\n{err}"
    assert not results.exists()  # nothing written
    assert _tree(work) == []


def test_file_too_large(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("name: big\n" + "# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    assert main(["validate", str(big)]) == 2
    assert "at most" in capsys.readouterr().err


def test_missing_file_and_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["validate", str(tmp_path)]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    assert main(["run", str(GOOD), "--cell", "7", "--results", str(results)]) == 2
    assert "--cell 7" in capsys.readouterr().err
    assert not results.exists()
    with pytest.raises(SystemExit) as exc:
        main(["sweep", str(GOOD), "--backend", "dask"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["sweep", str(GOOD), "--workers", "0"])
    assert exc.value.code == 2


def test_console_script_exit_code(tmp_path: Path) -> None:
    """The installed ``tao-arena`` command itself exits with 2 and writes nothing."""
    exe = Path(sys.executable).with_name("tao-arena")
    results = tmp_path / "results"
    for name in ("unknown_strategy.yaml", "yaml_bomb.yaml"):
        proc = subprocess.run([str(exe), "sweep", str(CORPUS / name), "--results",
                               str(results)], capture_output=True, text=True, timeout=120,
                              cwd=tmp_path, env={**os.environ, "RAY_ADDRESS": ""})
        assert proc.returncode == 2, proc.stderr
        assert name in proc.stderr
        assert not results.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path: Path) -> None:
    """``tao-arena validate FILE | head -1``: the pipe closes under the command, which
    stops quietly (exit 0) instead of printing a BrokenPipeError traceback."""
    exe = Path(sys.executable).with_name("tao-arena")
    claims = Path(__file__).resolve().parents[1] / "experiments/configs/claims"
    proc = subprocess.Popen([str(exe), "validate", *map(str, sorted(claims.glob("*.yaml")))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # the reader leaves after one line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
